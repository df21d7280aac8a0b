/**
 * Contract test: the simulated vCenter and the VcenterClient against VMware's own 7.0.2 Swagger
 * (`test/fixtures/spec/`). It walks the spec: every operation must have a row in CASES (the test
 * fails for an operation the table lacks, or a row the spec lacks), each row drives the simulator
 * with requests that are valid per the spec (checked with validateRequestBody) and checks the
 * answer's status and body with validateResponse, for success and for the error statuses that
 * can be provoked. A coverage check then pins which declared statuses stay unexercised, and why.
 * Finally the client runs every operation in both forms against a simulator that records what
 * it receives, and every request body the client sent and every answer it got is checked too.
 */
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseVapiErrorType } from '../src/vcenter/errors';
import { Secret } from '../src/core/secrets';
import { type Simulator, startSimulator } from '../src/simulator/server';
import type { SimRequest, SimResponse, SimRoute, SimulatorContext } from '../src/simulator/types';
import { VcenterClient } from '../src/vcenter/client';
import type { VcenterApiForm } from '../src/vcenter/wire';
import { VcenterAppliance } from '../src/simulator/vcenter/appliance';
import { SwaggerSpec, validateSchema } from './support/swagger';

const SPEC_DIR = path.join(__dirname, 'fixtures', 'spec');
const spec = SwaggerSpec.load(
  path.join(SPEC_DIR, 'vcenter-7.0.2-appliance-recovery.swagger.json'),
  path.join(SPEC_DIR, 'vcenter-7.0.2-cis-session.swagger.json'),
);
const SPEC_OPS = spec.operations().map((o) => `${o.method} ${o.pathTemplate}`);

/**
 * Statuses the simulator answers although an operation does not declare them. Only the cis
 * session operations declare 401 and 503; a real appliance answers them on every operation:
 *  - 401 UNAUTHENTICATED: any call without a valid session (missing, expired, lost in a restart);
 *  - 503 SERVICE_UNAVAILABLE: any call while a restore restarts the appliance services (the
 *    simulator also drops connections then; a dropped connection has no status to check).
 * Their bodies are checked against the form's standard error schema instead.
 */
const STATUS_EXCEPTIONS: Record<number, string> = {
  401: 'UNAUTHENTICATED without a valid session',
  503: 'SERVICE_UNAVAILABLE while a restore restarts the services',
};
const STD_ERROR_SCHEMA = {
  api: { $ref: '#/definitions/VapiStdErrorsError' },
  rest: { $ref: '#/definitions/vapi.std.errors.error_error' },
};

const JOB_SECONDS = 0.4;
/** Longer jobs for rows that hit the service-restart window, so a slow machine still lands in it. */
const RESTART_JOB_SECONDS = 1.2;
const SYSTEM = 'vc-1.sim.local';
const PASSWORD = 'Good#Pass1';
const LOC = 'sftp://backup.example.test/contract';
const BACKUP = {
  parts: ['seat'],
  location_type: 'SFTP',
  location: LOC,
  location_user: 'backup',
  location_password: 'pw',
  comment: 'contract run',
  backup_password: PASSWORD,
};
const SCHEDULE_SPEC = {
  location: LOC,
  location_user: 'backup',
  location_password: 'pw',
  backup_password: PASSWORD,
  enable: true,
  recurrence_info: { hour: 1, minute: 30, days: ['SUNDAY'] },
  retention_info: { max_count: 2 },
};
const A = '/api/appliance/recovery';
const R = '/rest/appliance/recovery';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const qs = (q: Record<string, string | number | undefined>) =>
  `?${new URLSearchParams(Object.entries(q).flatMap(([k, v]): [string, string][] => (v === undefined ? [] : [[k, String(v)]]))).toString()}`;
const restore = (v: Vars) => ({ location_type: 'SFTP', location: v.archiveLocation, backup_password: PASSWORD });
const formOf = (url: string): 'api' | 'rest' => (url.startsWith('/rest') ? 'rest' : 'api');

type Vars = Record<string, string>;

interface Exchange {
  status: number;
  body: unknown;
}

/** A simulator with two vCenters, and raw helpers that set up state over `/api` (not counted as coverage). */
class Env {
  constructor(readonly sim: Simulator) {}

  appliance(i: number): VcenterAppliance {
    return this.sim.appliance('vcenter', `vc-${i}`) as VcenterAppliance;
  }

