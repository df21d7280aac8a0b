/**
 * The simulated NSX Manager's backups: the stored backup configuration (secrets kept, never read
 * back), the SFTP fingerprint lookup, backups that walk BACKUP_CREATING_CLUSTER_BACKUP →
 * BACKUP_CREATING_NODE_BACKUP over `jobSeconds` and leave cluster, node and inventory statuses in
 * the history, and the backup server that keeps them (a redeployed Manager finds them there).
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  BACKUP_STEPS,
  type BackupConfiguration,
  BackupConfigurationSpec,
  type BackupOperationStatus,
  FingerprintRequest,
} from '../../nsx-manager/schemas';
import type { SimRequest, SimulatorContext } from '../types';
import { NsxFault, SIM_CODES, badBody } from './errors';

/** One finished cluster backup on a backup server. */
export interface StoredBackup {
  backupId: string;
  nodeId: string;
  ipAddress: string;
  timestamp: number;
  passphrase: string;
}

interface RunningBackup {
  id: string;
  startMs: number;
  durationMs: number;
  /** Set by a `jobFailed` fault: the node backup of this run fails. */
  fail?: string;
}

/** `SHA256:<base64 of sha256(server:port)>`, the fingerprint the simulated SFTP servers have. */
export function simSshFingerprint(server: string, port = 22): string {
  return `SHA256:${createHash('sha256').update(`${server}:${port}`).digest('base64').replace(/=+$/, '')}`;
}

/** Passphrase rule of the reference: ≥ 8 characters with lower, upper, digit and special. */
function strongPassphrase(p: string): boolean {
  return p.length >= 8 && /[a-z]/.test(p) && /[A-Z]/.test(p) && /\d/.test(p) && /[^A-Za-z0-9]/.test(p);
}

/** Where backups land: `<server>:<port><directory>`. */
export function serverKey(c: BackupConfigurationSpec): string {
  const r = c.remote_file_server;
  return `${r.server}:${r.port ?? 22}${r.directory_path}`;
}

/** One Manager's backup side. `server` is the backup servers' content, shared with the restore side. */
export class NsxBackups {
  configuration?: BackupConfigurationSpec;
  private running?: RunningBackup;
  /** Finished backups' statuses, newest first. */
  private history: { cluster: BackupOperationStatus; node: BackupOperationStatus; inventory: BackupOperationStatus }[] =
    [];
  constructor(
    private readonly ctx: SimulatorContext,
    private readonly node: { nodeId: string; ipAddress: string; name: string },
    /** Backup servers' content by {@link serverKey}: survives a redeploy. */
    readonly server: Map<string, StoredBackup[]>,
  ) {}

  /** Forgets everything the Manager itself holds (a redeploy); the backup server keeps its backups. */
  reset(): void {
    this.configuration = undefined;
    this.running = undefined;
    this.history = [];
  }

  render(): BackupConfiguration {
    const c = this.configuration;
    if (!c) return { backup_enabled: false };
    const { passphrase: _p, remote_file_server: r, ...rest } = c;
    const { password: _w, ...scheme } = r.protocol.authentication_scheme;
    return {
      inventory_summary_interval: 240,
      ...rest,
      remote_file_server: { ...r, port: r.port ?? 22, protocol: { ...r.protocol, authentication_scheme: scheme } },
    };
  }

  /** PUT: a spec that omits the passphrase or the password keeps the stored ones. */
  configure(req: SimRequest): BackupConfiguration {
    const parsed = BackupConfigurationSpec.safeParse(req.body);
    if (!parsed.success) throw badBody(parsed.error);
    const next = structuredClone(parsed.data);
    const old = this.configuration;
    next.passphrase ??= old?.passphrase;
    next.remote_file_server.protocol.authentication_scheme.password ??=
      old?.remote_file_server.protocol.authentication_scheme.password;
    if (!next.passphrase || !strongPassphrase(next.passphrase))
      throw new NsxFault(
        400,
        SIM_CODES.badRequest,
        'Passphrase must be at least 8 characters with a lower-case and an upper-case letter, a digit and a special character.',
      );
    if (!next.remote_file_server.protocol.authentication_scheme.password)
      throw new NsxFault(400, SIM_CODES.badRequest, 'The SFTP password is required.');
    const r = next.remote_file_server;
    if (r.protocol.ssh_fingerprint !== simSshFingerprint(r.server, r.port ?? 22))
      throw new NsxFault(
        400,
        SIM_CODES.badRequest,
        `The SSH fingerprint does not match the key of ${r.server}.`,
        'Retrieve it with POST /api/v1/cluster/backups?action=retrieve_ssh_fingerprint and verify it independently.',
      );
    this.configuration = next;
    return this.render();
  }

