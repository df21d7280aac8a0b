/**
 * VcenterClient against the simulated vCenter over real HTTP and HTTPS, in both wire forms
 * (`/api` and legacy `/rest`) and with form auto-detection: every client operation, the restore
 * flow through the service-restart window, session expiry, and the error taxonomy.
 */
import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthenticationFailed,
  InvalidArgument,
  NetworkError,
  NotFound,
  PermissionDenied,
  ProtocolError,
  RequestTimeout,
  ResourceBusy,
  SchemaMismatch,
  ServerError,
  ServiceUnavailable,
  type VmwareApiError,
  WrongState,
} from '../src/core/errors';
import { normaliseVapiErrorType } from '../src/vcenter/errors';
import { Secret } from '../src/core/secrets';
import { type Simulator, startSimulator } from '../src/simulator/server';
import type { FaultAction, SimulatorContext } from '../src/simulator/types';
import { createDispatcher } from '../src/core/tls';
import { VcenterClient } from '../src/vcenter/client';
import type { VcenterApiForm } from '../src/vcenter/wire';
import type { BackupJobStatus, RestoreJobStatus } from '../src/vcenter/schemas';
import { VcenterAppliance, createLegacyVcenterAppliance } from '../src/simulator/vcenter/appliance';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const GOOD_PASSWORD = 'Good#Pass1';

/** The vAPI error type of a failure, whatever the form (`FEATURE_IN_USE`, not `com.vmware...feature_in_use`). */
const vapiType = (err: VmwareApiError) => normaliseVapiErrorType(err.vmwareCode ?? '');

/** Runs `fn` and returns what it threw (fails the test if it did not throw). */
async function failure(fn: () => Promise<unknown>): Promise<VmwareApiError> {
  try {
    await fn();
  } catch (err) {
    return err as VmwareApiError;
  }
  throw new Error('expected the call to fail');
}

interface Fixture {
  sim: Simulator;
  dispatcher?: Agent;
  client(index?: number, apiForm?: VcenterApiForm | 'auto'): VcenterClient;
  appliance(index?: number): VcenterAppliance;
  calls(index: number, operation: string): number;
  close(): Promise<void>;
}

async function fixture(opts: {
  http: boolean;
  vcenters?: number;
  sessionIdleSeconds?: number;
  legacy?: boolean;
}): Promise<Fixture> {
  const sim = await startSimulator({
    vcenters: opts.vcenters ?? 1,
    jobSeconds: 1,
    http: opts.http,
    ...(opts.sessionIdleSeconds !== undefined && { sessionIdleSeconds: opts.sessionIdleSeconds }),
    ...(opts.legacy && { factories: { vcenter: createLegacyVcenterAppliance } }),
  });
  const dispatcher = opts.http ? undefined : createDispatcher({ tls: { caFile: sim.info.caFile } });
  return {
    sim,
    dispatcher,
    client(index = 0, apiForm = 'auto') {
      const vc = sim.info.vcenter[index]!;
      return new VcenterClient({
        url: vc.url,
        appliance: `vc-${index + 1}`,
        apiForm,
        dispatcher,
        timeoutMs: 5_000,
        credentials: async () => ({ username: vc.username, password: new Secret(vc.password) }),
      });
    },
    appliance(index = 0) {
      return sim.appliance('vcenter', `vc-${index + 1}`) as VcenterAppliance;
    },
    calls(index, operation) {
      return sim.counters().calls.vcenter?.[`vc-${index + 1}`]?.[operation] ?? 0;
    },
    async close() {
      await dispatcher?.close();
      await sim.close();
    },
  };
}

async function waitBackup(c: VcenterClient, id: string): Promise<BackupJobStatus> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const s = await c.backupJobGet(id);
    if (s.state !== 'INPROGRESS' || Date.now() > deadline) return s;
    await sleep(100);
  }
}

