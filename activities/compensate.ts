import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { COMPENSATION_FAILED_TYPE, NotFound, VmwareApiError, WrongState } from '../src/core/errors';
import { retryDecision } from '../src/core/retry';
import type { SddcManagerEndpoint, VcenterEndpoint } from '../src/contract/endpoints';
import { isTerminal } from '../src/sddc-manager/schemas';
import type { ClientPool } from './clients';
import type { ResolvedActivitiesOptions } from './options';
import { asActivity } from './step';

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
          type: COMPENSATION_FAILED_TYPE,
          message:
            `the appliance did not accept the cancel of ${label} after ${attempt} request${attempt === 1 ? '' : 's'} ` +
            `(${summary}); the job may still be running. Fix: cancel it on the appliance (its UI or API), then check its state`,
          nonRetryable: true,
          details: [
            {
              code: err instanceof VmwareApiError ? err.code : COMPENSATION_FAILED_TYPE,
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

/** Input of {@link createCompensationActivities}' `compensateStep`. */
export interface CompensateStepInput {
  product: 'vcenter' | 'sddc-manager';
  endpoint: VcenterEndpoint | SddcManagerEndpoint;
  /** vCenter: the backup job; unset, the appliance's restore job (it has no id). */
  jobId?: string;
  /** SDDC Manager: the task. */
  taskId?: string;
}

export interface CompensateStepResult {
  /** `cancelled`: this activity's request stopped the job; `already-ended`: nothing ran any more. */
  outcome: CompensationOutcome;
  /** The job's state when read before the cancel. */
  state: string;
}

/** What a compensation needs of one product: read the job's state, and cancel it. */
interface RemoteJobHandle {
  label: string;
  /** `cancellable` false: the job runs but the appliance offers no cancel for it. */
  read: (signal: AbortSignal) => Promise<{ state: string; running: boolean; cancellable?: boolean }>;
  cancel: (signal: AbortSignal) => Promise<unknown>;
}

/**
 * The compensation activity a cancelled step runs (from the workflow, in a non-cancellable scope,
 * so a dead worker's attempt is retried after the heartbeat timeout like any other): reads the
 * job, and only while it still runs asks the appliance to cancel it ({@link cancelOnAppliance}).
 * Reading first makes a retry safe: a cancel that reached the appliance before the worker died is
 * not sent twice. VCDA has no API to cancel a backup task, so it has no compensation.
 */
export function createCompensationActivities(pool: ClientPool, opts: ResolvedActivitiesOptions) {
  const handleOf = (input: CompensateStepInput): RemoteJobHandle => {
    if (input.product === 'sddc-manager') {
      const client = pool.sddcManager(input.endpoint as SddcManagerEndpoint);
      const taskId = input.taskId ?? '';
      return {
        label: `SDDC Manager ${client.http.appliance} task ${taskId}`,
        read: async (signal) => {
          const t = await client.getTask(taskId, signal);
          return { state: t.status, running: !isTerminal(t.status), cancellable: t.isCancellable === true };
        },
        cancel: (signal) => client.cancelTask(taskId, signal),
      };
    }
    const client = pool.vcenter(input.endpoint as VcenterEndpoint);
    const jobId = input.jobId;
    return {
      label:
        jobId === undefined
          ? `vCenter ${client.http.appliance} restore`
          : `vCenter ${client.http.appliance} backup job ${jobId}`,
      read: async (signal) => {
        const s = jobId === undefined ? await client.restoreJobGet(signal) : await client.backupJobGet(jobId, signal);
        return { state: s.state, running: s.state === 'INPROGRESS' };
      },
      cancel: (signal) =>
        jobId === undefined ? client.restoreJobCancel(signal) : client.backupJobCancel(jobId, signal),
    };
  };
  return {
    /** Stops a cancelled step's remote job on its appliance, if it still runs (see above). */
    async compensateStep(input: CompensateStepInput): Promise<CompensateStepResult> {
      return asActivity(opts, async () => {
        const job = handleOf(input);
        const before = await job.read(Context.current().cancellationSignal);
        if (!before.running) {
          logger().info(`${job.label} had already ended (${before.state}): nothing to cancel`);
          return { outcome: 'already-ended', state: before.state };
        }
        if (before.cancellable === false)
          throw ApplicationFailure.create({
            type: COMPENSATION_FAILED_TYPE,
            message: `${job.label} is ${before.state} and the appliance says it cannot be cancelled (isCancellable false); it runs to its end. Fix: let it finish, then check the appliance's state`,
            nonRetryable: true,
            details: [{ code: 'NOT_CANCELLABLE', remediation: "let it finish, then check the appliance's state" }],
          });
        return { outcome: await cancelOnAppliance(job.label, job.cancel), state: before.state };
      });
    },
  };
}
