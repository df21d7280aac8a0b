/**
 * The HTTP table of the simulated vCenter, in both wire forms (`/api` and legacy `/rest`): per
 * operation its paths, its handler (an area's call) and the error statuses VMware's 7.0.2 Swagger
 * declares for it. Every route goes through `vapiRoute` (`vapi-route.ts`).
 */
import { z } from 'zod';
import type { SimRequest, SimRoute } from '../types';
import {
  ArchiveFilterSpec,
  BackupRequest,
  LocationSpec,
  ReconciliationCreateSpec,
  RestoreRequest,
  RestoreValidateRequest,
  ScheduleCreateSpec,
  ScheduleUpdateSpec,
} from '../../vcenter/schemas';
import type { Archives } from './archives';
import type { BackupJobs } from './backup-jobs';
import { VapiFault, parseArg } from './errors';
import { PARTS, type VcenterForm, type VcenterState } from './model';
import type { Reconciliation } from './reconciliation';
import type { Restore } from './restore';
import type { Schedules } from './schedules';
import { jsonRpcRoute } from './jsonrpc';
import { type RouteOptions, type VapiRouteHooks, mapOut, restJobIds, restParam, vapiRoute } from './vapi-route';

type Form = VcenterForm;

/** What the table calls: the appliance's areas, its sessions and its outage. */
export interface VcenterRouteTarget extends VapiRouteHooks {
  readonly forms: readonly Form[];
  /** Whether to serve vAPI JSON-RPC at `POST /api` too (`jsonrpc.ts`); on unless false. */
  readonly jsonRpc?: boolean;
  readonly state: VcenterState;
  readonly backups: BackupJobs;
  readonly archives: Archives;
  readonly restore: Restore;
  readonly schedules: Schedules;
  readonly reconciliation: Reconciliation;
  /** Logs in with HTTP Basic; the new session token. */
  login(req: SimRequest): string;
  /** The user a job started by this call runs as. */
  sessionUser(req: SimRequest): string;
}

/** `/api` request bodies that wrap the structures (ApplianceRecoveryBackupSchedulesCreate, ...ArchiveList). */
const ScheduleCreateBody = z.object({ schedule: z.string().min(1), spec: ScheduleCreateSpec });
const ArchiveListBody = z.object({ loc_spec: LocationSpec, filter_spec: ArchiveFilterSpec });

