/**
 * A simulated SDDC Manager (reference §2): JWT access tokens with refresh, the backup
 * configuration, backup and restore tasks that progress over `jobSeconds`, resource locks,
 * the generic task API (list, get, retry, cancel), and the status spellings real appliances send.
 *
 * Choices where the reference is uncertain (each is cheap to change):
 * - 401 bodies carry `errorCode: "Unauthorized"`: the spelling the official Python SDK filter
 *   compares (§2.1). 403 uses `FORBIDDEN` (an `Unauthorized` code would read as a 401).
 * - A backup or restore requested while another backup/restore task runs answers **409**
 *   `RESOURCE_LOCKED` (§2.5 lists 409 for lock conflicts; the exact errorCode is unverified).
 * - A backup requested before the backup configuration is set answers **400**
 *   `BACKUP_NOT_CONFIGURED` with a message and remediationMessage (exact code unknown, §2.2).
 * - Validation failures answer 400 `VALIDATION_FAILED`; retrying a task that is not FAILED
 *   answers 400 `TASK_NOT_RETRYABLE`; cancelling a task that is not cancellable answers 400
 *   `TASK_NOT_CANCELLABLE`; an unknown task id answers 404 `TASK_NOT_FOUND`.
 * - Status spellings (deterministic): every task has a sequence number per appliance (the
 *   pre-existing automatic backup is #1). Answers to the calls that create or restart a task
 *   (POST backup/restore, PUT/PATCH configuration, PATCH retry) use the documented UPPER_SNAKE
 *   spelling. When a task is read (`GET /v1/tasks[/{id}]`, `GET /v1/restores/tasks/{id}`):
 *   restore tasks use upper case with a space (`IN PROGRESS`, as VMware's instance-recovery
 *   module polls for); other tasks with an even number use Title Case (`In Progress`,
 *   `Successful`, `Failed`, `Cancelled`, as in the official doc examples); odd numbers use
 *   UPPER_SNAKE. Subtasks and stages always use UPPER_SNAKE.
 * - Users: `administrator@vsphere.local` and `admin@local` log in with the appliance password.
 *   The restore endpoints also accept HTTP Basic for user `admin` with the same password (the
 *   OVA `BASIC_AUTH_PASSWORD` user PowerVCF uses; its name is uncertain).
 * - Refresh tokens live 24 h [uncertain]; access tokens `ctx.tokenTtlSeconds`. A `status 401`
 *   fault also revokes every access token issued so far (as a token-service restart would), so
 *   the client really has to re-authenticate; refresh tokens survive it.
 * - `PATCH /v1/tasks/{id}` answers 202 with the task; a retried task runs again from its first
 *   subtask. `DELETE /v1/tasks/{id}` answers 200 without a body. Only running backup tasks are
 *   cancellable.
 * - While a restore runs, services restart: the first `GET /v1/restores/tasks/{id}` after the
 *   start answers 503. Query filters of `GET /v1/tasks` are ignored (their support is not
 *   documented), so clients must filter; tasks are listed newest first.
 * - Backup configuration changes apply at once and answer 202 with a short task
 *   (`BACKUP_CONFIGURATION` type [uncertain]); passwords and the passphrase are never echoed.
 *   Only backup and restore tasks are recorded with `ctx.recordJob` (and not the pre-existing
 *   automatic backup, which no client started).
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';
import type { SimAppliance, SimRequest, SimResponse, SimRoute, SimulatorContext } from '../simulator/types';
import { type BackupLocationSpec, type BackupSchedule, BackupConfigurationSpec, BackupSpec, RestoreSpec, type TaskStatus } from './schemas';

/** errorCode → HTTP status, for `error` faults. Unknown codes answer 400 (a validation error). */
const CODE_STATUS: Record<string, number> = {
  UNAUTHORIZED: 401,
  UNAUTHENTICATED: 401,
  NOTAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  TASK_NOT_FOUND: 404,
  RESOURCE_LOCKED: 409,
  RESOURCES_LOCKED: 409,
  RESOURCE_BUSY: 409,
  INTERNAL_SERVER_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
};
/** HTTP status → errorCode, for `status` faults. */
const STATUS_CODE: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'Unauthorized',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'RESOURCE_LOCKED',
  423: 'RESOURCE_LOCKED',
  429: 'TOO_MANY_REQUESTS',
  500: 'INTERNAL_SERVER_ERROR',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
};

