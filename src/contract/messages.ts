/**
 * The messages of `drRunbook`, defined once for the workflow, clients and the CLI: a `progress`
 * Query, `approve` / `reject` Updates (with validators: a rejected update leaves no history), and
 * `pause` / `resume` Signals that take effect between stages. Pure definitions.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { RUNBOOK_STEP_MEMO, type RunbookReport, STEP_PROGRESS_SIGNAL } from './runbook/report';

export interface ApproveRequest {
  /** The step id (`<stage>.<step>`, 1-based, e.g. `1.1`) waiting for approval. */
  step: string;
  /** Who approves: recorded in the report, beside the client identity the server recorded. */
  by: string;
  comment?: string;
  /**
   * Accept the restore validation warnings the step shows (`vmware-dr approve --accept-warnings`):
   * needed to approve a restore with warnings whose step does not set `ignoreWarnings`.
   */
  acceptWarnings?: boolean;
}

export interface RejectRequest {
  step: string;
  by: string;
  reason: string;
}

/** The report so far: per step its state, remote id, attempts and what it waits for. */
/** The workflow type of a runbook run (`drRunbook`), for clients that find runs by type. */
export const RUNBOOK_WORKFLOW_TYPE = 'drRunbook';

export const progressQuery = defineQuery<RunbookReport>('progress');
export const approveUpdate = defineUpdate<{ step: string; state: string }, [ApproveRequest]>('approve');
export const rejectUpdate = defineUpdate<{ step: string; state: string }, [RejectRequest]>('reject');
export const pauseSignal = defineSignal<[{ by?: string }?]>('pause');
export const resumeSignal = defineSignal<[{ by?: string }?]>('resume');

/** What a step workflow tells the runbook that started it while it waits (or stops waiting). */
export interface StepProgress {
  /** The runbook's step id (`1.2`), from the child's memo {@link RUNBOOK_STEP_MEMO}. */
  step: string;
  /** Start attempts made so far (busy answers included). */
  attempts?: number;
  /** Why the step waits, e.g. `appliance busy (attempt 2)`; absent once it no longer waits. */
  waiting?: string;
  /** The remote job's progress (0–100, in 10 % marks), told by the step's poll activity. */
  percent?: number;
}

/** Sent by a step workflow to its runbook parent: the step's attempts and what it waits for. */
export const stepProgressSignal = defineSignal<[StepProgress]>(STEP_PROGRESS_SIGNAL);

export { RUNBOOK_STEP_MEMO };
