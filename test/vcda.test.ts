/**
 * VCDA client ↔ simulator over real HTTP and real HTTPS on 127.0.0.1. No mocks: every assertion
 * is about bytes that crossed a socket, what the simulator recorded, or the hand-transcribed
 * contract fixtures in test/fixtures/vcda/ (seed 003 and reference §3).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Agent, type Dispatcher, request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AuthenticationFailed,
  InvalidArgument,
  NetworkError,
  NotFound,
  PermissionDenied,
  ProtocolError,
  ResourceBusy,
  SchemaMismatch,
  ServerError,
  ServiceUnavailable,
  TlsError,
  UnknownRemoteState,
  type VmwareApiError,
} from '../src/core/errors';
import { retryDecision } from '../src/core/retry';
import { Secret } from '../src/core/secrets';
import { type Simulator, startSimulator } from '../src/simulator/server';
import type { FaultAction } from '../src/simulator/types';
import { createDispatcher } from '../src/core/tls';
import { BackupHashMismatch, type VcdaClientOptions, VcdaClient } from '../src/vcda/client';
import {
  ApiError,
  ApiTaskOfBackupInfo,
  BackupInfo,
  NewBackupRequest,
  SessionDetails,
  SessionRequest,
  type TaskState,
  h4MediaType,
  isTerminalTaskState,
  normaliseTaskState,
} from '../src/vcda/schemas';
import { type VcdaAppliance, createVcdaAppliance } from '../src/simulator/vcda';

const FIXTURES = join(__dirname, 'fixtures', 'vcda');
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Structural difference of `actual` from `expected`: same keys, same JSON types. `null` on either
 * side stands for any type (a nullable field); an empty object/array in the fixture for any content.
 */
function shapeDiff(actual: unknown, expected: unknown, path = '$'): string[] {
  if (expected === null || actual === null) return [];
  const kind = (v: unknown) => (Array.isArray(v) ? 'array' : typeof v);
  if (kind(actual) !== kind(expected)) return [`${path}: ${kind(actual)} where the fixture has ${kind(expected)}`];
  if (Array.isArray(expected)) {
    if (expected.length === 0) return [];
    return (actual as unknown[]).flatMap((el, i) => shapeDiff(el, expected[0], `${path}[${i}]`));
  }
  if (typeof expected === 'object') {
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    if (Object.keys(e).length === 0) return [];
    const problems: string[] = [];
    for (const k of Object.keys(e)) if (!(k in a)) problems.push(`${path}.${k}: missing`);
    for (const k of Object.keys(a)) if (!(k in e)) problems.push(`${path}.${k}: not in the fixture`);
    for (const k of Object.keys(e)) if (k in a) problems.push(...shapeDiff(a[k], e[k], `${path}.${k}`));
    return problems;
  }
  return [];
}

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: unknown;
}

/** A request the test makes itself, to see the simulator's raw answer (the client strips unknown keys). */
async function raw(
  url: string,
  method: Dispatcher.HttpMethod,
  opts: { token?: string; accept?: string | null; body?: unknown; dispatcher?: Dispatcher } = {},
): Promise<RawAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.accept !== null) headers.accept = opts.accept ?? h4MediaType('4.5');
  if (opts.token) headers['x-vcav-auth'] = opts.token;
  const res = await request(url, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    dispatcher: opts.dispatcher,
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, json: text ? (JSON.parse(text) as unknown) : undefined };
}

async function rawLogin(
  base: string,
  username: string,
  password: string,
  dispatcher?: Dispatcher,
): Promise<{ token: string; answer: RawAnswer }> {
  const answer = await raw(`${base}/sessions`, 'POST', {
    body: { type: 'localUser', localUser: username, localPassword: password },
    dispatcher,
  });
  const token = answer.headers['x-vcav-auth'];
  if (typeof token !== 'string') throw new Error(`no token: ${JSON.stringify(answer.json)}`);
  return { token, answer };
}

async function failure(p: Promise<unknown>): Promise<VmwareApiError> {
  return p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: unknown) => err as VmwareApiError,
  );
}

