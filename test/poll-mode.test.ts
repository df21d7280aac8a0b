/**
 * Retry-as-poll (`pollMode: 'retry'`) end to end on the real dev server and the HTTPS simulator:
 * one remote job, no history per poll, the product's error on a failed job, the remote cancel,
 * and the poll count carried across attempts in the heartbeat. Plus the attempt itself, alone.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import {
  ApplicationFailure,
  ApplicationFailureCategory,
  CancelledFailure,
  defaultPayloadConverter,
} from '@temporalio/common';
import { ActivityFailure, WorkflowFailedError } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollRemoteJob } from '../activities/poll';
import type { VcenterEndpoint, VcdaEndpoint } from '../src/contract/endpoints';
import { JOB_STILL_RUNNING_TYPE, isRetryPollPolicy, retryPollPolicy } from '../src/contract/inputs';
import type { RunbookReport } from '../src/contract/runbook/report';
import { simulatedEndpoint } from './support/endpoints';
import { type Harness, createHarness } from './support/harness';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The poll activity's events in a history: scheduled, started (with its attempt), completed. */
function pollEvents(events: HistoryEvent[], activity: string) {
  const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity);
  const ids = new Set(scheduled.map((e) => Number(e.eventId)));
  const of = (e: HistoryEvent) =>
    Number(
      e.activityTaskStartedEventAttributes?.scheduledEventId ??
        e.activityTaskCompletedEventAttributes?.scheduledEventId ??
        e.activityTaskFailedEventAttributes?.scheduledEventId ??
        e.activityTaskCanceledEventAttributes?.scheduledEventId ??
        e.activityTaskCancelRequestedEventAttributes?.scheduledEventId ??
        -1,
    );
  const rest = events.filter((e) => ids.has(of(e)));
  return { scheduled, rest };
}

