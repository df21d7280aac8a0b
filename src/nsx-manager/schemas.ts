/**
 * NSX Manager backup/restore shapes (`/api/v1/cluster/...`). The contract is VMware's NSX-T Data
 * Center REST API reference (developer.broadcom.com/xapis/nsx-t-data-center-rest-api, 4.2 and
 * "latest"): types BackupConfiguration, RemoteFileServer, SftpProtocol,
 * PasswordAuthenticationScheme, IntervalBackupSchedule, WeeklyBackupSchedule,
 * RemoteServerFingerprintRequest, RemoteServerFingerprint, CurrentBackupOperationStatus,
 * BackupOperationHistory, BackupOperationStatus, ClusterBackupInfoListResult, ClusterBackupInfo,
 * InitiateClusterRestoreRequest, ClusterRestoreStatus, RestoreStep, PerStepRestoreStatus,
 * GlobalRestoreStatus, InstructionInfo, AdvanceClusterRestoreRequest, ActionableResourceListResult,
 * ResourceLink, ApiError and RelatedApiError.
 *
 * As for the other products, answers are parsed leniently (`.nullish()`, unknown fields kept)
 * except what a client cannot work without (a restore's status value, a backup status's
 * `backup_id` and `success`): those stay required so that a garbage answer is a SchemaMismatch.
 * The reference marks secrets (`password`, `passphrase`) write-only: the schema for reading never
 * requires them.
 */
import { z } from 'zod';

/** `EpochMsTimestamp`: milliseconds since the epoch. */
const EpochMs = z.number();

// ---------------------------------------------------------------------------------------------
// Errors

/** `RelatedApiError`: details, error_code (integer), error_data, error_message, module_name. */
export const NsxRelatedError = z.looseObject({
  details: z.string().nullish(),
  // The reference types it integer; a string is accepted so that an odd code never hides the message.
  error_code: z.union([z.number(), z.string()]).nullish(),
  error_data: z.unknown().optional(),
  error_message: z.string().nullish(),
  module_name: z.string().nullish(),
});
export type NsxRelatedError = z.infer<typeof NsxRelatedError>;

/**
 * `ApiError` (the body of every error answer): RelatedApiError's fields plus `related_errors`.
 * `httpStatus` (e.g. `"BAD_REQUEST"`) is not in the reference's type, yet NSX Managers send it; it
 * is read when present.
 */
export const NsxApiError = NsxRelatedError.extend({
  related_errors: z.array(NsxRelatedError).nullish(),
  httpStatus: z.string().nullish(),
});
export type NsxApiError = z.infer<typeof NsxApiError>;

// ---------------------------------------------------------------------------------------------
// Backup configuration (`GET/PUT /api/v1/cluster/backups/config`)

/** `IntervalBackupSchedule`: `seconds_between_backups` 300–86400 (reference). */
export const IntervalBackupSchedule = z.looseObject({
  resource_type: z.literal('IntervalBackupSchedule'),
  seconds_between_backups: z.number().int().nullish(),
});
/** `WeeklyBackupSchedule`: days_of_week (0–6, Sunday 0), hour_of_day, minute_of_day. */
export const WeeklyBackupSchedule = z.looseObject({
  resource_type: z.literal('WeeklyBackupSchedule'),
  days_of_week: z.array(z.number().int()),
  hour_of_day: z.number().int(),
  minute_of_day: z.number().int(),
});
export const BackupSchedule = z.discriminatedUnion('resource_type', [IntervalBackupSchedule, WeeklyBackupSchedule]);
export type BackupSchedule = z.infer<typeof BackupSchedule>;

/** `PasswordAuthenticationScheme`: `scheme_name` PASSWORD, username, password (write-only). */
export const PasswordAuthenticationScheme = z.looseObject({
  scheme_name: z.string(),
  username: z.string(),
  password: z.string().nullish(),
});

/** `SftpProtocol`: `protocol_name` sftp, `ssh_fingerprint` (SHA256), authentication_scheme. */
export const SftpProtocol = z.looseObject({
  protocol_name: z.string(),
  ssh_fingerprint: z.string(),
  authentication_scheme: PasswordAuthenticationScheme,
});

/** `RemoteFileServer`: server, port (default 22), directory_path, protocol. */
export const RemoteFileServer = z.looseObject({
  server: z.string(),
  port: z.number().int().nullish(),
  directory_path: z.string(),
  protocol: SftpProtocol,
});
export type RemoteFileServer = z.infer<typeof RemoteFileServer>;

/**
 * `BackupConfiguration` as the Manager answers it: without `passphrase` and the SFTP `password`
 * (write-only in the reference). `inventory_summary_interval` 30–3600 (default 240),
 * `after_inventory_update_interval` 300–86400.
 */
export const BackupConfiguration = z.looseObject({
  backup_enabled: z.boolean().nullish(),
  backup_schedule: BackupSchedule.nullish(),
  remote_file_server: RemoteFileServer.nullish(),
  passphrase: z.string().nullish(),
  inventory_summary_interval: z.number().int().nullish(),
  after_inventory_update_interval: z.number().int().nullish(),
});
export type BackupConfiguration = z.infer<typeof BackupConfiguration>;

