/**
 * Simulated vCenter appliance recovery (backup, restore, schedules, archives, reconciliation) in
 * both wire forms (`/api` and legacy `/rest`), checked against VMware's 7.0.2 Swagger by
 * `test/vcenter-contract.test.ts`.
 *
 * Status codes follow the spec per operation: when the natural HTTP status of a vAPI error
 * (reference §1.6) is not declared for the operation, the error keeps its type but answers the
 * status the operation does declare for generic errors (`/api` 500, `/rest` 400). Clients
 * classify by the error type first, so NotFound stays NotFound. Two exceptions, as on a real
 * appliance: 401 UNAUTHENTICATED on any call, and 503/dropped connections while a restore
 * restarts the services.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { normaliseVapiErrorType } from '../../vcenter/errors';
import type { SimAppliance, SimRequest, SimResponse, SimRoute, SimulatorContext } from '../types';
import {
  ArchiveFilterSpec,
  type ArchiveInfo,
  type ArchiveSummary,
  BackupRequest,
  type BackupJobStatus,
  type DetailsInfo,
  type LocalizableMessage,
  LocationSpec,
  type LocationType,
  type Part,
  ReconciliationCreateSpec,
  type ReconciliationJobInfo,
  RestoreRequest,
  type RestoreJobStatus,
  type RestoreMetadata,
  RestoreValidateRequest,
  type ReturnResult,
  ScheduleCreateSpec,
  type ScheduleInfo,
  ScheduleUpdateSpec,
  backupPasswordViolation,
} from '../../vcenter/schemas';

/** vAPI std error → HTTP status (reference §1.6). */
const VAPI_STATUS: Record<string, number> = {
  UNAUTHENTICATED: 401,
  UNAUTHORIZED: 403,
  NOT_FOUND: 404,
  OPERATION_NOT_FOUND: 404,
  CONCURRENT_CHANGE: 409,
  INTERNAL_SERVER_ERROR: 500,
  ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
  TIMED_OUT: 504,
};
const STATUS_VAPI: Record<number, string> = {
  401: 'UNAUTHENTICATED',
  403: 'UNAUTHORIZED',
  404: 'NOT_FOUND',
  409: 'CONCURRENT_CHANGE',
  429: 'SERVICE_UNAVAILABLE',
  500: 'INTERNAL_SERVER_ERROR',
  502: 'SERVICE_UNAVAILABLE',
  503: 'SERVICE_UNAVAILABLE',
  504: 'TIMED_OUT',
};

export const VCENTER_BUILD = '21560480';
/** Version string of the simulated appliance and its archives [uncertain: any real-looking value]. */
export const VCENTER_VERSION = '7.0.3.01400';

export type VcenterForm = 'api' | 'rest';
type Form = VcenterForm;

/** Where a vCenter is in its life: normal operation, or freshly deployed waiting for a restore (stage 2, before firstboot). */
export type VcenterStage = 'running' | 'restore';

/** A vAPI error to answer: the route throws it, the router renders it in the request's form. */
export class VapiFault extends Error {
  constructor(
    readonly errorType: string,
    message: string,
    readonly messageId = `com.vmware.applmgmt.err_${errorType.toLowerCase()}`,
  ) {
    super(message);
  }
}

function msg(id: string, text: string, args: string[] = []): LocalizableMessage {
  return { id, default_message: text, args };
}

/** The error body of a vAPI error in either form. */
export function vapiErrorResponse(
  form: Form,
  errorType: string,
  message: string,
  messageId?: string,
  status?: number,
): SimResponse {
  const type = normaliseVapiErrorType(errorType);
  const m = msg(messageId ?? `com.vmware.applmgmt.err_${type.toLowerCase()}`, message);
  const httpStatus = status ?? VAPI_STATUS[type] ?? 400;
  if (form === 'api') return { status: httpStatus, body: { error_type: type, messages: [m] } };
  return {
    status: httpStatus,
    body: { type: `com.vmware.vapi.std.errors.${type.toLowerCase()}`, value: { messages: [m] } },
  };
}

/** The part catalogue: `common` is mandatory, `seat` (stats, events, tasks) optional. Sizes in MB. */
const PARTS: readonly (Part & { sizeMb: number })[] = [
  {
    id: 'common',
    name: msg('com.vmware.applmgmt.backup.parts.common', 'Common'),
    description: msg('com.vmware.applmgmt.backup.parts.common.description', 'Inventory and configuration'),
    selected_by_default: true,
    optional: false,
    sizeMb: 1536,
  },
  {
    id: 'seat',
    name: msg('com.vmware.applmgmt.backup.parts.seat', 'Stats, Events, and Tasks'),
    description: msg('com.vmware.applmgmt.backup.parts.seat.description', 'Historical statistics, events and tasks'),
    selected_by_default: true,
    optional: true,
    sizeMb: 4096,
  },
];

/** Location URL scheme → location type (schedules carry only a URL). */
const SCHEME_TYPES: Record<string, LocationType> = {
  ftp: 'FTP',
  http: 'HTTP',
  ftps: 'FTPS',
  https: 'HTTPS',
  scp: 'SCP',
  sftp: 'SFTP',
  nfs: 'NFS',
  smb: 'SMB',
};

function schemeType(location: string): LocationType | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(location)?.[1]?.toLowerCase();
  return scheme ? SCHEME_TYPES[scheme] : undefined;
}

function sameLocation(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

interface Job {
  id: string;
  comment?: string;
  parts: string[];
  location: string;
  locationType: string;
  locationUser?: string;
  /** The backup password, so a restore can check it (a simulator may keep it; nothing echoes it). */
  backupPassword?: string;
  type: 'MANUAL' | 'SCHEDULED';
  user: string;
  startMs: number;
  fail?: string;
  cancelled?: boolean;
  endMs?: number;
}

interface RestoreJob {
  startMs: number;
  /** Set when the job ended early (cancelled, or failed its prechecks): no service restart then. */
  endMs?: number;
  cancelled?: boolean;
  /** Failure reason; with `endMs` unset the job fails at the end of its run. */
  fail?: string;
  /** Messages of the prechecks (warnings). */
  notes: LocalizableMessage[];
  sessionsDropped?: boolean;
}

interface Reconciliation {
  startMs: number;
  fail?: string;
}

interface Schedule {
  info: ScheduleInfo;
  backupPassword?: string;
  locationPassword?: string;
}

/** One backup archive on a backup server, as every appliance of the simulator sees it. */
interface Archive {
  id: string;
  systemName: string;
  /** The location the backup was written to (what list/get take). */
  location: string;
  /** The archive folder: what a restore request points at. */
  archiveLocation: string;
  timestampMs: number;
  comment: string;
  parts: string[];
  backupPassword?: string;
}

/**
 * Backup servers are shared: a freshly deployed appliance lists and restores the archives another
 * appliance wrote. One registry per simulator (keyed by its context).
 */
const REGISTRIES = new WeakMap<SimulatorContext, Set<VcenterAppliance>>();

/** Timestamp-based job id as real appliances emit: `YYYYMMDD-HHMMSS-<build>`. */
function stamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}
function jobId(ms: number): string {
  return `${stamp(ms)}-${VCENTER_BUILD}`;
}

