/**
 * A simulated NSX Manager: HTTP Basic on every call (user `admin`), the backup configuration and
 * backups (`backups.ts`), the restore state machine (`restore.ts`), the ApiError answers
 * (`errors.ts`), and its admin knob: `{"stage": "restore"}` makes it a freshly deployed Manager
 * waiting for a restore (configuration and history gone, backups still on the backup server), as
 * a redeployed vCenter is made.
 *
 * | call | success | refusals |
 * |---|---|---|
 * | `GET/PUT /api/v1/cluster/backups/config` | 200 BackupConfiguration (no secrets) | 400 |
 * | `POST /api/v1/cluster/backups?action=retrieve_ssh_fingerprint` | 200 RemoteServerFingerprint | 400 unreachable |
 * | `POST /api/v1/cluster?action=backup_to_remote` | 200, no body | 400 not configured, 409 one running |
 * | `GET /api/v1/cluster/backups/status`, `.../history` | 200 | |
 * | `GET /api/v1/cluster/restore/backuptimestamps` | 200 ClusterBackupInfoListResult | 400 not configured |
 * | `POST /api/v1/cluster/restore?action=start|advance|suspend|cancel|retry` | 200 ClusterRestoreStatus | 409 wrong state, 400 |
 * | `GET /api/v1/cluster/restore/status` | 200 ClusterRestoreStatus | |
 * | `GET /api/v1/cluster/restore/instruction-resources?instruction_id=` | 200 | 404 not pending |
 *
 * Choices where VMware says nothing [uncertain]: the numeric error codes (`errors.ts`); a backup
 * while one runs is 409; a PUT whose fingerprint is not the server's is 400; the configured
 * server's backups are what `backuptimestamps` lists.
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
import { NsxBackups, type StoredBackup, simSshFingerprint } from './backups';
import { CODE_STATUS, NSX_FAULTS, NsxFault, SIM_CODES, nsxErrorBody } from './errors';
import { NsxRestore } from './restore';

export { simSshFingerprint };

/** Whether a Manager runs, or is freshly deployed and waiting for a restore. */
export type NsxManagerStage = 'running' | 'restore';

export class NsxManagerAppliance implements SimAppliance {
  readonly product = 'nsx-manager' as const;
  readonly name: string;
  readonly username = 'admin';
  readonly password: string;
  readonly nodeId = randomUUID();
  readonly ipAddress: string;
  stage: NsxManagerStage = 'running';
  readonly backups: NsxBackups;
  readonly restore: NsxRestore;

  constructor(index: number, ctx: SimulatorContext) {
    this.name = `nsx-${index}`;
    this.ipAddress = `10.0.1.${index}`;
    this.password = `Sim-${randomBytes(6).toString('hex')}!${index}`;
    const server = new Map<string, StoredBackup[]>();
    this.backups = new NsxBackups(ctx, this, server);
    this.restore = new NsxRestore(ctx, {
      applianceName: () => this.name,
      waitingForRestore: () => this.stage === 'restore',
      backups: () => this.backups.onServer(),
      restored: () => {
        this.stage = 'running';
      },
    });
  }

  /** A `jobFailed` fault armed for the call being handled (see {@link failNextJob}). */
  private pendingFailure?: string;

  private takeFailure(): string | undefined {
    const message = this.pendingFailure;
    this.pendingFailure = undefined;
    return message;
  }

  /** The restore calls after which a running step can fail: a `jobFailed` fault on them fails the next step. */
  private armRestoreFailure(): void {
    const message = this.takeFailure();
    if (message !== undefined) this.restore.failNext = message;
  }

  private authenticated(req: SimRequest): void {
    const header = req.headers.authorization ?? '';
    const [scheme, encoded] = header.split(' ');
    const [user, ...rest] = Buffer.from(encoded ?? '', 'base64')
      .toString('utf8')
      .split(':');
    if (scheme !== 'Basic' || user !== this.username || rest.join(':') !== this.password)
      throw new NsxFault(
        401,
        SIM_CODES.notAuthenticated,
        'The credentials were incorrect or the account specified has been locked.',
      );
  }

