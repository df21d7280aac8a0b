/**
 * The one retry decision: whether an appliance failure is tried again, and after how long. The
 * error classes (`errors.ts`) only say which kind of failure they are; this module alone turns
 * that into a decision (reference §5), bounded by the step's deadline. Nothing else guesses.
 *
 * Pure module (no Node built-ins): workflow code may import it.
 */
import { VmwareApiError } from './errors';

/** How a failure should be retried. */
export interface RetryDecision {
  retryable: boolean;
  /** Overrides the activity retry policy's backoff for the next attempt. */
  nextRetryDelayMs?: number;
}

/** Options that tune retry decisions; all have documented defaults. */
export interface RetryTuning {
  /**
   * Delay before retrying after the appliance said it is busy.
   * @default DEFAULT_BUSY_RETRY_DELAY_MS (30 000 ms)
   */
  busyRetryDelayMs?: number;
  /**
   * Attempts allowed for ambiguous failures (HTTP 500, malformed bodies).
   * @default DEFAULT_AMBIGUOUS_MAX_ATTEMPTS (5)
   */
  ambiguousMaxAttempts?: number;
}

/** Time bounds of the step a failure happened in. */
export interface StepClock {
  /** Now, in ms since the epoch. */
  nowMs: number;
  /** The step gives up being busy-retried after this (ms since the epoch). */
  deadlineMs?: number;
}

export const DEFAULT_BUSY_RETRY_DELAY_MS = 30_000;
export const DEFAULT_AMBIGUOUS_MAX_ATTEMPTS = 5;

/** Whether the step's deadline has passed: then nothing is retried any more. */
function pastDeadline(clock: StepClock | undefined): boolean {
  return clock?.deadlineMs !== undefined && clock.nowMs >= clock.deadlineMs;
}

/**
 * Decide how to retry `err` on attempt number `attempt` (1-based, as Temporal counts), within
 * the step's deadline when `clock` gives one: past it, nothing is retried (network errors included).
 * Errors that are not {@link VmwareApiError}s are programming errors: not retryable.
 */
export function retryDecision(err: unknown, attempt = 1, tuning: RetryTuning = {}, clock?: StepClock): RetryDecision {
  if (!(err instanceof VmwareApiError)) return { retryable: false };
  switch (err.retryabilityForDecision()) {
    case 'transient':
      return { retryable: !pastDeadline(clock) };
    case 'busy': {
      const delay = tuning.busyRetryDelayMs ?? DEFAULT_BUSY_RETRY_DELAY_MS;
      // Busy is retried until the step's deadline, never past it.
      if (clock?.deadlineMs !== undefined && clock.nowMs + delay > clock.deadlineMs) return { retryable: false };
      return { retryable: true, nextRetryDelayMs: delay };
    }
    case 'ambiguous':
      return {
        retryable: !pastDeadline(clock) && attempt < (tuning.ambiguousMaxAttempts ?? DEFAULT_AMBIGUOUS_MAX_ATTEMPTS),
      };
    case 'fatal':
      return { retryable: false };
  }
}
