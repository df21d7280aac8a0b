/**
 * Who started a workflow run, as the Temporal server recorded it: the client `identity` of its
 * `WorkflowExecutionStarted` event (the first event of every history). Read by an activity, never
 * given by the caller, so a run cannot claim a starter; four eyes compare approvers against it.
 */
import type { Client } from '@temporalio/client';

/**
 * The identity that started the run `workflowId`/`runId` (its first history event), or undefined
 * when the server recorded none. Reads one event.
 */
export async function startedByOf(client: Client, workflowId: string, runId: string): Promise<string | undefined> {
  const res = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId, runId },
    maximumPageSize: 1,
  });
  const identity = res.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.identity;
  return identity ? identity : undefined;
}