describe.each([
  { transport: 'http', http: true },
  { transport: 'https', http: false },
])('VcenterClient over $transport', ({ http }) => {
  describe.each(['api', 'rest'] as const)('form %s', (form) => {
    let f: Fixture;
    beforeAll(async () => {
      f = await fixture({ http, vcenters: 2 });
    });
    afterAll(async () => f?.close());

    it('sessions: login, info, logout, and a transparent re-login afterwards', async () => {
      const c = f.client(0, form);
      await c.login();
      expect(c.apiForm).toBe(form);
      const info = await c.sessionInfo();
      expect(info.user).toMatch(/administrator/i);
      expect(Date.parse(info.last_accessed_time)).toBeGreaterThanOrEqual(Date.parse(info.created_time));
      const before = f.calls(0, 'sessionCreate');
      await c.logout();
      expect(f.calls(0, 'sessionDelete')).toBe(1);
      expect(await c.recoveryInfo()).toEqual({ supported: true });
      expect(f.calls(0, 'sessionCreate')).toBe(before + 1);
    });

    it('backup: parts, validate, create, list, get, details, cancel, and their errors', async () => {
      const c = f.client(0, form);
      const parts = await c.backupParts();
      expect(parts.map((p) => p.id)).toEqual(['common', 'seat']);
      expect(parts.find((p) => p.id === 'common')).toMatchObject({ optional: false, selected_by_default: true });
      expect(parts.find((p) => p.id === 'seat')?.optional).toBe(true);
      expect(await c.backupPartSize('common')).toBeGreaterThan(0);
      expect(await failure(() => c.backupPartSize('nope'))).toBeInstanceOf(NotFound);

      const location = `sftp://backup.example.test/${form}/manual`;
      const request = {
        parts: ['seat'],
        location_type: 'SFTP' as const,
        location,
        location_user: 'backup',
        location_password: 'pw',
        comment: 'manual one',
        backup_password: GOOD_PASSWORD,
      };
      expect(await c.backupValidate(request)).toMatchObject({ status: 'OK' });
      expect((await c.backupValidate({ ...request, location_type: 'NFS' })).status).toBe('FAIL');
      const badPw = await failure(() => c.backupValidate({ ...request, backup_password: 'short' }));
      expect(badPw).toBeInstanceOf(InvalidArgument);
      expect(badPw.messages.join(' ')).toContain('8 to 20');
      expect(badPw.message).not.toContain('short"');

      const job = await c.backupJobCreate(request);
      expect(job).toMatchObject({ state: 'INPROGRESS' });
      expect(job.id).toMatch(/^\d{8}-\d{6}-\d+$/);
      expect(await c.backupJobList()).toContain(job.id);
      expect((await c.backupJobGet(job.id)).id).toBe(job.id);
      const busy = await failure(() => c.backupJobCreate(request));
      expect(busy).toBeInstanceOf(ResourceBusy);
      expect(vapiType(busy)).toBe('FEATURE_IN_USE');
      expect(await failure(() => c.backupValidate(request))).toBeInstanceOf(ResourceBusy);

      const running = await c.backupJobDetails([job.id]);
      expect(Object.keys(running)).toEqual([job.id]);
      expect(running[job.id]).toMatchObject({
        location,
        location_user: 'backup',
        type: 'MANUAL',
        status: 'RUNNING',
        cancelable: true,
        operation: 'backup',
      });
      expect(running[job.id]?.description.default_message).toContain('manual one');
      expect(running[job.id]?.progress?.total).toBe(100);

      expect(await c.backupJobCancel(job.id)).toMatchObject({ status: 'OK' });
      expect((await c.backupJobGet(job.id)).state).toBe('FAILED');
      expect((await c.backupJobCancel(job.id)).status).toBe('FAIL');
      expect(await failure(() => c.backupJobGet('20000101-000000-1'))).toBeInstanceOf(NotFound);
      expect(await failure(() => c.backupJobCancel('20000101-000000-1'))).toBeInstanceOf(NotFound);

      const second = await c.backupJobCreate({ ...request, comment: 'manual two' });
      const done = await waitBackup(c, second.id);
      expect(done).toMatchObject({ state: 'SUCCEEDED', progress: 100 });
      expect(done.end_time).toBeDefined();
      const all = await c.backupJobDetails();
      expect(Object.keys(all).sort()).toEqual([job.id, second.id].sort());
      expect(all[second.id]).toMatchObject({ status: 'SUCCEEDED', cancelable: false });
      expect(all[second.id]?.end_time).toBeDefined();
      expect(all[job.id]?.status).toBe('FAILED');
      // Validate now warns: the location already holds a backup of this appliance.
      expect((await c.backupValidate(request)).status).toBe('WARNING');
    });

    it('schedules: create, list, get, update, run, delete, and their errors', async () => {
      const c = f.client(0, form);
      const location = `sftp://backup.example.test/${form}/scheduled`;
      await c.scheduleCreate('default', {
        location,
        location_user: 'backup',
        location_password: 'pw',
        backup_password: GOOD_PASSWORD,
        recurrence_info: { hour: 23, minute: 30, days: ['MONDAY', 'THURSDAY'] },
        retention_info: { max_count: 3 },
      });
      expect(await c.schedulesList()).toEqual({
        default: {
          parts: ['seat'],
          location,
          location_user: 'backup',
          enable: true,
          recurrence_info: { hour: 23, minute: 30, days: ['MONDAY', 'THURSDAY'] },
          retention_info: { max_count: 3 },
        },
      });
      const exists = await failure(() => c.scheduleCreate('other', { location }));
      expect(exists).toBeInstanceOf(InvalidArgument);
      expect(vapiType(exists)).toBe('ALREADY_EXISTS');

      await c.scheduleUpdate('default', { enable: false, recurrence_info: { hour: 2, minute: 5 } });
      expect(await c.scheduleGet('default')).toMatchObject({
        enable: false,
        recurrence_info: { hour: 2, minute: 5 },
        retention_info: { max_count: 3 },
      });
      expect(
        await failure(() => c.scheduleUpdate('default', { recurrence_info: { hour: 25, minute: 0 } })),
      ).toBeInstanceOf(InvalidArgument);
      for (const call of [
        () => c.scheduleGet('nope'),
        () => c.scheduleUpdate('nope', { enable: true }),
        () => c.scheduleDelete('nope'),
        () => c.scheduleRun('nope'),
      ]) {
        expect(await failure(call)).toBeInstanceOf(NotFound);
      }

      const job = await c.scheduleRun('default', 'run now');
      expect(job.state).toBe('INPROGRESS');
      expect(await failure(() => c.scheduleRun('default'))).toBeInstanceOf(ResourceBusy);
      const details = await c.backupJobDetails([job.id]);
      expect(details[job.id]).toMatchObject({ type: 'SCHEDULED', location, location_user: 'backup' });
      expect(details[job.id]?.description.default_message).toContain('run now');
      expect((await c.backupJobCancel(job.id)).status).toBe('OK');

      await c.scheduleDelete('default');
      expect(await c.schedulesList()).toEqual({});
    });

    it('archives, restore through the service restart, and reconciliation', async () => {
      const source = f.client(0, form);
      const target = f.client(1, form);
      const location = `sftp://backup.example.test/${form}/dr`;
      const backup = await source.backupJobCreate({
        parts: ['seat'],
        location_type: 'SFTP',
        location,
        comment: 'nightly [vmware-dr:step-1]',
        backup_password: GOOD_PASSWORD,
      });
      expect((await waitBackup(source, backup.id)).state).toBe('SUCCEEDED');

      // The backup server is shared: the (future) restore target sees vc-1's archive.
      expect(await target.systemNames({ location })).toEqual(['vc-1.sim.local']);
      expect(
        await failure(() => target.systemNames({ location: 'sftp://backup.example.test/nowhere' })),
      ).toBeInstanceOf(NotFound);
      const archives = await target.archives('vc-1.sim.local', { location }, { comment_substring: 'nightly' });
      expect(archives).toHaveLength(1);
      expect(archives[0]).toMatchObject({ comment: 'nightly [vmware-dr:step-1]' });
      expect(await target.archives('vc-1.sim.local', { location }, { comment_substring: 'weekly' })).toEqual([]);
      expect(
        await target.archives(
          'vc-1.sim.local',
          { location },
          { start_timestamp: new Date(Date.now() + 3_600_000).toISOString() },
        ),
      ).toEqual([]);
      expect(
        await target.archives(
          'vc-1.sim.local',
          { location },
          { end_timestamp: new Date(Date.now() + 3_600_000).toISOString(), max_results: 5 },
        ),
      ).toHaveLength(1);
      expect(await target.archives('vc-1.sim.local', { location }, { max_results: 0 })).toEqual([]);
      expect(await failure(() => target.archives('vc-9.sim.local', { location }))).toBeInstanceOf(NotFound);
      const archive = await target.archiveGet('vc-1.sim.local', archives[0]!.archive, { location });
      expect(archive).toMatchObject({
        system_name: 'vc-1.sim.local',
        parts: ['common', 'seat'],
        comment: 'nightly [vmware-dr:step-1]',
      });
      expect(archive.location).toContain(archives[0]!.archive);
      expect(await failure(() => target.archiveGet('vc-1.sim.local', 'M_nope', { location }))).toBeInstanceOf(NotFound);

      const restore = { location_type: 'SFTP' as const, location: archive.location, backup_password: GOOD_PASSWORD };
      // A running appliance refuses a restore.
      const wrong = await failure(() => target.restoreJobCreate({ ...restore, ignore_warnings: true }));
      expect(wrong).toBeInstanceOf(WrongState);
      expect(vapiType(wrong)).toBe('NOT_ALLOWED_IN_CURRENT_STATE');
      expect((await target.restoreValidate(restore)).applicable).toBe(false);
      expect((await target.restoreJobGet()).state).toBe('NONE');
      expect(await failure(() => target.reconciliationJobGet())).toBeInstanceOf(NotFound);

      // Freshly deployed: the restore stage.
      f.appliance(1).setStage('restore');
      const meta = await target.restoreValidate({ ...restore, ignore_warnings: true } as typeof restore);
      expect(meta).toMatchObject({
        applicable: true,
        boxname: 'vc-1.sim.local',
        parts: ['common', 'seat'],
        comment: 'nightly [vmware-dr:step-1]',
      });
      expect(meta.messages.length).toBeGreaterThan(0);
      expect(
        await failure(() => target.restoreValidate({ ...restore, backup_password: 'Wrong#Pass1' })),
      ).toBeInstanceOf(InvalidArgument);
      expect(await failure(() => target.reconciliationJobCreate({}))).toBeInstanceOf(WrongState);

      // Warnings not ignored: the job fails at once.
      const refused = await target.restoreJobCreate(restore);
      expect(refused.state).toBe('FAILED');
      expect(refused.messages.map((m) => m.default_message).join(' ')).toContain('ignore_warnings');

      const logins = f.calls(1, 'sessionCreate');
      const started = await target.restoreJobCreate({ ...restore, ignore_warnings: true });
      expect(started.state).toBe('INPROGRESS');
      expect(await failure(() => target.restoreJobCreate({ ...restore, ignore_warnings: true }))).toBeInstanceOf(
        ResourceBusy,
      );

      // Poll through the restart: 503s and dropped connections, then a transparent re-login.
      const seen = new Set<string>();
      let last: RestoreJobStatus | undefined;
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        try {
          last = await target.restoreJobGet();
          if (last.state !== 'INPROGRESS') break;
        } catch (err) {
          expect(
            [ServiceUnavailable, NetworkError].some((cls) => err instanceof cls),
            String(err),
          ).toBe(true);
          seen.add((err as Error).name);
        }
        await sleep(30);
      }
      expect([...seen].sort()).toEqual(['NetworkError', 'ServiceUnavailable']);
      expect(last?.state).toBe('SUCCEEDED');
      expect(last?.messages.map((m) => m.default_message)).toContain('Appliance services restarted.');
      expect(f.calls(1, 'sessionCreate')).toBe(logins + 1);
      expect(f.appliance(1).stage).toBe('running');
      expect((await target.restoreJobCancel()).status).toBe('FAIL');

      // Post-restore reconciliation.
      expect((await target.reconciliationJobGet()).status).toBe('NONE');
      const vc2 = f.sim.info.vcenter[1]!;
      const recon = await target.reconciliationJobCreate({
        sso_admin_user_name: vc2.username,
        sso_admin_user_password: vc2.password,
        ignore_warnings: true,
      });
      expect(recon.status).toBe('RUNNING');
      expect(await failure(() => target.reconciliationJobCreate({}))).toBeInstanceOf(ResourceBusy);
      let info = recon;
      for (const until = Date.now() + 5_000; info.status === 'RUNNING' && Date.now() < until;) {
        await sleep(100);
        info = await target.reconciliationJobGet();
      }
      expect(info).toMatchObject({ status: 'SUCCEEDED', progress: 100 });

      // Running again: a second restore is refused.
      expect(await failure(() => target.restoreJobCreate({ ...restore, ignore_warnings: true }))).toBeInstanceOf(
        WrongState,
      );
    });

    it('restore cancel', async () => {
      const c = f.client(1, form);
      const location = `sftp://backup.example.test/${form}/dr`;
      const [archive] = await c.archives('vc-1.sim.local', { location });
      const info = await c.archiveGet('vc-1.sim.local', archive!.archive, { location });
      f.appliance(1).setStage('restore');
      const started = await c.restoreJobCreate({
        location_type: 'SFTP',
        location: info.location,
        backup_password: GOOD_PASSWORD,
        ignore_warnings: true,
      });
      expect(started.state).toBe('INPROGRESS');
      expect(await c.restoreJobCancel()).toMatchObject({ status: 'OK' });
      const s = await c.restoreJobGet();
      expect(s.state).toBe('FAILED');
      expect(s.messages.map((m) => m.default_message).join(' ')).toContain('canceled');
      expect(f.appliance(1).stage).toBe('restore');
      f.appliance(1).setStage('running');
    });
  });
});