/** The routes of one vCenter, in the forms it serves. */
export function vcenterRoutes(vc: VcenterRouteTarget): SimRoute[] {
  const r: SimRoute[] = [];
  const { backups, archives, restore, schedules, reconciliation, state } = vc;
  const has = (form: Form) => vc.forms.includes(form);
  const one = (
    form: Form,
    method: string,
    pattern: string,
    operation: string,
    handler: (req: SimRequest, form: Form) => unknown,
    opts: RouteOptions,
  ) => {
    if (has(form)) r.push(vapiRoute(vc, form, method, pattern, operation, handler, opts));
  };
  const both = (
    method: string,
    api: string | undefined,
    rest: string | undefined,
    operation: string,
    handler: (req: SimRequest, form: Form) => unknown,
    opts: { api: RouteOptions; rest: RouteOptions },
  ) => {
    if (api) one('api', method, api, operation, handler, opts.api);
    if (rest) one('rest', method, rest, operation, handler, opts.rest);
  };
  // Error statuses each operation declares in the 7.0.2 spec (`/rest`: 400 and sometimes 404).
  const E = {
    api: [500],
    api400: [400, 500],
    api404: [404, 500],
    api400404: [400, 404, 500],
    rest: [400],
    rest404: [400, 404],
  };
  const plain = { api: { errors: E.api }, rest: { errors: E.rest } };
  const notFound = { api: { errors: E.api404 }, rest: { errors: E.rest404 } };

  // Sessions (cis): 401 and 503 declared.
  const SESSION = { auth: false, errors: [401, 503] };
  const info = (req: SimRequest) => {
    const token = vc.authenticate(req);
    const s = state.sessions.get(token)!;
    return {
      user: s.user,
      created_time: new Date(s.created).toISOString(),
      last_accessed_time: new Date(s.lastAccess).toISOString(),
    };
  };
  const logout = (req: SimRequest) => {
    state.sessions.delete(vc.authenticate(req));
    return undefined;
  };
  both('POST', '/api/session', '/rest/com/vmware/cis/session', 'sessionCreate', (req) => vc.login(req), {
    api: { ...SESSION, status: 201 },
    rest: SESSION,
  });
  one('api', 'GET', '/api/session', 'sessionGet', info, SESSION);
  one('rest', 'POST', '/rest/com/vmware/cis/session?~action=get', 'sessionGet', info, SESSION);
  both('DELETE', '/api/session', '/rest/com/vmware/cis/session', 'sessionDelete', logout, {
    api: { ...SESSION, status: 204 },
    rest: SESSION,
  });

  const A = '/api/appliance/recovery';
  const R = '/rest/appliance/recovery';
  both('GET', A, R, 'recoveryGet', () => ({ supported: true }), plain);

  // Backup jobs
  both(
    'POST',
    `${A}/backup/job`,
    `${R}/backup/job`,
    'backupJobCreate',
    (req) => backups.start(parseArg(BackupRequest, req.body, ''), 'MANUAL', vc.sessionUser(req)),
    { api: { status: 201, errors: E.api400 }, rest: { unwrap: 'piece', errors: E.rest } },
  );
  both('GET', `${A}/backup/job`, `${R}/backup/job`, 'backupJobList', () => [...state.jobs.keys()].reverse(), plain);
  both(
    'GET',
    `${A}/backup/job/details`,
    `${R}/backup/job/details`,
    'backupJobDetails',
    (req, form) => {
      const ids = form === 'api' ? req.query.getAll('jobs') : restJobIds(req);
      // Unknown ids are left out [uncertain: a real appliance may answer an error].
      const jobs = ids.length ? ids.flatMap((id) => state.jobs.get(id) ?? []) : [...state.jobs.values()];
      return mapOut(form, Object.fromEntries(jobs.map((j) => [j.id, backups.details(j)])));
    },
    plain,
  );
  both(
    'GET',
    `${A}/backup/job/:id`,
    `${R}/backup/job/:id`,
    'backupJobGet',
    (req) => backups.status(backups.job(req.params.id)),
    notFound,
  );
  both(
    'POST',
    `${A}/backup/job/:id?action=cancel`,
    `${R}/backup/job/:id/cancel`,
    'backupJobCancel',
    (req) => backups.cancel(req.params.id),
    notFound,
  );

  // Parts, validate
  both(
    'GET',
    `${A}/backup/parts`,
    `${R}/backup/parts`,
    'backupPartList',
    () => PARTS.map(({ sizeMb: _size, ...p }) => p),
    plain,
  );
  both(
    'GET',
    `${A}/backup/parts/:id`,
    `${R}/backup/parts/:id`,
    'backupPartSize',
    (req) => {
      const part = PARTS.find((p) => p.id === req.params.id);
      if (!part)
        throw new VapiFault(
          'NOT_FOUND',
          `Unknown backup part '${req.params.id}'.`,
          'com.vmware.applmgmt.err_unknown_part',
        );
      return part.sizeMb;
    },
    plain,
  );
  both(
    'POST',
    `${A}/backup?action=validate`,
    `${R}/backup/validate`,
    'backupValidate',
    (req) => backups.validate(parseArg(BackupRequest, req.body, '')),
    { api: { errors: E.api400 }, rest: { unwrap: 'piece', errors: E.rest } },
  );

  // Schedules
  both(
    'GET',
    `${A}/backup/schedules`,
    `${R}/backup/schedules`,
    'scheduleList',
    (_req, form) => mapOut(form, Object.fromEntries([...state.schedules].map(([id, s]) => [id, s.info]))),
    plain,
  );
  const create = (schedule: string, spec: ScheduleCreateSpec) => {
    schedules.create(schedule, spec);
    return undefined;
  };
  one(
    'api',
    'POST',
    `${A}/backup/schedules`,
    'scheduleCreate',
    (req) => {
      const { schedule, spec } = parseArg(ScheduleCreateBody, req.body, '');
      return create(schedule, spec);
    },
    { status: 204, errors: E.api400 },
  );
  one(
    'rest',
    'POST',
    `${R}/backup/schedules/:schedule`,
    'scheduleCreate',
    (req) => create(req.params.schedule ?? '', parseArg(ScheduleCreateSpec, req.body, 'spec')),
    { unwrap: 'spec', errors: E.rest },
  );
  both(
    'GET',
    `${A}/backup/schedules/:schedule`,
    `${R}/backup/schedules/:schedule`,
    'scheduleGet',
    (req) => schedules.get(req.params.schedule).info,
    notFound,
  );
  const update = (req: SimRequest) => {
    schedules.update(req.params.schedule, parseArg(ScheduleUpdateSpec, req.body ?? {}, 'spec'));
    return undefined;
  };
  one('api', 'PATCH', `${A}/backup/schedules/:schedule`, 'scheduleUpdate', update, {
    status: 204,
    errors: E.api400404,
  });
  one('rest', 'PUT', `${R}/backup/schedules/update/:schedule`, 'scheduleUpdate', update, {
    unwrap: 'spec',
    errors: E.rest404,
  });
  both(
    'DELETE',
    `${A}/backup/schedules/:schedule`,
    `${R}/backup/schedules/:schedule`,
    'scheduleDelete',
    (req) => schedules.delete(req.params.schedule),
    { api: { status: 204, errors: E.api404 }, rest: { errors: E.rest404 } },
  );
  both(
    'POST',
    `${A}/backup/schedules/:schedule?action=run`,
    `${R}/backup/schedules/:schedule?action=run`,
    'scheduleRun',
    (req) => schedules.run(req.params.schedule, req.body, vc.sessionUser(req)),
    { api: { errors: E.api400404 }, rest: { errors: E.rest404 } },
  );

  // System names and archives: `/api` POSTs with bodies, `/rest` GETs with flattened query parameters
  // (or, as VMware's SDKs send them, a JSON body: see `restParam`).
  one(
    'api',
    'POST',
    `${A}/backup/system-name?action=list`,
    'systemNameList',
    (req) => archives.systemNames(parseArg(LocationSpec, req.body, '')),
    { errors: E.api404 },
  );
  one(
    'rest',
    'GET',
    `${R}/backup/system-name`,
    'systemNameList',
    (req) => archives.systemNames(parseArg(LocationSpec, restParam(req, 'loc_spec'), 'loc_spec')),
    { errors: E.rest404 },
  );
  one(
    'api',
    'POST',
    `${A}/backup/system-name/:system_name/archives?action=list`,
    'archiveList',
    (req) => {
      const { loc_spec, filter_spec } = parseArg(ArchiveListBody, req.body, '');
      return archives.list(req.params.system_name ?? '', loc_spec, filter_spec);
    },
    { errors: E.api404 },
  );
  one(
    'rest',
    'GET',
    `${R}/backup/system-name/:system_name/archives`,
    'archiveList',
    (req) =>
      archives.list(
        req.params.system_name ?? '',
        parseArg(LocationSpec, restParam(req, 'loc_spec'), 'loc_spec'),
        parseArg(ArchiveFilterSpec, restParam(req, 'filter_spec', ['max_results']), 'filter_spec'),
      ),
    { errors: E.rest404 },
  );
  one(
    'api',
    'POST',
    `${A}/backup/system-name/:system_name/archives/:archive?action=get`,
    'archiveGet',
    (req) => archives.get(req.params.system_name ?? '', req.params.archive ?? '', parseArg(LocationSpec, req.body, '')),
    { errors: E.api404 },
  );
  one(
    'rest',
    'GET',
    `${R}/backup/system-name/:system_name/archives/:archive`,
    'archiveGet',
    (req) =>
      archives.get(
        req.params.system_name ?? '',
        req.params.archive ?? '',
        parseArg(LocationSpec, restParam(req, 'spec'), 'spec'),
      ),
    { errors: E.rest404 },
  );

  // Restore
  both(
    'POST',
    `${A}/restore/job`,
    `${R}/restore/job`,
    'restoreJobCreate',
    (req) => restore.create(parseArg(RestoreRequest, req.body, '')),
    { api: { status: 201, errors: E.api400 }, rest: { unwrap: 'piece', errors: E.rest } },
  );
  both('GET', `${A}/restore/job`, `${R}/restore/job`, 'restoreJobGet', () => restore.status(), plain);
  both(
    'POST',
    `${A}/restore/job?action=cancel`,
    `${R}/restore/job/cancel`,
    'restoreJobCancel',
    () => restore.cancel(),
    plain,
  );
  both(
    'POST',
    `${A}/restore?action=validate`,
    `${R}/restore/validate`,
    'restoreValidate',
    (req) => restore.validate(parseArg(RestoreValidateRequest, req.body, '')),
    { api: { errors: E.api }, rest: { unwrap: 'piece', errors: E.rest } },
  );

  // Reconciliation (after a restore)
  both(
    'POST',
    `${A}/reconciliation/job`,
    `${R}/reconciliation/job`,
    'reconciliationJobCreate',
    (req) => reconciliation.create(parseArg(ReconciliationCreateSpec, req.body ?? {}, '')),
    { api: { status: 201, errors: E.api400 }, rest: { unwrap: 'spec', errors: E.rest } },
  );
  both(
    'GET',
    `${A}/reconciliation/job`,
    `${R}/reconciliation/job`,
    'reconciliationJobGet',
    () => reconciliation.info(),
    notFound,
  );
  // vAPI JSON-RPC (`POST /api`), served by the `/api` routes above.
  if (has('api') && vc.jsonRpc !== false) r.push(jsonRpcRoute(r));
  return r;
}
