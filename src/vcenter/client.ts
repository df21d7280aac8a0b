import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { NotFound, UnknownRemoteState } from '../core/errors';
import { type HttpRequest, HttpTransport } from '../core/http';
import { SessionCore } from '../core/http-session';
import { parseVcenterError } from './errors';
import type { Secret } from '../core/secrets';
import {
  type ArchiveFilterSpec,
  ArchiveInfo,
  ArchiveSummary,
  BackupJobStatus,
  type BackupRequest,
  BackupRestoreProcessState,
  DetailsInfo,
  type LocationSpec,
  Part,
  PartSize,
  type ReconciliationCreateSpec,
  ReconciliationJobInfo,
  RecoveryInfo,
  type RestoreRequest,
  RestoreJobStatus,
  RestoreMetadata,
  type RestoreValidateRequest,
  ReturnResult,
  type ScheduleCreateSpec,
  ScheduleInfo,
  type ScheduleUpdateSpec,
  SessionInfo,
  SessionToken,
  restMap,
  restValue,
} from './schemas';

/** Which vCenter REST wire form to speak. */
export type VcenterApiForm = 'api' | 'rest';

export interface VcenterCredentials {
  username: string;
  password: Secret;
}

export interface VcenterClientOptions {
  /** Base URL, e.g. `https://vc01.example.com`. */
  url: string;
  /** Name used in errors. Default: the URL. */
  appliance?: string;
  /** Called at each login; resolve secrets here, never earlier. */
  credentials: () => Promise<VcenterCredentials>;
  /** `api` (7.0U2+), `rest` (legacy), or `auto`: try `/api`, fall back to `/rest` on 404. Default `auto`. */
  apiForm?: VcenterApiForm | 'auto';
  dispatcher?: Dispatcher;
  /**
   * Per-request timeout.
   * @default DEFAULT_REQUEST_TIMEOUT_MS (60 000 ms)
   */
  timeoutMs?: number;
  /**
   * How long one login (shared by concurrent calls) may take.
   * @default LOGIN_TIMEOUT_REQUESTS × timeoutMs
   */
  loginTimeoutMs?: number;
}

/** Where one operation goes in one wire form. */
interface FormTarget {
  path: string;
  query?: HttpRequest['query'];
  /** Overrides {@link FormCall.method} (legacy `PUT .../update/{id}`, `GET` with flattened query). */
  method?: Dispatcher.HttpMethod;
  /** This form's own body, sent as is; when the key is present the shared body is not used (even if undefined). */
  body?: unknown;
}

/** How one operation looks in each wire form. */
interface FormCall {
  operation: string;
  method: Dispatcher.HttpMethod;
  api: FormTarget;
  rest: FormTarget;
  /** Request body, wrapped in `{piece}`/`{spec}` for `/rest`. */
  body?: unknown;
  restWrap?: 'piece' | 'spec';
  signal?: AbortSignal;
}

/** The result schema, the same for both forms or one per form (maps: object vs key/value array). */
type ResultSchema<T> = z.ZodType<T> | { api: z.ZodType<T>; rest: z.ZodType<T> };

/** Operations that answer no body: `/api` 204, `/rest` 200 with nothing (never wrapped in `{value}`). */
const NO_CONTENT = z.undefined();

/** A vAPI map in both forms: `/api` JSON object, `/rest` `[{key, value}]`; both become a record. */
function vapiMap<T extends z.ZodType>(
  inner: T,
): { api: z.ZodType<Record<string, z.output<T>>>; rest: z.ZodType<Record<string, z.output<T>>> } {
  return { api: z.record(z.string(), inner) as z.ZodType<Record<string, z.output<T>>>, rest: restMap(inner) };
}

/** `/rest` flattens a structure parameter into `prefix.field` query parameters. */
function flatten(prefix: string, value: object | undefined): Record<string, string | number | boolean | undefined> {
  const out: Record<string, string | number | boolean | undefined> = {};
  for (const [k, v] of Object.entries(value ?? {})) {
    if (v !== undefined) out[`${prefix}.${k}`] = v as string | number | boolean;
  }
  return out;
}

