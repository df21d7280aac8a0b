/**
 * SddcManagerClient against the simulated SDDC Manager over real HTTP and HTTPS: no mocks.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Dispatcher, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  AuthenticationFailed,
  InvalidArgument,
  NetworkError,
  NotFound,
  ProtocolError,
  ResourceBusy,
  SchemaMismatch,
  ServerError,
  ServiceUnavailable,
  UnknownRemoteState,
  type VmwareApiError,
  retryDecision,
} from '../src/errors';
import { Secret } from '../src/secrets';
import { SddcManagerClient, type SddcManagerClientOptions, type SddcTask, jwtExpiry, parseSddcError } from '../src/sddc-manager/client';
import {
  BackupConfiguration,
  BackupConfigurationSpec,
  BackupSpec,
  BackupTask,
  RestoreSpec,
  SddcError,
  Task,
  TaskList,
  TokenPair,
  isTerminal,
  normaliseTaskStatus,
} from '../src/sddc-manager/schemas';
import { type SddcManagerAppliance, createSddcManagerAppliance } from '../src/sddc-manager/simulator';
import { type ApplianceInfo, type Simulator, type SimulatorOptions, startSimulator } from '../src/simulator/server';
import type { FaultAction } from '../src/simulator/types';
import { createDispatcher } from '../src/tls';

const FIXTURES = join(__dirname, 'fixtures', 'sddc-manager');
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));
const CONFIG_SPEC = BackupConfigurationSpec.parse(fixture('backup-configuration-spec.json'));
const RESTORE_SPEC = {
  backupFile: '/tmp/vcf-backup-sfo-vcf01-sfo-rainpole-io-2023-09-19-10-53-02.tar.gz',
  elements: [{ resourceType: 'SDDC_MANAGER' }],
  encryption: { passphrase: 'VMw@re1!VMw@re1!' },
};
const ISO_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rejection(p: Promise<unknown>): Promise<VmwareApiError> {
  try {
    await p;
  } catch (err) {
    return err as VmwareApiError;
  }
  throw new Error('expected the call to fail');
}

/** Polls until the task is terminal; returns it with every raw status seen. */
async function poll(get: () => Promise<SddcTask>): Promise<{ task: SddcTask; seen: string[] }> {
  const seen: string[] = [];
  for (let i = 0; i < 200; i++) {
    const task = await get();
    seen.push(task.rawStatus);
    if (isTerminal(task.status)) return { task, seen };
    await sleep(100);
  }
  throw new Error('task did not finish');
}

interface Env {
  sim: Simulator;
  dispatcher?: Dispatcher;
  client(name: 'sddc-1' | 'sddc-2', extra?: Partial<SddcManagerClientOptions>): SddcManagerClient;
  calls(name?: string): Record<string, number>;
  appliance(name?: string): SddcManagerAppliance;
  close(): Promise<void>;
}

