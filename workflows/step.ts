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
 * Options of poll activities: they heartbeat every ≤ 3 s for their whole run (so a 10 s heartbeat
 * timeout is safe, and the SDK's heartbeat throttling, 0.8 × the timeout, still lets a cancel
 * through within 8 s in any worker), and a workflow cancel waits until the activity has asked
 * the appliance to cancel the remote job.
 */
export function pollOptions(timeoutMs: number): ActivityOptions {
  return {
    startToCloseTimeout: timeoutMs,
    heartbeatTimeout: '10 seconds',
    retry: POLL_RETRY,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  };
}