function isSchema<T>(s: ResultSchema<T>): s is z.ZodType<T> {
  return typeof (s as { safeParse?: unknown }).safeParse === 'function';
}

/** Job status schemas that read `state` as any string, so an unknown one can be named (see `knownState`). */
const BackupJobStatusAnyState = BackupJobStatus.extend({ state: z.string() });
const RestoreJobStatusAnyState = RestoreJobStatus.extend({ state: z.string() });

const RECOVERY = '/appliance/recovery';
const enc = encodeURIComponent;

/**
 * Typed client for vCenter appliance recovery. Keeps one session (see {@link SessionCore}):
 * logs in lazily, once for all concurrent calls, and logs in again once when a call answers
 * 401 (idle timeout, restarts).
 */
export class VcenterClient {
  readonly http: HttpTransport;
  private readonly opts: VcenterClientOptions;
  private readonly session: SessionCore<string>;
  private form?: VcenterApiForm;

  constructor(opts: VcenterClientOptions) {
    this.opts = opts;
    this.http = new HttpTransport({
      product: 'vcenter',
      baseUrl: opts.url,
      appliance: opts.appliance,
      dispatcher: opts.dispatcher,
      timeoutMs: opts.timeoutMs,
      parseError: parseVcenterError,
    });
    if (opts.apiForm && opts.apiForm !== 'auto') this.form = opts.apiForm;
    this.session = new SessionCore({
      context: this.http.context('sessionCreate'),
      login: (signal) => this.createSession(signal),
      loginTimeoutMs: opts.loginTimeoutMs,
      requestTimeoutMs: opts.timeoutMs,
    });
  }

  /** The wire form in use (after detection). */
  get apiForm(): VcenterApiForm | undefined {
    return this.form;
  }

  /**
   * Creates a session (Basic auth) and keeps its token. Returns nothing: the token is private.
   * Concurrent callers share one login; `signal` only stops this caller waiting for it.
   */
  async login(signal?: AbortSignal): Promise<void> {
    await this.session.login(signal);
  }

  /** One login; `signal` is the session core's own (login timeout), never a caller's. */
  private async createSession(signal: AbortSignal): Promise<string> {
    const { username, password } = await this.opts.credentials();
    const authorization = `Basic ${Buffer.from(`${username}:${password.reveal()}`).toString('base64')}`;
    const tryForm = async (form: VcenterApiForm): Promise<string> => {
      const path = form === 'api' ? '/api/session' : '/rest/com/vmware/cis/session';
      const { data } = await this.http.sendParsed(
        { operation: 'sessionCreate', method: 'POST', path, headers: { authorization }, signal },
        form === 'api' ? SessionToken : restValue(SessionToken).transform((v) => v.value),
      );
      return data;
    };
    let token: string;
    if (this.form) {
      token = await tryForm(this.form);
    } else {
      try {
        token = await tryForm('api');
        this.form = 'api';
      } catch (err) {
        if (!(err instanceof NotFound)) throw err;
        token = await tryForm('rest');
        this.form = 'rest';
      }
    }
    return token;
  }

  /** Deletes the session, if any. */
  async logout(signal?: AbortSignal): Promise<void> {
    const token = this.session.current?.value;
    if (!token || !this.form) return;
    const path = this.form === 'api' ? '/api/session' : '/rest/com/vmware/cis/session';
    try {
      await this.http.send({
        operation: 'sessionDelete',
        method: 'DELETE',
        path,
        headers: { 'vmware-api-session-id': token },
        signal,
      });
    } finally {
      this.session.clear();
    }
  }

  /** Current session's user and times. */
  async sessionInfo(signal?: AbortSignal): Promise<SessionInfo> {
    return this.call(
      {
        operation: 'sessionGet',
        method: 'GET',
        api: { path: '/api/session' },
        rest: { path: '/rest/com/vmware/cis/session', query: { '~action': 'get' }, method: 'POST' },
        signal,
      },
      SessionInfo,
    );
  }