  async raw(
    i: number,
    method: string,
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Exchange> {
    const res = await request(`${this.sim.info.vcenter[i - 1]!.url}${url}`, {
      method: method as 'GET',
      headers: {
        accept: 'application/json',
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? (JSON.parse(text) as unknown) : undefined };
  }

  basic(i: number, password?: string): string {
    const vc = this.sim.info.vcenter[i - 1]!;
    return `Basic ${Buffer.from(`${vc.username}:${password ?? vc.password}`).toString('base64')}`;
  }

  async login(i: number): Promise<string> {
    const res = await this.raw(i, 'POST', '/api/session', undefined, { authorization: this.basic(i) });
    if (res.status !== 201) throw new Error(`login to vc-${i} answered ${res.status}`);
    return res.body as string;
  }

  /** An authenticated `/api` call that must succeed. */
  async api<T>(i: number, method: string, url: string, body?: unknown): Promise<T> {
    const res = await this.raw(i, method, url, body, { 'vmware-api-session-id': await this.login(i) });
    if (res.status >= 300) throw new Error(`${method} ${url} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body as T;
  }

  async until(what: string, fn: () => Promise<boolean> | boolean): Promise<void> {
    for (const deadline = Date.now() + 10_000; !(await fn()); await sleep(10)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    }
  }

  /** A backup job that is running on vc-1. */
  async running(): Promise<Vars> {
    const job = await this.api<{ id: string }>(1, 'POST', `${A}/backup/job`, BACKUP);
    return { job: job.id };
  }

  /** A finished backup of vc-1, and its archive. */
  async succeeded(): Promise<Vars> {
    const { job } = await this.running();
    await this.until(
      'the backup',
      async () => (await this.api<{ state: string }>(1, 'GET', `${A}/backup/job/${job}`)).state === 'SUCCEEDED',
    );
    const [summary] = await this.api<{ archive: string }[]>(
      1,
      'POST',
      `${A}/backup/system-name/${SYSTEM}/archives?action=list`,
      { loc_spec: { location: LOC }, filter_spec: {} },
    );
    const info = await this.api<{ location: string }>(
      1,
      'POST',
      `${A}/backup/system-name/${SYSTEM}/archives/${summary!.archive}?action=get`,
      { location: LOC },
    );
    return { job: job!, archive: summary!.archive, archiveLocation: info.location };
  }

  async schedule(): Promise<Vars> {
    await this.api(1, 'POST', `${A}/backup/schedules`, { schedule: 'default', spec: SCHEDULE_SPEC });
    return { schedule: 'default' };
  }

  /** A backup of vc-1 exists and vc-2 is freshly deployed (restore stage). */
  async restoreStage(): Promise<Vars> {
    const v = await this.succeeded();
    this.appliance(2).setStage('restore');
    return v;
  }

  /** vc-2 runs a restore of vc-1's backup. */
  async restoring(): Promise<Vars> {
    const v = await this.restoreStage();
    await this.api(2, 'POST', `${A}/restore/job`, { ...restore(v), ignore_warnings: true });
    return v;
  }

  /** vc-2 restarts its services (the middle third of the restore); rows using it run with RESTART_JOB_SECONDS. */
  async restarting(): Promise<Vars> {
    const v = await this.restoring();
    await this.until('the service restart', () => this.appliance(2).restartingServices);
    return v;
  }

  /** vc-2 completed a restore and runs again. */
  async restored(): Promise<Vars> {
    const v = await this.restoring();
    await this.until('the restore', () => this.appliance(2).stage === 'running');
    return v;
  }
}

interface Req {
  /** Appliance number. Default 1. */
  vc?: 1 | 2;
  /** Appliance-relative URL with its query, e.g. `/api/appliance/recovery/backup/job/x?action=cancel`. */
  url: string;
  body?: unknown;
  /** `session` (default): a fresh session header; `basic`/`bad-basic`: login credentials; `none`. */
  auth?: 'session' | 'basic' | 'bad-basic' | 'none';
}

interface Case {
  title: string;
  status: number;
  /** The vAPI error type of an error answer. */
  error?: string;
  setup?: (env: Env) => Promise<Vars>;
  request: (v: Vars) => Req;
  check?: (body: unknown, v: Vars) => void;
  /** The status is one of the STATUS_EXCEPTIONS, not declared by the operation. */
  exception?: true;
}

const ok = (
  title: string,
  status: number,
  request: Case['request'],
  setup?: Case['setup'],
  check?: Case['check'],
): Case => ({ title, status, request, setup, check });
const err = (title: string, status: number, error: string, request: Case['request'], setup?: Case['setup']): Case => ({
  title,
  status,
  error,
  request,
  setup,
});
/** A 401/503 the operation does not declare (see STATUS_EXCEPTIONS). */
const exception = (title: string, status: 401 | 503, request: Case['request'], setup?: Case['setup']): Case => ({
  title: `${title} (exception: ${STATUS_EXCEPTIONS[status]})`,
  status,
  error: status === 401 ? 'UNAUTHENTICATED' : 'SERVICE_UNAVAILABLE',
  request,
  setup,
  exception: true,
});
const value = (body: unknown) => (body as { value: unknown }).value;

/** One row per spec operation: `METHOD pathTemplate` → cases. */
const CASES: Record<string, Case[]> = {
  // ---------------------------------------------------------------- cis sessions
  'POST /api/session': [
    ok('login', 201, () => ({ url: '/api/session', auth: 'basic' })),
    err('bad password', 401, 'UNAUTHENTICATED', () => ({ url: '/api/session', auth: 'bad-basic' })),
    err(
      'during a service restart',
      503,
      'SERVICE_UNAVAILABLE',
      () => ({ vc: 2, url: '/api/session', auth: 'basic' }),
      (e) => e.restarting(),
    ),
  ],
  'GET /api/session': [
    ok('session info', 200, () => ({ url: '/api/session' })),
    err('no session', 401, 'UNAUTHENTICATED', () => ({ url: '/api/session', auth: 'none' })),
    err(
      'during a service restart',
      503,
      'SERVICE_UNAVAILABLE',
      () => ({ vc: 2, url: '/api/session', auth: 'none' }),
      (e) => e.restarting(),
    ),
  ],
  'DELETE /api/session': [
    ok('logout', 204, () => ({ url: '/api/session' })),
    err('no session', 401, 'UNAUTHENTICATED', () => ({ url: '/api/session', auth: 'none' })),
    err(
      'during a service restart',
      503,
      'SERVICE_UNAVAILABLE',
      () => ({ vc: 2, url: '/api/session', auth: 'none' }),
      (e) => e.restarting(),
    ),
  ],
  'POST /rest/com/vmware/cis/session': [
    ok('login', 200, () => ({ url: '/rest/com/vmware/cis/session', auth: 'basic' })),
    err('bad password', 401, 'UNAUTHENTICATED', () => ({ url: '/rest/com/vmware/cis/session', auth: 'bad-basic' })),
    err(
      'during a service restart',
      503,
      'SERVICE_UNAVAILABLE',
      () => ({ vc: 2, url: '/rest/com/vmware/cis/session', auth: 'basic' }),
      (e) => e.restarting(),
    ),
  ],
  'POST /rest/com/vmware/cis/session?~action=get': [
    ok('session info', 200, () => ({ url: '/rest/com/vmware/cis/session?~action=get' })),
    err('no session', 401, 'UNAUTHENTICATED', () => ({
      url: '/rest/com/vmware/cis/session?~action=get',
      auth: 'none',
    })),
    err(
      'during a service restart',
      503,
      'SERVICE_UNAVAILABLE',
      () => ({ vc: 2, url: '/rest/com/vmware/cis/session?~action=get', auth: 'none' }),
      (e) => e.restarting(),
    ),
  ],
  'DELETE /rest/com/vmware/cis/session': [
    ok('logout', 200, () => ({ url: '/rest/com/vmware/cis/session' })),
    err('no session', 401, 'UNAUTHENTICATED', () => ({ url: '/rest/com/vmware/cis/session', auth: 'none' })),
    err(
      'during a service restart',
      503,
      'SERVICE_UNAVAILABLE',
      () => ({ vc: 2, url: '/rest/com/vmware/cis/session', auth: 'none' }),
      (e) => e.restarting(),
    ),
  ],

  // ---------------------------------------------------------------- /api recovery
  [`GET ${A}`]: [
    ok(
      'supported',
      200,
      () => ({ url: A }),
      undefined,
      (b) => expect(b).toEqual({ supported: true }),
    ),
  ],
  [`GET ${A}/backup/job`]: [
    ok(
      'list',
      200,
      () => ({ url: `${A}/backup/job` }),
      (e) => e.running(),
      (b, v) => expect(b).toEqual([v.job]),
    ),
    exception('no session', 401, () => ({ url: `${A}/backup/job`, auth: 'none' })),
  ],
  [`POST ${A}/backup/job`]: [
    ok('create', 201, () => ({ url: `${A}/backup/job`, body: BACKUP })),
    err(
      'while a backup runs',
      400,
      'FEATURE_IN_USE',
      () => ({ url: `${A}/backup/job`, body: BACKUP }),
      (e) => e.running(),
    ),
    err('password breaks the policy', 400, 'INVALID_ARGUMENT', () => ({
      url: `${A}/backup/job`,
      body: { ...BACKUP, backup_password: 'lowercase1!' },
    })),
    err('unknown part', 400, 'INVALID_ARGUMENT', () => ({
      url: `${A}/backup/job`,
      body: { ...BACKUP, parts: ['nope'] },
    })),
  ],
  [`GET ${A}/backup/job/details`]: [
    ok(
      'filtered',
      200,
      (v) => ({ url: `${A}/backup/job/details?jobs=${v.job}` }),
      (e) => e.succeeded(),
      (b, v) => expect((b as Record<string, { status: string }>)[v.job!]?.status).toBe('SUCCEEDED'),
    ),
    ok(
      'all, one running',
      200,
      () => ({ url: `${A}/backup/job/details` }),
      (e) => e.running(),
      (b, v) => expect((b as Record<string, { status: string }>)[v.job!]?.status).toBe('RUNNING'),
    ),
  ],
  [`GET ${A}/backup/job/{id}`]: [
    ok(
      'get',
      200,
      (v) => ({ url: `${A}/backup/job/${v.job}` }),
      (e) => e.running(),
    ),
    err('unknown id', 404, 'NOT_FOUND', () => ({ url: `${A}/backup/job/20000101-000000-1` })),
  ],
  [`POST ${A}/backup/job/{id}?action=cancel`]: [
    ok(
      'cancel',
      200,
      (v) => ({ url: `${A}/backup/job/${v.job}?action=cancel` }),
      (e) => e.running(),
      (b) => expect(b).toMatchObject({ status: 'OK' }),
    ),
    err('unknown id', 404, 'NOT_FOUND', () => ({ url: `${A}/backup/job/20000101-000000-1?action=cancel` })),
  ],
  [`GET ${A}/backup/parts`]: [ok('list', 200, () => ({ url: `${A}/backup/parts` }))],
  [`GET ${A}/backup/parts/{id}`]: [
    ok('size', 200, () => ({ url: `${A}/backup/parts/common` })),
    // 404 is not declared here: NOT_FOUND answers the declared generic 500.
    err('unknown part', 500, 'NOT_FOUND', () => ({ url: `${A}/backup/parts/nope` })),
  ],
  [`GET ${A}/backup/schedules`]: [
    ok(
      'list',
      200,
      () => ({ url: `${A}/backup/schedules` }),
      (e) => e.schedule(),
      (b) => expect(Object.keys(b as object)).toEqual(['default']),
    ),
  ],
  [`POST ${A}/backup/schedules`]: [
    ok('create', 204, () => ({ url: `${A}/backup/schedules`, body: { schedule: 'default', spec: SCHEDULE_SPEC } })),
    err(
      'a second schedule',
      400,
      'ALREADY_EXISTS',
      () => ({ url: `${A}/backup/schedules`, body: { schedule: 'weekly', spec: SCHEDULE_SPEC } }),
      (e) => e.schedule(),
    ),
  ],
  [`DELETE ${A}/backup/schedules/{schedule}`]: [
    ok(
      'delete',
      204,
      () => ({ url: `${A}/backup/schedules/default` }),
      (e) => e.schedule(),
    ),
    err('unknown schedule', 404, 'NOT_FOUND', () => ({ url: `${A}/backup/schedules/nope` })),
  ],
  [`GET ${A}/backup/schedules/{schedule}`]: [
    ok(
      'get',
      200,
      () => ({ url: `${A}/backup/schedules/default` }),
      (e) => e.schedule(),
    ),
    err('unknown schedule', 404, 'NOT_FOUND', () => ({ url: `${A}/backup/schedules/nope` })),
  ],
  [`PATCH ${A}/backup/schedules/{schedule}`]: [
    ok(
      'update',
      204,
      () => ({ url: `${A}/backup/schedules/default`, body: { enable: false, retention_info: { max_count: 5 } } }),
      (e) => e.schedule(),
    ),
    err(
      'hour out of range',
      400,
      'INVALID_ARGUMENT',
      () => ({ url: `${A}/backup/schedules/default`, body: { recurrence_info: { hour: 24, minute: 0 } } }),
      (e) => e.schedule(),
    ),
    err('unknown schedule', 404, 'NOT_FOUND', () => ({ url: `${A}/backup/schedules/nope`, body: { enable: false } })),
  ],
  [`POST ${A}/backup/schedules/{schedule}?action=run`]: [
    ok(
      'run now',
      200,
      () => ({ url: `${A}/backup/schedules/default?action=run`, body: { comment: 'run now' } }),
      (e) => e.schedule(),
    ),
    err(
      'while a backup runs',
      400,
      'FEATURE_IN_USE',
      () => ({ url: `${A}/backup/schedules/default?action=run`, body: {} }),
      async (e) => ({ ...(await e.schedule()), ...(await e.running()) }),
    ),
    err('unknown schedule', 404, 'NOT_FOUND', () => ({ url: `${A}/backup/schedules/nope?action=run`, body: {} })),
  ],
  [`POST ${A}/backup/system-name/{system_name}/archives/{archive}?action=get`]: [
    ok(
      'get',
      200,
      (v) => ({ url: `${A}/backup/system-name/${SYSTEM}/archives/${v.archive}?action=get`, body: { location: LOC } }),
      (e) => e.succeeded(),
    ),
    err(
      'unknown archive',
      404,
      'NOT_FOUND',
      () => ({ url: `${A}/backup/system-name/${SYSTEM}/archives/M_nope?action=get`, body: { location: LOC } }),
      (e) => e.succeeded(),
    ),
    // 400 is not declared here: INVALID_ARGUMENT answers the declared generic 500.
    err('empty location', 500, 'INVALID_ARGUMENT', () => ({
      url: `${A}/backup/system-name/${SYSTEM}/archives/M_nope?action=get`,
      body: { location: '' },
    })),
  ],
  [`POST ${A}/backup/system-name/{system_name}/archives?action=list`]: [
    ok(
      'list with every filter',
      200,
      () => ({
        url: `${A}/backup/system-name/${SYSTEM}/archives?action=list`,
        body: {
          loc_spec: { location: LOC },
          filter_spec: {
            start_timestamp: '2000-01-01T00:00:00Z',
            end_timestamp: '2999-01-01T00:00:00Z',
            comment_substring: 'contract',
            max_results: 10,
          },
        },
      }),
      (e) => e.succeeded(),
      (b) => expect(b).toHaveLength(1),
    ),
    err(
      'unknown system',
      404,
      'NOT_FOUND',
      () => ({
        url: `${A}/backup/system-name/vc-9.sim.local/archives?action=list`,
        body: { loc_spec: { location: LOC }, filter_spec: {} },
      }),
      (e) => e.succeeded(),
    ),
    err(
      'negative max_results',
      500,
      'INVALID_ARGUMENT',
      () => ({
        url: `${A}/backup/system-name/${SYSTEM}/archives?action=list`,
        body: { loc_spec: { location: LOC }, filter_spec: { max_results: -1 } },
      }),
      (e) => e.succeeded(),
    ),
  ],
  [`POST ${A}/backup/system-name?action=list`]: [
    ok(
      'list',
      200,
      () => ({ url: `${A}/backup/system-name?action=list`, body: { location: LOC } }),
      (e) => e.succeeded(),
      (b) => expect(b).toEqual([SYSTEM]),
    ),
    err('unknown location', 404, 'NOT_FOUND', () => ({
      url: `${A}/backup/system-name?action=list`,
      body: { location: 'sftp://backup.example.test/nowhere' },
    })),
    err('empty location', 500, 'INVALID_ARGUMENT', () => ({
      url: `${A}/backup/system-name?action=list`,
      body: { location: '' },
    })),
  ],
  [`POST ${A}/backup?action=validate`]: [
    ok(
      'valid',
      200,
      () => ({ url: `${A}/backup?action=validate`, body: BACKUP }),
      undefined,
      (b) => expect(b).toMatchObject({ status: 'OK' }),
    ),
    err(
      'while a backup runs',
      400,
      'FEATURE_IN_USE',
      () => ({ url: `${A}/backup?action=validate`, body: BACKUP }),
      (e) => e.running(),
    ),
    err('password breaks the policy', 400, 'INVALID_ARGUMENT', () => ({
      url: `${A}/backup?action=validate`,
      body: { ...BACKUP, backup_password: 'NoDigits!!' },
    })),
  ],
  [`GET ${A}/reconciliation/job`]: [
    ok(
      'before a reconciliation',
      200,
      () => ({ vc: 2, url: `${A}/reconciliation/job` }),
      (e) => e.restored(),
      (b) => expect(b).toMatchObject({ status: 'NONE' }),
    ),
    err('never restored', 404, 'NOT_FOUND', () => ({ url: `${A}/reconciliation/job` })),
  ],
  [`POST ${A}/reconciliation/job`]: [
    ok(
      'create',
      201,
      () => ({ vc: 2, url: `${A}/reconciliation/job`, body: { ignore_warnings: true } }),
      (e) => e.restored(),
      (b) => expect(b).toMatchObject({ status: 'RUNNING' }),
    ),
    err('never restored', 400, 'NOT_ALLOWED_IN_CURRENT_STATE', () => ({ url: `${A}/reconciliation/job`, body: {} })),
    err(
      'SSO user without password',
      400,
      'INVALID_ARGUMENT',
      () => ({ vc: 2, url: `${A}/reconciliation/job`, body: { sso_admin_user_name: 'administrator@vsphere.local' } }),
      (e) => e.restored(),
    ),
  ],
  [`GET ${A}/restore/job`]: [
    ok(
      'none',
      200,
      () => ({ url: `${A}/restore/job` }),
      undefined,
      (b) => expect(b).toMatchObject({ state: 'NONE' }),
    ),
    ok(
      'running',
      200,
      () => ({ vc: 2, url: `${A}/restore/job` }),
      (e) => e.restoring(),
      (b) => expect(b).toMatchObject({ state: 'INPROGRESS' }),
    ),
    exception(
      'during a service restart',
      503,
      () => ({ vc: 2, url: `${A}/restore/job`, auth: 'none' }),
      (e) => e.restarting(),
    ),
  ],
  [`POST ${A}/restore/job`]: [
    ok(
      'create',
      201,
      (v) => ({ vc: 2, url: `${A}/restore/job`, body: { ...restore(v), ignore_warnings: true } }),
      (e) => e.restoreStage(),
    ),
    err(
      'running appliance',
      400,
      'NOT_ALLOWED_IN_CURRENT_STATE',
      (v) => ({ url: `${A}/restore/job`, body: restore(v) }),
      (e) => e.succeeded(),
    ),
    err(
      'while a restore runs',
      400,
      'FEATURE_IN_USE',
      (v) => ({ vc: 2, url: `${A}/restore/job`, body: { ...restore(v), ignore_warnings: true } }),
      (e) => e.restoring(),
    ),
  ],
  [`POST ${A}/restore/job?action=cancel`]: [
    ok(
      'cancel',
      200,
      () => ({ vc: 2, url: `${A}/restore/job?action=cancel` }),
      (e) => e.restoring(),
      (b) => expect(b).toMatchObject({ status: 'OK' }),
    ),
    ok(
      'nothing to cancel',
      200,
      () => ({ url: `${A}/restore/job?action=cancel` }),
      undefined,
      (b) => expect(b).toMatchObject({ status: 'FAIL' }),
    ),
  ],
  [`POST ${A}/restore?action=validate`]: [
    ok(
      'validate',
      200,
      (v) => ({ vc: 2, url: `${A}/restore?action=validate`, body: restore(v) }),
      (e) => e.restoreStage(),
      (b) => expect(b).toMatchObject({ applicable: true, boxname: SYSTEM }),
    ),
    // 400/404 are not declared here: errors answer the declared generic 500.
    err('no backup there', 500, 'NOT_FOUND', () => ({
      url: `${A}/restore?action=validate`,
      body: { location_type: 'SFTP', location: 'sftp://backup.example.test/nowhere' },
    })),
  ],

  // ---------------------------------------------------------------- /rest recovery
  [`GET ${R}`]: [
    ok(
      'supported',
      200,
      () => ({ url: R }),
      undefined,
      (b) => expect(value(b)).toEqual({ supported: true }),
    ),
  ],
  [`GET ${R}/backup/job`]: [
    ok(
      'list',
      200,
      () => ({ url: `${R}/backup/job` }),
      (e) => e.running(),
      (b, v) => expect(value(b)).toEqual([v.job]),
    ),
    exception('no session', 401, () => ({ url: `${R}/backup/job`, auth: 'none' })),
  ],
  [`POST ${R}/backup/job`]: [
    ok('create', 200, () => ({ url: `${R}/backup/job`, body: { piece: BACKUP } })),
    err(
      'while a backup runs',
      400,
      'FEATURE_IN_USE',
      () => ({ url: `${R}/backup/job`, body: { piece: BACKUP } }),
      (e) => e.running(),
    ),
    err('password breaks the policy', 400, 'INVALID_ARGUMENT', () => ({
      url: `${R}/backup/job`,
      body: { piece: { ...BACKUP, backup_password: 'UPPER#CASE1' } },
    })),
  ],
  [`GET ${R}/backup/job/details`]: [
    ok(
      'filtered',
      200,
      (v) => ({ url: `${R}/backup/job/details?filter.jobs=${v.job}` }),
      (e) => e.succeeded(),
      (b, v) =>
        expect(value(b)).toEqual([
          { key: v.job, value: expect.objectContaining({ status: 'SUCCEEDED', type: 'MANUAL', location: LOC }) },
        ]),
    ),
  ],
  [`GET ${R}/backup/job/{id}`]: [
    ok(
      'get',
      200,
      (v) => ({ url: `${R}/backup/job/${v.job}` }),
      (e) => e.running(),
    ),
    err('unknown id', 404, 'NOT_FOUND', () => ({ url: `${R}/backup/job/20000101-000000-1` })),
  ],
  [`POST ${R}/backup/job/{id}/cancel`]: [
    ok(
      'cancel',
      200,
      (v) => ({ url: `${R}/backup/job/${v.job}/cancel` }),
      (e) => e.running(),
    ),
    err('unknown id', 404, 'NOT_FOUND', () => ({ url: `${R}/backup/job/20000101-000000-1/cancel` })),
  ],
  [`GET ${R}/backup/parts`]: [ok('list', 200, () => ({ url: `${R}/backup/parts` }))],
  [`GET ${R}/backup/parts/{id}`]: [
    ok('size', 200, () => ({ url: `${R}/backup/parts/seat` })),
    // /rest declares only 400 for errors here.
    err('unknown part', 400, 'NOT_FOUND', () => ({ url: `${R}/backup/parts/nope` })),
  ],
  [`GET ${R}/backup/schedules`]: [
    ok(
      'list',
      200,
      () => ({ url: `${R}/backup/schedules` }),
      (e) => e.schedule(),
      (b) => expect(value(b)).toEqual([{ key: 'default', value: expect.objectContaining({ enable: true }) }]),
    ),
  ],
  [`PUT ${R}/backup/schedules/update/{schedule}`]: [
    ok(
      'update',
      200,
      () => ({ url: `${R}/backup/schedules/update/default`, body: { spec: { enable: false } } }),
      (e) => e.schedule(),
    ),
    err(
      'minute out of range',
      400,
      'INVALID_ARGUMENT',
      () => ({
        url: `${R}/backup/schedules/update/default`,
        body: { spec: { recurrence_info: { hour: 1, minute: 60 } } },
      }),
      (e) => e.schedule(),
    ),
    err('unknown schedule', 404, 'NOT_FOUND', () => ({ url: `${R}/backup/schedules/update/nope`, body: { spec: {} } })),
  ],
  [`DELETE ${R}/backup/schedules/{schedule}`]: [
    ok(
      'delete',
      200,
      () => ({ url: `${R}/backup/schedules/default` }),
      (e) => e.schedule(),
    ),
    err('unknown schedule', 404, 'NOT_FOUND', () => ({ url: `${R}/backup/schedules/nope` })),
  ],
  [`GET ${R}/backup/schedules/{schedule}`]: [
    ok(
      'get',
      200,
      () => ({ url: `${R}/backup/schedules/default` }),
      (e) => e.schedule(),
    ),
    err('unknown schedule', 404, 'NOT_FOUND', () => ({ url: `${R}/backup/schedules/nope` })),
  ],
  [`POST ${R}/backup/schedules/{schedule}`]: [
    ok('create', 200, () => ({ url: `${R}/backup/schedules/default`, body: { spec: SCHEDULE_SPEC } })),
    err(
      'a second schedule',
      400,
      'ALREADY_EXISTS',
      () => ({ url: `${R}/backup/schedules/weekly`, body: { spec: SCHEDULE_SPEC } }),
      (e) => e.schedule(),
    ),
    err('not a URL', 400, 'INVALID_ARGUMENT', () => ({
      url: `${R}/backup/schedules/default`,
      body: { spec: { location: '/mnt/backups' } },
    })),
  ],
  [`POST ${R}/backup/schedules/{schedule}?action=run`]: [
    ok(
      'run now',
      200,
      () => ({ url: `${R}/backup/schedules/default?action=run`, body: { comment: 'run now' } }),
      (e) => e.schedule(),
    ),
    err(
      'while a backup runs',
      400,
      'FEATURE_IN_USE',
      () => ({ url: `${R}/backup/schedules/default?action=run` }),
      async (e) => ({ ...(await e.schedule()), ...(await e.running()) }),
    ),
    err('unknown schedule', 404, 'NOT_FOUND', () => ({ url: `${R}/backup/schedules/nope?action=run` })),
  ],
  [`GET ${R}/backup/system-name`]: [
    ok(
      'list',
      200,
      () => ({
        url: `${R}/backup/system-name${qs({ 'loc_spec.location': LOC, 'loc_spec.location_user': 'backup', 'loc_spec.location_password': 'pw' })}`,
      }),
      (e) => e.succeeded(),
      (b) => expect(value(b)).toEqual([SYSTEM]),
    ),
    err('unknown location', 404, 'NOT_FOUND', () => ({
      url: `${R}/backup/system-name${qs({ 'loc_spec.location': 'sftp://backup.example.test/nowhere' })}`,
    })),
    err('empty location', 400, 'INVALID_ARGUMENT', () => ({
      url: `${R}/backup/system-name${qs({ 'loc_spec.location': '' })}`,
    })),
  ],
  [`GET ${R}/backup/system-name/{system_name}/archives`]: [
    ok(
      'list with every filter',
      200,
      () => ({
        url: `${R}/backup/system-name/${SYSTEM}/archives${qs({
          'loc_spec.location': LOC,
          'filter_spec.start_timestamp': '2000-01-01T00:00:00Z',
          'filter_spec.end_timestamp': '2999-01-01T00:00:00Z',
          'filter_spec.comment_substring': 'contract',
          'filter_spec.max_results': 10,
        })}`,
      }),
      (e) => e.succeeded(),
      (b) => expect(value(b)).toHaveLength(1),
    ),
    err(
      'unknown system',
      404,
      'NOT_FOUND',
      () => ({ url: `${R}/backup/system-name/vc-9.sim.local/archives${qs({ 'loc_spec.location': LOC })}` }),
      (e) => e.succeeded(),
    ),
    err(
      'bad timestamp',
      400,
      'INVALID_ARGUMENT',
      () => ({
        url: `${R}/backup/system-name/${SYSTEM}/archives${qs({ 'loc_spec.location': LOC, 'filter_spec.start_timestamp': 'yesterday' })}`,
      }),
      (e) => e.succeeded(),
    ),
  ],
  [`GET ${R}/backup/system-name/{system_name}/archives/{archive}`]: [
    ok(
      'get',
      200,
      (v) => ({ url: `${R}/backup/system-name/${SYSTEM}/archives/${v.archive}${qs({ 'spec.location': LOC })}` }),
      (e) => e.succeeded(),
    ),
    err(
      'unknown archive',
      404,
      'NOT_FOUND',
      () => ({ url: `${R}/backup/system-name/${SYSTEM}/archives/M_nope${qs({ 'spec.location': LOC })}` }),
      (e) => e.succeeded(),
    ),
    err('empty location', 400, 'INVALID_ARGUMENT', () => ({
      url: `${R}/backup/system-name/${SYSTEM}/archives/M_nope${qs({ 'spec.location': '' })}`,
    })),
  ],
  [`POST ${R}/backup/validate`]: [
    ok('valid', 200, () => ({ url: `${R}/backup/validate`, body: { piece: BACKUP } })),
    err(
      'while a backup runs',
      400,
      'FEATURE_IN_USE',
      () => ({ url: `${R}/backup/validate`, body: { piece: BACKUP } }),
      (e) => e.running(),
    ),
  ],
  [`GET ${R}/reconciliation/job`]: [
    ok(
      'before a reconciliation',
      200,
      () => ({ vc: 2, url: `${R}/reconciliation/job` }),
      (e) => e.restored(),
      (b) => expect(value(b)).toMatchObject({ status: 'NONE' }),
    ),
    err('never restored', 404, 'NOT_FOUND', () => ({ url: `${R}/reconciliation/job` })),
  ],
  [`POST ${R}/reconciliation/job`]: [
    ok(
      'create',
      200,
      () => ({ vc: 2, url: `${R}/reconciliation/job`, body: { spec: {} } }),
      (e) => e.restored(),
      (b) => expect(value(b)).toMatchObject({ status: 'RUNNING' }),
    ),
    err('never restored', 400, 'NOT_ALLOWED_IN_CURRENT_STATE', () => ({
      url: `${R}/reconciliation/job`,
      body: { spec: {} },
    })),
  ],
  [`GET ${R}/restore/job`]: [
    ok(
      'none',
      200,
      () => ({ url: `${R}/restore/job` }),
      undefined,
      (b) => expect(value(b)).toMatchObject({ state: 'NONE', progress: 0 }),
    ),
    exception(
      'during a service restart',
      503,
      () => ({ vc: 2, url: `${R}/restore/job`, auth: 'none' }),
      (e) => e.restarting(),
    ),
  ],
  [`POST ${R}/restore/job`]: [
    ok(
      'create',
      200,
      (v) => ({ vc: 2, url: `${R}/restore/job`, body: { piece: { ...restore(v), ignore_warnings: true } } }),
      (e) => e.restoreStage(),
    ),
    err(
      'running appliance',
      400,
      'NOT_ALLOWED_IN_CURRENT_STATE',
      (v) => ({ url: `${R}/restore/job`, body: { piece: restore(v) } }),
      (e) => e.succeeded(),
    ),
    err(
      'while a restore runs',
      400,
      'FEATURE_IN_USE',
      (v) => ({ vc: 2, url: `${R}/restore/job`, body: { piece: restore(v) } }),
      (e) => e.restoring(),
    ),
  ],
  [`POST ${R}/restore/job/cancel`]: [
    ok(
      'cancel',
      200,
      () => ({ vc: 2, url: `${R}/restore/job/cancel` }),
      (e) => e.restoring(),
      (b) => expect(value(b)).toMatchObject({ status: 'OK' }),
    ),
  ],
  [`POST ${R}/restore/validate`]: [
    ok(
      'validate',
      200,
      (v) => ({ vc: 2, url: `${R}/restore/validate`, body: { piece: restore(v) } }),
      (e) => e.restoreStage(),
      (b) => expect(value(b)).toMatchObject({ applicable: true }),
    ),
    err(
      'wrong backup password',
      400,
      'INVALID_ARGUMENT',
      (v) => ({
        vc: 2,
        url: `${R}/restore/validate`,
        body: { piece: { ...restore(v), backup_password: 'Wrong#Pass1' } },
      }),
      (e) => e.restoreStage(),
    ),
  ],
};

/**
 * Declared statuses no request can provoke from this simulator, and why. The coverage test
 * fails when this list and reality differ (a new gap, or a gap that was closed).
 */
const NOT_PROVOKED: Record<string, string> = {
  ...Object.fromEntries(
    [
      `GET ${A}`,
      `GET ${A}/backup/job`,
      `POST ${A}/backup/job`,
      `GET ${A}/backup/job/details`,
      `GET ${A}/backup/job/{id}`,
      `POST ${A}/backup/job/{id}?action=cancel`,
      `GET ${A}/backup/parts`,
      `GET ${A}/backup/schedules`,
      `POST ${A}/backup/schedules`,
      `DELETE ${A}/backup/schedules/{schedule}`,
      `GET ${A}/backup/schedules/{schedule}`,
      `PATCH ${A}/backup/schedules/{schedule}`,
      `POST ${A}/backup/schedules/{schedule}?action=run`,
      `POST ${A}/backup?action=validate`,
      `POST ${A}/reconciliation/job`,
      `GET ${A}/restore/job`,
      `POST ${A}/restore/job`,
      `POST ${A}/restore/job?action=cancel`,
    ].map((op) => [
      `${op} 500`,
      'generic internal error: nothing in the simulator fails internally for this operation',
    ]),
  ),
  [`GET ${A}/reconciliation/job 500`]:
    'generic internal error: the only failure of this operation is NOT_FOUND, answered as the declared 404',
  ...Object.fromEntries(
    [
      `GET ${R}`,
      `GET ${R}/backup/job`,
      `GET ${R}/backup/job/details`,
      `GET ${R}/backup/parts`,
      `GET ${R}/backup/schedules`,
      `GET ${R}/restore/job`,
      `POST ${R}/restore/job/cancel`,
    ].map((op) => [
      `${op} 400`,
      'generic error: this operation has no failure mode (unknown ids in details are left out; cancel answers FAIL)',
    ]),
  ),
  ...Object.fromEntries(
    [
      `GET ${R}/backup/job/{id}`,
      `POST ${R}/backup/job/{id}/cancel`,
      `DELETE ${R}/backup/schedules/{schedule}`,
      `GET ${R}/backup/schedules/{schedule}`,
      `GET ${R}/reconciliation/job`,
    ].map((op) => [
      `${op} 400`,
      'generic error: the only failure of this operation is NOT_FOUND, answered as the declared 404',
    ]),
  ),
};

/** Declared statuses each operation answered in the table run, by `METHOD pathTemplate`. */
const exercised = new Map<string, Set<number>>();

function record(method: string, url: string, status: number): void {
  const op = spec.findOperation(method, url);
  if (!op) return;
  const key = `${op.method} ${op.pathTemplate}`;
  exercised.set(key, (exercised.get(key) ?? new Set()).add(status));
}

/** The vAPI error type of an error body in either form. */
function errorType(body: unknown): string | undefined {
  const b = body as { error_type?: string; type?: string } | undefined;
  return b?.error_type ?? (b?.type ? normaliseVapiErrorType(b.type) : undefined);
}

/** Checks one answer against the spec; 401/503 on operations that do not declare them against the std error schema. */
function answerProblems(method: string, url: string, status: number, body: unknown): string[] {
  const op = spec.findOperation(method, url);
  if (op && op.responses[String(status)] === undefined && STATUS_EXCEPTIONS[status]) {
    const expected = status === 401 ? 'UNAUTHENTICATED' : 'SERVICE_UNAVAILABLE';
    const problems = validateSchema(STD_ERROR_SCHEMA[formOf(url)], body, spec.definitions);
    return errorType(body) === expected
      ? problems
      : [...problems, `$: expected a ${expected} error body for the ${status} exception, got ${JSON.stringify(body)}`];
  }
  return spec.validateResponse(method, url, status, body);
}

async function runCase(key: string, c: Case): Promise<void> {
  const method = key.split(' ')[0]!;
  const restart = c.status === 503;
  const sim = await startSimulator({
    vcenters: 2,
    jobSeconds: restart ? RESTART_JOB_SECONDS : JOB_SECONDS,
    http: true,
  });
  try {
    const env = new Env(sim);
    const vars = (await c.setup?.(env)) ?? {};
    const req = c.request(vars);
    const vc = req.vc ?? 1;
    const headers: Record<string, string> = {};
    const auth = req.auth ?? 'session';
    if (auth === 'session') headers['vmware-api-session-id'] = await env.login(vc);
    if (auth === 'basic') headers.authorization = env.basic(vc);
    if (auth === 'bad-basic') headers.authorization = env.basic(vc, 'Wrong#Pass1');

    const op = spec.findOperation(method, req.url);
    expect(op && `${op.method} ${op.pathTemplate}`, `${method} ${req.url} is not the row's operation`).toBe(key);
    expect(spec.validateRequestBody(method, req.url, req.body), 'the request is not valid per the spec').toEqual([]);

    // While services restart, the simulator alternates 503 with dropped connections: retry drops.
    let res: Exchange | undefined;
    for (let attempt = 0; !res; attempt++) {
      try {
        res = await env.raw(vc, method, req.url, req.body, headers);
      } catch (e) {
        if (attempt >= 3) throw e;
      }
    }
    expect({ status: res.status, body: res.body }).toMatchObject({ status: c.status });
    // Only rows marked as exceptions may answer a status the operation does not declare.
    expect(
      op?.responses[String(res.status)] !== undefined || c.exception === true,
      `status ${res.status} is neither declared nor a marked exception`,
    ).toBe(true);
    expect(answerProblems(method, req.url, res.status, res.body)).toEqual([]);
    if (c.error) expect(errorType(res.body)).toBe(c.error);
    else expect(res.status).toBeLessThan(300);
    c.check?.(res.body, vars);
    record(method, req.url, res.status);
  } finally {
    await sim.close();
  }
}

describe('vCenter simulator against the 7.0.2 Swagger', () => {
  it('has a row for every spec operation, and no row the spec lacks', () => {
    expect(SPEC_OPS.length).toBe(54);
    expect(
      Object.keys(CASES).filter((k) => !SPEC_OPS.includes(k)),
      'rows without a spec operation',
    ).toEqual([]);
    expect(
      SPEC_OPS.filter((k) => !(k in CASES)),
      'spec operations without a row',
    ).toEqual([]);
  });

  // Walks the spec, not the table: an operation without a row fails here.
  describe.each(SPEC_OPS)('%s', (key) => {
    const cases = CASES[key] ?? [];
    it('has cases, one of them a success', () => {
      expect(cases.some((c) => c.status < 300)).toBe(true);
    });
    it.each(cases.map((c) => [`${c.status} ${c.title}`, c] as const))('%s', async (_title, c) => runCase(key, c));
  });

  it('exercised every operation, and every declared status except the listed ones', () => {
    const declared: string[] = [];
    const missed: string[] = [];
    let successes = 0;
    for (const op of spec.operations()) {
      const key = `${op.method} ${op.pathTemplate}`;
      const seen = exercised.get(key) ?? new Set<number>();
      if ([...seen].some((s) => s < 300)) successes++;
      for (const status of Object.keys(op.responses)) {
        declared.push(`${key} ${status}`);
        if (!seen.has(Number(status))) missed.push(`${key} ${status}`);
      }
    }
    const exceptions = [...exercised.entries()].flatMap(([key, s]) =>
      [...s].filter(
        (x) => !spec.operations().find((o) => `${o.method} ${o.pathTemplate}` === key)?.responses[String(x)],
      ),
    );
    console.info(
      `vCenter contract: ${successes}/${SPEC_OPS.length} operations answered successfully; ` +
        `${declared.length - missed.length}/${declared.length} declared (operation, status) pairs exercised; ` +
        `${missed.length} not provokable (listed in NOT_PROVOKED); ${exceptions.length} exception statuses (401/503) seen outside the session operations`,
    );
    expect(successes).toBe(SPEC_OPS.length);
    expect(missed.sort()).toEqual(Object.keys(NOT_PROVOKED).sort());
  });
});

// -------------------------------------------------------------------------------------------
// What the client sends and gets, captured on the simulator side.

interface Captured {
  form: 'api' | 'rest';
  operation: string;
  method: string;
  url: string;
  body: unknown;
  res: SimResponse;
}

function capturingFactory(log: Captured[]) {
  return (index: number, ctx: SimulatorContext) =>
    new (class extends VcenterAppliance {
      override routes(): SimRoute[] {
        return super.routes().map((r) => ({
          ...r,
          handler: async (req: SimRequest) => {
            const res = await r.handler(req);
            const query = req.query.toString();
            const url = `${req.path}${query ? `?${query}` : ''}`;
            log.push({ form: formOf(req.path), operation: r.operation, method: req.method, url, body: req.body, res });
            return res;
          },
        }));
      }
    })(index, ctx);
}

describe.each(['api', 'rest'] as const)('VcenterClient requests against the 7.0.2 Swagger (%s form)', (form) => {
  const log: Captured[] = [];
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({
      vcenters: 2,
      jobSeconds: JOB_SECONDS,
      http: true,
      factories: { vcenter: capturingFactory(log) },
    });
  });
  afterAll(async () => sim?.close());

  const client = (i: number, apiForm: VcenterApiForm = form) => {
    const vc = sim.info.vcenter[i - 1]!;
    return new VcenterClient({
      url: vc.url,
      apiForm,
      credentials: async () => ({ username: vc.username, password: new Secret(vc.password) }),
    });
  };
  const until = async (fn: () => Promise<boolean>) => {
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(40)) {
      try {
        if (await fn()) return;
      } catch {
        // restarting services: keep polling
      }
    }
    throw new Error('timed out');
  };

  it('runs every client operation', async () => {
    const c = client(1);
    const target = client(2);
    await c.recoveryInfo();
    await c.sessionInfo();
    await c.backupParts();
    await c.backupPartSize('seat');
    const request = { ...BACKUP, location_type: 'SFTP' as const, comment: 'client run' };
    await c.backupValidate(request);
    const job = await c.backupJobCreate(request);
    await c.backupJobList();
    await c.backupJobDetails([job.id]);
    await c.backupJobCancel(job.id);
    await c.scheduleCreate('default', { ...SCHEDULE_SPEC, recurrence_info: { hour: 1, minute: 30, days: ['SUNDAY'] } });
    await c.schedulesList();
    await c.scheduleGet('default');
    await c.scheduleUpdate('default', { enable: false, retention_info: { max_count: 4 } });
    const run = await c.scheduleRun('default', 'scheduled run');
    await until(async () => (await c.backupJobGet(run.id)).state === 'SUCCEEDED');
    await c.backupJobDetails();
    await c.scheduleDelete('default');
    const [system] = await target.systemNames({ location: LOC, location_user: 'backup', location_password: 'pw' });
    const archives = await target.archives(
      system!,
      { location: LOC, location_user: 'backup' },
      {
        start_timestamp: '2000-01-01T00:00:00Z',
        end_timestamp: '2999-01-01T00:00:00.000Z',
        comment_substring: 'scheduled',
        max_results: 3,
      },
    );
    const archive = await target.archiveGet(system!, archives[0]!.archive, { location: LOC, location_password: 'pw' });
    (sim.appliance('vcenter', 'vc-2') as VcenterAppliance).setStage('restore');
    const restore = {
      location_type: 'SFTP' as const,
      location: archive.location,
      backup_password: PASSWORD,
      sso_admin_user_name: 'administrator@vsphere.local',
      sso_admin_user_password: 'x',
    };
    await target.restoreValidate(restore);
    await target.restoreJobCreate({ ...restore, ignore_warnings: true });
    await until(async () => (await target.restoreJobGet()).state === 'SUCCEEDED');
    await target.restoreJobCancel();
    await target.reconciliationJobGet();
    await target.reconciliationJobCreate({ ignore_warnings: true });
    await c.logout();
  });

  it('sent only spec-valid requests, for every operation of the form', () => {
    const ops = new Set<string>();
    for (const x of log) {
      expect(x.form).toBe(form);
      expect(spec.validateRequestBody(x.method, x.url, x.body), `${x.operation}: ${x.method} ${x.url}`).toEqual([]);
      const op = spec.findOperation(x.method, x.url);
      if (op) ops.add(`${op.method} ${op.pathTemplate}`);
    }
    const expected = SPEC_OPS.filter((k) => k.split(' ')[1]!.startsWith(`/${form}/`));
    expect(
      expected.filter((k) => !ops.has(k)),
      'operations the client never called',
    ).toEqual([]);
  });

  it('got only answers the spec declares (or the 401/503 exceptions)', () => {
    for (const x of log) {
      if (x.res.raw !== undefined) {
        // A dropped connection during the service restart: no answer to check.
        expect(x.res.status).toBe(503);
        continue;
      }
      expect(
        answerProblems(x.method, x.url, x.res.status, x.res.body),
        `${x.operation}: ${x.method} ${x.url} → ${x.res.status}`,
      ).toEqual([]);
    }
    // The restore lost the client's session: the 401 exception was exercised and answered correctly.
    expect(log.some((x) => x.res.status === 401 && x.operation === 'restoreJobGet')).toBe(true);
  });
});