/** Parses a request part with `schema`; INVALID_ARGUMENT naming the field otherwise. */
function parseArg<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = [what, ...(issue?.path ?? []).map(String)].filter(Boolean).join('.');
  throw new VapiFault(
    'INVALID_ARGUMENT',
    `Invalid argument ${field || 'body'}: ${issue?.message}`,
    'vapi.bindings.typeconverter.invalid',
  );
}

/** `/rest` flattened structure parameter: `prefix.field=...` query parameters → object. */
function unflatten(query: URLSearchParams, prefix: string, integers: readonly string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of query) {
    if (!key.startsWith(`${prefix}.`)) continue;
    const field = key.slice(prefix.length + 1);
    out[field] = integers.includes(field) && /^-?\d+$/.test(value) ? Number(value) : value;
  }
  return out;
}

/** A vAPI map in the request's form: `/api` object, `/rest` `[{key, value}]`. */
function mapOut<T>(form: Form, record: Record<string, T>): unknown {
  return form === 'api' ? record : Object.entries(record).map(([key, value]) => ({ key, value }));
}

function checkPassword(password: string | undefined): void {
  if (password === undefined) return;
  const violation = backupPasswordViolation(password);
  if (violation) throw new VapiFault('INVALID_ARGUMENT', violation, 'com.vmware.applmgmt.err_backup_password_policy');
}

function checkParts(parts: readonly string[]): void {
  for (const p of parts) {
    if (!PARTS.some((k) => k.id === p))
      throw new VapiFault('INVALID_ARGUMENT', `Unknown backup part '${p}'.`, 'com.vmware.applmgmt.err_unknown_part');
  }
}

const BUSY = 'A backup or restore is already in progress.';

/** `/api` request bodies that wrap the structures (ApplianceRecoveryBackupSchedulesCreate, ...ArchiveList, ...SchedulesRun). */
const ScheduleCreateBody = z.object({ schedule: z.string().min(1), spec: ScheduleCreateSpec });
const ArchiveListBody = z.object({ loc_spec: LocationSpec, filter_spec: ArchiveFilterSpec });
const ScheduleRunBody = z.object({ comment: z.string().optional() });

export interface VcenterApplianceOptions {
  /** Wire forms served. Default both; `['rest']` is a 6.5/6.7 appliance (no `/api`: auto-detection falls back). */
  forms?: readonly Form[];
}

interface RouteOptions {
  /** Whether the route needs a session. Default true. */
  auth?: boolean;
  /** `/api` success status. Default 200 (204 when the handler returns nothing). */
  status?: number;
  /** `/rest` body wrapper to remove. */
  unwrap?: 'piece' | 'spec';
  /** Error statuses the spec declares for this operation in this form. */
  errors: readonly number[];
}

/**
 * One simulated vCenter: sessions with an idle timeout, one backup or restore at a time
 * (FEATURE_IN_USE), jobs that progress over `jobSeconds`, both `/api` and `/rest` forms.
 *
 * Knobs for tests: {@link setStage} (`'restore'` = freshly deployed, before firstboot),
 * {@link expireSessions}, {@link failNextJob}, and the `jobSeconds`/`sessionIdleSeconds` of the
 * simulator. A restore restarts the services during the middle third of `jobSeconds`: calls then
 * answer 503 SERVICE_UNAVAILABLE and drop the connection, alternately, and every session is lost.
 */
export class VcenterAppliance implements SimAppliance {
  readonly product = 'vcenter' as const;
  readonly name: string;
  /** FQDN/PNID-like name: the backup "system name". */
  readonly systemName: string;
  readonly username = 'administrator@vsphere.local';
  readonly password: string;
  readonly forms: readonly Form[];
  private readonly ctx: SimulatorContext;
  /** token → session */
  private readonly sessions = new Map<string, { user: string; created: number; lastAccess: number }>();
  readonly jobs = new Map<string, Job>();
  private readonly schedules = new Map<string, Schedule>();
  /** Archives this appliance wrote before it was redeployed (they stay on the backup servers). */
  private readonly kept: Archive[] = [];
  private restoreJob?: RestoreJob;
  private reconciliation?: Reconciliation;
  /** When the last restore completed: reconciliation is possible from then on. */
  private restoredAtMs?: number;
  private currentStage: VcenterStage = 'running';
  private nextJobFails?: string;
  private outageCalls = 0;

  constructor(index: number, ctx: SimulatorContext, opts: VcenterApplianceOptions = {}) {
    this.name = `vc-${index}`;
    this.systemName = `${this.name}.sim.local`;
    this.ctx = ctx;
    this.forms = opts.forms ?? ['api', 'rest'];
    this.password = `Sim-${randomBytes(6).toString('hex')}!${index}`;
    let registry = REGISTRIES.get(ctx);
    if (!registry) REGISTRIES.set(ctx, (registry = new Set()));
    registry.add(this);
  }

  // -------------------------------------------------------------------------------------------
  // Knobs

  /** The appliance's stage (a finished restore moves it to `'running'`). */
  get stage(): VcenterStage {
    this.tick();
    return this.currentStage;
  }

  /**
   * `'restore'`: the appliance is freshly deployed and waits for a restore (no jobs, schedules or
   * sessions of its own; archives on backup servers remain). `'running'`: normal operation, where
   * a restore answers NOT_ALLOWED_IN_CURRENT_STATE.
   */
  setStage(stage: VcenterStage): void {
    if (stage === 'restore') {
      // A redeployed appliance: its backups stay on the backup servers.
      this.kept.push(...this.ownArchives());
      this.jobs.clear();
      this.schedules.clear();
      this.sessions.clear();
      this.restoreJob = undefined;
      this.reconciliation = undefined;
      this.restoredAtMs = undefined;
    }
    this.currentStage = stage;
  }

  /** Whether a restore is restarting the services right now (calls answer 503 or drop). */
  get restartingServices(): boolean {
    const window = this.restoreJob && this.restartWindow(this.restoreJob);
    const now = this.ctx.now();
    return !!window && now >= window[0] && now < window[1];
  }

  /** Expires every session now (as an appliance restart or the idle timeout would). */
  expireSessions(): void {
    this.sessions.clear();
  }

  failNextJob(message: string): void {
    this.nextJobFails = message;
  }

  errorResponse(error: string | undefined, status: number | undefined, message: string, path?: string): SimResponse {
    const type = error ?? (status ? STATUS_VAPI[status] : undefined) ?? 'ERROR';
    return vapiErrorResponse(path?.startsWith('/rest/') ? 'rest' : 'api', type, message, undefined, status);
  }

  /** Admin knobs: `{"stage": "restore" | "running"}`, `{"expireSessions": true}`. */
  admin(command: Record<string, unknown>): unknown {
    const { stage, expireSessions, ...rest } = command;
    if (Object.keys(rest).length)
      throw new Error(`unknown vCenter admin command ${Object.keys(rest).join(', ')}; use stage or expireSessions`);
    if (stage !== undefined) {
      if (stage !== 'restore' && stage !== 'running') throw new Error('stage must be "restore" or "running"');
      this.setStage(stage);
    }
    if (expireSessions === true) this.expireSessions();
    return { stage: this.stage, restartingServices: this.restartingServices };
  }