  /**
   * One call in the current form, with the session header; on 401 logs in again once and
   * repeats the call. `/rest` results are unwrapped from `{value}`; a mismatch quotes the wire
   * path (e.g. `$.value.state`).
   */
  protected call<T>(c: FormCall, schema: ResultSchema<T>): Promise<T> {
    return this.session.run(async (token) => {
      const form = this.form as VcenterApiForm;
      const target = form === 'api' ? c.api : c.rest;
      const json = Object.hasOwn(target, 'body')
        ? target.body
        : c.body === undefined
          ? undefined
          : form === 'rest' && c.restWrap
            ? { [c.restWrap]: c.body }
            : c.body;
      const res = await this.http.send({
        operation: c.operation,
        method: target.method ?? c.method,
        path: target.path,
        query: target.query,
        json,
        headers: { 'vmware-api-session-id': token },
        signal: c.signal,
      });
      const inner = isSchema(schema) ? schema : schema[form];
      const wire =
        form === 'rest' && (inner as z.ZodType) !== NO_CONTENT
          ? (restValue(inner).transform((v) => v.value) as z.ZodType<T>)
          : inner;
      return this.http.parse(wire, res.body, c.operation, res.status);
    }, c.signal);
  }

  /** Whether the appliance supports file-based recovery. */
  recoveryInfo(signal?: AbortSignal): Promise<RecoveryInfo> {
    return this.call(
      {
        operation: 'recoveryGet',
        method: 'GET',
        api: { path: `/api${RECOVERY}` },
        rest: { path: `/rest${RECOVERY}` },
        signal,
      },
      RecoveryInfo,
    );
  }

  /** Starts a backup job. `/api` answers 201, `/rest` 200; both give the job status. */
  backupJobCreate(request: BackupRequest, signal?: AbortSignal): Promise<BackupJobStatus> {
    return this.call(
      {
        operation: 'backupJobCreate',
        method: 'POST',
        api: { path: '/api/appliance/recovery/backup/job' },
        rest: { path: '/rest/appliance/recovery/backup/job' },
        body: request,
        restWrap: 'piece',
        signal,
      },
      BackupJobStatus,
    );
  }

  /** Status of one backup job; NotFound for an unknown id. */
  async backupJobGet(id: string, signal?: AbortSignal): Promise<BackupJobStatus> {
    const path = `/appliance/recovery/backup/job/${encodeURIComponent(id)}`;
    const status = await this.call(
      {
        operation: 'backupJobGet',
        method: 'GET',
        api: { path: `/api${path}` },
        rest: { path: `/rest${path}` },
        signal,
      },
      BackupJobStatusAnyState,
    );
    return this.knownState(status, 'backupJobGet');
  }

  /**
   * A polled state outside the spec's `BackupRestoreProcessState` (e.g. one a newer release adds)
   * is an {@link UnknownRemoteState} quoting it, as SDDC Manager and VCDA task states are: never
   * read as "still running", and reported as what it is rather than as a schema mismatch.
   */
  private knownState<T extends { state: string }>(
    status: T,
    operation: string,
  ): Omit<T, 'state'> & { state: BackupRestoreProcessState } {
    const state = BackupRestoreProcessState.safeParse(status.state);
    if (state.success) return { ...status, state: state.data };
    const quoted = JSON.stringify(status.state);
    throw new UnknownRemoteState(`unknown job state ${quoted}`, {
      ...this.http.context(operation),
      messages: [`state ${quoted} is not one of ${BackupRestoreProcessState.options.join(', ')}`],
    });
  }

  /** Ids of current and past backup jobs. */
  backupJobList(signal?: AbortSignal): Promise<string[]> {
    return this.call(
      {
        operation: 'backupJobList',
        method: 'GET',
        api: { path: '/api/appliance/recovery/backup/job' },
        rest: { path: '/rest/appliance/recovery/backup/job' },
        signal,
      },
      z.array(z.string()),
    );
  }

