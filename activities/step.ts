import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { msOptionalToNumber } from '@temporalio/common/lib/time';
import { ProtocolError, ResourceBusy, StartOutcomeUnknown } from '../src/core/errors';
import { toApplicationFailure } from './failure';
import type { ResolvedActivitiesOptions } from './options';

/**
 * Identity of one workflow step, so a retried start activity finds the remote job it already
 * started instead of starting a second one.
 */
export interface StepRef {
  /** Stable id of the step within its workflow, e.g. `<workflowId>/vcenter-backup/vc01`. */
  id: string;
  /** When the step began (workflow time, ISO 8601). Remote jobs created before it are not ours. */
  startedAt: string;
  /** When "appliance busy" stops being retried (ISO 8601). Default: no bound. */
  deadline?: string;
}

/** Tolerance for clock skew between the worker, the appliance and the Temporal server. */
export const CLOCK_SKEW_MS = 60_000;

/** Whether a remote job that started at `remoteStart` may belong to `step`. */
export function startedWithinStep(step: StepRef, remoteStart: string | number | undefined): boolean {
  if (remoteStart === undefined) return false;
  const t = typeof remoteStart === 'number' ? remoteStart : Date.parse(remoteStart);
  return Number.isFinite(t) && t >= Date.parse(step.startedAt) - CLOCK_SKEW_MS;
}

/** Upper bound between two heartbeats, so a cancel or a dead worker is seen within seconds. */
const MAX_HEARTBEAT_GAP_MS = 5_000;

/** The latest heartbeat details of each running activity, re-sent by its ticker. */
const latestDetails = new WeakMap<Context, { details: unknown }>();

/**
 * Records `details` as this activity's heartbeat (what the next attempt resumes from) and sends
 * it now. The ticker of {@link asActivity} keeps re-sending the latest details.
 */
export function heartbeat(details: unknown): void {
  const ctx = Context.current();
  const slot = latestDetails.get(ctx);
  if (slot) slot.details = details;
  ctx.heartbeat(details);
}

/**
 * Runs an activity body: heartbeats on a ticker for its whole run (every ≤ 5 s, a third of the
 * heartbeat timeout), so a killed worker is noticed within the heartbeat timeout, also during a
 * slow request; converts any failure with the one taxonomy, bounded by the step's deadline.
 */
export async function asActivity<T>(opts: ResolvedActivitiesOptions, fn: () => Promise<T>, step?: StepRef): Promise<T> {
  const ctx = Context.current();
  const slot = { details: ctx.info.heartbeatDetails as unknown };
  latestDetails.set(ctx, slot);
  const hbTimeout = ctx.info.heartbeatTimeoutMs;
  const gap = Math.max(50, Math.min(MAX_HEARTBEAT_GAP_MS, hbTimeout ? hbTimeout / 3 : MAX_HEARTBEAT_GAP_MS));
  const ticker = setInterval(() => ctx.heartbeat(slot.details), gap);
  try {
    return await fn();
  } catch (err) {
    const deadlineMs = step?.deadline ? Date.parse(step.deadline) : undefined;
    const cancelled = ctx.cancellationSignal.aborted;
    throw withRetryDelayDetail(
      toApplicationFailure(err, ctx.info.attempt, opts, { nowMs: Date.now(), deadlineMs }, cancelled),
    );
  } finally {
    clearInterval(ticker);
  }
}

/**
 * A failure that asks for a retry delay (a busy appliance: `busyRetryDelayMs`) also carries it as
 * `retryDelayMs` in its first details entry. Workflow code cannot read `nextRetryDelay` (Temporal's
 * failure converter does not decode it), and a step that waits out busy answers itself, with a
 * workflow timer (so its progress can say "waiting: appliance busy"), needs the delay. See
 * https://docs.temporal.io/encyclopedia/retry-policies#per-error-next-retry-delay
 */
