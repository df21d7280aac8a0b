/**
 * The activity side of approvals: when the worker's credential policy requires an approval for a
 * restore, the activity that starts the restore job checks, before its one state-changing call,
 * that the step workflow running it is a step of a `drRunbook` run whose report shows this very
 * step approved by a verified identity. So a restore step workflow started directly (a Temporal UI
 * user, a client, a schedule) never restores: the runbook's validators, which hold the four-eyes
 * rules, are the only way to an approval.
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { endpointName } from '../src/contract/endpoints';
import { NotPermitted } from '../src/core/errors';
import type { Product } from '../src/contract/names';
import type { RunbookReport } from '../src/contract/runbook/report';
import { progressQuery } from '../src/contract/messages';
import type { ResolvedActivitiesOptions } from './options';

/**
 * Before a restore job is started: when the worker's policy requires an approval for restores of
 * this appliance, the running step must be a runbook step approved by a verified second person
 * ({@link restoreApprovalProblem}); else `NotPermitted`, before any request to the appliance.
 */
export async function assertRestoreApproved(
  opts: ResolvedActivitiesOptions,
  product: Product,
  endpoint: { name?: string; url: string },
): Promise<void> {
  if (!opts.policy?.approvalFor(product, endpoint, 'restore').required) return;
  const run = Context.current().info.workflowExecution;
  const problem = run
    ? await restoreApprovalProblem(opts.client(), run)
    : "the restore runs outside a workflow: the worker's policy requires an approval for restores";
  if (problem)
    throw new NotPermitted(problem, {
      product,
      appliance: endpointName(endpoint),
      operation: 'restore approval',
      rule: 'approvals.required',
      field: 'restore',
      remediation:
        'run the restore as a step of a runbook and have a second person approve it (vmware-dr approve); the policy requires it (approvals.required)',
    });
}

/** Why the restore may not start, or undefined when its runbook approved it. Reads only. */
export async function restoreApprovalProblem(
  client: Client,
  execution: { workflowId: string; runId: string },
): Promise<string | undefined> {
  const how = 'start the restore as a step of a runbook (drRunbook), where a second person approves it';
  const self = await client.workflow.getHandle(execution.workflowId, execution.runId).describe();
  const parent = self.raw.workflowExecutionInfo?.parentExecution;
  if (!parent?.workflowId)
    return `the restore step ${execution.workflowId} was started directly, not by a runbook: the worker's policy requires an approval for restores. Fix: ${how}`;
  const runbook = client.workflow.getHandle(parent.workflowId, parent.runId ?? undefined);
  const description = await runbook.describe();
  if (description.type !== 'drRunbook')
    return `the restore step ${execution.workflowId} was started by a ${description.type} run, not a runbook: the worker's policy requires an approval for restores. Fix: ${how}`;
  const prefix = `${parent.workflowId}/`;
  const stepId = execution.workflowId.startsWith(prefix) ? execution.workflowId.slice(prefix.length) : undefined;
  const report = (await runbook.query(progressQuery)) as RunbookReport;
  const step = report.steps.find((s) => s.id === stepId);
  if (!step || step.action !== 'restore')
    return `the runbook ${parent.workflowId} has no restore step ${stepId ?? execution.workflowId}. Fix: ${how}`;
  if (step.approval?.decision !== 'approved' || !step.approval.identity || !report.startedBy)
    return `step ${step.id} of runbook ${parent.workflowId} has no approval by a verified second person: the worker's policy requires one for restores. Fix: approve it with vmware-dr approve ${parent.workflowId} --step ${step.id}`;
  return undefined;
}
