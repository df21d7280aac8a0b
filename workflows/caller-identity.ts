/**
 * Who sent each Update and Signal to this run, as the Temporal server recorded it: the client
 * `identity` of the request (the `WorkflowExecutionUpdateAccepted` event's `acceptedRequest.meta`
 * and the `WorkflowExecutionSignaled` event), never a name the caller typed. The approve validator
 * needs it for four eyes, and the report records it in the audit trail.
 *
 * The TypeScript SDK hands handlers no identity, but every activation carries it (`doUpdate.meta`,
 * `signalWorkflow.identity`). A workflow internals interceptor sees each activation before its jobs
 * run, so validators and handlers find the identity of the message they handle. The workflow
 * installs the interceptor itself, on its own activator (the SDK's internal
 * `@temporalio/workflow/lib/global-attributes`, pinned with the SDK at 1.24.0), so every worker that
 * runs these workflows records identities without a worker option to forget. It records, never
 * changes commands: replay is unaffected, and a replayed activation carries the identity recorded
 * in the history. The tests in test/approvals.test.ts fail if an SDK upgrade breaks it.
 */
import { currentUpdateInfo } from '@temporalio/workflow';
import type { WorkflowInternalsInterceptor } from '@temporalio/workflow/lib/interceptors';
import { getActivator } from '@temporalio/workflow/lib/global-attributes';

/** The identities of the messages of one run. */
export interface CallerIdentities {
  /** The identity of the Update being validated or handled now; undefined outside one, or unknown. */
  currentUpdate(): string | undefined;
  /** The identity of the next Signal of this name to be handled (call once from its handler). */
  takeSignal(name: string): string | undefined;
  /** The reason of the cancel request, once one arrived. */
  cancelReason(): string | undefined;
}

/**
 * Starts recording the identities of this run's Updates and of the Signals named (call once, first
 * thing in the workflow, before any message handler can run). Other Signals (a step's progress)
 * are not recorded.
 */
export function recordCallerIdentities(signalNames: readonly string[]): CallerIdentities {
  const updates = new Map<string, string>();
  const signals = new Map<string, string[]>();
  let cancelReason: string | undefined;
  const interceptor: WorkflowInternalsInterceptor = {
    activate(input, next) {
      for (const job of input.activation.jobs ?? []) {
        const update = job.doUpdate;
        if (update?.id && update.meta?.identity) updates.set(update.id, update.meta.identity);
        const signal = job.signalWorkflow;
        if (signal?.signalName && signalNames.includes(signal.signalName)) {
          const queue = signals.get(signal.signalName) ?? [];
          queue.push(signal.identity ?? '');
          signals.set(signal.signalName, queue);
        }
        if (job.cancelWorkflow) cancelReason = job.cancelWorkflow.reason ?? '';
      }
      next(input);
    },
  };
  getActivator().interceptors.internals.push(interceptor);
  return {
    currentUpdate() {
      const id = currentUpdateInfo()?.id;
      return id === undefined ? undefined : updates.get(id);
    },
    takeSignal(name) {
      const identity = signals.get(name)?.shift();
      return identity || undefined;
    },
    cancelReason: () => cancelReason,
  };
}
