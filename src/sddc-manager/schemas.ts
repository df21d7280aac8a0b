/**
 * SDDC Manager (VMware Cloud Foundation) backup/restore shapes. The contract is VMware's
 * generated bindings, PyPI `vmware-sddc-manager` 9.1.1.0, `vmware/sddc_manager/model_client.py`
 * (struct and error types) and the operation stubs under `vmware/sddc_manager/v1/`; the VCF 4.4
 * API reference pages ("Trigger Restore", "Start Backup") agree on the shapes used here.
 *
 * The bindings declare every field of every model `OptionalType` (absent or null), even a task's
 * `id`. Answers are therefore parsed with `.nullish()` fields, except what a client cannot work
 * without (a task's `id` and `status`, the access token): those stay required so that a garbage
 * answer fails loudly as a SchemaMismatch. Unknown extra fields pass through (newer releases add
 * fields). Request bodies we build are stricter than the bindings (e.g. a backup location needs
 * a server): that catches our own mistakes before the appliance does.
 */
import { z } from 'zod';
import { type ErrorContext, UnknownRemoteState } from '../core/errors';

// ---------------------------------------------------------------------------------------------
// Authentication (`/v1/tokens`)

/** `POST /v1/tokens` answer. */
export const TokenPair = z.looseObject({
  accessToken: z.string().min(1),
  refreshToken: z.looseObject({ id: z.string().min(1) }),
});
export type TokenPair = z.infer<typeof TokenPair>;

/** `PATCH /v1/tokens/access-token/refresh` answer: the new access token as a JSON string. */
export const AccessToken = z.string().min(1);

// ---------------------------------------------------------------------------------------------
// Error model

/** `ErrorCause` (bindings: `type`, `message`). */
export const ErrorCause = z.looseObject({
  type: z.string().nullish(),
  message: z.string().nullish(),
});
export type ErrorCause = z.infer<typeof ErrorCause>;

/** `Remediation` of a `ValidationNotification` (bindings: `message`, `link`). */
export const Remediation = z.looseObject({
  message: z.string().nullish(),
  link: z.string().nullish(),
});

/** `ValidationNotification` (bindings): severity INFO/ERROR/WARNING, message, remediations, impactMessage. */
export const ValidationNotification = z.looseObject({
  severity: z.string().nullish(),
  message: z.string().nullish(),
  remediations: z.array(Remediation).nullish(),
  impactMessage: z.string().nullish(),
});
export type ValidationNotification = z.infer<typeof ValidationNotification>;

/**
 * The SDDC Manager `Error` model (bindings: errorCode, errorType, arguments, context,
 * notifications, message, remediationMessage, causes, nestedErrors, referenceToken, label,
 * remediationUrl; all optional). {@link parseSddcError} reads `message` first, then `causes`,
 * `nestedErrors` and `notifications`. `context` is `map<string,string>` in the bindings; any
 * values are accepted here so that an odd context never hides the rest of an error body.
 */
export interface SddcError {
  errorCode?: string | null;
  errorType?: string | null;
  arguments?: string[] | null;
  context?: Record<string, unknown> | null;
  notifications?: ValidationNotification[] | null;
  message?: string | null;
  remediationMessage?: string | null;
  causes?: ErrorCause[] | null;
  nestedErrors?: SddcError[] | null;
  referenceToken?: string | null;
  label?: string | null;
  remediationUrl?: string | null;
  [extra: string]: unknown;
}
export const SddcError: z.ZodType<SddcError> = z.looseObject({
  errorCode: z.string().nullish(),
  errorType: z.string().nullish(),
  arguments: z.array(z.string()).nullish(),
  context: z.record(z.string(), z.unknown()).nullish(),
  notifications: z.array(ValidationNotification).nullish(),
  message: z.string().nullish(),
  remediationMessage: z.string().nullish(),
  causes: z.array(ErrorCause).nullish(),
  get nestedErrors() {
    return z.array(SddcError).nullish();
  },
  referenceToken: z.string().nullish(),
  label: z.string().nullish(),
  remediationUrl: z.string().nullish(),
});

// ---------------------------------------------------------------------------------------------
// Tasks (`/v1/backups/tasks`, `/v1/tasks`)

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