describe('pollMode retry (real server, simulator)', () => {
  let h: Harness;
  let vc1: VcenterEndpoint;
  let vcda: VcdaEndpoint;
  const backup = { locationType: 'SFTP' as const, location: 'sftp://b/poll-mode', backupPasswordRef: 'env:PM_BACKUP' };

  beforeAll(async () => {
    h = await createHarness({ vcenters: 1, vcdas: 1, jobSeconds: 3 });
    const { vcenter, vcda: vcdas, caFile } = h.sim.info;
    process.env.PM_VC1 = vcenter[0]!.password;
    process.env.PM_VCDA = vcdas[0]!.password;
    process.env.PM_BACKUP = 'PollMode#Pass42';
    const tls = { caFile: caFile! };
    vc1 = { name: 'vc-1', url: vcenter[0]!.url, username: vcenter[0]!.username, passwordRef: 'env:PM_VC1', tls };
    vcda = { name: 'vcda-1', url: vcdas[0]!.url, username: vcdas[0]!.username, passwordRef: 'env:PM_VCDA', tls };
  });
  afterAll(async () => {
    await h?.close();
    for (const k of ['PM_VC1', 'PM_VCDA', 'PM_BACKUP']) delete process.env[k];
  });

  const id = (what: string) => `poll-mode-${what}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

  it('a step in retry mode: one job, and the poll adds no event per read beyond its own three', async () => {
    h.sim.resetCounters();
    const { retry, heartbeat } = await h.withWorker(async () => {
      const run = async (pollMode: 'retry' | 'heartbeat') => {
        const handle = await h.env.client.workflow.start('vcenterBackupStep', {
          taskQueue: h.taskQueue,
          workflowId: id(pollMode),
          args: [{ endpoint: vc1, backup, pollIntervalMs: 250, pollMode }],
        });
        const result = await handle.result();
        return { result, events: (await handle.fetchHistory()).events ?? [] };
      };
      return { retry: await run('retry'), heartbeat: await run('heartbeat') };
    });
    expect(retry.result).toMatchObject({ outcome: 'succeeded', attached: false });
    expect(h.sim.counters().jobs.filter((j) => j.kind === 'backup')).toHaveLength(2);

    const { scheduled, rest } = pollEvents(retry.events, 'pollVcenterBackup');
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]!.activityTaskScheduledEventAttributes?.retryPolicy?.backoffCoefficient).toBe(1);
    const started = rest.filter((e) => e.activityTaskStartedEventAttributes);
    const completed = rest.filter((e) => e.activityTaskCompletedEventAttributes);
    expect(rest).toHaveLength(2); // started + completed: the failed attempts left no event
    expect(started).toHaveLength(1);
    const attempt = started[0]!.activityTaskStartedEventAttributes!.attempt!;
    // A 3 s job: several attempts (the dev server spaces retries by about 1 s at least, whatever the
    // 250 ms asked), each one read, all in those three events.
    expect(attempt).toBeGreaterThanOrEqual(3);
    const polled = defaultPayloadConverter.fromPayload<{ polls: number }>(
      completed[0]!.activityTaskCompletedEventAttributes!.result!.payloads![0]!,
    );
    expect(polled.polls).toBe(attempt);
    // Same history length as the heartbeat mode's step (which polls inside one attempt).
    expect(retry.events.length).toBe(heartbeat.events.length);
  });

  it('a runbook sets it for its steps (defaults.pollMode): its step child polls in retry mode', async () => {
    h.sim.resetCounters();
    const doc = {
      apiVersion: 'vmware-dr/v1',
      kind: 'Runbook',
      name: 'poll-mode-runbook',
      defaults: { pollMode: 'retry', pollInterval: '1s' },
      endpoints: { 'vc-1': simulatedEndpoint('vcenter', h.sim.info.vcenter[0]!, 'env:PM_VC1') },
      locations: {
        sftp: {
          type: 'SFTP',
          url: 'sftp://b/poll-mode-rb',
          username: 'backup',
          passwordRef: 'env:PM_BACKUP',
          encryptionPasswordRef: 'env:PM_BACKUP',
        },
      },
      stages: [{ name: 'vcenters', steps: [{ backup: 'vc-1', to: 'sftp' }] }],
    };
    const workflowId = id('runbook');
    const report = (await h.withWorker(() =>
      h.env.client.workflow.execute('drRunbook', { taskQueue: h.taskQueue, workflowId, args: [doc, {}] }),
    )) as RunbookReport;
    expect(report.outcome).toBe('succeeded');
    expect(h.sim.counters().jobs.filter((j) => j.kind === 'backup')).toHaveLength(1);
    const child = h.env.client.workflow.getHandle(`${workflowId}/1.1`);
    const events = (await child.fetchHistory()).events ?? [];
    const input = defaultPayloadConverter.fromPayload<{ pollMode?: string; pollIntervalMs?: number }>(
      events[0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!,
    );
    expect(input).toMatchObject({ pollMode: 'retry', pollIntervalMs: 1000 });
    const { scheduled } = pollEvents(events, 'pollVcenterBackup');
    expect(scheduled[0]!.activityTaskScheduledEventAttributes?.retryPolicy?.backoffCoefficient).toBe(1);
  });

  it('a job that ends FAILED fails the step in retry mode with the product error', async () => {
    h.sim.resetCounters();
    h.sim.faults.add({ product: 'vcenter', operation: 'backupJobCreate', action: { kind: 'jobFailed' } });
    h.sim.faults.add({ product: 'vcda', operation: 'backupCreate', action: { kind: 'jobFailed' } });
    const failures = await h.withWorker(async () =>
      Promise.all(
        [
          ['vcenterBackupStep', { endpoint: vc1, backup, pollIntervalMs: 200, pollMode: 'retry' }],
          ['vcdaBackupStep', { endpoint: vcda, pollIntervalMs: 200, pollMode: 'retry' }],
        ].map(async ([workflow, input]) => {
          const handle = await h.env.client.workflow.start(workflow as string, {
            taskQueue: h.taskQueue,
            workflowId: id('failed'),
            args: [input],
          });
          const err = await handle.result().catch((e: unknown) => e);
          expect(err).toBeInstanceOf(WorkflowFailedError);
          const cause = (err as WorkflowFailedError).cause;
          expect(cause).toBeInstanceOf(ActivityFailure);
          return (cause as ActivityFailure).cause;
        }),
      ),
    );
    for (const f of failures) {
      expect(f).toBeInstanceOf(ApplicationFailure);
      expect(f).toMatchObject({ type: 'RemoteJobFailed', nonRetryable: true });
      expect((f as ApplicationFailure).message).toMatch(/ended FAILED/);
    }
    expect(h.sim.counters().jobs).toHaveLength(2);
  });

  it('cancel in retry mode cancels the remote job on the appliance, once', async () => {
    h.sim.resetCounters();
    const { err, cancels } = await h.withWorker(async () => {
      const handle = await h.env.client.workflow.start('vcenterBackupStep', {
        taskQueue: h.taskQueue,
        workflowId: id('cancel'),
        args: [{ endpoint: vc1, backup, pollIntervalMs: 200, pollMode: 'retry' }],
      });
      // Wait until the poll has failed a first attempt (it is between attempts, as it mostly is).
      for (let i = 0; i < 100; i++) {
        const d = await handle.describe();
        const poll = d.raw.pendingActivities?.find((a) => a.activityType?.name === 'pollVcenterBackup');
        if ((poll?.attempt ?? 0) >= 2) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await handle.cancel();
      const e = await handle.result().catch((x: unknown) => x);
      return { err: e, cancels: h.sim.counters().calls.vcenter?.['vc-1']?.backupJobCancel };
    });
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(cancels).toBe(1);
    expect(h.sim.counters().jobs).toHaveLength(1);
  });

  it('a 6-minute-deadline step read every 1 s: attempts counted in the heartbeat while it runs', async () => {
    const seen = await h.withWorker(async () => {
      const handle = await h.env.client.workflow.start('vcenterBackupStep', {
        taskQueue: h.taskQueue,
        workflowId: id('deadline'),
        args: [{ endpoint: vc1, backup, pollIntervalMs: 1_000, pollMode: 'retry', timeoutMs: 6 * 60_000 }],
      });
      const samples: { attempt: number; polls: number }[] = [];
      for (let i = 0; i < 80 && samples.every((s) => s.attempt < 3); i++) {
        const d = await handle.describe();
        const poll = d.raw.pendingActivities?.find((a) => a.activityType?.name === 'pollVcenterBackup');
        const details = poll?.heartbeatDetails?.payloads?.[0];
        if (poll && details) {
          const hb = defaultPayloadConverter.fromPayload<{ polls: number }>(details);
          samples.push({ attempt: poll.attempt ?? 0, polls: hb.polls });
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      await handle.result();
      const events = (await handle.fetchHistory()).events ?? [];
      const sched = pollEvents(events, 'pollVcenterBackup').scheduled[0]!.activityTaskScheduledEventAttributes!;
      return { samples, scheduleToCloseS: Number(sched.scheduleToCloseTimeout?.seconds ?? 0), sched };
    });
    // Each failed attempt's read is in the heartbeat the next attempt starts from.
    const late = seen.samples.filter((s) => s.attempt >= 2);
    expect(late.length).toBeGreaterThan(0);
    for (const s of late) expect(s.polls).toBeGreaterThanOrEqual(s.attempt - 1);
    expect(Math.max(...seen.samples.map((s) => s.polls))).toBeGreaterThanOrEqual(2);
    // Retried every second, bounded by the 6-minute deadline (not an attempt count).
    expect(Number(seen.sched.retryPolicy?.initialInterval?.seconds)).toBe(1);
    expect(Number(seen.sched.retryPolicy?.maximumInterval?.seconds)).toBe(1);
    expect(seen.sched.retryPolicy?.maximumAttempts ?? 0).toBe(0);
    expect(seen.scheduleToCloseS).toBeGreaterThan(5 * 60);
    expect(seen.scheduleToCloseS).toBeLessThanOrEqual(6 * 60);
  });
});

describe('a retry-mode attempt alone', () => {
  const env = (attempt: number, heartbeatDetails?: unknown) =>
    new MockActivityEnvironment({ attempt, heartbeatDetails, retryPolicy: retryPollPolicy(1_000) });

  it('reads once; running → retryable BENIGN JobStillRunning with the count in the heartbeat', async () => {
    expect(isRetryPollPolicy(retryPollPolicy(1_000))).toBe(true);
    expect(isRetryPollPolicy({ backoffCoefficient: 2 })).toBe(false);
    const e = env(4, { polls: 3, percentMark: 20 });
    const beats: unknown[] = [];
    e.on('heartbeat', (d: unknown) => beats.push(d));
    let reads = 0;
    const err = await e
      .run(() =>
        pollRemoteJob({
          label: 'job j1',
          intervalMs: 60_000,
          poll: async () => ({ state: 'RUNNING', progress: 35 }),
          outcome: () => (++reads, 'running'),
          details: (s) => s,
          failure: () => new Error('unused') as never,
          result: () => 'done',
        }),
      )
      .catch((x: unknown) => x);
    expect(reads).toBe(1);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({
      type: JOB_STILL_RUNNING_TYPE,
      nonRetryable: false,
      category: ApplicationFailureCategory.BENIGN,
    });
    expect(beats.at(-1)).toEqual({ state: 'RUNNING', progress: 35, polls: 4, percentMark: 30 });
  });

  it('succeeded → the result with the reads of every attempt', async () => {
    const r = await env(7, { polls: 6 }).run(() =>
      pollRemoteJob({
        label: 'job j2',
        intervalMs: 60_000,
        poll: async () => ({ state: 'SUCCEEDED' }),
        outcome: () => 'succeeded',
        details: (s) => s,
        failure: () => new Error('unused') as never,
        result: (_s, p) => p,
      }),
    );
    expect(r).toEqual({ polls: 7, resumedFromPolls: 6 });
  });
});