async function startEnv(opts: SimulatorOptions & { tls?: boolean } = {}): Promise<Env> {
  const sim = await startSimulator({
    factories: { 'sddc-manager': createSddcManagerAppliance },
    sddcManagers: 2,
    vcenters: 0,
    jobSeconds: 1,
    http: !opts.tls,
    ...opts,
  });
  const dispatcher = opts.tls ? createDispatcher({ tls: { caFile: sim.info.caFile } }) : undefined;
  const info = (name: string): ApplianceInfo => {
    const found = sim.info.sddcManager.find((a) => a.url.endsWith(`/${name}`));
    if (!found) throw new Error(`no appliance ${name}`);
    return found;
  };
  return {
    sim,
    dispatcher,
    client: (name, extra = {}) => {
      const a = info(name);
      return new SddcManagerClient({
        url: a.url,
        appliance: name,
        credentials: async () => ({ username: a.username, password: new Secret(a.password) }),
        dispatcher,
        ...extra,
      });
    },
    calls: (name = 'sddc-1') => sim.counters().calls['sddc-manager']?.[name] ?? {},
    appliance: (name = 'sddc-1') => sim.appliance('sddc-manager', name) as SddcManagerAppliance,
    close: async () => {
      await sim.close();
      await dispatcher?.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------

describe.each([
  { transport: 'HTTP', tls: false },
  { transport: 'HTTPS', tls: true },
])('SddcManagerClient over $transport against the simulated SDDC Manager', ({ tls }) => {
  let env: Env;
  let c1: SddcManagerClient;
  let c2: SddcManagerClient;

  beforeAll(async () => {
    env = await startEnv({ tls });
    if (tls) expect(env.sim.info.sddcManager[0]?.url).toMatch(/^https:/);
    c1 = env.client('sddc-1');
    c2 = env.client('sddc-2');
  });
  afterAll(async () => env?.close());

  it('refuses a backup before the backup configuration is set: InvalidArgument, non-retryable, with the remediation', async () => {
    env.sim.resetCounters();
    const config = await c2.getBackupConfiguration();
    expect(config.isConfigured).toBe(false);
    const err = await rejection(c2.startBackup());
    expect(err).toBeInstanceOf(InvalidArgument);
    expect(err.httpStatus).toBe(400);
    expect(err.vmwareCode).toBe('BACKUP_NOT_CONFIGURED');
    expect(err.operation).toBe('startBackup');
    expect(err.appliance).toBe('sddc-2');
    expect(retryDecision(err)).toEqual({ retryable: false });
    expect(err.remediation).toContain('PUT /v1/system/backup-configuration');
    expect(err.messages).toContain('Backup configuration is missing');
    expect(env.sim.counters().jobs).toHaveLength(0);
    expect(env.calls('sddc-2')).toMatchObject({ tokenCreate: 1, getBackupConfiguration: 1, startBackup: 1 });
  });

  it('sets and updates the backup configuration; passwords and the passphrase are not echoed back', async () => {
    const set = await c1.setBackupConfiguration(CONFIG_SPEC);
    expect(set.status).toBe('IN_PROGRESS');
    expect(set.type).toBe('BACKUP_CONFIGURATION');
    const done = await poll(() => c1.getTask(set.id));
    expect(done.task.status).toBe('SUCCESSFUL');
    const config = await c1.getBackupConfiguration();
    expect(config.isConfigured).toBe(true);
    expect(config.backupLocations?.[0]).toMatchObject({ server: 'sftp.rainpole.io', protocol: 'SFTP', directoryPath: '/backups/sfo-vcf01' });
    expect(JSON.stringify(config)).not.toContain('VMw@re1!');
    expect(config.encryption).toBeUndefined();

    const upd = await c1.updateBackupConfiguration({ backupSchedules: [{ resourceType: 'SDDC_MANAGER', frequency: 'HOURLY', minuteOfHour: 15, takeScheduledBackups: true }] });
    expect((await poll(() => c1.getTask(upd.id))).task.status).toBe('SUCCESSFUL');
    const after = await c1.getBackupConfiguration();
    expect(after.backupSchedules).toEqual([{ resourceType: 'SDDC_MANAGER', frequency: 'HOURLY', minuteOfHour: 15, takeScheduledBackups: true }]);
    expect(after.backupLocations?.[0]?.server).toBe('sftp.rainpole.io');

    const bad = await rejection(c1.setBackupConfiguration({ backupLocations: CONFIG_SPEC.backupLocations }));
    expect(bad).toBeInstanceOf(InvalidArgument);
    expect(bad.messages.join(' ')).toContain('passphrase');
  });

  it('starts a backup (202 BackupTask) and polls the task to SUCCESSFUL; the job is recorded', async () => {
    env.sim.resetCounters();
    const started = await c1.startBackup();
    expect(started.status).toBe('IN_PROGRESS');
    expect(started.rawStatus).toBe('IN_PROGRESS');
    expect(started.resources?.[0]).toMatchObject({ type: 'SDDC_MANAGER' });
    const { task, seen } = await poll(() => c1.getTask(started.id));
    expect(task.status).toBe('SUCCESSFUL');
    expect(task.type).toBe('SDDCMANAGER_BACKUP');
    expect(task.creationTimestamp).toMatch(ISO_MILLIS);
    expect(task.completionTimestamp).toMatch(ISO_MILLIS);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(task.subTasks?.every((s) => s.status === 'SUCCESSFUL')).toBe(true);
    expect(task.subTasks?.at(-1)?.description).toMatch(/vcf-backup-sddc-1-vcf-sim-local-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}\.tar\.gz/);
    const counters = env.sim.counters();
    expect(counters.calls['sddc-manager']?.['sddc-1']?.startBackup).toBe(1);
    expect(counters.calls['sddc-manager']?.['sddc-1']?.getTask).toBe(seen.length);
    expect(counters.jobs).toEqual([expect.objectContaining({ product: 'sddc-manager', appliance: 'sddc-1', kind: 'backup', id: started.id, label: 'SDDC Manager Backup' })]);
  });

  it('reads every status spelling: consecutive tasks alternate UPPER_SNAKE and Title Case, subtasks stay upper case', async () => {
    const raw = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const started = await c1.startBackup();
      const { task, seen } = await poll(() => c1.getTask(started.id));
      expect(task.status).toBe('SUCCESSFUL');
      seen.forEach((s) => raw.add(s));
      for (const sub of task.subTasks ?? []) expect(sub.status).toBe('SUCCESSFUL');
    }
    expect(raw).toContain('SUCCESSFUL');
    expect(raw).toContain('Successful');
    expect([...raw].some((s) => s === 'In Progress' || s === 'IN_PROGRESS')).toBe(true);
  });

  it('lists tasks: the automatic backup is listed too; filters by type and status', async () => {
    const all = await c1.listTasks();
    expect(all.map((t) => t.type)).toEqual(expect.arrayContaining(['SDDCMANAGER_BACKUP', 'BACKUP_CONFIGURATION']));
    const backups = await c1.listTasks({ type: 'SDDCMANAGER_BACKUP' });
    expect(backups.length).toBeGreaterThanOrEqual(4);
    expect(backups.every((t) => t.type === 'SDDCMANAGER_BACKUP')).toBe(true);
    const automatic = backups.filter((t) => Date.now() - Date.parse(t.creationTimestamp ?? '') > 3_600_000);
    expect(automatic).toHaveLength(1);
    const ok = await c1.listTasks({ type: 'SDDCMANAGER_BACKUP', status: 'SUCCESSFUL' });
    expect(ok.length).toBe(backups.length);
    expect(await c1.listTasks({ type: 'SDDCMANAGER_BACKUP', status: 'FAILED' })).toEqual([]);
    expect(env.calls().listTasks).toBeGreaterThanOrEqual(4);
  });

  it('answers a second backup (or a restore) while one runs with 409 RESOURCE_LOCKED → ResourceBusy, retried after a delay', async () => {
    const first = await c1.startBackup();
    const err = await rejection(c1.startBackup());
    expect(err).toBeInstanceOf(ResourceBusy);
    expect(err.httpStatus).toBe(409);
    expect(err.vmwareCode).toBe('RESOURCE_LOCKED');
    expect(err.messages.join(' ')).toContain(first.id);
    expect(retryDecision(err)).toEqual({ retryable: true, nextRetryDelayMs: 30_000 });
    expect(await rejection(c1.startRestore(RESTORE_SPEC))).toBeInstanceOf(ResourceBusy);
    expect((await poll(() => c1.getTask(first.id))).task.status).toBe('SUCCESSFUL');
  });

  it('ends FAILED after a jobFailed fault, and retryTask runs the task again to SUCCESSFUL', async () => {
    env.sim.faults.add({ product: 'sddc-manager', appliance: 'sddc-1', operation: 'startBackup', action: { kind: 'jobFailed', message: 'SFTP upload failed: permission denied' } });
    const started = await c1.startBackup();
    const failed = (await poll(() => c1.getTask(started.id))).task;
    expect(failed.status).toBe('FAILED');
    expect(failed.resolutionStatus).toBe('UNRESOLVED');
    expect(failed.errors?.[0]?.message).toBe('SFTP upload failed: permission denied');
    expect(failed.subTasks?.at(-1)?.status).toBe('FAILED');
    expect(failed.completionTimestamp).toMatch(ISO_MILLIS);

    const retried = await c1.retryTask(started.id);
    expect(retried.id).toBe(started.id);
    expect(retried.status).toBe('IN_PROGRESS');
    const done = (await poll(() => c1.getTask(started.id))).task;
    expect(done.status).toBe('SUCCESSFUL');
    expect(done.resolutionStatus).toBe('RESOLVED');
    expect(done.errors).toEqual([]);

    const notFailed = await rejection(c1.retryTask(started.id));
    expect(notFailed).toBeInstanceOf(InvalidArgument);
    expect(notFailed.vmwareCode).toBe('TASK_NOT_RETRYABLE');
  });

  it('cancels a running backup; unknown task ids are NotFound', async () => {
    const started = await c1.startBackup();
    expect((await c1.getTask(started.id)).isCancellable).toBe(true);
    await c1.cancelTask(started.id);
    const cancelled = await c1.getTask(started.id);
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelled.isCancellable).toBe(false);
    expect(await rejection(c1.cancelTask(started.id))).toBeInstanceOf(InvalidArgument);
    const unknown = randomUUID();
    for (const call of [() => c1.getTask(unknown), () => c1.cancelTask(unknown), () => c1.retryTask(unknown)]) {
      const err = await rejection(call());
      expect(err).toBeInstanceOf(NotFound);
      expect(err.vmwareCode).toBe('TASK_NOT_FOUND');
      expect(retryDecision(err).retryable).toBe(false);
    }
    // The lock is released: a new backup starts.
    const next = await c1.startBackup();
    expect((await poll(() => c1.getTask(next.id))).task.status).toBe('SUCCESSFUL');
  });

  it('restores with a Bearer token; the first poll answers 503 while services restart', async () => {
    env.sim.resetCounters();
    const started = await c2.startRestore(RESTORE_SPEC);
    expect(started.status).toBe('IN_PROGRESS');
    expect(started.type).toBe('SDDCMANAGER_RESTORE');
    expect(await rejection(c2.startRestore(RESTORE_SPEC))).toBeInstanceOf(ResourceBusy);
    const unavailable = await rejection(c2.getRestoreTask(started.id));
    expect(unavailable).toBeInstanceOf(ServiceUnavailable);
    expect(retryDecision(unavailable).retryable).toBe(true);
    const { task, seen } = await poll(() => c2.getRestoreTask(started.id));
    expect(task.status).toBe('SUCCESSFUL');
    expect(task.subTasks?.map((s) => s.name)).toContain('RestoreSDDCManagerDatabase');
    expect(seen.every((s) => s === 'IN PROGRESS' || s === 'SUCCESSFUL')).toBe(true);
    expect((await c2.getTask(started.id)).status).toBe('SUCCESSFUL');
    expect(env.sim.counters().jobs).toEqual([expect.objectContaining({ product: 'sddc-manager', appliance: 'sddc-2', kind: 'restore', id: started.id, label: 'SDDC Manager Restore' })]);
  });

  it('restores with HTTP Basic (user admin) and no token; bad Basic credentials and a bad spec are refused', async () => {
    const password = env.sim.info.sddcManager[1]!.password;
    const basic = env.client('sddc-2', { restoreAuth: 'basic', credentials: async () => ({ username: 'admin', password: new Secret(password) }) });
    env.sim.resetCounters();
    const started = await basic.startRestore(RESTORE_SPEC);
    expect(await rejection(basic.getRestoreTask(started.id))).toBeInstanceOf(ServiceUnavailable);
    expect((await poll(() => basic.getRestoreTask(started.id))).task.status).toBe('SUCCESSFUL');
    expect(env.calls('sddc-2').tokenCreate).toBeUndefined();
    expect(env.calls('sddc-2').startRestore).toBe(1);

    const wrong = env.client('sddc-2', { restoreAuth: 'basic', credentials: async () => ({ username: 'admin', password: new Secret('nope') }) });
    const denied = await rejection(wrong.getRestoreTask(started.id));
    expect(denied).toBeInstanceOf(AuthenticationFailed);
    expect(denied.httpStatus).toBe(401);

    const invalid = await rejection(basic.startRestore({ ...RESTORE_SPEC, backupFile: '' }));
    expect(invalid).toBeInstanceOf(InvalidArgument);
    expect(invalid.messages.join(' ')).toContain('backupFile');
  });
});

