import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { ResourceBusy, WrongState } from '../core/errors';
import { type HttpRequest, HttpTransport } from '../core/http';
import { parseSddcError } from './errors';
import { type SddcManagerCredentials, SddcManagerTokens } from './tokens';
import {
  BackupConfiguration,
  type BackupConfigurationSpec,
  BackupLocation,
  BackupTask,
  type PageMetadata,
  type RestoreSpec,
  Task,
  TaskList,
  type TaskStatus,
  Validation,
  normaliseTaskStatus,
} from './schemas';

export interface SddcManagerClientOptions {
  /** Base URL, e.g. `https://sfo-vcf01.rainpole.io`. */
  url: string;
  /** Name used in errors. Default: the URL. */
  appliance?: string;
  /** Called at each login (and for each Basic-auth restore call); resolve secrets here, never earlier. */
  credentials: () => Promise<SddcManagerCredentials>;
  dispatcher?: Dispatcher;
  /** Per-request timeout. Default 60 000 ms. */
  timeoutMs?: number;
  /**
   * How long one login or token refresh (shared by concurrent calls) may take.
   * @default LOGIN_TIMEOUT_REQUESTS × timeoutMs
   */
  loginTimeoutMs?: number;
  /** Refresh the access token when it expires within this many seconds. Default 120 (as PowerVCF). */
  refreshBeforeExpirySeconds?: number;
  /**
   * How to authenticate the restore calls: `bearer` (a token, as VMware's instance-recovery
   * module does for `admin@local`) or `basic` (HTTP Basic with the credentials, as PowerVCF does
   * with the appliance's `admin` basic-auth user). Default `bearer`.
   */
  restoreAuth?: 'bearer' | 'basic';
}

/**
 * A task with its status read: `status` is the normalised value (compare this one), `rawStatus`
 * the string the appliance sent. Subtask and stage statuses stay raw (informational).
 */
export type SddcTask = Task & { status: TaskStatus; rawStatus: string };
export type SddcBackupTask = BackupTask & { status: TaskStatus; rawStatus: string };

/**
 * Filters of `GET /v1/tasks`, sent as the query parameters the bindings declare
 * (`Tasks.get_tasks`: taskType, taskStatus, resourceId, resourceType, completedAfter, taskName,
 * limit, pageNumber, pageSize, orderBy, orderDirection). `type` and `status` are also applied
 * here, so an appliance that ignores them cannot widen the answer.
 */
export interface TaskFilter {
  /** Task `type`, e.g. `SDDCMANAGER_BACKUP` (exact match); sent as `taskType`. */
  type?: string;
  /** Normalised status; sent as `taskStatus`. */
  status?: TaskStatus;
  /** Tasks touching this resource id (`resourceId`). */
  resourceId?: string;
  /** Tasks touching resources of this type, e.g. `SDDC_MANAGER` (`resourceType`). */
  resourceType?: string;
  /** Tasks completed after this time, ms since the epoch (`completedAfter`, "time is in milliseconds"). */
  completedAfterMs?: number;
  /** Tasks whose name contains this text (`taskName`). */
  taskName?: string;
  /** At most this many elements (`limit`). */
  limit?: number;
  /** Page number (`pageNumber`) [uncertain: 0- or 1-based; the bindings do not say]. */
  pageNumber?: number;
  /** Page size (`pageSize`), at most 100 per the bindings. */
  pageSize?: number;
  /** Sort key (`orderBy`), e.g. `creationTimestamp` [uncertain: value set undeclared]. */
  orderBy?: string;
  /** `ASC` or `DESC` (`orderDirection`) [uncertain: value set undeclared]. */
  orderDirection?: 'ASC' | 'DESC';
}

/** One page of `GET /v1/tasks`: the tasks that passed the filter, and the appliance's paging metadata. */
export interface SddcTaskPage {
  tasks: SddcTask[];
  pageMetadata?: PageMetadata;
}

type Call = Omit<HttpRequest, 'headers'>;

/**
 * Typed client for SDDC Manager backup/restore and tasks. Logs in lazily (`POST /v1/tokens`),
 * refreshes the access token before it expires (and, failing that, logs in again), and answers
 * a 401 by re-authenticating once and repeating the call once. Concurrent calls share one
 * login/refresh (see {@link SddcManagerTokens}). Method names are the operation names in errors,
 * simulator counters and faults.
 */
