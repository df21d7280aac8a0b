/**
 * (b)'s breakdown: where the runbook's extra seconds go, per step, from the event times of the
 * runbook's and its step children's histories (server clock), next to the straight-line script's
 * own timings of the same calls.
 */
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** One step's phases, ms. */
export interface StepPhases {
  /** The runbook's step id (`1.1`, …) and the child's appliance. */
  step: string;
  /** Runbook's start-child command → the child's first event. */
  childStartMs: number;
  /** Child's first event → the lease granted (first workflow task, lease request activity, lease workflow, signal). */
  leaseMs: number;
  /** Of `leaseMs`: child's first event → its lease request activity (signal-with-start of the lease) completed. */
  leaseRequestMs: number;
  /** Lease granted → start activity completed (scheduling, the POST). */
  startMs: number;
  /** Start completed → poll activity completed (the job's run, its polls and the detection of its end). */
  pollMs: number;
  /** Poll completed → verify activity completed (0 where the step verifies nothing extra). */
  verifyMs: number;
  /** Last activity completed → the runbook sees the child completed. */
  childCloseMs: number;
  /** Of the start, poll and verify phases: time between an activity's scheduling and its start (queueing). */
  scheduleToStartMs: number;
}

export interface ScriptPhases {
  step: string;
  startMs: number;
  pollMs: number;
  verifyMs: number;
}

export interface OverheadBreakdown {
  /** The runbook's steps on the critical path (the last to finish of each stage). */
  steps: StepPhases[];
  /** The script's steps on its critical path. */
  script: ScriptPhases[];
  /** Runbook started → its first start-child command (validation, search attributes, memo). */
  beforeFirstStepMs: number;
  /** Sum over stage changes: the last child of a stage completed → the next stage's first start-child. */
  betweenStagesMs: number;
  /** Last child completed → the runbook completed. */
  afterLastStepMs: number;
  /** Client wall minus the runbook's own span (the start request and the result's delivery). */
  clientMs: number;
}

const t = (e: HistoryEvent | undefined): number => {
  const ts = e?.eventTime;
  return ts ? Number(ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6) : Number.NaN;
};

async function eventsOf(client: Client, workflowId: string): Promise<HistoryEvent[]> {
  return (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
}

/** The phases of one step child's history, given the runbook's start-child and child-completed times. */
function stepPhases(step: string, events: HistoryEvent[], initiatedAt: number, closedAt: number): StepPhases {
  const first = t(events[0]);
  const granted = t(
    events.find((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'vmwareDrLeaseGranted'),
  );
  const scheduled = new Map<number, { name: string; at: number }>();
  let requested = Number.NaN;
  const done: Record<'start' | 'poll' | 'verify', number> = { start: Number.NaN, poll: Number.NaN, verify: Number.NaN };
  let scheduleToStartMs = 0;
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(Number(e.eventId), { name: s.activityType?.name ?? '', at: t(e) });
    const st = e.activityTaskStartedEventAttributes;
    if (st) {
      const of = scheduled.get(Number(st.scheduledEventId));
      // A retried activity's started event is written when it ends: count only first attempts.
      if (of && /^(start|poll|verify)/.test(of.name) && (st.attempt ?? 1) === 1) scheduleToStartMs += t(e) - of.at;
    }
    const c = e.activityTaskCompletedEventAttributes;
    if (c) {
      const name = scheduled.get(Number(c.scheduledEventId))?.name ?? '';
      const kind = /^start/.test(name) ? 'start' : /^poll/.test(name) ? 'poll' : /^verify/.test(name) ? 'verify' : '';
      if (kind) done[kind] = t(e);
      if (name === 'requestApplianceLease' && Number.isNaN(requested)) requested = t(e);
    }
  }
  const lastActivity = Number.isNaN(done.verify) ? done.poll : done.verify;
  return {
    step,
    childStartMs: first - initiatedAt,
    leaseMs: granted - first,
    leaseRequestMs: requested - first,
    startMs: done.start - granted,
    pollMs: done.poll - done.start,
    verifyMs: Number.isNaN(done.verify) ? 0 : done.verify - done.poll,
    childCloseMs: closedAt - lastActivity,
    scheduleToStartMs,
  };
}

/** The breakdown of one finished runbook run (its step children's ids are `<runbook id>/<stage>/<step>`). */
export async function runbookBreakdown(
  client: Client,
  runbookId: string,
  clientWallMs: number,
  script: ScriptPhases[],
): Promise<OverheadBreakdown> {
  const events = await eventsOf(client, runbookId);
  const initiated = new Map<string, number>();
  const closed = new Map<string, number>();
  for (const e of events) {
    const i = e.startChildWorkflowExecutionInitiatedEventAttributes;
    if (i?.workflowId) initiated.set(i.workflowId, t(e));
    const c = e.childWorkflowExecutionCompletedEventAttributes;
    if (c?.workflowExecution?.workflowId) closed.set(c.workflowExecution.workflowId, t(e));
  }
  const children = [...initiated.keys()];
  // Stages: children started by the same workflow task share an initiation time (± a few ms).
  const stages: string[][] = [];
  for (const id of children.sort((a, b) => initiated.get(a)! - initiated.get(b)!)) {
    const last = stages.at(-1);
    if (last && initiated.get(id)! - initiated.get(last[0]!)! < 50) last.push(id);
    else stages.push([id]);
  }
  const steps: StepPhases[] = [];
  let betweenStagesMs = 0;
  for (const [n, stage] of stages.entries()) {
    const critical = stage.reduce((a, b) => (closed.get(b)! > closed.get(a)! ? b : a));
    const childEvents = await eventsOf(client, critical);
    steps.push(
      stepPhases(critical.slice(runbookId.length + 1), childEvents, initiated.get(critical)!, closed.get(critical)!),
    );
    const next = stages[n + 1];
    if (next) betweenStagesMs += initiated.get(next[0]!)! - closed.get(critical)!;
  }
  const start = t(events[0]);
  const end = t(events.at(-1));
  const lastClosed = Math.max(...closed.values());
  return {
    steps,
    script,
    beforeFirstStepMs: initiated.get(stages[0]![0]!)! - start,
    betweenStagesMs,
    afterLastStepMs: end - lastClosed,
    clientMs: Math.round(clientWallMs - (end - start)),
  };
}
