/**
 * Busy appliances in a runbook, on the real dev server against the simulator: the step waits out
 * each busy answer itself (a workflow timer named "busy retry"), the runbook's `progress` query
 * shows "waiting: appliance busy (attempt n)" while it waits, and so do the run's Current
 * Details, its memo (`waitingFor`) and search attribute `VmwareDrWaitingFor`; the step then
 * succeeds with exactly one remote job. A busy step alone (no runbook parent) waits the same way
 * and tells nobody. A running job's percent is read on demand (`runbookProgress`), never signalled.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunbookDocument } from '../src/contract/runbook/document';
import type { RunbookReport } from '../src/contract/runbook/report';
import type { StepResult } from '../src/contract/results';
import { runbookProgress } from '../src/client/live-progress';
import { progressQuery } from '../src/contract/messages';
import { startSimulator } from '../src/simulator/server';
import { simulatedEndpoint } from './support/endpoints';
import { type Harness, createHarness } from './support/harness';

/** Long enough for the progress query (polled every 50 ms) to see every wait, short enough for a fast test. */
const BUSY_RETRY_DELAY_MS = 1_200;

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/** The workflow timers of exactly `ms` (the busy waits; the lease's wait for its grant is another timer). */
const timersOf = (events: HistoryEvent[], ms: number) =>
  events.filter((e) => {
    const t = e.timerStartedEventAttributes?.startToFireTimeout;
    return t && Number(t.seconds ?? 0) * 1000 + Math.round((t.nanos ?? 0) / 1e6) === ms;
  });

