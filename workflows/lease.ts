/**
 * The appliance lease: at most one state-changing step at a time per appliance, across all
 * workflows and workers. One `applianceLease` workflow per appliance (id `vmware-dr-lease/…`)
 * grants the lease to one requester at a time, in order of request (the `mutex` model of the
 * Temporal TypeScript samples). A start step holds it from the snapshot of recent jobs to the
 * end of its POST, retries included, so no other step's job can appear in that window and a
 * retry attaches only to the job it created.
 *
 * A lease workflow ends cleanly (COMPLETED): after a minute without requests, or at once when
 * asked to close (`vmwareDrLeaseClose`, sent by `endTaskQueueWorkflows` before a task queue's
 * worker goes away) and nothing is queued or held. Its own id prefix keeps it out of an
 * operator's list (`WorkflowType != "applianceLease"`, see the README).
 */
import {
  CancellationScope,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineSignal,
  getExternalWorkflowHandle,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { type ErrorType } from '../src/core/errors';

export interface LeaseRequest {
  /** Unique per request; a duplicate delivery of the same request is ignored. */
  requestId: string;
  requesterWorkflowId: string;
  requesterRunId: string;
  /** Longest the holder may keep the lease (its step's remaining time); then it is taken back. */
  holdMs: number;
}

export const leaseRequestSignal = defineSignal<[LeaseRequest]>('vmwareDrLeaseRequest');
export const leaseGrantedSignal = defineSignal<[{ requestId: string }]>('vmwareDrLeaseGranted');
export const leaseReleaseSignal = defineSignal<[{ requestId: string }]>('vmwareDrLeaseRelease');
/** Asks a lease workflow to end as soon as nothing is queued or held (it ends COMPLETED). */
export const leaseCloseSignal = defineSignal<[]>('vmwareDrLeaseClose');

/** The workflow id prefix of every lease workflow (`vmware-dr-lease/<product>/<host>`). */
export const LEASE_WORKFLOW_ID_PREFIX = 'vmware-dr-lease/';

/** An idle lease workflow ends after this; the next request starts it again. */
const LEASE_IDLE_MS = 60_000;
/** Grants per run before the lease workflow continues as new (keeps its history small). */
const GRANTS_PER_RUN = 200;
/** Recently finished request ids remembered, to ignore late duplicate deliveries. */
const REMEMBERED = 500;

export interface ApplianceLeaseState {
  queue: LeaseRequest[];
  done: string[];
}

/** While someone waits for the lease, how often the lease checks that its holder still runs. */
const LIVENESS_CHECK_MS = 30_000;

const { isWorkflowRunning } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 5 },
});

/**
 * Waits until the holder releases the lease, or its hold time ends. While others wait, checks
 * every 30 s that the holder still runs: a holder terminated by an operator (it cannot release)
 * loses the lease then instead of at its deadline. Nobody waiting costs no checks.
 */
async function holdUntilReleased(
  req: LeaseRequest,
  isReleased: () => boolean,
  othersWaiting: () => boolean,
): Promise<void> {
  const until = Date.now() + Math.max(1, req.holdMs);
  for (;;) {
    const left = until - Date.now();
    if (isReleased() || left <= 0) return;
    if (!othersWaiting()) {
      await condition(() => isReleased() || othersWaiting(), left, {
        summary: `hold: until ${req.requesterWorkflowId} releases, at most until its deadline`,
      });
      continue;
    }
    if (
      await condition(isReleased, Math.min(left, LIVENESS_CHECK_MS), {
        summary: `liveness check: is ${req.requesterWorkflowId} (the holder) still running?`,
      })
    )
      return;
    const running = await isWorkflowRunning({ workflowId: req.requesterWorkflowId, runId: req.requesterRunId }).catch(
      () => true,
    );
    if (!running) return;
  }
}

