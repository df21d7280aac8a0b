/**
 * A simulated SDDC Manager: JWT access tokens with refresh and logout, the backup configuration
 * (with validation and the SFTP fingerprint lookup), backup and restore tasks that progress over
 * `jobSeconds`, resource locks, the generic task API (filtered list, get, retry, cancel), and the
 * status spellings real appliances send. This file holds the appliance (state, authentication,
 * task progress and rendering, routes); `simulator-errors.ts` the Error model answers,
 * `simulator-backup-configuration.ts` the configuration, validation and fingerprint lookup,
 * `simulator-tasks.ts` the task steps and the `GET /v1/tasks` query.
 *
 * Contract: VMware's generated bindings, PyPI `vmware-sddc-manager` 9.1.1.0 (operation stubs in
 * `vmware/sddc_manager/v1_client.py`, `v1/tokens_client.py`, `v1/tokens/access_token_client.py`,
 * `v1/backups_client.py`, `v1/restores_client.py`, `v1/system_client.py`,
 * `v1/system/backup_configuration_client.py`; models in `model_client.py`). Success codes below
 * are the bindings' response descriptions ("Created" 201, "Ok" 200, "Accepted" 202, "No content"
 * 204); error codes are the ones they declare, and every error answer is their `Error` model
 * (errorCode, errorType, arguments, context, message, remediationMessage, causes, nestedErrors,
 * referenceToken, and remediationUrl/label where there is something to link).
 *
 * | call | success | refusals |
 * |---|---|---|
 * | `POST /v1/tokens` | 201 TokenPair | 400 bad body, 401 bad credentials |
 * | `PATCH /v1/tokens/access-token/refresh` | 200 JSON string | 404 unknown/expired refresh token |
 * | `DELETE /v1/tokens/refresh-token` | 204 | 400 no id |
 * | `GET/PUT/PATCH /v1/system/backup-configuration` | 200 / 200 Task / 202 Task | 400 |
 * | `POST /v1/system/backup-configuration/validations` | 202 Validation | 400 bad body |
 * | `GET /v1/system/backup-configuration/backup-locations` | 200 BackupLocation | 400 |
 * | `POST /v1/backups/tasks` | 202 BackupTask | 400 (also while another task holds the locks) |
 * | `GET /v1/tasks`, `GET /v1/tasks/{id}` | 200 PageOfTask / Task | 400 bad filter, 404 |
 * | `PATCH /v1/tasks/{id}` (retry) | 200, no body | 404, 409 not FAILED |
 * | `DELETE /v1/tasks/{id}` (cancel) | 200, no body | 404, 409 not IN_PROGRESS/cancellable |
 * | `POST /v1/restores/tasks`, `GET /v1/restores/tasks/{id}` | 202 / 200 Task | 400 (unknown id too), 503 |
 *
 * Where the bindings and the VCF doc pages disagree, the bindings win (they are generated from
 * the 9.1 spec, the pages are older): `POST /v1/tokens` answers 201 (pages: 200); `PUT` of the
 * configuration 200 (5.2+ pages: 202); an unknown restore task id 400 (the bindings declare no
 * 404 there); a refused refresh 404 (no 401 declared). The bindings declare 401/403 for no
 * operation, yet bearer-authenticated calls obviously need them: those stay 401 with
 * `errorCode: "Unauthorized"` (the spelling the official Python SDK's filter compares) and 403
 * `FORBIDDEN`.
 *
 * Choices where VMware says nothing (each is cheap to change) [uncertain]:
 * - A backup or restore requested while another backup/restore task runs answers **400**
 *   `RESOURCE_LOCKED` (the bindings declare only 400/500 for both starts; the errorCode is
 *   unverified, a real second POST would settle it). A backup before the configuration is set
 *   answers 400 `BACKUP_NOT_CONFIGURED`.
 * - Retrying a task that is not FAILED answers 409 `TASK_NOT_RETRYABLE`; cancelling one that is
 *   not IN_PROGRESS/cancellable 409 `TASK_NOT_CANCELLABLE`; unknown ids 404 `TASK_NOT_FOUND`
 *   (400 on the restore path); bad bodies 400 `VALIDATION_FAILED`.
 * - A fresh appliance comes up with an SFTP backup location (`sftp.vcf.sim.local`) and the
 *   passphrase {@link SIM_BACKUP_PASSPHRASE} configured, so a backup works without raw REST;
 *   `{ backupConfigured: false }` (factory option, or the admin command) starts it unconfigured.
 * - The fingerprint lookup answers `SHA256:<base64 of sha256(server:port)>` for any server, and
 *   400 `SSH_CONNECTION_FAILED` for a server under `.invalid`. A PUT/PATCH does not check the
 *   fingerprint it is given (tests send placeholders); the validation endpoint does, and answers
 *   a finished Validation at once (the bindings declare no way to read one back).
 * - `GET /v1/tasks` honours taskType, taskStatus (any spelling), resourceId, resourceType,
 *   completedAfter (ms; SUCCESSFUL or FAILED tasks, as the bindings' parameter doc says),
 *   taskName (contains, case-insensitive), orderBy (creationTimestamp, completionTimestamp,
 *   name), orderDirection (ASC/DESC, default DESC: newest first), pageNumber (0-based),
 *   pageSize (≤ 100, else 400) and limit; doLiveRefresh is ignored.
 * - Status spellings (deterministic): every task has a sequence number per appliance (the
 *   pre-existing automatic backup is #1). Answers to the calls that create a task (POST
 *   backup/restore, PUT/PATCH configuration) use the documented UPPER_SNAKE spelling. When a
 *   task is read (`GET /v1/tasks[/{id}]`, `GET /v1/restores/tasks/{id}`): restore tasks use
 *   upper case with a space (`IN PROGRESS`, as VMware's instance-recovery module polls for);
 *   other tasks with an even number use Title Case (`In Progress`, `Successful`, as in the
 *   official doc examples); odd numbers UPPER_SNAKE. Subtasks and stages always UPPER_SNAKE.
 * - Tasks carry `isRetryable` (FAILED), `isCancellable` (running backups), a
 *   `localizableDescriptionPack`, subtasks with stages, nested subtasks and, when failed, a
 *   `documentationLink`; the component/message keys and links are invented.
 * - Users: `administrator@vsphere.local` and `admin@local` log in with the appliance password.
 *   The restore endpoints also accept HTTP Basic for user `admin` with the same password (the
 *   OVA `BASIC_AUTH_PASSWORD` user PowerVCF uses; its name is uncertain).
 * - Refresh tokens live 24 h; access tokens `ctx.tokenTtlSeconds`. A `status 401` fault also
 *   revokes every access token issued so far (as a token-service restart would), so the client
 *   really has to re-authenticate; refresh tokens survive it.
 * - While a restore runs, services restart: the first `GET /v1/restores/tasks/{id}` after the
 *   start answers 503 (not declared by the bindings; a restarting appliance does it).
 * - Configuration changes apply at once with a short task (`BACKUP_CONFIGURATION` type);
 *   passwords and the passphrase are never echoed. Only backup and restore tasks are recorded
 *   with `ctx.recordJob` (not the pre-existing automatic backup, which no client started).
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { SimAppliance, SimRequest, SimResponse, SimRoute, SimulatorContext } from '../types';
import { BackupSpec, RestoreSpec, type TaskStatus } from '../../sddc-manager/schemas';
import {
  SIM_BACKUP_PASSPHRASE,
  SIM_SFTP_SERVER,
  type StoredConfiguration,
  checkBackupConfiguration,
  defaultBackupConfiguration,
  isBackupConfigured,
  lookupBackupLocation,
  proposedBackupConfiguration,
  renderBackupConfiguration,
  simSshFingerprint,
  validateBackupConfiguration,
} from './backup-configuration';
import { CODE_STATUS, DOCS_URL, STATUS_CODE, SddcFault, sddcErrorBody, zodMessage } from './errors';
import {
  BACKUP_STEPS,
  CONFIGURATION_STEPS,
  RESTORE_STEPS,
  type SimTask,
  type Step,
  backupFileName,
  parseTaskListQuery,
  selectTasks,
  titleCase,
} from './tasks';

export { SIM_BACKUP_PASSPHRASE, SIM_SFTP_SERVER, SddcFault, sddcErrorBody, simSshFingerprint };

/** Options of one simulated SDDC Manager. */
export interface SddcManagerSimulatorOptions {
  /**
   * Come up with an SFTP backup location and the passphrase {@link SIM_BACKUP_PASSPHRASE}
   * configured, so that `POST /v1/backups/tasks` works at once. `false` starts unconfigured
   * (for tests of that path).
   * @default true
   */
  backupConfigured?: boolean;
}

