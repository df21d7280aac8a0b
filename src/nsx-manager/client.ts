/**
 * Typed client for NSX Manager backup and restore (`/api/v1/cluster/...`, NSX-T Data Center REST
 * API reference). One method a call; each parses its answer with `schemas.ts` and raises the
 * taxonomy's errors (`<product> <appliance> <operation>: …`). Method names are the operation names
 * in errors, simulator counters and faults.
 *
 * Authentication: HTTP Basic on every call, as VMware's own tooling does (the NSX-T Ansible modules,
 * vmware/ansible-for-nsxt `module_utils/vmware_nsxt.py`, send Basic credentials with each request). NSX also offers a session
 * (`POST /api/session/create`, a JSESSIONID cookie and an `X-XSRF-TOKEN` header to echo on writes)
 * [uncertain: whether a restore in progress keeps sessions alive across its service restarts];
 * with Basic there is no session to lose, so the shared session core is not needed and a 401 is
 * an {@link AuthenticationFailed} at once. Credentials are read at each call, never kept.
 */
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { ResourceBusy, WrongState } from '../core/errors';
import { type HttpRequest, HttpTransport } from '../core/http';
import type { Secret } from '../core/secrets';
import { nsxManagerErrorType, parseNsxError } from './errors';
import {
  type AdvanceClusterRestoreRequest,
  BackupConfiguration,
  type BackupConfigurationSpec,
  BackupOperationHistory,
  ClusterBackupInfoListResult,
  ClusterRestoreStatus,
  CurrentBackupOperationStatus,
  type FingerprintRequest,
  type InitiateClusterRestoreRequest,
  InstructionResourceList,
  RemoteServerFingerprint,
} from './schemas';

export interface NsxManagerCredentials {
  /** e.g. `admin` (the appliance's local administrator). */
  username: string;
  password: Secret;
}

export interface NsxManagerClientOptions {
  /** Base URL, e.g. `https://sfo-m01-nsx01.rainpole.io` (a path prefix is kept). */
  url: string;
  /** Name used in errors. Default: the URL. */
  appliance?: string;
  /** Called at each call (Basic authentication); resolve secrets here, never earlier. */
  credentials: () => Promise<NsxManagerCredentials>;
  /** Connection pool with the endpoint's TLS policy (see `createDispatcher` in `src/core/tls.ts`). */
  dispatcher?: Dispatcher;
  /**
   * Per-request header/body (idle) timeout.
   * @default DEFAULT_REQUEST_TIMEOUT_MS (60 000 ms)
   */
  timeoutMs?: number;
}

/** The restore actions of `POST /api/v1/cluster/restore?action=…` besides `start` and `advance`. */
export type RestoreControl = 'suspend' | 'cancel' | 'retry';

const REFUSAL_HINTS: Record<'startRestore' | 'advanceRestore' | `${RestoreControl}Restore`, string> = {
  startRestore: 'a restore can start only when none is in progress, on a freshly deployed Manager',
  advanceRestore: 'advance only a suspended restore, answering the instructions of GET /api/v1/cluster/restore/status',
  suspendRestore: 'only a RUNNING restore can be suspended',
  cancelRestore: 'only a suspended restore can be cancelled',
  retryRestore: 'only a FAILED restore can be retried',
};

type Call = Omit<HttpRequest, 'headers'>;

export class NsxManagerClient {
  readonly http: HttpTransport;
  private readonly credentials: () => Promise<NsxManagerCredentials>;

  constructor(opts: NsxManagerClientOptions) {
    this.http = new HttpTransport({
      product: 'nsx-manager',
      baseUrl: opts.url,
      appliance: opts.appliance,
      dispatcher: opts.dispatcher,
      timeoutMs: opts.timeoutMs,
      parseError: parseNsxError,
    });
    this.credentials = opts.credentials;
  }

  private async authorization(): Promise<string> {
    const { username, password } = await this.credentials();
    return `Basic ${Buffer.from(`${username}:${password.reveal()}`).toString('base64')}`;
  }

