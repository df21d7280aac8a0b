/**
 * SDDC Manager (VMware Cloud Foundation) backup/restore shapes, from the VCF 4.4 API reference
 * (seeds 001 and 004) and reference §2. The docs mark almost every field optional, so the
 * schemas require only what a client cannot work without (a task's `id` and `status`, the
 * access token) and let unknown extra fields through: newer releases add fields (4.5+
 * `localizableDescriptionPack`, 9.x `notifications`) and that must not break older clients.
 */
import { z } from 'zod';
import { type ErrorContext, UnknownRemoteState } from '../errors';

// ---------------------------------------------------------------------------------------------
// Authentication (§2.1)

/** `POST /v1/tokens` answer. */
export const TokenPair = z.looseObject({
  accessToken: z.string().min(1),
  refreshToken: z.looseObject({ id: z.string().min(1) }),
});
export type TokenPair = z.infer<typeof TokenPair>;

/** `PATCH /v1/tokens/access-token/refresh` answer: the new access token as a JSON string. */
export const AccessToken = z.string().min(1);

// ---------------------------------------------------------------------------------------------
// Error model (§2.5)

export const ErrorCause = z.looseObject({
  type: z.string().optional(),
  message: z.string().optional(),
});
export type ErrorCause = z.infer<typeof ErrorCause>;

/**
 * The SDDC Manager Error model. Every field is optional in the docs (including `message`), so
 * it is optional here too; {@link SddcError} users read `message` first, then `causes` and
 * `nestedErrors`. Extra fields (9.x `notifications`, `label`, `remediationUrl`) pass through.
 */
export interface SddcError {
  errorCode?: string;
  errorType?: string;
  arguments?: string[];
  context?: Record<string, unknown>;
  message?: string;
  remediationMessage?: string;
  causes?: ErrorCause[];
  nestedErrors?: SddcError[];
  referenceToken?: string;
  [extra: string]: unknown;
}
export const SddcError: z.ZodType<SddcError> = z.looseObject({
  errorCode: z.string().optional(),
  errorType: z.string().optional(),
  arguments: z.array(z.string()).optional(),
  context: z.record(z.string(), z.unknown()).optional(),
  message: z.string().optional(),
  remediationMessage: z.string().optional(),
  causes: z.array(ErrorCause).optional(),
  get nestedErrors() {
    return z.array(SddcError).optional();
  },
  referenceToken: z.string().optional(),
});

// ---------------------------------------------------------------------------------------------
// Tasks (§2.2, §2.4)

/** Resource types of 4.4 and later (open: unknown values are kept, not rejected). */
export const RESOURCE_TYPES = [
  'SDDC_MANAGER',
  'PSC',
  'VCENTER',
  'NSX_MANAGER',
  'NSXT_MANAGER',
  'NSX_ALB',
  'ESXI',
  'HCX_MANAGER',
  'VSP',
  'VRA',
  'VRLI',
  'VROPS',
  'VRSLCM',
  'VXRAIL_MANAGER',
] as const;

export const TaskResource = z.looseObject({
  resourceId: z.string().optional(),
  fqdn: z.string().optional(),
  type: z.string().optional(),
  name: z.string().optional(),
  sans: z.array(z.string()).optional(),
});
export type TaskResource = z.infer<typeof TaskResource>;

/** Stage of a subtask. `status` is kept raw: subtask/stage statuses are informational. */
export const TaskStage = z.looseObject({
  name: z.string().optional(),
  description: z.string().optional(),
  type: z.string().optional(),
  status: z.string().optional(),
  creationTimestamp: z.string().optional(),
  completionTimestamp: z.string().optional(),
  errors: z.array(SddcError).optional(),
});
export type TaskStage = z.infer<typeof TaskStage>;

