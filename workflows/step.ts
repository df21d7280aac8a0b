import {
  ActivityCancellationType,
  ActivityFailure,
  type ActivityOptions,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  TimeoutFailure,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { RetryState } from '@temporalio/common';
import type { z } from 'zod';
import type { Activities, StepRef } from '../activities';
import {
  DEFAULT_STEP_TIMEOUT_MS,
  type SddcManagerEndpoint,
  type VcdaEndpoint,
  type VcenterEndpoint,
  applianceKey,
  endpointName,
} from '../src/contract/endpoints';
import { type VmwareApiError, type ErrorType } from '../src/core/errors';
import { DEFAULT_BUSY_RETRY_DELAY_MS } from '../src/core/retry';
import { formatDuration } from '../src/contract/duration';
import { DEFAULT_POLL_INTERVAL_MS, type PollMode, retryPollPolicy } from '../src/contract/inputs';
import { validateInput } from './boundary';
import { withApplianceLease } from './lease';
import { RUNBOOK_STEP_MEMO, type StepProgress, stepProgressSignal } from '../src/contract/messages';

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

/**
 * Retry policy of start activities: network errors, 503s and unreadable answers are retried by
 * the server (the retry attaches to the job a lost answer created, from the heartbeat). Busy
 * answers are not: the step waits them out itself with a workflow timer ({@link startThenPoll}),
 * so its progress shows "waiting: appliance busy (attempt n)". The first retry waits 500 ms:
 * after a heartbeat timeout (a dead worker) it adds to the recovery, which should stay within the
 * heartbeat timeout plus one poll interval (test/crash-matrix.test.ts). Retry policies are not
 * part of the replay check, so recorded histories still replay (test/replay.test.ts).
 */
export const START_RETRY = {
  initialInterval: '500 milliseconds',
  backoffCoefficient: 2,
  maximumInterval: '2 minutes',
  nonRetryableErrorTypes: ['ResourceBusy'] as string[],
} as const;
/** Retry policy of poll activities (a retry resumes from the last heartbeat). */
export const POLL_RETRY = {
  initialInterval: '500 milliseconds',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
} as const;
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
 * Options of a retry-mode poll activity (`pollMode: 'retry'`): each attempt is one read (at most
 * 2 minutes, heartbeating), retried by the server every `intervalMs` (backoff coefficient 1) until
 * the step's deadline; a workflow cancel waits for a running attempt to end.
 */
export function retryPollOptions(step: StepRef, intervalMs: number): ActivityOptions {
  return {
    summary: `poll ${stepLabel(step)} every ${formatDuration(intervalMs)} (one read per attempt)`,
    startToCloseTimeout: '2 minutes',
    scheduleToCloseTimeout: remainingMs(step),
    heartbeatTimeout: STEP_HEARTBEAT_TIMEOUT,
    retry: retryPollPolicy(intervalMs),
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
  pollIntervalMs?: number;
  pollMode?: PollMode;
}

/**
 * The retry-mode poll interval of each step begun with `pollMode: 'retry'`, keyed by the step's
 * {@link StepRef} (the object `beginStep` returns and every caller hands on to
 * {@link startThenPoll}); a step absent from it polls in heartbeat mode, as before the option.
 */
const retryPollIntervals = new WeakMap<StepRef, number>();

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
  const step = stepRef(kind, appliance, input.timeoutMs, input.stepId);
  if (input.pollMode === 'retry') retryPollIntervals.set(step, input.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
  return { input, appliance, step };
}

/** A step's product and its endpoint, as that product's activities take it. */
type ProductEndpoint =
  | { product: 'vcenter'; endpoint: VcenterEndpoint }
  | { product: 'sddc-manager'; endpoint: SddcManagerEndpoint }
  | { product: 'vcda'; endpoint: VcdaEndpoint };

/** How a step starts and polls its one remote job (activities proxied with the step's options). */
export type RemoteJobStep<S, D> = ProductEndpoint & {
  step: StepRef;
  /** Hold the appliance lease around the start (false only to replay histories from before it). */
  lease: boolean;
  start: (activities: Activities) => Promise<S>;
  poll: (activities: Activities, started: S) => Promise<D>;
};

/**
 * Marks the histories whose steps wait out busy answers themselves (a workflow timer between start
 * activities) instead of the start activity's server-side retries. Asked only when a busy answer
 * arrives, so a run that never meets a busy appliance records no marker and keeps its shape; a
 * history from before (where busy ended the start activity only at the step's deadline) replays
 * as it ran. https://docs.temporal.io/develop/typescript/versioning#patching
 */
export const BUSY_WAIT_PATCH = 'vmware-dr-busy-wait-in-workflow';

/** The busy answer inside an activity failure, if that is what it is. */
function busyAnswer(err: unknown): ApplicationFailure | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  return cause instanceof ApplicationFailure && cause.type === 'ResourceBusy' ? cause : undefined;
}

/** The wait the activity asked for (`busyRetryDelayMs` of the worker), from the failure's details. */
function retryDelayOf(busy: ApplicationFailure): number {
  const d = (busy.details?.[0] ?? {}) as { retryDelayMs?: unknown };
  return typeof d.retryDelayMs === 'number' && d.retryDelayMs > 0 ? d.retryDelayMs : DEFAULT_BUSY_RETRY_DELAY_MS;
}

/**
 * Tells the runbook that started this step (memo {@link RUNBOOK_STEP_MEMO}) how its start goes.
 * Best effort: a parent that has ended is no reason to fail the step.
 */
async function tellRunbook(progress: Omit<StepProgress, 'step'>): Promise<void> {
  const { parent, memo } = workflowInfo();
  const step = memo?.[RUNBOOK_STEP_MEMO];
  if (!parent || typeof step !== 'string') return;
  await CancellationScope.nonCancellable(() =>
    getExternalWorkflowHandle(parent.workflowId, parent.runId).signal(stepProgressSignal, { step, ...progress }),
  ).catch(() => undefined);
}

/**
 * The start activity, once per busy answer: the appliance said busy (`FEATURE_IN_USE`, an SDDC
 * Manager lock, a VCDA backup in progress) → wait the worker's `busyRetryDelayMs` on a workflow
 * timer (skipped by a time-skipping test server, kept by the server across worker restarts),
 * saying so in the step's current details and to its runbook, and start again, until the next
 * wait would pass the step's deadline. Each start is a new activity with its own snapshot of the
 * recent jobs: a busy answer means the POST created nothing of ours (the activity attaches to
 * a job of ours before it reports busy).
 */
async function startWithBusyWaits<S>(o: RemoteJobStep<S, unknown>): Promise<S> {
  const deadlineMs = Date.parse(o.step.deadline as string);
  for (let attempt = 1; ; attempt++) {
    try {
      const started = await o.start(proxyActivities<Activities>(startOptions(o.step)));
      const busy = attempt > 1 ? `started after ${attempt} attempts (the appliance was busy); ` : '';
      setCurrentDetails(`${busy}the ${o.product} job runs: polled until it ends`);
      if (attempt > 1) void tellRunbook({ attempts: attempt });
      return started;
    } catch (err) {
      const busy = busyAnswer(err);
      // Not busy, or busy past the deadline by the activity's own clock (its message says so).
      if (!busy || busy.nonRetryable || !patched(BUSY_WAIT_PATCH)) throw err;
      const delayMs = retryDelayOf(busy);
      if (Date.now() + delayMs > deadlineMs) {
        // The next wait would pass the deadline: the same failure chain, non-retryable, saying why.
        const a = err as ActivityFailure;
        throw new ActivityFailure(
          a.message,
          a.activityType,
          a.activityId,
          RetryState.NON_RETRYABLE_FAILURE,
          a.identity,
          ApplicationFailure.create({
            type: 'ResourceBusy' satisfies ErrorType,
            message: `${busy.message} (still busy at the step's deadline, after ${attempt} start${attempt === 1 ? '' : 's'})`,
            nonRetryable: true,
            details: busy.details as unknown[] | undefined,
          }),
        );
      }
      const waiting = `appliance busy (attempt ${attempt})`;
      setCurrentDetails(`waiting: ${waiting}; next start in ${formatDuration(delayMs)}`);
      await Promise.all([
        sleep(delayMs, { summary: `busy retry: start ${stepLabel(o.step)} again (attempt ${attempt + 1})` }),
        tellRunbook({ attempts: attempt, waiting }),
      ]);
    }
  }
}

/**
 * Starts the step's remote job once, under the appliance lease (held through busy waits, as a
 * queue for the appliance), then polls it to its end.
 */
export async function startThenPoll<S, D>(o: RemoteJobStep<S, D>): Promise<{ started: S; done: D }> {
  const start = () => startWithBusyWaits(o);
  const started = o.lease
    ? await withApplianceLease(applianceKey(o.product, o.endpoint), Date.parse(o.step.deadline as string), start)
    : await start();
  const retryIntervalMs = retryPollIntervals.get(o.step);
  const options = retryIntervalMs === undefined ? pollOptions(o.step) : retryPollOptions(o.step, retryIntervalMs);
  const done = await pollOrCompensate(o, started, () => o.poll(proxyActivities<Activities>(options), started));
  return { started, done };
}

/**
 * Marks the histories whose cancelled steps run the compensation activity from workflow code
 * (before it, the heartbeat-mode poll activity asked the appliance to cancel by itself, and a
 * cancel that found no poll attempt running reached no appliance). Asked only when a cancelled
 * step's poll ends, so every other run keeps its shape and older histories replay as they ran.
 * https://docs.temporal.io/develop/typescript/versioning#patching
 */
export const COMPENSATE_PATCH = 'vmware-dr-compensate-in-workflow';

/**
 * Polls; when the step is cancelled meanwhile, compensates: the poll ends (acknowledging the
 * cancel, or timing out with a dead worker's attempt, or between retry-mode reads), then the
 * compensation activity, not cancellable itself, reads the job and asks the appliance to cancel it
 * while it runs. A compensation that fails (`CompensationFailed`) fails the step, so a runbook
 * reports it failed, never done; one that succeeds ends the step cancelled, whatever ended the poll
 * (a job that failed on its own stays that failure).
 */
async function pollOrCompensate<S, D>(o: RemoteJobStep<S, D>, started: S, poll: () => Promise<D>): Promise<D> {
  try {
    return await poll();
  } catch (err) {
    if (!CancellationScope.current().consideredCancelled || !patched(COMPENSATE_PATCH)) throw err;
    await CancellationScope.nonCancellable(() => compensate(o, started));
    if (isCancellation(err) || (err instanceof ActivityFailure && err.cause instanceof TimeoutFailure))
      throw new CancelledFailure(
        o.product === 'vcda'
          ? 'the step was cancelled; VCDA cannot cancel a backup task, so it runs to its end'
          : `the step was cancelled; its ${o.product} job was stopped on the appliance`,
      );
    throw err;
  }
}

/**
 * The compensation activity (`compensateStep`) of the step's job: a vCenter backup job by id, a
 * vCenter restore (it has no id), an SDDC Manager task. VCDA's API has no way to cancel a backup
 * task: nothing to run. Retried like any step activity (a dead worker's attempt after the
 * heartbeat timeout); it reads before it cancels, so a retry never cancels twice.
 */
async function compensate<S>(o: RemoteJobStep<S, unknown>, started: S): Promise<void> {
  if (o.product === 'vcda') return;
  const ref = started as { jobId?: unknown; taskId?: unknown };
  const { compensateStep } = proxyActivities<Activities>({
    summary: `compensate ${stepLabel(o.step)}: cancel its job on the appliance`,
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: STEP_HEARTBEAT_TIMEOUT,
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 5 },
  });
  const result = await compensateStep(
    o.product === 'vcenter'
      ? { product: 'vcenter', endpoint: o.endpoint, ...(typeof ref.jobId === 'string' && { jobId: ref.jobId }) }
      : { product: 'sddc-manager', endpoint: o.endpoint, taskId: String(ref.taskId) },
  );
  log.info(`compensation of ${stepLabel(o.step)}: ${result.outcome} (the job was ${result.state})`);
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