/**
 * The `PUT` body we send. Stricter than the reference (a remote file server is required) to catch
 * our own mistakes first. `passphrase` and `password` may be left out: the Manager keeps the ones
 * it has. A passphrase needs ≥ 8 characters with a lower- and an upper-case letter, a digit and a
 * special character (reference).
 */
export const BackupConfigurationSpec = z.object({
  backup_enabled: z.boolean(),
  backup_schedule: BackupSchedule.optional(),
  remote_file_server: z.object({
    server: z.string().min(1),
    port: z.number().int().min(1).max(65535).optional(),
    directory_path: z.string().min(1),
    protocol: z.object({
      protocol_name: z.literal('sftp'),
      ssh_fingerprint: z.string().min(1),
      authentication_scheme: z.object({
        scheme_name: z.literal('PASSWORD'),
        username: z.string().min(1),
        password: z.string().min(1).optional(),
      }),
    }),
  }),
  passphrase: z.string().min(8).optional(),
  inventory_summary_interval: z.number().int().min(30).max(3600).optional(),
  after_inventory_update_interval: z.number().int().min(300).max(86400).optional(),
});
export type BackupConfigurationSpec = z.infer<typeof BackupConfigurationSpec>;

/** `RemoteServerFingerprintRequest` of `POST /api/v1/cluster/backups?action=retrieve_ssh_fingerprint`. */
export const FingerprintRequest = z.object({ server: z.string().min(1), port: z.number().int().optional() });
export type FingerprintRequest = z.infer<typeof FingerprintRequest>;

/** `RemoteServerFingerprint`: the SFTP server's SHA256 ECDSA key fingerprint ("verify it independently"). */
export const RemoteServerFingerprint = z.looseObject({
  server: z.string().nullish(),
  port: z.number().int().nullish(),
  ssh_fingerprint: z.string().min(1),
});
export type RemoteServerFingerprint = z.infer<typeof RemoteServerFingerprint>;

// ---------------------------------------------------------------------------------------------
// Backups (`POST /api/v1/cluster?action=backup_to_remote`, `GET .../backups/status|history`)

export const BACKUP_STEPS = ['BACKUP_CREATING_CLUSTER_BACKUP', 'BACKUP_CREATING_NODE_BACKUP'] as const;

/**
 * `CurrentBackupOperationStatus`: `operation_type` NONE (then no other field is set) or BACKUP,
 * `backup_id`, `current_step` (one of {@link BACKUP_STEPS}; kept open), current_step_message,
 * start_time, end_time (expected end).
 */
export const CurrentBackupOperationStatus = z.looseObject({
  operation_type: z.string(),
  backup_id: z.string().nullish(),
  current_step: z.string().nullish(),
  current_step_message: z.string().nullish(),
  start_time: EpochMs.nullish(),
  end_time: EpochMs.nullish(),
});
export type CurrentBackupOperationStatus = z.infer<typeof CurrentBackupOperationStatus>;

/**
 * `BackupOperationStatus`: backup_id and success required; error_code one of
 * BACKUP_NOT_RUN_ON_MASTER, BACKUP_SERVER_UNREACHABLE, BACKUP_AUTHENTICATION_FAILURE,
 * BACKUP_PERMISSION_ERROR, BACKUP_TIMEOUT, BACKUP_BAD_FINGERPRINT, BACKUP_GENERIC_ERROR,
 * UPGRADE_IN_PROGRESS, CERTIFICATE_ROTATION_IN_PROGRESS (kept open).
 */
export const BackupOperationStatus = z.looseObject({
  backup_id: z.string(),
  success: z.boolean(),
  start_time: EpochMs.nullish(),
  end_time: EpochMs.nullish(),
  error_code: z.string().nullish(),
  error_message: z.string().nullish(),
});
export type BackupOperationStatus = z.infer<typeof BackupOperationStatus>;

export const OVERALL_BACKUP_STATUSES = ['NOT_AVAILABLE', 'IN_PROGRESS', 'SUCCESS', 'FAILED'] as const;

/** `BackupOperationHistory`: the statuses of past cluster, node and inventory backups, and the overall one. */
export const BackupOperationHistory = z.looseObject({
  cluster_backup_statuses: z.array(BackupOperationStatus).nullish(),
  node_backup_statuses: z.array(BackupOperationStatus).nullish(),
  inventory_backup_statuses: z.array(BackupOperationStatus).nullish(),
  overall_backup_status: z.string().nullish(),
});
export type BackupOperationHistory = z.infer<typeof BackupOperationHistory>;

// ---------------------------------------------------------------------------------------------
// Restore (`/api/v1/cluster/restore`)

/** `ClusterBackupInfo`: one backup a restore can start from. `timestamp` is what `start` takes. */
export const ClusterBackupInfo = z.looseObject({
  node_id: z.string(),
  timestamp: EpochMs,
  ip_address: z.string().nullish(),
  restore_type: z.array(z.string()).nullish(),
});
export type ClusterBackupInfo = z.infer<typeof ClusterBackupInfo>;

