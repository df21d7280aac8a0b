/**
 * The Nexus handler of "run a runbook" (service `vmware-dr-runbook`, operation `runRunbook`, see
 * src/nexus/service.ts): a workflow-run operation that starts `drRunbook` in the handler worker's
 * namespace and completes, asynchronously, with its report. Register it on a worker with
 * `nexusServices: [runbookNexusServiceHandler()]`; callers in other namespaces reach it through a
 * Nexus Endpoint whose target is that worker's namespace and task queue.
 *
 * Temporal's "Nexus Operation lifecycle" (https://docs.temporal.io/nexus/operations): an
 * asynchronous operation is backed by a workflow run; the caller's retries of a start carry the
 * same request id, which the server uses to deduplicate the workflow start.
 */
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowRunOperationHandler, startWorkflow } from '@temporalio/nexus';
import * as nexus from 'nexus-rpc';
import {
  type RunRunbookInput,
  type RunbookNexusService,
  RunRunbookEnvelope,
  runbookNexusService,
} from '../src/nexus/service';
import { Runbook } from '../src/contract/runbook/document';
import type { RunbookReport } from '../src/contract/runbook/report';
import { type InputProblem, checkInput } from '../src/contract/inputs';
import { INVALID_INPUT_TYPE } from '../src/core/errors';
import type { drRunbook } from '../workflows/runbook';

export interface RunbookNexusHandlerOptions {
  /**
   * Task queue of the `drRunbook` runs (a worker hosting this package's workflows must poll it).
   * @default the task queue of the worker that hosts this handler
   */
  taskQueue?: string;
}

/** The workflow id of the run a Nexus request starts when the caller gives none. Pure. */
export function runbookNexusWorkflowId(documentName: string, requestId: string): string {
  return `runbook/${documentName}/nexus/${requestId}`;
}

/** A problem path of the document, as a path of the operation input. */
function underDocument(path: string): string {
  if (path === '(input)') return 'document';
  return path.startsWith('[') ? `document${path}` : `document.${path}`;
}

/**
 * Checks the operation input (envelope and document, all problems at once) and returns it, or
 * throws a non-retryable `BAD_REQUEST` handler error whose cause is an `InvalidInput`
 * `ApplicationFailure` naming each field and its fix. Nothing is started for an invalid input.
 */
export function checkRunRunbookInput(input: unknown): RunRunbookInput {
  const envelope = checkInput('runRunbook', RunRunbookEnvelope, input);
  const problems: InputProblem[] = envelope.ok ? [] : [...envelope.problems];
  const raw = input !== null && typeof input === 'object' ? (input as { document?: unknown }).document : undefined;
  let document: RunRunbookInput['document'] | undefined;
  if (raw !== undefined) {
    const doc = checkInput('runRunbook document', Runbook, raw);
    // Passed on as given (drRunbook validates it again and records exactly what the caller sent).
    if (doc.ok) document = raw as RunRunbookInput['document'];
    else problems.push(...doc.problems.map((p) => ({ ...p, path: underDocument(p.path) })));
  }
  if (envelope.ok && document) return { ...envelope.value, document } as RunRunbookInput;
  const message = `runRunbook input is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}); nothing was started: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`;
  throw new nexus.HandlerError('BAD_REQUEST', message, {
    cause: ApplicationFailure.create({
      type: INVALID_INPUT_TYPE,
      message,
      nonRetryable: true,
      details: [{ problems }],
    }),
    retryableOverride: false,
  });
}

/**
 * The service handler to pass in `nexusServices`. `runRunbook` starts `drRunbook(document, options)`
 * with workflow id `input.workflowId` or {@link runbookNexusWorkflowId}; while a run with that id is
 * open a second start attaches to it (`workflowIdConflictPolicy: USE_EXISTING`), so neither a
 * retried request nor a repeated call with the same id starts the runbook twice. Cancelling the
 * operation cancels the run, which cancels its remote jobs and still completes with its report.
 */
export function runbookNexusServiceHandler(
  opts: RunbookNexusHandlerOptions = {},
): nexus.ServiceHandler<RunbookNexusService['operations']> {
  return nexus.serviceHandler(runbookNexusService, {
    runRunbook: new WorkflowRunOperationHandler<RunRunbookInput, RunbookReport>(async (ctx, raw) => {
      const input = checkRunRunbookInput(raw);
      return startWorkflow<typeof drRunbook>(ctx, 'drRunbook', {
        workflowId: input.workflowId ?? runbookNexusWorkflowId(input.document.name, ctx.requestId),
        workflowIdConflictPolicy: 'USE_EXISTING',
        ...(opts.taskQueue ? { taskQueue: opts.taskQueue } : {}),
        args: [input.document, input.options ?? {}],
      });
    }),
  });
}