  corrupt(res: SimResponse): SimResponse {
    if (res.body && typeof res.body === 'object' && !Array.isArray(res.body)) {
      const body = { ...(res.body as Record<string, unknown>) };
      if ('value' in body && body.value && typeof body.value === 'object')
        body.value = { ...(body.value as object), state: 42 };
      else body.state = 42;
      return { ...res, body };
    }
    return { ...res, body: { unexpected: true } };
  }

  // -------------------------------------------------------------------------------------------
  // Time-driven state

  private takeJobFailure(): string | undefined {
    const fail = this.nextJobFails;
    this.nextJobFails = undefined;
    return fail;
  }

  private total(): number {
    return Math.max(1, this.ctx.jobSeconds * 1000);
  }

  /** The service-restart window of the running restore, if it has one. */
  private restartWindow(job: RestoreJob): [number, number] | undefined {
    if (job.endMs !== undefined) return undefined;
    const t = this.total();
    return [job.startMs + Math.floor(t / 3), job.startMs + Math.floor((2 * t) / 3)];
  }

  /** Applies what time did: sessions lost at the restart, stage change at the end of a restore. */
  private tick(): void {
    const job = this.restoreJob;
    if (!job) return;
    const now = this.ctx.now();
    const window = this.restartWindow(job);
    if (window && now >= window[0] && !job.sessionsDropped) {
      for (const [token, s] of this.sessions) if (s.created < window[0]) this.sessions.delete(token);
      job.sessionsDropped = true;
    }
    if (this.currentStage === 'restore' && this.restoreStatus(job).state === 'SUCCEEDED') {
      this.currentStage = 'running';
      this.restoredAtMs = job.startMs + this.total();
    }
  }

  /** While services restart: 503 and dropped connections, alternately. */
  private outage(form: Form): SimResponse | undefined {
    if (!this.restartingServices) return undefined;
    if (this.outageCalls++ % 2 === 0) {
      return vapiErrorResponse(
        form,
        'SERVICE_UNAVAILABLE',
        'The appliance services are restarting.',
        'com.vmware.vapi.endpoint.service_unavailable',
        503,
      );
    }
    // No way to reset a socket from a route: announce a body and close before sending it, so the
    // client sees the connection drop mid-answer.
    return {
      status: 503,
      headers: { connection: 'close', 'content-length': '64', 'content-type': 'application/json' },
      raw: '',
    };
  }

  // -------------------------------------------------------------------------------------------
  // Routing, sessions

  /** Wraps a handler with form rendering, session checks and vAPI error rendering. */
  private route(
    form: Form,
    method: string,
    pattern: string,
    operation: string,
    handler: (req: SimRequest, form: Form) => unknown,
    opts: RouteOptions,
  ): SimRoute {
    return {
      method,
      pattern,
      operation,
      handler: (req) => {
        this.tick();
        const down = this.outage(form);
        if (down) return down;
        try {
          if (opts.auth !== false) this.authenticate(req);
          if (form === 'rest' && opts.unwrap) {
            const body = req.body as Record<string, unknown> | undefined;
            if (!body || typeof body !== 'object' || !(opts.unwrap in body)) {
              throw new VapiFault(
                'INVALID_ARGUMENT',
                `Request body must be wrapped as {"${opts.unwrap}": ...}.`,
                'vapi.bindings.typeconverter.invalid.struct',
              );
            }
            req = { ...req, body: body[opts.unwrap] };
          }
          const result = handler(req, form);
          if (result === undefined) return { status: form === 'api' ? (opts.status ?? 204) : 200 };
          const status = form === 'api' ? (opts.status ?? 200) : 200;
          return { status, body: form === 'api' ? result : { value: result } };
        } catch (err) {
          if (err instanceof VapiFault) {
            const type = normaliseVapiErrorType(err.errorType);
            const natural = VAPI_STATUS[type] ?? 400;
            const status = natural === 401 || opts.errors.includes(natural) ? natural : form === 'api' ? 500 : 400;
            return vapiErrorResponse(form, type, err.message, err.messageId, status);
          }
          throw err;
        }
      },
    };
  }

  private authenticate(req: SimRequest): string {
    const header = req.headers['vmware-api-session-id'];
    const cookie = /vmware-api-session-id=([^;]+)/.exec(String(req.headers.cookie ?? ''))?.[1];
    const token = (Array.isArray(header) ? header[0] : header) ?? cookie;
    const session = token ? this.sessions.get(token) : undefined;
    const now = this.ctx.now();
    if (!token || !session || now - session.lastAccess > this.ctx.sessionIdleSeconds * 1000) {
      if (token) this.sessions.delete(token);
      throw new VapiFault(
        'UNAUTHENTICATED',
        'This method requires authentication.',
        'com.vmware.vapi.endpoint.method.authentication.required',
      );
    }
    session.lastAccess = now;
    return token;
  }

  private sessionUser(req: SimRequest): string {
    const header = req.headers['vmware-api-session-id'];
    const token = Array.isArray(header) ? header[0] : header;
    return (token && this.sessions.get(token)?.user) ?? `VSPHERE.LOCAL\\${this.username.split('@')[0]}`;
  }

  private login(req: SimRequest): string {
    const auth = String(req.headers.authorization ?? '');
    const decoded = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8') : '';
    const sep = decoded.indexOf(':');
    if (sep < 0 || decoded.slice(0, sep) !== this.username || decoded.slice(sep + 1) !== this.password) {
      throw new VapiFault(
        'UNAUTHENTICATED',
        'Authentication required.',
        'com.vmware.vapi.endpoint.method.authentication.required',
      );
    }
    const token = randomBytes(16).toString('hex');
    const now = this.ctx.now();
    this.sessions.set(token, { user: `VSPHERE.LOCAL\\${this.username.split('@')[0]}`, created: now, lastAccess: now });
    return token;
  }

  // -------------------------------------------------------------------------------------------
  // Backup jobs

  /** The job currently running, if any. */
  private runningJob(): Job | undefined {
    for (const job of this.jobs.values()) if (this.jobStatus(job).state === 'INPROGRESS') return job;
    return undefined;
  }

  private restoreRunning(): boolean {
    return !!this.restoreJob && this.restoreStatus(this.restoreJob).state === 'INPROGRESS';
  }

  /** FEATURE_IN_USE when a backup or a restore runs. */
  private checkIdle(): void {
    if (this.runningJob() || this.restoreRunning())
      throw new VapiFault('FEATURE_IN_USE', BUSY, 'com.vmware.applmgmt.err_backup_restore_in_progress');
  }

  /** Backups need a configured appliance [uncertain: the error a real one answers before firstboot]. */
  private checkConfigured(): void {
    if (this.currentStage === 'restore') {
      throw new VapiFault(
        'NOT_ALLOWED_IN_CURRENT_STATE',
        'The appliance is waiting for a restore; backups run only after firstboot.',
        'com.vmware.applmgmt.err_not_configured',
      );
    }
  }