export interface SubTask {
  name?: string;
  description?: string;
  type?: string;
  status?: string;
  creationTimestamp?: string;
  completionTimestamp?: string;
  errors?: SddcError[];
  resources?: TaskResource[];
  stages?: TaskStage[];
  subTasks?: SubTask[];
  [extra: string]: unknown;
}
export const SubTask: z.ZodType<SubTask> = z.looseObject({
  name: z.string().optional(),
  description: z.string().optional(),
  type: z.string().optional(),
  status: z.string().optional(),
  creationTimestamp: z.string().optional(),
  completionTimestamp: z.string().optional(),
  errors: z.array(SddcError).optional(),
  resources: z.array(TaskResource).optional(),
  stages: z.array(TaskStage).optional(),
  get subTasks() {
    return z.array(SubTask).optional();
  },
});

/** 4.5+ localisation of the task description. */
export const LocalizableDescriptionPack = z.looseObject({
  arguments: z.array(z.string()).optional(),
  component: z.string().optional(),
  message: z.string().optional(),
  messageKey: z.string().optional(),
});

/**
 * A task as the appliance sends it. `status` is the raw string (spellings vary: `IN_PROGRESS`,
 * `In Progress`, `IN PROGRESS`, `Failed`): read it through {@link normaliseTaskStatus}, never
 * compare it directly. `id` and `status` are required: without them a task cannot be followed.
 */
export const Task = z.looseObject({
  id: z.string().min(1),
  name: z.string().optional(),
  type: z.string().optional(),
  status: z.string(),
  creationTimestamp: z.string().optional(),
  completionTimestamp: z.string().optional(),
  isCancellable: z.boolean().optional(),
  /** `RESOLVED` or `UNRESOLVED` (kept open). */
  resolutionStatus: z.string().optional(),
  /** PowerCLI exposes IsRetryable; the REST name is a guess [uncertain]. */
  isRetryable: z.boolean().optional(),
  errors: z.array(SddcError).optional(),
  resources: z.array(TaskResource).optional(),
  subTasks: z.array(SubTask).optional(),
  localizableDescriptionPack: LocalizableDescriptionPack.optional(),
});
export type Task = z.infer<typeof Task>;

/** `POST /v1/backups/tasks` answer. */
export const BackupTask = z.looseObject({
  id: z.string().min(1),
  name: z.string().optional(),
  status: z.string(),
  resources: z.array(TaskResource).optional(),
  errors: z.array(SddcError).optional(),
});
export type BackupTask = z.infer<typeof BackupTask>;

/** `GET /v1/tasks` answer (paging metadata as in other VCF `PageOf*` bodies [uncertain]). */
export const TaskList = z.looseObject({
  elements: z.array(Task),
  pageMetadata: z
    .looseObject({
      pageNumber: z.number().optional(),
      pageSize: z.number().optional(),
      totalElements: z.number().optional(),
      totalPages: z.number().optional(),
    })
    .optional(),
});
export type TaskList = z.infer<typeof TaskList>;

// ---------------------------------------------------------------------------------------------
// Requests

const BackupElement = z.object({ resourceType: z.string().min(1) });

/** `POST /v1/backups/tasks` body. */
export const BackupSpec = z.object({ elements: z.array(BackupElement).min(1) });
export type BackupSpec = z.infer<typeof BackupSpec>;

/** `POST /v1/restores/tasks` body (seed 001): all fields required, backupFile non-empty. */
export const RestoreSpec = z.object({
  backupFile: z.string().min(1),
  elements: z.array(BackupElement).min(1),
  encryption: z.object({ passphrase: z.string().min(1) }),
});
export type RestoreSpec = z.infer<typeof RestoreSpec>;

// ---------------------------------------------------------------------------------------------
// Backup configuration (§2.6)

export const BackupLocation = z.looseObject({
  server: z.string().min(1),
  port: z.number().int().min(1).max(65535).optional(),
  protocol: z.string().min(1),
  username: z.string().min(1),
  /** Sent in a spec; an appliance does not echo it back [uncertain]. */
  password: z.string().optional(),
  directoryPath: z.string().min(1),
  sshFingerprint: z.string().optional(),
});
export type BackupLocation = z.infer<typeof BackupLocation>;

export const DAYS_OF_WEEK = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'] as const;