/** Polls a backup task until it is terminal; returns it and the states seen, in order. */
async function waitForTask(client: VcdaClient, id: string, timeoutMs = 15_000) {
  const seen: TaskState[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const task = await client.getBackupTask(id);
    const state = normaliseTaskState(task.state);
    if (seen.at(-1) !== state) seen.push(state);
    if (isTerminalTaskState(state)) return { task, seen };
    if (Date.now() > deadline) throw new Error(`task ${id} still ${state} after ${timeoutMs} ms`);
    await sleep(40);
  }
}

function clientFor(sim: Simulator, index: number, extra: Partial<VcdaClientOptions> = {}): VcdaClient {
  const info = sim.info.vcda[index - 1]!;
  return new VcdaClient({
    url: info.url,
    appliance: `vcda-${index}`,
    credentials: async () => ({ username: info.username, password: new Secret(info.password) }),
    timeoutMs: 10_000,
    ...extra,
  });
}

const sha512File = async (path: string) =>
  createHash('sha512')
    .update(await readFile(path))
    .digest('hex');

describe('contract fixtures (seed 003, reference §3) parse with the client schemas', () => {
  it('ApiTask_of_BackupInfo from seed 003, coercing the string generatedOn "1464261608370L"', () => {
    const task = ApiTaskOfBackupInfo.parse(fixture('seed-003-apitask-of-backupinfo.json'));
    expect(task.id).toBe('f61d60d2-698a-46dc-a266-88df27644956');
    expect(task.result?.generatedOn).toBe(1464261608370);
    expect(task.result?.hash).toMatch(/^SHA-512:DE:AB:/);
    expect(task.error?.code).toBe('Forbidden');
    // The seed's state is a doc placeholder: read as an unknown state, never as "running".
    expect(() => normaliseTaskState(task.state)).toThrow(UnknownRemoteState);
  });

  it('BackupInfo (integer generatedOn), ApiError, NewBackupRequest', () => {
    expect(BackupInfo.parse(fixture('backup-info.json')).generatedOn).toBe(1464261608370);
    expect(ApiError.parse(fixture('seed-003-apierror.json'))).toMatchObject({
      code: 'Forbidden',
      msg: 'Permission denied.',
      args: [],
    });
    expect(NewBackupRequest.parse(fixture('seed-003-new-backup-request.json'))).toEqual({ password: 'Pa$$w0rD!' });
  });

  it('session bodies (localUser, ssoCredentials, vcdCredentials) and session details', () => {
    expect(SessionRequest.parse(fixture('session-request-localuser.json')).type).toBe('localUser');
    expect(SessionRequest.parse(fixture('session-request-ssocredentials.json')).type).toBe('ssoCredentials');
    expect(SessionRequest.parse(fixture('session-request-vcdcredentials.json')).type).toBe('vcdCredentials');
    expect(SessionDetails.parse(fixture('session-details.json')).authenticatedSites[0]?.site).toBe('site1');
  });

  it('BackupInfo rejects a generatedOn that is not epoch ms and a hash that is not SHA-512 colon hex', () => {
    const good = fixture('backup-info.json') as Record<string, unknown>;
    expect(BackupInfo.safeParse({ ...good, generatedOn: '2016-05-26T11:00:08Z' }).success).toBe(false);
    expect(BackupInfo.safeParse({ ...good, generatedOn: 1.5 }).success).toBe(false);
    expect(BackupInfo.safeParse({ ...good, hash: 'SHA-256:AA:BB' }).success).toBe(false);
  });

  it('the structural comparison itself catches extra keys, missing keys and type changes', () => {
    const expected = fixture('seed-003-apierror.json');
    expect(shapeDiff({ args: [], code: 'x', msg: 'y', stacktrace: 'z' }, expected)).toEqual([]);
    expect(shapeDiff({ args: [], code: 'x', msg: 'y', stacktrace: 'z', extra: 1 }, expected)).toEqual([
      '$.extra: not in the fixture',
    ]);
    expect(shapeDiff({ args: [], code: 7, msg: 'y' }, expected)).toEqual([
      '$.stacktrace: missing',
      '$.code: number where the fixture has string',
    ]);
  });
});