const REFRESH_TOKEN_TTL_MS = 24 * 3600 * 1000;
const LOGIN_USERS = ['administrator@vsphere.local', 'admin@local'];
const BASIC_USER = 'admin';

/** An Error-model answer: handlers throw it, the route wrapper renders it. */
export class SddcFault extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly remediationMessage?: string,
    readonly causes: { type: string; message: string }[] = [],
  ) {
    super(message);
  }
}

function referenceToken(): string {
  return randomBytes(3).toString('hex').toUpperCase();
}

/** The Error model (§2.5). */
export function sddcErrorBody(errorCode: string, message: string, opts: { remediationMessage?: string; causes?: { type: string; message: string }[]; context?: Record<string, string>; args?: string[] } = {}) {
  return {
    errorCode,
    errorType: 'ERROR',
    arguments: opts.args ?? [],
    context: opts.context ?? {},
    message,
    ...(opts.remediationMessage ? { remediationMessage: opts.remediationMessage } : {}),
    causes: opts.causes ?? [],
    nestedErrors: [],
    referenceToken: referenceToken(),
  };
}

function titleCase(status: string): string {
  return status
    .split('_')
    .map((w) => w.charAt(0) + w.slice(1).toLowerCase())
    .join(' ');
}

function zodMessage(error: z.ZodError): string {
  const issue = error.issues[0];
  return `Invalid parameter ${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`;
}

type TaskKind = 'backup' | 'restore' | 'configuration';

interface Step {
  name: string;
  description: string;
  type: string;
}

interface SimTask {
  id: string;
  seq: number;
  kind: TaskKind;
  type: string;
  name: string;
  createdMs: number;
  startMs: number;
  durationMs: number;
  steps: readonly Step[];
  /** Failure message: the task ends FAILED. */
  fail?: string;
  cancelledMs?: number;
  retries: number;
  /** Polls of `GET /v1/restores/tasks/{id}` still to answer 503. */
  unavailablePolls: number;
  backupFile?: string;
}

const BACKUP_STEPS: readonly Step[] = [
  { name: 'Validate backup configuration', description: 'Validate the backup location and encryption settings', type: 'SDDCMANAGER_BACKUP_VALIDATE' },
  { name: 'Back up SDDC Manager database', description: 'Dump the SDDC Manager database', type: 'SDDCMANAGER_BACKUP_DATABASE' },
  { name: 'Back up SDDC Manager configuration', description: 'Archive the SDDC Manager configuration', type: 'SDDCMANAGER_BACKUP_CONFIGURATION' },
  { name: 'Transfer backup', description: 'Encrypt the backup and upload it to the SFTP server', type: 'SDDCMANAGER_BACKUP_TRANSFER' },
];
/** The restore steps VMware's progress file lists (§2.3). */
const RESTORE_STEPS: readonly Step[] = [
  'ExtractSDDCManagerBackup',
  'StopSDDCManagerServices',
  'RestoreSDDCManagerConfiguration',
  'RestoreSDDCManagerDatabase',
  'StartSDDCManagerServices',
  'RestoreSDDCSystemConfiguration',
  'PostRestoreRemediation',
  'UnquiesceSystem',
].map((name) => ({ name, description: name.replace(/([a-z])([A-Z])/g, '$1 $2').replace('SDDCManager', 'SDDC Manager '), type: `SDDCMANAGER_RESTORE_${name.toUpperCase()}` }));
const CONFIGURATION_STEPS: readonly Step[] = [
  { name: 'Validate backup location', description: 'Connect to the SFTP server and check the directory is writable', type: 'BACKUP_CONFIGURATION_VALIDATE' },
  { name: 'Save backup configuration', description: 'Store the backup configuration', type: 'BACKUP_CONFIGURATION_SAVE' },
];