describe('busy appliances: waits visible in progress (real server, simulator)', () => {
  let h: Harness;
  let doc: RunbookDocument;
  const envBefore = {
    vc: process.env.BUSY_VC_PASSWORD,
    backup: process.env.BUSY_BACKUP_PASSWORD,
    sddc: process.env.BUSY_SDDC_PASSWORD,
  };

  beforeAll(async () => {
    h = await createHarness({ vcenters: 1, sddcManagers: 1, jobSeconds: 1 });
    const v = h.sim.info.vcenter[0]!;
    process.env.BUSY_VC_PASSWORD = v.password;
    process.env.BUSY_BACKUP_PASSWORD = 'Good#Pass1';
    process.env.BUSY_SDDC_PASSWORD = h.sim.info.sddcManager[0]!.password;
    doc = {
      apiVersion: 'vmware-dr/v1',
      kind: 'Runbook',
      name: 'busy-vc',
      defaults: { pollInterval: '100ms' },
      endpoints: {
        'vc-1': simulatedEndpoint('vcenter', v, 'env:BUSY_VC_PASSWORD'),
      },
      locations: {
        'sftp-a': {
          type: 'SFTP',
          url: 'sftp://backup.example.com/vcsa',
          encryptionPasswordRef: 'env:BUSY_BACKUP_PASSWORD',
        },
      },
      stages: [{ name: 'vcenters', steps: [{ backup: 'vc-1', to: 'sftp-a' }] }],
    };
  });
  afterAll(async () => {
    await h?.close();
    for (const [key, value] of [
      ['BUSY_VC_PASSWORD', envBefore.vc],
      ['BUSY_BACKUP_PASSWORD', envBefore.backup],
      ['BUSY_SDDC_PASSWORD', envBefore.sddc],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  const busyThrice = () =>
    h.sim.faults.add({
      product: 'vcenter',
      appliance: 'vc-1',
      operation: 'backupJobCreate',
      count: 3,
      action: { kind: 'error', error: 'FEATURE_IN_USE' },
    });

  it('three busy answers: progress shows "waiting: appliance busy (attempt n)", then one job and success', async () => {
    h.sim.resetCounters();
    busyThrice();
    const seen: string[] = [];
    const details = new Set<string>();
    const memos = new Set<string>();
    const attributes = new Set<string>();
    const { report, history, runHistory, final } = await h.withWorker(
      async () => {
        const handle = await h.env.client.workflow.start<(d: RunbookDocument) => Promise<RunbookReport>>('drRunbook', {
          taskQueue: h.taskQueue,
          workflowId: `rb-busy-${Date.now()}`,
          args: [doc],
        });
        let done = false;
        const result = handle.result().finally(() => (done = true));
        while (!done) {
          const step = (await handle.query(progressQuery)).steps[0]!;
          if (step.waiting !== undefined && seen.at(-1) !== `${step.waiting} / ${step.attempts}`)
            seen.push(`${step.waiting} / ${step.attempts}`);
          const m = await handle
            .query<{ currentDetails?: string }>('__temporal_workflow_metadata')
            .catch(() => undefined);
          if (m?.currentDetails) details.add(m.currentDetails);
          const d = await handle.describe().catch(() => undefined);
          if (typeof d?.memo?.waitingFor === 'string') memos.add(d.memo.waitingFor);
          const waitingFor = d?.typedSearchAttributes.getAll().find((p) => p.key.name === 'VmwareDrWaitingFor');
          if (waitingFor) attributes.add(String(waitingFor.value));
          await new Promise((r) => setTimeout(r, 50));
        }
        const child = h.env.client.workflow.getHandle(`${handle.workflowId}/1.1`);
        return {
          report: await result,
          history: await child.fetchHistory(),
          runHistory: await handle.fetchHistory(),
          final: await handle.describe(),
        };
      },
      { busyRetryDelayMs: BUSY_RETRY_DELAY_MS },
    );
    expect(seen).toEqual([
      'appliance busy (attempt 1) / 1',
      'appliance busy (attempt 2) / 2',
      'appliance busy (attempt 3) / 3',
    ]);
    expect(report.outcome).toBe('succeeded');
    const step = report.steps[0]!;
    expect(step.state).toBe('succeeded');
    expect(step.waiting).toBeUndefined();
    expect(step.attempts).toBe(4);
    // Exactly one remote job, after four start requests (three answered busy).
    expect(h.sim.counters().jobs).toHaveLength(1);
    expect(h.sim.counters().jobs[0]!.id).toBe(step.remoteId);
    expect(h.sim.counters().calls.vcenter?.['vc-1']?.backupJobCreate).toBe(4);
    // The waits are workflow timers of the worker's busyRetryDelayMs, one per busy answer.
    const timers = timersOf(history.events ?? [], BUSY_RETRY_DELAY_MS);
    expect(timers).toHaveLength(3);
    // Each timer says what it is for (its user metadata summary, shown by the UI).
    expect(timers.map((t) => JSON.parse(Buffer.from(t.userMetadata?.summary?.data ?? []).toString()))).toEqual([
      'busy retry: start vcenters/1.1 again (attempt 2)',
      'busy retry: start vcenters/1.1 again (attempt 3)',
      'busy retry: start vcenters/1.1 again (attempt 4)',
    ]);
    // The run shows each wait: Current Details (with the attempt), the memo and the search attribute.
    expect([...details]).toEqual(
      expect.arrayContaining([
        'stage 1/1 vcenters: backup vc-1\n\nstep 1.1 (backup vc-1): waiting: appliance busy (attempt 2)',
      ]),
    );
    expect([...memos]).toEqual(['step 1.1 (backup vc-1): appliance busy']);
    expect([...attributes]).toEqual(['busy-appliance']);
    // Once it waits no more, neither says it does; and the job's percent was never signalled.
    expect(final.memo?.waitingFor).toBeUndefined();
    expect(final.typedSearchAttributes.getAll().map((p) => p.key.name)).not.toContain('VmwareDrWaitingFor');
    const signalled = (runHistory.events ?? []).map((e) => e.workflowExecutionSignaledEventAttributes?.signalName);
    expect(signalled.filter((n) => n === 'vmwareDrStepProgress')).toHaveLength(4); // 3 busy waits, then the start
    const starts = (history.events ?? []).filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'startVcenterBackup',
    );
    expect(starts).toHaveLength(4);
  });

  it("a running job's percent reaches the live view in 10 % marks, read from the step: no signal per mark", async () => {
    // A job of 4 s: the percent reaches the server with the poll activity's heartbeats (at most one
    // a second in these tests), so a 1 s job would show one mark or two.
    const slow = await startSimulator({ vcenters: 1, jobSeconds: 4 });
    process.env.BUSY_SLOW_VC_PASSWORD = slow.info.vcenter[0]!.password;
    const slowDoc: RunbookDocument = {
      ...doc,
      endpoints: { 'vc-1': simulatedEndpoint('vcenter', slow.info.vcenter[0]!, 'env:BUSY_SLOW_VC_PASSWORD') },
    };
    const seen: number[] = [];
    const { report, history } = await h.withWorker(async () => {
      const handle = await h.env.client.workflow.start<(d: RunbookDocument) => Promise<RunbookReport>>('drRunbook', {
        taskQueue: h.taskQueue,
        workflowId: `rb-percent-${Date.now()}`,
        args: [slowDoc],
      });
      let done = false;
      const result = handle.result().finally(() => (done = true));
      while (!done) {
        const step = (await runbookProgress(handle)).steps[0]!;
        if (step.state === 'running' && step.percent !== undefined && seen.at(-1) !== step.percent)
          seen.push(step.percent);
        await new Promise((r) => setTimeout(r, 25));
      }
      return { report: await result, history: await handle.fetchHistory() };
    });
    expect(report.outcome).toBe('succeeded');
    // Seen while it ran: marks of 10, rising.
    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (const p of seen) expect(p % 10).toBe(0);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    const progressSignals = (history.events ?? []).filter(
      (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'vmwareDrStepProgress',
    );
    expect(progressSignals).toHaveLength(0);
    expect(slow.counters().jobs).toHaveLength(1);
    await slow.close();
    delete process.env.BUSY_SLOW_VC_PASSWORD;
  });

  it('a step run alone waits out busy answers the same way and signals nobody', async () => {
    h.sim.resetCounters();
    busyThrice();
    const v = h.sim.info.vcenter[0]!;
    const { result, history } = await h.withWorker(async () => {
      const handle = await h.env.client.workflow.start<(i: unknown) => Promise<StepResult>>('vcenterBackupStep', {
        taskQueue: h.taskQueue,
        workflowId: `busy-step-${Date.now()}`,
        args: [
          {
            endpoint: {
              name: 'vc-1',
              url: v.url,
              username: v.username,
              passwordRef: 'env:BUSY_VC_PASSWORD',
              tls: { caFile: v.caFile! },
            },
            backup: { locationType: 'SFTP', location: 'sftp://backup.example.com/vcsa' },
            pollIntervalMs: 100,
          },
        ],
      });
      return { result: await handle.result(), history: await handle.fetchHistory() };
    });
    expect(result.outcome).toBe('succeeded');
    expect(h.sim.counters().jobs).toHaveLength(1);
    const events = history.events ?? [];
    expect(timersOf(events, 100)).toHaveLength(3); // the harness's busyRetryDelayMs
    const signals = events.map((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName);
    expect(signals).not.toContain('vmwareDrStepProgress');
    // One patch marker: the busy wait is a shape a history from before it does not have.
    expect(events.filter((e) => e.markerRecordedEventAttributes)).toHaveLength(1);
  });

  it('an SDDC Manager lock (RESOURCE_LOCKED) is waited out the same way: one task, attempts in the report', async () => {
    h.sim.resetCounters();
    h.sim.faults.add({
      product: 'sddc-manager',
      operation: 'startBackup',
      count: 2,
      action: { kind: 'error', error: 'RESOURCE_LOCKED' },
    });
    const sddc = h.sim.info.sddcManager[0]!;
    const report = await h.withWorker(async () =>
      h.env.client.workflow.execute<(d: RunbookDocument) => Promise<RunbookReport>>('drRunbook', {
        taskQueue: h.taskQueue,
        workflowId: `rb-busy-sddc-${Date.now()}`,
        args: [
          {
            ...doc,
            endpoints: {
              'sddc-a': simulatedEndpoint('sddc-manager', sddc, 'env:BUSY_SDDC_PASSWORD'),
            },
            stages: [{ name: 'sddc-manager', steps: [{ backup: 'sddc-a' }] }],
          },
        ],
      }),
    );
    expect(report.outcome).toBe('succeeded');
    expect(report.steps[0]).toMatchObject({ state: 'succeeded', attempts: 3 });
    expect(report.steps[0]!.waiting).toBeUndefined();
    expect(h.sim.counters().jobs.filter((j) => j.product === 'sddc-manager')).toHaveLength(1);
    expect(h.sim.counters().calls['sddc-manager']?.['sddc-1']?.startBackup).toBe(3);
  });
});