  jobStatus(job: Job): BackupJobStatus {
    const now = this.ctx.now();
    const total = this.total();
    const elapsed = now - job.startMs;
    const base = { id: job.id, start_time: new Date(job.startMs).toISOString() };
    const startMsg = msg('com.vmware.applmgmt.backup.job.started', 'Backup job started.');
    if (job.cancelled && job.endMs !== undefined) {
      return {
        ...base,
        state: 'FAILED',
        progress: Math.min(99, Math.floor((100 * (job.endMs - job.startMs)) / total)),
        messages: [startMsg, msg('com.vmware.applmgmt.backup.job.canceled', 'Backup job was canceled by the user.')],
        end_time: new Date(job.endMs).toISOString(),
      };
    }
    if (elapsed < total) {
      return { ...base, state: 'INPROGRESS', progress: Math.floor((100 * elapsed) / total), messages: [startMsg] };
    }
    const end = new Date(job.startMs + total).toISOString();
    if (job.fail) {
      return {
        ...base,
        state: 'FAILED',
        progress: 100,
        messages: [startMsg, msg('com.vmware.applmgmt.backup.job.failed', job.fail)],
        end_time: end,
      };
    }
    return {
      ...base,
      state: 'SUCCEEDED',
      progress: 100,
      messages: [startMsg, msg('com.vmware.applmgmt.backup.job.succeeded', 'Backup job completed successfully.')],
      end_time: end,
    };
  }

  private startBackup(body: BackupRequest, type: Job['type'], user: string): BackupJobStatus {
    checkPassword(body.backup_password);
    checkParts(body.parts);
    this.checkIdle();
    this.checkConfigured();
    let start = this.ctx.now();
    while (this.jobs.has(jobId(start))) start += 1000;
    const job: Job = {
      id: jobId(start),
      comment: body.comment,
      parts: ['common', ...body.parts.filter((p) => p !== 'common')],
      location: body.location,
      locationType: body.location_type,
      locationUser: body.location_user,
      backupPassword: body.backup_password,
      type,
      user,
      startMs: start,
      fail: this.takeJobFailure(),
    };
    this.jobs.set(job.id, job);
    this.ctx.recordJob({ product: 'vcenter', appliance: this.name, kind: 'backup', id: job.id, label: body.comment });
    return this.jobStatus(job);
  }

  private job(id: string | undefined): Job {
    const job = id ? this.jobs.get(id) : undefined;
    if (!job) throw new VapiFault('NOT_FOUND', `Backup job ${id} not found.`, 'com.vmware.applmgmt.err_job_not_found');
    return job;
  }

  private cancelJob(id: string | undefined): ReturnResult {
    const job = this.job(id);
    if (this.jobStatus(job).state !== 'INPROGRESS') {
      return {
        status: 'FAIL',
        messages: [
          msg('com.vmware.applmgmt.backup.job.cancel.not_running', 'The job is not running and cannot be canceled.'),
        ],
      };
    }
    job.cancelled = true;
    job.endMs = this.ctx.now();
    return { status: 'OK', messages: [msg('com.vmware.applmgmt.backup.job.cancel.ok', 'Cancel requested.')] };
  }

  /** Job details. Convention of this simulator [uncertain]: `description.default_message` carries the job's comment. */
  private details(job: Job): DetailsInfo {
    const s = this.jobStatus(job);
    const status = s.state === 'INPROGRESS' ? 'RUNNING' : s.state === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED';
    const end = s.end_time ? Date.parse(s.end_time) : this.ctx.now();
    const totalBytes =
      job.parts.reduce((sum, id) => sum + (PARTS.find((p) => p.id === id)?.sizeMb ?? 0), 0) * 1024 * 1024;
    const comment = job.comment ?? '';
    const failure = s.state === 'FAILED' ? s.messages[s.messages.length - 1]?.default_message : undefined;
    return {
      location: job.location,
      location_user: job.locationUser ?? '',
      type: job.type,
      messages: s.messages,
      description: msg(
        'com.vmware.applmgmt.backup.job.description',
        comment
          ? `${job.type === 'MANUAL' ? 'Manual' : 'Scheduled'} backup job: ${comment}`
          : `${job.type === 'MANUAL' ? 'Manual' : 'Scheduled'} backup job`,
        [comment],
      ),
      service: 'com.vmware.applmgmt.backup_job',
      operation: 'backup',
      status,
      cancelable: s.state === 'INPROGRESS',
      start_time: s.start_time,
      ...(s.end_time && { end_time: s.end_time }),
      duration: Math.max(0, Math.floor((end - job.startMs) / 1000)),
      size: Math.floor((totalBytes * s.progress) / 100),
      progress: {
        total: 100,
        completed: s.progress,
        message: msg('com.vmware.applmgmt.backup.job.progress', `Backup ${s.progress}% complete.`, [
          String(s.progress),
        ]),
      },
      build: { version_name: '7.0.3', version: VCENTER_VERSION, build_number: VCENTER_BUILD },
      user: job.user,
      ...(failure && { error: failure }),
    };
  }

  private validateBackup(body: BackupRequest): ReturnResult {
    checkPassword(body.backup_password);
    checkParts(body.parts);
    this.checkIdle();
    this.checkConfigured();
    const scheme = schemeType(body.location);
    if (scheme && scheme !== body.location_type) {
      return {
        status: 'FAIL',
        messages: [
          msg(
            'com.vmware.applmgmt.backup.validate.location_type',
            `Location type ${body.location_type} does not match location scheme ${scheme}.`,
            [body.location_type, scheme],
          ),
        ],
      };
    }
    const existing = this.archivesAt(body.location).filter((a) => a.systemName === this.systemName).length;
    if (existing > 0) {
      return {
        status: 'WARNING',
        messages: [
          msg(
            'com.vmware.applmgmt.backup.validate.existing',
            `The location already holds ${existing} backup(s) of this appliance.`,
            [String(existing)],
          ),
        ],
      };
    }
    return { status: 'OK', messages: [msg('com.vmware.applmgmt.backup.validate.ok', 'Backup request is valid.')] };
  }

  // -------------------------------------------------------------------------------------------
  // Archives (shared across the simulator's appliances)

  private registry(): VcenterAppliance[] {
    return [...(REGISTRIES.get(this.ctx) ?? [])];
  }

  /** This appliance's archives: one per SUCCEEDED backup job. */
  private ownArchives(): Archive[] {
    const out: Archive[] = [];
    for (const job of this.jobs.values()) {
      if (this.jobStatus(job).state !== 'SUCCEEDED') continue;
      // Real folder names look like `M_<version>_<YYYYMMDD-HHMMSS>_` (S_ for scheduled) [uncertain].
      const id = `${job.type === 'MANUAL' ? 'M' : 'S'}_${VCENTER_VERSION}_${stamp(job.startMs)}_`;
      out.push({
        id,
        systemName: this.systemName,
        location: job.location,
        archiveLocation: `${job.location.replace(/\/+$/, '')}/vCenter/sn_${this.systemName}/${id}`,
        timestampMs: job.startMs,
        comment: job.comment ?? '',
        parts: job.parts,
        backupPassword: job.backupPassword,
      });
    }
    return out;
  }

