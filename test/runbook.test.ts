/**
 * `drRunbook` end to end on a real Temporal server against the simulator: the full-site backup
 * (SDDC Manager → 2 vCenters → VCDA), a failed step stopping later stages, cancel with remote
 * cancel, approvals (granted, refused by the validator, rejected, timed out), and a dry run that
 * changes nothing.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunbookDocument } from '../src/contract/runbook/document';
import type { RunbookReport } from '../src/contract/runbook/report';
import type { VcenterAppliance } from '../src/simulator/vcenter/appliance';
import { approveUpdate, progressQuery, rejectUpdate } from '../src/contract/messages';
import { simulatedEndpoint } from './support/endpoints';
import { type Harness, createHarness } from './support/harness';
import { startWebhook } from './support/webhook';

describe('drRunbook (real server, simulator)', () => {
  let h: Harness;
  let site: RunbookDocument;

  beforeAll(async () => {
    h = await createHarness({ vcenters: 3, sddcManagers: 1, vcdas: 1, jobSeconds: 1 });
    const { vcenter, sddcManager, vcda } = h.sim.info;
    vcenter.forEach((v, i) => (process.env[`RB_VC${i + 1}_PASSWORD`] = v.password));
    process.env.RB_SDDC_PASSWORD = sddcManager[0]!.password;
    process.env.RB_VCDA_PASSWORD = vcda[0]!.password;
    process.env.RB_BACKUP_PASSWORD = 'Good#Pass1';
    process.env.RB_SFTP_PASSWORD = 'sftp-secret';
    const vc = (i: number) => simulatedEndpoint('vcenter', vcenter[i]!, `env:RB_VC${i + 1}_PASSWORD`);
    site = {
      apiVersion: 'vmware-dr/v1',
      kind: 'Runbook',
      name: 'site-a-nightly',
      site: 'site-a',
      defaults: { pollInterval: '100ms' },
      endpoints: {
        'sddc-a': simulatedEndpoint('sddc-manager', sddcManager[0]!, 'env:RB_SDDC_PASSWORD'),
        'vc-1': vc(0),
        'vc-2': vc(1),
        'vcda-a': simulatedEndpoint('vcda', vcda[0]!, 'env:RB_VCDA_PASSWORD'),
      },
      locations: {
        'sftp-a': {
          type: 'SFTP',
          url: 'sftp://backup.example.com/vcsa',
          username: 'backup',
          passwordRef: 'env:RB_SFTP_PASSWORD',
          encryptionPasswordRef: 'env:RB_BACKUP_PASSWORD',
        },
      },
      stages: [
        { name: 'sddc-manager', steps: [{ backup: 'sddc-a' }] },
        {
          name: 'vcenters',
          startWithin: '5m',
          steps: [
            { backup: 'vc-1', to: 'sftp-a' },
            { backup: 'vc-2', to: 'sftp-a' },
          ],
        },
        { name: 'vcda', steps: [{ backup: 'vcda-a' }] },
      ],
    };
  });
  afterAll(async () => h?.close());

  const start = (
    doc: unknown,
    options: unknown = {},
    id = `rb-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`,
  ) =>
    h.env.client.workflow.start<(d: unknown, o: unknown) => Promise<RunbookReport>>('drRunbook', {
      taskQueue: h.taskQueue,
      workflowId: id,
      args: [doc, options],
    });
  const jobs = () => h.sim.counters().jobs;
  /** The run as another person sees it: their decisions carry their own client identity (four eyes). */
  const as = (who: string, handle: { workflowId: string }) => h.as(who).workflow.getHandle(handle.workflowId);

  it('the full-site backup succeeds: one remote job per step, stages in order, an honest report', async () => {
    h.sim.resetCounters();
    const { report, description } = await h.withWorker(async () => {
      const handle = await start(site);
      const r = await handle.result();
      return { report: r, description: await handle.describe() };
    });
    expect(report.outcome).toBe('succeeded');
    // Visibility: search attributes kept current (the dev server registers them) and a memo summary.
    const sa = description.typedSearchAttributes;
    const value = (name: string) => sa.getAll().find((p) => p.key.name === name)?.value;
    expect(value('VmwareDrRunbook')).toBe('site-a-nightly');
    expect(value('VmwareDrSite')).toBe('site-a');
    expect(value('VmwareDrOutcome')).toBe('succeeded');
    expect(value('VmwareDrStage')).toBe('vcda');
    expect([...((value('VmwareDrProduct') as string[]) ?? [])].sort()).toEqual(['sddc-manager', 'vcda', 'vcenter']);
    expect(description.memo?.runbook).toMatchObject({ name: 'site-a-nightly', site: 'site-a' });
    // One consistent recovery point: the backups of this run belong together.
    expect(report.recoveryPoint?.members.map((m) => m.endpoint).sort()).toEqual(['sddc-a', 'vc-1', 'vc-2', 'vcda-a']);
    expect(report.steps.map((s) => [s.id, s.endpoint, s.state])).toEqual([
      ['1.1', 'sddc-a', 'succeeded'],
      ['2.1', 'vc-1', 'succeeded'],
      ['2.2', 'vc-2', 'succeeded'],
      ['3.1', 'vcda-a', 'succeeded'],
    ]);
    const started = jobs().filter((j) => j.kind === 'backup');
    expect(started.map((j) => `${j.product}/${j.appliance}`).sort()).toEqual([
      'sddc-manager/sddc-1',
      'vcda/vcda-1',
      'vcenter/vc-1',
      'vcenter/vc-2',
    ]);
    for (const s of report.steps) expect(started.map((j) => j.id)).toContain(s.remoteId);
    // Stage order: the SDDC Manager backup ended before the vCenters started, which ended before VCDA.
    const at = (id: string, f: 'startedAt' | 'endedAt') => Date.parse(report.steps.find((s) => s.id === id)![f]!);
    expect(at('1.1', 'endedAt')).toBeLessThanOrEqual(Math.min(at('2.1', 'startedAt'), at('2.2', 'startedAt')) + 1000);
    expect(Math.max(at('2.1', 'endedAt'), at('2.2', 'endedAt'))).toBeLessThanOrEqual(at('3.1', 'startedAt') + 1000);
    expect(report.steps.find((s) => s.id === '3.1')!.hash).toMatch(/^SHA-512:([0-9A-F]{2}:){63}[0-9A-F]{2}$/i);
  });

  it('a vCenter job that fails stops the later stages; the finished SDDC Manager backup is reported as done', async () => {
    h.sim.resetCounters();
    h.sim.faults.add({
      product: 'vcenter',
      appliance: 'vc-2',
      operation: 'backupJobCreate',
      action: { kind: 'jobFailed' },
    });
    const report = await h.withWorker(async () => (await start(site)).result());
    expect(report.outcome).toBe('partial');
    const state = Object.fromEntries(report.steps.map((s) => [s.endpoint, s.state]));
    expect(state).toEqual({ 'sddc-a': 'succeeded', 'vc-1': 'succeeded', 'vc-2': 'failed', 'vcda-a': 'skipped' });
    expect(report.steps.find((s) => s.endpoint === 'vc-2')!.error?.type).toBe('RemoteJobFailed');
    expect(jobs().filter((j) => j.product === 'vcda')).toEqual([]);
  });

  it('cancel mid-run: the running job is cancelled on the appliance, the report says cancelled', async () => {
    const slow = await createHarness({ vcenters: 1, jobSeconds: 30 });
    try {
      const v = slow.sim.info.vcenter[0]!;
      process.env.RB_SLOW_PASSWORD = v.password;
      const doc = {
        ...site,
        endpoints: {
          'vc-1': simulatedEndpoint('vcenter', v, 'env:RB_SLOW_PASSWORD'),
        },
        stages: [
          { name: 'vcenters', steps: [{ backup: 'vc-1', to: 'sftp-a' }] },
          { name: 'after', steps: [{ backup: 'vc-1', to: 'sftp-a' }] },
        ],
      };
      const report = await slow.withWorker(async () => {
        const handle = await slow.env.client.workflow.start('drRunbook', {
          taskQueue: slow.taskQueue,
          workflowId: `rb-cancel-${Date.now()}`,
          args: [doc, {}],
        });
        for (let i = 0; i < 200 && (await handle.query(progressQuery)).steps[0]!.state !== 'running'; i++)
          await new Promise((r) => setTimeout(r, 100));
        while (slow.sim.counters().jobs.length === 0) await new Promise((r) => setTimeout(r, 100));
        await new Promise((r) => setTimeout(r, 500));
        await handle.cancel();
        return (await handle.result()) as RunbookReport;
      });
      expect(report.outcome).toBe('cancelled');
      expect(report.steps.map((s) => s.state)).toEqual(['cancelled', 'skipped']);
      expect(report.compensations).toEqual([expect.objectContaining({ step: '1.1', outcome: 'done' })]);
      expect(slow.sim.counters().calls.vcenter?.['vc-1']?.backupJobCancel).toBe(1);
      expect(slow.sim.counters().jobs).toHaveLength(1);
    } finally {
      await slow.close();
    }
  });

  it('cancel of a VCDA step: the report says no compensation is possible (VCDA cannot cancel a backup task)', async () => {
    const slow = await createHarness({ vcenters: 0, vcdas: 1, jobSeconds: 30 });
    try {
      const a = slow.sim.info.vcda[0]!;
      process.env.RB_SLOW_VCDA_PASSWORD = a.password;
      const doc = {
        ...site,
        endpoints: { 'vcda-a': simulatedEndpoint('vcda', a, 'env:RB_SLOW_VCDA_PASSWORD') },
        stages: [{ name: 'vcda', steps: [{ backup: 'vcda-a' }] }],
      };
      const report = await slow.withWorker(async () => {
        const handle = await slow.env.client.workflow.start('drRunbook', {
          taskQueue: slow.taskQueue,
          workflowId: `rb-cancel-vcda-${Date.now()}`,
          args: [doc, {}],
        });
        while ((slow.sim.counters().calls.vcda?.['vcda-1']?.taskGet ?? 0) === 0)
          await new Promise((r) => setTimeout(r, 100));
        await handle.cancel();
        return (await handle.result()) as RunbookReport;
      });
      expect(report.outcome).toBe('cancelled');
      expect(report.steps[0]!.state).toBe('cancelled');
      expect(report.compensations).toEqual([
        expect.objectContaining({
          step: '1.1',
          outcome: 'not-needed',
          action: expect.stringContaining('VCDA has no API'),
        }),
      ]);
    } finally {
      delete process.env.RB_SLOW_VCDA_PASSWORD;
      await slow.close();
    }
  });

  it('cancel whose compensation the appliance refuses: the step is failed and the report says the compensation failed', async () => {
    const slow = await createHarness({ vcenters: 1, jobSeconds: 30 });
    try {
      const v = slow.sim.info.vcenter[0]!;
      process.env.RB_SLOW_PASSWORD = v.password;
      slow.sim.faults.add({
        product: 'vcenter',
        appliance: 'vc-1',
        operation: 'backupJobCancel',
        count: 3,
        action: { kind: 'status', status: 403 },
      });
      const doc = {
        ...site,
        endpoints: {
          'vc-1': simulatedEndpoint('vcenter', v, 'env:RB_SLOW_PASSWORD'),
        },
        stages: [{ name: 'vcenters', steps: [{ backup: 'vc-1', to: 'sftp-a' }] }],
      };
      const report = await slow.withWorker(async () => {
        const handle = await slow.env.client.workflow.start('drRunbook', {
          taskQueue: slow.taskQueue,
          workflowId: `rb-cancel-refused-${Date.now()}`,
          args: [doc, {}],
        });
        while ((slow.sim.counters().calls.vcenter?.['vc-1']?.backupJobGet ?? 0) === 0)
          await new Promise((r) => setTimeout(r, 100));
        await handle.cancel();
        return (await handle.result()) as RunbookReport;
      });
      expect(report.outcome).toBe('cancelled');
      expect(report.steps[0]).toMatchObject({ state: 'failed', error: { type: 'CompensationFailed' } });
      expect(report.compensations).toEqual([
        expect.objectContaining({
          step: '1.1',
          outcome: 'failed',
          error: expect.objectContaining({ type: 'CompensationFailed' }),
        }),
      ]);
      expect(report.compensations[0]!.error!.message).toMatch(/may still be running.*Fix: /);
      expect(slow.sim.counters().calls.vcenter?.['vc-1']?.backupJobCancel).toBe(1);
    } finally {
      await slow.close();
    }
  });

  describe('approvals of a vCenter restore', () => {
    const restoreDoc = (): RunbookDocument => ({
      ...site,
      name: 'restore-vc-3',
      endpoints: {
        'vc-3': simulatedEndpoint('vcenter', h.sim.info.vcenter[2]!, 'env:RB_VC3_PASSWORD'),
      },
      stages: [
        {
          name: 'restore',
          steps: [
            { restore: 'vc-3', from: 'sftp-a', archive: 'latest', systemName: 'vc-1.sim.local', ignoreWarnings: true },
          ],
        },
      ],
    });

    beforeAll(async () => {
      // A backup of vc-1 to restore from, and vc-3 freshly "deployed" (restore stage).
      const seed = { ...site, stages: [{ name: 'seed', steps: [{ backup: 'vc-1', to: 'sftp-a' }] }] };
      expect((await h.withWorker(async () => (await start(seed)).result())).outcome).toBe('succeeded');
      (h.sim.appliance('vcenter', 'vc-3') as VcenterAppliance).setStage('restore');
    });

    it('waits for approval; the validator refuses a bad update (no history); an approval runs the restore', async () => {
      h.sim.resetCounters();
      const report = await h.withWorker(async () => {
        const handle = await start(restoreDoc());
        while ((await handle.query(progressQuery)).steps[0]!.state !== 'waiting-approval')
          await new Promise((r) => setTimeout(r, 100));
        await expect(
          as('alice', handle).executeUpdate(approveUpdate, { args: [{ step: '9.9', by: 'alice' }] }),
        ).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
        const noApprover = await as('alice', handle)
          .executeUpdate(approveUpdate, { args: [{ step: '1.1', by: '' }] })
          .catch((e: unknown) => e as WorkflowUpdateFailedError);
        expect(noApprover).toBeInstanceOf(WorkflowUpdateFailedError);
        expect((noApprover as WorkflowUpdateFailedError).cause?.message).toMatch(/by: who decides/);
        expect(jobs()).toEqual([]);
        await as('alice', handle).executeUpdate(approveUpdate, {
          args: [{ step: '1.1', by: 'alice', comment: 'change CHG-1' }],
        });
        const r = await handle.result();
        const history = await handle.fetchHistory();
        const updates = (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
        expect(updates).toHaveLength(1);
        return r;
      });
      expect(report.steps[0]!.error).toBeUndefined();
      expect(report.outcome).toBe('succeeded');
      expect(report.approvals).toEqual([
        expect.objectContaining({ step: '1.1', by: 'alice', decision: 'approved', comment: 'change CHG-1' }),
      ]);
      expect(jobs().filter((j) => j.kind === 'restore' && j.appliance === 'vc-3')).toHaveLength(1);
    });

    it('a rejection ends the run rejected, and a missing approval fails safe at its timeout', async () => {
      h.sim.resetCounters();
      // Freshly deployed again (the approval test restored it): the restore is validated before its approval.
      (h.sim.appliance('vcenter', 'vc-3') as VcenterAppliance).setStage('restore');
      const rejected = await h.withWorker(async () => {
        const handle = await start(restoreDoc());
        while ((await handle.query(progressQuery)).steps[0]!.state !== 'waiting-approval')
          await new Promise((r) => setTimeout(r, 100));
        await as('bob', handle).executeUpdate(rejectUpdate, {
          args: [{ step: '1.1', by: 'bob', reason: 'wrong archive' }],
        });
        return handle.result();
      });
      expect(rejected.outcome).toBe('rejected');
      expect(rejected.steps[0]!.state).toBe('rejected');
      const timedOut = await h.withWorker(async () => (await start(restoreDoc(), { approvalTimeout: '2s' })).result());
      expect(timedOut.outcome).toBe('failed');
      expect(timedOut.steps[0]!.error?.type).toBe('ApprovalTimeout');
      expect(jobs()).toEqual([]);
    });
  });

  it('a dry run checks every endpoint, plans every step and changes nothing', async () => {
    h.sim.resetCounters();
    const report = await h.withWorker(async () => (await start(site, { dryRun: true })).result());
    expect(report.outcome).toBe('dry-run');
    expect(report.steps.every((s) => s.state === 'planned' && /checked: login/.test(s.plan ?? ''))).toBe(true);
    expect(jobs()).toEqual([]);
    const calls = h.sim.counters().calls;
    const changing = Object.values(calls).flatMap((byAppliance) =>
      Object.values(byAppliance ?? {}).flatMap((ops) =>
        Object.keys(ops ?? {}).filter(
          (op) =>
            /Create$|^start|Cancel$|^set|Update$|^schedule(Create|Run)|retry/i.test(op) && !/^session|^token/i.test(op),
        ),
      ),
    );
    expect(changing).toEqual([]);
  });

  it('notifies its webhooks (URL by reference) and a failing hook never fails the run', async () => {
    const hook = await startWebhook();
    const bodies = hook.bodies;
    process.env.RB_HOOK = `${hook.url}/hook-token-123`;
    process.env.RB_BROKEN_HOOK = `${hook.url}/broken`;
    try {
      const doc = {
        ...site,
        notify: [
          { urlRef: 'env:RB_HOOK', on: ['succeeded', 'failed'] },
          { urlRef: 'env:RB_BROKEN_HOOK', on: ['succeeded'] },
        ],
        stages: [{ name: 'vcda', steps: [{ backup: 'vcda-a' }] }],
      };
      const report = await h.withWorker(async () => (await start(doc)).result(), { requestTimeoutMs: 5_000 });
      expect(report.outcome).toBe('succeeded');
      const ok = bodies.find((b) => b.event === 'succeeded' && b.runbook === 'site-a-nightly');
      expect(ok?.text).toMatch(/^site-a-nightly: succeeded/);
      expect(JSON.stringify(bodies)).not.toContain('hook-token-123');
    } finally {
      await hook.close();
    }
  });

  it('an invalid document ends the run as InvalidInput naming every problem', async () => {
    const bad = { ...site, stages: [{ name: 'x', steps: [{ backup: 'nope' }, { restore: 'vcda-a' }] }] };
    const err = await h.withWorker(async () => (await start(bad)).result()).catch((e: unknown) => e as Error);
    expect(String((err as { cause?: Error }).cause?.message)).toMatch(
      /stages\[0\]\.steps\[0\]\.backup: unknown endpoint "nope".*stages\[0\]\.steps\[1\]\.restore: vcda cannot restore/,
    );
  });
});
