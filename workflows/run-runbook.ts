/**
 * Running a runbook from another workflow: `executeRunbook` starts `drRunbook` as a child workflow
 * and returns its typed report. Pure workflow code; it needs only the type of `drRunbook`, so a
 * parent's bundle does not have to contain the runbook (the child may run on another task queue).
 */
import { type ChildWorkflowOptions, ParentClosePolicy, executeChild, workflowInfo } from '@temporalio/workflow';
import type { RunbookDocument } from '../src/contract/runbook/document';
import type { RunbookReport } from '../src/contract/runbook/report';
import type { DrRunbookOptions, drRunbook } from './runbook';

/** How the `drRunbook` child is started: Temporal's child options, without `args` (the document and options are). */
export interface ExecuteRunbookChildOptions extends Omit<ChildWorkflowOptions, 'args'> {
  /**
   * The child's workflow id.
   * @default `${parent workflow id}/runbook/${document.name}` (see {@link runbookChildWorkflowId})
   */
  workflowId?: string;
  /**
   * What happens to the runbook when the parent closes. Cancelling lets the runbook cancel its
   * steps on the appliances and record the compensation; terminating would leave remote jobs running.
   * @default ParentClosePolicy.REQUEST_CANCEL
   */
  parentClosePolicy?: ParentClosePolicy;
}

/** The default workflow id of a runbook started by the workflow `parentWorkflowId`. Pure. */
export function runbookChildWorkflowId(parentWorkflowId: string, documentName: string): string {
  return `${parentWorkflowId}/runbook/${documentName}`;
}

/**
 * Runs `document` as a `drRunbook` child of the calling workflow and returns its report. The
 * report is the result whatever the outcome (`failed`, `rejected` and `cancelled` included); the
 * promise rejects only when the run itself fails (an invalid document: `InvalidInput`) or is
 * terminated. Cancelling the parent's scope cancels the runbook, which still returns its report.
 */
export async function executeRunbook(
  document: RunbookDocument,
  options: DrRunbookOptions = {},
  childOptions: ExecuteRunbookChildOptions = {},
): Promise<RunbookReport> {
  return executeChild<typeof drRunbook>('drRunbook', {
    ...childOptions,
    workflowId: childOptions.workflowId ?? runbookChildWorkflowId(workflowInfo().workflowId, document.name),
    parentClosePolicy: childOptions.parentClosePolicy ?? ParentClosePolicy.REQUEST_CANCEL,
    args: [document, options],
  });
}