  private allArchives(): Archive[] {
    const seen = new Set<string>();
    const out: Archive[] = [];
    for (const a of [
      ...this.registry().flatMap((vc) => vc.ownArchives()),
      ...this.registry().flatMap((vc) => vc.kept),
    ]) {
      if (seen.has(a.archiveLocation)) continue;
      seen.add(a.archiveLocation);
      out.push(a);
    }
    return out.sort((a, b) => b.timestampMs - a.timestampMs);
  }

  private archivesAt(location: string): Archive[] {
    return this.allArchives().filter((a) => sameLocation(a.location, location));
  }

  /** A location is known once a backup or a schedule targeted it; others do not exist (NOT_FOUND). */
  private checkLocation(location: string): void {
    const known = this.registry().some(
      (vc) =>
        [...vc.jobs.values()].some((j) => sameLocation(j.location, location)) ||
        [...vc.schedules.values()].some((s) => sameLocation(s.info.location, location)),
    );
    if (!known && this.archivesAt(location).length === 0) {
      throw new VapiFault(
        'NOT_FOUND',
        `Backup location ${location} does not exist or is not accessible.`,
        'com.vmware.applmgmt.err_location_not_found',
      );
    }
  }

  private systemNames(loc: LocationSpec): string[] {
    this.checkLocation(loc.location);
    return [...new Set(this.archivesAt(loc.location).map((a) => a.systemName))];
  }

  private archiveList(systemName: string, loc: LocationSpec, filter: ArchiveFilterSpec): ArchiveSummary[] {
    this.checkLocation(loc.location);
    const archives = this.archivesAt(loc.location).filter((a) => a.systemName === systemName);
    if (archives.length === 0)
      throw new VapiFault(
        'NOT_FOUND',
        `No backups of system ${systemName} at ${loc.location}.`,
        'com.vmware.applmgmt.err_system_name_not_found',
      );
    const from = filter.start_timestamp ? Date.parse(filter.start_timestamp) : -Infinity;
    const to = filter.end_timestamp ? Date.parse(filter.end_timestamp) : Infinity;
    if (filter.max_results !== undefined && filter.max_results < 0)
      throw new VapiFault('INVALID_ARGUMENT', 'filter_spec.max_results must not be negative.');
    const hits = archives.filter(
      (a) =>
        a.timestampMs >= from &&
        a.timestampMs <= to &&
        (filter.comment_substring === undefined || a.comment.includes(filter.comment_substring)),
    );
    return hits.slice(0, filter.max_results ?? hits.length).map((a) => ({
      archive: a.id,
      timestamp: new Date(a.timestampMs).toISOString(),
      version: VCENTER_VERSION,
      comment: a.comment,
    }));
  }

