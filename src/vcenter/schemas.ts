/**
 * vCenter appliance-recovery shapes, from VMware's 7.0.2 Swagger (`test/fixtures/spec/`).
 * Field names are the `/api` wire names; legacy `/rest` wraps the same shapes.
 */
import { z } from 'zod';
import { LOCATION_TYPES } from '../contract/endpoints';

export const LocationType = z.enum(LOCATION_TYPES);
export type LocationType = z.infer<typeof LocationType>;

/** Job-level message: `{id, default_message, args}`, all required. */
export const LocalizableMessage = z.object({
  id: z.string(),
  default_message: z.string(),
  args: z.array(z.string()),
});
export type LocalizableMessage = z.infer<typeof LocalizableMessage>;

/**
 * Std-level message (errors): adds optional params/localized. `params` is a map in `/api` but a
 * `[{key, value}]` array in `/rest`, so it is kept opaque (nothing here reads it).
 */
export const StdLocalizableMessage = LocalizableMessage.extend({
  params: z.unknown().optional(),
  localized: z.string().optional(),
});

export const BackupRestoreProcessState = z.enum(['FAILED', 'INPROGRESS', 'NONE', 'SUCCEEDED']);
export type BackupRestoreProcessState = z.infer<typeof BackupRestoreProcessState>;

/** Body of `POST /api/appliance/recovery/backup/job` and `backup?action=validate`. */
export const BackupRequest = z.object({
  parts: z.array(z.string()),
  backup_password: z.string().optional(),
  location_type: LocationType,
  location: z.string().min(1),
  location_user: z.string().optional(),
  location_password: z.string().optional(),
  comment: z.string().optional(),
  fast_backup: z.boolean().optional(),
});
export type BackupRequest = z.infer<typeof BackupRequest>;

export const BackupJobStatus = z.object({
  id: z.string(),
  state: BackupRestoreProcessState,
  messages: z.array(LocalizableMessage),
  progress: z.number().int(),
  start_time: z.iso.datetime({ offset: true }),
  end_time: z.iso.datetime({ offset: true }).optional(),
});
export type BackupJobStatus = z.infer<typeof BackupJobStatus>;

/** Cancel / validate result. */
export const ReturnResult = z.object({
  status: z.enum(['FAIL', 'WARNING', 'OK']),
  messages: z.array(LocalizableMessage),
});
export type ReturnResult = z.infer<typeof ReturnResult>;

/** `/api` session create answers the bare token string. */
export const SessionToken = z.string().min(1);

export const SessionInfo = z.object({
  user: z.string(),
  created_time: z.iso.datetime({ offset: true }),
  last_accessed_time: z.iso.datetime({ offset: true }),
});
export type SessionInfo = z.infer<typeof SessionInfo>;

/** `/api` error body. */
export const ApiErrorBody = z.object({
  error_type: z.string().optional(),
  messages: z.array(StdLocalizableMessage).default([]),
  data: z.unknown().optional(),
});

/** Legacy `/rest` error body: `{type, value: {messages}}`. */
export const RestErrorBody = z.object({
  type: z.string(),
  value: z
    .object({ messages: z.array(StdLocalizableMessage).default([]) })
    .passthrough()
    .optional(),
});

/** Legacy `/rest` success wrapper. */
export const restValue = <T extends z.ZodType>(inner: T) => z.object({ value: inner });

// ---------------------------------------------------------------------------------------------
// Everything below: the rest of the recovery package (7.0.2 spec definitions named in comments).

const DateTime = z.iso.datetime({ offset: true });
const Int = z.number().int();

/** `VapiStdLocalizableMessage` as task/details structures use it. */
export const TaskMessage = StdLocalizableMessage;
export type TaskMessage = z.infer<typeof TaskMessage>;

/** `ApplianceRecoveryInfo`: `GET /api/appliance/recovery`. */
export const RecoveryInfo = z.object({ supported: z.boolean() });
export type RecoveryInfo = z.infer<typeof RecoveryInfo>;

/** `CisTaskStatus`: the details API says RUNNING where the job API says INPROGRESS. */
export const CisTaskStatus = z.enum(['PENDING', 'RUNNING', 'BLOCKED', 'SUCCEEDED', 'FAILED']);
export type CisTaskStatus = z.infer<typeof CisTaskStatus>;

/** `ApplianceRecoveryBackupJobDetailsType`. 9.0 adds `LOCAL_BACKUP` (reference §1.3); accepted so a newer appliance does not break the call. */
export const DetailsType = z.enum(['SCHEDULED', 'MANUAL', 'LOCAL_BACKUP']);