export class SddcManagerClient {
  readonly http: HttpTransport;
  private readonly tokens: SddcManagerTokens;
  private readonly restoreAuth: 'bearer' | 'basic';

  constructor(opts: SddcManagerClientOptions) {
    this.http = new HttpTransport({
      product: 'sddc-manager',
      baseUrl: opts.url,
      appliance: opts.appliance,
      dispatcher: opts.dispatcher,
      timeoutMs: opts.timeoutMs,
      parseError: parseSddcError,
    });
    this.tokens = new SddcManagerTokens(this.http, opts);
    this.restoreAuth = opts.restoreAuth ?? 'bearer';
  }

  // -------------------------------------------------------------------------------------------
  // Authentication

  /** Gets a token pair now (otherwise the first call does). The tokens stay private. */
  async login(signal?: AbortSignal): Promise<void> {
    await this.tokens.session.login(signal);
  }

  /**
   * One call with `Authorization`; with a bearer token (refreshed first when about to expire),
   * a 401 answer re-authenticates (refresh, else login; or another call's renewal) once and
   * repeats the call once. A second 401 is an {@link AuthenticationFailed}.
   */
  private async call<S extends z.ZodType>(
    req: Call,
    schema: S,
    auth: 'bearer' | 'basic' = 'bearer',
  ): Promise<z.output<S>> {
    if (auth === 'basic') {
      const { data } = await this.http.sendParsed(
        { ...req, headers: { authorization: await this.tokens.basicAuthorization() } },
        schema,
      );
      return data;
    }
    return this.tokens.session.run(async (tokens) => {
      const { data } = await this.http.sendParsed(
        { ...req, headers: { authorization: `Bearer ${tokens.access}` } },
        schema,
      );
      return data;
    }, req.signal);
  }

  private readStatus<T extends { status: string }>(
    task: T,
    operation: string,
  ): T & { status: TaskStatus; rawStatus: string } {
    const status = normaliseTaskStatus(task.status, this.http.context(operation));
    return { ...task, status, rawStatus: task.status };
  }

  // -------------------------------------------------------------------------------------------
  // Backup configuration

  /** `GET /v1/system/backup-configuration`. */
  getBackupConfiguration(signal?: AbortSignal): Promise<BackupConfiguration> {
    return this.call(
      { operation: 'getBackupConfiguration', method: 'GET', path: '/v1/system/backup-configuration', signal },
      BackupConfiguration,
    );
  }

  /**
   * `PUT /v1/system/backup-configuration` (set): answers a Task. The bindings
   * (`System.BackupConfiguration.set_backup_configuration`) declare 200 "Ok"; VCF 5.2+ doc pages
   * list 202. Any 2xx with a Task is accepted.
   */
  async setBackupConfiguration(spec: BackupConfigurationSpec, signal?: AbortSignal): Promise<SddcTask> {
    const task = await this.call(
      {
        operation: 'setBackupConfiguration',
        method: 'PUT',
        path: '/v1/system/backup-configuration',
        json: spec,
        signal,
      },
      Task,
    );
    return this.readStatus(task, 'setBackupConfiguration');
  }

  /** `PATCH /v1/system/backup-configuration` (update only what is given): answers 202 "Accepted" with a Task (bindings). */
  async updateBackupConfiguration(spec: BackupConfigurationSpec, signal?: AbortSignal): Promise<SddcTask> {
    const task = await this.call(
      {
        operation: 'updateBackupConfiguration',
        method: 'PATCH',
        path: '/v1/system/backup-configuration',
        json: spec,
        signal,
      },
      Task,
    );
    return this.readStatus(task, 'updateBackupConfiguration');
  }