/** `Resource` (bindings: resourceId, fqdn, type, name, sans). */
export const TaskResource = z.looseObject({
  resourceId: z.string().nullish(),
  fqdn: z.string().nullish(),
  type: z.string().nullish(),
  name: z.string().nullish(),
  sans: z.array(z.string()).nullish(),
});
export type TaskResource = z.infer<typeof TaskResource>;

/** `Stage` of a subtask. `status` is kept raw: subtask/stage statuses are informational. */
export const TaskStage = z.looseObject({
  name: z.string().nullish(),
  description: z.string().nullish(),
  type: z.string().nullish(),
  status: z.string().nullish(),
  creationTimestamp: z.string().nullish(),
  completionTimestamp: z.string().nullish(),
  errors: z.array(SddcError).nullish(),
});
export type TaskStage = z.infer<typeof TaskStage>;

/** `DocumentationLink` (bindings: `url`, `label`), on a subtask. */
export const DocumentationLink = z.looseObject({
  url: z.string().nullish(),
  label: z.string().nullish(),
});
export type DocumentationLink = z.infer<typeof DocumentationLink>;

/** `SubTask` (bindings), nested through `subTasks`. */
export interface SubTask {
  name?: string | null;
  description?: string | null;
  type?: string | null;
  status?: string | null;
  creationTimestamp?: string | null;
  completionTimestamp?: string | null;
  errors?: SddcError[] | null;
  resources?: TaskResource[] | null;
  stages?: TaskStage[] | null;
  subTasks?: SubTask[] | null;
  documentationLink?: DocumentationLink | null;
  [extra: string]: unknown;
}
export const SubTask: z.ZodType<SubTask> = z.looseObject({
  name: z.string().nullish(),
  description: z.string().nullish(),
  type: z.string().nullish(),
  status: z.string().nullish(),
  creationTimestamp: z.string().nullish(),
  completionTimestamp: z.string().nullish(),
  errors: z.array(SddcError).nullish(),
  resources: z.array(TaskResource).nullish(),
  stages: z.array(TaskStage).nullish(),
  get subTasks() {
    return z.array(SubTask).nullish();
  },
  documentationLink: DocumentationLink.nullish(),
});

/** The task's `localizableDescriptionPack`, a `MessagePack` in the bindings. */
export const LocalizableDescriptionPack = z.looseObject({
  component: z.string().nullish(),
  messageKey: z.string().nullish(),
  arguments: z.array(z.string()).nullish(),
  message: z.string().nullish(),
  bundle: z.string().nullish(),
});

/**
 * A task as the appliance sends it. `status` is the raw string (spellings vary: `IN_PROGRESS`,
 * `In Progress`, `IN PROGRESS`, `Failed`): read it through {@link normaliseTaskStatus}, never
 * compare it directly. `id` and `status` are required: without them a task cannot be followed.
 */
export const Task = z.looseObject({
  id: z.string().min(1),
  name: z.string().nullish(),
  localizableDescriptionPack: LocalizableDescriptionPack.nullish(),
  type: z.string().nullish(),
  status: z.string(),
  creationTimestamp: z.string().nullish(),
  completionTimestamp: z.string().nullish(),
  subTasks: z.array(SubTask).nullish(),
  errors: z.array(SddcError).nullish(),
  resources: z.array(TaskResource).nullish(),
  /** `RESOLVED` or `UNRESOLVED` (kept open). */
  resolutionStatus: z.string().nullish(),
  isCancellable: z.boolean().nullish(),
  /** "Indicates whether a task is eligible for retry or not" (bindings). */
  isRetryable: z.boolean().nullish(),
});
export type Task = z.infer<typeof Task>;

/** `POST /v1/backups/tasks` answer. */
export const BackupTask = z.looseObject({
  id: z.string().min(1),
  name: z.string().nullish(),
  status: z.string(),
  resources: z.array(TaskResource).nullish(),
  errors: z.array(SddcError).nullish(),
});
export type BackupTask = z.infer<typeof BackupTask>;

/** `PageMetadata` (bindings: pageNumber, pageSize, totalElements, totalPages). */
export const PageMetadata = z.looseObject({
  pageNumber: z.number().int().nullish(),
  pageSize: z.number().int().nullish(),
  totalElements: z.number().int().nullish(),
  totalPages: z.number().int().nullish(),
});
export type PageMetadata = z.infer<typeof PageMetadata>;