  private archiveGet(systemName: string, archive: string, loc: LocationSpec): ArchiveInfo {
    this.checkLocation(loc.location);
    const a = this.archivesAt(loc.location).find((x) => x.systemName === systemName && x.id === archive);
    if (!a)
      throw new VapiFault(
        'NOT_FOUND',
        `Backup archive ${archive} of ${systemName} not found at ${loc.location}.`,
        'com.vmware.applmgmt.err_archive_not_found',
      );
    return {
      timestamp: new Date(a.timestampMs).toISOString(),
      location: a.archiveLocation,
      parts: a.parts,
      version: VCENTER_VERSION,
      system_name: a.systemName,
      comment: a.comment,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Restore

  private restoreStatus(job: RestoreJob): RestoreJobStatus {
    const total = this.total();
    const now = this.ctx.now();
    const started = msg('com.vmware.applmgmt.restore.job.started', 'Restore job started.');
    if (job.endMs !== undefined) {
      const last = job.cancelled
        ? msg('com.vmware.applmgmt.restore.job.canceled', 'Restore job was canceled by the user.')
        : msg('com.vmware.applmgmt.restore.job.failed', job.fail ?? 'Restore failed.');
      return {
        state: 'FAILED',
        progress: Math.min(99, Math.floor((100 * (job.endMs - job.startMs)) / total)),
        messages: [started, ...job.notes, last],
      };
    }
    const elapsed = now - job.startMs;
    const messages = [started, ...job.notes];
    if (elapsed >= Math.floor(total / 3))
      messages.push(msg('com.vmware.applmgmt.restore.job.restarting', 'Restarting appliance services.'));
    if (elapsed >= Math.floor((2 * total) / 3))
      messages.push(msg('com.vmware.applmgmt.restore.job.restarted', 'Appliance services restarted.'));
    if (elapsed < total) return { state: 'INPROGRESS', progress: Math.floor((100 * elapsed) / total), messages };
    if (job.fail)
      return {
        state: 'FAILED',
        progress: 100,
        messages: [...messages, msg('com.vmware.applmgmt.restore.job.failed', job.fail)],
      };
    return {
      state: 'SUCCEEDED',
      progress: 100,
      messages: [...messages, msg('com.vmware.applmgmt.restore.job.succeeded', 'Restore completed successfully.')],
    };
  }

  /** The archive a restore location points at (the archive folder, or a location with one archive). */
  private restoreSource(location: string): Archive | undefined {
    const all = this.allArchives();
    return (
      all.find((a) => sameLocation(a.archiveLocation, location)) ?? all.find((a) => sameLocation(a.location, location))
    );
  }

  /** Validation warnings of a restore onto this appliance [simulator convention: always one]. */
  private restoreWarnings(a: Archive): LocalizableMessage[] {
    return [
      msg(
        'com.vmware.applmgmt.restore.validate.reconcile',
        `The backup of ${a.systemName} may be part of an Enhanced Linked Mode domain: run the reconciliation job after the restore.`,
        [a.systemName],
      ),
    ];
  }

  private restoreValidate(body: RestoreValidateRequest): RestoreMetadata {
    const a = this.restoreSource(body.location);
    if (!a)
      throw new VapiFault(
        'NOT_FOUND',
        `No backup found at ${body.location}.`,
        'com.vmware.applmgmt.err_backup_not_found',
      );
    if (a.backupPassword !== undefined && body.backup_password !== a.backupPassword) {
      throw new VapiFault(
        'INVALID_ARGUMENT',
        'The backup password does not decrypt this backup.',
        'com.vmware.applmgmt.err_backup_password',
      );
    }
    const messages = this.restoreWarnings(a);
    const stage = this.stage;
    if (stage !== 'restore')
      messages.push(
        msg(
          'com.vmware.applmgmt.restore.validate.stage',
          'Restore is allowed only after deployment and before firstboot.',
        ),
      );
    return {
      timestamp: new Date(a.timestampMs).toISOString(),
      parts: a.parts,
      version: VCENTER_VERSION,
      boxname: a.systemName,
      sso_login_required: true,
      comment: a.comment,
      applicable: stage === 'restore',
      messages,
    };
  }

  private restoreCreate(body: RestoreRequest): RestoreJobStatus {
    if (this.stage !== 'restore') {
      throw new VapiFault(
        'NOT_ALLOWED_IN_CURRENT_STATE',
        'Restore is allowed only after deployment and before firstboot.',
        'com.vmware.applmgmt.err_restore_not_allowed',
      );
    }
    this.checkIdle();
    const start = this.ctx.now();
    const job: RestoreJob = { startMs: start, notes: [] };
    const a = this.restoreSource(body.location);
    const failNow = (reason: string) => {
      job.fail = reason;
      job.endMs = start;
    };
    if (!a) failNow(`No backup found at ${body.location}.`);
    else if (a.backupPassword !== undefined && body.backup_password !== a.backupPassword)
      failNow('The backup password does not decrypt this backup.');
    else {
      job.notes = this.restoreWarnings(a);
      if (!body.ignore_warnings)
        failNow('Restore validation reported warnings; set ignore_warnings to restore anyway.');
      else job.fail = this.takeJobFailure();
    }
    this.restoreJob = job;
    this.reconciliation = undefined;
    this.ctx.recordJob({
      product: 'vcenter',
      appliance: this.name,
      kind: 'restore',
      id: `restore-${jobId(start)}`,
      label: body.location,
    });
    return this.restoreStatus(job);
  }

  private restoreCancel(): ReturnResult {
    const job = this.restoreJob;
    if (!job || this.restoreStatus(job).state !== 'INPROGRESS') {
      return {
        status: 'FAIL',
        messages: [msg('com.vmware.applmgmt.restore.job.cancel.not_running', 'No restore is running.')],
      };
    }
    job.cancelled = true;
    job.endMs = this.ctx.now();
    return { status: 'OK', messages: [msg('com.vmware.applmgmt.restore.job.cancel.ok', 'Cancel requested.')] };
  }

  // -------------------------------------------------------------------------------------------
  // Schedules

  private schedule(id: string | undefined): Schedule {
    const s = id ? this.schedules.get(id) : undefined;
    if (!s)
      throw new VapiFault(
        'NOT_FOUND',
        `Backup schedule ${id} not found.`,
        'com.vmware.applmgmt.err_schedule_not_found',
      );
    return s;
  }

  private checkScheduleSpec(spec: ScheduleCreateSpec): void {
    if (!schemeType(spec.location))
      throw new VapiFault(
        'INVALID_ARGUMENT',
        `Schedule location must be a URL with one of the schemes ${Object.keys(SCHEME_TYPES).join(', ')}.`,
      );
    checkPassword(spec.backup_password);
    checkParts(spec.parts ?? []);
    const r = spec.recurrence_info;
    if (r && (r.hour < 0 || r.hour > 23 || r.minute < 0 || r.minute > 59)) {
      throw new VapiFault('INVALID_ARGUMENT', 'recurrence_info.hour must be 0-23 and recurrence_info.minute 0-59.');
    }
    if (spec.retention_info && spec.retention_info.max_count < 1)
      throw new VapiFault('INVALID_ARGUMENT', 'retention_info.max_count must be at least 1.');
  }

  private scheduleCreate(id: string, spec: ScheduleCreateSpec): void {
    this.checkConfigured();
    if (this.schedules.size > 0) {
      const existing = [...this.schedules.keys()][0];
      throw new VapiFault(
        'ALREADY_EXISTS',
        existing === id
          ? `Backup schedule ${id} already exists.`
          : `Only one backup schedule is supported; ${existing} already exists.`,
        'com.vmware.applmgmt.err_schedule_exists',
      );
    }
    this.checkScheduleSpec(spec);
    this.schedules.set(id, {
      info: {
        // CreateSpec.parts unset = every optional part (per the API docs).
        parts: spec.parts ?? PARTS.filter((p) => p.optional).map((p) => p.id),
        location: spec.location,
        ...(spec.location_user !== undefined && { location_user: spec.location_user }),
        enable: spec.enable ?? true,
        ...(spec.recurrence_info && { recurrence_info: spec.recurrence_info }),
        ...(spec.retention_info && { retention_info: spec.retention_info }),
      },
      backupPassword: spec.backup_password,
      locationPassword: spec.location_password,
    });
  }

  private scheduleUpdate(id: string | undefined, spec: ScheduleUpdateSpec): void {
    const s = this.schedule(id);
    const merged: ScheduleCreateSpec = {
      ...s.info,
      ...(s.backupPassword !== undefined && { backup_password: s.backupPassword }),
      ...Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)),
    };
    this.checkScheduleSpec(merged);
    s.info = {
      parts: merged.parts ?? s.info.parts,
      location: merged.location,
      ...(merged.location_user !== undefined && { location_user: merged.location_user }),
      enable: merged.enable ?? s.info.enable,
      ...(merged.recurrence_info && { recurrence_info: merged.recurrence_info }),
      ...(merged.retention_info && { retention_info: merged.retention_info }),
    };
    s.backupPassword = merged.backup_password;
    if (spec.location_password !== undefined) s.locationPassword = spec.location_password;
  }

  private scheduleRun(id: string | undefined, body: unknown, user: string): BackupJobStatus {
    const s = this.schedule(id);
    const { comment } = parseArg(ScheduleRunBody, body ?? {}, '');
    return this.startBackup(
      {
        parts: s.info.parts,
        location_type: schemeType(s.info.location) ?? 'SFTP',
        location: s.info.location,
        ...(s.info.location_user !== undefined && { location_user: s.info.location_user }),
        ...(s.locationPassword !== undefined && { location_password: s.locationPassword }),
        ...(s.backupPassword !== undefined && { backup_password: s.backupPassword }),
        ...(comment !== undefined && { comment }),
      },
      'SCHEDULED',
      user,
    );
  }

  // -------------------------------------------------------------------------------------------
  // Reconciliation (after a restore)

  private reconciliationInfo(): ReconciliationJobInfo {
    if (this.restoredAtMs === undefined) {
      throw new VapiFault(
        'NOT_FOUND',
        'No reconciliation job: this appliance was not restored.',
        'com.vmware.applmgmt.err_reconciliation_not_found',
      );
    }
    const base = {
      description: msg(
        'com.vmware.applmgmt.reconciliation.job.description',
        'Reconcile the restored appliance with its domain.',
      ),
      service: 'com.vmware.applmgmt.reconciliation_job',
      operation: 'create',
      cancelable: false,
    };
    const job = this.reconciliation;
    if (!job) return { ...base, status: 'NONE', messages: [], progress: 0 };
    const total = this.total();
    const elapsed = this.ctx.now() - job.startMs;
    const started = msg('com.vmware.applmgmt.reconciliation.job.started', 'Reconciliation started.');
    const common = { ...base, start_time: new Date(job.startMs).toISOString() };
    if (elapsed < total)
      return { ...common, status: 'RUNNING', progress: Math.floor((100 * elapsed) / total), messages: [started] };
    const end_time = new Date(job.startMs + total).toISOString();
    if (job.fail)
      return {
        ...common,
        status: 'FAILED',
        progress: 100,
        end_time,
        error: job.fail,
        messages: [started, msg('com.vmware.applmgmt.reconciliation.job.failed', job.fail)],
      };
    return {
      ...common,
      status: 'SUCCEEDED',
      progress: 100,
      end_time,
      messages: [
        started,
        msg('com.vmware.applmgmt.reconciliation.job.succeeded', 'Reconciliation completed successfully.'),
      ],
    };
  }