/** `ApplianceRecoveryBackupJobDetailsInfo`: one entry of `backup/job/details`. */
export const DetailsInfo = z.object({
  location: z.string(),
  location_user: z.string(),
  type: DetailsType,
  messages: z.array(TaskMessage),
  description: TaskMessage,
  service: z.string(),
  operation: z.string(),
  status: CisTaskStatus,
  cancelable: z.boolean(),
  duration: Int.optional(),
  size: Int.optional(),
  progress: z.object({ total: Int, completed: Int, message: TaskMessage }).optional(),
  build: z.object({ version_name: z.string(), version: z.string(), build_number: z.string() }).optional(),
  parent: z.string().optional(),
  target: z.object({ type: z.string(), id: z.string() }).optional(),
  /** A string in the 7.0.2 spec, a vAPI DynamicValue in the bindings: kept opaque. */
  error: z.unknown().optional(),
  start_time: DateTime.optional(),
  end_time: DateTime.optional(),
  user: z.string().optional(),
  fast_backup: z.boolean().optional(),
});
export type DetailsInfo = z.infer<typeof DetailsInfo>;

/** `ApplianceRecoveryBackupPartsPart`. */
export const Part = z.object({
  id: z.string(),
  name: LocalizableMessage,
  description: LocalizableMessage,
  selected_by_default: z.boolean(),
  optional: z.boolean(),
});
export type Part = z.infer<typeof Part>;

/** `GET backup/parts/{id}`: the part's estimated size in MB. */
export const PartSize = Int;

/** `ApplianceRecoveryRestoreJobRestoreRequest`: body of restore job create. */
export const RestoreRequest = z.object({
  backup_password: z.string().optional(),
  location_type: LocationType,
  location: z.string().min(1),
  location_user: z.string().optional(),
  location_password: z.string().optional(),
  sso_admin_user_name: z.string().optional(),
  sso_admin_user_password: z.string().optional(),
  /** If unset, validation warnings fail the restore. */
  ignore_warnings: z.boolean().optional(),
});
export type RestoreRequest = z.infer<typeof RestoreRequest>;

/** `ApplianceRecoveryRestoreRestoreRequest`: body of restore validate (no `ignore_warnings`). */
export const RestoreValidateRequest = RestoreRequest.omit({ ignore_warnings: true });
export type RestoreValidateRequest = z.infer<typeof RestoreValidateRequest>;

/** `ApplianceRecoveryRestoreJobRestoreJobStatus` (no id: one restore per appliance). */
export const RestoreJobStatus = z.object({
  state: BackupRestoreProcessState,
  messages: z.array(LocalizableMessage),
  progress: Int,
});
export type RestoreJobStatus = z.infer<typeof RestoreJobStatus>;

/** `ApplianceRecoveryRestoreMetadata`: the restore validate result. */
export const RestoreMetadata = z.object({
  timestamp: DateTime,
  parts: z.array(z.string()),
  version: z.string(),
  boxname: z.string(),
  sso_login_required: z.boolean().optional(),
  comment: z.string(),
  applicable: z.boolean(),
  messages: z.array(LocalizableMessage),
});
export type RestoreMetadata = z.infer<typeof RestoreMetadata>;

/** `ApplianceRecoveryBackupLocationSpec`. */
export const LocationSpec = z.object({
  location: z.string().min(1),
  location_user: z.string().optional(),
  location_password: z.string().optional(),
});
export type LocationSpec = z.infer<typeof LocationSpec>;

/** `ApplianceRecoveryBackupSystemNameArchiveFilterSpec`: every field optional. */
export const ArchiveFilterSpec = z.object({
  start_timestamp: DateTime.optional(),
  end_timestamp: DateTime.optional(),
  comment_substring: z.string().optional(),
  max_results: Int.optional(),
});
export type ArchiveFilterSpec = z.infer<typeof ArchiveFilterSpec>;

/** `ApplianceRecoveryBackupSystemNameArchiveSummary`. */
export const ArchiveSummary = z.object({
  archive: z.string(),
  timestamp: DateTime,
  version: z.string(),
  comment: z.string(),
});
export type ArchiveSummary = z.infer<typeof ArchiveSummary>;

/** `ApplianceRecoveryBackupSystemNameArchiveInfo`. */
export const ArchiveInfo = z.object({
  timestamp: DateTime,
  location: z.string(),
  parts: z.array(z.string()),
  version: z.string(),
  system_name: z.string(),
  comment: z.string(),
});
export type ArchiveInfo = z.infer<typeof ArchiveInfo>;

export const DAYS_OF_WEEK = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'] as const;
export const DayOfWeek = z.enum(DAYS_OF_WEEK);