/** `GET /v1/tasks` answer, `PageOfTask` in the bindings. */
export const TaskList = z.looseObject({
  elements: z.array(Task).nullish(),
  pageMetadata: PageMetadata.nullish(),
});
export type TaskList = z.infer<typeof TaskList>;

/**
 * Query of `GET /v1/tasks` as the bindings declare it (`Tasks.get_tasks`), by wire name. The
 * bindings give no value sets for `taskStatus`, `orderBy`, `orderDirection` [uncertain: a
 * real appliance's answer to `orderDirection=ASC|DESC` and `orderBy=creationTimestamp` would
 * settle it].
 */
export const TASK_LIST_QUERY = [
  'limit',
  'taskStatus',
  'taskType',
  'resourceId',
  'resourceType',
  'completedAfter',
  'pageNumber',
  'pageSize',
  'orderDirection',
  'orderBy',
  'taskName',
  'doLiveRefresh',
] as const;
/** "Max page size allowed is 100" (bindings, `get_tasks` `page_size`). */
export const MAX_TASK_PAGE_SIZE = 100;

// ---------------------------------------------------------------------------------------------
// Validation (`POST /v1/system/backup-configuration/validations`)

/** `ValidationCheck` (bindings), nested through `nestedValidationChecks`. */
export interface ValidationCheck {
  description?: string | null;
  severity?: string | null;
  resultStatus?: string | null;
  acknowledge?: boolean | null;
  errorResponse?: SddcError | null;
  nestedValidationChecks?: ValidationCheck[] | null;
  [extra: string]: unknown;
}
export const ValidationCheck: z.ZodType<ValidationCheck> = z.looseObject({
  description: z.string().nullish(),
  severity: z.string().nullish(),
  resultStatus: z.string().nullish(),
  acknowledge: z.boolean().nullish(),
  errorResponse: SddcError.nullish(),
  get nestedValidationChecks() {
    return z.array(ValidationCheck).nullish();
  },
});

/**
 * `Validation` (bindings). `executionStatus` is one of IN_PROGRESS, FAILED, COMPLETED, UNKNOWN,
 * SKIPPED, CANCELLED, CANCELLATION_IN_PROGRESS; `resultStatus` one of SUCCEEDED, FAILED,
 * WARNING, UNKNOWN, CANCELLATION_IN_PROGRESS (both kept open as strings).
 */
export const Validation = z.looseObject({
  id: z.string().nullish(),
  description: z.string().nullish(),
  executionStatus: z.string().nullish(),
  resultStatus: z.string().nullish(),
  validationChecks: z.array(ValidationCheck).nullish(),
  additionalProperties: z.record(z.string(), z.string()).nullish(),
});
export type Validation = z.infer<typeof Validation>;

// ---------------------------------------------------------------------------------------------
// Requests

const BackupElement = z.object({ resourceType: z.string().min(1) });

/** `POST /v1/backups/tasks` body. */
export const BackupSpec = z.object({ elements: z.array(BackupElement).min(1) });
export type BackupSpec = z.infer<typeof BackupSpec>;

/** `POST /v1/restores/tasks` body (VCF 4.4 API reference, "Trigger Restore"): all fields required, backupFile non-empty. */
export const RestoreSpec = z.object({
  backupFile: z.string().min(1),
  elements: z.array(BackupElement).min(1),
  encryption: z.object({ passphrase: z.string().min(1) }),
});
export type RestoreSpec = z.infer<typeof RestoreSpec>;

// ---------------------------------------------------------------------------------------------
// Backup configuration (`/v1/system/backup-configuration`)

/**
 * `BackupLocation` as an answer (`GET /v1/system/backup-configuration` and
 * `GET /v1/system/backup-configuration/backup-locations`): every field optional, as the
 * bindings declare. The lookup answers at least `server`, `port` and `sshFingerprint`.
 */
export const BackupLocation = z.looseObject({
  server: z.string().nullish(),
  port: z.number().int().min(0).max(65535).nullish(),
  protocol: z.string().nullish(),
  username: z.string().nullish(),
  /** An appliance does not echo it back [uncertain]. */
  password: z.string().nullish(),
  directoryPath: z.string().nullish(),
  sshFingerprint: z.string().nullish(),
});
export type BackupLocation = z.infer<typeof BackupLocation>;