describe('VcenterClient API form detection', () => {
  it('uses /api when the appliance has it', async () => {
    const f = await fixture({ http: true });
    try {
      const c = f.client(0, 'auto');
      await c.recoveryInfo();
      expect(c.apiForm).toBe('api');
    } finally {
      await f.close();
    }
  });

  it('falls back to /rest when /api/session answers 404', async () => {
    const f = await fixture({ http: true });
    try {
      f.sim.faults.add({ appliance: 'vc-1', operation: 'sessionCreate', action: { kind: 'status', status: 404 } });
      const c = f.client(0, 'auto');
      expect(await c.backupJobList()).toEqual([]);
      expect(c.apiForm).toBe('rest');
      expect(f.calls(0, 'sessionCreate')).toBe(2);
    } finally {
      await f.close();
    }
  });

  it('falls back to /rest on a legacy appliance that has no /api at all', async () => {
    const f = await fixture({ http: true, legacy: true });
    try {
      const c = f.client(0, 'auto');
      expect(await c.recoveryInfo()).toEqual({ supported: true });
      expect(c.apiForm).toBe('rest');
      expect(f.calls(0, 'unknown')).toBe(1); // the POST /api/session
      expect(await failure(() => f.client(0, 'api').recoveryInfo())).toBeInstanceOf(NotFound);
    } finally {
      await f.close();
    }
  });
});

