import { Context } from '@temporalio/activity';
import type { VmwareApiError } from '../src/errors';
import { RUNBOOK_STEP_MEMO, STEP_PROGRESS_SIGNAL } from '../src/runbook/report';
import { cancelOnAppliance } from './compensate';
import { checkPollInterval } from './options';
import { heartbeat } from './step';

/** What a poll activity keeps in its heartbeat, on top of the product's own details. */
export interface PollProgress {
  /** Status reads made, across attempts. */
  polls: number;
}

/** How one product's remote job (backup job, task, restore) is polled. */
export interface RemoteJobPoll<S, R> {
  /** Wait between polls. */
  intervalMs: number;
  /** One status read. `signal` aborts when the activity is cancelled. Throws for unknown states. */
  poll: (signal: AbortSignal) => Promise<S>;
  /** Where the job stands. */
  outcome: (state: S) => 'running' | 'succeeded' | 'failed';
  /** Heartbeat details for a state: small, and never a secret (the poll count is added). */
  details: (state: S) => Record<string, unknown>;
  /** The failure to raise when the job ended failed (non-retryable through the taxonomy). */
  failure: (state: S) => VmwareApiError;
  /** The activity's result from the final state. */
  result: (state: S, progress: { polls: number; resumedFromPolls?: number }) => R;
  /**
   * Asks the appliance to stop the job, after the workflow cancelled this activity (retried for
   * up to 30 s by {@link cancelOnAppliance}; `last` is the last state read, if any). Unset: the
   * product cannot cancel it.
   */
  cancelRemote?: (last: S | undefined, signal: AbortSignal) => Promise<unknown>;
  /** Names the job in logs, e.g. `vCenter backup job 2026…`. */
  label: string;
}

/**
 * The poll activity pattern, once for all products: resume from the previous attempt's heartbeat
 * (its poll count), poll inside this one activity until the job ends (heartbeats carry the state,
 * so history does not grow per poll), ask the appliance to cancel the job when the workflow
 * cancels (never on a worker shutdown or heartbeat timeout: the next attempt resumes), and fail
 * with the product's error when the job failed. Call inside `asActivity`, whose ticker keeps the
 * heartbeat alive between polls and during slow requests.
 */
export async function pollRemoteJob<S, R>(o: RemoteJobPoll<S, R>): Promise<R> {
  const ctx = Context.current();
  checkPollInterval(o.intervalMs, 'pollIntervalMs');
  const resumed = ctx.info.heartbeatDetails as Partial<PollProgress> | undefined;
  const resumedFromPolls = typeof resumed?.polls === 'number' ? resumed.polls : undefined;
  if (resumedFromPolls !== undefined) ctx.log.info(`resuming the poll of ${o.label}`, { ...resumed });
  let polls = resumedFromPolls ?? 0;
  const tellPercent = percentTeller(ctx);
  let last: S | undefined;
  try {
    for (;;) {
      const state = await o.poll(ctx.cancellationSignal);
      polls += 1;
      last = state;
      const details = o.details(state);
      heartbeat({ ...details, polls });
      if (typeof details.progress === 'number') tellPercent(details.progress);
      const outcome = o.outcome(state);
      if (outcome === 'failed') throw o.failure(state);
      if (outcome === 'succeeded')
        return o.result(state, { polls, ...(resumedFromPolls !== undefined && { resumedFromPolls }) });
      await ctx.sleep(o.intervalMs);
    }
  } catch (err) {
    // The compensation: throws `CompensationFailed` when the appliance would not cancel the job.
    if (ctx.cancellationDetails?.cancelRequested && o.cancelRemote) {
      const cancelRemote = o.cancelRemote;
      await cancelOnAppliance(o.label, (signal) => cancelRemote(last, signal));
    }
    throw err;
  }
}

/**
 * Tells the runbook that started this activity's step workflow (its parent, found by the step's
 * memo {@link RUNBOOK_STEP_MEMO}) the job's progress, each time it reaches a new 10 % mark: at
 * most 11 signals per step, so the runbook's `progress` shows the percent without history per
 * poll. Workflow code cannot read heartbeats, hence this one signal from the activity. Best
 * effort: a step run alone, a parent that has ended, or no client (a unit test) sends nothing.
 */
function percentTeller(ctx: Context): (percent: number) => void {
  let lastMark = -1;
  let target: Promise<{ signal: (percent: number) => Promise<void> } | undefined> | undefined;
  return (percent) => {
    const mark = Math.floor(Math.max(0, Math.min(100, percent)) / 10) * 10;
    if (mark <= lastMark) return;
    lastMark = mark;
    try {
      const execution = ctx.info.workflowExecution;
      if (!execution) return; // not started by a workflow
      const client = ctx.client;
      target ??= client.workflow
        .getHandle(execution.workflowId, execution.runId)
        .describe()
        .then((d) => {
          const step = d.memo?.[RUNBOOK_STEP_MEMO];
          const parent = d.raw.workflowExecutionInfo?.parentExecution;
          if (typeof step !== 'string' || !parent?.workflowId) return undefined;
          const handle = client.workflow.getHandle(parent.workflowId, parent.runId ?? undefined);
          return { signal: (p: number) => handle.signal(STEP_PROGRESS_SIGNAL, { step, percent: p }) };
        });
      void target.then((t) => t?.signal(mark)).catch(() => undefined);
    } catch {
      // No client in this context (MockActivityEnvironment): nobody to tell.
    }
  };
}