interface StoredConfiguration {
  backupLocations: BackupLocationSpec[];
  backupSchedules: BackupSchedule[];
  passphrase?: string;
}

function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** `vcf-backup-<fqdn-with-dashes>-YYYY-MM-DD-HH-MM-SS.tar.gz` (§2.3). */
function backupFileName(fqdn: string, ms: number): string {
  const stamp = new Date(ms).toISOString().slice(0, 19).replace(/[T:]/g, '-');
  return `vcf-backup-${fqdn.replace(/\./g, '-')}-${stamp}.tar.gz`;
}

export class SddcManagerAppliance implements SimAppliance {
  readonly product = 'sddc-manager' as const;
  readonly name: string;
  readonly username = 'administrator@vsphere.local';
  readonly password: string;
  readonly fqdn: string;
  private readonly ctx: SimulatorContext;
  private readonly signingKey = randomBytes(32);
  private readonly resourceId = randomUUID();
  /** jti → user of access tokens not revoked. */
  private readonly accessTokens = new Map<string, string>();
  private readonly refreshTokens = new Map<string, { user: string; expiresMs: number }>();
  readonly tasks = new Map<string, SimTask>();
  private seq = 0;
  private configuration?: StoredConfiguration;
  private nextJobFails?: string;

  constructor(index: number, ctx: SimulatorContext) {
    this.name = `sddc-${index}`;
    this.fqdn = `sddc-${index}.vcf.sim.local`;
    this.ctx = ctx;
    this.password = `Sim-${randomBytes(6).toString('hex')}!${index}`;
    // An automatic backup from before (takeBackupOnStateChange): clients must filter GET /v1/tasks.
    const created = ctx.now() - 24 * 3600 * 1000;
    this.addTask({ kind: 'backup', type: 'SDDCMANAGER_BACKUP', name: 'SDDC Manager Backup', steps: BACKUP_STEPS, startMs: created, durationMs: Math.max(1, ctx.jobSeconds * 1000) });
  }

  // -------------------------------------------------------------------------------------------
  // SimAppliance

  errorResponse(error: string | undefined, status: number | undefined, message: string): SimResponse {
    const code = error ?? (status !== undefined ? STATUS_CODE[status] : undefined) ?? 'INTERNAL_SERVER_ERROR';
    const httpStatus = status ?? CODE_STATUS[code.toUpperCase()] ?? 400;
    if (httpStatus === 401) this.expireAccessTokens();
    return { status: httpStatus, body: sddcErrorBody(code, message) };
  }

  failNextJob(message: string): void {
    this.nextJobFails = message;
  }

  corrupt(res: SimResponse): SimResponse {
    const body = res.body;
    if (typeof body === 'string') return { ...res, body: 42 };
    if (body && typeof body === 'object' && !Array.isArray(body)) {
      const copy = { ...(body as Record<string, unknown>) };
      if ('status' in copy) copy.status = 42;
      else if (Array.isArray(copy.elements) && copy.elements.length) copy.elements = [{ ...(copy.elements[0] as object), status: 42 }, ...copy.elements.slice(1)];
      else if ('accessToken' in copy) copy.accessToken = 42;
      else if ('isConfigured' in copy) copy.isConfigured = 'yes';
      else copy.elements = 42;
      return { ...res, body: copy };
    }
    return { ...res, body: { unexpected: true } };
  }

  /** Revokes every access token issued so far (refresh tokens stay valid). */
  /** Admin knobs: `{"expireAccessTokens": true}`, `{"revokeRefreshTokens": true}`. */
  admin(command: Record<string, unknown>): unknown {
    const { expireAccessTokens, revokeRefreshTokens, ...rest } = command;
    if (Object.keys(rest).length) throw new Error(`unknown SDDC Manager admin command ${Object.keys(rest).join(', ')}; use expireAccessTokens or revokeRefreshTokens`);
    if (expireAccessTokens === true) this.expireAccessTokens();
    if (revokeRefreshTokens === true) this.revokeRefreshTokens();
    return {};
  }

