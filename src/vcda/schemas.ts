/**
 * VMware Cloud Director Availability ("h4" API) shapes: reference §3, seed 003 (POST /backups).
 *
 * The public docs mark almost every field "Optional"; the schemas require only what this client
 * acts on (ids, task state, the backup hash) and accept `null` for the rest, so a real appliance
 * that leaves a field out or sends `null` is read, while one that answers a different shape
 * fails loudly as a SchemaMismatch.
 */
import { z } from 'zod';
import { type ErrorContext, UnknownRemoteState } from '../core/errors';

// ---------------------------------------------------------------------------------------------
// Transport constants (§3.1, §3.2)

/** Session token header: answered by `POST /sessions`, sent on every later call. */
export const VCDA_AUTH_HEADER = 'X-VCAV-Auth';
/** Optional request header correlating logs across services (seed 003). */
export const VCDA_OPERATION_ID_HEADER = 'operationID';
/** API version sent when the caller does not choose one (the Terraform provider uses 4.5 too). */
export const DEFAULT_VCDA_API_VERSION = '4.5';

/** `application/vnd.vmware.h4-v<ver>+json;charset=UTF-8`: requests ask for it, answers come back in it. */
export function h4MediaType(version: string): string {
  return `application/vnd.vmware.h4-v${version}+json;charset=UTF-8`;
}

const H4_MEDIA_TYPE = /application\/vnd\.vmware\.h4-v([0-9][0-9.]*)\+json/i;

/** The API version named by an `Accept` (or `Content-Type`) value, if it names one. */
export function h4VersionOf(header: string | undefined): string | undefined {
  return header ? H4_MEDIA_TYPE.exec(header)?.[1] : undefined;
}

// ---------------------------------------------------------------------------------------------
// ApiError (§3.5, seed 003)

/** `{code, msg, args, stacktrace}`; e.g. `Forbidden` / `Permission denied.` */
export const ApiError = z.object({
  code: z.string(),
  msg: z.string().nullish(),
  args: z.array(z.string()).nullish(),
  stacktrace: z.string().nullish(),
});
export type ApiError = z.infer<typeof ApiError>;

// ---------------------------------------------------------------------------------------------
// Sessions (§3.2). Only the password-based variants: tokens/cookies are not what this project holds.

export const LocalUserSessionRequest = z.object({
  type: z.literal('localUser'),
  localUser: z.string().min(1),
  localPassword: z.string(),
});
export const SsoCredentialsSessionRequest = z.object({
  type: z.literal('ssoCredentials'),
  username: z.string().min(1),
  password: z.string(),
  principal: z.string().nullish(),
});
export const VcdCredentialsSessionRequest = z.object({
  type: z.literal('vcdCredentials'),
  vcdUser: z.string().min(1),
  vcdPassword: z.string(),
});
/** Body of `POST /sessions`. */
export const SessionRequest = z.discriminatedUnion('type', [
  LocalUserSessionRequest,
  SsoCredentialsSessionRequest,
  VcdCredentialsSessionRequest,
]);
export type SessionRequest = z.infer<typeof SessionRequest>;
export type VcdaAuthType = SessionRequest['type'];

/** Body answered by `POST /sessions` (the token itself is in the `X-VCAV-Auth` header). */
export const SessionDetails = z.object({
  roles: z.array(z.string()),
  user: z.string(),
  authenticatedSites: z.array(z.object({ org: z.string().nullish(), site: z.string() })),
});
export type SessionDetails = z.infer<typeof SessionDetails>;

// ---------------------------------------------------------------------------------------------
// Backups (§3.3)

/** Body of `POST /backups` (NewBackupRequest): the archive password is optional. */
export const NewBackupRequest = z.object({ password: z.string().optional() });
export type NewBackupRequest = z.infer<typeof NewBackupRequest>;

/**
 * Epoch milliseconds (int64). The data-structure page shows an integer; seed 003's example shows
 * `"1464261608370L"`, a Java long literal rendered as a string by the doc generator. Both are
 * read, as a number: a wrong guess about which one the appliance really sends must not fail a
 * backup. Anything else (a date string, a fraction) is a schema mismatch.
 */
export const EpochMillis = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^-?\d+L?$/, 'expected epoch milliseconds, optionally as a Java long literal like "1464261608370L"')
    .transform((s) => Number(s.replace(/L$/, '')))
    .pipe(z.number().int().refine(Number.isSafeInteger, 'epoch milliseconds out of range')),
]);

/** `SHA-512:` and 64 colon-separated hex pairs (uppercase on the wire; either case is read). */
export const VcdaHash = z
  .string()
  .regex(/^SHA-512:[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){63}$/, 'expected "SHA-512:" and 64 colon-separated hex pairs');