export function withRetryDelayDetail(failure: unknown): unknown {
  if (!(failure instanceof ApplicationFailure) || failure.nextRetryDelay == null) return failure;
  const retryDelayMs = msOptionalToNumber(failure.nextRetryDelay);
  const [first, ...rest] = failure.details ?? [];
  const copy = ApplicationFailure.create({
    type: failure.type ?? undefined,
    message: failure.message,
    nonRetryable: failure.nonRetryable === true,
    nextRetryDelay: failure.nextRetryDelay,
    details: [{ ...(first && typeof first === 'object' ? first : {}), retryDelayMs }, ...rest],
    ...(failure.cause instanceof Error && { cause: failure.cause }),
  });
  copy.stack = failure.stack ?? copy.stack;
  return copy;
}

/** Heartbeat details of a start activity: which remote jobs existed just before it POSTed. */
export interface StartSnapshot {
  /** Ids of recent remote jobs of this kind seen before the POST. */
  known: string[];
  /** When the snapshot was taken (worker clock, ms). */
  at: number;
}

export interface StartOnceOptions<J> {
  step: StepRef;
  /** Remote jobs of this step's kind created at or after `sinceMs` (the step's start less clock skew). */
  recent: (sinceMs: number) => Promise<J[]>;
  id: (job: J) => string;
  /** Creation time of a job (ISO string or ms), for ordering and the time window. */
  createdAt: (job: J) => string | number | undefined;
  /** Jobs that may be attached to (e.g. not FAILED). Default: all. */
  attachable?: (job: J) => boolean;
  /**
   * True when the job carries this step's tag (the vCenter job comment): then it is provably
   * ours, and a job without the tag never is. Unset where the product echoes no tag (SDDC
   * Manager, VCDA): the caller must hold the appliance lease over the snapshot → POST window,
   * so no other step's job can appear in it.
   */
  tagged?: (job: J) => boolean;
  /** The one state-changing POST. */
  start: () => Promise<J>;
}

function timeOf(t: string | number | undefined): number {
  return t === undefined ? Number.NaN : typeof t === 'number' ? t : Date.parse(t);
}

/**
 * Exactly one remote job per step. Before the POST, the recent jobs of this kind are recorded in
 * the activity's heartbeat details (Temporal hands the last details to the next attempt, also
 * after a failure). A later attempt, or a "busy" answer, attaches only to a job that was not in
 * that snapshot and started within the step: the one our lost POST created. A job that was
 * already running before the POST stays somebody else's, so busy remains busy.
 */
export async function startOnce<J>(o: StartOnceOptions<J>): Promise<{ job: J; attached: boolean }> {
  const ctx = Context.current();
  const since = Date.parse(o.step.startedAt) - CLOCK_SKEW_MS;
  const attachable = (j: J) => (o.attachable?.(j) ?? true) && (o.tagged?.(j) ?? true);
  const ours = async (snapshot: StartSnapshot): Promise<J | undefined> => {
    const known = new Set(snapshot.known);
    return (await o.recent(since))
      .filter((j) => !known.has(o.id(j)) && attachable(j))
      .sort((a, b) => timeOf(o.createdAt(b)) - timeOf(o.createdAt(a)))[0];
  };
  const previous = ctx.info.heartbeatDetails as StartSnapshot | undefined;
  if (previous && Array.isArray(previous.known)) {
    const job = await ours(previous);
    if (job) return { job, attached: true };
  }
  const snapshot: StartSnapshot = { known: (await o.recent(since)).map(o.id), at: Date.now() };
  heartbeat(snapshot);
  try {
    return { job: await o.start(), attached: false };
  } catch (err) {
    if (err instanceof ResourceBusy) {
      const job = await ours(snapshot);
      if (job) return { job, attached: true };
    }
    // An answer we cannot read may still mean the job exists: retry (bounded), and the retry
    // attaches to it through the snapshot instead of failing and leaving it untracked.
    if (err instanceof ProtocolError && err.name !== 'BackupHashMismatch') {
      throw new StartOutcomeUnknown(`the answer to the start request could not be read (${err.summary})`, {
        product: err.product,
        operation: err.operation,
        appliance: err.appliance,
        httpStatus: err.httpStatus,
        messages: err.messages,
        cause: err,
      });
    }
    throw err;
  }
}
