/**
 * A simulated SDDC Manager: JWT access tokens with refresh and logout, the backup configuration
 * (with validation and the SFTP fingerprint lookup), backup and restore tasks that progress over
 * `jobSeconds`, resource locks, the generic task API (filtered list, get, retry, cancel), and the
 * status spellings real appliances send. This file holds the appliance (the backup
 * configuration it keeps, the backup and restore starts, the routes) and composes the rest:
 * `tokens.ts` the authentication, `task-board.ts` the tasks (progress, locks, rendering, the
 * generic task API), `tasks.ts` the task steps and the `GET /v1/tasks` query, `errors.ts` the
 * Error model answers, `backup-configuration.ts` the configuration, validation and fingerprint
 * lookup.
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
import { randomBytes, randomUUID } from 'node:crypto';
import {
  type SimAppliance,
  type SimRequest,
  type SimResponse,
  type SimRoute,
  type SimulatorContext,
  route,
} from '../types';
import { BackupSpec, RestoreSpec } from '../../sddc-manager/schemas';
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
import { CODE_STATUS, SDDC_FAULTS, STATUS_CODE, SddcFault, sddcErrorBody, zodMessage } from './errors';
import { TaskBoard } from './task-board';
import { BACKUP_STEPS, CONFIGURATION_STEPS, RESTORE_STEPS, type SimTask } from './tasks';
import { SddcTokens } from './tokens';

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

export class SddcManagerAppliance implements SimAppliance {
  readonly product = 'sddc-manager' as const;
  readonly name: string;
  readonly username = 'administrator@vsphere.local';
  readonly password: string;
  readonly fqdn: string;
  private readonly ctx: SimulatorContext;
  private readonly tokens: SddcTokens;
  private readonly board: TaskBoard;
  /** Every task of this appliance, by id. */
  readonly tasks: Map<string, SimTask>;
  private configuration?: StoredConfiguration;

  constructor(index: number, ctx: SimulatorContext, opts: SddcManagerSimulatorOptions = {}) {
    this.name = `sddc-${index}`;
    this.fqdn = `sddc-${index}.vcf.sim.local`;
    this.ctx = ctx;
    this.password = `Sim-${randomBytes(6).toString('hex')}!${index}`;
    this.tokens = new SddcTokens(ctx, this);
    this.board = new TaskBoard(ctx, this.fqdn, randomUUID());
    this.tasks = this.board.tasks;
    if (opts.backupConfigured ?? true) this.configuration = defaultBackupConfiguration(this.fqdn);
    // An automatic backup from before (takeBackupOnStateChange): clients must filter GET /v1/tasks.
    const created = ctx.now() - 24 * 3600 * 1000;
    this.board.add({
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
    this.board.nextJobFails = message;
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
    this.tokens.expireAccessTokens();
  }

  /** Revokes every refresh token: the next refresh fails and the client must log in. */
  revokeRefreshTokens(): void {
    this.tokens.revokeRefreshTokens();
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
    const task = this.board.add({
      kind: 'configuration',
      type: 'BACKUP_CONFIGURATION',
      name: replace ? 'Configure backup settings' : 'Update backup settings',
      steps: CONFIGURATION_STEPS,
      durationMs: Math.min(1000, Math.max(1, (this.ctx.jobSeconds * 1000) / 5)),
    });
    if (!task.fail)
      this.configuration = { ...next, backupLocations: next.backupLocations.map((l) => ({ port: 22, ...l })) };
    return { status: replace ? 200 : 202, body: this.board.render(task, 'create') };
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
    this.board.checkLocks('start the backup');
    const task = this.board.add({
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
    const full = this.board.render(task, 'create');
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
    this.board.checkLocks('start the restore');
    const task = this.board.add({
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
    return { status: 202, body: this.board.render(task, 'create') };
  }

  /** Unknown ids answer 400: `get_restore_task` declares 400/500 and no 404 (bindings). */
  private getRestoreTask(req: SimRequest): SimResponse {
    const t = req.params.id ? this.board.tasks.get(req.params.id) : undefined;
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
    return { status: 200, body: this.board.render(t) };
  }

  // -------------------------------------------------------------------------------------------
  // Routes

  /** A route behind the token check `auth` asks for; SddcFault answers the Error model. */
  private sddcRoute(
    method: string,
    pattern: string,
    operation: string,
    auth: 'none' | 'bearer' | 'bearerOrBasic',
    handler: (req: SimRequest) => SimResponse,
  ): SimRoute {
    return route(method, pattern, operation, SDDC_FAULTS, (req) => {
      if (auth !== 'none') this.tokens.authenticate(req, auth === 'bearerOrBasic');
      return handler(req);
    });
  }

  routes(): SimRoute[] {
    return [
      this.sddcRoute('POST', '/v1/tokens', 'tokenCreate', 'none', (req) => this.tokens.login(req)),
      this.sddcRoute('PATCH', '/v1/tokens/access-token/refresh', 'tokenRefresh', 'none', (req) =>
        this.tokens.refresh(req),
      ),
      this.sddcRoute('DELETE', '/v1/tokens/refresh-token', 'tokenLogout', 'none', (req) => this.tokens.logout(req)),
      this.sddcRoute('GET', '/v1/system/backup-configuration', 'getBackupConfiguration', 'bearer', () => ({
        status: 200,
        body: renderBackupConfiguration(this.configuration),
      })),
      this.sddcRoute('PUT', '/v1/system/backup-configuration', 'setBackupConfiguration', 'bearer', (req) =>
        this.configure(req, true),
      ),
      this.sddcRoute('PATCH', '/v1/system/backup-configuration', 'updateBackupConfiguration', 'bearer', (req) =>
        this.configure(req, false),
      ),
      this.sddcRoute(
        'POST',
        '/v1/system/backup-configuration/validations',
        'validateBackupConfiguration',
        'bearer',
        (req) => ({
          status: 202,
          body: validateBackupConfiguration(proposedBackupConfiguration(req.body, this.configuration, false)),
        }),
      ),
      this.sddcRoute(
        'GET',
        '/v1/system/backup-configuration/backup-locations',
        'getBackupLocation',
        'bearer',
        (req) => ({
          status: 200,
          body: lookupBackupLocation(req.query),
        }),
      ),
      this.sddcRoute('POST', '/v1/backups/tasks', 'startBackup', 'bearer', (req) => this.startBackup(req)),
      this.sddcRoute('GET', '/v1/tasks', 'listTasks', 'bearer', (req) => this.board.list(req)),
      this.sddcRoute('GET', '/v1/tasks/:id', 'getTask', 'bearer', (req) => ({
        status: 200,
        body: this.board.render(this.board.get(req.params.id)),
      })),
      this.sddcRoute('PATCH', '/v1/tasks/:id', 'retryTask', 'bearer', (req) => this.board.retry(req)),
      this.sddcRoute('DELETE', '/v1/tasks/:id', 'cancelTask', 'bearer', (req) => this.board.cancel(req)),
      this.sddcRoute('POST', '/v1/restores/tasks', 'startRestore', 'bearerOrBasic', (req) => this.startRestore(req)),
      this.sddcRoute('GET', '/v1/restores/tasks/:id', 'getRestoreTask', 'bearerOrBasic', (req) =>
        this.getRestoreTask(req),
      ),
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
