/**
 * Activities on a real Temporal server against the simulator: exactly one remote job per step,
 * busy handling, re-login mid-poll, cancellation reaching the appliance, resuming after a worker
 * restart, and no secret in history.
 */
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { type ActivityFailure, type ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../src/core/secrets';
import { SddcManagerClient } from '../src/sddc-manager/client';
import { VcdaClient } from '../src/vcda/client';
import { VcenterClient } from '../src/vcenter/client';
import { createDispatcher } from '../src/core/tls';
import type { SddcManagerBackupInput, VcdaBackupInput, VcenterBackupInput } from '../workflows';
import { type Harness, createHarness } from './support/harness';
import { configureSddcBackupLocation } from './support/sddc-manager';
import { historyText } from './support/history';

const VC_BACKUP_PASSWORD = 'Backup#Pass42';
const VC_LOCATION_PASSWORD = 'sftp-Secret-991';

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('activities on a real server (vCenter, SDDC Manager, VCDA simulators)', () => {
  let h: Harness;
  let vcInput: VcenterBackupInput;
  let sddcInput: SddcManagerBackupInput;
  let vcdaInput: VcdaBackupInput;

  beforeAll(async () => {
    h = await createHarness({ vcenters: 1, sddcManagers: 1, vcdas: 1, jobSeconds: 2 });
    const { vcenter, sddcManager, vcda, caFile } = h.sim.info;
    const vc = vcenter[0]!;
    const sddc = sddcManager[0]!;
    const va = vcda[0]!;
    process.env.ACT_VC_PASSWORD = vc.password;
    process.env.ACT_SDDC_PASSWORD = sddc.password;
    process.env.ACT_VCDA_PASSWORD = va.password;
    process.env.ACT_BACKUP_PASSWORD = VC_BACKUP_PASSWORD;
    process.env.ACT_LOCATION_PASSWORD = VC_LOCATION_PASSWORD;
    const tls = { caFile: caFile! };
    vcInput = {
      endpoint: { name: 'vc-1', url: vc.url, username: vc.username, passwordRef: 'env:ACT_VC_PASSWORD', tls },
      backup: {
        locationType: 'SFTP',
        location: 'sftp://backup.example.com/vc-1',
        locationUser: 'backup',
        locationPasswordRef: 'env:ACT_LOCATION_PASSWORD',
        backupPasswordRef: 'env:ACT_BACKUP_PASSWORD',
      },
      pollIntervalMs: 200,
    };
    sddcInput = {
      endpoint: { name: 'sddc-1', url: sddc.url, username: sddc.username, passwordRef: 'env:ACT_SDDC_PASSWORD', tls },
      pollIntervalMs: 200,
    };
    vcdaInput = {
      endpoint: { name: 'vcda-1', url: va.url, username: va.username, passwordRef: 'env:ACT_VCDA_PASSWORD', tls },
      pollIntervalMs: 200,
    };
    // SDDC Manager backups need a configured SFTP location.
    await configureSddcBackupLocation(sddc, tls);
  });
  afterAll(async () => h?.close());

  const execute = <R>(workflow: string, input: unknown, id: string) =>
    h.withWorker(
      () =>
        h.env.client.workflow.execute(workflow, {
          taskQueue: h.taskQueue,
          workflowId: `${id}-${Date.now()}`,
          args: [input],
        }) as Promise<R>,
    );
  const calls = (product: string, appliance: string) => h.sim.counters().calls[product]?.[appliance] ?? {};
  const jobs = (product: string) => h.sim.counters().jobs.filter((j) => j.product === product && j.kind === 'backup');

  describe('lost response after the POST → exactly one remote job', () => {
    it('vCenter', async () => {
      h.sim.resetCounters();
      h.sim.faults.add({ product: 'vcenter', operation: 'backupJobCreate', action: { kind: 'lostResponse' } });
      const r = await execute<{ attached: boolean; state: string }>('vcenterBackup', vcInput, 'lost-vc');
      expect(r).toMatchObject({ state: 'SUCCEEDED', attached: true });
      expect(calls('vcenter', 'vc-1').backupJobCreate).toBe(1);
      expect(jobs('vcenter')).toHaveLength(1);
    });

    it('SDDC Manager', async () => {
      h.sim.resetCounters();
      h.sim.faults.add({ product: 'sddc-manager', operation: 'startBackup', action: { kind: 'lostResponse' } });
      const r = await execute<{ attached: boolean; status: string }>('sddcManagerBackup', sddcInput, 'lost-sddc');
      expect(r).toMatchObject({ status: 'SUCCESSFUL', attached: true });
      expect(calls('sddc-manager', 'sddc-1').startBackup).toBe(1);
      expect(jobs('sddc-manager')).toHaveLength(1);
    });

    it('VCDA (the step id travels as operationID)', async () => {
      h.sim.resetCounters();
      h.sim.faults.add({ product: 'vcda', operation: 'backupCreate', action: { kind: 'lostResponse' } });
      const r = await execute<{ attached: boolean; state: string; backup?: { hash: string } }>(
        'vcdaBackup',
        vcdaInput,
        'lost-vcda',
      );
      expect(r).toMatchObject({ state: 'SUCCEEDED', attached: true });
      expect(r.backup?.hash).toMatch(/^SHA-512:/);
      expect(calls('vcda', 'vcda-1').backupCreate).toBe(1);
      expect(jobs('vcda')).toHaveLength(1);
      expect(jobs('vcda')[0]?.label).toMatch(/^lost-vcda-\d+\/vcda-backup\/vcda-1$/);
    });
  });

  it('busy because of another job: retried (not attached) until it ends, then one job of ours', async () => {
    // Its own simulator with 6-second jobs, so the other job is still running when our POST
    // arrives however slow the machine is (lease, login and snapshot come first).
    const hb = await createHarness({ vcenters: 1, jobSeconds: 6 });
    try {
      const vc = hb.sim.info.vcenter[0]!;
      process.env.ACT_VCB_PASSWORD = vc.password;
      const client = new VcenterClient({
        url: vc.url,
        dispatcher: createDispatcher({ tls: { caFile: vc.caFile! } }),
        apiForm: 'api',
        credentials: async () => ({ username: vc.username, password: new Secret(vc.password) }),
      });
      const other = await client.backupJobCreate({
        parts: [],
        location_type: 'NFS',
        location: 'nfs://other/x',
        comment: 'someone else',
      });
      const input = {
        ...vcInput,
        endpoint: {
          ...vcInput.endpoint,
          url: vc.url,
          passwordRef: 'env:ACT_VCB_PASSWORD',
          tls: { caFile: vc.caFile! },
        },
      };
      const r = await hb.withWorker(() =>
        hb.env.client.workflow.execute('vcenterBackup', {
          taskQueue: hb.taskQueue,
          workflowId: `busy-vc-${Date.now()}`,
          args: [input],
        }),
      );
      expect(r.attached).toBe(false);
      expect(r.jobId).not.toBe(other.id);
      expect(hb.sim.counters().calls.vcenter?.['vc-1']?.backupJobCreate).toBeGreaterThanOrEqual(3); // other + ≥1 busy + ours
      expect(hb.sim.counters().jobs.map((j) => j.id)).toEqual([other.id, r.jobId]);
    } finally {
      await hb.close();
    }
  });

  it('busy past the step deadline fails as non-retryable ResourceBusy', async () => {
    h.sim.resetCounters();
    h.sim.faults.add({
      product: 'vcenter',
      operation: 'backupJobCreate',
      count: 100,
      action: { kind: 'error', error: 'FEATURE_IN_USE' },
    });
    try {
      const err = await execute('vcenterBackup', { ...vcInput, timeoutMs: 1500 }, 'busy-deadline').catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const app = ((err as WorkflowFailedError).cause as ActivityFailure).cause as ApplicationFailure;
      expect(app.type).toBe('ResourceBusy');
      expect(app.nonRetryable).toBe(true);
      expect(app.message).toContain("still busy at the step's deadline");
    } finally {
      h.sim.faults.clear();
    }
  });

  it('401 in the middle of a long poll → one re-login, the run continues', async () => {
    h.sim.resetCounters();
    h.sim.faults.add({ product: 'vcenter', operation: 'backupJobGet', action: { kind: 'status', status: 401 } });
    h.sim.faults.add({ product: 'sddc-manager', operation: 'getTask', action: { kind: 'status', status: 401 } });
    const [vc, sddc] = await h.withWorker(() =>
      Promise.all([
        h.env.client.workflow.execute('vcenterBackup', {
          taskQueue: h.taskQueue,
          workflowId: `relogin-vc-${Date.now()}`,
          args: [vcInput],
        }),
        h.env.client.workflow.execute('sddcManagerBackup', {
          taskQueue: h.taskQueue,
          workflowId: `relogin-sddc-${Date.now()}`,
          args: [sddcInput],
        }),
      ]),
    );
    expect(vc.state).toBe('SUCCEEDED');
    expect(sddc.status).toBe('SUCCESSFUL');
    // One login for the run, one more after the 401; SDDC Manager refreshes (or re-logs in) once.
    expect(calls('vcenter', 'vc-1').sessionCreate).toBe(2);
    const sddcCalls = calls('sddc-manager', 'sddc-1');
    expect((sddcCalls.tokenRefresh ?? 0) + (sddcCalls.tokenCreate ?? 0)).toBeGreaterThanOrEqual(1);
    expect(jobs('vcenter')).toHaveLength(1);
  });

  it('session idle timeout during a long job: transparent re-login on every expired poll', async () => {
    const h2 = await createHarness({ vcenters: 1, jobSeconds: 3, sessionIdleSeconds: 1 });
    try {
      const vc = h2.sim.info.vcenter[0]!;
      process.env.ACT_VC2_PASSWORD = vc.password;
      const input = {
        ...vcInput,
        endpoint: {
          ...vcInput.endpoint,
          url: vc.url,
          passwordRef: 'env:ACT_VC2_PASSWORD',
          tls: { caFile: vc.caFile! },
        },
        pollIntervalMs: 1300,
      };
      const r = await h2.withWorker(() =>
        h2.env.client.workflow.execute('vcenterBackup', {
          taskQueue: h2.taskQueue,
          workflowId: `idle-${Date.now()}`,
          args: [input],
        }),
      );
      expect(r.state).toBe('SUCCEEDED');
      expect(h2.sim.counters().calls.vcenter?.['vc-1']?.sessionCreate).toBeGreaterThanOrEqual(2);
    } finally {
      await h2.close();
    }
  });

  it('cancel → the simulator sees the remote cancel (vCenter job cancel, SDDC DELETE task)', async () => {
    const h3 = await createHarness({ vcenters: 1, sddcManagers: 1, jobSeconds: 60 });
    try {
      const { vcenter, sddcManager, caFile } = h3.sim.info;
      process.env.ACT_VC3_PASSWORD = vcenter[0]!.password;
      process.env.ACT_SDDC3_PASSWORD = sddcManager[0]!.password;
      const tls = { caFile: caFile! };
      const vcIn = {
        ...vcInput,
        endpoint: { ...vcInput.endpoint, url: vcenter[0]!.url, passwordRef: 'env:ACT_VC3_PASSWORD', tls },
      };
      const sddcIn = {
        ...sddcInput,
        endpoint: { ...sddcInput.endpoint, url: sddcManager[0]!.url, passwordRef: 'env:ACT_SDDC3_PASSWORD', tls },
      };
      const sddcClient = new SddcManagerClient({
        url: sddcManager[0]!.url,
        dispatcher: createDispatcher({ tls }),
        credentials: async () => ({
          username: sddcManager[0]!.username,
          password: new Secret(sddcManager[0]!.password),
        }),
      });
      await sddcClient.setBackupConfiguration({
        backupLocations: [{ server: 's', protocol: 'SFTP', username: 'u', password: 'p', directoryPath: '/b' }],
        encryption: { passphrase: 'passphrase-for-tests' },
      });
      await h3.withWorker(async () => {
        const vcHandle = await h3.env.client.workflow.start('vcenterBackup', {
          taskQueue: h3.taskQueue,
          workflowId: `cancel-vc-${Date.now()}`,
          args: [vcIn],
        });
        const sddcHandle = await h3.env.client.workflow.start('sddcManagerBackup', {
          taskQueue: h3.taskQueue,
          workflowId: `cancel-sddc-${Date.now()}`,
          args: [sddcIn],
        });
        await until(
          'both remote jobs to start',
          () => h3.sim.counters().jobs.filter((j) => j.kind === 'backup').length === 2 || undefined,
        );
        await until(
          'polling to begin',
          () => (h3.sim.counters().calls.vcenter?.['vc-1']?.backupJobGet ?? 0) >= 1 || undefined,
        );
        await until(
          'SDDC polling to begin',
          () => (h3.sim.counters().calls['sddc-manager']?.['sddc-1']?.getTask ?? 0) >= 1 || undefined,
        );
        await Promise.all([vcHandle.cancel(), sddcHandle.cancel()]);
        for (const handle of [vcHandle, sddcHandle]) {
          const err = await handle.result().catch((e: unknown) => e);
          expect(err).toBeInstanceOf(WorkflowFailedError);
          expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
        }
      });
      expect(h3.sim.counters().calls.vcenter?.['vc-1']?.backupJobCancel).toBe(1);
      expect(h3.sim.counters().calls['sddc-manager']?.['sddc-1']?.cancelTask).toBe(1);
    } finally {
      await h3.close();
    }
  });

  it('worker restart mid-poll → the poll resumes from heartbeat details, no second job', async () => {
    const h4 = await createHarness({ vcenters: 1, jobSeconds: 8 });
    try {
      const vc = h4.sim.info.vcenter[0]!;
      process.env.ACT_VC4_PASSWORD = vc.password;
      const input = {
        ...vcInput,
        endpoint: {
          ...vcInput.endpoint,
          url: vc.url,
          passwordRef: 'env:ACT_VC4_PASSWORD',
          tls: { caFile: vc.caFile! },
        },
      };
      const handle = await h4.env.client.workflow.start('vcenterBackup', {
        taskQueue: h4.taskQueue,
        workflowId: `restart-${Date.now()}`,
        args: [input],
      });
      const first = await h4.worker();
      await first.runUntil(
        until('a few polls with heartbeats recorded on the server', async () => {
          const d = await handle.describe();
          const pending = d.raw.pendingActivities?.find((a) => a.activityType?.name === 'pollVcenterBackup');
          return pending?.heartbeatDetails?.payloads?.length &&
            (h4.sim.counters().calls.vcenter?.['vc-1']?.backupJobGet ?? 0) >= 3
            ? true
            : undefined;
        }),
      );
      const second = await h4.worker();
      const r = await second.runUntil(handle.result());
      expect(r.state).toBe('SUCCEEDED');
      expect(r.resumedFromPolls).toBeGreaterThanOrEqual(1);
      expect(h4.sim.counters().calls.vcenter?.['vc-1']?.backupJobCreate).toBe(1);
      expect(h4.sim.counters().jobs).toHaveLength(1);
    } finally {
      await h4.close();
    }
  });

  it('a full run never puts a secret in history (inputs, heartbeats, results, failures)', async () => {
    const ok = await h.withWorker(async () => {
      const handle = await h.env.client.workflow.start('vcenterBackup', {
        taskQueue: h.taskQueue,
        workflowId: `secret-${Date.now()}`,
        args: [vcInput],
      });
      await handle.result();
      return handle.fetchHistory();
    });
    process.env.ACT_BAD_BACKUP_PASSWORD = 'nouppercase#1';
    const bad = await h.withWorker(async () => {
      const handle = await h.env.client.workflow.start('vcenterBackup', {
        taskQueue: h.taskQueue,
        workflowId: `secret-bad-${Date.now()}`,
        args: [{ ...vcInput, backup: { ...vcInput.backup, backupPasswordRef: 'env:ACT_BAD_BACKUP_PASSWORD' } }],
      });
      await handle.result().catch(() => undefined);
      return handle.fetchHistory();
    });
    const secrets = [h.sim.info.vcenter[0]!.password, VC_BACKUP_PASSWORD, VC_LOCATION_PASSWORD, 'nouppercase#1'];
    for (const history of [ok, bad]) {
      // Payloads are bytes in the history: decode every one and search all of the text.
      const raw = historyText(history);
      expect(raw).toContain('env:ACT_VC_PASSWORD');
      for (const s of secrets) expect(raw).not.toContain(s);
    }
  });

  it('VCDA client still logs in with the same credentials after the activities (sanity for the shared pool)', async () => {
    const va = h.sim.info.vcda[0]!;
    const client = new VcdaClient({
      url: va.url,
      dispatcher: createDispatcher({ tls: { caFile: h.sim.info.caFile! } }),
      credentials: async () => ({ username: va.username, password: new Secret(va.password) }),
    });
    await expect(client.listBackups()).resolves.toBeInstanceOf(Array);
  });
});