  /**
   * `POST /v1/system/backup-configuration/validations`: checks a configuration spec (SFTP
   * reachability, SSH fingerprint, directory, passphrase) without applying it; 202 "Accepted"
   * with a `Validation` (bindings). The bindings declare no operation to read a validation back
   * by id, so the answer is all there is [uncertain: whether a real appliance answers a finished
   * validation or one still IN_PROGRESS].
   */
  validateBackupConfiguration(spec: BackupConfigurationSpec, signal?: AbortSignal): Promise<Validation> {
    return this.call(
      {
        operation: 'validateBackupConfiguration',
        method: 'POST',
        path: '/v1/system/backup-configuration/validations',
        json: spec,
        signal,
      },
      Validation,
    );
  }

  /**
   * `GET /v1/system/backup-configuration/backup-locations?serverIp=&port=`: what the appliance
   * sees at an SFTP server, notably its `sshFingerprint` (bindings
   * `BackupLocations.get_backup_location`, 200 "Ok"; `port` is a string query parameter there).
   * Use it to fill `sshFingerprint` in a backup configuration.
   */
  getBackupLocation(location: { server: string; port?: number }, signal?: AbortSignal): Promise<BackupLocation> {
    return this.call(
      {
        operation: 'getBackupLocation',
        method: 'GET',
        path: '/v1/system/backup-configuration/backup-locations',
        query: { serverIp: location.server, port: location.port },
        signal,
      },
      BackupLocation,
    );
  }

  // -------------------------------------------------------------------------------------------
  // Backup

  /**
   * `POST /v1/backups/tasks` for SDDC Manager: answers a BackupTask (202; 200 in some 4.x docs).
   * Follow it with {@link getTask} (there is no `GET /v1/backups/tasks/{id}`).
   */
  async startBackup(signal?: AbortSignal): Promise<SddcBackupTask> {
    const task = await this.call(
      {
        operation: 'startBackup',
        method: 'POST',
        path: '/v1/backups/tasks',
        json: { elements: [{ resourceType: 'SDDC_MANAGER' }] },
        signal,
      },
      BackupTask,
    );
    return this.readStatus(task, 'startBackup');
  }

  // -------------------------------------------------------------------------------------------
  // Tasks

  /** `GET /v1/tasks/{id}`; NotFound for an unknown id (404 "Task not found", bindings). */
  async getTask(id: string, signal?: AbortSignal): Promise<SddcTask> {
    const task = await this.call(
      { operation: 'getTask', method: 'GET', path: `/v1/tasks/${encodeURIComponent(id)}`, signal },
      Task,
    );
    return this.readStatus(task, 'getTask');
  }

  /**
   * `GET /v1/tasks`, filtered (see {@link TaskFilter}); the tasks of one page. Only the tasks of
   * the requested type have their status read, so an odd status on an unrelated task cannot fail
   * the listing.
   */
  async listTasks(filter: TaskFilter = {}, signal?: AbortSignal): Promise<SddcTask[]> {
    return (await this.listTasksPage(filter, signal)).tasks;
  }

  /** {@link listTasks} with the answer's `pageMetadata`. */
  async listTasksPage(filter: TaskFilter = {}, signal?: AbortSignal): Promise<SddcTaskPage> {
    const query = {
      taskType: filter.type,
      taskStatus: filter.status,
      resourceId: filter.resourceId,
      resourceType: filter.resourceType,
      completedAfter: filter.completedAfterMs,
      taskName: filter.taskName,
      limit: filter.limit,
      pageNumber: filter.pageNumber,
      pageSize: filter.pageSize,
      orderBy: filter.orderBy,
      orderDirection: filter.orderDirection,
    };
    const list = await this.call({ operation: 'listTasks', method: 'GET', path: '/v1/tasks', query, signal }, TaskList);
    const tasks = (list.elements ?? [])
      .filter((t) => filter.type === undefined || t.type === filter.type)
      .map((t) => this.readStatus(t, 'listTasks'))
      .filter((t) => filter.status === undefined || t.status === filter.status);
    return { tasks, ...(list.pageMetadata ? { pageMetadata: list.pageMetadata } : {}) };
  }

