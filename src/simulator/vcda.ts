/**
 * A simulated VMware Cloud Director Availability appliance (reference §3): versioned h4 media
 * type, `X-VCAV-Auth` sessions, backup tasks that move QUEUED → RUNNING → SUCCEEDED/FAILED over
 * `jobSeconds`, downloadable archives with a published SHA-512, and ApiError bodies.
 *
 * Where the public material is silent the choices are marked [guess]; they are the cheap ones to
 * change once a real appliance says otherwise.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  type SimAppliance,
  type SimFaults,
  type SimRequest,
  type SimResponse,
  type SimRoute,
  type SimulatorContext,
  route,
} from './types';
import {
  type ApiError,
  type BackupInfo,
  NewBackupRequest,
  SessionRequest,
  type TaskState,
  VCDA_AUTH_HEADER,
  VCDA_OPERATION_ID_HEADER,
  formatVcdaHash,
  h4MediaType,
  h4VersionOf,
} from '../vcda/schemas';

/** Versions this appliance speaks: v1–v4 and any 4.x (e.g. 4.3, 4.5, 4.7). */
const SUPPORTED_VERSION = /^[1-4](\.\d+)?$/;

/** Error code → HTTP status. Documented: NotAuthenticated 401, Forbidden 403, GeneralServerFailure 500. */
const CODE_STATUS: Record<string, number> = {
  BadRequest: 400,
  NotAuthenticated: 401,
  Forbidden: 403,
  NotFound: 404,
  NotAcceptable: 406,
  // [guess] concurrency is not documented: a second backup while one runs is refused with 409.
  BackupInProgress: 409,
  Conflict: 409,
  TooManyRequests: 429,
  GeneralServerFailure: 500,
  BadGateway: 502,
  ServiceUnavailable: 503,
  GatewayTimeout: 504,
};