/** The lease of one appliance. Started by `requestApplianceLease` (signal-with-start). */
export async function applianceLease(state: ApplianceLeaseState = { queue: [], done: [] }): Promise<void> {
  const queue = [...state.queue];
  const done = new Set(state.done);
  const released = new Set<string>();
  let closing = false;
  setHandler(
    leaseRequestSignal,
    (r) => {
      if (!done.has(r.requestId) && !queue.some((q) => q.requestId === r.requestId)) queue.push(r);
    },
    {
      description:
        'A step asks for the lease: { requestId, requesterWorkflowId, requesterRunId, holdMs }; granted in order of request.',
    },
  );
  setHandler(
    leaseReleaseSignal,
    ({ requestId }) => {
      released.add(requestId);
    },
    { description: 'The holder (or a requester that gave up waiting) releases the lease: { requestId }.' },
  );
  setHandler(
    leaseCloseSignal,
    () => {
      closing = true;
    },
    { description: 'End this lease workflow as soon as nothing is queued or held (before its worker goes away).' },
  );
  const finish = (id: string) => {
    done.add(id);
    released.delete(id);
    if (done.size > REMEMBERED) done.delete(done.values().next().value as string);
  };
  for (let grants = 0; ;) {
    // Woken without a request: idle for a minute, or asked to close.
    await condition(() => queue.length > 0 || closing, LEASE_IDLE_MS, {
      summary: 'idle: the lease ends after a minute without requests',
    });
    if (queue.length === 0) {
      await condition(allHandlersFinished);
      return;
    }
    const req = queue.shift() as LeaseRequest;
    // Released before it was granted: the requester gave up waiting.
    if (released.has(req.requestId)) {
      finish(req.requestId);
      continue;
    }
    try {
      await getExternalWorkflowHandle(req.requesterWorkflowId, req.requesterRunId).signal(leaseGrantedSignal, {
        requestId: req.requestId,
      });
    } catch {
      finish(req.requestId); // the requester has ended
      continue;
    }
    await holdUntilReleased(
      req,
      () => released.has(req.requestId),
      () => queue.length > 0,
    );
    finish(req.requestId);
    grants += 1;
    if (grants >= GRANTS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof applianceLease>({ queue, done: [...done] });
    }
  }
}

const { requestApplianceLease } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 10 },
});

/** Lease ids granted to this workflow run, by request id. */
const granted = new Set<string>();

/**
 * Runs `fn` while holding the lease of the appliance `key` (see `applianceKey`), waiting for it
 * at most until `deadlineMs` (workflow time). The lease is released when `fn` ends, also on
 * failure and on cancellation; a holder that never releases loses it at its deadline.
 */
export async function withApplianceLease<T>(key: string, deadlineMs: number, fn: () => Promise<T>): Promise<T> {
  setHandler(
    leaseGrantedSignal,
    ({ requestId }) => {
      granted.add(requestId);
    },
    { description: 'From the appliance lease workflow: this step may start its job now ({ requestId }).' },
  );
  const leaseId = `${LEASE_WORKFLOW_ID_PREFIX}${key}`;
  const requestId = uuid4();
  const holdMs = Math.max(1_000, deadlineMs - Date.now());
  const release = () =>
    CancellationScope.nonCancellable(() =>
      getExternalWorkflowHandle(leaseId).signal(leaseReleaseSignal, { requestId }),
    ).catch(() => undefined);
  setCurrentDetails(`waiting for the appliance lease ${leaseId}: one step at a time starts a job on this appliance`);
  await requestApplianceLease({ leaseId, requestId, holdMs });
  let got: boolean;
  try {
    got = await condition(() => granted.has(requestId), holdMs, {
      summary: `deadline: wait for the appliance lease ${leaseId} until the step's deadline`,
    });
  } catch (err) {
    await release();
    throw err;
  }
  if (!got) {
    await release();
    throw ApplicationFailure.create({
      type: 'ResourceBusy' satisfies ErrorType,
      nonRetryable: true,
      message: `${key}: another step held this appliance until this step's deadline (waited for the appliance lease ${leaseId}). Fix: run the steps on this appliance one after the other, or give the step a longer timeoutMs`,
    });
  }
  let result: T;
  try {
    result = await fn();
  } catch (err) {
    granted.delete(requestId);
    await release();
    throw err;
  }
  granted.delete(requestId);
  // Not awaited on success: the release goes out with the step's next command, without a workflow task of its own.
  void release();
  return result;
}
