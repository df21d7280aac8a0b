/**
 * The step workflows end to end (real dev server, simulator, worker): each starts exactly one
 * remote job, verifies it and returns a filled StepResult; a failed job, a failed verification and
 * a restore onto an appliance outside its restore stage end the step with the taxonomy's
 * non-retryable failure; an invalid input ends it as InvalidInput before anything starts.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Activities, createActivities } from '../activities';
import type { SddcManagerEndpoint, VcdaEndpoint, VcenterEndpoint } from '../src/contract/endpoints';
import type { StepResult } from '../src/contract/results';
import type { VcenterAppliance } from '../src/simulator/vcenter/appliance';
import { type Harness, createHarness } from './support/harness';
import { configureSddcBackupLocation } from './support/sddc-manager';

interface Run {
  workflowId: string;
  result?: StepResult;
  failure?: ApplicationFailure;
  activities: string[];
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

describe('step workflows (real server, simulator)', () => {
  let h: Harness;
  let act: Activities;
  let vc1: VcenterEndpoint;
  let vc2: VcenterEndpoint;
  let sddc: SddcManagerEndpoint;
  let vcda: VcdaEndpoint;
  const backup = (location: string) => ({
    locationType: 'SFTP' as const,
    location,
    backupPasswordRef: 'env:STEP_BACKUP_PASSWORD',
  });

  beforeAll(async () => {
    h = await createHarness({ vcenters: 2, sddcManagers: 1, vcdas: 1, jobSeconds: 1 });
    const { vcenter, sddcManager, vcda: vcdas, caFile } = h.sim.info;
    process.env.STEP_VC1_PASSWORD = vcenter[0]!.password;
    process.env.STEP_VC2_PASSWORD = vcenter[1]!.password;
    process.env.STEP_SDDC_PASSWORD = sddcManager[0]!.password;
    process.env.STEP_VCDA_PASSWORD = vcdas[0]!.password;
    process.env.STEP_BACKUP_PASSWORD = 'Step#Pass42';
    process.env.STEP_PASSPHRASE = 'a-long-passphrase-for-steps';
    const tls = { caFile: caFile! };
    const endpoint = (i: { url: string; username: string }, name: string, env: string) => ({
      name,
      url: i.url,
      username: i.username,
      passwordRef: `env:${env}`,
      tls,
    });
    vc1 = endpoint(vcenter[0]!, 'vc-1', 'STEP_VC1_PASSWORD');
    vc2 = endpoint(vcenter[1]!, 'vc-2', 'STEP_VC2_PASSWORD');
    sddc = endpoint(sddcManager[0]!, 'sddc-1', 'STEP_SDDC_PASSWORD');
    vcda = endpoint(vcdas[0]!, 'vcda-1', 'STEP_VCDA_PASSWORD');
    // SDDC Manager backups need a configured SFTP location.
    await configureSddcBackupLocation(sddcManager[0]!, tls);
    act = createActivities({ pollIntervalMs: 100, busyRetryDelayMs: 100 });
  });
  afterAll(async () => h?.close());

  /** Runs a workflow to its end: its result or failure, and the activities it scheduled. */
  async function run(workflow: string, input: unknown): Promise<Run> {
    const workflowId = `step-${workflow}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    return h.withWorker(async () => {
      const handle = await h.env.client.workflow.start(workflow, { taskQueue: h.taskQueue, workflowId, args: [input] });
      const out: Run = { workflowId, activities: [] };
      try {
        out.result = (await handle.result()) as StepResult;
      } catch (err) {
        if (!(err instanceof WorkflowFailedError)) throw err;
        const cause = err.cause instanceof ActivityFailure ? err.cause.cause : err.cause;
        out.failure = cause instanceof ApplicationFailure ? cause : undefined;
      }
      const history = await handle.fetchHistory();
      out.activities = (history.events ?? []).flatMap((e) => {
        const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
        return name && name !== 'requestApplianceLease' ? [name] : [];
      });
      return out;
    });
  }

  const jobs = (product: string, appliance: string, kind: string) =>
    h.sim.counters().jobs.filter((j) => j.product === product && j.appliance === appliance && j.kind === kind);

  const once = <T>(fn: () => Promise<T>): Promise<T> => new MockActivityEnvironment().run(fn) as Promise<T>;

  function expectFilled(r: StepResult | undefined, expected: Partial<StepResult>): StepResult {
    expect(r).toMatchObject({ outcome: 'succeeded', attached: false, ...expected });
    expect(r!.startedAt).toMatch(ISO);
    expect(r!.endedAt).toMatch(ISO);
    expect(r!.durationMs).toBeGreaterThanOrEqual(0);
    expect(r!.verification.checks.length).toBeGreaterThanOrEqual(2);
    return r!;
  }

  it('vcenterBackupStep: one job, verified from its details, the stepId in the job marker', async () => {
    h.sim.resetCounters();
    const location = 'sftp://backup.example.com/vc-1-step';
    const o = await run('vcenterBackupStep', {
      endpoint: vc1,
      backup: backup(location),
      pollIntervalMs: 100,
      stepId: 'stage-a/0',
    });
    expect(o.failure).toBeUndefined();
    const [job, ...more] = jobs('vcenter', 'vc-1', 'backup');
    expect(more).toEqual([]);
    const r = expectFilled(o.result, {
      product: 'vcenter',
      action: 'backup',
      appliance: 'vc-1',
      remoteId: job!.id,
      location,
    });
    expect(r.sizeBytes).toBeGreaterThan(0);
    expect(r.verification.checks.join('\n')).toMatch(/SUCCEEDED in the job details/);
    expect(job!.label).toContain(`[vmware-dr:${o.workflowId}/stage-a/0]`);
    expect(o.activities).toEqual(['startVcenterBackup', 'pollVcenterBackup', 'verifyVcenterBackup']);
  });

  it('vcenterRestoreStep: refused by validation outside the restore stage; one restore job inside it', async () => {
    const location = 'sftp://backup.example.com/vc-1-to-restore';
    const source = await run('vcenterBackupStep', { endpoint: vc1, backup: backup(location), pollIntervalMs: 100 });
    expect(source.result?.location).toBe(location);
    h.sim.resetCounters();
    const input = {
      endpoint: vc2,
      restore: { ...backup(location), ignoreWarnings: true },
      pollIntervalMs: 100,
      stepId: 'restore/0',
    };
    const early = await run('vcenterRestoreStep', input);
    expect(early.failure).toMatchObject({ type: 'InvalidArgument', nonRetryable: true });
    expect(early.failure?.message).toMatch(/not applicable.*restore stage/s);
    expect(early.activities).toEqual(['validateVcenterRestore']);
    expect(h.sim.counters().jobs).toEqual([]);

    (h.sim.appliance('vcenter', 'vc-2') as VcenterAppliance).setStage('restore');
    const o = await run('vcenterRestoreStep', input);
    expect(o.failure).toBeUndefined();
    expectFilled(o.result, { product: 'vcenter', action: 'restore', appliance: 'vc-2', remoteId: 'restore' });
    expect(o.result!.verification.checks.join('\n')).toMatch(/applicable.*vc-1\.sim\.local/);
    expect(jobs('vcenter', 'vc-2', 'restore')).toHaveLength(1);
    expect(o.activities).toEqual(['validateVcenterRestore', 'startVcenterRestore', 'pollVcenterRestore']);
  });

  it('sddcManagerBackupStep and sddcManagerRestoreStep: one task each, every subtask checked', async () => {
    h.sim.resetCounters();
    const b = await run('sddcManagerBackupStep', { endpoint: sddc, pollIntervalMs: 100, stepId: 'backup/1' });
    expect(b.failure).toBeUndefined();
    const [task, ...more] = jobs('sddc-manager', 'sddc-1', 'backup');
    expect(more).toEqual([]);
    expectFilled(b.result, { product: 'sddc-manager', action: 'backup', appliance: 'sddc-1', remoteId: task!.id });
    expect(b.result!.verification.checks.join('\n')).toMatch(/all [1-9]\d* subtasks SUCCESSFUL/);
    expect(b.activities).toEqual(['startSddcManagerBackup', 'pollSddcManagerTask', 'verifySddcManagerTask']);

    const r = await run('sddcManagerRestoreStep', {
      endpoint: sddc,
      restore: {
        backupFile: '/tmp/vcf-backup-sddc-1-2026-12-01-00-00-00.tar.gz',
        passphraseRef: 'env:STEP_PASSPHRASE',
      },
      pollIntervalMs: 100,
    });
    expect(r.failure).toBeUndefined();
    const [restore, ...others] = jobs('sddc-manager', 'sddc-1', 'restore');
    expect(others).toEqual([]);
    expectFilled(r.result, { product: 'sddc-manager', action: 'restore', remoteId: restore!.id });
    expect(r.activities.filter((a) => a !== 'pollSddcManagerRestoreTask')).toEqual([
      'startSddcManagerRestore',
      'verifySddcManagerTask',
    ]);
  });

  it('sddcManagerRestoreStep cancelled: its task cannot be cancelled, so the step fails CompensationFailed, saying so', async () => {
    const slow = await createHarness({ vcenters: 0, sddcManagers: 1, jobSeconds: 30 });
    try {
      const a = slow.sim.info.sddcManager[0]!;
      process.env.STEP_SLOW_SDDC_PASSWORD = a.password;
      const tls = { caFile: slow.sim.info.caFile! };
      const endpoint = {
        name: 'sddc-1',
        url: a.url,
        username: a.username,
        passwordRef: 'env:STEP_SLOW_SDDC_PASSWORD',
        tls,
      };
      const err = await slow.withWorker(async () => {
        const handle = await slow.env.client.workflow.start('sddcManagerRestoreStep', {
          taskQueue: slow.taskQueue,
          workflowId: `step-restore-cancel-${Date.now()}`,
          args: [
            {
              endpoint,
              restore: {
                backupFile: '/tmp/vcf-backup-sddc-1-2026-12-01-00-00-00.tar.gz',
                passphraseRef: 'env:STEP_PASSPHRASE',
              },
              pollIntervalMs: 100,
            },
          ],
        });
        while (slow.sim.counters().jobs.length === 0) await new Promise((r) => setTimeout(r, 100));
        await new Promise((r) => setTimeout(r, 500));
        await handle.cancel();
        return handle.result().catch((e: unknown) => e);
      });
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const cause = ((err as WorkflowFailedError).cause as ActivityFailure).cause as ApplicationFailure;
      expect(cause.type).toBe('CompensationFailed');
      expect(cause.message).toMatch(/cannot be cancelled .*runs to its end\. Fix: /);
      expect(slow.sim.counters().calls['sddc-manager']?.['sddc-1']?.cancelTask).toBeUndefined();
    } finally {
      delete process.env.STEP_SLOW_SDDC_PASSWORD;
      await slow.close();
    }
  });

  it('vcdaBackupStep: one task, the backup id and hash recorded', async () => {
    h.sim.resetCounters();
    const o = await run('vcdaBackupStep', { endpoint: vcda, pollIntervalMs: 100 });
    expect(o.failure).toBeUndefined();
    const [task, ...more] = jobs('vcda', 'vcda-1', 'backup');
    expect(more).toEqual([]);
    const r = expectFilled(o.result, { product: 'vcda', action: 'backup', appliance: 'vcda-1', remoteId: task!.id });
    expect(r.hash).toMatch(/\S{16,}/);
    expect(r.location).toBeTruthy();
  });

  it('a job that ends FAILED fails its step (RemoteJobFailed), and verification refuses a failed job', async () => {
    h.sim.resetCounters();
    h.sim.faults.add({ product: 'vcenter', operation: 'backupJobCreate', action: { kind: 'jobFailed' } });
    const vc = await run('vcenterBackupStep', { endpoint: vc1, backup: backup('sftp://b/fail'), pollIntervalMs: 100 });
    expect(vc.failure).toMatchObject({ type: 'RemoteJobFailed', nonRetryable: true });
    expect(vc.activities).not.toContain('verifyVcenterBackup');
    const [failedJob] = jobs('vcenter', 'vc-1', 'backup');
    const refused = await once(() => act.verifyVcenterBackup({ endpoint: vc1, jobId: failedJob!.id })).catch(
      (e: unknown) => e,
    );
    expect(refused).toMatchObject({ type: 'RemoteJobFailed', nonRetryable: true });
    expect((refused as Error).message).toMatch(/is FAILED in the job details/);

    h.sim.faults.add({ product: 'sddc-manager', operation: 'startBackup', action: { kind: 'jobFailed' } });
    const s = await run('sddcManagerBackupStep', { endpoint: sddc, pollIntervalMs: 100 });
    expect(s.failure).toMatchObject({ type: 'RemoteJobFailed', nonRetryable: true });
    const [failedTask] = jobs('sddc-manager', 'sddc-1', 'backup');
    const notOk = await once(() => act.verifySddcManagerTask({ endpoint: sddc, taskId: failedTask!.id })).catch(
      (e: unknown) => e,
    );
    expect(notOk).toMatchObject({ type: 'RemoteJobFailed', nonRetryable: true });

    h.sim.faults.add({ product: 'vcda', operation: 'backupCreate', action: { kind: 'jobFailed' } });
    const v = await run('vcdaBackupStep', { endpoint: vcda, pollIntervalMs: 100 });
    expect(v.failure).toMatchObject({ type: 'RemoteJobFailed', nonRetryable: true });
    expect(h.sim.counters().jobs).toHaveLength(3);
  });

  it('an invalid input ends every step workflow as InvalidInput, naming the field, before anything starts', async () => {
    h.sim.resetCounters();
    const cases: [string, unknown, RegExp][] = [
      ['vcenterBackupStep', { endpoint: vc1, backup: backup('sftp://b/x'), stepId: 'two words' }, /stepId: must be/],
      [
        'vcenterRestoreStep',
        { endpoint: vc2, restore: { ...backup('sftp://b/x'), ssoAdminPassword: 'x' } },
        /unknown field "ssoAdminPassword".*rotate it/,
      ],
      ['vcenterRestoreStep', { endpoint: vc2, restore: { locationType: 'SFTP' } }, /restore\.location/],
      ['sddcManagerBackupStep', { endpoint: sddc, stepId: '' }, /stepId/],
      [
        'sddcManagerRestoreStep',
        { endpoint: sddc, restore: { backupFile: 'relative.tar.gz', passphraseRef: 'Literal#1' } },
        /restore\.backupFile: must be an absolute path.*restore\.passphraseRef: must be a secret reference/s,
      ],
      ['vcdaBackupStep', { endpoint: vcda, stepId: 'x'.repeat(201) }, /stepId/],
    ];
    for (const [workflow, input, message] of cases) {
      const o = await run(workflow, input);
      expect(o.failure, workflow).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
      expect(o.failure?.message).toMatch(message);
      expect(o.activities).toEqual([]);
    }
    expect(h.sim.counters().jobs).toEqual([]);
  });
});
