import { ActivityCancellationType, type ActivityOptions, workflowInfo } from '@temporalio/workflow';
import type { StepRef } from '../activities';

/** Default bound of one step, busy waits included. */
export const DEFAULT_STEP_TIMEOUT_MS = 6 * 60 * 60 * 1000;

/** A step's identity and deadline, from workflow time (deterministic on replay). */
export function stepRef(kind: string, appliance: string, timeoutMs: number = DEFAULT_STEP_TIMEOUT_MS): StepRef {
  const now = Date.now();
  return {
    id: `${workflowInfo().workflowId}/${kind}/${appliance}`,
    startedAt: new Date(now).toISOString(),
    deadline: new Date(now + timeoutMs).toISOString(),
  };
}

/** Retry policy of start activities (busy waits come from the failure's nextRetryDelay). */
export const START_RETRY = { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes' } as const;
/** Retry policy of poll activities (a retry resumes from the last heartbeat). */
export const POLL_RETRY = { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' } as const;
/**
 * Options of poll activities: they heartbeat at least every 5 s even while sleeping, and a
 * workflow cancel waits until the activity has asked the appliance to cancel the remote job.
 */
export function pollOptions(timeoutMs: number): ActivityOptions {
  return {
    startToCloseTimeout: timeoutMs,
    heartbeatTimeout: '30 seconds',
    retry: POLL_RETRY,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  };
}
