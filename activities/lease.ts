import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { INTERNAL_ERROR_TYPE } from '../src/core/errors';
import type { ResolvedActivitiesOptions } from './options';

export interface RequestApplianceLeaseInput {
  /** Workflow id of the appliance's lease workflow, e.g. `vmware-dr-lease/vcenter/vc01.example.com`. */
  leaseId: string;
  /** Unique per request: a retried activity delivers the same request, which the lease ignores. */
  requestId: string;
  /** Longest the requester may hold the lease. */
  holdMs: number;
}

/**
 * Asks the appliance's lease workflow for the lease on behalf of the calling workflow, starting
 * the lease workflow when none runs (signal-with-start on this task queue). The grant arrives as
 * a signal to the caller. Uses the activities' Temporal client (`opts.client`).
 */
export function createLeaseActivities(opts: Pick<ResolvedActivitiesOptions, 'client'>) {
  return {
    /** Whether a workflow run is still running (the lease asks this of a holder that others wait for). */
    async isWorkflowRunning(input: { workflowId: string; runId: string }): Promise<boolean> {
      try {
        const d = await opts.client().workflow.getHandle(input.workflowId, input.runId).describe();
        return d.status.name === 'RUNNING';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      }
    },

    async requestApplianceLease(input: RequestApplianceLeaseInput): Promise<void> {
      const { info } = Context.current();
      const client = opts.client();
      const requester = info.workflowExecution;
      if (!requester)
        throw ApplicationFailure.nonRetryable(
          'requestApplianceLease runs only on behalf of a workflow',
          INTERNAL_ERROR_TYPE,
        );
      await client.workflow.signalWithStart('applianceLease', {
        workflowId: input.leaseId,
        taskQueue: info.taskQueue,
        args: [],
        signal: 'vmwareDrLeaseRequest',
        signalArgs: [
          {
            requestId: input.requestId,
            requesterWorkflowId: requester.workflowId,
            requesterRunId: requester.runId,
            holdMs: input.holdMs,
          },
        ],
      });
    },
  };
}