  /** Cancels a backup job; answers OK/WARNING/FAIL rather than failing when it cannot. */
  backupJobCancel(id: string, signal?: AbortSignal): Promise<ReturnResult> {
    const path = `/appliance/recovery/backup/job/${encodeURIComponent(id)}`;
    return this.call(
      {
        operation: 'backupJobCancel',
        method: 'POST',
        api: { path: `/api${path}`, query: { action: 'cancel' } },
        rest: { path: `/rest${path}/cancel` },
        signal,
      },
      ReturnResult,
    );
  }

  /**
   * Details of backup jobs by id (all current and past jobs when `ids` is empty or unset).
   * `/api` answers a JSON object, `/rest` a `[{key, value}]` array: both become a record.
   */
  backupJobDetails(ids?: readonly string[], signal?: AbortSignal): Promise<Record<string, DetailsInfo>> {
    const list = ids?.length ? [...ids] : undefined;
    return this.call(
      {
        operation: 'backupJobDetails',
        method: 'GET',
        api: { path: `/api${RECOVERY}/backup/job/details`, query: { jobs: list } },
        rest: { path: `/rest${RECOVERY}/backup/job/details`, query: { 'filter.jobs': list } },
        signal,
      },
      vapiMap(DetailsInfo),
    );
  }

  /** The backup parts (`common` is mandatory; `seat` and others are optional). */
  backupParts(signal?: AbortSignal): Promise<Part[]> {
    return this.call(
      {
        operation: 'backupPartList',
        method: 'GET',
        api: { path: `/api${RECOVERY}/backup/parts` },
        rest: { path: `/rest${RECOVERY}/backup/parts` },
        signal,
      },
      z.array(Part),
    );
  }

  /** Estimated size of one part, in MB. */
  backupPartSize(id: string, signal?: AbortSignal): Promise<number> {
    const path = `${RECOVERY}/backup/parts/${enc(id)}`;
    return this.call(
      {
        operation: 'backupPartSize',
        method: 'GET',
        api: { path: `/api${path}` },
        rest: { path: `/rest${path}` },
        signal,
      },
      PartSize,
    );
  }

  /** Checks a backup request without starting it: OK / WARNING / FAIL with messages. */
  backupValidate(request: BackupRequest, signal?: AbortSignal): Promise<ReturnResult> {
    return this.call(
      {
        operation: 'backupValidate',
        method: 'POST',
        api: { path: `/api${RECOVERY}/backup`, query: { action: 'validate' } },
        rest: { path: `/rest${RECOVERY}/backup/validate` },
        body: request,
        restWrap: 'piece',
        signal,
      },
      ReturnResult,
    );
  }

  /**
   * Starts a restore (only on a freshly deployed appliance, before firstboot: otherwise
   * WrongState). The appliance restarts its services while it runs: expect 503s, dropped
   * connections and a lost session.
   */
  restoreJobCreate(request: RestoreRequest, signal?: AbortSignal): Promise<RestoreJobStatus> {
    return this.call(
      {
        operation: 'restoreJobCreate',
        method: 'POST',
        api: { path: `/api${RECOVERY}/restore/job` },
        rest: { path: `/rest${RECOVERY}/restore/job` },
        body: request,
        restWrap: 'piece',
        signal,
      },
      RestoreJobStatus,
    );
  }

  /** The appliance's restore job (state NONE when none ran). */
  async restoreJobGet(signal?: AbortSignal): Promise<RestoreJobStatus> {
    const status = await this.call(
      {
        operation: 'restoreJobGet',
        method: 'GET',
        api: { path: `/api${RECOVERY}/restore/job` },
        rest: { path: `/rest${RECOVERY}/restore/job` },
        signal,
      },
      RestoreJobStatusAnyState,
    );
    return this.knownState(status, 'restoreJobGet');
  }

