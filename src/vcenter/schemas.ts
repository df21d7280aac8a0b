/**
 * vCenter appliance-recovery shapes, from VMware's 7.0.2 Swagger (`test/fixtures/spec/`).
 * Field names are the `/api` wire names; legacy `/rest` wraps the same shapes.
 */
import { z } from 'zod';

export const LOCATION_TYPES = ['FTP', 'HTTP', 'FTPS', 'HTTPS', 'SCP', 'SFTP', 'NFS', 'SMB'] as const;
export const LocationType = z.enum(LOCATION_TYPES);
export type LocationType = z.infer<typeof LocationType>;

/** Job-level message: `{id, default_message, args}`, all required. */
export const LocalizableMessage = z.object({
  id: z.string(),
  default_message: z.string(),
  args: z.array(z.string()),
});
export type LocalizableMessage = z.infer<typeof LocalizableMessage>;

/** Std-level message (errors): adds optional params/localized. */
export const StdLocalizableMessage = LocalizableMessage.extend({
  params: z.record(z.string(), z.unknown()).optional(),
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
  value: z.object({ messages: z.array(StdLocalizableMessage).default([]) }).passthrough().optional(),
});

/** Legacy `/rest` success wrapper. */
export const restValue = <T extends z.ZodType>(inner: T) => z.object({ value: inner });

/** The documented backup-password policy; the first rule broken, or undefined. */
export function backupPasswordViolation(password: string): string | undefined {
  if (password.length < 8 || password.length > 20) return 'backup_password must be 8 to 20 characters long';
  if (!/^[\x21-\x7e]+$/.test(password)) return 'backup_password may contain only visible ASCII characters (no spaces)';
  if (!/[A-Z]/.test(password)) return 'backup_password must contain at least 1 uppercase letter';
  if (!/[a-z]/.test(password)) return 'backup_password must contain at least 1 lowercase letter';
  if (!/[0-9]/.test(password)) return 'backup_password must contain at least 1 numeric digit';
  if (!/[^0-9a-zA-Z]/.test(password)) return 'backup_password must contain at least 1 special character (not in [0-9a-zA-Z])';
  return undefined;
}
