/**
 * The remaining activities, run in MockActivityEnvironment against the simulator over real HTTPS:
 * schedules, validation, cancel, vCenter restore through its service-restart window, SDDC Manager
 * backup configuration, retry, cancel and restore. Retries are driven the way Temporal drives them:
 * a retryable ApplicationFailure runs the activity again with the last heartbeat details.
 */
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Activities, createActivities } from '../activities';
import type { SddcManagerEndpoint, VcenterEndpoint } from '../src/contract/endpoints';
import { type Simulator, startSimulator } from '../src/simulator/server';
import type { VcenterAppliance } from '../src/simulator/vcenter/appliance';

/** Runs `fn` like Temporal would: retryable failures run again with the last heartbeat details. */
async function withRetries<T>(fn: () => Promise<T>, maxAttempts = 30): Promise<{ result: T; attempts: number }> {
  let details: unknown;
  for (let attempt = 1; ; attempt++) {
    const env = new MockActivityEnvironment({ attempt, heartbeatDetails: details, heartbeatTimeoutMs: 30_000 });
    env.on('heartbeat', (d: unknown) => (details = d));
    try {
      return { result: (await env.run(fn)) as T, attempts: attempt };
    } catch (err) {
      if (!(err instanceof ApplicationFailure) || err.nonRetryable || attempt >= maxAttempts) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const once = <T>(fn: () => Promise<T>, attempt = 1): Promise<T> =>
  new MockActivityEnvironment({ attempt }).run(fn) as Promise<T>;

describe('remaining activities against the simulator', () => {
  let sim: Simulator;
  let act: Activities;
  let vc: VcenterEndpoint;
  let vc2: VcenterEndpoint;
  let sddc: SddcManagerEndpoint;
  const step = (id: string) => ({ id, startedAt: new Date().toISOString() });

  beforeAll(async () => {
    sim = await startSimulator({ vcenters: 2, sddcManagers: 1, jobSeconds: 1.5 });
    const { vcenter, sddcManager, caFile } = sim.info;
    process.env.OPS_VC1 = vcenter[0]!.password;
    process.env.OPS_VC2 = vcenter[1]!.password;
    process.env.OPS_SDDC = sddcManager[0]!.password;
    process.env.OPS_BACKUP_PW = 'Restore#Me42';
    process.env.OPS_SFTP_PW = 'sftp-pass';
    process.env.OPS_PASSPHRASE = 'a-long-passphrase-1';
    const tls = { caFile: caFile! };
    vc = { name: 'vc-1', url: vcenter[0]!.url, username: vcenter[0]!.username, passwordRef: 'env:OPS_VC1', tls };
    vc2 = { name: 'vc-2', url: vcenter[1]!.url, username: vcenter[1]!.username, passwordRef: 'env:OPS_VC2', tls };
    sddc = {
      name: 'sddc-1',
      url: sddcManager[0]!.url,
      username: sddcManager[0]!.username,
      passwordRef: 'env:OPS_SDDC',
      tls,
    };
    act = createActivities({ pollIntervalMs: 100, busyRetryDelayMs: 100 });
  });
  afterAll(async () => sim?.close());

  const calls = (product: string, name: string) => sim.counters().calls[product]?.[name] ?? {};

  it('setVcenterSchedule creates the schedule, then updates it', async () => {
    const schedule = {
      location: 'sftp://b/sched',
      locationUser: 'u',
      locationPasswordRef: 'env:OPS_SFTP_PW',
      recurrence: { hour: 2, minute: 30, days: ['MONDAY' as const] },
      retainCount: 7,
    };
    expect(await once(() => act.setVcenterSchedule({ endpoint: vc, schedule }))).toEqual({
      scheduleId: 'default',
      action: 'created',
    });
    expect(
      await once(() => act.setVcenterSchedule({ endpoint: vc, schedule: { ...schedule, retainCount: 3 } })),
    ).toEqual({ scheduleId: 'default', action: 'updated' });
    expect(calls('vcenter', 'vc-1')).toMatchObject({ scheduleCreate: 1, scheduleUpdate: 1 });
  });

  it('validateVcenterBackup answers OK for a good request and fails non-retryable on a bad password', async () => {
    const ok = await once(() =>
      act.validateVcenterBackup({
        endpoint: vc,
        backup: { locationType: 'SFTP', location: 'sftp://b/v', backupPasswordRef: 'env:OPS_BACKUP_PW' },
      }),
    );
    expect(ok.status).toBe('OK');
    process.env.OPS_WEAK = 'weak';
    const err = await once(() =>
      act.validateVcenterBackup({
        endpoint: vc,
        backup: { locationType: 'SFTP', location: 'sftp://b/v', backupPasswordRef: 'env:OPS_WEAK' },
      }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('InvalidArgument');
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
  });

  it('a secret reference that does not resolve fails for good, naming the field', async () => {
    const err = await once(() =>
      act.validateVcenterBackup({
        endpoint: vc,
        backup: { locationType: 'SFTP', location: 'sftp://b/v', backupPasswordRef: 'env:OPS_NOT_SET' },
      }),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'ConfigurationError', nonRetryable: true });
    expect((err as Error).message).toContain('backup.backupPasswordRef');
  });

  it('tls.insecure works but warns through the activity logger on every connection', async () => {
    const warnings: string[] = [];
    const logger = { log() {}, trace() {}, debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} };
    const fresh = createActivities({ pollIntervalMs: 100 });
    const insecure = { ...vc, tls: { insecure: true } };
    const env = new MockActivityEnvironment({}, { logger });
    const r = (await env.run(() =>
      fresh.validateVcenterBackup({ endpoint: insecure, backup: { locationType: 'NFS', location: 'nfs://n/x' } }),
    )) as { status: string };
    expect(r.status).toBe('OK');
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings[0]).toMatch(/TLS certificate verification is DISABLED for vcenter vc-1/);
  });

  it('cancelVcenterJob cancels a running backup job', async () => {
    const started = await once(() =>
      act.startVcenterBackup({
        endpoint: vc2,
        backup: { locationType: 'NFS', location: 'nfs://n/cancel-me' },
        step: step('cancel'),
      }),
    );
    const r = await once(() => act.cancelVcenterJob({ endpoint: vc2, jobId: started.jobId }));
    expect(r.status).toBe('OK');
    const polled = await once(() => act.pollVcenterBackup({ endpoint: vc2, jobId: started.jobId })).catch(
      (e: unknown) => e,
    );
    expect(polled).toMatchObject({ type: 'RemoteJobFailed', nonRetryable: true });
  });

  it('vCenter restore: validate, start on a freshly deployed appliance, poll through the service restart', async () => {
    // A backup of vc-1 to restore from.
    const backup = {
      locationType: 'SFTP' as const,
      location: 'sftp://b/vc-1-full',
      backupPasswordRef: 'env:OPS_BACKUP_PW',
    };
    const started = await once(() => act.startVcenterBackup({ endpoint: vc, backup, step: step('to-restore') }));
    await withRetries(() => act.pollVcenterBackup({ endpoint: vc, jobId: started.jobId }));

    const restore = {
      locationType: 'SFTP' as const,
      location: 'sftp://b/vc-1-full',
      backupPasswordRef: 'env:OPS_BACKUP_PW',
      ignoreWarnings: true,
    };
    // Not in the restore stage: refused for good.
    const refused = await once(() =>
      act.startVcenterRestore({ endpoint: vc2, restore, step: step('restore-early') }),
    ).catch((e: unknown) => e);
    expect(refused).toMatchObject({ type: 'WrongState', nonRetryable: true });

    (sim.appliance('vcenter', 'vc-2') as VcenterAppliance).setStage('restore');
    const validation = await once(() => act.validateVcenterRestore({ endpoint: vc2, restore }));
    expect(validation).toMatchObject({ applicable: true, boxname: 'vc-1.sim.local' });
    expect(validation.messages.length).toBeGreaterThan(0);

    const createsBefore = calls('vcenter', 'vc-2').restoreJobCreate ?? 0;
    const r = await once(() => act.startVcenterRestore({ endpoint: vc2, restore, step: step('restore') }));
    expect(r).toMatchObject({ state: 'INPROGRESS', attached: false });
    // A retry of the start (answer lost) attaches to the running restore instead of a second POST.
    const again = await once(() => act.startVcenterRestore({ endpoint: vc2, restore, step: step('restore') }), 2);
    expect(again.attached).toBe(true);
    expect(calls('vcenter', 'vc-2').restoreJobCreate).toBe(createsBefore + 1);

    const { result, attempts } = await withRetries(() =>
      act.pollVcenterRestore({ endpoint: vc2, pollIntervalMs: 100 }),
    );
    expect(result.state).toBe('SUCCEEDED');
    // The appliance answered 503 / dropped connections while restarting: the poll was retried.
    expect(attempts).toBeGreaterThan(1);
    expect(sim.counters().jobs.filter((j) => j.kind === 'restore')).toHaveLength(1);
  });

  it('SDDC Manager: backup configuration, a failed backup retried, a cancel, and a restore', async () => {
    const configured = await once(() =>
      act.setSddcManagerBackupConfiguration({
        endpoint: sddc,
        configuration: {
          location: {
            server: 'sftp.example.com',
            port: 22,
            username: 'backup',
            passwordRef: 'env:OPS_SFTP_PW',
            directoryPath: '/backups',
            sshFingerprint: 'SHA256:x',
          },
          passphraseRef: 'env:OPS_PASSPHRASE',
          schedule: { frequency: 'WEEKLY', daysOfWeek: ['SUNDAY'], hourOfDay: 1, minuteOfHour: 0, keepMostRecent: 10 },
        },
      }),
    );
    expect(
      (await withRetries(() => act.pollSddcManagerTask({ endpoint: sddc, taskId: configured.taskId }))).result.status,
    ).toBe('SUCCESSFUL');

    sim.faults.add({
      product: 'sddc-manager',
      operation: 'startBackup',
      action: { kind: 'jobFailed', message: 'SFTP server refused the upload' },
    });
    const backup = await once(() => act.startSddcManagerBackup({ endpoint: sddc, step: step('sddc-backup') }));
    const failed = await withRetries(() => act.pollSddcManagerTask({ endpoint: sddc, taskId: backup.taskId })).catch(
      (e: unknown) => e,
    );
    expect(failed).toMatchObject({ type: 'RemoteJobFailed', nonRetryable: true });
    expect((failed as Error).message).toContain('SFTP server refused the upload');
    const retried = await once(() => act.retrySddcManagerTask({ endpoint: sddc, taskId: backup.taskId }));
    expect(retried.status).toBe('IN_PROGRESS');
    expect(
      (await withRetries(() => act.pollSddcManagerTask({ endpoint: sddc, taskId: backup.taskId }))).result.status,
    ).toBe('SUCCESSFUL');

    const another = await once(() => act.startSddcManagerBackup({ endpoint: sddc, step: step('sddc-backup-2') }));
    const cancelled = await once(() => act.cancelSddcManagerTask({ endpoint: sddc, taskId: another.taskId }));
    expect(cancelled).toMatchObject({ cancelled: true, status: 'CANCELLED' });
    expect(await once(() => act.cancelSddcManagerTask({ endpoint: sddc, taskId: another.taskId }))).toMatchObject({
      cancelled: false,
    });

    const restore = await once(() =>
      act.startSddcManagerRestore({
        endpoint: sddc,
        restore: {
          backupFile: '/tmp/vcf-backup-sddc-1-2026-11-23-10-00-00.tar.gz',
          passphraseRef: 'env:OPS_PASSPHRASE',
        },
        step: step('sddc-restore'),
      }),
    );
    const { result, attempts } = await withRetries(() =>
      act.pollSddcManagerRestoreTask({ endpoint: sddc, taskId: restore.taskId }),
    );
    expect(result.status).toBe('SUCCESSFUL');
    expect(attempts).toBeGreaterThan(1); // the first restore poll answers 503 while services restart
  });
});