export const BackupInfo = z.object({
  /** uuid (loose 8-4-4-4-12 form: version/variant bits are not checked). */
  id: z.guid(),
  generatedOn: EpochMillis,
  hash: VcdaHash,
});
export type BackupInfo = z.infer<typeof BackupInfo>;

/** `GET /backups`. */
export const BackupList = z.array(BackupInfo);

/** Formats a hex SHA-512 digest the way VCDA shows it: `SHA-512:AA:BB:…`, uppercase. */
export function formatVcdaHash(hex: string): string {
  return `SHA-512:${hex.toUpperCase().match(/../g)?.join(':') ?? ''}`;
}

/**
 * Lowercase hex of a SHA-512 given as `SHA-512:AA:BB:…`, colon hex, or plain hex; undefined when
 * it is none of those (or names another algorithm).
 */
export function sha512HexOf(hash: string): string | undefined {
  const body = hash
    .trim()
    .replace(/^SHA-?512:/i, '')
    .replace(/:/g, '')
    .toLowerCase();
  return /^[0-9a-f]{128}$/.test(body) ? body : undefined;
}

// ---------------------------------------------------------------------------------------------
// Tasks (§3.4)

/** Raw task states as the appliance sends them; read through {@link normaliseTaskState}. */
export const TASK_STATES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELED'] as const;
export type TaskState = (typeof TASK_STATES)[number];

/**
 * ApiTask. `state` stays a string here so an unknown value reaches {@link normaliseTaskState}
 * (UnknownRemoteState, quoting it) instead of failing as a schema mismatch. `endTime` is -1 while
 * the task runs. `result` is typed per task kind (see {@link ApiTaskOfBackupInfo}).
 */
export const ApiTask = z.object({
  id: z.guid(),
  user: z.string().nullish(),
  /** Opaque; `{}` in the seed. */
  workflowInfo: z.record(z.string(), z.unknown()).nullish(),
  progress: z.number().int().nullish(),
  state: z.string(),
  lastUpdated: EpochMillis.nullish(),
  startTime: EpochMillis.nullish(),
  endTime: EpochMillis.nullish(),
  /** Populated only when the task succeeded. */
  resultType: z.string().nullish(),
  result: z.unknown(),
  error: ApiError.nullish(),
  warnings: z.array(z.unknown()).nullish(),
  site: z.string().nullish(),
});
export type ApiTask = z.infer<typeof ApiTask>;

/** `ApiTask_of_BackupInfo`: what `POST /backups` answers (202) and its task reports. */
export const ApiTaskOfBackupInfo = ApiTask.extend({ result: BackupInfo.nullish() });
export type ApiTaskOfBackupInfo = z.infer<typeof ApiTaskOfBackupInfo>;

/**
 * `GET /tasks` answer. The listing, its paging and its filter names are not in the public docs
 * [uncertain]: this client and the simulator use `?startedAfter=<ms>` → `{items, total}`.
 */
export const TaskList = z.object({
  items: z.array(ApiTask),
  total: z.number().int(),
});
export type TaskList = z.infer<typeof TaskList>;

/** Terminal states: the task will not change any more. */
export function isTerminalTaskState(state: TaskState): boolean {
  return state === 'SUCCEEDED' || state === 'FAILED' || state === 'CANCELED';
}

/**
 * The task state this client acts on. QUEUED/RUNNING (non-terminal) and FAILED are in VMware's
 * Terraform provider; SUCCEEDED is inferred and CANCELED unverified (§3.4). Surrounding blanks and
 * letter case are ignored and the British `CANCELLED` is read as CANCELED; any other value throws
 * {@link UnknownRemoteState} quoting it. An unknown state is never taken as "still running".
 */
export function normaliseTaskState(
  raw: unknown,
  ctx: Partial<Pick<ErrorContext, 'operation' | 'appliance'>> = {},
): TaskState {
  if (typeof raw === 'string') {
    const s = raw.trim().toUpperCase();
    if ((TASK_STATES as readonly string[]).includes(s)) return s as TaskState;
    if (s === 'CANCELLED') return 'CANCELED';
  }
  const quoted =
    typeof raw === 'string' ? JSON.stringify(raw) : `${JSON.stringify(raw) ?? String(raw)} (${typeof raw})`;
  throw new UnknownRemoteState(`unknown task state ${quoted}`, {
    product: 'vcda',
    operation: ctx.operation ?? 'taskGet',
    appliance: ctx.appliance,
    messages: [`state ${quoted} is not one of ${TASK_STATES.join(', ')}`],
  });
}
