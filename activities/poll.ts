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

/** Upper bound between two heartbeats, so a cancel is seen within seconds. */
const MAX_HEARTBEAT_GAP_MS = 5_000;

/**
 * Polls inside one activity until done. A ticker heartbeats the latest details every few seconds
 * for the whole loop (while sleeping and while a slow request is in flight), so history does not
 * grow per poll, the heartbeat timeout can stay short, and a cancel arrives quickly. The sleep
 * rejects with the activity's cancellation; the signal given to `poll` aborts in-flight HTTP.
 */
export async function pollUntilDone<S>(opts: PollOptions<S>): Promise<S> {
  const ctx = Context.current();
  checkPollInterval(opts.intervalMs, 'pollIntervalMs');
  const hbTimeout = ctx.info.heartbeatTimeoutMs;
  const gap = Math.max(50, Math.min(MAX_HEARTBEAT_GAP_MS, hbTimeout ? hbTimeout / 3 : MAX_HEARTBEAT_GAP_MS));
  let details: unknown = ctx.info.heartbeatDetails;
  const ticker = setInterval(() => ctx.heartbeat(details), gap);
  try {
    for (;;) {
      const state = await opts.poll(ctx.cancellationSignal);
      details = opts.details(state);
      ctx.heartbeat(details);
      if (opts.isDone(state)) return state;
      await ctx.sleep(opts.intervalMs);
    }
  } finally {
    clearInterval(ticker);
  }
}

/** The last heartbeat details of a previous attempt of this activity, if any. */
export function previousDetails<T>(): T | undefined {
  return Context.current().info.heartbeatDetails as T | undefined;
}
