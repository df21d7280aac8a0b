/**
 * What a runbook run's steps say while they run, as a client reads it: the run's `progress`
 * Query, and for each running step its child workflow (`<run id>/<step id>`) read on demand: the
 * job's percent from the last heartbeat of its pending poll activity (decoded with the client's
 * data converter, a codec included), its pending activities (attempt, last failure, next try), and
 * afterwards the attempts its start activity took, from its history. The percent used to reach the
 * run as one signal per 10 % mark, each a history event and a workflow task of the run; reading it
 * when someone asks costs the run nothing.
 *
 * Client side (I/O): the run handle of ./runbook.ts, the CLI's `status` and `--watch`, the
 * rehearsal and tests share it.
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

/** What the server says of a step's running activity (its child workflow's pending activity). */
export interface StepActivity {
  /** The activity's id in the step workflow. */
  activityId: string;
  /** Activity type, e.g. `startVcenterBackup`. */
  type: string;
  /** 1 for the first attempt; more after a busy answer or a retried failure. */
  attempt: number;
  /** The failure of the previous attempt (e.g. the appliance's "busy" answer). */
  lastFailure?: { type?: string; message: string };
  /** When the next attempt is scheduled (after a failed attempt). */
  nextAttemptAt?: Date;
}

type PendingActivity = NonNullable<Awaited<ReturnType<WorkflowHandle['describe']>>['raw']['pendingActivities']>[number];

/** The pending activities of a step workflow as the server describes them; none when it cannot be described. */
async function pendingActivities(handle: Pick<WorkflowHandle, 'client'>, stepWorkflow: string) {
  const d = await handle.client
    .getHandle(stepWorkflow)
    .describe()
    .catch(() => undefined);
  return d?.raw.pendingActivities ?? [];
}

function activityOf(a: PendingActivity): StepActivity {
  const failure = a.lastFailure;
  const seconds = a.nextAttemptScheduleTime?.seconds;
  return {
    activityId: a.activityId ?? '',
    type: a.activityType?.name ?? 'activity',
    attempt: a.attempt ?? 1,
    ...(failure?.message && {
      lastFailure: {
        message: failure.message,
        ...(failure.applicationFailureInfo?.type && { type: failure.applicationFailureInfo.type }),
      },
    }),
    ...(seconds != null && { nextAttemptAt: new Date(Number(seconds) * 1000) }),
  };
}

/**
 * The pending activities of a running step's child workflow (`<run id>/<step id>`), as the server
 * describes them (https://docs.temporal.io/activity-execution#activity-retry-policy); none when
 * the step workflow cannot be described.
 */
export async function stepActivities(
  handle: Pick<WorkflowHandle, 'client'>,
  stepWorkflow: string,
): Promise<StepActivity[]> {
  return (await pendingActivities(handle, stepWorkflow)).map(activityOf);
}

/**
 * The pending activity that matters most of a running step: one that is retrying (busy) first,
 * else the latest; undefined when the step workflow has none.
 */
export async function stepActivity(
  handle: Pick<WorkflowHandle, 'client'>,
  stepWorkflow: string,
): Promise<StepActivity | undefined> {
  const pending = await pendingActivities(handle, stepWorkflow);
  const a = pending.find((p) => (p.attempt ?? 1) > 1 || p.lastFailure) ?? pending.at(-1);
  return a && activityOf(a);
}

/** The highest attempt of a step's start activity, from its child workflow's history. */
export async function startAttempts(
  handle: Pick<WorkflowHandle, 'client'>,
  stepWorkflow: string,
): Promise<number | undefined> {
  const history = await handle.client.getHandle(stepWorkflow).fetchHistory();
  const starts = new Set<string>();
  let attempts: number | undefined;
  for (const e of history.events ?? []) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled && /^start/.test(scheduled.activityType?.name ?? '')) starts.add(String(e.eventId));
    const started = e.activityTaskStartedEventAttributes;
    if (started && starts.has(String(started.scheduledEventId)))
      attempts = Math.max(attempts ?? 0, started.attempt ?? 1);
  }
  return attempts;
}
