import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { NotFound, VmwareApiError, WrongState, retryDecision } from '../src/errors';

/** How long a compensation may keep asking the appliance to cancel a job. */
export const COMPENSATION_BUDGET_MS = 30_000;
/** First wait between two cancel requests (doubled each time, at most 8 s). */
const FIRST_RETRY_MS = 500;

/** What became of a compensation that did not fail. */
export type CompensationOutcome = 'cancelled' | 'already-ended';

/**
 * The compensation of a cancelled step: asks the appliance to cancel its remote job, and keeps
 * asking while the answer is one the taxonomy calls worth retrying (5xx, resets, timeouts, busy,
 * an unreadable answer; a 401 already re-logs in once inside the session core), for at most
 * `budgetMs`. A job the appliance no longer runs (`WrongState` "not running", `NotFound`) has
 * nothing left to cancel. Anything else, or the budget spent, throws a non-retryable
 * `CompensationFailed` saying the job may still run and how to stop it by hand; the step then ends
 * failed instead of cancelled, so a runbook reports the compensation as failed, never as done.
 * Hand-written: the loop must run after the activity's own cancellation, which ends its retries.
 */
export async function cancelOnAppliance(
  label: string,
  cancel: (signal: AbortSignal) => Promise<unknown>,
  budgetMs: number = COMPENSATION_BUDGET_MS,
): Promise<CompensationOutcome> {
  const log = logger();
  const endMs = Date.now() + budgetMs;
  let delayMs = FIRST_RETRY_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      await cancel(AbortSignal.timeout(Math.max(1, endMs - Date.now())));
      log.info(`cancel of ${label} requested on the appliance`, { attempt });
      return 'cancelled';
    } catch (err) {
      if (err instanceof WrongState || err instanceof NotFound) {
        log.info(`${label} had already ended: nothing to cancel`, { reason: err.summary });
        return 'already-ended';
      }
      const summary = err instanceof VmwareApiError ? err.summary : (err as Error).message;
      const retryable = retryDecision(err).retryable;
      if (!retryable || Date.now() + delayMs >= endMs) {
        log.warn(`cancel of ${label} failed`, { attempt, error: summary });
        throw ApplicationFailure.create({
          type: 'CompensationFailed',
          message:
            `the appliance did not accept the cancel of ${label} after ${attempt} request${attempt === 1 ? '' : 's'} ` +
            `(${summary}); the job may still be running. Fix: cancel it on the appliance (its UI or API), then check its state`,
          nonRetryable: true,
          details: [
            {
              code: err instanceof VmwareApiError ? err.code : 'CompensationFailed',
              attempts: attempt,
              remediation: 'cancel the job on the appliance by hand, then check its state',
            },
          ],
        });
      }
      log.warn(`cancel of ${label} failed, asking again in ${delayMs} ms`, { attempt, error: summary });
      await new Promise((r) => setTimeout(r, delayMs));
      delayMs = Math.min(delayMs * 2, 8_000);
    }
  }
}

/** The running activity's logger, else the console (a unit test outside an activity). */
function logger(): Pick<Console, 'info' | 'warn'> {
  try {
    return Context.current().log;
  } catch {
    return console;
  }
}