  fingerprint(req: SimRequest) {
    const parsed = FingerprintRequest.safeParse(req.body);
    if (!parsed.success) throw badBody(parsed.error);
    const { server, port = 22 } = parsed.data;
    if (server.endsWith('.invalid'))
      throw new NsxFault(400, SIM_CODES.sftpUnreachable, `Unable to connect to the SFTP server ${server}:${port}.`);
    return { server, port, ssh_fingerprint: simSshFingerprint(server, port) };
  }

  /** Folds a finished backup into the history and the backup server. */
  private tick(): void {
    const run = this.running;
    if (!run || this.ctx.now() < run.startMs + run.durationMs) return;
    this.running = undefined;
    const end = run.startMs + run.durationMs;
    const ok = (kind: string): BackupOperationStatus => ({
      backup_id: run.id,
      success: true,
      start_time: run.startMs,
      end_time: end,
      ...(kind === 'node' && run.fail
        ? { success: false, error_code: 'BACKUP_GENERIC_ERROR', error_message: run.fail }
        : {}),
    });
    this.history.unshift({ cluster: ok('cluster'), node: ok('node'), inventory: ok('inventory') });
    if (run.fail || !this.configuration) return;
    const key = serverKey(this.configuration);
    const list = this.server.get(key) ?? [];
    list.push({
      backupId: run.id,
      nodeId: this.node.nodeId,
      ipAddress: this.node.ipAddress,
      timestamp: run.startMs,
      passphrase: this.configuration.passphrase ?? '',
    });
    this.server.set(key, list);
  }

  /** `backup_to_remote`: 200, no body. With `fail`, the node backup of this run fails with that message. */
  start(fail?: string): void {
    this.tick();
    if (!this.configuration)
      throw new NsxFault(
        400,
        SIM_CODES.backupNotConfigured,
        'Backup is not configured.',
        'Configure the backup (PUT /api/v1/cluster/backups/config) first.',
      );
    if (this.running)
      throw new NsxFault(409, SIM_CODES.backupInProgress, `Backup ${this.running.id} is already in progress.`);
    this.running = {
      id: randomUUID(),
      startMs: this.ctx.now(),
      durationMs: Math.max(1, this.ctx.jobSeconds * 1000),
      fail,
    };
    this.ctx.recordJob({ product: 'nsx-manager', appliance: this.node.name, kind: 'backup', id: this.running.id });
  }

  status() {
    this.tick();
    const run = this.running;
    if (!run) return { operation_type: 'NONE' };
    const half = this.ctx.now() < run.startMs + run.durationMs / 2;
    const step = half ? BACKUP_STEPS[0] : BACKUP_STEPS[1];
    return {
      operation_type: 'BACKUP',
      backup_id: run.id,
      current_step: step,
      current_step_message: half ? 'Backing up the cluster (management plane database).' : 'Backing up the node.',
      start_time: run.startMs,
      end_time: run.startMs + run.durationMs,
    };
  }

  historyBody() {
    this.tick();
    const last = this.history[0];
    const overall = this.running
      ? 'IN_PROGRESS'
      : !last
        ? 'NOT_AVAILABLE'
        : last.cluster.success && last.node.success && last.inventory.success
          ? 'SUCCESS'
          : 'FAILED';
    return {
      cluster_backup_statuses: this.history.map((h) => h.cluster),
      node_backup_statuses: this.history.map((h) => h.node),
      inventory_backup_statuses: this.history.map((h) => h.inventory),
      overall_backup_status: overall,
    };
  }

  /** The backups on the configured server (newest first), for `backuptimestamps` and `start`. */
  onServer(): StoredBackup[] {
    this.tick();
    if (!this.configuration)
      throw new NsxFault(
        400,
        SIM_CODES.backupNotConfigured,
        'Backup server is not configured.',
        'Configure the backup server (PUT /api/v1/cluster/backups/config) to list its backups.',
      );
    return [...(this.server.get(serverKey(this.configuration)) ?? [])].sort((a, b) => b.timestamp - a.timestamp);
  }
}
