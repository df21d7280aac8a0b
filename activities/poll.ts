import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { VmwareApiError } from '../src/core/errors';
import { JOB_STILL_RUNNING_TYPE, isRetryPollPolicy } from '../src/contract/inputs';
import { checkPollInterval } from './options';
import { heartbeat } from './step';

/** What a poll activity keeps in its heartbeat, on top of the product's own details. */
export interface PollProgress {
  /** Status reads made, across attempts. */
  polls: number;
  /**
   * The job's progress in 10 % marks (0, 10, … 100), never lower than a previous attempt's: what a
   * runbook's live view shows (`runbookProgress` reads it from the pending activity on demand).
   */
  percentMark?: number;
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
  /** Names the job in logs, e.g. `vCenter backup job 2026…`. */
  label: string;
}

/**
 * The poll activity pattern, once for all products: resume from the previous attempt's heartbeat
 * (its poll count and percent mark), poll until the job ends (heartbeats carry the state, so
 * history does not grow per poll), and fail with the product's error when the job failed. A
 * workflow cancel ends it (the abort signal stops a read in flight); the step workflow then runs
 * the compensation (`compensateStep`: read the job, cancel it while it runs) in both modes, so a
 * cancel that finds no attempt running (a dead worker's, or between retry-mode reads) still
 * reaches the appliance. Call inside `asActivity`, whose ticker keeps the heartbeat
 * alive between polls and during slow requests.
 *
 * Two modes, chosen by the workflow through the activity's retry policy (`isRetryPollPolicy`):
 * heartbeat mode polls inside this one attempt every `intervalMs`; retry mode reads once per
 * attempt and, while the job runs, fails with the retryable `JobStillRunning` (category BENIGN:
 * the SDK logs it at DEBUG and records no failure metric) so the server retries it after the
 * policy's fixed interval. Temporal hands the last heartbeat details to the next attempt, so the
 * poll count and percent mark carry over.
 * https://docs.temporal.io/encyclopedia/retry-policies ·
 * https://docs.temporal.io/develop/typescript/failure-detection#activity-heartbeats
 */
export async function pollRemoteJob<S, R>(o: RemoteJobPoll<S, R>): Promise<R> {
  const ctx = Context.current();
  const retryMode = isRetryPollPolicy(ctx.info.retryPolicy);
  if (!retryMode) checkPollInterval(o.intervalMs, 'pollIntervalMs');
  const resumed = ctx.info.heartbeatDetails as Partial<PollProgress> | undefined;
  const resumedFromPolls = typeof resumed?.polls === 'number' ? resumed.polls : undefined;
  if (resumedFromPolls !== undefined && !retryMode) ctx.log.info(`resuming the poll of ${o.label}`, { ...resumed });
  let polls = resumedFromPolls ?? 0;
  let percentMark = typeof resumed?.percentMark === 'number' ? resumed.percentMark : -1;
  for (;;) {
    const state = await o.poll(ctx.cancellationSignal);
    polls += 1;
    const details = o.details(state);
    if (typeof details.progress === 'number') percentMark = Math.max(percentMark, tenPercentMark(details.progress));
    heartbeat({ ...details, polls, ...(percentMark >= 0 && { percentMark }) });
    const outcome = o.outcome(state);
    if (outcome === 'failed') throw o.failure(state);
    if (outcome === 'succeeded')
      return o.result(state, { polls, ...(resumedFromPolls !== undefined && { resumedFromPolls }) });
    if (retryMode) throw jobStillRunning(o.label, polls, details);
    await ctx.sleep(o.intervalMs);
  }
}

/** A retry-mode attempt's end while the job runs: retryable, benign, the state in its details. */
function jobStillRunning(label: string, polls: number, details: Record<string, unknown>): ApplicationFailure {
  return ApplicationFailure.create({
    type: JOB_STILL_RUNNING_TYPE,
    message: `${label} is still running (read ${polls}); the server reads it again after the poll interval`,
    details: [{ ...details, polls }],
    category: ApplicationFailureCategory.BENIGN,
  });
}

/**
 * A progress percentage as its 10 % mark (0, 10, … 100). The mark lives in the heartbeat only:
 * nobody is told per mark (no signal, no history), a runbook's live view reads it when asked.
 */
export function tenPercentMark(percent: number): number {
  return Number.isFinite(percent) ? Math.floor(Math.max(0, Math.min(100, percent)) / 10) * 10 : 0;
}
