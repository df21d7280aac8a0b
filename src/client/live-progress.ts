/**
 * A runbook run's live progress as a client reads it: the run's `progress` Query, and for each
 * running step the job's percent read on demand from its step workflow (`<run id>/<step id>`):
 * the last heartbeat of its pending poll activity, decoded with the client's data converter (a
 * codec included). The percent used to reach the run as one signal per 10 % mark, each a history
 * event and a workflow task of the run; reading it when someone asks costs the run nothing.
 *
 * Client side (I/O): the CLI's `status` and `--watch`, the rehearsal and tests share it.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import type { RunbookReport } from '../contract/runbook/report';
import { progressQuery } from '../contract/messages';

/** What a running step's workflow says of its remote job right now. */
export interface StepLiveState {
  /** The job's progress in 10 % marks, from the poll activity's last heartbeat (`percentMark`). */
  percent?: number;
}

/** The workflow id of a runbook step's child workflow. */
export function stepWorkflowId(runbookWorkflowId: string, stepId: string): string {
  return `${runbookWorkflowId}/${stepId}`;
}

/**
 * The live state of one step workflow: the percent mark its pending poll activity last
 * heartbeat. Undefined when the step has no poll running (starting, busy, verifying, ended) or
 * cannot be described.
 */
export async function stepLiveState(
  handle: Pick<WorkflowHandle, 'client'>,
  stepWorkflow: string,
): Promise<StepLiveState | undefined> {
  const client = handle.client;
  const d = await client
    .getHandle(stepWorkflow)
    .describe()
    .catch(() => undefined);
  for (const a of d?.raw.pendingActivities ?? []) {
    const payloads = a.heartbeatDetails?.payloads;
    if (!payloads?.length) continue;
    const details = await decodeFromPayloadsAtIndex<unknown>(client.options.loadedDataConverter, 0, payloads).catch(
      () => undefined,
    );
    const mark = (details as { percentMark?: unknown } | undefined)?.percentMark;
    if (typeof mark === 'number' && Number.isFinite(mark)) return { percent: Math.max(0, Math.min(100, mark)) };
  }
  return undefined;
}

/**
 * The run's report so far (its `progress` Query) with each running step's percent read live
 * from its step workflow. A step whose poll is not running keeps what the report says.
 */
export async function runbookProgress(handle: WorkflowHandle): Promise<RunbookReport> {
  const report = await handle.query(progressQuery);
  await Promise.all(
    report.steps
      .filter((s) => s.state === 'running' && s.waiting === undefined)
      .map(async (s) => {
        const live = await stepLiveState(handle, stepWorkflowId(report.workflowId, s.id));
        if (live?.percent !== undefined) s.percent = live.percent;
      }),
  );
  return report;
}