describe('VcenterClient sessions', () => {
  it('logs in again transparently after the idle timeout', async () => {
    const f = await fixture({ http: true, sessionIdleSeconds: 0.2 });
    try {
      const c = f.client(0, 'api');
      await c.recoveryInfo();
      await sleep(400);
      expect(await c.recoveryInfo()).toEqual({ supported: true });
      expect(f.calls(0, 'sessionCreate')).toBe(2);
      expect(f.calls(0, 'recoveryGet')).toBe(3);
    } finally {
      await f.close();
    }
  });

  it('gives up with AuthenticationFailed when the re-login does not help', async () => {
    const f = await fixture({ http: true });
    try {
      const c = f.client(0, 'rest');
      await c.login();
      f.sim.faults.add({
        appliance: 'vc-1',
        operation: 'backupJobList',
        count: 2,
        action: { kind: 'error', error: 'UNAUTHENTICATED' },
      });
      expect(await failure(() => c.backupJobList())).toBeInstanceOf(AuthenticationFailed);
      expect(f.calls(0, 'sessionCreate')).toBe(2);
    } finally {
      await f.close();
    }
  });
});

describe.each(['api', 'rest'] as const)('VcenterClient error classes (%s form, injected faults)', (form) => {
  let f: Fixture;
  let c: VcenterClient;
  beforeAll(async () => {
    f = await fixture({ http: true });
    c = f.client(0, form);
    await c.login();
  });
  afterAll(async () => f?.close());

  const arm = (operation: string, action: FaultAction) => f.sim.faults.add({ appliance: 'vc-1', operation, action });
  const request = { parts: [], location_type: 'SFTP' as const, location: 'sftp://backup.example.test/faults' };

  it.each<
    [string, string, FaultAction, new (...args: never[]) => VmwareApiError, (c: VcenterClient) => Promise<unknown>]
  >([
    [
      'FEATURE_IN_USE',
      'backupJobCreate',
      { kind: 'error', error: 'FEATURE_IN_USE' },
      ResourceBusy,
      (x) => x.backupJobCreate(request),
    ],
    ['status 503', 'backupJobList', { kind: 'status', status: 503 }, ServiceUnavailable, (x) => x.backupJobList()],
    ['TIMED_OUT', 'recoveryGet', { kind: 'error', error: 'TIMED_OUT' }, RequestTimeout, (x) => x.recoveryInfo()],
    ['reset', 'backupPartList', { kind: 'reset' }, NetworkError, (x) => x.backupParts()],
    ['malformed', 'scheduleList', { kind: 'malformed' }, ProtocolError, (x) => x.schedulesList()],
    [
      'UNAUTHORIZED',
      'restoreJobGet',
      { kind: 'error', error: 'UNAUTHORIZED' },
      PermissionDenied,
      (x) => x.restoreJobGet(),
    ],
    [
      'INVALID_ARGUMENT',
      'backupValidate',
      { kind: 'error', error: 'INVALID_ARGUMENT' },
      InvalidArgument,
      (x) => x.backupValidate(request),
    ],
    [
      'NOT_FOUND',
      'archiveList',
      { kind: 'error', error: 'NOT_FOUND' },
      NotFound,
      (x) => x.archives('vc-1.sim.local', { location: request.location }),
    ],
  ])('%s → its class', async (_name, operation, action, cls, call) => {
    arm(operation, action);
    const err = await failure(() => call(c));
    expect(err).toBeInstanceOf(cls);
    expect(err.operation).toBe(operation);
    expect(err.appliance).toBe('vc-1');
  });

  it('malformed JSON is a ProtocolError, not a SchemaMismatch', async () => {
    arm('backupJobList', { kind: 'malformed' });
    const err = await failure(() => c.backupJobList());
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err).not.toBeInstanceOf(SchemaMismatch);
  });

  it('schema → SchemaMismatch quoting the wire field path', async () => {
    const job = await c.backupJobCreate({ ...request, comment: 'schema' });
    arm('backupJobGet', { kind: 'schema' });
    const err = await failure(() => c.backupJobGet(job.id));
    expect(err).toBeInstanceOf(SchemaMismatch);
    expect(err.messages.join('\n')).toContain(form === 'api' ? '$.state:' : '$.value.state:');
    await c.backupJobCancel(job.id);
  });

  it('schema on a /rest map or an /api record names the entry', async () => {
    arm('backupJobDetails', { kind: 'schema' });
    const err = await failure(() => c.backupJobDetails());
    expect(err).toBeInstanceOf(SchemaMismatch);
    expect(err.messages.join('\n')).toMatch(form === 'api' ? /\$\.state:/ : /\$\.value:/);
  });

  it('every client operation reports the simulator operation name', async () => {
    const loc = { location: 'sftp://backup.example.test/faults' };
    const calls: [string, (x: VcenterClient) => Promise<unknown>][] = [
      ['sessionGet', (x) => x.sessionInfo()],
      ['recoveryGet', (x) => x.recoveryInfo()],
      ['backupJobCreate', (x) => x.backupJobCreate(request)],
      ['backupJobList', (x) => x.backupJobList()],
      ['backupJobGet', (x) => x.backupJobGet('x')],
      ['backupJobCancel', (x) => x.backupJobCancel('x')],
      ['backupJobDetails', (x) => x.backupJobDetails(['x'])],
      ['backupPartList', (x) => x.backupParts()],
      ['backupPartSize', (x) => x.backupPartSize('common')],
      ['backupValidate', (x) => x.backupValidate(request)],
      ['restoreJobCreate', (x) => x.restoreJobCreate({ location_type: 'SFTP', location: loc.location })],
      ['restoreJobGet', (x) => x.restoreJobGet()],
      ['restoreJobCancel', (x) => x.restoreJobCancel()],
      ['restoreValidate', (x) => x.restoreValidate({ location_type: 'SFTP', location: loc.location })],
      ['scheduleList', (x) => x.schedulesList()],
      ['scheduleCreate', (x) => x.scheduleCreate('default', loc)],
      ['scheduleGet', (x) => x.scheduleGet('default')],
      ['scheduleUpdate', (x) => x.scheduleUpdate('default', {})],
      ['scheduleDelete', (x) => x.scheduleDelete('default')],
      ['scheduleRun', (x) => x.scheduleRun('default')],
      ['systemNameList', (x) => x.systemNames(loc)],
      ['archiveList', (x) => x.archives('vc-1.sim.local', loc)],
      ['archiveGet', (x) => x.archiveGet('vc-1.sim.local', 'a', loc)],
      ['reconciliationJobCreate', (x) => x.reconciliationJobCreate({})],
      ['reconciliationJobGet', (x) => x.reconciliationJobGet()],
      ['sessionDelete', (x) => x.logout()],
    ];
    for (const [operation, call] of calls) {
      arm(operation, { kind: 'error', error: 'INTERNAL_SERVER_ERROR' });
      const err = await failure(() => call(c));
      expect(err, operation).toBeInstanceOf(ServerError);
      expect(err.operation).toBe(operation);
    }
    // sessionCreate: a fresh client logs in.
    arm('sessionCreate', { kind: 'error', error: 'INTERNAL_SERVER_ERROR' });
    const err = await failure(() => f.client(0, form).login());
    expect(err).toBeInstanceOf(ServerError);
    expect(err.operation).toBe('sessionCreate');
  });
});