describe('normaliseTaskState', () => {
  it.each(['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELED'] as const)('reads %s', (s) => {
    expect(normaliseTaskState(s)).toBe(s);
  });

  it('reads letter case and the CANCELLED spelling; terminal states are SUCCEEDED/FAILED/CANCELED', () => {
    expect(normaliseTaskState(' running ')).toBe('RUNNING');
    expect(normaliseTaskState('CANCELLED')).toBe('CANCELED');
    expect(
      ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELED'].filter((s) => isTerminalTaskState(s as TaskState)),
    ).toEqual(['SUCCEEDED', 'FAILED', 'CANCELED']);
  });

  it.each([['PAUSED'], ['string'], [''], [42], [null], [undefined]])(
    'throws UnknownRemoteState quoting %j',
    (value) => {
      let err: unknown;
      try {
        normaliseTaskState(value, { appliance: 'vcda-9' });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UnknownRemoteState);
      const e = err as UnknownRemoteState;
      expect(e.product).toBe('vcda');
      expect(e.appliance).toBe('vcda-9');
      expect(e.message).toContain(
        typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? value),
      );
      expect(retryDecision(e).retryable).toBe(false);
    },
  );
});

describe('VcdaClient against the simulated VCDA over HTTP', () => {
  let sim: Simulator;
  let app1: VcdaAppliance;
  let tmp: string;

  beforeAll(async () => {
    sim = await startSimulator({
      factories: { vcda: createVcdaAppliance },
      vcdas: 2,
      vcenters: 0,
      http: true,
      jobSeconds: 1,
    });
    app1 = sim.appliance('vcda', 'vcda-1') as VcdaAppliance;
    tmp = await mkdtemp(join(tmpdir(), 'vcda-test-'));
  });
  afterAll(async () => {
    await sim?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });
  beforeEach(() => {
    sim.faults.clear();
    sim.resetCounters();
  });

  describe('sessions and media types', () => {
    it('logs in with each credential type; the token is sent as X-VCAV-Auth afterwards', async () => {
      for (const authType of ['localUser', 'ssoCredentials', 'vcdCredentials'] as const) {
        const client = clientFor(sim, 1, { authType });
        const details = await client.login();
        expect(details).toEqual({
          roles: ['ADMINISTRATORS'],
          user: 'root',
          authenticatedSites: [{ org: 'System', site: 'site-1' }],
        });
        await client.listBackups();
        expect(app1.received.at(-1)).toMatchObject({ operation: 'backupList', authenticated: true });
      }
      expect(sim.counters().calls.vcda?.['vcda-1']).toMatchObject({ sessionCreate: 3, backupList: 3 });
    });

    it('the session answer matches the §3.2 fixture structurally', async () => {
      const { answer } = await rawLogin(sim.info.vcda[0]!.url, 'root', sim.info.vcda[0]!.password);
      expect(answer.status).toBe(200);
      expect(shapeDiff(answer.json, SessionDetails.parse(fixture('session-details.json')))).toEqual([]);
    });

    it('a wrong password is AuthenticationFailed (401 NotAuthenticated), logged in once only', async () => {
      const client = clientFor(sim, 1, {
        credentials: async () => ({ username: 'root', password: new Secret('wrong') }),
      });
      const err = await failure(client.listBackups());
      expect(err).toBeInstanceOf(AuthenticationFailed);
      expect(err).toMatchObject({ httpStatus: 401, vmwareCode: 'NotAuthenticated', operation: 'sessionCreate' });
      expect(err.message).not.toContain('wrong');
      expect(sim.counters().calls.vcda?.['vcda-1']?.sessionCreate).toBe(1);
    });

    it('sends Accept h4-v4.5 and Content-Type application/json by default', async () => {
      const client = clientFor(sim, 1);
      await client.listBackups();
      const seen = app1.received.slice(-2);
      expect(seen.map((r) => r.operation)).toEqual(['sessionCreate', 'backupList']);
      for (const r of seen) {
        expect(r.accept).toBe('application/vnd.vmware.h4-v4.5+json;charset=UTF-8');
        expect(r.contentType).toBe('application/json');
      }
    });

    it('sends the configured version, and the answer comes back in that media type', async () => {
      const client = clientFor(sim, 1, { apiVersion: '4.7' });
      await client.listTasks();
      expect(app1.received.at(-1)).toMatchObject({
        operation: 'taskList',
        accept: 'application/vnd.vmware.h4-v4.7+json;charset=UTF-8',
      });
      const { token } = await rawLogin(sim.info.vcda[0]!.url, 'root', sim.info.vcda[0]!.password);
      for (const version of ['4.7', '4', '3']) {
        const answer = await raw(`${sim.info.vcda[0]!.url}/backups`, 'GET', { token, accept: h4MediaType(version) });
        expect(answer.status).toBe(200);
        expect(answer.headers['content-type']).toBe(`application/vnd.vmware.h4-v${version}+json;charset=UTF-8`);
      }
    });

    it('answers 406 to a missing or unsupported version, and the client surfaces it as InvalidArgument', async () => {
      const url = `${sim.info.vcda[0]!.url}/sessions`;
      const body = { type: 'localUser', localUser: 'root', localPassword: sim.info.vcda[0]!.password };
      for (const accept of [null, 'application/json', h4MediaType('5.0'), h4MediaType('10')]) {
        const answer = await raw(url, 'POST', { accept, body });
        expect(answer.status, String(accept)).toBe(406);
        expect(answer.json).toMatchObject({ code: 'NotAcceptable' });
      }
      const err = await failure(clientFor(sim, 1, { apiVersion: '5.0' }).login());
      expect(err).toBeInstanceOf(InvalidArgument);
      expect(err).toMatchObject({ httpStatus: 406, vmwareCode: 'NotAcceptable', operation: 'sessionCreate' });
      expect(err.message).toContain('5.0');
      expect(retryDecision(err).retryable).toBe(false);
    });

    it('a 401 mid-session makes one re-login and the call succeeds (2 sessionCreate)', async () => {
      const client = clientFor(sim, 1);
      await client.login();
      sim.faults.add({
        product: 'vcda',
        appliance: 'vcda-1',
        operation: 'backupList',
        action: { kind: 'status', status: 401 },
      });
      await expect(client.listBackups()).resolves.toBeInstanceOf(Array);
      expect(sim.counters().calls.vcda?.['vcda-1']).toMatchObject({ sessionCreate: 2, backupList: 2 });
    });

    it('a second 401 in a row is AuthenticationFailed (one re-login only)', async () => {
      const client = clientFor(sim, 1);
      await client.login();
      sim.faults.add({
        product: 'vcda',
        appliance: 'vcda-1',
        operation: 'taskList',
        count: 2,
        action: { kind: 'status', status: 401 },
      });
      const err = await failure(client.listTasks());
      expect(err).toBeInstanceOf(AuthenticationFailed);
      expect(err.operation).toBe('taskList');
      expect(sim.counters().calls.vcda?.['vcda-1']).toMatchObject({ sessionCreate: 2, taskList: 2 });
    });

    it('expired sessions: concurrent calls share one re-login', async () => {
      const client = clientFor(sim, 1);
      await client.login();
      app1.expireSessions();
      const results = await Promise.all([
        client.listBackups(),
        client.listTasks(),
        client.listBackups(),
        client.listTasks(),
        client.listBackups(),
      ]);
      expect(results).toHaveLength(5);
      expect(sim.counters().calls.vcda?.['vcda-1']?.sessionCreate).toBe(2);
    });

    it('concurrent first calls share one login', async () => {
      const client = clientFor(sim, 1);
      await Promise.all([client.listBackups(), client.listTasks(), client.login()]);
      expect(sim.counters().calls.vcda?.['vcda-1']?.sessionCreate).toBe(1);
    });

    it('answers 401 NotAuthenticated (an ApiError) without a valid token', async () => {
      for (const token of [undefined, 'not-a-token']) {
        const answer = await raw(`${sim.info.vcda[0]!.url}/backups`, 'GET', { token });
        expect(answer.status).toBe(401);
        expect(shapeDiff(answer.json, ApiError.parse(fixture('seed-003-apierror.json')))).toEqual([]);
        expect(answer.json).toMatchObject({ code: 'NotAuthenticated' });
      }
    });
  });

  describe('backups', () => {
    it('backup → task QUEUED → RUNNING → SUCCEEDED → listed → downloaded with SHA-512 verified → deleted', async () => {
      const client = clientFor(sim, 1);
      const before = Date.now();
      const started = await client.startBackup({ password: new Secret('Pa$$w0rD!'), operationId: 'op-vcda-backup-1' });
      expect(normaliseTaskState(started.state)).toBe('QUEUED');
      expect(started.endTime).toBe(-1);
      expect(started.result).toBeNull();
      expect(started.user).toBe('root');

      // operationID: sent as the header, recorded as the job's label, correlated with GET /tasks.
      expect(app1.received.at(-1)).toMatchObject({ operation: 'backupCreate', operationId: 'op-vcda-backup-1' });
      const job = sim.counters().jobs.find((j) => j.id === started.id);
      expect(job).toMatchObject({ product: 'vcda', appliance: 'vcda-1', kind: 'backup', label: 'op-vcda-backup-1' });
      expect(app1.tasksByOperationId('op-vcda-backup-1')).toEqual([started.id]);

      const { task, seen } = await waitForTask(client, started.id);
      expect(seen[0]).toBe('QUEUED');
      expect(seen).toContain('RUNNING');
      expect(seen.at(-1)).toBe('SUCCEEDED');
      expect(task.progress).toBe(100);
      expect(task.endTime).toBeGreaterThan(task.startTime ?? 0);
      expect(task.resultType).toBe('BackupInfo');
      const info = task.result!;
      expect(info.generatedOn).toBeGreaterThanOrEqual(before);

      const listed = await client.listTasks({ since: before });
      expect(listed.items.map((t) => t.id)).toContain(started.id);
      expect(app1.received.at(-1)?.query).toBe(`startedAfter=${before - 1}`);
      expect((await client.listTasks({ since: Date.now() + 60_000 })).items).toEqual([]);

      const backups = await client.listBackups();
      expect(backups).toContainEqual(info);

      // Download, hash looked up via GET /backups.
      const file = join(tmp, 'vcda-1-backup.tar.bz2');
      const got = await client.downloadBackup(info.id, file, { operationId: 'op-vcda-download-1' });
      expect(got.path).toBe(file);
      expect(got.hash).toBe(info.hash);
      expect(got.sha512).toBe(await sha512File(file));
      const bytes = await readFile(file);
      expect(bytes.length).toBe(got.bytes);
      expect(got.bytes).toBeGreaterThan(200 * 1024);
      expect(bytes.equals(app1.backupBytes(info.id)!)).toBe(true);
      expect(app1.received.at(-1)).toMatchObject({ operation: 'backupDownload', operationId: 'op-vcda-download-1' });
      expect(await readdir(tmp)).toEqual(['vcda-1-backup.tar.bz2']);

      // Download again with the hash given: no listing call.
      const listCalls = sim.counters().calls.vcda?.['vcda-1']?.backupList ?? 0;
      const file2 = join(tmp, 'again.tar.bz2');
      await expect(client.downloadBackup(info.id, file2, { expectedHash: info.hash })).resolves.toMatchObject({
        sha512: got.sha512,
      });
      expect(sim.counters().calls.vcda?.['vcda-1']?.backupList).toBe(listCalls);

      await client.deleteBackup(info.id);
      expect((await client.listBackups()).map((b) => b.id)).not.toContain(info.id);
      expect(await failure(client.deleteBackup(info.id))).toBeInstanceOf(NotFound);
      expect(await failure(client.downloadBackup(info.id, join(tmp, 'gone.tar.bz2')))).toBeInstanceOf(NotFound);
      expect(
        await failure(client.downloadBackup(info.id, join(tmp, 'gone.tar.bz2'), { expectedHash: info.hash })),
      ).toMatchObject({ httpStatus: 404, vmwareCode: 'NotFound' });
      expect(await failure(client.getTask('00000000-0000-0000-0000-000000000000'))).toBeInstanceOf(NotFound);
      await rm(file);
      await rm(file2);
    });

    it('simulator answers match the seed 003 / §3 fixtures structurally (task, backup list, errors)', async () => {
      const base = sim.info.vcda[0]!.url;
      const { token } = await rawLogin(base, 'root', sim.info.vcda[0]!.password);
      // The fixtures as the client reads them (generatedOn coerced to a number).
      const taskFixture = ApiTaskOfBackupInfo.parse(fixture('seed-003-apitask-of-backupinfo.json'));
      const errorFixture = ApiError.parse(fixture('seed-003-apierror.json'));
      const infoFixture = BackupInfo.parse(fixture('backup-info.json'));

      const created = await raw(`${base}/backups`, 'POST', {
        token,
        body: NewBackupRequest.parse(fixture('seed-003-new-backup-request.json')),
      });
      expect(created.status).toBe(202);
      expect(created.headers['content-type']).toBe(h4MediaType('4.5'));
      expect(shapeDiff(created.json, taskFixture)).toEqual([]);
      const id = (created.json as { id: string }).id;

      const busy = await raw(`${base}/backups`, 'POST', { token, body: {} });
      expect(busy.status).toBe(409);
      expect(shapeDiff(busy.json, errorFixture)).toEqual([]);

      let done: RawAnswer;
      for (;;) {
        done = await raw(`${base}/tasks/${id}`, 'GET', { token });
        if ((done.json as { state: string }).state === 'SUCCEEDED') break;
        await sleep(50);
      }
      expect(shapeDiff(done.json, taskFixture)).toEqual([]);
      const result = (done.json as { result: unknown }).result;
      expect(shapeDiff(result, infoFixture)).toEqual([]);
      expect(result).toMatchObject({
        id: expect.any(String),
        generatedOn: expect.any(Number),
        hash: expect.stringMatching(/^SHA-512(:[0-9A-F]{2}){64}$/),
      });

      const list = await raw(`${base}/backups`, 'GET', { token });
      expect((list.json as unknown[]).length).toBeGreaterThan(0);
      expect(shapeDiff(list.json, [infoFixture])).toEqual([]);

      const tasks = await raw(`${base}/tasks`, 'GET', { token });
      expect(shapeDiff((tasks.json as { items: unknown[] }).items, [taskFixture])).toEqual([]);

      const notFound = await raw(`${base}/backups/${id}`, 'DELETE', { token });
      expect(notFound.status).toBe(404);
      expect(shapeDiff(notFound.json, errorFixture)).toEqual([]);
      const resultId = (result as { id: string }).id;
      const deleted = await raw(`${base}/backups/${resultId}`, 'DELETE', { token });
      expect(deleted.status).toBe(204);
    });

    it('a corrupted download is BackupHashMismatch naming both hashes, and leaves no file', async () => {
      const client = clientFor(sim, 2);
      const started = await client.startBackup({ operationId: 'op-corrupt' });
      const info = (await waitForTask(client, started.id)).task.result!;
      const dir = await mkdtemp(join(tmp, 'corrupt-'));
      const file = join(dir, 'backup.tar.bz2');

      sim.faults.add({ product: 'vcda', appliance: 'vcda-2', operation: 'backupDownload', action: { kind: 'schema' } });
      const err = await failure(client.downloadBackup(info.id, file));
      expect(err).toBeInstanceOf(BackupHashMismatch);
      expect(err).toBeInstanceOf(ProtocolError);
      expect(err.code).toBe('VMWARE_DR_BACKUP_HASH_MISMATCH');
      expect(err.message).toContain(info.hash);
      expect(err.messages[1]).toMatch(/^received SHA-512(:[0-9A-F]{2}){64} \(\d+ bytes\)$/);
      expect(retryDecision(err, 1).retryable).toBe(true);
      expect(retryDecision(err, 5).retryable).toBe(false);
      expect(await readdir(dir)).toEqual([]);

      // A wrong expected hash, given by the caller.
      const wrong = `SHA-512:${'AB:'.repeat(63)}AB`;
      const err2 = await failure(client.downloadBackup(info.id, file, { expectedHash: wrong }));
      expect(err2).toBeInstanceOf(BackupHashMismatch);
      expect(err2.message).toContain(wrong);
      expect(await readdir(dir)).toEqual([]);

      // A malformed expected hash is the caller's mistake.
      expect(await failure(client.downloadBackup(info.id, file, { expectedHash: 'MD5:00' }))).toBeInstanceOf(
        InvalidArgument,
      );

      // And then it works.
      await expect(client.downloadBackup(info.id, file)).resolves.toMatchObject({ hash: info.hash });
      expect(await readdir(dir)).toEqual(['backup.tar.bz2']);
      await client.deleteBackup(info.id);
    });

    it('a 401 on the download re-logs in once and the download succeeds', async () => {
      const client = clientFor(sim, 2);
      const info = (await waitForTask(client, (await client.startBackup()).id)).task.result!;
      sim.resetCounters();
      sim.faults.add({
        product: 'vcda',
        appliance: 'vcda-2',
        operation: 'backupDownload',
        action: { kind: 'status', status: 401 },
      });
      const file = join(tmp, 'relogin.tar.bz2');
      await expect(client.downloadBackup(info.id, file, { expectedHash: info.hash })).resolves.toMatchObject({
        hash: info.hash,
      });
      expect(sim.counters().calls.vcda?.['vcda-2']).toMatchObject({ sessionCreate: 1, backupDownload: 2 });
      await rm(file);
      await client.deleteBackup(info.id);
    });

    it('a second backup while one runs is 409 BackupInProgress → ResourceBusy (retried with the busy delay)', async () => {
      const client = clientFor(sim, 2);
      const first = await client.startBackup();
      const err = await failure(client.startBackup({ operationId: 'op-second' }));
      expect(err).toBeInstanceOf(ResourceBusy);
      expect(err).toMatchObject({ httpStatus: 409, vmwareCode: 'BackupInProgress', operation: 'backupCreate' });
      expect(retryDecision(err)).toEqual({ retryable: true, nextRetryDelayMs: 30_000 });
      expect(sim.counters().jobs.map((j) => j.id)).toEqual([first.id]);
      const { task } = await waitForTask(client, first.id);
      await client.deleteBackup(task.result!.id);
    });

    it('a jobFailed fault makes the task end FAILED with an ApiError, and no backup is listed', async () => {
      const client = clientFor(sim, 2);
      const before = (await client.listBackups()).length;
      sim.faults.add({
        product: 'vcda',
        appliance: 'vcda-2',
        operation: 'backupCreate',
        action: { kind: 'jobFailed', message: 'No space left on the appliance.' },
      });
      const started = await client.startBackup();
      const { task, seen } = await waitForTask(client, started.id);
      expect(seen.at(-1)).toBe('FAILED');
      expect(task.error).toMatchObject({ code: 'GeneralServerFailure', msg: 'No space left on the appliance.' });
      expect(task.result).toBeNull();
      expect(task.resultType).toBeNull();
      expect(task.endTime).toBeGreaterThan(0);
      const rawTask = await raw(`${sim.info.vcda[1]!.url}/tasks/${started.id}`, 'GET', {
        token: (await rawLogin(sim.info.vcda[1]!.url, 'root', sim.info.vcda[1]!.password)).token,
      });
      expect(
        shapeDiff((rawTask.json as { error: unknown }).error, ApiError.parse(fixture('seed-003-apierror.json'))),
      ).toEqual([]);
      expect(await client.listBackups()).toHaveLength(before);
    });
  });

  describe('faults are classified by the one taxonomy', () => {
    let client: VcdaClient;
    beforeAll(async () => {
      client = clientFor(sim, 2);
      await client.login();
    });

    const hash = `SHA-512:${'00:'.repeat(63)}00`;
    const calls: Record<string, () => Promise<unknown>> = {
      sessionCreate: () => client.login(),
      backupCreate: () => client.startBackup(),
      backupList: () => client.listBackups(),
      backupDownload: () =>
        client.downloadBackup('11111111-2222-4333-8444-555555555555', join(tmp, 'fault.bin'), { expectedHash: hash }),
      backupDelete: () => client.deleteBackup('11111111-2222-4333-8444-555555555555'),
      taskGet: () => client.getTask('11111111-2222-4333-8444-555555555555'),
      taskList: () => client.listTasks(),
    };
    const cases: [string, string, FaultAction, new (...args: never[]) => VmwareApiError, Record<string, unknown>][] = [
      [
        'status 503',
        'backupList',
        { kind: 'status', status: 503 },
        ServiceUnavailable,
        { httpStatus: 503, vmwareCode: 'ServiceUnavailable' },
      ],
      [
        'status 503 on login',
        'sessionCreate',
        { kind: 'status', status: 503 },
        ServiceUnavailable,
        { httpStatus: 503 },
      ],
      [
        'status 503 on download',
        'backupDownload',
        { kind: 'status', status: 503 },
        ServiceUnavailable,
        { httpStatus: 503 },
      ],
      [
        'status 500',
        'taskList',
        { kind: 'status', status: 500 },
        ServerError,
        { httpStatus: 500, vmwareCode: 'GeneralServerFailure' },
      ],
      [
        'GeneralServerFailure',
        'taskGet',
        { kind: 'error', error: 'GeneralServerFailure', message: 'boom' },
        ServerError,
        { httpStatus: 500, messages: ['boom'] },
      ],
      ['reset', 'backupList', { kind: 'reset' }, NetworkError, {}],
      ['reset on download', 'backupDownload', { kind: 'reset' }, NetworkError, {}],
      ['malformed', 'taskList', { kind: 'malformed' }, ProtocolError, { httpStatus: 200 }],
      ['schema', 'backupList', { kind: 'schema' }, SchemaMismatch, {}],
      ['schema on a task', 'backupCreate', { kind: 'schema' }, SchemaMismatch, {}],
      ['schema on login', 'sessionCreate', { kind: 'schema' }, SchemaMismatch, {}],
      [
        'Forbidden',
        'backupCreate',
        { kind: 'error', error: 'Forbidden', message: 'Permission denied.' },
        PermissionDenied,
        { httpStatus: 403, vmwareCode: 'Forbidden' },
      ],
      [
        'busy',
        'backupCreate',
        { kind: 'error', error: 'BackupInProgress' },
        ResourceBusy,
        { httpStatus: 409, vmwareCode: 'BackupInProgress' },
      ],
      ['status 404', 'backupDelete', { kind: 'status', status: 404 }, NotFound, { vmwareCode: 'NotFound' }],
    ];

    it.each(cases)('%s on %s', async (_name, operation, action, cls, fields) => {
      sim.faults.add({ product: 'vcda', appliance: 'vcda-2', operation, action });
      const err = await failure(calls[operation]!());
      expect(err).toBeInstanceOf(cls);
      if (cls === ProtocolError) expect(err.constructor).toBe(ProtocolError);
      expect(err).toMatchObject({ product: 'vcda', appliance: 'vcda-2', operation, ...fields });
      expect(sim.faults.list()).toEqual([]);
    });

    it('a failed download leaves no partial file', async () => {
      expect((await readdir(tmp)).filter((f) => f.includes('fault'))).toEqual([]);
    });
  });
});