  routes(): SimRoute[] {
    const r = (method: string, pattern: string, operation: string, handle: (req: SimRequest) => SimResponse) =>
      route(method, `/api/v1/cluster${pattern}`, operation, NSX_FAULTS, (req) => {
        this.authenticated(req);
        return handle(req);
      });
    const ok = (body?: unknown): SimResponse => ({ status: 200, ...(body === undefined ? {} : { body }) });
    return [
      r('GET', '/backups/config', 'getBackupConfiguration', () => ok(this.backups.render())),
      r('PUT', '/backups/config', 'setBackupConfiguration', (req) => ok(this.backups.configure(req))),
      r('POST', '/backups?action=retrieve_ssh_fingerprint', 'retrieveSshFingerprint', (req) =>
        ok(this.backups.fingerprint(req)),
      ),
      r('POST', '?action=backup_to_remote', 'startBackup', () => {
        this.backups.start(this.takeFailure());
        return ok();
      }),
      r('GET', '/backups/status', 'getBackupStatus', () => ok(this.backups.status())),
      r('GET', '/backups/history', 'getBackupHistory', () => ok(this.backups.historyBody())),
      r('GET', '/restore/backuptimestamps', 'listBackupTimestamps', () => {
        const results = this.backups.onServer().map((b) => ({
          node_id: b.nodeId,
          ip_address: b.ipAddress,
          timestamp: b.timestamp,
          restore_type: ['REGULAR_RESTORE'],
        }));
        return ok({ results, result_count: results.length });
      }),
      r('POST', '/restore?action=start', 'startRestore', (req) => {
        this.armRestoreFailure();
        return ok(this.restore.start(req));
      }),
      r('POST', '/restore?action=advance', 'advanceRestore', (req) => {
        this.armRestoreFailure();
        return ok(this.restore.advance(req));
      }),
      r('POST', '/restore?action=suspend', 'suspendRestore', () => ok(this.restore.suspend())),
      r('POST', '/restore?action=cancel', 'cancelRestore', () => ok(this.restore.cancel())),
      r('POST', '/restore?action=retry', 'retryRestore', () => {
        this.armRestoreFailure();
        return ok(this.restore.retry());
      }),
      r('GET', '/restore/status', 'getRestoreStatus', () => ok(this.restore.status())),
      r('GET', '/restore/instruction-resources', 'listInstructionResources', (req) => ok(this.restore.resources(req))),
    ];
  }

  errorResponse(error: string | undefined, status: number | undefined, message: string): SimResponse {
    const numeric = error !== undefined && /^\d+$/.test(error) ? Number(error) : undefined;
    const httpStatus = status ?? (error !== undefined ? (CODE_STATUS[error.toUpperCase()] ?? 400) : 500);
    const code = numeric ?? error ?? (httpStatus === 404 ? SIM_CODES.notFound : SIM_CODES.internal);
    return { status: httpStatus, body: nsxErrorBody(httpStatus, code, message) };
  }

  /**
   * A `jobFailed` fault, for the call it hit: on `startBackup` that backup's node backup fails; on
   * `startRestore`, `advanceRestore` or `retryRestore` the next running restore step FAILs.
   */
  failNextJob(message: string): void {
    this.pendingFailure = message;
  }

  corrupt(res: SimResponse): SimResponse {
    const body = res.body;
    if (body && typeof body === 'object' && !Array.isArray(body)) {
      const copy = { ...(body as Record<string, unknown>) };
      if ('status' in copy) copy.status = 42;
      else if ('operation_type' in copy) copy.operation_type = 42;
      else if ('results' in copy) copy.results = 42;
      else if ('ssh_fingerprint' in copy) copy.ssh_fingerprint = 42;
      else if ('cluster_backup_statuses' in copy) copy.cluster_backup_statuses = [{ success: 'yes' }];
      else copy.backup_enabled = 'yes';
      return { ...res, body: copy };
    }
    return { ...res, body: 42 };
  }

  /**
   * Admin knobs: `{"stage": "restore"}` (freshly deployed: no configuration, no history, no
   * restore; the backup server keeps its backups) or `"running"`; `{"failRestoreStep": "msg"}`
   * (the next running restore step FAILs). Answers `{stage}`.
   */
  admin(command: Record<string, unknown>): unknown {
    const { stage, failRestoreStep, ...rest } = command;
    if (Object.keys(rest).length)
      throw new Error(
        `unknown NSX Manager admin command ${Object.keys(rest).join(', ')}; use stage or failRestoreStep`,
      );
    if (stage !== undefined) {
      if (stage !== 'restore' && stage !== 'running') throw new Error('stage must be "restore" or "running"');
      if (stage === 'restore') {
        this.backups.reset();
        this.restore.reset();
      }
      this.stage = stage;
    }
    if (failRestoreStep !== undefined) {
      if (typeof failRestoreStep !== 'string') throw new Error('failRestoreStep must be a message');
      this.restore.failNext = failRestoreStep;
    }
    return { stage: this.stage };
  }
}

export function createNsxManagerAppliance(index: number, ctx: SimulatorContext): NsxManagerAppliance {
  return new NsxManagerAppliance(index, ctx);
}
