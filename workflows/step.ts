import { ActivityCancellationType, type ActivityOptions, workflowInfo } from '@temporalio/workflow';
import type { StepRef } from '../activities';
import { DEFAULT_STEP_TIMEOUT_MS } from '../src/config';

export { DEFAULT_STEP_TIMEOUT_MS };

/** A step's identity and deadline, from workflow time (deterministic on replay). */
export function stepRef(kind: string, appliance: string, timeoutMs: number = DEFAULT_STEP_TIMEOUT_MS): StepRef {
  const now = Date.now();
  return {
    id: `${workflowInfo().workflowId}/${kind}/${appliance}`,
    startedAt: new Date(now).toISOString(),
    deadline: new Date(now + timeoutMs).toISOString(),
  };
}

/** Time left until the step's deadline (at least 1 s, so an activity can still report). */
export function remainingMs(step: StepRef): number {
  return Math.max(1_000, Date.parse(step.deadline ?? '') - Date.now());
}

/** Retry policy of start activities (busy waits come from the failure's nextRetryDelay). */
export const START_RETRY = {
  initialInterval: '2 seconds',
  backoffCoefficient: 2,
  maximumInterval: '2 minutes',
} as const;
/** Retry policy of poll activities (a retry resumes from the last heartbeat). */
export const POLL_RETRY = { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' } as const;
/**
 * Slack of the server-side bound over the step's deadline. The activities themselves stop
 * retrying at the deadline (with the failure that says why); the schedule-to-close timeout is the
 * backstop for an attempt that hangs past it.
 */
const DEADLINE_BACKSTOP_MS = 30_000;

/** Heartbeat timeout of every step activity: a killed worker's activity is retried within it. */
export const STEP_HEARTBEAT_TIMEOUT = '10 seconds';

/**
 * Options of start activities: one attempt at most 2 minutes, heartbeats (so a dead worker is
 * noticed within 10 s), and every attempt and busy wait together bounded by the step's deadline.
 */
export function startOptions(step: StepRef): ActivityOptions {
  return {
    startToCloseTimeout: '2 minutes',
    scheduleToCloseTimeout: remainingMs(step) + DEADLINE_BACKSTOP_MS,
    heartbeatTimeout: STEP_HEARTBEAT_TIMEOUT,
    retry: START_RETRY,
  };
}

/**
 * Options of poll activities: they heartbeat every ≤ 3 s for their whole run (so a 10 s heartbeat
 * timeout is safe, and the SDK's heartbeat throttling, 0.8 × the timeout, still lets a cancel
 * through within 8 s in any worker), retries end at the step's deadline, and a workflow cancel
 * waits until the activity has asked the appliance to cancel the remote job.
 */
export function pollOptions(step: StepRef): ActivityOptions {
  const left = remainingMs(step);
  return {
    startToCloseTimeout: left,
    scheduleToCloseTimeout: left,
    heartbeatTimeout: STEP_HEARTBEAT_TIMEOUT,
    retry: POLL_RETRY,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  };
}
