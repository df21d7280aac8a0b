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
  WrongState,
} from '../src/core/errors';
import { retryDecision } from '../src/core/retry';
import { Secret } from '../src/core/secrets';
import { SddcManagerClient, type SddcManagerClientOptions, type SddcTask } from '../src/sddc-manager/client';
import { jwtExpiry } from '../src/sddc-manager/tokens';
import { parseSddcError } from '../src/sddc-manager/errors';
import {
  BackupConfiguration,
  BackupConfigurationSpec,
  BackupLocation as BackupLocationSchema,
  BackupSpec,
  BackupTask,
  RestoreSpec,
  SddcError,
  Task,
  TaskList,
  TokenPair,
  Validation as ValidationSchema,
  isTerminal,
  normaliseTaskStatus,
} from '../src/sddc-manager/schemas';
import {
  SIM_BACKUP_PASSPHRASE,
  SIM_SFTP_SERVER,
  type SddcManagerAppliance,
  createSddcManagerAppliance,
  simSshFingerprint,
} from '../src/simulator/sddc-manager/appliance';
import { type ApplianceInfo, type Simulator, type SimulatorOptions, startSimulator } from '../src/simulator/server';
import type { FaultAction } from '../src/simulator/types';
import { createDispatcher } from '../src/core/tls';

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