  private reconciliationCreate(spec: ReconciliationCreateSpec): ReconciliationJobInfo {
    if (this.stage !== 'running' || this.restoredAtMs === undefined) {
      throw new VapiFault(
        'NOT_ALLOWED_IN_CURRENT_STATE',
        'Reconciliation runs only on an appliance that completed a restore.',
        'com.vmware.applmgmt.err_reconciliation_not_allowed',
      );
    }
    if (this.reconciliation && this.reconciliationInfo().status === 'RUNNING') {
      throw new VapiFault(
        'FEATURE_IN_USE',
        'A reconciliation is already in progress.',
        'com.vmware.applmgmt.err_reconciliation_in_progress',
      );
    }
    if ((spec.sso_admin_user_name === undefined) !== (spec.sso_admin_user_password === undefined)) {
      throw new VapiFault('INVALID_ARGUMENT', 'sso_admin_user_name and sso_admin_user_password go together.');
    }
    const wrongSso =
      spec.sso_admin_user_name !== undefined &&
      (spec.sso_admin_user_name !== this.username || spec.sso_admin_user_password !== this.password);
    const start = this.ctx.now();
    this.reconciliation = {
      startMs: start,
      fail: wrongSso ? 'SSO authentication failed for the administrator.' : this.takeJobFailure(),
    };
    this.ctx.recordJob({
      product: 'vcenter',
      appliance: this.name,
      kind: 'reconciliation',
      id: `reconciliation-${jobId(start)}`,
    });
    return this.reconciliationInfo();
  }

  // -------------------------------------------------------------------------------------------

