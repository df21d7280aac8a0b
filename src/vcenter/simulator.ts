import { randomBytes } from 'node:crypto';
import { normaliseVapiErrorType } from '../errors';
import type { SimAppliance, SimRequest, SimResponse, SimRoute, SimulatorContext } from '../simulator/types';
import { BackupRequest, type BackupJobStatus, type LocalizableMessage, backupPasswordViolation } from './schemas';

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

type Form = 'api' | 'rest';

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
export function vapiErrorResponse(form: Form, errorType: string, message: string, messageId?: string, status?: number): SimResponse {
  const type = normaliseVapiErrorType(errorType);
  const m = msg(messageId ?? `com.vmware.applmgmt.err_${type.toLowerCase()}`, message);
  const httpStatus = status ?? VAPI_STATUS[type] ?? 400;
  if (form === 'api') return { status: httpStatus, body: { error_type: type, messages: [m] } };
  return { status: httpStatus, body: { type: `com.vmware.vapi.std.errors.${type.toLowerCase()}`, value: { messages: [m] } } };
}

interface Job {
  id: string;
  comment?: string;
  parts: string[];
  location: string;
  locationType: string;
  locationUser?: string;
  startMs: number;
  fail?: string;
  cancelled?: boolean;
  endMs?: number;
}

/** Timestamp-based job id as real appliances emit: `YYYYMMDD-HHMMSS-<build>`. */
function jobId(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}-${VCENTER_BUILD}`;
}

/**
 * One simulated vCenter: sessions with an idle timeout, one backup or restore at a time
 * (FEATURE_IN_USE), jobs that progress over `jobSeconds`, both `/api` and `/rest` forms.
 */
export class VcenterAppliance implements SimAppliance {
  readonly product = 'vcenter' as const;
  readonly name: string;
  readonly username = 'administrator@vsphere.local';
  readonly password: string;
  private readonly ctx: SimulatorContext;
  /** token → last access (ms) */
  private readonly sessions = new Map<string, { user: string; created: number; lastAccess: number }>();
  readonly jobs = new Map<string, Job>();
  private nextJobFails?: string;

  constructor(index: number, ctx: SimulatorContext) {
    this.name = `vc-${index}`;
    this.ctx = ctx;
    this.password = `Sim-${randomBytes(6).toString('hex')}!${index}`;
  }

  errorResponse(error: string | undefined, status: number | undefined, message: string): SimResponse {
    const type = error ?? (status ? STATUS_VAPI[status] : undefined) ?? 'ERROR';
    return vapiErrorResponse('api', type, message, undefined, status);
  }

  failNextJob(message: string): void {
    this.nextJobFails = message;
  }

  corrupt(res: SimResponse): SimResponse {
    if (res.body && typeof res.body === 'object' && !Array.isArray(res.body)) {
      const body = { ...(res.body as Record<string, unknown>) };
      if ('value' in body && body.value && typeof body.value === 'object') body.value = { ...(body.value as object), state: 42 };
      else body.state = 42;
      return { ...res, body };
    }
    return { ...res, body: { unexpected: true } };
  }

  /** The job currently running, if any. */
  private runningJob(): Job | undefined {
    for (const job of this.jobs.values()) if (this.jobStatus(job).state === 'INPROGRESS') return job;
    return undefined;
  }

  jobStatus(job: Job): BackupJobStatus {
    const now = this.ctx.now();
    const total = Math.max(1, this.ctx.jobSeconds * 1000);
    const elapsed = now - job.startMs;
    const base = { id: job.id, start_time: new Date(job.startMs).toISOString() };
    const startMsg = msg('com.vmware.applmgmt.backup.job.started', 'Backup job started.');
    if (job.cancelled && job.endMs !== undefined) {
      return { ...base, state: 'FAILED', progress: Math.min(99, Math.floor((100 * (job.endMs - job.startMs)) / total)), messages: [startMsg, msg('com.vmware.applmgmt.backup.job.canceled', 'Backup job was canceled by the user.')], end_time: new Date(job.endMs).toISOString() };
    }
    if (elapsed < total) {
      return { ...base, state: 'INPROGRESS', progress: Math.floor((100 * elapsed) / total), messages: [startMsg] };
    }
    const end = new Date(job.startMs + total).toISOString();
    if (job.fail) {
      return { ...base, state: 'FAILED', progress: 100, messages: [startMsg, msg('com.vmware.applmgmt.backup.job.failed', job.fail)], end_time: end };
    }
    return { ...base, state: 'SUCCEEDED', progress: 100, messages: [startMsg, msg('com.vmware.applmgmt.backup.job.succeeded', 'Backup job completed successfully.')], end_time: end };
  }

  /** Wraps a handler with form rendering, session checks and vAPI error rendering. */
  private route(form: Form, method: string, pattern: string, operation: string, handler: (req: SimRequest, form: Form) => unknown, opts: { auth?: boolean; status?: number; unwrap?: 'piece' | 'spec' } = {}): SimRoute {
    return {
      method,
      pattern,
      operation,
      handler: (req) => {
        try {
          if (opts.auth !== false) this.authenticate(req);
          if (form === 'rest' && opts.unwrap) {
            const body = req.body as Record<string, unknown> | undefined;
            if (!body || typeof body !== 'object' || !(opts.unwrap in body)) {
              throw new VapiFault('INVALID_ARGUMENT', `Request body must be wrapped as {"${opts.unwrap}": ...}.`, 'vapi.bindings.typeconverter.invalid.struct');
            }
            req = { ...req, body: body[opts.unwrap] };
          }
          const result = handler(req, form);
          if (result === undefined) return { status: opts.status ?? (form === 'api' ? 204 : 200) };
          const status = form === 'api' ? (opts.status ?? 200) : 200;
          return { status, body: form === 'api' ? result : { value: result } };
        } catch (err) {
          if (err instanceof VapiFault) return vapiErrorResponse(form, err.errorType, err.message, err.messageId);
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
      throw new VapiFault('UNAUTHENTICATED', 'This method requires authentication.', 'com.vmware.vapi.endpoint.method.authentication.required');
    }
    session.lastAccess = now;
    return token;
  }

  private login(req: SimRequest): string {
    const auth = String(req.headers.authorization ?? '');
    const decoded = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8') : '';
    const sep = decoded.indexOf(':');
    if (sep < 0 || decoded.slice(0, sep) !== this.username || decoded.slice(sep + 1) !== this.password) {
      throw new VapiFault('UNAUTHENTICATED', 'Authentication required.', 'com.vmware.vapi.endpoint.method.authentication.required');
    }
    const token = randomBytes(16).toString('hex');
    const now = this.ctx.now();
    this.sessions.set(token, { user: `VSPHERE.LOCAL\\${this.username.split('@')[0]}`, created: now, lastAccess: now });
    return token;
  }

  /** Expires every session now (as an appliance restart or the idle timeout would). */
  expireSessions(): void {
    this.sessions.clear();
  }

  private createBackupJob(req: SimRequest): BackupJobStatus {
    const parsed = BackupRequest.safeParse(req.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new VapiFault('INVALID_ARGUMENT', `Invalid argument ${issue?.path.join('.') || 'body'}: ${issue?.message}`, 'vapi.bindings.typeconverter.invalid');
    }
    const body = parsed.data;
    if (body.backup_password !== undefined) {
      const violation = backupPasswordViolation(body.backup_password);
      if (violation) throw new VapiFault('INVALID_ARGUMENT', violation, 'com.vmware.applmgmt.err_backup_password_policy');
    }
    if (this.runningJob()) {
      throw new VapiFault('FEATURE_IN_USE', 'A backup or restore is already in progress.', 'com.vmware.applmgmt.err_backup_restore_in_progress');
    }
    let start = this.ctx.now();
    while (this.jobs.has(jobId(start))) start += 1000;
    const job: Job = { id: jobId(start), comment: body.comment, parts: body.parts, location: body.location, locationType: body.location_type, locationUser: body.location_user, startMs: start, fail: this.nextJobFails };
    this.nextJobFails = undefined;
    this.jobs.set(job.id, job);
    this.ctx.recordJob({ product: 'vcenter', appliance: this.name, kind: 'backup', id: job.id, label: body.comment });
    return this.jobStatus(job);
  }

  private job(id: string | undefined): Job {
    const job = id ? this.jobs.get(id) : undefined;
    if (!job) throw new VapiFault('NOT_FOUND', `Backup job ${id} not found.`, 'com.vmware.applmgmt.err_job_not_found');
    return job;
  }

  private cancelJob(id: string | undefined) {
    const job = this.job(id);
    if (this.jobStatus(job).state !== 'INPROGRESS') {
      return { status: 'FAIL', messages: [msg('com.vmware.applmgmt.backup.job.cancel.not_running', 'The job is not running and cannot be canceled.')] };
    }
    job.cancelled = true;
    job.endMs = this.ctx.now();
    return { status: 'OK', messages: [msg('com.vmware.applmgmt.backup.job.cancel.ok', 'Cancel requested.')] };
  }

  routes(): SimRoute[] {
    const r: SimRoute[] = [];
    // Sessions
    r.push(this.route('api', 'POST', '/api/session', 'sessionCreate', (req) => this.login(req), { auth: false, status: 201 }));
    r.push(this.route('rest', 'POST', '/rest/com/vmware/cis/session', 'sessionCreate', (req) => this.login(req), { auth: false }));
    const info = (req: SimRequest) => {
      const token = this.authenticate(req);
      const s = this.sessions.get(token)!;
      return { user: s.user, created_time: new Date(s.created).toISOString(), last_accessed_time: new Date(s.lastAccess).toISOString() };
    };
    r.push(this.route('api', 'GET', '/api/session', 'sessionGet', info, { auth: false }));
    r.push(this.route('rest', 'POST', '/rest/com/vmware/cis/session?~action=get', 'sessionGet', info, { auth: false }));
    const logout = (req: SimRequest) => {
      this.sessions.delete(this.authenticate(req));
      return undefined;
    };
    r.push(this.route('api', 'DELETE', '/api/session', 'sessionDelete', logout, { auth: false, status: 204 }));
    r.push(this.route('rest', 'DELETE', '/rest/com/vmware/cis/session', 'sessionDelete', logout, { auth: false }));
    // Backup jobs
    for (const form of ['api', 'rest'] as const) {
      const base = `/${form}/appliance/recovery/backup/job`;
      r.push(this.route(form, 'POST', base, 'backupJobCreate', (req) => this.createBackupJob(req), { status: 201, unwrap: 'piece' }));
      r.push(this.route(form, 'GET', base, 'backupJobList', () => [...this.jobs.keys()].reverse()));
      r.push(this.route(form, 'GET', `${base}/:id`, 'backupJobGet', (req) => this.jobStatus(this.job(req.params.id))));
    }
    r.push(this.route('api', 'POST', '/api/appliance/recovery/backup/job/:id?action=cancel', 'backupJobCancel', (req) => this.cancelJob(req.params.id)));
    r.push(this.route('rest', 'POST', '/rest/appliance/recovery/backup/job/:id/cancel', 'backupJobCancel', (req) => this.cancelJob(req.params.id)));
    return r;
  }
}

export function createVcenterAppliance(index: number, ctx: SimulatorContext): VcenterAppliance {
  return new VcenterAppliance(index, ctx);
}