  /** Cancels the running restore; answers OK/WARNING/FAIL rather than failing when it cannot. */
  restoreJobCancel(signal?: AbortSignal): Promise<ReturnResult> {
    return this.call(
      {
        operation: 'restoreJobCancel',
        method: 'POST',
        api: { path: `/api${RECOVERY}/restore/job`, query: { action: 'cancel' } },
        rest: { path: `/rest${RECOVERY}/restore/job/cancel` },
        signal,
      },
      ReturnResult,
    );
  }

  /** Reads a backup's metadata and checks it against this appliance (`applicable`, warnings). */
  restoreValidate(request: RestoreValidateRequest, signal?: AbortSignal): Promise<RestoreMetadata> {
    // The validate request has no ignore_warnings; drop it if a RestoreRequest was passed.
    const { ignore_warnings: _ignored, ...piece } = request as RestoreRequest;
    return this.call(
      {
        operation: 'restoreValidate',
        method: 'POST',
        api: { path: `/api${RECOVERY}/restore`, query: { action: 'validate' } },
        rest: { path: `/rest${RECOVERY}/restore/validate` },
        body: piece,
        restWrap: 'piece',
        signal,
      },
      RestoreMetadata,
    );
  }

  /** Backup schedules by id (normally one, `default`). */
  schedulesList(signal?: AbortSignal): Promise<Record<string, ScheduleInfo>> {
    return this.call(
      {
        operation: 'scheduleList',
        method: 'GET',
        api: { path: `/api${RECOVERY}/backup/schedules` },
        rest: { path: `/rest${RECOVERY}/backup/schedules` },
        signal,
      },
      vapiMap(ScheduleInfo),
    );
  }

  /** Creates schedule `schedule` (InvalidArgument ALREADY_EXISTS when the appliance has one). */
  scheduleCreate(schedule: string, spec: ScheduleCreateSpec, signal?: AbortSignal): Promise<void> {
    return this.call(
      {
        operation: 'scheduleCreate',
        method: 'POST',
        api: { path: `/api${RECOVERY}/backup/schedules`, body: { schedule, spec } },
        rest: { path: `/rest${RECOVERY}/backup/schedules/${enc(schedule)}` },
        body: spec,
        restWrap: 'spec',
        signal,
      },
      NO_CONTENT,
    );
  }

  /** One schedule; NotFound for an unknown id. */
  scheduleGet(schedule: string, signal?: AbortSignal): Promise<ScheduleInfo> {
    const path = `${RECOVERY}/backup/schedules/${enc(schedule)}`;
    return this.call(
      { operation: 'scheduleGet', method: 'GET', api: { path: `/api${path}` }, rest: { path: `/rest${path}` }, signal },
      ScheduleInfo,
    );
  }

  /** Changes the fields set in `spec` (`/api` PATCH, `/rest` PUT `.../update/{schedule}`). */
  scheduleUpdate(schedule: string, spec: ScheduleUpdateSpec, signal?: AbortSignal): Promise<void> {
    return this.call(
      {
        operation: 'scheduleUpdate',
        method: 'PATCH',
        api: { path: `/api${RECOVERY}/backup/schedules/${enc(schedule)}` },
        rest: { path: `/rest${RECOVERY}/backup/schedules/update/${enc(schedule)}`, method: 'PUT' },
        body: spec,
        restWrap: 'spec',
        signal,
      },
      NO_CONTENT,
    );
  }

  /** Deletes a schedule; NotFound for an unknown id. */
  scheduleDelete(schedule: string, signal?: AbortSignal): Promise<void> {
    const path = `${RECOVERY}/backup/schedules/${enc(schedule)}`;
    return this.call(
      {
        operation: 'scheduleDelete',
        method: 'DELETE',
        api: { path: `/api${path}` },
        rest: { path: `/rest${path}` },
        signal,
      },
      NO_CONTENT,
    );
  }