  expireAccessTokens(): void {
    this.accessTokens.clear();
  }

  /** Revokes every refresh token: the next refresh fails and the client must log in. */
  revokeRefreshTokens(): void {
    this.refreshTokens.clear();
  }

  // -------------------------------------------------------------------------------------------
  // Authentication

  private issueAccessToken(user: string): string {
    const nowS = Math.floor(this.ctx.now() / 1000);
    const jti = randomUUID();
    const header = b64json({ alg: 'HS256', typ: 'JWT' });
    const payload = b64json({ sub: user, iss: this.fqdn, iat: nowS, exp: nowS + this.ctx.tokenTtlSeconds, jti });
    const signature = createHmac('sha256', this.signingKey).update(`${header}.${payload}`).digest('base64url');
    this.accessTokens.set(jti, user);
    return `${header}.${payload}.${signature}`;
  }

  private unauthorized(message: string): SddcFault {
    return new SddcFault(401, 'Unauthorized', message, 'Get a new access token (PATCH /v1/tokens/access-token/refresh or POST /v1/tokens).');
  }

  private verifyBearer(token: string): string {
    const [header, payload, signature] = token.split('.');
    if (!header || !payload || !signature) throw this.unauthorized('The access token is malformed.');
    const expected = createHmac('sha256', this.signingKey).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw this.unauthorized('The access token signature is invalid.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp: number; jti: string; sub: string };
    if (!this.accessTokens.has(claims.jti)) throw this.unauthorized('The access token has been revoked.');
    if (claims.exp * 1000 <= this.ctx.now()) {
      this.accessTokens.delete(claims.jti);
      throw this.unauthorized('The access token has expired.');
    }
    return claims.sub;
  }

  private checkPassword(user: string, password: string): boolean {
    const a = Buffer.from(password);
    const b = Buffer.from(this.password);
    return LOGIN_USERS.includes(user) && a.length === b.length && timingSafeEqual(a, b);
  }

  private authenticate(req: SimRequest, basicAllowed: boolean): string {
    const header = String(req.headers.authorization ?? '');
    if (header.startsWith('Bearer ')) return this.verifyBearer(header.slice(7).trim());
    if (basicAllowed && header.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
      const sep = decoded.indexOf(':');
      const user = decoded.slice(0, sep);
      const a = Buffer.from(decoded.slice(sep + 1));
      const b = Buffer.from(this.password);
      if (sep > 0 && user === BASIC_USER && a.length === b.length && timingSafeEqual(a, b)) return user;
      throw this.unauthorized('Invalid basic authentication credentials.');
    }
    throw this.unauthorized('Authentication required: send an access token (Authorization: Bearer ...).');
  }

  private login(req: SimRequest): SimResponse {
    const body = req.body as { username?: unknown; password?: unknown } | undefined;
    if (!body || typeof body !== 'object' || typeof body.username !== 'string' || typeof body.password !== 'string') {
      throw new SddcFault(400, 'VALIDATION_FAILED', 'Invalid parameter: username and password are required.');
    }
    if (!this.checkPassword(body.username, body.password)) {
      throw new SddcFault(401, 'Unauthorized', 'Invalid username or password.', 'Check the user name and password.');
    }
    const refreshId = randomUUID();
    this.refreshTokens.set(refreshId, { user: body.username, expiresMs: this.ctx.now() + REFRESH_TOKEN_TTL_MS });
    return { status: 200, body: { accessToken: this.issueAccessToken(body.username), refreshToken: { id: refreshId } } };
  }

  /** Accepts the id as a JSON string (`"id"`, the docs), a bare id (PowerVCF) or `{id}`. */
  private refresh(req: SimRequest): SimResponse {
    const body = req.body;
    const id = typeof body === 'string' ? body.trim().replace(/^"|"$/g, '') : body && typeof body === 'object' ? (body as { id?: unknown }).id : undefined;
    const entry = typeof id === 'string' ? this.refreshTokens.get(id) : undefined;
    if (!entry || entry.expiresMs <= this.ctx.now()) {
      if (typeof id === 'string') this.refreshTokens.delete(id);
      throw new SddcFault(401, 'Unauthorized', 'The refresh token is invalid or has expired.', 'Log in again with POST /v1/tokens.');
    }
    return { status: 200, body: this.issueAccessToken(entry.user) };
  }

  // -------------------------------------------------------------------------------------------
  // Tasks

  private addTask(t: Pick<SimTask, 'kind' | 'type' | 'name' | 'steps' | 'durationMs'> & { startMs?: number }): SimTask {
    const { startMs, ...rest } = t;
    const start = startMs ?? this.ctx.now();
    const task: SimTask = { ...rest, id: randomUUID(), seq: ++this.seq, createdMs: start, startMs: start, retries: 0, unavailablePolls: 0 };
    if (startMs === undefined) {
      task.fail = this.nextJobFails;
      this.nextJobFails = undefined;
    }
    this.tasks.set(task.id, task);
    return task;
  }

  private taskState(t: SimTask): { status: TaskStatus; endMs?: number } {
    if (t.cancelledMs !== undefined) return { status: 'CANCELLED', endMs: t.cancelledMs };
    const end = t.startMs + t.durationMs;
    if (this.ctx.now() < end) return { status: 'IN_PROGRESS' };
    return { status: t.fail ? 'FAILED' : 'SUCCESSFUL', endMs: end };
  }

  /** A backup or restore task holding the resource locks. */
  private lockHolder(): SimTask | undefined {
    for (const t of this.tasks.values()) if (t.kind !== 'configuration' && this.taskState(t).status === 'IN_PROGRESS') return t;
    return undefined;
  }

  private checkLocks(what: string): void {
    const holder = this.lockHolder();
    if (holder) {
      throw new SddcFault(409, 'RESOURCE_LOCKED', `Unable to ${what}: the resources are locked by task ${holder.name} (${holder.id}).`, 'Wait for the running task to finish and try again.');
    }
  }

  private taskError(t: SimTask, message: string) {
    const code = t.kind === 'backup' ? 'SDDCMANAGER_BACKUP_FAILED' : t.kind === 'restore' ? 'SDDCMANAGER_RESTORE_FAILED' : 'BACKUP_CONFIGURATION_FAILED';
    return sddcErrorBody(code, message, {
      remediationMessage: 'Fix the cause, then retry the task (PATCH /v1/tasks/{id}).',
      causes: [{ type: 'com.vmware.evo.sddc.orchestrator.exceptions.OrchProcessingException', message }],
      context: { taskId: t.id },
      args: [t.id],
    });
  }

  private resources() {
    return [{ resourceId: this.resourceId, fqdn: this.fqdn, type: 'SDDC_MANAGER', name: this.fqdn, sans: [this.fqdn] }];
  }

  private renderStatus(t: SimTask, status: TaskStatus, mode: 'create' | 'read'): string {
    if (mode === 'create') return status;
    if (t.kind === 'restore') return status.replace(/_/g, ' ');
    return t.seq % 2 === 0 ? titleCase(status) : status;
  }

  private subTasks(t: SimTask, status: TaskStatus, endMs: number | undefined) {
    const k = t.steps.length;
    const window = t.durationMs / k;
    const at = endMs ?? this.ctx.now();
    const current = Math.min(k - 1, Math.floor((at - t.startMs) / window));
    return t.steps.map((step, i) => {
      const startMs = Math.round(t.startMs + i * window);
      const stepEnd = i === k - 1 ? t.startMs + t.durationMs : Math.round(t.startMs + (i + 1) * window);
      let st: TaskStatus;
      if (status === 'SUCCESSFUL') st = 'SUCCESSFUL';
      else if (status === 'FAILED') st = i < k - 1 ? 'SUCCESSFUL' : 'FAILED';
      else if (i < current) st = 'SUCCESSFUL';
      else if (i === current) st = status === 'CANCELLED' ? 'CANCELLED' : 'IN_PROGRESS';
      else st = 'PENDING';
      const started = st !== 'PENDING';
      const done = st !== 'PENDING' && st !== 'IN_PROGRESS';
      const doneMs = st === 'CANCELLED' ? (endMs ?? stepEnd) : stepEnd;
      const errors = st === 'FAILED' && t.fail ? [this.taskError(t, t.fail)] : [];
      let description = step.description;
      if (t.kind === 'backup' && i === k - 1 && st === 'SUCCESSFUL' && t.backupFile) description = `Backup file ${t.backupFile} transferred`;
      const times = {
        ...(started ? { creationTimestamp: new Date(startMs).toISOString() } : {}),
        ...(done ? { completionTimestamp: new Date(doneMs).toISOString() } : {}),
      };
      return {
        name: step.name,
        description,
        type: step.type,
        status: st,
        ...times,
        errors,
        resources: this.resources(),
        stages: [{ name: step.name, description, type: step.type, status: st, ...times, errors }],
        subTasks: [],
      };
    });
  }

  /** The full Task (seed 001 shape). */
  renderTask(t: SimTask, mode: 'create' | 'read' = 'read') {
    const { status, endMs } = this.taskState(t);
    if (t.kind === 'backup' && status === 'SUCCESSFUL') t.backupFile ??= backupFileName(this.fqdn, t.startMs + t.durationMs);
    const resolutionStatus = status === 'FAILED' ? 'UNRESOLVED' : status === 'SUCCESSFUL' && t.retries > 0 ? 'RESOLVED' : undefined;
    return {
      id: t.id,
      name: t.name,
      type: t.type,
      status: this.renderStatus(t, status, mode),
      creationTimestamp: new Date(t.createdMs).toISOString(),
      ...(endMs !== undefined ? { completionTimestamp: new Date(endMs).toISOString() } : {}),
      isCancellable: t.kind === 'backup' && status === 'IN_PROGRESS',
      ...(resolutionStatus ? { resolutionStatus } : {}),
      errors: status === 'FAILED' && t.fail ? [this.taskError(t, t.fail)] : [],
      resources: this.resources(),
      subTasks: this.subTasks(t, status, endMs),
    };
  }

  private task(id: string | undefined): SimTask {
    const t = id ? this.tasks.get(id) : undefined;
    if (!t) throw new SddcFault(404, 'TASK_NOT_FOUND', `Task not found: ${id}`, 'Check the task id.');
    return t;
  }

  // -------------------------------------------------------------------------------------------
  // Backup configuration

  private isConfigured(): boolean {
    return !!this.configuration && this.configuration.backupLocations.length > 0 && !!this.configuration.passphrase;
  }

  private renderConfiguration() {
    const c = this.configuration;
    return {
      backupLocations: (c?.backupLocations ?? []).map(({ password: _password, ...rest }) => rest),
      backupSchedules: c?.backupSchedules ?? [],
      isConfigured: this.isConfigured(),
    };
  }

  private configure(req: SimRequest, replace: boolean): SimResponse {
    const parsed = BackupConfigurationSpec.safeParse(req.body);
    if (!parsed.success) throw new SddcFault(400, 'VALIDATION_FAILED', zodMessage(parsed.error), 'Correct the backup configuration.');
    const spec = parsed.data;
    const base: StoredConfiguration = replace ? { backupLocations: [], backupSchedules: [] } : structuredClone(this.configuration ?? { backupLocations: [], backupSchedules: [] });
    const next: StoredConfiguration = {
      backupLocations: spec.backupLocations ?? base.backupLocations,
      backupSchedules: spec.backupSchedules ?? base.backupSchedules,
      passphrase: spec.encryption?.passphrase ?? base.passphrase,
    };
    if (!next.backupLocations.length || !next.passphrase) {
      throw new SddcFault(400, 'VALIDATION_FAILED', 'Invalid parameter: a backup location and an encryption passphrase are required.', 'Send backupLocations and encryption.passphrase.');
    }
    for (const [i, loc] of next.backupLocations.entries()) {
      if (loc.protocol.toUpperCase() !== 'SFTP') throw new SddcFault(400, 'VALIDATION_FAILED', `Invalid parameter backupLocations.${i}.protocol: only SFTP is supported.`);
      if (!loc.password) throw new SddcFault(400, 'VALIDATION_FAILED', `Invalid parameter backupLocations.${i}.password: required.`);
    }
    const task = this.addTask({
      kind: 'configuration',
      type: 'BACKUP_CONFIGURATION',
      name: replace ? 'Configure backup settings' : 'Update backup settings',
      steps: CONFIGURATION_STEPS,
      durationMs: Math.min(1000, Math.max(1, (this.ctx.jobSeconds * 1000) / 5)),
    });
    if (!task.fail) this.configuration = { ...next, backupLocations: next.backupLocations.map((l) => ({ port: 22, ...l })) };
    return { status: 202, body: this.renderTask(task, 'create') };
  }

  // -------------------------------------------------------------------------------------------
  // Backup and restore

  private startBackup(req: SimRequest): SimResponse {
    const parsed = BackupSpec.safeParse(req.body);
    if (!parsed.success) throw new SddcFault(400, 'VALIDATION_FAILED', zodMessage(parsed.error), 'Send {"elements":[{"resourceType":"SDDC_MANAGER"}]}.');
    const unsupported = parsed.data.elements.find((e) => e.resourceType !== 'SDDC_MANAGER');
    if (unsupported) throw new SddcFault(400, 'VALIDATION_FAILED', `Invalid parameter elements.resourceType: ${unsupported.resourceType} backups are not started through this API.`, 'Use resourceType SDDC_MANAGER.');
    if (!this.isConfigured()) {
      throw new SddcFault(400, 'BACKUP_NOT_CONFIGURED', 'Backup is not configured: no external SFTP backup location and encryption passphrase are set.', 'Configure the backup location and passphrase (PUT /v1/system/backup-configuration), then start the backup again.', [
        { type: 'com.vmware.vcf.backup.BackupNotConfiguredException', message: 'Backup configuration is missing' },
      ]);
    }
    this.checkLocks('start the backup');
    const task = this.addTask({ kind: 'backup', type: 'SDDCMANAGER_BACKUP', name: 'SDDC Manager Backup', steps: BACKUP_STEPS, durationMs: Math.max(1, this.ctx.jobSeconds * 1000) });
    this.ctx.recordJob({ product: 'sddc-manager', appliance: this.name, kind: 'backup', id: task.id, label: task.name });
    const full = this.renderTask(task, 'create');
    // BackupTask (seed 004): {id, name, status, resources, errors}.
    return { status: 202, body: { id: full.id, name: full.name, status: full.status, resources: full.resources, errors: full.errors } };
  }

  private startRestore(req: SimRequest): SimResponse {
    const parsed = RestoreSpec.safeParse(req.body);
    if (!parsed.success) throw new SddcFault(400, 'VALIDATION_FAILED', zodMessage(parsed.error), 'Send backupFile, elements and encryption.passphrase.');
    this.checkLocks('start the restore');
    const task = this.addTask({ kind: 'restore', type: 'SDDCMANAGER_RESTORE', name: 'SDDC Manager Restore', steps: RESTORE_STEPS, durationMs: Math.max(1, this.ctx.jobSeconds * 1000) });
    task.unavailablePolls = 1;
    this.ctx.recordJob({ product: 'sddc-manager', appliance: this.name, kind: 'restore', id: task.id, label: task.name });
    return { status: 202, body: this.renderTask(task, 'create') };
  }

  private getRestoreTask(req: SimRequest): SimResponse {
    const t = this.task(req.params.id);
    if (t.kind !== 'restore') throw new SddcFault(404, 'TASK_NOT_FOUND', `Restore task not found: ${t.id}`, 'Check the restore task id.');
    if (t.unavailablePolls > 0) {
      t.unavailablePolls--;
      return { status: 503, body: sddcErrorBody('SERVICE_UNAVAILABLE', 'SDDC Manager services are restarting.') };
    }
    return { status: 200, body: this.renderTask(t) };
  }

  private retryTask(req: SimRequest): SimResponse {
    const t = this.task(req.params.id);
    const { status } = this.taskState(t);
    if (status !== 'FAILED') throw new SddcFault(400, 'TASK_NOT_RETRYABLE', `Task ${t.id} is ${status}: only a FAILED task can be retried.`, 'Retry only failed tasks.');
    if (t.kind !== 'configuration') this.checkLocks('retry the task');
    t.startMs = this.ctx.now();
    t.retries++;
    t.fail = this.nextJobFails;
    this.nextJobFails = undefined;
    return { status: 202, body: this.renderTask(t, 'create') };
  }

  private cancelTask(req: SimRequest): SimResponse {
    const t = this.task(req.params.id);
    if (!this.renderTask(t).isCancellable) throw new SddcFault(400, 'TASK_NOT_CANCELLABLE', `Task ${t.id} cannot be cancelled.`, 'Only a running task whose isCancellable is true can be cancelled.');
    t.cancelledMs = this.ctx.now();
    return { status: 200 };
  }

  private listTasks(): SimResponse {
    const elements = [...this.tasks.values()].sort((a, b) => b.createdMs - a.createdMs || b.seq - a.seq).map((t) => this.renderTask(t));
    return { status: 200, body: { elements, pageMetadata: { pageNumber: 0, pageSize: elements.length, totalElements: elements.length, totalPages: 1 } } };
  }

  // -------------------------------------------------------------------------------------------
  // Routes

  private route(method: string, pattern: string, operation: string, auth: 'none' | 'bearer' | 'bearerOrBasic', handler: (req: SimRequest) => SimResponse): SimRoute {
    return {
      method,
      pattern,
      operation,
      handler: (req) => {
        try {
          if (auth !== 'none') this.authenticate(req, auth === 'bearerOrBasic');
          return handler(req);
        } catch (err) {
          if (err instanceof SddcFault) {
            return { status: err.status, body: sddcErrorBody(err.errorCode, err.message, { remediationMessage: err.remediationMessage, causes: err.causes }) };
          }
          throw err;
        }
      },
    };
  }

  routes(): SimRoute[] {
    return [
      this.route('POST', '/v1/tokens', 'tokenCreate', 'none', (req) => this.login(req)),
      this.route('PATCH', '/v1/tokens/access-token/refresh', 'tokenRefresh', 'none', (req) => this.refresh(req)),
      this.route('GET', '/v1/system/backup-configuration', 'getBackupConfiguration', 'bearer', () => ({ status: 200, body: this.renderConfiguration() })),
      this.route('PUT', '/v1/system/backup-configuration', 'setBackupConfiguration', 'bearer', (req) => this.configure(req, true)),
      this.route('PATCH', '/v1/system/backup-configuration', 'updateBackupConfiguration', 'bearer', (req) => this.configure(req, false)),
      this.route('POST', '/v1/backups/tasks', 'startBackup', 'bearer', (req) => this.startBackup(req)),
      this.route('GET', '/v1/tasks', 'listTasks', 'bearer', () => this.listTasks()),
      this.route('GET', '/v1/tasks/:id', 'getTask', 'bearer', (req) => ({ status: 200, body: this.renderTask(this.task(req.params.id)) })),
      this.route('PATCH', '/v1/tasks/:id', 'retryTask', 'bearer', (req) => this.retryTask(req)),
      this.route('DELETE', '/v1/tasks/:id', 'cancelTask', 'bearer', (req) => this.cancelTask(req)),
      this.route('POST', '/v1/restores/tasks', 'startRestore', 'bearerOrBasic', (req) => this.startRestore(req)),
      this.route('GET', '/v1/restores/tasks/:id', 'getRestoreTask', 'bearerOrBasic', (req) => this.getRestoreTask(req)),
    ];
  }
}

export function createSddcManagerAppliance(index: number, ctx: SimulatorContext): SddcManagerAppliance {
  return new SddcManagerAppliance(index, ctx);
}