  /**
   * A 409 from retry or cancel is the bindings' "Task can not be retried/cancelled", a state
   * refusal rather than a busy appliance: it becomes {@link WrongState} (not retried). Other
   * errors are returned as they are.
   */
  private refusal(err: unknown, operation: 'retryTask' | 'cancelTask', id: string): unknown {
    if (!(err instanceof ResourceBusy) || err.httpStatus !== 409) return err;
    const retry = operation === 'retryTask';
    return new WrongState(`task ${id} cannot be ${retry ? 'retried' : 'cancelled'} in its current state`, {
      ...this.http.context(operation),
      httpStatus: err.httpStatus,
      vmwareCode: err.vmwareCode,
      messages: err.messages,
      remediation: retry
        ? 'only a FAILED task can be retried'
        : 'only an IN_PROGRESS task whose isCancellable is true can be cancelled',
      cause: err,
    });
  }

  /**
   * `PATCH /v1/tasks/{id}` (no body): retries a FAILED task. The bindings (`Tasks.retry_task`)
   * declare 200 "Task was retried successfully." with no body, 404 unknown task, 409 "Only a
   * failed Task can be retried" (→ {@link WrongState}). The task is read back afterwards; a
   * Task body, should a release send one, is used instead.
   */
  async retryTask(id: string, signal?: AbortSignal): Promise<SddcTask> {
    const path = `/v1/tasks/${encodeURIComponent(id)}`;
    let body: unknown;
    try {
      body = await this.call({ operation: 'retryTask', method: 'PATCH', path, signal }, z.unknown());
    } catch (err) {
      throw this.refusal(err, 'retryTask', id);
    }
    if (body === undefined || body === null || typeof body === 'string') return this.getTask(id, signal);
    return this.readStatus(this.http.parse(Task, body, 'retryTask'), 'retryTask');
  }

  /**
   * `DELETE /v1/tasks/{id}`: cancels a task whose `isCancellable` is true. Bindings
   * (`Tasks.cancel_task`): 200 "Task was cancelled successfully.", 404 unknown task
   * ({@link NotFound}), 409 "Only a IN_PROGRESS task can be cancelled" ({@link WrongState}).
   */
  async cancelTask(id: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.call(
        { operation: 'cancelTask', method: 'DELETE', path: `/v1/tasks/${encodeURIComponent(id)}`, signal },
        z.unknown(),
      );
    } catch (err) {
      throw this.refusal(err, 'cancelTask', id);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Restore (authenticated per `restoreAuth`)

  /** `POST /v1/restores/tasks` → 202 "Accepted" Task (bindings `Restores.Tasks.start_restore`; errors 400, 500). */
  async startRestore(spec: RestoreSpec, signal?: AbortSignal): Promise<SddcTask> {
    const task = await this.call(
      { operation: 'startRestore', method: 'POST', path: '/v1/restores/tasks', json: spec, signal },
      Task,
      this.restoreAuth,
    );
    return this.readStatus(task, 'startRestore');
  }

  /**
   * `GET /v1/restores/tasks/{id}` → 200 Task. The bindings (`get_restore_task`) declare only 400
   * and 500 as errors (no 404), so an unknown id is a 400: read its `errorCode`. Expect 503s and
   * lost connections while services restart (not declared, but a restarting appliance answers so).
   */
  async getRestoreTask(id: string, signal?: AbortSignal): Promise<SddcTask> {
    const task = await this.call(
      { operation: 'getRestoreTask', method: 'GET', path: `/v1/restores/tasks/${encodeURIComponent(id)}`, signal },
      Task,
      this.restoreAuth,
    );
    return this.readStatus(task, 'getRestoreTask');
  }

  // -------------------------------------------------------------------------------------------
  // Logout

  /**
   * `DELETE /v1/tokens/refresh-token` with the refresh-token id as a JSON string: invalidates
   * the refresh token (bindings `Tokens.RefreshToken.invalidate_refresh_token`, 204 "No
   * content", no errors declared) and forgets the tokens, so the next call logs in again. Sent
   * without `Authorization`, like the refresh it revokes [uncertain: whether an appliance wants
   * a bearer token here; a 401 answer from a real one would settle it]. A no-op before login.
   */
  async logout(signal?: AbortSignal): Promise<void> {
    const refreshId = this.tokens.session.current?.value.refreshId;
    this.tokens.session.clear();
    if (!refreshId) return;
    await this.http.send({
      operation: 'tokenLogout',
      method: 'DELETE',
      path: '/v1/tokens/refresh-token',
      json: refreshId,
      signal,
    });
  }
}
