/**
 * The typed client of runbook runs (`drRunbook`): start a runbook document, find a run by its
 * workflow id, and a run handle typed on `drRunbook` that speaks the run's messages, defined once
 * in `src/contract/messages.ts`: `progress` (the Query, with each running step's percent read
 * live), the `approve` / `reject` Updates, the `pause` / `resume` Signals, plus what the run's
 * steps say (their pending activity, their start attempts). The handle is the SDK's
 * `WorkflowHandle` as well, so `result()`, `cancel()`, `describe()`, `terminate()` and
 * `fetchHistory()` are the SDK's own.
 *
 * Client side (I/O), on a plain `@temporalio/client` `Client`: the CLI, the rehearsal, the demo
 * and the bench start and drive runbooks through it.
 */
import type { Client, WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { drRunbook } from '../../workflows/index';
import { DEFAULT_TASK_QUEUE } from '../contract/names';
import {
  type ApproveRequest,
  type RejectRequest,
  approveUpdate,
  pauseSignal,
  rejectUpdate,
  resumeSignal,
  progressQuery,
  RUNBOOK_WORKFLOW_TYPE,
} from '../contract/messages';
import type { DrRunbookOptions, RunbookDocument } from '../contract/runbook/document';
import type { RunbookReport } from '../contract/runbook/report';
import {
  type StepActivity,
  runbookProgress,
  startAttempts,
  stepActivities,
  stepActivity,
  stepWorkflowId,
} from './live-progress';

/** Options of {@link runbookClient}. */
export interface RunbookClientOptions {
  /**
   * The task queue of the workers that run the runbooks it starts.
   * @default 'vmware-dr' (`DEFAULT_TASK_QUEUE`)
   */
  taskQueue?: string;
}

/** Options of {@link RunbookClient.start}. */
export interface StartRunbookOptions extends DrRunbookOptions {
  /** The run's workflow id (unique among running workflows of the namespace). */
  workflowId: string;
  /** A line the Web UI shows for the run. @default none */
  summary?: string;
}

/** A step's state after an `approve` or `reject` Update, as the run answers it. */
export interface StepDecision {
  step: string;
  state: string;
}

/** A runbook run: the SDK's handle typed on `drRunbook`, with the run's messages and its steps' state. */
export interface RunbookRun extends WorkflowHandle<typeof drRunbook> {
  /**
   * The report so far (the `progress` Query). With `livePercent` (the default) each running
   * step's percent is read from its step workflow; `false` asks the run alone.
   */
  progress(options?: { livePercent?: boolean }): Promise<RunbookReport>;
  /**
   * Approves a step waiting for approval (the `approve` Update), as this client's identity. The
   * run's validator refuses an unknown step, a step not waiting or already decided, and who may
   * not approve it: `WorkflowUpdateFailedError`, no history written.
   */
  approve(request: ApproveRequest): Promise<StepDecision>;
  /** Rejects a step waiting for approval (the `reject` Update); refused as {@link approve} is. */
  reject(request: RejectRequest): Promise<StepDecision>;
  /** Pauses the run between stages (the `pause` Signal). */
  pause(by?: string): Promise<void>;
  /** Resumes a paused run (the `resume` Signal). */
  resume(by?: string): Promise<void>;
  /** The pending activity that matters most of a running step (a retrying one first), if any. */
  stepActivity(step: string): Promise<StepActivity | undefined>;
  /** Every pending activity of a running step's workflow. */
  stepActivities(step: string): Promise<StepActivity[]>;
  /** The highest attempt of a step's start activity, from its step workflow's history. */
  startAttempts(step: string): Promise<number | undefined>;
}

/** A started run: its handle, and the run id of its first execution. */
export type StartedRunbookRun = RunbookRun & Pick<WorkflowHandleWithFirstExecutionRunId, 'firstExecutionRunId'>;

/** Starts runbooks and finds their runs, on one client and task queue. */
export interface RunbookClient {
  /** The task queue the runbooks it starts run on. */
  readonly taskQueue: string;
  /**
   * Starts `drRunbook` with a runbook document; rejects with the SDK's
   * `WorkflowExecutionAlreadyStartedError` when a run with this id is running.
   */
  start(document: RunbookDocument, options: StartRunbookOptions): Promise<StartedRunbookRun>;
  /** The handle of a run by its workflow id (no server call: `describe()` says what it is). */
  get(workflowId: string, runId?: string): RunbookRun;
}

/** The run handle around the SDK's handle of a `drRunbook` workflow. */
function runbookRun<H extends WorkflowHandle<typeof drRunbook>>(handle: H): H & RunbookRun {
  const step = (id: string) => stepWorkflowId(handle.workflowId, id);
  return {
    // The SDK builds its handles as plain objects (its own `start` spreads one the same way).
    ...handle,
    progress: ({ livePercent = true } = {}) => (livePercent ? runbookProgress(handle) : handle.query(progressQuery)),
    approve: (request) => handle.executeUpdate(approveUpdate, { args: [request] }),
    reject: (request) => handle.executeUpdate(rejectUpdate, { args: [request] }),
    pause: (by) => (by === undefined ? handle.signal(pauseSignal) : handle.signal(pauseSignal, { by })),
    resume: (by) => (by === undefined ? handle.signal(resumeSignal) : handle.signal(resumeSignal, { by })),
    stepActivity: (id) => stepActivity(handle, step(id)),
    stepActivities: (id) => stepActivities(handle, step(id)),
    startAttempts: (id) => startAttempts(handle, step(id)),
  };
}

/** The runbook client of a Temporal client. */
export function runbookClient(client: Client, options: RunbookClientOptions = {}): RunbookClient {
  const taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
  return {
    taskQueue,
    async start(document, { workflowId, summary, ...runOptions }) {
      const handle = await client.workflow.start<typeof drRunbook>(RUNBOOK_WORKFLOW_TYPE, {
        taskQueue,
        workflowId,
        args: [document, runOptions],
        ...(summary !== undefined && { staticSummary: summary }),
      });
      return runbookRun(handle);
    },
    get: (workflowId, runId) => runbookRun(client.workflow.getHandle<typeof drRunbook>(workflowId, runId)),
  };
}