  routes(): SimRoute[] {
    const r: SimRoute[] = [];
    const has = (form: Form) => this.forms.includes(form);
    const both = (
      method: string,
      api: string | undefined,
      rest: string | undefined,
      operation: string,
      handler: (req: SimRequest, form: Form) => unknown,
      opts: { api: RouteOptions; rest: RouteOptions },
    ) => {
      if (api && has('api')) r.push(this.route('api', method, api, operation, handler, opts.api));
      if (rest && has('rest')) r.push(this.route('rest', method, rest, operation, handler, opts.rest));
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

    // Sessions (cis): 401 and 503 declared.
    const SESSION = { auth: false, errors: [401, 503] };
    const info = (req: SimRequest) => {
      const token = this.authenticate(req);
      const s = this.sessions.get(token)!;
      return {
        user: s.user,
        created_time: new Date(s.created).toISOString(),
        last_accessed_time: new Date(s.lastAccess).toISOString(),
      };
    };
    const logout = (req: SimRequest) => {
      this.sessions.delete(this.authenticate(req));
      return undefined;
    };
    both('POST', '/api/session', '/rest/com/vmware/cis/session', 'sessionCreate', (req) => this.login(req), {
      api: { ...SESSION, status: 201 },
      rest: SESSION,
    });
    if (has('api')) r.push(this.route('api', 'GET', '/api/session', 'sessionGet', info, SESSION));
    if (has('rest'))
      r.push(this.route('rest', 'POST', '/rest/com/vmware/cis/session?~action=get', 'sessionGet', info, SESSION));
    both('DELETE', '/api/session', '/rest/com/vmware/cis/session', 'sessionDelete', logout, {
      api: { ...SESSION, status: 204 },
      rest: SESSION,
    });

    const A = '/api/appliance/recovery';
    const R = '/rest/appliance/recovery';
    both('GET', A, R, 'recoveryGet', () => ({ supported: true }), { api: { errors: E.api }, rest: { errors: E.rest } });

    // Backup jobs
    both(
      'POST',
      `${A}/backup/job`,
      `${R}/backup/job`,
      'backupJobCreate',
      (req) => this.startBackup(parseArg(BackupRequest, req.body, ''), 'MANUAL', this.sessionUser(req)),
      {
        api: { status: 201, errors: E.api400 },
        rest: { unwrap: 'piece', errors: E.rest },
      },
    );
    both('GET', `${A}/backup/job`, `${R}/backup/job`, 'backupJobList', () => [...this.jobs.keys()].reverse(), {
      api: { errors: E.api },
      rest: { errors: E.rest },
    });
    both(
      'GET',
      `${A}/backup/job/details`,
      `${R}/backup/job/details`,
      'backupJobDetails',
      (req, form) => {
        const ids = req.query.getAll(form === 'api' ? 'jobs' : 'filter.jobs');
        // Unknown ids are left out [uncertain: a real appliance may answer an error].
        const jobs = ids.length ? ids.flatMap((id) => this.jobs.get(id) ?? []) : [...this.jobs.values()];
        return mapOut(form, Object.fromEntries(jobs.map((j) => [j.id, this.details(j)])));
      },
      { api: { errors: E.api }, rest: { errors: E.rest } },
    );
    both(
      'GET',
      `${A}/backup/job/:id`,
      `${R}/backup/job/:id`,
      'backupJobGet',
      (req) => this.jobStatus(this.job(req.params.id)),
      { api: { errors: E.api404 }, rest: { errors: E.rest404 } },
    );
    both(
      'POST',
      `${A}/backup/job/:id?action=cancel`,
      `${R}/backup/job/:id/cancel`,
      'backupJobCancel',
      (req) => this.cancelJob(req.params.id),
      {
        api: { errors: E.api404 },
        rest: { errors: E.rest404 },
      },
    );

    // Parts, validate
    both(
      'GET',
      `${A}/backup/parts`,
      `${R}/backup/parts`,
      'backupPartList',
      () => PARTS.map(({ sizeMb: _size, ...p }) => p),
      { api: { errors: E.api }, rest: { errors: E.rest } },
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
      { api: { errors: E.api }, rest: { errors: E.rest } },
    );
    both(
      'POST',
      `${A}/backup?action=validate`,
      `${R}/backup/validate`,
      'backupValidate',
      (req) => this.validateBackup(parseArg(BackupRequest, req.body, '')),
      {
        api: { errors: E.api400 },
        rest: { unwrap: 'piece', errors: E.rest },
      },
    );

    // Schedules
    both(
      'GET',
      `${A}/backup/schedules`,
      `${R}/backup/schedules`,
      'scheduleList',
      (_req, form) => mapOut(form, Object.fromEntries([...this.schedules].map(([id, s]) => [id, s.info]))),
      {
        api: { errors: E.api },
        rest: { errors: E.rest },
      },
    );
    if (has('api')) {
      r.push(
        this.route(
          'api',
          'POST',
          `${A}/backup/schedules`,
          'scheduleCreate',
          (req) => {
            const { schedule, spec } = parseArg(ScheduleCreateBody, req.body, '');
            this.scheduleCreate(schedule, spec);
            return undefined;
          },
          { status: 204, errors: E.api400 },
        ),
      );
    }
    if (has('rest')) {
      r.push(
        this.route(
          'rest',
          'POST',
          `${R}/backup/schedules/:schedule`,
          'scheduleCreate',
          (req) => {
            this.scheduleCreate(req.params.schedule ?? '', parseArg(ScheduleCreateSpec, req.body, 'spec'));
            return undefined;
          },
          { unwrap: 'spec', errors: E.rest },
        ),
      );
    }
    both(
      'GET',
      `${A}/backup/schedules/:schedule`,
      `${R}/backup/schedules/:schedule`,
      'scheduleGet',
      (req) => this.schedule(req.params.schedule).info,
      {
        api: { errors: E.api404 },
        rest: { errors: E.rest404 },
      },
    );
    const update = (req: SimRequest) => {
      this.scheduleUpdate(req.params.schedule, parseArg(ScheduleUpdateSpec, req.body ?? {}, 'spec'));
      return undefined;
    };
    if (has('api'))
      r.push(
        this.route('api', 'PATCH', `${A}/backup/schedules/:schedule`, 'scheduleUpdate', update, {
          status: 204,
          errors: E.api400404,
        }),
      );
    if (has('rest'))
      r.push(
        this.route('rest', 'PUT', `${R}/backup/schedules/update/:schedule`, 'scheduleUpdate', update, {
          unwrap: 'spec',
          errors: E.rest404,
        }),
      );
    both(
      'DELETE',
      `${A}/backup/schedules/:schedule`,
      `${R}/backup/schedules/:schedule`,
      'scheduleDelete',
      (req) => {
        this.schedule(req.params.schedule);
        this.schedules.delete(req.params.schedule ?? '');
        return undefined;
      },
      { api: { status: 204, errors: E.api404 }, rest: { errors: E.rest404 } },
    );
    both(
      'POST',
      `${A}/backup/schedules/:schedule?action=run`,
      `${R}/backup/schedules/:schedule?action=run`,
      'scheduleRun',
      (req) => this.scheduleRun(req.params.schedule, req.body, this.sessionUser(req)),
      {
        api: { errors: E.api400404 },
        rest: { errors: E.rest404 },
      },
    );

    // System names and archives: `/api` POSTs with bodies, `/rest` GETs with flattened query parameters.
    both(
      'POST',
      `${A}/backup/system-name?action=list`,
      undefined,
      'systemNameList',
      (req) => this.systemNames(parseArg(LocationSpec, req.body, '')),
      { api: { errors: E.api404 }, rest: { errors: E.rest404 } },
    );
    both(
      'GET',
      undefined,
      `${R}/backup/system-name`,
      'systemNameList',
      (req) => this.systemNames(parseArg(LocationSpec, unflatten(req.query, 'loc_spec'), 'loc_spec')),
      {
        api: { errors: E.api404 },
        rest: { errors: E.rest404 },
      },
    );
    both(
      'POST',
      `${A}/backup/system-name/:system_name/archives?action=list`,
      undefined,
      'archiveList',
      (req) => {
        const { loc_spec, filter_spec } = parseArg(ArchiveListBody, req.body, '');
        return this.archiveList(req.params.system_name ?? '', loc_spec, filter_spec);
      },
      { api: { errors: E.api404 }, rest: { errors: E.rest404 } },
    );
    both(
      'GET',
      undefined,
      `${R}/backup/system-name/:system_name/archives`,
      'archiveList',
      (req) =>
        this.archiveList(
          req.params.system_name ?? '',
          parseArg(LocationSpec, unflatten(req.query, 'loc_spec'), 'loc_spec'),
          parseArg(ArchiveFilterSpec, unflatten(req.query, 'filter_spec', ['max_results']), 'filter_spec'),
        ),
      { api: { errors: E.api404 }, rest: { errors: E.rest404 } },
    );
    both(
      'POST',
      `${A}/backup/system-name/:system_name/archives/:archive?action=get`,
      undefined,
      'archiveGet',
      (req) =>
        this.archiveGet(req.params.system_name ?? '', req.params.archive ?? '', parseArg(LocationSpec, req.body, '')),
      { api: { errors: E.api404 }, rest: { errors: E.rest404 } },
    );
    both(
      'GET',
      undefined,
      `${R}/backup/system-name/:system_name/archives/:archive`,
      'archiveGet',
      (req) =>
        this.archiveGet(
          req.params.system_name ?? '',
          req.params.archive ?? '',
          parseArg(LocationSpec, unflatten(req.query, 'spec'), 'spec'),
        ),
      { api: { errors: E.api404 }, rest: { errors: E.rest404 } },
    );

    // Restore
    both(
      'POST',
      `${A}/restore/job`,
      `${R}/restore/job`,
      'restoreJobCreate',
      (req) => this.restoreCreate(parseArg(RestoreRequest, req.body, '')),
      {
        api: { status: 201, errors: E.api400 },
        rest: { unwrap: 'piece', errors: E.rest },
      },
    );
    both(
      'GET',
      `${A}/restore/job`,
      `${R}/restore/job`,
      'restoreJobGet',
      () => (this.restoreJob ? this.restoreStatus(this.restoreJob) : { state: 'NONE', messages: [], progress: 0 }),
      {
        api: { errors: E.api },
        rest: { errors: E.rest },
      },
    );
    both(
      'POST',
      `${A}/restore/job?action=cancel`,
      `${R}/restore/job/cancel`,
      'restoreJobCancel',
      () => this.restoreCancel(),
      { api: { errors: E.api }, rest: { errors: E.rest } },
    );
    both(
      'POST',
      `${A}/restore?action=validate`,
      `${R}/restore/validate`,
      'restoreValidate',
      (req) => this.restoreValidate(parseArg(RestoreValidateRequest, req.body, '')),
      {
        api: { errors: E.api },
        rest: { unwrap: 'piece', errors: E.rest },
      },
    );

    // Reconciliation
    both(
      'POST',
      `${A}/reconciliation/job`,
      `${R}/reconciliation/job`,
      'reconciliationJobCreate',
      (req) => this.reconciliationCreate(parseArg(ReconciliationCreateSpec, req.body ?? {}, '')),
      {
        api: { status: 201, errors: E.api400 },
        rest: { unwrap: 'spec', errors: E.rest },
      },
    );
    both(
      'GET',
      `${A}/reconciliation/job`,
      `${R}/reconciliation/job`,
      'reconciliationJobGet',
      () => this.reconciliationInfo(),
      { api: { errors: E.api404 }, rest: { errors: E.rest404 } },
    );
    return r;
  }
}

export function createVcenterAppliance(index: number, ctx: SimulatorContext): VcenterAppliance {
  return new VcenterAppliance(index, ctx);
}

/** A 6.5/6.7-style vCenter that serves only the legacy `/rest` form (for API-form detection). */
export function createLegacyVcenterAppliance(index: number, ctx: SimulatorContext): VcenterAppliance {
  return new VcenterAppliance(index, ctx, { forms: ['rest'] });
}