export const RetentionPolicy = z.looseObject({
  numberOfMostRecentBackups: z.number().int().min(1).max(600),
  numberOfDaysOfHourlyBackups: z.number().int().min(0).max(14).optional(),
  numberOfDaysOfDailyBackups: z.number().int().min(0).max(30).optional(),
});

export const BackupSchedule = z.looseObject({
  resourceType: z.string().optional(),
  takeScheduledBackups: z.boolean().optional(),
  /** `WEEKLY` or `HOURLY` (kept open). */
  frequency: z.string().optional(),
  daysOfWeek: z.array(z.string()).optional(),
  hourOfDay: z.number().int().min(0).max(23).optional(),
  minuteOfHour: z.number().int().min(0).max(59).optional(),
  takeBackupOnStateChange: z.boolean().optional(),
  retentionPolicy: RetentionPolicy.optional(),
});
export type BackupSchedule = z.infer<typeof BackupSchedule>;

/** `GET /v1/system/backup-configuration` answer. Secrets are not echoed back [uncertain]. */
export const BackupConfiguration = z.looseObject({
  backupLocations: z.array(BackupLocation).optional(),
  backupSchedules: z.array(BackupSchedule).optional(),
  encryption: z.looseObject({ passphrase: z.string().optional() }).optional(),
  isConfigured: z.boolean(),
});
export type BackupConfiguration = z.infer<typeof BackupConfiguration>;

/**
 * `PUT`/`PATCH /v1/system/backup-configuration` body: the configuration without `isConfigured`.
 * Everything is optional because PATCH sends only what changes (PowerVCF sends
 * `{backupLocations, encryption}`); the appliance decides what a PUT must contain.
 */
export const BackupConfigurationSpec = z.object({
  backupLocations: z.array(BackupLocation).min(1).optional(),
  backupSchedules: z.array(BackupSchedule).optional(),
  encryption: z.object({ passphrase: z.string().min(1) }).optional(),
});
export type BackupConfigurationSpec = z.infer<typeof BackupConfigurationSpec>;

// ---------------------------------------------------------------------------------------------
// Status normalisation (§2.4)

export const TASK_STATUSES = ['PENDING', 'IN_PROGRESS', 'SUCCESSFUL', 'FAILED', 'CANCELLED', 'COMPLETED_WITH_WARNING', 'SKIPPED'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TERMINAL_TASK_STATUSES: readonly TaskStatus[] = ['SUCCESSFUL', 'FAILED', 'CANCELLED', 'COMPLETED_WITH_WARNING', 'SKIPPED'];

/** Spellings without a separator that are not produced by the upper-casing rule. */
const ALIASES: Record<string, TaskStatus> = { INPROGRESS: 'IN_PROGRESS' };

/**
 * The one way to read a task status: upper-case, spaces and hyphens to `_`, then one of
 * {@link TASK_STATUSES}. `"In Progress"`, `"IN PROGRESS"`, `"in-progress"`, `"INPROGRESS"` are
 * all `IN_PROGRESS`. Anything else throws {@link UnknownRemoteState} quoting the raw value: an
 * unknown status is never taken as "still running".
 */
export function normaliseTaskStatus(raw: string, ctx: Partial<ErrorContext> = {}): TaskStatus {
  const key = String(raw).trim().toUpperCase().replace(/[\s-]+/g, '_');
  if ((TASK_STATUSES as readonly string[]).includes(key)) return key as TaskStatus;
  const alias = ALIASES[key];
  if (alias) return alias;
  throw new UnknownRemoteState(`unknown task status ${JSON.stringify(raw)}`, {
    product: 'sddc-manager',
    operation: 'taskStatus',
    ...ctx,
    messages: [...(ctx.messages ?? []), `task status ${JSON.stringify(raw)} is not one of ${TASK_STATUSES.join(', ')}`],
  });
}

/** Whether the task has ended (SUCCESSFUL, FAILED, CANCELLED, COMPLETED_WITH_WARNING, SKIPPED). */
export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_TASK_STATUSES.includes(status);
}