/** `ClusterBackupInfoListResult` of `GET /api/v1/cluster/restore/backuptimestamps`. */
export const ClusterBackupInfoListResult = z.looseObject({
  results: z.array(ClusterBackupInfo),
  result_count: z.number().int().nullish(),
});
export type ClusterBackupInfoListResult = z.infer<typeof ClusterBackupInfoListResult>;

/** `InitiateClusterRestoreRequest`: the backup to restore, by node and timestamp. */
export const InitiateClusterRestoreRequest = z.object({ node_id: z.string().min(1), timestamp: z.number() });
export type InitiateClusterRestoreRequest = z.infer<typeof InitiateClusterRestoreRequest>;

/** `GlobalRestoreStatus.value` (reference enum). */
export const GLOBAL_RESTORE_STATUSES = [
  'INITIAL',
  'RUNNING',
  'SUSPENDED_BY_USER',
  'SUSPENDED_FOR_USER_ACTION',
  'SUSPENDED',
  'SUCCESS',
  'FAILED',
  'ABORTED',
] as const;
export type GlobalRestoreStatus = (typeof GLOBAL_RESTORE_STATUSES)[number];

/** `PerStepRestoreStatus.value` (reference enum). */
export const STEP_RESTORE_STATUSES = [
  'INITIAL',
  'RUNNING',
  'SUSPENDED_BY_USER',
  'SUSPENDED_FOR_USER_ACTION',
  'FAILED',
  'SUCCESS',
] as const;

/** `ResourceLink`: href, rel, action. In ClusterRestoreStatus, the calls allowed now. */
export const ResourceLink = z.looseObject({
  href: z.string().nullish(),
  rel: z.string().nullish(),
  action: z.string().nullish(),
});

/** `InstructionInfo`: id, name, fields (displayable columns), actions (what to do with the resources). */
export const InstructionInfo = z.looseObject({
  id: z.string(),
  name: z.string().nullish(),
  fields: z.array(z.string()).nullish(),
  actions: z.array(z.string()).nullish(),
});
export type InstructionInfo = z.infer<typeof InstructionInfo>;

/** `RestoreStep`: step_number, value, description, status (PerStepRestoreStatus). */
export const RestoreStep = z.looseObject({
  step_number: z.number().int().nullish(),
  value: z.string().nullish(),
  description: z.string().nullish(),
  status: z.looseObject({ value: z.enum(STEP_RESTORE_STATUSES), description: z.string().nullish() }).nullish(),
});

/**
 * `ClusterRestoreStatus`: id, backup_timestamp, restore_start_time, restore_end_time, total_steps,
 * step, status (GlobalRestoreStatus), endpoints (the calls allowed now), allowed_actions (newer
 * releases), instructions (what a SUSPENDED_FOR_USER_ACTION restore waits for), not_allowed_actions.
 */
export const ClusterRestoreStatus = z.looseObject({
  id: z.string().nullish(),
  backup_timestamp: EpochMs.nullish(),
  restore_start_time: EpochMs.nullish(),
  restore_end_time: EpochMs.nullish(),
  total_steps: z.number().int().nullish(),
  step: RestoreStep.nullish(),
  status: z.looseObject({ value: z.enum(GLOBAL_RESTORE_STATUSES), description: z.string().nullish() }),
  endpoints: z.array(ResourceLink).nullish(),
  allowed_actions: z.array(z.string()).nullish(),
  instructions: z.array(InstructionInfo).nullish(),
  not_allowed_actions: z.array(z.string()).nullish(),
});
export type ClusterRestoreStatus = z.infer<typeof ClusterRestoreStatus>;

/**
 * A resource named in an advance answer. The reference types `AdvanceClusterRestoreInput.resources`
 * as references to the resources an instruction listed [uncertain: the exact reference type; the
 * `id` of each listed resource is what we send as `target_id`].
 */
export const RestoreResourceReference = z.looseObject({
  target_id: z.string().min(1),
  target_type: z.string().nullish(),
  target_display_name: z.string().nullish(),
});

/** `AdvanceClusterRestoreRequest`: `data[]` of `{id: instruction id, resources}`. */
export const AdvanceClusterRestoreRequest = z.object({
  data: z.array(z.object({ id: z.string().min(1), resources: z.array(RestoreResourceReference) })),
});
export type AdvanceClusterRestoreRequest = z.infer<typeof AdvanceClusterRestoreRequest>;

/**
 * `ActionableResourceListResult` of `GET /api/v1/cluster/restore/instruction-resources?instruction_id=`:
 * the resources an instruction is about (id, display_name, ip_address, resource_type).
 */
export const InstructionResourceList = z.looseObject({
  results: z.array(
    z.looseObject({
      id: z.string().nullish(),
      display_name: z.string().nullish(),
      ip_address: z.string().nullish(),
      resource_type: z.string().nullish(),
    }),
  ),
  result_count: z.number().int().nullish(),
});
export type InstructionResourceList = z.infer<typeof InstructionResourceList>;