describe('VcdaClient over HTTPS, trusting the simulator CA', () => {
  let sim: Simulator;
  let dispatcher: Agent;
  let tmp: string;

  beforeAll(async () => {
    sim = await startSimulator({ factories: { vcda: createVcdaAppliance }, vcdas: 1, vcenters: 0, jobSeconds: 1 });
    dispatcher = createDispatcher({ tls: { caFile: sim.info.caFile! } });
    tmp = await mkdtemp(join(tmpdir(), 'vcda-tls-'));
  });
  afterAll(async () => {
    await dispatcher?.close();
    await sim?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('runs backup → poll → list → download (verified) → delete', async () => {
    expect(sim.info.vcda[0]!.url).toMatch(/^https:/);
    const client = clientFor(sim, 1, { dispatcher });
    const started = await client.startBackup({ operationId: 'op-tls' });
    const { task } = await waitForTask(client, started.id);
    const info = task.result!;
    expect(await client.listBackups()).toContainEqual(info);
    const file = join(tmp, 'tls-backup.tar.bz2');
    const got = await client.downloadBackup(info.id, file);
    expect(got.hash).toBe(info.hash);
    expect(await sha512File(file)).toBe(got.sha512);
    await client.deleteBackup(info.id);
    expect(await client.listBackups()).toEqual([]);
    expect(sim.counters().jobs).toMatchObject([{ product: 'vcda', id: started.id, label: 'op-tls' }]);
  });

  it('without trusting the CA the login fails as TlsError', async () => {
    const untrusting = createDispatcher();
    try {
      const err = await failure(clientFor(sim, 1, { dispatcher: untrusting }).login());
      expect(err).toBeInstanceOf(TlsError);
    } finally {
      await untrusting.close();
    }
  });
});