/** Two appliances; sddc-2 starts without a backup configuration (sddc-1 has the default one). */
async function startEnv(opts: SimulatorOptions & { tls?: boolean } = {}): Promise<Env> {
  const sim = await startSimulator({
    factories: { 'sddc-manager': (i, ctx) => createSddcManagerAppliance(i, ctx, { backupConfigured: i !== 2 }) },
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
    expect(config.backupLocations?.[0]).toMatchObject({
      server: 'sftp.rainpole.io',
      protocol: 'SFTP',
      directoryPath: '/backups/sfo-vcf01',
    });
    expect(JSON.stringify(config)).not.toContain('VMw@re1!');
    expect(config.encryption).toBeUndefined();

    const upd = await c1.updateBackupConfiguration({
      backupSchedules: [
        { resourceType: 'SDDC_MANAGER', frequency: 'HOURLY', minuteOfHour: 15, takeScheduledBackups: true },
      ],
    });
    expect((await poll(() => c1.getTask(upd.id))).task.status).toBe('SUCCESSFUL');
    const after = await c1.getBackupConfiguration();
    expect(after.backupSchedules).toEqual([
      { resourceType: 'SDDC_MANAGER', frequency: 'HOURLY', minuteOfHour: 15, takeScheduledBackups: true },
    ]);
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
    expect(task.subTasks?.at(-1)?.description).toMatch(
      /vcf-backup-sddc-1-vcf-sim-local-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}\.tar\.gz/,
    );
    const counters = env.sim.counters();
    expect(counters.calls['sddc-manager']?.['sddc-1']?.startBackup).toBe(1);
    expect(counters.calls['sddc-manager']?.['sddc-1']?.getTask).toBe(seen.length);
    expect(counters.jobs).toEqual([
      expect.objectContaining({
        product: 'sddc-manager',
        appliance: 'sddc-1',
        kind: 'backup',
        id: started.id,
        label: 'SDDC Manager Backup',
      }),
    ]);
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

  it('answers a second backup (or a restore) while one runs with 400 RESOURCE_LOCKED → ResourceBusy, retried after a delay', async () => {
    const first = await c1.startBackup();
    const err = await rejection(c1.startBackup());
    expect(err).toBeInstanceOf(ResourceBusy);
    expect(err.httpStatus).toBe(400);
    expect(err.vmwareCode).toBe('RESOURCE_LOCKED');
    expect(err.messages.join(' ')).toContain(first.id);
    expect(retryDecision(err)).toEqual({ retryable: true, nextRetryDelayMs: 30_000 });
    expect(await rejection(c1.startRestore(RESTORE_SPEC))).toBeInstanceOf(ResourceBusy);
    expect((await poll(() => c1.getTask(first.id))).task.status).toBe('SUCCESSFUL');
  });

  it('ends FAILED after a jobFailed fault, and retryTask runs the task again to SUCCESSFUL', async () => {
    env.sim.faults.add({
      product: 'sddc-manager',
      appliance: 'sddc-1',
      operation: 'startBackup',
      action: { kind: 'jobFailed', message: 'SFTP upload failed: permission denied' },
    });
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
    expect(notFailed).toBeInstanceOf(WrongState);
    expect(notFailed.httpStatus).toBe(409);
    expect(notFailed.vmwareCode).toBe('TASK_NOT_RETRYABLE');
    expect(notFailed.remediation).toBe('only a FAILED task can be retried');
    expect(retryDecision(notFailed).retryable).toBe(false);
  });

  it('cancels a running backup; unknown task ids are NotFound', async () => {
    const started = await c1.startBackup();
    expect((await c1.getTask(started.id)).isCancellable).toBe(true);
    await c1.cancelTask(started.id);
    const cancelled = await c1.getTask(started.id);
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelled.isCancellable).toBe(false);
    const refused = await rejection(c1.cancelTask(started.id));
    expect(refused).toBeInstanceOf(WrongState);
    expect(refused.httpStatus).toBe(409);
    expect(refused.vmwareCode).toBe('TASK_NOT_CANCELLABLE');
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
    expect(env.sim.counters().jobs).toEqual([
      expect.objectContaining({
        product: 'sddc-manager',
        appliance: 'sddc-2',
        kind: 'restore',
        id: started.id,
        label: 'SDDC Manager Restore',
      }),
    ]);
  });

  it('restores with HTTP Basic (user admin) and no token; bad Basic credentials and a bad spec are refused', async () => {
    const password = env.sim.info.sddcManager[1]!.password;
    const basic = env.client('sddc-2', {
      restoreAuth: 'basic',
      credentials: async () => ({ username: 'admin', password: new Secret(password) }),
    });
    env.sim.resetCounters();
    const started = await basic.startRestore(RESTORE_SPEC);
    expect(await rejection(basic.getRestoreTask(started.id))).toBeInstanceOf(ServiceUnavailable);
    expect((await poll(() => basic.getRestoreTask(started.id))).task.status).toBe('SUCCESSFUL');
    expect(env.calls('sddc-2').tokenCreate).toBeUndefined();
    expect(env.calls('sddc-2').startRestore).toBe(1);

    const wrong = env.client('sddc-2', {
      restoreAuth: 'basic',
      credentials: async () => ({ username: 'admin', password: new Secret('nope') }),
    });
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
        body: JSON.stringify({
          username: env.sim.info.sddcManager[0]!.username,
          password: env.sim.info.sddcManager[0]!.password,
        }),
      });
      expect(res.statusCode).toBe(201);
      const pair = TokenPair.parse(await res.body.json());
      expect(pair.accessToken.split('.')).toHaveLength(3);
      const exp = jwtExpiry(pair.accessToken)!;
      expect(exp * 1000 - Date.now()).toBeGreaterThan(3590_000);
      expect(exp * 1000 - Date.now()).toBeLessThanOrEqual(3600_000);
      expect(jwtExpiry('opaque-token')).toBeUndefined();

      // The refresh takes the id as a JSON string (docs) or bare (PowerVCF); answers a JSON string.
      for (const body of [JSON.stringify(pair.refreshToken.id), pair.refreshToken.id]) {
        const refreshed = await request(`${env.sim.info.sddcManager[0]!.url}/v1/tokens/access-token/refresh`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json' },
          body,
        });
        expect(refreshed.statusCode).toBe(200);
        const access = (await refreshed.body.json()) as unknown;
        expect(typeof access).toBe('string');
        expect(jwtExpiry(access as string)).toBeGreaterThanOrEqual(exp);
      }
      const unknown = await request(`${env.sim.info.sddcManager[0]!.url}/v1/tokens/access-token/refresh`, {
        method: 'PATCH',
        body: JSON.stringify(randomUUID()),
      });
      expect(unknown.statusCode).toBe(404);
      expect(parseSddcError(await unknown.body.json())).toMatchObject({ vmwareCode: 'REFRESH_TOKEN_NOT_FOUND' });
    });

    it('answers a 401 mid-session by refreshing once and repeating the call once', async () => {
      const client = env.client('sddc-1');
      await client.login();
      env.sim.resetCounters();
      env.sim.faults.add({
        product: 'sddc-manager',
        appliance: 'sddc-1',
        operation: 'getTask',
        action: { kind: 'status', status: 401 },
      });
      expect((await client.getTask(taskId)).id).toBe(taskId);
      expect(env.calls()).toEqual({ getTask: 2, tokenRefresh: 1 });
    });

    it('logs in again when the refresh fails (fault), and when the refresh token is gone (real)', async () => {
      const client = env.client('sddc-1');
      await client.login();
      env.sim.resetCounters();
      env.sim.faults.add(
        { product: 'sddc-manager', appliance: 'sddc-1', operation: 'getTask', action: { kind: 'status', status: 401 } },
        {
          product: 'sddc-manager',
          appliance: 'sddc-1',
          operation: 'tokenRefresh',
          action: { kind: 'status', status: 500 },
        },
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
      env.sim.faults.add({
        product: 'sddc-manager',
        appliance: 'sddc-1',
        operation: 'getTask',
        count: 2,
        action: { kind: 'status', status: 401 },
      });
      const err = await rejection(client.getTask(taskId));
      expect(err).toBeInstanceOf(AuthenticationFailed);
      expect(retryDecision(err).retryable).toBe(false);
      expect(env.calls().getTask).toBe(2);

      const wrong = env.client('sddc-1', {
        credentials: async () => ({ username: 'administrator@vsphere.local', password: new Secret('wrong') }),
      });
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

  it('a schema fault names the field path in lists, the fingerprint lookup and validations too', async () => {
    fault('listTasks', { kind: 'schema' });
    const list = await rejection(client.listTasks());
    expect(list).toBeInstanceOf(SchemaMismatch);
    expect(list.messages.join(' ')).toContain('$.elements[0].status');
    fault('startBackup', { kind: 'status', status: 400 });
    expect(await rejection(client.startBackup())).toBeInstanceOf(InvalidArgument);
    fault('getBackupLocation', { kind: 'schema' });
    const lookup = await rejection(client.getBackupLocation({ server: 'sftp.rainpole.io' }));
    expect(lookup).toBeInstanceOf(SchemaMismatch);
    expect(lookup.messages.join(' ')).toContain('$.sshFingerprint');
    fault('validateBackupConfiguration', { kind: 'schema' });
    const validation = await rejection(client.validateBackupConfiguration(CONFIG_SPEC));
    expect(validation).toBeInstanceOf(SchemaMismatch);
    expect(validation.messages.join(' ')).toContain('$.validationChecks');
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
    expect(parsed).toEqual({
      vmwareCode: 'BACKUP_FAILED',
      messages: ['Backup failed', 'Connection refused', 'SFTP login failed', 'Auth fail'],
      remediation: 'Check the SFTP server',
    });
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

  it.each(['RUNNING', 'SUCCEEDED', 'CANCELED', '', 'IN__PROGRESS?'])(
    '%j throws UnknownRemoteState quoting it (never "still running")',
    (raw) => {
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
    },
  );

  it('isTerminal: only PENDING and IN_PROGRESS are running', () => {
    expect(
      ['PENDING', 'IN_PROGRESS', 'SUCCESSFUL', 'FAILED', 'CANCELLED', 'COMPLETED_WITH_WARNING', 'SKIPPED'].map((s) =>
        isTerminal(normaliseTaskStatus(s)),
      ),
    ).toEqual([false, false, true, true, true, true, true]);
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
function structuralDiff(
  actual: unknown,
  expected: unknown,
  opts: { optional?: string[]; maps?: string[]; extra?: string[] } = {},
  path = '$',
): string[] {
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
  for (const key of Object.keys(a))
    if (!(key in e) && !opts.extra?.includes(key)) out.push(`${path}.${key}: not in the fixture`);
  return out;
}

/** Keys the 9.1.1.0 bindings declare that the (older) seed pages do not show. */
const BINDINGS_ONLY_KEYS = [
  'localizableDescriptionPack',
  'isRetryable',
  'documentationLink',
  'remediationUrl',
  'label',
];

describe('SDDC Manager contract fixtures (seeds 001, 004 and reference §2)', () => {
  it('the structural comparison reports missing, extra and retyped keys at any depth', () => {
    const diffs = structuralDiff({ a: [{ x: 1, extra: true }], c: 'x' }, { a: [{ x: 'n', y: 2 }], b: 1, c: 'y' });
    expect(diffs).toEqual([
      '$.a[0].x: number where the fixture has string',
      '$.a[0].y: missing',
      '$.a[0].extra: not in the fixture',
      '$.b: missing',
    ]);
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
    expect(list.elements![0]?.subTasks?.map((s) => normaliseTaskStatus(s.status ?? ''))).toEqual([
      'SUCCESSFUL',
      'FAILED',
      'PENDING',
    ]);
  });

  describe('the simulator answers with the same keys and types', () => {
    let env: Env;
    let base: string;
    let token: string;
    const call = async (
      method: Dispatcher.HttpMethod,
      path: string,
      body?: unknown,
    ): Promise<{ status: number; body: unknown }> => {
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
        if (res.status === 200 && isTerminal(normaliseTaskStatus((res.body as { status: string }).status)))
          return res.body;
        await sleep(100);
      }
      throw new Error('task did not finish');
    };

    beforeAll(async () => {
      env = await startEnv();
      const a = env.sim.info.sddcManager[0]!;
      base = a.url;
      const res = await request(`${base}/v1/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: a.username, password: a.password }),
      });
      const pair = (await res.body.json()) as { accessToken: string };
      token = pair.accessToken;
      expect(structuralDiff(pair, fixture('token-pair.json'))).toEqual([]);
    });
    afterAll(async () => env?.close());

    it('Error (400, backup not configured) ≅ error.json', async () => {
      env.appliance().admin({ backupConfigured: false });
      const res = await call('POST', '/v1/backups/tasks', fixture('backup-spec.json'));
      expect(res.status).toBe(400);
      expect(structuralDiff(res.body, fixture('error.json'), { maps: ['context'] })).toEqual([]);
    });

    it('BackupConfiguration ≅ backup-configuration.json; BackupTask ≅ backup-task.json; Task list ≅ task-list.json', async () => {
      const put = await call('PUT', '/v1/system/backup-configuration', fixture('backup-configuration-spec.json'));
      expect(put.status).toBe(200);
      const config = await call('GET', '/v1/system/backup-configuration');
      expect(structuralDiff(config.body, fixture('backup-configuration.json'))).toEqual([]);

      const started = await call('POST', '/v1/backups/tasks', fixture('backup-spec.json'));
      expect(started.status).toBe(202);
      expect(structuralDiff(started.body, fixture('backup-task.json'), { maps: ['context'] })).toEqual([]);
      await waitTerminal(`/v1/tasks/${(started.body as { id: string }).id}`);

      const list = await call('GET', '/v1/tasks');
      expect(list.status).toBe(200);
      // Running or successful tasks have no resolutionStatus; pending subtasks no timestamps.
      // The seed pages predate fields the bindings declare (checked against them below).
      expect(
        structuralDiff(list.body, fixture('task-list.json'), {
          maps: ['context'],
          optional: ['resolutionStatus'],
          extra: BINDINGS_ONLY_KEYS,
        }),
      ).toEqual([]);
    });

    it('a FAILED restore Task ≅ restore-task.json (seed 001), every key at every depth', async () => {
      env.sim.faults.add({
        product: 'sddc-manager',
        appliance: 'sddc-1',
        operation: 'startRestore',
        action: { kind: 'jobFailed', message: 'Restore of the SDDC Manager database failed' },
      });
      const started = await call('POST', '/v1/restores/tasks', fixture('restore-spec.json'));
      expect(started.status).toBe(202);
      const id = (started.body as { id: string }).id;
      const failed = await waitTerminal(`/v1/restores/tasks/${id}`);
      expect((failed as { status: string }).status).toBe('FAILED');
      expect(
        structuralDiff(failed, fixture('restore-task.json'), { maps: ['context'], extra: BINDINGS_ONLY_KEYS }),
      ).toEqual([]);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The contract of VMware's generated bindings (PyPI vmware-sddc-manager 9.1.1.0), transcribed in
// fixtures/sddc-manager/bindings-9.1.1.0.json.

type BindingsType = string | BindingsType[] | { map: BindingsType };
interface BindingsOperation {
  method: string;
  path: string;
  success: number;
  errors: number[];
}
const BINDINGS = fixture('bindings-9.1.1.0.json') as {
  operations: Record<string, BindingsOperation>;
  models: Record<string, Record<string, BindingsType>>;
};

/** Where `value` strays from a bindings type: undeclared keys and wrong JSON types, at any depth. Absent/null is always fine (every field is optional). */
function bindingsDiff(value: unknown, type: BindingsType, path = '$'): string[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(type)) {
    if (!Array.isArray(value)) return [`${path}: ${kindOf(value)} where the bindings have a list`];
    return value.flatMap((v, i) => bindingsDiff(v, type[0]!, `${path}[${i}]`));
  }
  if (typeof type === 'object') {
    if (kindOf(value) !== 'object') return [`${path}: ${kindOf(value)} where the bindings have a map`];
    return Object.entries(value as object).flatMap(([k, v]) => bindingsDiff(v, type.map, `${path}.${k}`));
  }
  if (type === 'string' || type === 'boolean')
    return typeof value === type ? [] : [`${path}: ${kindOf(value)} where the bindings have ${type}`];
  if (type === 'integer')
    return Number.isInteger(value) ? [] : [`${path}: ${kindOf(value)} where the bindings have integer`];
  const model = BINDINGS.models[type];
  if (!model) return [`${path}: unknown bindings model ${type}`];
  if (kindOf(value) !== 'object') return [`${path}: ${kindOf(value)} where the bindings have ${type}`];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
    k in model ? bindingsDiff(v, model[k]!, `${path}.${k}`) : [`${path}.${k}: not declared by the bindings' ${type}`],
  );
}

/** The names of every key of `value`, at any depth. */
function keysDeep(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => keysDeep(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.add(k);
      keysDeep(v, out);
    }
  }
  return out;
}

describe.each([
  { transport: 'HTTP', tls: false },
  { transport: 'HTTPS', tls: true },
])('SDDC Manager as the 9.1.1.0 bindings declare it, over $transport', ({ tls }) => {
  let env: Env;
  let c1: SddcManagerClient;
  let base: string;
  let token: string;
  let refreshId: string;
  const call = async (
    method: Dispatcher.HttpMethod,
    path: string,
    body?: unknown,
    auth: string | null = `Bearer ${token}`,
  ): Promise<{ status: number; body: unknown }> => {
    const res = await request(`${base}${path}`, {
      method,
      dispatcher: env.dispatcher,
      headers: { ...(auth ? { authorization: auth } : {}), 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
  };
  const login = async () => {
    const a = env.sim.info.sddcManager[0]!;
    const res = await call('POST', '/v1/tokens', { username: a.username, password: a.password }, null);
    return res;
  };

  beforeAll(async () => {
    env = await startEnv({ tls });
    c1 = env.client('sddc-1');
    base = env.sim.info.sddcManager[0]!.url;
    expect(base.startsWith(tls ? 'https:' : 'http:')).toBe(true);
    const res = await login();
    const pair = res.body as { accessToken: string; refreshToken: { id: string } };
    token = pair.accessToken;
    refreshId = pair.refreshToken.id;
  });
  afterAll(async () => env?.close());

  it('a fresh appliance is configured for backups: a backup runs without any configuration call', async () => {
    env.sim.resetCounters();
    const config = await c1.getBackupConfiguration();
    expect(config.isConfigured).toBe(true);
    const location = config.backupLocations?.[0];
    expect(location).toMatchObject({
      server: SIM_SFTP_SERVER,
      port: 22,
      protocol: 'SFTP',
      directoryPath: '/backups/sddc-1.vcf.sim.local',
    });
    expect(location?.password).toBeUndefined();
    expect(location?.sshFingerprint).toBe((await c1.getBackupLocation({ server: SIM_SFTP_SERVER })).sshFingerprint);
    const started = await c1.startBackup();
    expect((await poll(() => c1.getTask(started.id))).task.status).toBe('SUCCESSFUL');
    expect(env.calls().setBackupConfiguration).toBeUndefined();
    expect(SIM_BACKUP_PASSPHRASE.length).toBeGreaterThanOrEqual(12);
  });

  it('starts unconfigured with the factory option or the admin knob; backupConfigured true brings the default back', async () => {
    const c2 = env.client('sddc-2');
    expect((await c2.getBackupConfiguration()).isConfigured).toBe(false);
    const admin = (body: unknown) =>
      request(`${env.sim.info.admin}/appliances/sddc-manager/sddc-2`, {
        method: 'POST',
        dispatcher: env.dispatcher,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const on = await admin({ backupConfigured: true });
    expect(on.statusCode).toBe(200);
    expect(await on.body.json()).toEqual({ backupConfigured: true });
    expect((await c2.getBackupConfiguration()).backupLocations?.[0]?.server).toBe(SIM_SFTP_SERVER);
    expect(await (await admin({ backupConfigured: false })).body.json()).toEqual({ backupConfigured: false });
    expect((await c2.getBackupConfiguration()).isConfigured).toBe(false);
    expect(() => env.appliance('sddc-2').admin({ backupConfigured: 'no' })).toThrow(/true or false/);
  });

  it('looks up a backup location: the SSH fingerprint per server and port; unreachable servers and bad queries answer 400', async () => {
    const a = await c1.getBackupLocation({ server: 'sftp.rainpole.io', port: 22 });
    expect(a).toEqual({
      server: 'sftp.rainpole.io',
      port: 22,
      protocol: 'SFTP',
      sshFingerprint: simSshFingerprint('sftp.rainpole.io', 22),
    });
    expect(a.sshFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect((await c1.getBackupLocation({ server: 'sftp.rainpole.io', port: 2222 })).sshFingerprint).not.toBe(
      a.sshFingerprint,
    );
    const unreachable = await rejection(c1.getBackupLocation({ server: 'sftp.example.invalid' }));
    expect(unreachable).toBeInstanceOf(InvalidArgument);
    expect(unreachable.httpStatus).toBe(400);
    expect(unreachable.vmwareCode).toBe('SSH_CONNECTION_FAILED');
    expect(unreachable.remediation).toMatch(/firewall\. See https:\/\//);
    expect(unreachable.operation).toBe('getBackupLocation');
    for (const query of [
      '',
      '?serverIp=',
      '?serverIp=sftp.rainpole.io&port=abc',
      '?serverIp=sftp.rainpole.io&port=70000',
    ]) {
      const res = await call('GET', `/v1/system/backup-configuration/backup-locations${query}`);
      expect(res.status).toBe(400);
      expect((res.body as { errorCode: string }).errorCode).toBe('VALIDATION_FAILED');
    }
  });

  it('validates a backup configuration without applying it (202 Validation): matching, wrong and missing fingerprints', async () => {
    const location = {
      ...CONFIG_SPEC.backupLocations![0]!,
      sshFingerprint: (await c1.getBackupLocation({ server: 'sftp.rainpole.io', port: 22 })).sshFingerprint!,
    };
    const good = await c1.validateBackupConfiguration({ ...CONFIG_SPEC, backupLocations: [location] });
    expect(good).toMatchObject({ executionStatus: 'COMPLETED', resultStatus: 'SUCCEEDED' });
    expect(good.validationChecks?.every((c) => c.resultStatus === 'SUCCEEDED' && c.errorResponse === undefined)).toBe(
      true,
    );

    const wrong = await c1.validateBackupConfiguration(CONFIG_SPEC);
    expect(wrong.resultStatus).toBe('FAILED');
    const mismatch = wrong.validationChecks?.find((c) => c.resultStatus === 'FAILED');
    expect(mismatch?.errorResponse).toMatchObject({
      errorCode: 'SSH_FINGERPRINT_MISMATCH',
      remediationUrl: expect.stringMatching(/^https:\/\//),
    });

    const { sshFingerprint: _omitted, ...noFingerprint } = location;
    expect((await c1.validateBackupConfiguration({ backupLocations: [noFingerprint] })).resultStatus).toBe('WARNING');
    expect(
      (await c1.validateBackupConfiguration({ backupLocations: [{ ...location, server: 'sftp.example.invalid' }] }))
        .resultStatus,
    ).toBe('FAILED');

    // Nothing was applied.
    expect((await c1.getBackupConfiguration()).backupLocations?.[0]?.server).toBe(SIM_SFTP_SERVER);
    const res = await call('POST', '/v1/system/backup-configuration/validations', {
      backupLocations: [{ server: '' }],
    });
    expect(res.status).toBe(400);
    expect((res.body as { errorCode: string }).errorCode).toBe('VALIDATION_FAILED');
  });

  it('logs out: DELETE /v1/tokens/refresh-token answers 204, the refresh token is gone, the client logs in again', async () => {
    const own = ((await login()).body as { refreshToken: { id: string } }).refreshToken.id;
    expect((await call('DELETE', '/v1/tokens/refresh-token', own, null)).status).toBe(204);
    const refused = await call('PATCH', '/v1/tokens/access-token/refresh', own, null);
    expect(refused.status).toBe(404);
    expect((await call('DELETE', '/v1/tokens/refresh-token', undefined, null)).status).toBe(400);

    const client = env.client('sddc-1');
    env.sim.resetCounters();
    await client.logout(); // before login: nothing to revoke
    expect(env.calls().tokenLogout).toBeUndefined();
    await client.login();
    await client.logout();
    await client.listTasks({ limit: 1 });
    expect(env.calls()).toEqual({ tokenCreate: 2, tokenLogout: 1, listTasks: 1 });
  });

  it("lists tasks with the bindings' filters: type, status (any spelling), name, resource, completedAfter, order, paging, limit", async () => {
    const since = Date.now();
    env.sim.faults.add({
      product: 'sddc-manager',
      appliance: 'sddc-1',
      operation: 'startBackup',
      action: { kind: 'jobFailed', message: 'SFTP upload failed' },
    });
    const failed = await c1.startBackup();
    await poll(() => c1.getTask(failed.id));
    const ok = await c1.startBackup();
    await poll(() => c1.getTask(ok.id));

    expect((await c1.listTasks({ type: 'SDDCMANAGER_BACKUP', status: 'FAILED' })).map((t) => t.id)).toEqual([
      failed.id,
    ]);
    const raw = await call('GET', '/v1/tasks?taskStatus=Failed&taskType=SDDCMANAGER_BACKUP');
    expect((raw.body as { elements: { id: string }[] }).elements.map((t) => t.id)).toEqual([failed.id]);
    expect((await c1.listTasks({ completedAfterMs: since })).map((t) => t.id)).toEqual([ok.id, failed.id]);
    expect((await c1.listTasks({ completedAfterMs: since, orderDirection: 'ASC' })).map((t) => t.id)).toEqual([
      failed.id,
      ok.id,
    ]);
    expect((await c1.listTasks({ taskName: 'sddc manager BACKUP' })).length).toBeGreaterThanOrEqual(3);
    expect(await c1.listTasks({ taskName: 'no such task' })).toEqual([]);
    expect((await c1.listTasks({ resourceType: 'SDDC_MANAGER' })).length).toBeGreaterThanOrEqual(3);
    expect(await c1.listTasks({ resourceType: 'VCENTER' })).toEqual([]);
    const resourceId = (await c1.getTask(ok.id)).resources?.[0]?.resourceId ?? undefined;
    expect((await c1.listTasks({ resourceId })).length).toBeGreaterThanOrEqual(3);
    expect(await c1.listTasks({ resourceId: randomUUID() })).toEqual([]);
    const oldest = (await c1.listTasks({ orderBy: 'creationTimestamp', orderDirection: 'ASC', limit: 1 }))[0];
    expect(Date.now() - Date.parse(oldest?.creationTimestamp ?? '')).toBeGreaterThan(3_600_000); // the automatic backup

    const all = await c1.listTasksPage();
    const total = all.tasks.length;
    const page = await c1.listTasksPage({ pageSize: 1, pageNumber: 1 });
    expect(page.tasks.map((t) => t.id)).toEqual([all.tasks[1]!.id]);
    expect(page.pageMetadata).toEqual({ pageNumber: 1, pageSize: 1, totalElements: total, totalPages: total });
    expect(await c1.listTasks({ limit: 2 })).toHaveLength(2);

    for (const bad of [{ pageSize: 101 }, { pageSize: 0 }, { orderBy: 'colour' }, { limit: -1 }]) {
      const err = await rejection(c1.listTasks(bad));
      expect(err).toBeInstanceOf(InvalidArgument);
      expect(err.vmwareCode).toBe('VALIDATION_FAILED');
    }
    expect((await call('GET', '/v1/tasks?taskStatus=RUNNING')).status).toBe(400);
    expect((await call('GET', '/v1/tasks?orderDirection=sideways')).status).toBe(400);
  });

  it('answers with the success and error statuses the bindings declare for each operation', async () => {
    const op = BINDINGS.operations;
    const expectStatus = (name: string, status: number, kind: 'success' | 'error') => {
      const o = op[name]!;
      if (kind === 'success') expect({ name, status }).toEqual({ name, status: o.success });
      else expect({ name, declared: o.errors.includes(status) }).toEqual({ name, declared: true });
    };
    expectStatus('create_token', (await login()).status, 'success');
    expectStatus(
      'refresh_access_token',
      (await call('PATCH', '/v1/tokens/access-token/refresh', refreshId, null)).status,
      'success',
    );
    expectStatus(
      'refresh_access_token',
      (await call('PATCH', '/v1/tokens/access-token/refresh', randomUUID(), null)).status,
      'error',
    );
    expectStatus('get_backup_configuration', (await call('GET', '/v1/system/backup-configuration')).status, 'success');
    expectStatus(
      'set_backup_configuration',
      (await call('PUT', '/v1/system/backup-configuration', fixture('backup-configuration-spec.json'))).status,
      'success',
    );
    expectStatus(
      'set_backup_configuration',
      (await call('PUT', '/v1/system/backup-configuration', { backupLocations: [] })).status,
      'error',
    );
    const patched = await call('PATCH', '/v1/system/backup-configuration', {
      encryption: { passphrase: 'VMw@re1!VMw@re1!' },
    });
    expectStatus('update_backup_configuration', patched.status, 'success');
    await poll(() => c1.getTask((patched.body as { id: string }).id));
    expectStatus(
      'validate_backup_configurations_operations',
      (await call('POST', '/v1/system/backup-configuration/validations', fixture('backup-configuration-spec.json')))
        .status,
      'success',
    );
    expectStatus(
      'get_backup_location',
      (await call('GET', `/v1/system/backup-configuration/backup-locations?serverIp=${SIM_SFTP_SERVER}&port=22`))
        .status,
      'success',
    );
    expectStatus(
      'get_backup_location',
      (await call('GET', '/v1/system/backup-configuration/backup-locations')).status,
      'error',
    );

    env.sim.faults.add({
      product: 'sddc-manager',
      appliance: 'sddc-1',
      operation: 'startBackup',
      action: { kind: 'jobFailed', message: 'SFTP upload failed' },
    });
    const started = await call('POST', '/v1/backups/tasks', fixture('backup-spec.json'));
    expectStatus('start_backup', started.status, 'success');
    const id = (started.body as { id: string }).id;
    expectStatus(
      'start_backup',
      (await call('POST', '/v1/backups/tasks', fixture('backup-spec.json'))).status,
      'error',
    ); // busy
    expectStatus('retry_task', (await call('PATCH', `/v1/tasks/${id}`)).status, 'error'); // still running
    await poll(() => c1.getTask(id));
    expectStatus('cancel_task', (await call('DELETE', `/v1/tasks/${id}`)).status, 'error'); // FAILED: not cancellable
    const retried = await call('PATCH', `/v1/tasks/${id}`);
    expectStatus('retry_task', retried.status, 'success');
    expect(retried.body).toBeUndefined();
    const cancelled = await call('DELETE', `/v1/tasks/${id}`);
    expectStatus('cancel_task', cancelled.status, 'success');
    expect(cancelled.body).toBeUndefined();
    expectStatus('get_task', (await call('GET', `/v1/tasks/${id}`)).status, 'success');
    expectStatus('get_task', (await call('GET', `/v1/tasks/${randomUUID()}`)).status, 'error');
    expectStatus(
      'get_tasks',
      (await call('GET', '/v1/tasks?pageSize=5&pageNumber=0&orderDirection=ASC')).status,
      'success',
    );

    const restore = await call('POST', '/v1/restores/tasks', fixture('restore-spec.json'));
    expectStatus('start_restore', restore.status, 'success');
    expectStatus('start_restore', (await call('POST', '/v1/restores/tasks', { backupFile: '' })).status, 'error');
    expectStatus('get_restore_task', (await call('GET', `/v1/restores/tasks/${randomUUID()}`)).status, 'error');
    const restoreId = (restore.body as { id: string }).id;
    expect((await call('GET', `/v1/restores/tasks/${restoreId}`)).status).toBe(503); // restarting services: outside the declared set on purpose
    expectStatus('get_restore_task', (await call('GET', `/v1/restores/tasks/${restoreId}`)).status, 'success');
    await poll(() => c1.getRestoreTask(restoreId));
    expectStatus(
      'invalidate_refresh_token',
      (await call('DELETE', '/v1/tokens/refresh-token', refreshId, null)).status,
      'success',
    );
  });

  it("every error answer is the bindings' Error model, with a remediationMessage", async () => {
    const bodies: [string, number, unknown][] = [];
    const collect = async (label: string, p: Promise<{ status: number; body: unknown }>) => {
      const res = await p;
      expect(res.status, label).toBeGreaterThanOrEqual(400);
      bodies.push([label, res.status, res.body]);
    };
    const a = env.sim.info.sddcManager[0]!;
    await collect('bad login', call('POST', '/v1/tokens', { username: a.username, password: 'wrong' }, null));
    await collect('login without body', call('POST', '/v1/tokens', undefined, null));
    await collect('no token', call('GET', '/v1/tasks', undefined, null));
    await collect('bad token', call('GET', '/v1/tasks', undefined, 'Bearer a.b.c'));
    await collect('unknown refresh token', call('PATCH', '/v1/tokens/access-token/refresh', randomUUID(), null));
    await collect(
      'bad configuration',
      call('PUT', '/v1/system/backup-configuration', { backupLocations: [{ server: 'x' }] }),
    );
    await collect('unknown task', call('GET', `/v1/tasks/${randomUUID()}`));
    await collect('bad task filter', call('GET', '/v1/tasks?pageSize=1000'));
    await collect('unknown restore task', call('GET', `/v1/restores/tasks/${randomUUID()}`));
    await collect('bad backup spec', call('POST', '/v1/backups/tasks', { elements: [] }));
    await collect('no route', call('GET', '/v1/no-such-thing'));
    const started = (await call('POST', '/v1/backups/tasks', fixture('backup-spec.json'))).body as { id: string };
    await collect('busy', call('POST', '/v1/backups/tasks', fixture('backup-spec.json')));
    await collect('retry a running task', call('PATCH', `/v1/tasks/${started.id}`));
    await poll(() => c1.getTask(started.id));
    await collect('cancel a finished task', call('DELETE', `/v1/tasks/${started.id}`));
    env.sim.faults.add({
      product: 'sddc-manager',
      appliance: 'sddc-1',
      operation: 'getTask',
      action: { kind: 'status', status: 500 },
    });
    await collect('status fault', call('GET', `/v1/tasks/${started.id}`));
    env.sim.faults.add({
      product: 'sddc-manager',
      appliance: 'sddc-1',
      operation: 'getTask',
      action: { kind: 'error', error: 'RESOURCE_LOCKED' },
    });
    await collect('error fault', call('GET', `/v1/tasks/${started.id}`));
    env.appliance().admin({ backupConfigured: false });
    await collect('not configured', call('POST', '/v1/backups/tasks', fixture('backup-spec.json')));
    env.appliance().admin({ backupConfigured: true });

    for (const [label, status, body] of bodies) {
      expect({ label, diff: bindingsDiff(body, 'Error') }).toEqual({ label, diff: [] });
      expect({ label, keys: Object.keys(body as object).sort() }).toEqual({
        label,
        keys: expect.arrayContaining([
          'arguments',
          'causes',
          'context',
          'errorCode',
          'errorType',
          'message',
          'nestedErrors',
          'referenceToken',
          'remediationMessage',
        ]),
      });
      expect(SddcError.safeParse(body).success, label).toBe(true);
      expect(status, label).not.toBe(200);
    }
    expect(new Set(bodies.map(([, status]) => status))).toEqual(new Set([400, 401, 404, 409, 500]));
  });

  it('answers conform to the bindings models, including the fields the seed pages lack', async () => {
    const conform = (model: string, body: unknown) =>
      expect({ model, diff: bindingsDiff(body, model) }).toEqual({ model, diff: [] });
    conform('TokenPair', (await login()).body);
    conform('BackupConfiguration', (await call('GET', '/v1/system/backup-configuration')).body);
    conform(
      'BackupLocation',
      (await call('GET', `/v1/system/backup-configuration/backup-locations?serverIp=${SIM_SFTP_SERVER}`)).body,
    );
    conform(
      'Validation',
      (await call('POST', '/v1/system/backup-configuration/validations', fixture('backup-configuration-spec.json')))
        .body,
    );
    const seen = new Set<string>();
    const configTask = (
      await call('PATCH', '/v1/system/backup-configuration', { encryption: { passphrase: 'VMw@re1!VMw@re1!' } })
    ).body;
    conform('Task', configTask);
    await poll(() => c1.getTask((configTask as { id: string }).id));
    env.sim.faults.add({
      product: 'sddc-manager',
      appliance: 'sddc-1',
      operation: 'startBackup',
      action: { kind: 'jobFailed', message: 'SFTP upload failed' },
    });
    const started = (await call('POST', '/v1/backups/tasks', fixture('backup-spec.json'))).body as { id: string };
    conform('BackupTask', started);
    const running = (await call('GET', `/v1/tasks/${started.id}`)).body;
    conform('Task', running);
    keysDeep(running, seen);
    await poll(() => c1.getTask(started.id));
    const failed = (await call('GET', `/v1/tasks/${started.id}`)).body as {
      isRetryable: boolean;
      errors: { remediationUrl?: string }[];
    };
    conform('Task', failed);
    keysDeep(failed, seen);
    expect(failed.isRetryable).toBe(true);
    expect(failed.errors[0]?.remediationUrl).toMatch(/^https:\/\//);
    const page = (await call('GET', '/v1/tasks')).body;
    conform('PageOfTask', page);
    keysDeep(page, seen);
    // What the simulator used to leave out is sent now.
    expect([...seen]).toEqual(
      expect.arrayContaining([
        'isRetryable',
        'isCancellable',
        'localizableDescriptionPack',
        'bundle',
        'messageKey',
        'documentationLink',
        'subTasks',
        'stages',
        'remediationUrl',
        'label',
        'resolutionStatus',
      ]),
    );
    const nested = (failed as unknown as { subTasks: { subTasks: unknown[] }[] }).subTasks.flatMap((s) => s.subTasks);
    expect(nested.length).toBeGreaterThan(0);
  });
});

describe('SDDC Manager client schemas against the 9.1.1.0 bindings', () => {
  it('the client schemas accept what the bindings declare (every field absent or null) and refuse garbage', () => {
    const allNull = (model: string, keep: Record<string, unknown> = {}) => ({
      ...Object.fromEntries(Object.keys(BINDINGS.models[model]!).map((k) => [k, null])),
      ...keep,
    });
    const accepts: [string, z.ZodType, Record<string, unknown>?][] = [
      ['Error', SddcError],
      ['Task', Task, { id: 't-1', status: 'PENDING' }],
      ['BackupTask', BackupTask, { id: 't-1', status: 'IN_PROGRESS' }],
      ['PageOfTask', TaskList],
      ['BackupConfiguration', BackupConfiguration],
      ['BackupLocation', BackupLocationSchema],
      ['Validation', ValidationSchema],
    ];
    for (const [model, schema, keep] of accepts) {
      expect({ model, issues: schema.safeParse(allNull(model, keep)).error?.issues ?? [] }).toEqual({
        model,
        issues: [],
      });
      expect({ model, issues: schema.safeParse(keep ?? {}).error?.issues ?? [] }).toEqual({ model, issues: [] });
    }
    const garbage: [z.ZodType, unknown][] = [
      [Task, { id: 't', status: 42 }],
      [Task, { status: 'FAILED' }],
      [Task, { id: 't', status: 'FAILED', isRetryable: 'yes' }],
      [Task, { id: 't', status: 'FAILED', subTasks: [{ documentationLink: 'x' }] }],
      [Task, { id: 't', status: 'FAILED', localizableDescriptionPack: { arguments: 'x' } }],
      [TaskList, { elements: [{ id: 't', status: 'FAILED' }], pageMetadata: { pageNumber: 1.5 } }],
      [BackupConfiguration, { isConfigured: 'yes' }],
      [BackupLocationSchema, { port: 'twenty-two' }],
      [ValidationSchema, { validationChecks: [{ nestedValidationChecks: [{ acknowledge: 'no' }] }] }],
      [SddcError, { remediationUrl: 7 }],
    ];
    for (const [schema, value] of garbage) expect(schema.safeParse(value).success, JSON.stringify(value)).toBe(false);
  });
});