// ---------------------------------------------------------------------------------------------

describe('SDDC Manager tokens', () => {
  it('refreshes the access token before it expires (tokenTtlSeconds 3, refreshBeforeExpirySeconds 2), never hitting a 401', async () => {
    const env = await startEnv({ tokenTtlSeconds: 3 });
    try {
      const client = env.client('sddc-1', { refreshBeforeExpirySeconds: 2 });
      let n = 0;
      const until = Date.now() + 4500;
      while (Date.now() < until) {
        await client.getBackupConfiguration();
        n++;
        await sleep(250);
      }
      const calls = env.calls();
      expect(calls.tokenCreate).toBe(1);
      expect(calls.tokenRefresh).toBeGreaterThanOrEqual(1);
      // No call was repeated: none was answered 401.
      expect(calls.getBackupConfiguration).toBe(n);
    } finally {
      await env.close();
    }
  });

  describe('with long-lived tokens', () => {
    let env: Env;
    let taskId: string;
    beforeAll(async () => {
      env = await startEnv();
      taskId = (await env.client('sddc-1').listTasks({ type: 'SDDCMANAGER_BACKUP' }))[0]!.id;
    });
    afterAll(async () => env?.close());

    it('issues JWTs whose exp is tokenTtlSeconds ahead', async () => {
      const res = await request(`${env.sim.info.sddcManager[0]!.url}/v1/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: env.sim.info.sddcManager[0]!.username, password: env.sim.info.sddcManager[0]!.password }),
      });
      const pair = TokenPair.parse(await res.body.json());
      expect(pair.accessToken.split('.')).toHaveLength(3);
      const exp = jwtExpiry(pair.accessToken)!;
      expect(exp * 1000 - Date.now()).toBeGreaterThan(3590_000);
      expect(exp * 1000 - Date.now()).toBeLessThanOrEqual(3600_000);
      expect(jwtExpiry('opaque-token')).toBeUndefined();

      // The refresh takes the id as a JSON string (docs) or bare (PowerVCF); answers a JSON string.
      for (const body of [JSON.stringify(pair.refreshToken.id), pair.refreshToken.id]) {
        const refreshed = await request(`${env.sim.info.sddcManager[0]!.url}/v1/tokens/access-token/refresh`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body });
        expect(refreshed.statusCode).toBe(200);
        const access = (await refreshed.body.json()) as unknown;
        expect(typeof access).toBe('string');
        expect(jwtExpiry(access as string)).toBeGreaterThanOrEqual(exp);
      }
      const unknown = await request(`${env.sim.info.sddcManager[0]!.url}/v1/tokens/access-token/refresh`, { method: 'PATCH', body: JSON.stringify(randomUUID()) });
      expect(unknown.statusCode).toBe(401);
      expect(parseSddcError(await unknown.body.json())).toMatchObject({ vmwareCode: 'Unauthorized' });
    });

    it('answers a 401 mid-session by refreshing once and repeating the call once', async () => {
      const client = env.client('sddc-1');
      await client.login();
      env.sim.resetCounters();
      env.sim.faults.add({ product: 'sddc-manager', appliance: 'sddc-1', operation: 'getTask', action: { kind: 'status', status: 401 } });
      expect((await client.getTask(taskId)).id).toBe(taskId);
      expect(env.calls()).toEqual({ getTask: 2, tokenRefresh: 1 });
    });

    it('logs in again when the refresh fails (fault), and when the refresh token is gone (real)', async () => {
      const client = env.client('sddc-1');
      await client.login();
      env.sim.resetCounters();
      env.sim.faults.add(
        { product: 'sddc-manager', appliance: 'sddc-1', operation: 'getTask', action: { kind: 'status', status: 401 } },
        { product: 'sddc-manager', appliance: 'sddc-1', operation: 'tokenRefresh', action: { kind: 'status', status: 500 } },
      );
      expect((await client.getTask(taskId)).id).toBe(taskId);
      expect(env.calls()).toEqual({ getTask: 2, tokenRefresh: 1, tokenCreate: 1 });

      env.sim.resetCounters();
      env.appliance().expireAccessTokens();
      env.appliance().revokeRefreshTokens();
      expect((await client.listTasks()).length).toBeGreaterThan(0);
      expect(env.calls()).toEqual({ listTasks: 2, tokenRefresh: 1, tokenCreate: 1 });
    });

    it('gives up with AuthenticationFailed when the repeated call is refused again, or the password is wrong', async () => {
      const client = env.client('sddc-1');
      await client.login();
      env.sim.resetCounters();
      env.sim.faults.add({ product: 'sddc-manager', appliance: 'sddc-1', operation: 'getTask', count: 2, action: { kind: 'status', status: 401 } });
      const err = await rejection(client.getTask(taskId));
      expect(err).toBeInstanceOf(AuthenticationFailed);
      expect(retryDecision(err).retryable).toBe(false);
      expect(env.calls().getTask).toBe(2);

      const wrong = env.client('sddc-1', { credentials: async () => ({ username: 'administrator@vsphere.local', password: new Secret('wrong') }) });
      const denied = await rejection(wrong.getBackupConfiguration());
      expect(denied).toBeInstanceOf(AuthenticationFailed);
      expect(denied.operation).toBe('tokenCreate');
      expect(denied.message).not.toContain('wrong');
    });

    it('shares one login, and one refresh, between concurrent calls', async () => {
      const client = env.client('sddc-1');
      env.sim.resetCounters();
      await Promise.all(Array.from({ length: 5 }, () => client.listTasks()));
      expect(env.calls()).toEqual({ tokenCreate: 1, listTasks: 5 });
      env.sim.resetCounters();
      env.appliance().expireAccessTokens();
      await Promise.all(Array.from({ length: 5 }, () => client.getTask(taskId)));
      expect(env.calls()).toEqual({ tokenRefresh: 1, getTask: 10 });
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('SDDC Manager faults become the right error classes', () => {
  let env: Env;
  let client: SddcManagerClient;
  let taskId: string;
  beforeAll(async () => {
    env = await startEnv();
    client = env.client('sddc-1');
    taskId = (await client.listTasks())[0]!.id;
  });
  afterAll(async () => env?.close());

  const fault = (operation: string, action: FaultAction) =>
    env.sim.faults.add({ product: 'sddc-manager', appliance: 'sddc-1', operation, action });

  it.each([
    { action: { kind: 'status', status: 503 } as const, cls: ServiceUnavailable, retryable: true },
    { action: { kind: 'status', status: 500 } as const, cls: ServerError, retryable: true },
    { action: { kind: 'error', error: 'RESOURCE_LOCKED' } as const, cls: ResourceBusy, retryable: true },
    { action: { kind: 'reset' } as const, cls: NetworkError, retryable: true },
    { action: { kind: 'malformed' } as const, cls: ProtocolError, retryable: true },
    { action: { kind: 'schema' } as const, cls: SchemaMismatch, retryable: false },
  ])('$action.kind $action.status$action.error → $cls.name', async ({ action, cls, retryable }) => {
    fault('getTask', action);
    const err = await rejection(client.getTask(taskId));
    expect(err.constructor).toBe(cls);
    expect(err.operation).toBe('getTask');
    expect(err.appliance).toBe('sddc-1');
    expect(retryDecision(err, 1).retryable).toBe(retryable);
    if (cls === SchemaMismatch) expect(err.messages.join(' ')).toContain('$.status');
    // The next call is healthy again.
    expect((await client.getTask(taskId)).id).toBe(taskId);
  });

  it('a schema fault names the field path in lists and in the token refresh too', async () => {
    fault('listTasks', { kind: 'schema' });
    const list = await rejection(client.listTasks());
    expect(list).toBeInstanceOf(SchemaMismatch);
    expect(list.messages.join(' ')).toContain('$.elements[0].status');
    fault('startBackup', { kind: 'status', status: 400 });
    expect(await rejection(client.startBackup())).toBeInstanceOf(InvalidArgument);
  });

  it('error bodies are read: code, messages of causes and nested errors, remediation', () => {
    const parsed = parseSddcError({
      errorCode: 'BACKUP_FAILED',
      message: 'Backup failed',
      remediationMessage: 'Check the SFTP server',
      causes: [{ type: 'x.IOException', message: 'Connection refused' }],
      nestedErrors: [{ errorCode: 'SFTP', message: 'SFTP login failed', nestedErrors: [{ message: 'Auth fail' }] }],
      notifications: [{ severity: 'ERROR' }],
    });
    expect(parsed).toEqual({ vmwareCode: 'BACKUP_FAILED', messages: ['Backup failed', 'Connection refused', 'SFTP login failed', 'Auth fail'], remediation: 'Check the SFTP server' });
    expect(parseSddcError('<html>')).toEqual({});
    expect(parseSddcError({ message: 42 })).toEqual({});
  });
});

// ---------------------------------------------------------------------------------------------

describe('normaliseTaskStatus', () => {
  it.each([
    ['PENDING', 'PENDING'],
    ['Pending', 'PENDING'],
    ['IN_PROGRESS', 'IN_PROGRESS'],
    ['In Progress', 'IN_PROGRESS'],
    ['IN PROGRESS', 'IN_PROGRESS'],
    ['in-progress', 'IN_PROGRESS'],
    ['INPROGRESS', 'IN_PROGRESS'],
    ['InProgress', 'IN_PROGRESS'],
    ['SUCCESSFUL', 'SUCCESSFUL'],
    ['Successful', 'SUCCESSFUL'],
    ['FAILED', 'FAILED'],
    ['Failed', 'FAILED'],
    ['CANCELLED', 'CANCELLED'],
    ['Cancelled', 'CANCELLED'],
    ['COMPLETED_WITH_WARNING', 'COMPLETED_WITH_WARNING'],
    ['Completed With Warning', 'COMPLETED_WITH_WARNING'],
    ['SKIPPED', 'SKIPPED'],
    [' Skipped ', 'SKIPPED'],
  ])('%j → %s', (raw, want) => {
    expect(normaliseTaskStatus(raw)).toBe(want);
  });

  it.each(['RUNNING', 'SUCCEEDED', 'CANCELED', '', 'IN__PROGRESS?'])('%j throws UnknownRemoteState quoting it (never "still running")', (raw) => {
    let caught: unknown;
    try {
      normaliseTaskStatus(raw, { appliance: 'sddc-9', operation: 'getTask' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UnknownRemoteState);
    const err = caught as UnknownRemoteState;
    expect(err.message).toContain(JSON.stringify(raw));
    expect(err.appliance).toBe('sddc-9');
    expect(err.operation).toBe('getTask');
    expect(retryDecision(err).retryable).toBe(false);
  });

  it('isTerminal: only PENDING and IN_PROGRESS are running', () => {
    expect(['PENDING', 'IN_PROGRESS', 'SUCCESSFUL', 'FAILED', 'CANCELLED', 'COMPLETED_WITH_WARNING', 'SKIPPED'].map((s) => isTerminal(normaliseTaskStatus(s)))).toEqual([false, false, true, true, true, true, true]);
  });
});

// ---------------------------------------------------------------------------------------------

type Kind = 'null' | 'array' | 'object' | 'string' | 'number' | 'boolean' | 'undefined';
const kindOf = (v: unknown): Kind => (v === null ? 'null' : Array.isArray(v) ? 'array' : (typeof v as Kind));

/**
 * Structural differences between `actual` and `expected`: the same keys and the same JSON
 * types at every depth. Array elements are compared with the expected array's first element
 * (an empty array on either side matches any array). `maps` keys hold free-form maps (only
 * "is an object" is checked); `optional` keys may be absent from `actual`.
 */
function structuralDiff(actual: unknown, expected: unknown, opts: { optional?: string[]; maps?: string[] } = {}, path = '$'): string[] {
  const ka = kindOf(actual);
  const ke = kindOf(expected);
  if (ka !== ke) return [`${path}: ${ka} where the fixture has ${ke}`];
  if (ka === 'array') {
    const [first] = expected as unknown[];
    if (first === undefined) return [];
    return (actual as unknown[]).flatMap((el, i) => structuralDiff(el, first, opts, `${path}[${i}]`));
  }
  if (ka !== 'object') return [];
  const a = actual as Record<string, unknown>;
  const e = expected as Record<string, unknown>;
  const out: string[] = [];
  for (const key of Object.keys(e)) {
    if (!(key in a)) {
      if (!opts.optional?.includes(key)) out.push(`${path}.${key}: missing`);
      continue;
    }
    if (opts.maps?.includes(key)) {
      if (kindOf(a[key]) !== 'object') out.push(`${path}.${key}: ${kindOf(a[key])} where the fixture has a map`);
      continue;
    }
    out.push(...structuralDiff(a[key], e[key], opts, `${path}.${key}`));
  }
  for (const key of Object.keys(a)) if (!(key in e)) out.push(`${path}.${key}: not in the fixture`);
  return out;
}

describe('SDDC Manager contract fixtures (seeds 001, 004 and reference §2)', () => {
  it('the structural comparison reports missing, extra and retyped keys at any depth', () => {
    const diffs = structuralDiff({ a: [{ x: 1, extra: true }], c: 'x' }, { a: [{ x: 'n', y: 2 }], b: 1, c: 'y' });
    expect(diffs).toEqual(['$.a[0].x: number where the fixture has string', '$.a[0].y: missing', '$.a[0].extra: not in the fixture', '$.b: missing']);
  });

  const schemas: [string, z.ZodType][] = [
    ['token-pair.json', TokenPair],
    ['error.json', SddcError],
    ['backup-spec.json', BackupSpec],
    ['backup-task.json', BackupTask],
    ['restore-spec.json', RestoreSpec],
    ['restore-task.json', Task],
    ['task-list.json', TaskList],
    ['backup-configuration.json', BackupConfiguration],
    ['backup-configuration-spec.json', BackupConfigurationSpec],
  ];
  it.each(schemas)('%s is accepted by the client schema', (file, schema) => {
    const result = schema.safeParse(fixture(file));
    expect(result.error?.issues ?? []).toEqual([]);
  });

  it('the casing quirk of the docs (top-level "Failed", subtasks upper case) normalises', () => {
    const list = TaskList.parse(fixture('task-list.json'));
    expect(list.elements!.map((t) => normaliseTaskStatus(t.status))).toEqual(['FAILED', 'SUCCESSFUL']);
    expect(list.elements![0]?.subTasks?.map((s) => normaliseTaskStatus(s.status ?? ''))).toEqual(['SUCCESSFUL', 'FAILED', 'PENDING']);
  });

  describe('the simulator answers with the same keys and types', () => {
    let env: Env;
    let base: string;
    let token: string;
    const call = async (method: Dispatcher.HttpMethod, path: string, body?: unknown): Promise<{ status: number; body: unknown }> => {
      const res = await request(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.body.text();
      return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
    };
    const waitTerminal = async (path: string) => {
      for (let i = 0; i < 100; i++) {
        const res = await call('GET', path);
        if (res.status === 200 && isTerminal(normaliseTaskStatus((res.body as { status: string }).status))) return res.body;
        await sleep(100);
      }
      throw new Error('task did not finish');
    };

    beforeAll(async () => {
      env = await startEnv();
      const a = env.sim.info.sddcManager[0]!;
      base = a.url;
      const res = await request(`${base}/v1/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: a.username, password: a.password }) });
      const pair = (await res.body.json()) as { accessToken: string };
      token = pair.accessToken;
      expect(structuralDiff(pair, fixture('token-pair.json'))).toEqual([]);
    });
    afterAll(async () => env?.close());

    it('Error (400, backup not configured) ≅ error.json', async () => {
      const res = await call('POST', '/v1/backups/tasks', fixture('backup-spec.json'));
      expect(res.status).toBe(400);
      expect(structuralDiff(res.body, fixture('error.json'), { maps: ['context'] })).toEqual([]);
    });

    it('BackupConfiguration ≅ backup-configuration.json; BackupTask ≅ backup-task.json; Task list ≅ task-list.json', async () => {
      const put = await call('PUT', '/v1/system/backup-configuration', fixture('backup-configuration-spec.json'));
      expect(put.status).toBe(202);
      const config = await call('GET', '/v1/system/backup-configuration');
      expect(structuralDiff(config.body, fixture('backup-configuration.json'))).toEqual([]);

      const started = await call('POST', '/v1/backups/tasks', fixture('backup-spec.json'));
      expect(started.status).toBe(202);
      expect(structuralDiff(started.body, fixture('backup-task.json'), { maps: ['context'] })).toEqual([]);
      await waitTerminal(`/v1/tasks/${(started.body as { id: string }).id}`);

      const list = await call('GET', '/v1/tasks');
      expect(list.status).toBe(200);
      // Running or successful tasks have no resolutionStatus; pending subtasks no timestamps.
      expect(structuralDiff(list.body, fixture('task-list.json'), { maps: ['context'], optional: ['resolutionStatus'] })).toEqual([]);
    });

    it('a FAILED restore Task ≅ restore-task.json (seed 001), every key at every depth', async () => {
      env.sim.faults.add({ product: 'sddc-manager', appliance: 'sddc-1', operation: 'startRestore', action: { kind: 'jobFailed', message: 'Restore of the SDDC Manager database failed' } });
      const started = await call('POST', '/v1/restores/tasks', fixture('restore-spec.json'));
      expect(started.status).toBe(202);
      const id = (started.body as { id: string }).id;
      const failed = await waitTerminal(`/v1/restores/tasks/${id}`);
      expect((failed as { status: string }).status).toBe('FAILED');
      expect(structuralDiff(failed, fixture('restore-task.json'), { maps: ['context'] })).toEqual([]);
    });
  });
});