/** `BackupLocation` as we send it in a spec: what an SFTP target cannot do without is required. */
export const BackupLocationSpec = z.object({
  server: z.string().min(1),
  port: z.number().int().min(1).max(65535).optional(),
  protocol: z.string().min(1),
  username: z.string().min(1),
  password: z.string().optional(),
  directoryPath: z.string().min(1),
  /** "SSH fingerprint of the backup server" (bindings); look it up with `getBackupLocation`. */
  sshFingerprint: z.string().optional(),
});
export type BackupLocationSpec = z.infer<typeof BackupLocationSpec>;

export const DAYS_OF_WEEK = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'] as const;

/**
 * `BackupRetentionPolicy` (bindings; all optional there). The ranges are the VCF API reference
 * page's (1–600, 0–14, 0–30); the bindings carry none.
 */
export const RetentionPolicy = z.looseObject({
  numberOfMostRecentBackups: z.number().int().min(1).max(600).nullish(),
  numberOfDaysOfHourlyBackups: z.number().int().min(0).max(14).nullish(),
  numberOfDaysOfDailyBackups: z.number().int().min(0).max(30).nullish(),
});

export const BackupSchedule = z.looseObject({
  resourceType: z.string().nullish(),
  takeScheduledBackups: z.boolean().nullish(),
  /** `WEEKLY` or `HOURLY` (kept open). */
  frequency: z.string().nullish(),
  daysOfWeek: z.array(z.string()).nullish(),
  hourOfDay: z.number().int().min(0).max(23).nullish(),
  minuteOfHour: z.number().int().min(0).max(59).nullish(),
  takeBackupOnStateChange: z.boolean().nullish(),
  retentionPolicy: RetentionPolicy.nullish(),
});
export type BackupSchedule = z.infer<typeof BackupSchedule>;

/**
 * `GET /v1/system/backup-configuration` answer (`BackupConfiguration`; all fields optional in the
 * bindings, `isConfigured` = "configuration status of both FTP server and passphrase"). Secrets
 * are not echoed back [uncertain].
 */
export const BackupConfiguration = z.looseObject({
  backupLocations: z.array(BackupLocation).nullish(),
  backupSchedules: z.array(BackupSchedule).nullish(),
  encryption: z.looseObject({ passphrase: z.string().nullish() }).nullish(),
  isConfigured: z.boolean().nullish(),
});
export type BackupConfiguration = z.infer<typeof BackupConfiguration>;

/**
 * `PUT`/`PATCH /v1/system/backup-configuration` body: the configuration without `isConfigured`.
 * Everything is optional because PATCH sends only what changes (PowerVCF sends
 * `{backupLocations, encryption}`); the appliance decides what a PUT must contain.
 */
export const BackupConfigurationSpec = z.object({
  backupLocations: z.array(BackupLocationSpec).min(1).optional(),
  backupSchedules: z.array(BackupSchedule).optional(),
  encryption: z.object({ passphrase: z.string().min(1) }).optional(),
});
export type BackupConfigurationSpec = z.infer<typeof BackupConfigurationSpec>;

// ---------------------------------------------------------------------------------------------
// Status normalisation

export const TASK_STATUSES = [
  'PENDING',
  'IN_PROGRESS',
  'SUCCESSFUL',
  'FAILED',
  'CANCELLED',
  'COMPLETED_WITH_WARNING',
  'SKIPPED',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TERMINAL_TASK_STATUSES: readonly TaskStatus[] = [
  'SUCCESSFUL',
  'FAILED',
  'CANCELLED',
  'COMPLETED_WITH_WARNING',
  'SKIPPED',
];

/** Spellings without a separator that are not produced by the upper-casing rule. */
const ALIASES: Record<string, TaskStatus> = { INPROGRESS: 'IN_PROGRESS' };

/**
 * The one way to read a task status: upper-case, spaces and hyphens to `_`, then one of
 * {@link TASK_STATUSES}. `"In Progress"`, `"IN PROGRESS"`, `"in-progress"`, `"INPROGRESS"` are
 * all `IN_PROGRESS`. Anything else throws {@link UnknownRemoteState} quoting the raw value: an
 * unknown status is never taken as "still running".
 */
export function normaliseTaskStatus(raw: string, ctx: Partial<ErrorContext> = {}): TaskStatus {
  const key = String(raw)
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, '_');
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
