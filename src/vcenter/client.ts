import { z } from 'zod';
import { UnknownRemoteState } from '../core/errors';
import type { HttpTransport } from '../core/http';
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
} from './schemas';
import {
  type FormCall,
  type VcenterApiForm,
  NO_CONTENT,
  RECOVERY,
  type ResultSchema,
  type VcenterClientOptions,
  VcenterSession,
  enc,
  flatten,
  vapiMap,
} from './wire';
import type { SessionInfo } from './schemas';

/** Job status schemas that read `state` as any string, so an unknown one can be named (see `knownState`). */
const BackupJobStatusAnyState = BackupJobStatus.extend({ state: z.string() });
const RestoreJobStatusAnyState = RestoreJobStatus.extend({ state: z.string() });

/**
 * Typed client for vCenter appliance recovery. Keeps one session ({@link VcenterSession}, over
 * the core's `SessionCore`): logs in lazily, once for all concurrent calls, and logs in again once
 * when a call answers 401 (idle timeout, restarts). The calls below are described once for both
 * wire forms (`/api`, `/rest`); the session sends them in the form it detected.
 */
export class VcenterClient {
  readonly http: HttpTransport;
  private readonly session: VcenterSession;

  constructor(opts: VcenterClientOptions) {
    this.session = new VcenterSession(opts);
    this.http = this.session.http;
  }

  /** The wire form in use (after detection). */
  get apiForm(): VcenterApiForm | undefined {
    return this.session.apiForm;
  }

  /**
   * Creates a session (Basic auth) and keeps its token. Returns nothing: the token is private.
   * Concurrent callers share one login; `signal` only stops this caller waiting for it.
   */
  login(signal?: AbortSignal): Promise<void> {
    return this.session.login(signal);
  }

  /** Deletes the session, if any. */
  logout(signal?: AbortSignal): Promise<void> {
    return this.session.logout(signal);
  }

  /** Current session's user and times. */
  sessionInfo(signal?: AbortSignal): Promise<SessionInfo> {
    return this.session.sessionInfo(signal);
  }

  /** One call in the form in use, with the session (see {@link VcenterSession.call}). */
  protected call<T>(c: FormCall, schema: ResultSchema<T>): Promise<T> {
    return this.session.call(c, schema);
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