/** HTTP status → error code for bare-status faults. Only 401/403/500 codes are documented; the rest are [guess]. */
const STATUS_CODE: Record<number, string> = {
  400: 'BadRequest',
  401: 'NotAuthenticated',
  403: 'Forbidden',
  404: 'NotFound',
  406: 'NotAcceptable',
  409: 'Conflict',
  429: 'TooManyRequests',
  500: 'GeneralServerFailure',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

/** Spellings other simulators' faults use, and the generic router's `NOT_FOUND`. */
const CODE_ALIASES: Record<string, string> = {
  NOT_FOUND: 'NotFound',
  UNAUTHENTICATED: 'NotAuthenticated',
  UNAUTHORIZED: 'Forbidden',
  PERMISSION_DENIED: 'Forbidden',
  SERVICE_UNAVAILABLE: 'ServiceUnavailable',
  INTERNAL_SERVER_ERROR: 'GeneralServerFailure',
};

/** Exception class in the stacktrace (seed 003: Forbidden → PermissionDeniedException). */
const EXCEPTIONS: Record<string, string> = {
  Forbidden: 'PermissionDeniedException',
  NotAuthenticated: 'NotAuthenticatedException',
};

const BACKUP_PRODUCT_BUILD = '4.7.0.22993127';

/** An ApiError body as seed 003 shows it. */
export function vcdaApiError(code: string, message: string): ApiError {
  const exception = EXCEPTIONS[code] ?? `${code}Exception`;
  return { code, msg: message, args: [], stacktrace: `com.vmware.h4.api.error.exceptions.${exception}: ${message}` };
}

/** A VCDA error to answer: a route throws it, the router renders it in the request's media type. */
export class VcdaFault extends Error {
  constructor(
    readonly errorCode: string,
    message: string,
    readonly status = CODE_STATUS[errorCode] ?? 400,
  ) {
    super(message);
  }
}

interface Task {
  id: string;
  user: string;
  startMs: number;
  /** The request's `operationID` header: kept here only, never sent on the wire (see {@link VcdaAppliance.tasksByOperationId}). */
  operationId?: string;
  /** When set, the task ends FAILED with this message. */
  fail?: string;
  /** Id of the backup this task generates. */
  backupId: string;
  /** Whether the finished backup was added to the backup list (once; a later DELETE sticks). */
  published?: boolean;
}

interface StoredBackup {
  info: BackupInfo;
  content: Buffer;
  fileName: string;
}

/** One request as this appliance received it (for tests: headers the client really sent). */
export interface VcdaReceived {
  operation: string;
  method: string;
  path: string;
  /** Query string without `?` ('' when none). */
  query: string;
  accept?: string;
  contentType?: string;
  operationId?: string;
  authenticated: boolean;
}

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/**
 * A VcdaFault is answered in the media type of the request: it is thrown only once the request's
 * Accept header named a version this appliance speaks.
 */
const VCDA_FAULTS: SimFaults<VcdaFault> = {
  fault: VcdaFault,
  answer: (err, req) => ({
    status: err.status,
    headers: { 'content-type': h4MediaType(h4VersionOf(first(req.headers.accept)) as string) },
    body: vcdaApiError(err.errorCode, err.message),
  }),
};

/** Deterministic archive bytes for a backup id: 256–320 KiB of SHA-512 counter-mode output. */
export function backupContentFor(id: string): Buffer {
  const seed = createHash('sha512').update(`vcda-backup:${id}`).digest();
  const size = 256 * 1024 + ((seed[0] ?? 0) % 64) * 1024 + (seed[1] ?? 0);
  const out = Buffer.alloc(size);
  for (let offset = 0, i = 0; offset < size; i++) {
    const block = createHash('sha512').update(seed).update(String(i)).digest();
    offset += block.copy(out, offset);
  }
  return out;
}

/**
 * One simulated VCDA appliance. Sessions expire after `sessionIdleSeconds` idle; one backup runs
 * at a time; finished backups are listed, downloadable and deletable.
 */
export class VcdaAppliance implements SimAppliance {
  readonly product = 'vcda' as const;
  readonly name: string;
  readonly username = 'root';
  readonly password: string;
  readonly site: string;
  private readonly ctx: SimulatorContext;
  private readonly sessions = new Map<string, { user: string; roles: string[]; lastAccess: number }>();
  readonly tasks = new Map<string, Task>();
  private readonly backups = new Map<string, StoredBackup>();
  /** Archive bytes and their published hash, per backup id (computed once). */
  private readonly contents = new Map<string, { bytes: Buffer; hash: string }>();
  private nextJobFails?: string;
  /** The last requests received (newest last, at most 500). */
  readonly received: VcdaReceived[] = [];

  constructor(index: number, ctx: SimulatorContext) {
    this.name = `vcda-${index}`;
    this.site = `site-${index}`;
    this.ctx = ctx;
    this.password = `Sim-${randomBytes(6).toString('hex')}!${index}`;
  }

  // -------------------------------------------------------------------------------------------
  // SimAppliance

  errorResponse(error: string | undefined, status: number | undefined, message: string): SimResponse {
    const code =
      (error && (CODE_ALIASES[error] ?? error)) ?? (status ? STATUS_CODE[status] : undefined) ?? 'GeneralServerFailure';
    // Faults and unknown routes are answered before the request's version is known: plain JSON.
    return { status: status ?? CODE_STATUS[code] ?? 400, body: vcdaApiError(code, message) };
  }

  failNextJob(message: string): void {
    this.nextJobFails = message;
  }

  corrupt(res: SimResponse): SimResponse {
    if (Buffer.isBuffer(res.raw)) {
      // A download whose bytes no longer match the published hash.
      const raw = Buffer.from(res.raw);
      const i = raw.length >> 1;
      raw[i] = (raw[i] ?? 0) ^ 0xff;
      return { ...res, raw };
    }
    const breakOne = (value: unknown): unknown => {
      if (!value || typeof value !== 'object' || Array.isArray(value)) return { unexpected: true };
      const body = { ...(value as Record<string, unknown>) };
      if ('state' in body) body.state = 42;
      else if ('hash' in body) body.hash = 'MD5:00';
      else if ('items' in body) body.items = 'not-a-list';
      else if ('roles' in body) body.roles = 'ADMINISTRATORS';
      else return { unexpected: true };
      return body;
    };
    if (Array.isArray(res.body))
      return { ...res, body: res.body.length ? res.body.map(breakOne) : { unexpected: true } };
    return { ...res, body: breakOne(res.body) };
  }

  // -------------------------------------------------------------------------------------------
  // Test helpers

  /** Admin knobs: `{"expireSessions": true}`. */
  admin(command: Record<string, unknown>): unknown {
    const { expireSessions, ...rest } = command;
    if (Object.keys(rest).length)
      throw new Error(`unknown VCDA admin command ${Object.keys(rest).join(', ')}; use expireSessions`);
    if (expireSessions === true) this.expireSessions();
    return {};
  }

  /** Expires every session now (as an appliance restart or the idle timeout would). */
  expireSessions(): void {
    this.sessions.clear();
  }

  /** Tasks started by requests carrying this `operationID` header (simulator-side correlation only). */
  tasksByOperationId(operationId: string): string[] {
    return [...this.tasks.values()].filter((t) => t.operationId === operationId).map((t) => t.id);
  }

  /** The archive bytes a listed backup downloads as. */
  backupBytes(id: string): Buffer | undefined {
    this.publishFinished();
    return this.backups.get(id)?.content;
  }

  // -------------------------------------------------------------------------------------------
  // Tasks

  private taskState(task: Task): { state: TaskState; progress: number; lastUpdated: number; endTime: number } {
    const now = this.ctx.now();
    const total = Math.max(1, this.ctx.jobSeconds * 1000);
    // QUEUED for the first ~10 % of the job, then RUNNING with progress, then done.
    const queued = Math.floor(total / 10);
    const elapsed = now - task.startMs;
    if (elapsed < queued) return { state: 'QUEUED', progress: 0, lastUpdated: task.startMs, endTime: -1 };
    if (elapsed < total) {
      const progress = Math.min(99, Math.floor((100 * (elapsed - queued)) / Math.max(1, total - queued)));
      return { state: 'RUNNING', progress, lastUpdated: now, endTime: -1 };
    }
    const end = task.startMs + total;
    return { state: task.fail ? 'FAILED' : 'SUCCEEDED', progress: 100, lastUpdated: end, endTime: end };
  }

  private content(backupId: string): { bytes: Buffer; hash: string } {
    let c = this.contents.get(backupId);
    if (!c) {
      const bytes = backupContentFor(backupId);
      c = { bytes, hash: formatVcdaHash(createHash('sha512').update(bytes).digest('hex')) };
      this.contents.set(backupId, c);
    }
    return c;
  }

  private backupInfo(task: Task): BackupInfo {
    return {
      id: task.backupId,
      generatedOn: task.startMs + Math.max(1, this.ctx.jobSeconds * 1000),
      hash: this.content(task.backupId).hash,
    };
  }

  /** ApiTask_of_BackupInfo as the wire shows it (§3.4; key set as in seed 003). */
  private taskView(task: Task): Record<string, unknown> {
    const s = this.taskState(task);
    const succeeded = s.state === 'SUCCEEDED';
    return {
      id: task.id,
      user: task.user,
      // Opaque and `{}` in the seed. The operationID is deliberately not exposed.
      workflowInfo: {},
      progress: s.progress,
      state: s.state,
      lastUpdated: s.lastUpdated,
      startTime: task.startMs,
      endTime: s.endTime,
      resultType: succeeded ? 'BackupInfo' : null,
      result: succeeded ? this.backupInfo(task) : null,
      error:
        s.state === 'FAILED' ? vcdaApiError('GeneralServerFailure', task.fail ?? 'Backup generation failed.') : null,
      warnings: [],
      // `site` is optional (§3.4) and left out, as in seed 003.
    };
  }

  /** Adds every newly SUCCEEDED backup to the list (lazily: state is a function of time). */
  private publishFinished(): void {
    for (const task of this.tasks.values()) {
      if (task.published || this.taskState(task).state !== 'SUCCEEDED') continue;
      task.published = true;
      const info = this.backupInfo(task);
      const stamp = new Date(info.generatedOn)
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, '');
      this.backups.set(info.id, {
        info,
        content: this.content(info.id).bytes,
        fileName: `cloud-backup-${BACKUP_PRODUCT_BUILD}-${this.site}-${stamp}UTC.tar.bz2`,
      });
    }
  }

  private createBackup(req: SimRequest, user: string): SimResponse {
    const parsed = NewBackupRequest.safeParse(req.body ?? {});
    if (!parsed.success)
      throw new VcdaFault('BadRequest', `Invalid request body: ${parsed.error.issues[0]?.message ?? 'bad JSON'}`);
    for (const t of this.tasks.values()) {
      const { state } = this.taskState(t);
      // [guess] one backup at a time; the code and status of the refusal are not documented.
      if (state === 'QUEUED' || state === 'RUNNING')
        throw new VcdaFault('BackupInProgress', `Backup task ${t.id} is already in progress.`);
    }
    const operationId = first(req.headers[VCDA_OPERATION_ID_HEADER.toLowerCase()]);
    const task: Task = {
      id: randomUUID(),
      user,
      startMs: this.ctx.now(),
      operationId,
      fail: this.nextJobFails,
      backupId: randomUUID(),
    };
    this.nextJobFails = undefined;
    this.tasks.set(task.id, task);
    this.ctx.recordJob({ product: 'vcda', appliance: this.name, kind: 'backup', id: task.id, label: operationId });
    return { status: 202, body: this.taskView(task) };
  }

  private listTasks(req: SimRequest): SimResponse {
    // [uncertain] listing and filter name are not public; `startedAfter` is exclusive here.
    const raw = req.query.get('startedAfter');
    const after = raw === null ? undefined : Number(raw);
    if (after !== undefined && !Number.isFinite(after))
      throw new VcdaFault('BadRequest', `startedAfter must be epoch milliseconds, got "${raw}".`);
    const items = [...this.tasks.values()]
      .filter((t) => after === undefined || t.startMs > after)
      .map((t) => this.taskView(t));
    return { status: 200, body: { items, total: items.length } };
  }

  private backup(id: string | undefined): StoredBackup {
    this.publishFinished();
    const b = id ? this.backups.get(id) : undefined;
    if (!b) throw new VcdaFault('NotFound', `Backup ${id} not found.`);
    return b;
  }

  // -------------------------------------------------------------------------------------------
  // Sessions

  private login(req: SimRequest): SimResponse {
    const parsed = SessionRequest.safeParse(req.body);
    if (!parsed.success)
      throw new VcdaFault(
        'BadRequest',
        'Invalid session request: expected {"type": "localUser" | "ssoCredentials" | "vcdCredentials", ...}.',
      );
    const b = parsed.data;
    // Simulator convention: every credential type checks the appliance's one user/password.
    const [user, password] =
      b.type === 'localUser'
        ? [b.localUser, b.localPassword]
        : b.type === 'ssoCredentials'
          ? [b.username, b.password]
          : [b.vcdUser, b.vcdPassword];
    if (user !== this.username || password !== this.password)
      throw new VcdaFault('NotAuthenticated', 'Authentication failed.');
    const token = randomBytes(24).toString('base64url');
    const roles = ['ADMINISTRATORS'];
    this.sessions.set(token, { user, roles, lastAccess: this.ctx.now() });
    return {
      status: 200,
      headers: { [VCDA_AUTH_HEADER]: token },
      body: { roles, user, authenticatedSites: [{ org: 'System', site: this.site }] },
    };
  }

  /** The session's user; 401 NotAuthenticated without a live `X-VCAV-Auth` token. */
  private authenticate(req: SimRequest): string {
    const token = first(req.headers[VCDA_AUTH_HEADER.toLowerCase()]);
    const session = token ? this.sessions.get(token) : undefined;
    const now = this.ctx.now();
    if (!token || !session || now - session.lastAccess > this.ctx.sessionIdleSeconds * 1000) {
      if (token) this.sessions.delete(token);
      throw new VcdaFault('NotAuthenticated', 'Authentication required.');
    }
    session.lastAccess = now;
    return session.user;
  }

  // -------------------------------------------------------------------------------------------
  // Routing

  /** Wraps a handler with request recording, version negotiation (406), the session check and error rendering. */
  private vcdaRoute(
    method: string,
    pattern: string,
    operation: string,
    handler: (req: SimRequest, user: string) => SimResponse,
    opts: { auth?: boolean } = {},
  ): SimRoute {
    return route(method, pattern, operation, VCDA_FAULTS, (req) => {
      const accept = first(req.headers.accept);
      this.received.push({
        operation,
        method: req.method,
        path: req.path,
        query: req.query.toString(),
        accept,
        contentType: first(req.headers['content-type']),
        operationId: first(req.headers[VCDA_OPERATION_ID_HEADER.toLowerCase()]),
        authenticated: req.headers[VCDA_AUTH_HEADER.toLowerCase()] !== undefined,
      });
      if (this.received.length > 500) this.received.shift();
      const version = h4VersionOf(accept);
      if (!version || !SUPPORTED_VERSION.test(version)) {
        const what = version ? `API version ${version} is not supported` : 'the Accept header names no API version';
        return this.errorResponse(
          'NotAcceptable',
          406,
          `Not acceptable: ${what}; use ${h4MediaType('4.5')} (v1 to v4, 4.x).`,
        );
      }
      const user = opts.auth === false ? '' : this.authenticate(req);
      const out = handler(req, user);
      if (out.raw !== undefined || out.body === undefined) return out;
      return { ...out, headers: { ...out.headers, 'content-type': h4MediaType(version) } };
    });
  }

  routes(): SimRoute[] {
    return [
      this.vcdaRoute('POST', '/sessions', 'sessionCreate', (req) => this.login(req), { auth: false }),
      this.vcdaRoute('POST', '/backups', 'backupCreate', (req, user) => this.createBackup(req, user)),
      this.vcdaRoute('GET', '/backups', 'backupList', () => {
        this.publishFinished();
        return { status: 200, body: [...this.backups.values()].map((b) => b.info) };
      }),
      this.vcdaRoute('GET', '/backups/:id', 'backupDownload', (req) => {
        const b = this.backup(req.params.id);
        return {
          status: 200,
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(b.content.length),
            'content-disposition': `attachment; filename="${b.fileName}"`,
          },
          raw: b.content,
        };
      }),
      this.vcdaRoute('DELETE', '/backups/:id', 'backupDelete', (req) => {
        const b = this.backup(req.params.id);
        this.backups.delete(b.info.id);
        // [observed in a script; code not captured] 204 No Content.
        return { status: 204 };
      }),
      this.vcdaRoute('GET', '/tasks/:id', 'taskGet', (req) => {
        const task = req.params.id ? this.tasks.get(req.params.id) : undefined;
        if (!task) throw new VcdaFault('NotFound', `Task ${req.params.id} not found.`);
        return { status: 200, body: this.taskView(task) };
      }),
      this.vcdaRoute('GET', '/tasks', 'taskList', (req) => this.listTasks(req)),
    ];
  }
}

export function createVcdaAppliance(index: number, ctx: SimulatorContext): VcdaAppliance {
  return new VcdaAppliance(index, ctx);
}
