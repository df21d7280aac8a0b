/**
 * Runbook schedules created from code, on a real Temporal server against the simulator: a
 * triggered run of `drRunbook` completes, the schedule carries the documented policies, pause and
 * unpause work, and an invalid document or option throws naming the fields and creates nothing.
 */
import { ScheduleNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FreshnessResult } from '../src/contract/freshness';
import type { RunbookDocument } from '../src/contract/runbook/document';
import type { RunbookReport } from '../src/contract/runbook/report';
import {
  InvalidScheduleOptions,
  type RunbookScheduleHandle,
  createFreshnessSchedule,
  createRunbookSchedule,
  runbookSchedule,
} from '../src/client/schedules';
import { simulatedEndpoint } from './support/endpoints';
import { type Harness, createHarness } from './support/harness';

describe('runbook schedules (real server, simulator)', () => {
  let h: Harness;
  let doc: RunbookDocument;
  const id = (what: string) => `sched-${what}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`;

  beforeAll(async () => {
    h = await createHarness({ vcenters: 1, jobSeconds: 1 });
    const v = h.sim.info.vcenter[0]!;
    process.env.SCH_VC_PASSWORD = v.password;
    doc = {
      apiVersion: 'vmware-dr/v1',
      kind: 'Runbook',
      name: 'scheduled-vc',
      site: 'site-s',
      defaults: { pollInterval: '100ms' },
      endpoints: {
        'vc-1': simulatedEndpoint('vcenter', v, 'env:SCH_VC_PASSWORD'),
      },
      locations: { sftp: { type: 'SFTP', url: 'sftp://backup.example.com/scheduled' } },
      stages: [{ name: 'vcenter', steps: [{ backup: 'vc-1', to: 'sftp' }] }],
    };
  });
  afterAll(async () => {
    delete process.env.SCH_VC_PASSWORD;
    await h?.close();
  });

  /** Triggers a run and waits for the workflow it started to finish. */
  async function triggerAndWait<R>(s: RunbookScheduleHandle): Promise<{ workflowId: string; result: R }> {
    const before = (await s.describe()).recentRuns.length;
    await s.trigger();
    const deadline = Date.now() + 30_000;
    let runs = (await s.describe()).recentRuns;
    while (runs.length <= before) {
      if (Date.now() > deadline) throw new Error('the triggered run did not start within 30 s');
      await new Promise((r) => setTimeout(r, 200));
      runs = (await s.describe()).recentRuns;
    }
    const run = runs[runs.length - 1]!;
    const result = (await h.env.client.workflow.getHandle(run.workflowId, run.runId).result()) as R;
    return { workflowId: run.workflowId, result };
  }

  it('a schedule created from code triggers a drRunbook run that completes; then it is deleted', async () => {
    h.sim.resetCounters();
    const scheduleId = id('run');
    const s = await createRunbookSchedule(h.env.client, {
      scheduleId,
      document: doc,
      every: '24h',
      taskQueue: h.taskQueue,
      note: 'created by the schedules test',
    });
    try {
      const raw = await h.env.client.schedule.getHandle(scheduleId).describe();
      expect(raw.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 3_600_000, pauseOnFailure: true });
      expect(raw.spec.jitter ?? 0).toBe(0);
      expect(raw.spec.intervals).toMatchObject([{ every: 86_400_000 }]);
      expect(raw.action).toMatchObject({ workflowType: 'drRunbook', taskQueue: h.taskQueue, workflowId: scheduleId });
      expect(raw.action.args).toEqual([doc, { dryRun: false }]);
      const state = await s.describe();
      expect(state).toMatchObject({
        scheduleId,
        workflowType: 'drRunbook',
        paused: false,
        note: 'created by the schedules test',
        recentRuns: [],
        memo: { runbook: 'scheduled-vc', site: 'site-s', dryRun: false },
      });
      expect(state.nextRunTimes.length).toBeGreaterThan(0);

      const { workflowId, result } = await h.withWorker(() => triggerAndWait<RunbookReport>(s));
      expect(workflowId.startsWith(`${scheduleId}-`)).toBe(true);
      expect(result.outcome).toBe('succeeded');
      expect(result.runbook).toBe('scheduled-vc');
      expect(result.steps.map((x) => [x.endpoint, x.state])).toEqual([['vc-1', 'succeeded']]);
      expect(h.sim.counters().jobs.filter((j) => j.kind === 'backup')).toHaveLength(1);
      expect((await s.describe()).running).toEqual([]);
    } finally {
      await s.delete();
    }
    await expect(h.env.client.schedule.getHandle(scheduleId).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
  });

  it('pause and unpause with a note; cron, jitter, catch-up window and dry run as given', async () => {
    const scheduleId = id('cron');
    const s = await createRunbookSchedule(h.env.client, {
      scheduleId,
      document: doc,
      cron: '0 2 * * *',
      taskQueue: h.taskQueue,
      jitter: '10m',
      catchupWindow: '30m',
      pauseOnFailure: false,
      dryRun: true,
    });
    try {
      const raw = await h.env.client.schedule.getHandle(scheduleId).describe();
      expect(raw.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 1_800_000, pauseOnFailure: false });
      expect(raw.spec.jitter).toBe(600_000);
      expect(raw.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 2, end: 2, step: 1 }] });
      expect(raw.action.args).toEqual([doc, { dryRun: true }]);
      await s.pause('maintenance window');
      expect(await s.describe()).toMatchObject({ paused: true, note: 'maintenance window' });
      await s.unpause('back');
      expect(await s.describe()).toMatchObject({ paused: false, note: 'back' });
      // The same helpers for a schedule found by id.
      expect((await runbookSchedule(h.env.client, scheduleId).describe()).scheduleId).toBe(scheduleId);
    } finally {
      await s.delete();
    }
  });

  it('an invalid document or option throws naming every field, and creates nothing', async () => {
    const scheduleId = id('bad');
    const bad = {
      ...doc,
      endpoints: { 'vc-1': { ...doc.endpoints['vc-1']!, url: 'not a url' } },
      stages: [{ name: 'vcenter', steps: [{ backup: 'vc-9', to: 'sftp' }] }],
    } as RunbookDocument;
    const err = await createRunbookSchedule(h.env.client, {
      scheduleId,
      document: bad,
      cron: '0 2 * * *',
      every: '1 day',
      jitter: 'lots',
      taskQueue: h.taskQueue,
      ...({ overlap: 'ALLOW_ALL' } as object),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidScheduleOptions);
    const e = err as InvalidScheduleOptions;
    expect(e.problems.map((p) => p.path).sort()).toEqual(
      [
        'cron',
        'document.endpoints.vc-1.url',
        'document.stages[0].steps[0].backup',
        'every',
        'jitter',
        'overlap',
      ].sort(),
    );
    expect(e.message).toMatch(/no schedule was created/);
    expect(e.message).toMatch(/document\.stages\[0\]\.steps\[0\]\.backup: unknown endpoint "vc-9"/);
    expect(e.message).toMatch(/cron: set exactly one of cron .* or every/);
    await expect(h.env.client.schedule.getHandle(scheduleId).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    // Neither cron nor every: one problem, on `every`.
    const none = await createRunbookSchedule(h.env.client, { scheduleId, document: doc }).then(
      () => undefined,
      (x: unknown) => x as InvalidScheduleOptions,
    );
    expect(none?.problems).toEqual([{ path: 'every', message: expect.stringMatching(/exactly one of cron/) }]);
    await expect(h.env.client.schedule.getHandle(scheduleId).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
  });

  it('a freshness schedule runs the read-only check; a bad SLO is refused first', async () => {
    const bad = await createFreshnessSchedule(h.env.client, {
      scheduleId: id('fresh-bad'),
      document: doc,
      every: '1h',
      slo: { maxAge: '1h', amberAfter: '2h' },
    }).then(
      () => undefined,
      (x: unknown) => x as InvalidScheduleOptions,
    );
    expect(bad).toBeInstanceOf(InvalidScheduleOptions);
    expect(bad!.problems.map((p) => p.path)).toEqual(['slo.amberAfter']);
    const s = await createFreshnessSchedule(h.env.client, {
      scheduleId: id('fresh'),
      document: doc,
      every: '1h',
      taskQueue: h.taskQueue,
      slo: { maxAge: '26h' },
    });
    try {
      h.sim.resetCounters();
      const { result } = await h.withWorker(() => triggerAndWait<FreshnessResult>(s));
      expect(result.runbook).toBe('scheduled-vc');
      expect(result.endpoints.map((x) => x.endpoint)).toEqual(['vc-1']);
      expect(h.sim.counters().jobs).toEqual([]);
    } finally {
      await s.delete();
    }
  });
});