  /** Runs a schedule now: a backup job with the schedule's settings (ResourceBusy when one runs). */
  scheduleRun(schedule: string, comment?: string, signal?: AbortSignal): Promise<BackupJobStatus> {
    const path = `${RECOVERY}/backup/schedules/${enc(schedule)}`;
    return this.call(
      {
        operation: 'scheduleRun',
        method: 'POST',
        api: { path: `/api${path}`, query: { action: 'run' } },
        rest: { path: `/rest${path}`, query: { action: 'run' } },
        // Not wrapped in /rest either: the legacy body is `{comment}` too.
        body: comment === undefined ? {} : { comment },
        signal,
      },
      BackupJobStatus,
    );
  }

  /** System names (appliance FQDNs/PNIDs) that have backups at a location. */
  systemNames(locSpec: LocationSpec, signal?: AbortSignal): Promise<string[]> {
    return this.call(
      {
        operation: 'systemNameList',
        method: 'POST',
        // The 7.0.2 spec's /api body is the LocationSpec itself (not `{loc_spec}`).
        api: { path: `/api${RECOVERY}/backup/system-name`, query: { action: 'list' }, body: locSpec },
        rest: {
          path: `/rest${RECOVERY}/backup/system-name`,
          method: 'GET',
          query: flatten('loc_spec', locSpec),
          body: undefined,
        },
        signal,
      },
      z.array(z.string()),
    );
  }

  /** Backup archives of one system at a location, filtered by time range, comment substring and count. */
  archives(
    systemName: string,
    locSpec: LocationSpec,
    filter: ArchiveFilterSpec = {},
    signal?: AbortSignal,
  ): Promise<ArchiveSummary[]> {
    const path = `${RECOVERY}/backup/system-name/${enc(systemName)}/archives`;
    return this.call(
      {
        operation: 'archiveList',
        method: 'POST',
        // Both loc_spec and filter_spec are required in the /api body.
        api: { path: `/api${path}`, query: { action: 'list' }, body: { loc_spec: locSpec, filter_spec: filter } },
        rest: {
          path: `/rest${path}`,
          method: 'GET',
          query: { ...flatten('loc_spec', locSpec), ...flatten('filter_spec', filter) },
          body: undefined,
        },
        signal,
      },
      z.array(ArchiveSummary),
    );
  }

  /** One archive's details; its `location` is what a restore request points at. */
  archiveGet(systemName: string, archive: string, locSpec: LocationSpec, signal?: AbortSignal): Promise<ArchiveInfo> {
    const path = `${RECOVERY}/backup/system-name/${enc(systemName)}/archives/${enc(archive)}`;
    return this.call(
      {
        operation: 'archiveGet',
        method: 'POST',
        api: { path: `/api${path}`, query: { action: 'get' }, body: locSpec },
        rest: { path: `/rest${path}`, method: 'GET', query: flatten('spec', locSpec), body: undefined },
        signal,
      },
      ArchiveInfo,
    );
  }

  /** Starts the post-restore reconciliation (Enhanced Linked Mode / vCenter HA). */
  reconciliationJobCreate(spec: ReconciliationCreateSpec = {}, signal?: AbortSignal): Promise<ReconciliationJobInfo> {
    return this.call(
      {
        operation: 'reconciliationJobCreate',
        method: 'POST',
        api: { path: `/api${RECOVERY}/reconciliation/job` },
        rest: { path: `/rest${RECOVERY}/reconciliation/job` },
        body: spec,
        restWrap: 'spec',
        signal,
      },
      ReconciliationJobInfo,
    );
  }

  /** The reconciliation job (status NONE before one ran; NotFound when no restore happened). */
  reconciliationJobGet(signal?: AbortSignal): Promise<ReconciliationJobInfo> {
    return this.call(
      {
        operation: 'reconciliationJobGet',
        method: 'GET',
        api: { path: `/api${RECOVERY}/reconciliation/job` },
        rest: { path: `/rest${RECOVERY}/reconciliation/job` },
        signal,
      },
      ReconciliationJobInfo,
    );
  }
}
