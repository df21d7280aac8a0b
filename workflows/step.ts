import {
  ActivityCancellationType,
  type ActivityOptions,
  ApplicationFailure,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { z } from 'zod';
import type { Activities, StepRef } from '../activities';
import { DEFAULT_STEP_TIMEOUT_MS, applianceKey, endpointName } from '../src/config';
import type { VmwareApiError } from '../src/errors';
import type { StepProduct } from '../src/step-result';
import { validateInput } from './boundary';
import { withApplianceLease } from './lease';

export { DEFAULT_STEP_TIMEOUT_MS };

/**
 * The part of a step's id after the workflow id: the caller's `stepId` when given (a runbook
 * passes `<stage>/<index>`, so two steps on one appliance never collide), else `<kind>/<appliance>`.
 */
export function stepPart(kind: string, appliance: string, stepId?: string): string {
  return stepId ?? `${kind}/${appliance}`;
}

/** A step's identity and deadline, from workflow time (deterministic on replay). */
export function stepRef(
  kind: string,
  appliance: string,
  timeoutMs: number = DEFAULT_STEP_TIMEOUT_MS,
  stepId?: string,
): StepRef {
  const now = Date.now();
  return {
    id: `${workflowInfo().workflowId}/${stepPart(kind, appliance, stepId)}`,
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
/** The step's own part of its id (without the workflow id), for the UI's activity summaries. */
function stepLabel(step: StepRef): string {
  const prefix = `${workflowInfo().workflowId}/`;
  return step.id.startsWith(prefix) ? step.id.slice(prefix.length) : step.id;
}

export function startOptions(step: StepRef): ActivityOptions {
  return {
    summary: `start ${stepLabel(step)}`,
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
    summary: `poll ${stepLabel(step)} until the job ends`,
    startToCloseTimeout: left,
    scheduleToCloseTimeout: left,
    heartbeatTimeout: STEP_HEARTBEAT_TIMEOUT,
    retry: POLL_RETRY,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  };
}

/**
 * Options of the short reads a step makes besides its poll (validate before, verify after): like
 * a start, one attempt at most 2 minutes, heartbeats, retries bounded by the step's deadline.
 */
export function verifyOptions(step: StepRef): ActivityOptions {
  return { ...startOptions(step), summary: `verify ${stepLabel(step)}` };
}

/** What every step workflow's input carries besides its product fields. */
interface StepInputBase {
  endpoint: { name?: string; url: string };
  timeoutMs?: number;
  stepId?: string;
}

/**
 * The start of every step workflow: the whole input validated first (`InvalidInput` otherwise,
 * nothing started), the appliance's name and the step's identity and deadline.
 */
export function beginStep<S extends z.ZodType<StepInputBase>>(
  workflow: string,
  schema: S,
  raw: unknown,
  kind: string,
): { input: z.output<S>; appliance: string; step: StepRef } {
  const input = validateInput(workflow, schema, raw);
  const appliance = endpointName(input.endpoint);
  return { input, appliance, step: stepRef(kind, appliance, input.timeoutMs, input.stepId) };
}

/** How a step starts and polls its one remote job (activities proxied with the step's options). */
export interface RemoteJobStep<S, D> {
  product: StepProduct;
  endpoint: { url: string };
  step: StepRef;
  /** Hold the appliance lease around the start (false only to replay histories from before it). */
  lease: boolean;
  start: (activities: Activities) => Promise<S>;
  poll: (activities: Activities, started: S) => Promise<D>;
}

/** Starts the step's remote job once, under the appliance lease, then polls it to its end. */
export async function startThenPoll<S, D>(o: RemoteJobStep<S, D>): Promise<{ started: S; done: D }> {
  const starts = proxyActivities<Activities>(startOptions(o.step));
  const start = () => o.start(starts);
  const started = o.lease
    ? await withApplianceLease(applianceKey(o.product, o.endpoint), Date.parse(o.step.deadline as string), start)
    : await start();
  const done = await o.poll(proxyActivities<Activities>(pollOptions(o.step)), started);
  return { started, done };
}

/**
 * A taxonomy error raised by workflow code (a check on what activities returned) as the
 * non-retryable `ApplicationFailure` an activity would have raised for it: same type, message
 * and details.
 */
export function stepFailure(err: VmwareApiError): ApplicationFailure {
  return ApplicationFailure.create({
    type: err.name,
    message: err.message,
    nonRetryable: true,
    details: [
      {
        code: err.code,
        product: err.product,
        appliance: err.appliance,
        operation: err.operation,
        vmwareCode: err.vmwareCode,
        remediation: err.remediation,
      },
    ],
  });
}