describe('VcenterAppliance routes', () => {
  const ctx: SimulatorContext = {
    jobSeconds: 1,
    sessionIdleSeconds: 1800,
    tokenTtlSeconds: 3600,
    recordJob: () => undefined,
    now: () => Date.now(),
  };

  it('names each logical operation once per form, identically in both forms', () => {
    const all = new VcenterAppliance(1, ctx).routes();
    // vAPI JSON-RPC is one transport route (`POST /api`) over the `/api` operations, not one of them.
    expect(all.filter((r) => r.operation === 'jsonRpcInvoke').map((r) => `${r.method} ${r.pattern}`)).toEqual([
      'POST /api',
    ]);
    const routes = all.filter((r) => r.operation !== 'jsonRpcInvoke');
    const byOp = new Map<string, string[]>();
    for (const r of routes)
      byOp.set(r.operation, [...(byOp.get(r.operation) ?? []), r.pattern.startsWith('/api') ? 'api' : 'rest']);
    for (const [op, forms] of byOp) expect(forms.sort(), op).toEqual(['api', 'rest']);
    expect([...byOp.keys()].sort()).toEqual(
      [
        'archiveGet',
        'archiveList',
        'backupJobCancel',
        'backupJobCreate',
        'backupJobDetails',
        'backupJobGet',
        'backupJobList',
        'backupPartList',
        'backupPartSize',
        'backupValidate',
        'reconciliationJobCreate',
        'reconciliationJobGet',
        'recoveryGet',
        'restoreJobCancel',
        'restoreJobCreate',
        'restoreJobGet',
        'restoreValidate',
        'scheduleCreate',
        'scheduleDelete',
        'scheduleGet',
        'scheduleList',
        'scheduleRun',
        'scheduleUpdate',
        'sessionCreate',
        'sessionDelete',
        'sessionGet',
        'systemNameList',
      ].sort(),
    );
    const legacy = createLegacyVcenterAppliance(2, ctx).routes();
    expect(legacy.every((r) => r.pattern.startsWith('/rest/'))).toBe(true);
    expect(legacy).toHaveLength(routes.length / 2);
  });
});