/** `ApplianceRecoveryBackupSchedulesRecurrenceInfo`: hour is 24 h; `days` unset = every day. */
export const RecurrenceInfo = z.object({ minute: Int, hour: Int, days: z.array(DayOfWeek).optional() });
export type RecurrenceInfo = z.infer<typeof RecurrenceInfo>;

/** `ApplianceRecoveryBackupSchedulesRetentionInfo`: unset = keep every backup. */
export const RetentionInfo = z.object({ max_count: Int });
export type RetentionInfo = z.infer<typeof RetentionInfo>;

/** `ApplianceRecoveryBackupSchedulesCreateSpec`. */
export const ScheduleCreateSpec = z.object({
  parts: z.array(z.string()).optional(),
  backup_password: z.string().optional(),
  location: z.string().min(1),
  location_user: z.string().optional(),
  location_password: z.string().optional(),
  enable: z.boolean().optional(),
  recurrence_info: RecurrenceInfo.optional(),
  retention_info: RetentionInfo.optional(),
});
export type ScheduleCreateSpec = z.infer<typeof ScheduleCreateSpec>;

/** `ApplianceRecoveryBackupSchedulesUpdateSpec`: every field optional; set fields replace. */
export const ScheduleUpdateSpec = ScheduleCreateSpec.partial();
export type ScheduleUpdateSpec = z.infer<typeof ScheduleUpdateSpec>;

/** `ApplianceRecoveryBackupSchedulesInfo`. */
export const ScheduleInfo = z.object({
  parts: z.array(z.string()),
  location: z.string(),
  location_user: z.string().optional(),
  enable: z.boolean(),
  recurrence_info: RecurrenceInfo.optional(),
  retention_info: RetentionInfo.optional(),
});
export type ScheduleInfo = z.infer<typeof ScheduleInfo>;

/** `ApplianceRecoveryReconciliationJobCreateSpec`. */
export const ReconciliationCreateSpec = z.object({
  sso_admin_user_name: z.string().optional(),
  sso_admin_user_password: z.string().optional(),
  ignore_warnings: z.boolean().optional(),
});
export type ReconciliationCreateSpec = z.infer<typeof ReconciliationCreateSpec>;

/** `ApplianceRecoveryReconciliationJobStatus`. */
export const ReconciliationStatus = z.enum(['NONE', 'RUNNING', 'SUCCEEDED', 'FAILED']);
export type ReconciliationStatus = z.infer<typeof ReconciliationStatus>;

/** `ApplianceRecoveryReconciliationJobInfo` (here `progress` is a bare percentage, unlike DetailsInfo). */
export const ReconciliationJobInfo = z.object({
  description: TaskMessage,
  service: z.string(),
  operation: z.string(),
  status: ReconciliationStatus,
  messages: z.array(TaskMessage),
  progress: Int,
  cancelable: z.boolean().optional(),
  start_time: DateTime.optional(),
  end_time: DateTime.optional(),
  error: z.unknown().optional(),
  parent: z.string().optional(),
  target: z.object({ type: z.string(), id: z.string() }).optional(),
});
export type ReconciliationJobInfo = z.infer<typeof ReconciliationJobInfo>;

/** Legacy `/rest` maps: `[{key, value}]`, normalised to a record (the `/api` shape). */
// The return type is spelled out: the inferred one emits a `.d.ts` that does not compile (TS2536) with `skipLibCheck: false`.
export const restMap = <T extends z.ZodType>(inner: T): z.ZodType<Record<string, z.output<T>>> =>
  z.array(z.object({ key: z.string(), value: inner })).transform((entries) => {
    const out: Record<string, z.output<T>> = {};
    for (const e of entries as { key: string; value: z.output<T> }[]) out[e.key] = e.value;
    return out;
  });

/** The documented backup-password policy; the first rule broken, or undefined. */
export function backupPasswordViolation(password: string): string | undefined {
  if (password.length < 8 || password.length > 20) return 'backup_password must be 8 to 20 characters long';
  if (!/^[\x21-\x7e]+$/.test(password)) return 'backup_password may contain only visible ASCII characters (no spaces)';
  if (!/[A-Z]/.test(password)) return 'backup_password must contain at least 1 uppercase letter';
  if (!/[a-z]/.test(password)) return 'backup_password must contain at least 1 lowercase letter';
  if (!/[0-9]/.test(password)) return 'backup_password must contain at least 1 numeric digit';
  if (!/[^0-9a-zA-Z]/.test(password))
    return 'backup_password must contain at least 1 special character (not in [0-9a-zA-Z])';
  return undefined;
}