const REFRESH_TOKEN_TTL_MS = 24 * 3600 * 1000;
const LOGIN_USERS = ['administrator@vsphere.local', 'admin@local'];
const BASIC_USER = 'admin';

function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
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

  constructor(index: number, ctx: SimulatorContext, opts: SddcManagerSimulatorOptions = {}) {
    this.name = `sddc-${index}`;
    this.fqdn = `sddc-${index}.vcf.sim.local`;
    this.ctx = ctx;
    this.password = `Sim-${randomBytes(6).toString('hex')}!${index}`;
    if (opts.backupConfigured ?? true) this.configuration = defaultBackupConfiguration(this.fqdn);
    // An automatic backup from before (takeBackupOnStateChange): clients must filter GET /v1/tasks.
    const created = ctx.now() - 24 * 3600 * 1000;
    this.addTask({
      kind: 'backup',
      type: 'SDDCMANAGER_BACKUP',
      name: 'SDDC Manager Backup',
      steps: BACKUP_STEPS,
      startMs: created,
      durationMs: Math.max(1, ctx.jobSeconds * 1000),
    });
  }

  // -------------------------------------------------------------------------------------------
  // SimAppliance

  errorResponse(error: string | undefined, status: number | undefined, message: string, path?: string): SimResponse {
    const code = error ?? (status !== undefined ? STATUS_CODE[status] : undefined) ?? 'INTERNAL_SERVER_ERROR';
    const httpStatus = status ?? CODE_STATUS[code.toUpperCase()] ?? 400;
    if (httpStatus === 401) this.expireAccessTokens();
    return { status: httpStatus, body: sddcErrorBody(code, message, path ? { context: { path } } : {}) };
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
      else if (Array.isArray(copy.elements) && copy.elements.length)
        copy.elements = [{ ...(copy.elements[0] as object), status: 42 }, ...copy.elements.slice(1)];
      else if ('accessToken' in copy) copy.accessToken = 42;
      else if ('isConfigured' in copy) copy.isConfigured = 'yes';
      else if ('sshFingerprint' in copy) copy.sshFingerprint = 42;
      else if ('validationChecks' in copy) copy.validationChecks = 'none';
      else copy.elements = 42;
      return { ...res, body: copy };
    }
    return { ...res, body: { unexpected: true } };
  }

  /**
   * Admin knobs: `{"expireAccessTokens": true}`, `{"revokeRefreshTokens": true}`,
   * `{"backupConfigured": false}` (forget the backup configuration) or `true` (back to the
   * default one). Answers `{backupConfigured}`.
   */
  admin(command: Record<string, unknown>): unknown {
    const { expireAccessTokens, revokeRefreshTokens, backupConfigured, ...rest } = command;
    if (Object.keys(rest).length)
      throw new Error(
        `unknown SDDC Manager admin command ${Object.keys(rest).join(', ')}; use expireAccessTokens, revokeRefreshTokens or backupConfigured`,
      );
    if (backupConfigured !== undefined && typeof backupConfigured !== 'boolean')
      throw new Error('backupConfigured must be true or false');
    if (expireAccessTokens === true) this.expireAccessTokens();
    if (revokeRefreshTokens === true) this.revokeRefreshTokens();
    if (backupConfigured === true) this.configuration = defaultBackupConfiguration(this.fqdn);
    if (backupConfigured === false) this.configuration = undefined;
    return { backupConfigured: this.isConfigured() };
  }

  /** Revokes every access token issued so far (refresh tokens stay valid). */

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
    return new SddcFault(
      401,
      'Unauthorized',
      message,
      'Get a new access token (PATCH /v1/tokens/access-token/refresh or POST /v1/tokens).',
    );
  }

  private verifyBearer(token: string): string {
    const [header, payload, signature] = token.split('.');
    if (!header || !payload || !signature) throw this.unauthorized('The access token is malformed.');
    const expected = createHmac('sha256', this.signingKey).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw this.unauthorized('The access token signature is invalid.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      exp: number;
      jti: string;
      sub: string;
    };
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
    // 201 "Created" (bindings `Tokens.create_token`); the VCF doc pages say 200.
    return {
      status: 201,
      body: { accessToken: this.issueAccessToken(body.username), refreshToken: { id: refreshId } },
    };
  }

  /**
   * The refresh-token id of a refresh or logout body: a JSON string (`"id"`), a bare id (PowerVCF)
   * or `{id}`; a body without one is answered 400.
   */
  private refreshIdOf(body: unknown): string {
    const id =
      typeof body === 'string'
        ? body.trim().replace(/^"|"$/g, '')
        : body && typeof body === 'object'
          ? (body as { id?: unknown }).id
          : undefined;
    if (typeof id === 'string' && id) return id;
    throw new SddcFault(
      400,
      'VALIDATION_FAILED',
      'Invalid parameter: the refresh token id is required.',
      'Send the refresh token id as a JSON string.',
    );
  }

  /**
   * `PATCH /v1/tokens/access-token/refresh` → 200 with the access token as a JSON string. An
   * unknown, revoked or expired refresh token answers 404 (the bindings declare 400/404/500 and
   * no 401 here; the errorCode is the simulator's).
   */
  private refresh(req: SimRequest): SimResponse {
    const id = this.refreshIdOf(req.body);
    const entry = this.refreshTokens.get(id);
    if (!entry || entry.expiresMs <= this.ctx.now()) {
      this.refreshTokens.delete(id);
      throw new SddcFault(
        404,
        'REFRESH_TOKEN_NOT_FOUND',
        'The refresh token is invalid or has expired.',
        'Log in again with POST /v1/tokens.',
      );
    }
    return { status: 200, body: this.issueAccessToken(entry.user) };
  }

  /**
   * `DELETE /v1/tokens/refresh-token` → 204 (bindings `invalidate_refresh_token`, no errors
   * declared): an unknown id is answered 204 too (the token is invalid either way).
   */
  private logout(req: SimRequest): SimResponse {
    const id = this.refreshIdOf(req.body);
    this.refreshTokens.delete(id);
    return { status: 204 };
  }

  // -------------------------------------------------------------------------------------------
  // Tasks

  private addTask(t: Pick<SimTask, 'kind' | 'type' | 'name' | 'steps' | 'durationMs'> & { startMs?: number }): SimTask {
    const { startMs, ...rest } = t;
    const start = startMs ?? this.ctx.now();
    const task: SimTask = {
      ...rest,
      id: randomUUID(),
      seq: ++this.seq,
      createdMs: start,
      startMs: start,
      retries: 0,
      unavailablePolls: 0,
    };
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
    for (const t of this.tasks.values())
      if (t.kind !== 'configuration' && this.taskState(t).status === 'IN_PROGRESS') return t;
    return undefined;
  }

  /** 400 `RESOURCE_LOCKED` while a backup/restore runs (the bindings declare only 400/500 for the starts). */
  private checkLocks(what: string): void {
    const holder = this.lockHolder();
    if (holder) {
      throw new SddcFault(
        400,
        'RESOURCE_LOCKED',
        `Unable to ${what}: the resources are locked by task ${holder.name} (${holder.id}).`,
        'Wait for the running task to finish and try again.',
        [],
        {
          context: { lockedBy: holder.id },
          args: [holder.id],
        },
      );
    }
  }

  private taskError(t: SimTask, message: string) {
    const code =
      t.kind === 'backup'
        ? 'SDDCMANAGER_BACKUP_FAILED'
        : t.kind === 'restore'
          ? 'SDDCMANAGER_RESTORE_FAILED'
          : 'BACKUP_CONFIGURATION_FAILED';
    return {
      ...sddcErrorBody(code, message, {
        remediationMessage: 'Fix the cause, then retry the task (PATCH /v1/tasks/{id}).',
        remediationUrl: DOCS_URL,
        causes: [{ type: 'com.vmware.evo.sddc.orchestrator.exceptions.OrchProcessingException', message }],
        context: { taskId: t.id },
        args: [t.id],
      }),
      label:
        t.kind === 'restore' ? 'Restore failed' : t.kind === 'backup' ? 'Backup failed' : 'Backup configuration failed',
    };
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
      if (t.kind === 'backup' && i === k - 1 && st === 'SUCCESSFUL' && t.backupFile)
        description = `Backup file ${t.backupFile} transferred`;
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
        subTasks: (step.children ?? []).map((child, j, all) => this.childSubTask(child, st, j, all.length, times)),
        ...(st === 'FAILED'
          ? { documentationLink: { url: DOCS_URL, label: 'Troubleshooting backup and restore' } }
          : {}),
      };
    });
  }

  /** A nested subtask: the parent's status, spread over the children (first running, last failing). */
  private childSubTask(
    step: Step,
    parent: TaskStatus,
    j: number,
    n: number,
    times: { creationTimestamp?: string; completionTimestamp?: string },
  ) {
    let st: TaskStatus = parent;
    if (parent === 'IN_PROGRESS' || parent === 'CANCELLED') st = j === 0 ? parent : 'PENDING';
    else if (parent === 'FAILED') st = j === n - 1 ? 'FAILED' : 'SUCCESSFUL';
    const started = st !== 'PENDING';
    const done = started && st !== 'IN_PROGRESS';
    return {
      name: step.name,
      description: step.description,
      type: step.type,
      status: st,
      ...(started && times.creationTimestamp ? { creationTimestamp: times.creationTimestamp } : {}),
      ...(done && times.completionTimestamp ? { completionTimestamp: times.completionTimestamp } : {}),
      errors: [],
      resources: this.resources(),
      stages: [],
      subTasks: [],
    };
  }

  /** The full Task (bindings `model_client.Task`). */
  renderTask(t: SimTask, mode: 'create' | 'read' = 'read') {
    const { status, endMs } = this.taskState(t);
    if (t.kind === 'backup' && status === 'SUCCESSFUL')
      t.backupFile ??= backupFileName(this.fqdn, t.startMs + t.durationMs);
    const resolutionStatus =
      status === 'FAILED' ? 'UNRESOLVED' : status === 'SUCCESSFUL' && t.retries > 0 ? 'RESOLVED' : undefined;
    return {
      id: t.id,
      name: t.name,
      localizableDescriptionPack: {
        component: 'com.vmware.vcf.backuprestore',
        messageKey: `${t.type.toLowerCase()}.task.name`,
        arguments: [this.fqdn],
        message: t.name,
        bundle: 'com.vmware.vcf.backuprestore.messages',
      },
      type: t.type,
      status: this.renderStatus(t, status, mode),
      creationTimestamp: new Date(t.createdMs).toISOString(),
      ...(endMs !== undefined ? { completionTimestamp: new Date(endMs).toISOString() } : {}),
      subTasks: this.subTasks(t, status, endMs),
      errors: status === 'FAILED' && t.fail ? [this.taskError(t, t.fail)] : [],
      resources: this.resources(),
      ...(resolutionStatus ? { resolutionStatus } : {}),
      isCancellable: t.kind === 'backup' && status === 'IN_PROGRESS',
      isRetryable: status === 'FAILED',
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
    return isBackupConfigured(this.configuration);
  }

  /** PUT answers 200 "Ok", PATCH 202 "Accepted", both with a Task (bindings; VCF 5.2+ pages list 202 for both). */
  private configure(req: SimRequest, replace: boolean): SimResponse {
    const next = proposedBackupConfiguration(req.body, this.configuration, replace);
    checkBackupConfiguration(next);
    const task = this.addTask({
      kind: 'configuration',
      type: 'BACKUP_CONFIGURATION',
      name: replace ? 'Configure backup settings' : 'Update backup settings',
      steps: CONFIGURATION_STEPS,
      durationMs: Math.min(1000, Math.max(1, (this.ctx.jobSeconds * 1000) / 5)),
    });
    if (!task.fail)
      this.configuration = { ...next, backupLocations: next.backupLocations.map((l) => ({ port: 22, ...l })) };
    return { status: replace ? 200 : 202, body: this.renderTask(task, 'create') };
  }

  // -------------------------------------------------------------------------------------------
  // Backup and restore

  private startBackup(req: SimRequest): SimResponse {
    const parsed = BackupSpec.safeParse(req.body);
    if (!parsed.success)
      throw new SddcFault(
        400,
        'VALIDATION_FAILED',
        zodMessage(parsed.error),
        'Send {"elements":[{"resourceType":"SDDC_MANAGER"}]}.',
      );
    const unsupported = parsed.data.elements.find((e) => e.resourceType !== 'SDDC_MANAGER');
    if (unsupported)
      throw new SddcFault(
        400,
        'VALIDATION_FAILED',
        `Invalid parameter elements.resourceType: ${unsupported.resourceType} backups are not started through this API.`,
        'Use resourceType SDDC_MANAGER.',
      );
    if (!this.isConfigured()) {
      throw new SddcFault(
        400,
        'BACKUP_NOT_CONFIGURED',
        'Backup is not configured: no external SFTP backup location and encryption passphrase are set.',
        'Configure the backup location and passphrase (PUT /v1/system/backup-configuration), then start the backup again.',
        [{ type: 'com.vmware.vcf.backup.BackupNotConfiguredException', message: 'Backup configuration is missing' }],
      );
    }
    this.checkLocks('start the backup');
    const task = this.addTask({
      kind: 'backup',
      type: 'SDDCMANAGER_BACKUP',
      name: 'SDDC Manager Backup',
      steps: BACKUP_STEPS,
      durationMs: Math.max(1, this.ctx.jobSeconds * 1000),
    });
    this.ctx.recordJob({
      product: 'sddc-manager',
      appliance: this.name,
      kind: 'backup',
      id: task.id,
      label: task.name,
    });
    const full = this.renderTask(task, 'create');
    // BackupTask (bindings `model_client.BackupTask`): {id, name, status, resources, errors}.
    return {
      status: 202,
      body: { id: full.id, name: full.name, status: full.status, resources: full.resources, errors: full.errors },
    };
  }

  private startRestore(req: SimRequest): SimResponse {
    const parsed = RestoreSpec.safeParse(req.body);
    if (!parsed.success)
      throw new SddcFault(
        400,
        'VALIDATION_FAILED',
        zodMessage(parsed.error),
        'Send backupFile, elements and encryption.passphrase.',
      );
    this.checkLocks('start the restore');
    const task = this.addTask({
      kind: 'restore',
      type: 'SDDCMANAGER_RESTORE',
      name: 'SDDC Manager Restore',
      steps: RESTORE_STEPS,
      durationMs: Math.max(1, this.ctx.jobSeconds * 1000),
    });
    task.unavailablePolls = 1;
    this.ctx.recordJob({
      product: 'sddc-manager',
      appliance: this.name,
      kind: 'restore',
      id: task.id,
      label: task.name,
    });
    return { status: 202, body: this.renderTask(task, 'create') };
  }

  /** Unknown ids answer 400: `get_restore_task` declares 400/500 and no 404 (bindings). */
  private getRestoreTask(req: SimRequest): SimResponse {
    const t = req.params.id ? this.tasks.get(req.params.id) : undefined;
    if (t?.kind !== 'restore')
      throw new SddcFault(
        400,
        'TASK_NOT_FOUND',
        `Restore task not found: ${req.params.id}`,
        'Check the restore task id.',
      );
    if (t.unavailablePolls > 0) {
      t.unavailablePolls--;
      return {
        status: 503,
        body: sddcErrorBody('SERVICE_UNAVAILABLE', 'SDDC Manager services are restarting.', {
          remediationMessage: 'Poll again in a minute.',
        }),
      };
    }
    return { status: 200, body: this.renderTask(t) };
  }

  /**
   * `PATCH /v1/tasks/{id}` → 200, no body (bindings `retry_task`: "Task was retried
   * successfully."); 409 "Only a failed Task can be retried". The task runs again from its first
   * subtask.
   */
  private retryTask(req: SimRequest): SimResponse {
    const t = this.task(req.params.id);
    const { status } = this.taskState(t);
    if (status !== 'FAILED')
      throw new SddcFault(
        409,
        'TASK_NOT_RETRYABLE',
        `Task can not be retried. Only a failed Task can be retried. Task ${t.id} is ${status}.`,
        'Retry only failed tasks.',
      );
    if (t.kind !== 'configuration') this.checkLocks('retry the task');
    t.startMs = this.ctx.now();
    t.retries++;
    t.fail = this.nextJobFails;
    this.nextJobFails = undefined;
    return { status: 200 };
  }

  /** `DELETE /v1/tasks/{id}` → 200, no body; 409 "Only a IN_PROGRESS task can be cancelled" (bindings `cancel_task`). */
  private cancelTask(req: SimRequest): SimResponse {
    const t = this.task(req.params.id);
    if (!this.renderTask(t).isCancellable)
      throw new SddcFault(
        409,
        'TASK_NOT_CANCELLABLE',
        `Task can not be cancelled. Only a IN_PROGRESS task can be cancelled. Task ${t.id} is ${this.taskState(t).status}.`,
        'Only a running task whose isCancellable is true can be cancelled.',
      );
    t.cancelledMs = this.ctx.now();
    return { status: 200 };
  }

  /** `GET /v1/tasks` with the bindings' filters (see the file comment) → 200 PageOfTask. */
  private listTasks(req: SimRequest): SimResponse {
    const rows = [...this.tasks.values()].map((t) => ({ t, ...this.taskState(t) }));
    const { page, pageMetadata } = selectTasks(rows, parseTaskListQuery(req.query), this.resources());
    return { status: 200, body: { elements: page.map(({ t }) => this.renderTask(t)), pageMetadata } };
  }

  // -------------------------------------------------------------------------------------------
  // Routes

  private route(
    method: string,
    pattern: string,
    operation: string,
    auth: 'none' | 'bearer' | 'bearerOrBasic',
    handler: (req: SimRequest) => SimResponse,
  ): SimRoute {
    return {
      method,
      pattern,
      operation,
      handler: (req) => {
        try {
          if (auth !== 'none') this.authenticate(req, auth === 'bearerOrBasic');
          return handler(req);
        } catch (err) {
          if (err instanceof SddcFault)
            return { status: err.status, body: sddcErrorBody(err.errorCode, err.message, err.extras) };
          throw err;
        }
      },
    };
  }

  routes(): SimRoute[] {
    return [
      this.route('POST', '/v1/tokens', 'tokenCreate', 'none', (req) => this.login(req)),
      this.route('PATCH', '/v1/tokens/access-token/refresh', 'tokenRefresh', 'none', (req) => this.refresh(req)),
      this.route('DELETE', '/v1/tokens/refresh-token', 'tokenLogout', 'none', (req) => this.logout(req)),
      this.route('GET', '/v1/system/backup-configuration', 'getBackupConfiguration', 'bearer', () => ({
        status: 200,
        body: renderBackupConfiguration(this.configuration),
      })),
      this.route('PUT', '/v1/system/backup-configuration', 'setBackupConfiguration', 'bearer', (req) =>
        this.configure(req, true),
      ),
      this.route('PATCH', '/v1/system/backup-configuration', 'updateBackupConfiguration', 'bearer', (req) =>
        this.configure(req, false),
      ),
      this.route(
        'POST',
        '/v1/system/backup-configuration/validations',
        'validateBackupConfiguration',
        'bearer',
        (req) => ({
          status: 202,
          body: validateBackupConfiguration(proposedBackupConfiguration(req.body, this.configuration, false)),
        }),
      ),
      this.route('GET', '/v1/system/backup-configuration/backup-locations', 'getBackupLocation', 'bearer', (req) => ({
        status: 200,
        body: lookupBackupLocation(req.query),
      })),
      this.route('POST', '/v1/backups/tasks', 'startBackup', 'bearer', (req) => this.startBackup(req)),
      this.route('GET', '/v1/tasks', 'listTasks', 'bearer', (req) => this.listTasks(req)),
      this.route('GET', '/v1/tasks/:id', 'getTask', 'bearer', (req) => ({
        status: 200,
        body: this.renderTask(this.task(req.params.id)),
      })),
      this.route('PATCH', '/v1/tasks/:id', 'retryTask', 'bearer', (req) => this.retryTask(req)),
      this.route('DELETE', '/v1/tasks/:id', 'cancelTask', 'bearer', (req) => this.cancelTask(req)),
      this.route('POST', '/v1/restores/tasks', 'startRestore', 'bearerOrBasic', (req) => this.startRestore(req)),
      this.route('GET', '/v1/restores/tasks/:id', 'getRestoreTask', 'bearerOrBasic', (req) => this.getRestoreTask(req)),
    ];
  }
}

/** The `sddc-manager` factory of the simulator; pass `opts` through a custom factory (e.g. `{ backupConfigured: false }`). */
export function createSddcManagerAppliance(
  index: number,
  ctx: SimulatorContext,
  opts: SddcManagerSimulatorOptions = {},
): SddcManagerAppliance {
  return new SddcManagerAppliance(index, ctx, opts);
}
