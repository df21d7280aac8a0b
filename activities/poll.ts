import { Context } from '@temporalio/activity';
import { checkPollInterval } from './options';

export interface PollOptions<S> {
  /** Wait between polls. */
  intervalMs: number;
  /** One status read. `signal` aborts when the activity is cancelled. */
  poll: (signal: AbortSignal) => Promise<S>;
  /** True when `state` is final (success or failure). */
  isDone: (state: S) => boolean;
  /** Heartbeat details for a state: small, and never a secret. */
  details: (state: S) => unknown;
}

/** Upper bound for one sleep between heartbeats, so cancellation is seen quickly. */
const MAX_HEARTBEAT_GAP_MS = 5_000;

/**
 * Polls inside one activity until done: heartbeats each poll with its details and keeps
 * heartbeating while it sleeps, so history does not grow per poll and a cancel arrives within
 * seconds. Sleep rejects with the activity's cancellation.
 */
export async function pollUntilDone<S>(opts: PollOptions<S>): Promise<S> {
  const ctx = Context.current();
  checkPollInterval(opts.intervalMs, 'pollIntervalMs');
  const hbTimeout = ctx.info.heartbeatTimeoutMs;
  const gap = Math.max(50, Math.min(MAX_HEARTBEAT_GAP_MS, hbTimeout ? hbTimeout / 3 : MAX_HEARTBEAT_GAP_MS));
  for (;;) {
    const state = await opts.poll(ctx.cancellationSignal);
    const details = opts.details(state);
    ctx.heartbeat(details);
    if (opts.isDone(state)) return state;
    for (let waited = 0; waited < opts.intervalMs; ) {
      const step = Math.min(gap, opts.intervalMs - waited);
      await ctx.sleep(step);
      waited += step;
      ctx.heartbeat(details);
    }
  }
}

/** The last heartbeat details of a previous attempt of this activity, if any. */
export function previousDetails<T>(): T | undefined {
  return Context.current().info.heartbeatDetails as T | undefined;
}
