/**
 * Restore from a recovery point, on the real dev server against the simulator: a backup runbook
 * run's report records its recovery point; a restore runbook names that run
 * (`archive: { recoveryPoint, endpoint }`) and restores exactly the archive that run's backup made,
 * not the latest one. Unknown sets, failed sets and sets without the endpoint's backup are refused
 * before any state-changing call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunbookDocument } from '../src/contract/runbook/document';
import type { RunbookReport } from '../src/contract/runbook/report';
import type { VcenterAppliance } from '../src/simulator/vcenter/appliance';
import { simulatedEndpoint } from './support/endpoints';
import { type Harness, createHarness } from './support/harness';

const ENV = ['RP_VC1_PASSWORD', 'RP_VC2_PASSWORD', 'RP_BACKUP_PASSWORD'] as const;

describe('restore from a recovery point (real server, simulator)', () => {
  let h: Harness;
  let backupDoc: RunbookDocument;
  let restoreDoc: (archive: unknown) => RunbookDocument;
  const envBefore = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
  /** Runs a runbook to its report (inside `h.withWorker`: one worker per test keeps it fast). */
  const run = (doc: unknown, id: string) =>
    h.env.client.workflow.execute<(d: unknown) => Promise<RunbookReport>>('drRunbook', {
      taskQueue: h.taskQueue,
      workflowId: id,
      args: [doc],
    });
  const suffix = () => `${Date.now()}-${Math.random().toString(36).slice(2, 6)}`;

  beforeAll(async () => {
    h = await createHarness({ vcenters: 2, jobSeconds: 1 });
    const [vc1, vc2] = h.sim.info.vcenter;
    process.env.RP_VC1_PASSWORD = vc1!.password;
    process.env.RP_VC2_PASSWORD = vc2!.password;
    process.env.RP_BACKUP_PASSWORD = 'Good#Pass1';
    const location = {
      type: 'SFTP' as const,
      url: 'sftp://backup.example.com/rp',
      encryptionPasswordRef: 'env:RP_BACKUP_PASSWORD',
    };
    backupDoc = {
      apiVersion: 'vmware-dr/v1',
      kind: 'Runbook',
      name: 'rp-backup',
      defaults: { pollInterval: '100ms' },
      endpoints: {
        'vc-1': simulatedEndpoint('vcenter', vc1!, 'env:RP_VC1_PASSWORD'),
      },
      locations: { 'sftp-a': location },
      stages: [{ name: 'vcenters', steps: [{ backup: 'vc-1', to: 'sftp-a' }] }],
    };
    restoreDoc = (archive) =>
      ({
        apiVersion: 'vmware-dr/v1',
        kind: 'Runbook',
        name: 'rp-restore',
        defaults: { pollInterval: '100ms' },
        endpoints: { 'vc-new': simulatedEndpoint('vcenter', vc2!, 'env:RP_VC2_PASSWORD') },
        locations: { 'sftp-a': location },
        stages: [
          {
            name: 'restore',
            steps: [{ restore: 'vc-new', from: 'sftp-a', archive, approval: 'none', ignoreWarnings: true }],
          },
        ],
      }) as RunbookDocument;
  });
  afterAll(async () => {
    await h?.close();
    for (const k of ENV) {
      if (envBefore[k] === undefined) delete process.env[k];
      else process.env[k] = envBefore[k];
    }
  });

  it('restores exactly the archive the named backup run made, not the latest', () =>
    h.withWorker(async () => {
      const pointId = `rp-backup-${suffix()}`;
      const point = await run(backupDoc, pointId);
      expect(point.outcome).toBe('succeeded');
      expect(point.recoveryPoint?.members).toEqual([expect.objectContaining({ step: '1.1', endpoint: 'vc-1' })]);
      // A later backup: now `latest` would be another archive.
      const later = await run(backupDoc, `rp-backup-later-${suffix()}`);
      expect(later.outcome).toBe('succeeded');
      (h.sim.appliance('vcenter', 'vc-2') as VcenterAppliance).setStage('restore');
      h.sim.resetCounters();

      // A dry run resolves the same archive, read only.
      const dry = await h.env.client.workflow.execute<(d: unknown, o: unknown) => Promise<RunbookReport>>('drRunbook', {
        taskQueue: h.taskQueue,
        workflowId: `rp-dry-${suffix()}`,
        args: [restoreDoc({ recoveryPoint: pointId, endpoint: 'vc-1' }), { dryRun: true }],
      });
      expect(dry.outcome).toBe('dry-run');
      expect(dry.steps[0]!.plan).toContain(`(recovery point ${pointId}: backup ${point.steps[0]!.remoteId} of vc-1)`);
      expect(h.sim.counters().jobs).toEqual([]);

      const report = await run(restoreDoc({ recoveryPoint: pointId, endpoint: 'vc-1' }), `rp-restore-${suffix()}`);
      expect(report.steps[0]!.error).toBeUndefined();
      expect(report.outcome).toBe('succeeded');
      const restores = h.sim.counters().jobs.filter((j) => j.kind === 'restore');
      expect(restores).toHaveLength(1);
      expect(restores[0]!.appliance).toBe('vc-2');
      // The simulator's archive folder is named for its backup job's start (job id `<stamp>-<build>`).
      const stampOf = (jobId: string) => jobId.split('-').slice(0, 2).join('-');
      const pointJob = point.steps[0]!.remoteId!;
      const laterJob = later.steps[0]!.remoteId!;
      expect(stampOf(pointJob)).not.toBe(stampOf(laterJob));
      expect(restores[0]!.label).toContain(`_${stampOf(pointJob)}_`);
      expect(restores[0]!.label).not.toContain(stampOf(laterJob));
      expect(report.steps[0]!.location).toBe(restores[0]!.label);
    }));

  it('refuses an unknown set, a failed set and a set without the backup, before any state-changing call', () =>
    h.withWorker(async () => {
      h.sim.faults.add({
        product: 'vcenter',
        appliance: 'vc-1',
        operation: 'backupJobCreate',
        action: { kind: 'jobFailed' },
      });
      const failedId = `rp-failed-${suffix()}`;
      expect((await run(backupDoc, failedId)).outcome).toBe('failed');
      const goodId = `rp-good-${suffix()}`;
      expect((await run(backupDoc, goodId)).outcome).toBe('succeeded');
      (h.sim.appliance('vcenter', 'vc-2') as VcenterAppliance).setStage('restore');
      h.sim.resetCounters();

      const cases: [archive: unknown, message: RegExp][] = [
        [{ recoveryPoint: `rp-nothing-${suffix()}`, endpoint: 'vc-1' }, /no workflow run has this id/],
        [{ recoveryPoint: failedId, endpoint: 'vc-1' }, /ended failed: its backups are not a complete set/],
        // Default endpoint: the restore step's own name (vc-new), which that run did not back up.
        [{ recoveryPoint: goodId }, /has no vCenter backup of vc-new; it holds vc-1 \(vcenter\)/],
      ];
      for (const [archive, message] of cases) {
        const report = await run(restoreDoc(archive), `rp-refused-${suffix()}`);
        expect(report.outcome).toBe('failed');
        expect(report.steps[0]!.state).toBe('failed');
        expect(report.steps[0]!.error?.type).toBe('RecoveryPointUnusable');
        expect(report.steps[0]!.error?.message).toMatch(message);
      }
      // Nothing was started, validated or even logged in to on the appliance to restore.
      expect(h.sim.counters().jobs).toEqual([]);
      expect(h.sim.counters().calls.vcenter?.['vc-2'] ?? {}).toEqual({});
    }));
});
