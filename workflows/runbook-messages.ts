/**
 * The messages of `drRunbook`, defined once for the workflow, clients and the CLI: a `progress`
 * Query, `approve` / `reject` Updates (with validators: a rejected update leaves no history), and
 * `pause` / `resume` Signals that take effect between stages. Pure definitions.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { RunbookReport } from '../src/runbook/report';

export interface ApproveRequest {
  /** The step id (`<stage>.<step>`, 1-based, e.g. `1.1`) waiting for approval. */
  step: string;
  /** Who approves: recorded in the report. */
  by: string;
  comment?: string;
}

export interface RejectRequest {
  step: string;
  by: string;
  reason: string;
}

/** The report so far: per step its state, remote id, attempts and what it waits for. */
export const progressQuery = defineQuery<RunbookReport>('progress');
export const approveUpdate = defineUpdate<{ step: string; state: string }, [ApproveRequest]>('approve');
export const rejectUpdate = defineUpdate<{ step: string; state: string }, [RejectRequest]>('reject');
export const pauseSignal = defineSignal<[{ by?: string }?]>('pause');
export const resumeSignal = defineSignal<[{ by?: string }?]>('resume');