  private async call<S extends z.ZodType>(req: Call, schema: S): Promise<z.output<S>> {
    const { data } = await this.http.sendParsed(
      { ...req, headers: { authorization: await this.authorization() } },
      schema,
    );
    return data;
  }

  /**
   * A restore action answered 409 is VMware's "not valid in the current state" (the reference: cancel
   * "is only valid when a restore is in suspended state"; start only when no restore is in
   * progress): a {@link WrongState}, not retried. A 409 whose code says busy stays a ResourceBusy.
   */
  private async restoreAction(req: Call & { operation: keyof typeof REFUSAL_HINTS }): Promise<ClusterRestoreStatus> {
    try {
      return await this.call(req, ClusterRestoreStatus);
    } catch (err) {
      if (!(err instanceof ResourceBusy) || err.httpStatus !== 409) throw err;
      if (nsxManagerErrorType(err.vmwareCode) === 'ResourceBusy') throw err;
      throw new WrongState('the restore is not in a state that allows this action', {
        ...this.http.context(req.operation),
        httpStatus: err.httpStatus,
        vmwareCode: err.vmwareCode,
        messages: err.messages,
        remediation: `${REFUSAL_HINTS[req.operation]}; read the restore status first`,
        cause: err,
      });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Backup configuration

  /** `GET /api/v1/cluster/backups/config`: the configuration, without passphrase and password. */
  getBackupConfiguration(signal?: AbortSignal): Promise<BackupConfiguration> {
    return this.call(
      { operation: 'getBackupConfiguration', method: 'GET', path: '/api/v1/cluster/backups/config', signal },
      BackupConfiguration,
    );
  }

  /**
   * `PUT /api/v1/cluster/backups/config`: answers the stored configuration (without secrets). A
   * spec that omits `passphrase` or the SFTP password keeps the ones the Manager has.
   */
  setBackupConfiguration(spec: BackupConfigurationSpec, signal?: AbortSignal): Promise<BackupConfiguration> {
    return this.call(
      {
        operation: 'setBackupConfiguration',
        method: 'PUT',
        path: '/api/v1/cluster/backups/config',
        json: spec,
        signal,
      },
      BackupConfiguration,
    );
  }

  /**
   * `POST /api/v1/cluster/backups?action=retrieve_ssh_fingerprint`: the SFTP server's SHA256 key
   * fingerprint, to put in the configuration. VMware: "the caller should independently verify
   * that the key is trusted".
   */
  retrieveSshFingerprint(server: FingerprintRequest, signal?: AbortSignal): Promise<RemoteServerFingerprint> {
    return this.call(
      {
        operation: 'retrieveSshFingerprint',
        method: 'POST',
        path: '/api/v1/cluster/backups',
        query: { action: 'retrieve_ssh_fingerprint' },
        json: { server: server.server, port: server.port ?? 22 },
        signal,
      },
      RemoteServerFingerprint,
    );
  }

  // -------------------------------------------------------------------------------------------
  // Backups

  /**
   * `POST /api/v1/cluster?action=backup_to_remote`: one backup now, to the configured server. The
   * reference answers 200 with no body and no id: follow it with {@link getBackupStatus} (its
   * `backup_id`) and confirm the outcome in {@link getBackupHistory}. A refusal while another
   * backup runs is a ResourceBusy (retried) [uncertain: the status a real Manager uses].
   */
  async startBackup(signal?: AbortSignal): Promise<void> {
    await this.call(
      {
        operation: 'startBackup',
        method: 'POST',
        path: '/api/v1/cluster',
        query: { action: 'backup_to_remote' },
        signal,
      },
      z.unknown(),
    );
  }

  /** `GET /api/v1/cluster/backups/status`: the running backup (`operation_type` BACKUP) or none (`NONE`). */
  getBackupStatus(signal?: AbortSignal): Promise<CurrentBackupOperationStatus> {
    return this.call(
      { operation: 'getBackupStatus', method: 'GET', path: '/api/v1/cluster/backups/status', signal },
      CurrentBackupOperationStatus,
    );
  }

  /** `GET /api/v1/cluster/backups/history`: cluster, node and inventory backup statuses, and the overall one. */
  getBackupHistory(signal?: AbortSignal): Promise<BackupOperationHistory> {
    return this.call(
      { operation: 'getBackupHistory', method: 'GET', path: '/api/v1/cluster/backups/history', signal },
      BackupOperationHistory,
    );
  }

  // -------------------------------------------------------------------------------------------
  // Restore

  /** `GET /api/v1/cluster/restore/backuptimestamps`: the backups a restore can start from (on the configured server). */
  listBackupTimestamps(signal?: AbortSignal): Promise<ClusterBackupInfoListResult> {
    return this.call(
      {
        operation: 'listBackupTimestamps',
        method: 'GET',
        path: '/api/v1/cluster/restore/backuptimestamps',
        signal,
      },
      ClusterBackupInfoListResult,
    );
  }

  /** `POST /api/v1/cluster/restore?action=start` with `{node_id, timestamp}`; 409 while a restore is in progress (→ WrongState). */
  startRestore(request: InitiateClusterRestoreRequest, signal?: AbortSignal): Promise<ClusterRestoreStatus> {
    return this.restoreAction({
      operation: 'startRestore',
      method: 'POST',
      path: '/api/v1/cluster/restore',
      query: { action: 'start' },
      json: request,
      signal,
    });
  }

  /** `GET /api/v1/cluster/restore/status`: step, status, allowed endpoints and instructions. */
  getRestoreStatus(signal?: AbortSignal): Promise<ClusterRestoreStatus> {
    return this.call(
      { operation: 'getRestoreStatus', method: 'GET', path: '/api/v1/cluster/restore/status', signal },
      ClusterRestoreStatus,
    );
  }

  /**
   * `GET /api/v1/cluster/restore/instruction-resources?instruction_id=`: the resources an
   * instruction of a suspended restore lists (what an advance answers with).
   */
  listInstructionResources(instructionId: string, signal?: AbortSignal): Promise<InstructionResourceList> {
    return this.call(
      {
        operation: 'listInstructionResources',
        method: 'GET',
        path: '/api/v1/cluster/restore/instruction-resources',
        query: { instruction_id: instructionId },
        signal,
      },
      InstructionResourceList,
    );
  }

  /** `POST /api/v1/cluster/restore?action=advance` with `{data: [{id, resources}]}`: answers a suspension. */
  advanceRestore(request: AdvanceClusterRestoreRequest, signal?: AbortSignal): Promise<ClusterRestoreStatus> {
    return this.restoreAction({
      operation: 'advanceRestore',
      method: 'POST',
      path: '/api/v1/cluster/restore',
      query: { action: 'advance' },
      json: request,
      signal,
    });
  }

  /** `POST /api/v1/cluster/restore?action=suspend|cancel|retry` (409 in the wrong state → WrongState). */
  controlRestore(action: RestoreControl, signal?: AbortSignal): Promise<ClusterRestoreStatus> {
    return this.restoreAction({
      operation: `${action}Restore`,
      method: 'POST',
      path: '/api/v1/cluster/restore',
      query: { action },
      signal,
    });
  }

  /** Suspends a RUNNING restore. */
  suspendRestore(signal?: AbortSignal): Promise<ClusterRestoreStatus> {
    return this.controlRestore('suspend', signal);
  }

  /** Cancels a suspended restore. */
  cancelRestore(signal?: AbortSignal): Promise<ClusterRestoreStatus> {
    return this.controlRestore('cancel', signal);
  }

  /** Retries the failed step of a FAILED restore. */
  retryRestore(signal?: AbortSignal): Promise<ClusterRestoreStatus> {
    return this.controlRestore('retry', signal);
  }
}
