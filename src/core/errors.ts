/**
 * The one error taxonomy. Every failure talking to a VMware appliance becomes a
 * {@link VmwareApiError} subclass, and this module alone decides whether it is retryable
 * (reference §5). Nothing else in the code guesses.
 *
 * Pure module (no Node built-ins): workflow code may import the class names and codes.
 */

export type Product = 'vcenter' | 'sddc-manager' | 'vcda';

/** Where a failure happened. Never carries credentials. */
export interface ErrorContext {
  /** Unset only for a failure that concerns no single product (a credential-policy refusal of a webhook or a secret source). */
  product?: Product;
  /** Client operation, e.g. `backupJobCreate`. */
  operation: string;
  /** Appliance name or URL (no credentials). */
  appliance?: string;
  /** HTTP status, when the appliance answered. */
  httpStatus?: number;
  /** vAPI `error_type`, SDDC Manager `errorCode`, VCDA `code`. */
  vmwareCode?: string;
  /** Messages from the appliance, in order. */
  messages?: string[];
  /** What the operator can do about it. Overrides the class default. */
  remediation?: string;
  cause?: unknown;
}

/** How a failure should be retried. */
export interface RetryDecision {
  retryable: boolean;
  /** Overrides the activity retry policy's backoff for the next attempt. */
  nextRetryDelayMs?: number;
}

/** Options that tune retry decisions; all have documented defaults. */
export interface RetryTuning {
  /** Delay before retrying after the appliance said it is busy. Default 30 000 ms. */
  busyRetryDelayMs?: number;
  /** Attempts allowed for ambiguous failures (HTTP 500, malformed bodies). Default 5. */
  ambiguousMaxAttempts?: number;
}

/** Time bounds of the step a failure happened in. */
export interface StepClock {
  /** Now, in ms since the epoch. */
  nowMs: number;
  /** The step gives up being busy-retried after this (ms since the epoch). */
  deadlineMs?: number;
}

export const DEFAULT_BUSY_RETRY_DELAY_MS = 30_000;
export const DEFAULT_AMBIGUOUS_MAX_ATTEMPTS = 5;

type Retryability = 'transient' | 'busy' | 'ambiguous' | 'fatal';

/** Base class: one stable `code` per failure mode, as undici does. */
export abstract class VmwareApiError extends Error {
  /** The class name as a literal, so `ApplicationFailure.type` survives bundling and minifying. */
  abstract override readonly name: ErrorType;
  abstract readonly code: string;
  /** How this failure mode is retried; read through {@link retryDecision}. */
  protected abstract readonly retryability: Retryability;
  protected abstract readonly defaultRemediation: string;
  readonly product?: Product;
  readonly operation: string;
  readonly appliance?: string;
  readonly httpStatus?: number;
  readonly vmwareCode?: string;
  readonly messages: string[];
  /** Plain summary without context (what the constructor was given). */
  readonly summary: string;
  private readonly remediationOverride?: string;

  constructor(summary: string, ctx: ErrorContext) {
    super(summary, ctx.cause === undefined ? undefined : { cause: ctx.cause });
    this.summary = summary;
    // Computed on read: subclass fields (remediation) exist only after this constructor returns.
    Object.defineProperty(this, 'message', { get: () => this.describe(), enumerable: false, configurable: true });
    this.product = ctx.product;
    this.operation = ctx.operation;
    this.appliance = ctx.appliance;
    this.httpStatus = ctx.httpStatus;
    this.vmwareCode = ctx.vmwareCode;
    this.messages = ctx.messages ?? [];
    this.remediationOverride = ctx.remediation;
  }

  get remediation(): string {
    return this.remediationOverride ?? this.defaultRemediation;
  }

  /** The full message: product, appliance, operation, VMware error id, messages and the hint. */
  private describe(): string {
    const where = [this.product, this.appliance].filter(Boolean).join(' ');
    const status = [this.httpStatus && `HTTP ${this.httpStatus}`, this.vmwareCode].filter(Boolean).join(' ');
    const detail = this.messages.length ? `: ${this.messages.join('; ').replace(/\.$/, '')}` : '';
    return `${[where, this.operation].filter(Boolean).join(' ')}: ${this.summary}${status ? ` (${status})` : ''}${detail}. Fix: ${this.remediation}`;
  }

  /** @internal used by {@link retryDecision} only. */
  retryabilityForDecision(): Retryability {
    return this.retryability;
  }
}

/** The appliance is busy (FEATURE_IN_USE, RESOURCE_BUSY, SDDC resource lock, HTTP 423/409). */
export class ResourceBusy extends VmwareApiError {
  override readonly name = 'ResourceBusy' as const;
  readonly code = 'VMWARE_DR_RESOURCE_BUSY';
  protected readonly retryability = 'busy';
  protected readonly defaultRemediation =
    'wait for the running backup/restore/task to finish; the step retries by itself';
}

/** Credentials rejected, even after one re-login (401 UNAUTHENTICATED / NotAuthenticated). */
export class AuthenticationFailed extends VmwareApiError {
  override readonly name = 'AuthenticationFailed' as const;
  readonly code = 'VMWARE_DR_AUTHENTICATION_FAILED';
  protected readonly retryability = 'fatal';
  protected readonly defaultRemediation = 'check the username and the password reference (env:/file:) of this endpoint';
}

/** Authenticated but not allowed (403 UNAUTHORIZED / Forbidden). */
export class PermissionDenied extends VmwareApiError {
  override readonly name = 'PermissionDenied' as const;
  readonly code = 'VMWARE_DR_PERMISSION_DENIED';
  protected readonly retryability = 'fatal';
  protected readonly defaultRemediation =
    'give the user the required role (vCenter: SSO group SystemConfiguration.Administrators; SDDC Manager: ADMIN; VCDA: administrator)';
}

/** The object or path does not exist (404 NOT_FOUND / OPERATION_NOT_FOUND). */
export class NotFound extends VmwareApiError {
  override readonly name = 'NotFound' as const;
  readonly code = 'VMWARE_DR_NOT_FOUND';
  protected readonly retryability = 'fatal';
  protected readonly defaultRemediation = 'check the id, or the API form (/api vs /rest) and version of the appliance';
}

/** The request was rejected as invalid (INVALID_ARGUMENT, INVALID_REQUEST, UNSUPPORTED, ALREADY_EXISTS, SDDC 400 validation). */
export class InvalidArgument extends VmwareApiError {
  override readonly name = 'InvalidArgument' as const;
  readonly code = 'VMWARE_DR_INVALID_ARGUMENT';
  protected readonly retryability = 'fatal';
  protected readonly defaultRemediation = 'correct the request as the appliance message says';
}

/** The appliance is not in a state that allows this (NOT_ALLOWED_IN_CURRENT_STATE). */
export class WrongState extends VmwareApiError {
  override readonly name = 'WrongState' as const;
  readonly code = 'VMWARE_DR_WRONG_STATE';
  protected readonly retryability = 'fatal';
  protected readonly defaultRemediation =
    'run this on an appliance in the right stage (a vCenter restore needs a freshly deployed appliance before firstboot)';
}

/** The appliance failed internally (HTTP 500, INTERNAL_SERVER_ERROR, GeneralServerFailure). Limited retries. */
export class ServerError extends VmwareApiError {
  override readonly name = 'ServerError' as const;
  readonly code = 'VMWARE_DR_SERVER_ERROR';
  protected readonly retryability = 'ambiguous';
  protected readonly defaultRemediation = 'check the appliance logs and health; the step retries a few times';
}

/** The service is down or restarting (502/503, SERVICE_UNAVAILABLE, 429). */
export class ServiceUnavailable extends VmwareApiError {
  override readonly name = 'ServiceUnavailable' as const;
  readonly code = 'VMWARE_DR_SERVICE_UNAVAILABLE';
  protected readonly retryability = 'transient';
  protected readonly defaultRemediation = 'wait for the appliance services to come back; the step retries by itself';
}

/** The appliance or the connection timed out (504/408, TIMED_OUT, undici timeouts). */
export class RequestTimeout extends VmwareApiError {
  override readonly name = 'RequestTimeout' as const;
  readonly code = 'VMWARE_DR_TIMEOUT';
  protected readonly retryability = 'transient';
  protected readonly defaultRemediation = 'check the appliance load and network; the step retries by itself';
}

/** The connection failed (refused, reset, DNS, socket closed). */
export class NetworkError extends VmwareApiError {
  override readonly name = 'NetworkError' as const;
  readonly code = 'VMWARE_DR_NETWORK';
  protected readonly retryability = 'transient';
  protected readonly defaultRemediation =
    'check that the appliance address is reachable from the worker; the step retries by itself';
}

/** TLS verification failed (unknown CA, pin mismatch, bad TLS configuration). */
export class TlsError extends VmwareApiError {
  override readonly name = 'TlsError' as const;
  readonly code = 'VMWARE_DR_TLS';
  protected readonly retryability = 'fatal';
  protected readonly defaultRemediation =
    "trust the appliance certificate: set the endpoint's tls.caFile or tls.thumbprint (or, knowingly, tls.insecure: true)";
}

/** The appliance answered something this client cannot read (malformed JSON, unexpected status). Limited retries. */
export class ProtocolError extends VmwareApiError {
  override readonly name: ErrorType = 'ProtocolError';
  readonly code: string = 'VMWARE_DR_PROTOCOL';
  protected readonly retryability: Retryability = 'ambiguous';
  protected readonly defaultRemediation: string =
    'check that the URL points at the right product and version; report the body if it persists';
}

/** A well-formed body whose shape breaks the schema (quotes the offending field's path). */
export class SchemaMismatch extends ProtocolError {
  override readonly name: ErrorType = 'SchemaMismatch';
  override readonly code = 'VMWARE_DR_SCHEMA_MISMATCH';
  protected override readonly retryability = 'fatal';
}

/** A downloaded backup whose SHA-512 differs from the one the appliance published. Limited retries. */
export class BackupHashMismatch extends ProtocolError {
  override readonly name: ErrorType = 'BackupHashMismatch';
  override readonly code = 'VMWARE_DR_BACKUP_HASH_MISMATCH';
  protected override readonly defaultRemediation =
    'the transfer or the stored archive is corrupt; the step retries a few times, then check the appliance storage and the network path';
}

/** The appliance reported a state this client does not know: never taken as "still running". */
export class UnknownRemoteState extends ProtocolError {
  override readonly name: ErrorType = 'UnknownRemoteState';
  override readonly code = 'VMWARE_DR_UNKNOWN_STATE';
  protected override readonly retryability = 'fatal';
  protected override readonly defaultRemediation = 'report the raw state value; this client does not know it';
}

/** The remote job or task ended FAILED or CANCELLED: a business outcome, not retried by the activity. */
export class RemoteJobFailed extends VmwareApiError {
  override readonly name = 'RemoteJobFailed' as const;
  readonly code = 'VMWARE_DR_REMOTE_JOB_FAILED';
  protected readonly retryability = 'fatal';
  protected readonly defaultRemediation =
    'read the job messages on the appliance, fix the cause and run the step again';
}

/**
 * A state-changing request (the POST that starts a job or task) got an answer that cannot be
 * read, or none the client could trust: the job may exist. Retried a few times, within the step's
 * deadline; the retry attaches to the job this step created instead of starting a second one.
 */
export class StartOutcomeUnknown extends VmwareApiError {
  override readonly name = 'StartOutcomeUnknown' as const;
  readonly code = 'VMWARE_DR_START_OUTCOME_UNKNOWN';
  protected readonly retryability = 'ambiguous';
  protected readonly defaultRemediation =
    'none needed if a retry succeeds: the step looks for the job its request may have created before it starts another';
}

/**
 * The worker's credential policy (src/core/policy/index.ts) refused what a workflow input asked for: an
 * appliance, a secret reference, a backup location, a webhook or a TLS setting the operator did
 * not allow. Raised before the secret is read and before any connection is opened. The message
 * names the input field, the policy rule and what to add to the policy, never a secret's value.
 */
export class NotPermitted extends VmwareApiError {
  override readonly name = 'NotPermitted' as const;
  readonly code = 'VMWARE_DR_NOT_PERMITTED';
  protected readonly retryability = 'fatal';
  protected readonly defaultRemediation =
    "ask the worker's operator to allow it in the credential policy (VMWARE_DR_POLICY), or correct the input";
  /** The policy rule that refused it, e.g. `appliances[0].secrets.login` or `secretSources.env`. */
  readonly rule: string;
  /** The input field refused, e.g. `endpoint.passwordRef` or `backup.location`. */
  readonly field: string;

  constructor(summary: string, ctx: ErrorContext & { rule?: string; field?: string }) {
    super(summary, ctx);
    this.rule = ctx.rule ?? '';
    this.field = ctx.field ?? '';
  }
}

/** Every error class by its `name`: the one registry the type lists below derive from. */
export const ERROR_CLASSES = {
  ResourceBusy,
  AuthenticationFailed,
  PermissionDenied,
  NotFound,
  InvalidArgument,
  WrongState,
  ServerError,
  ServiceUnavailable,
  RequestTimeout,
  NetworkError,
  TlsError,
  ProtocolError,
  SchemaMismatch,
  BackupHashMismatch,
  UnknownRemoteState,
  RemoteJobFailed,
  StartOutcomeUnknown,
  NotPermitted,
} as const;

/** All error classes by name: the `type` of the ApplicationFailure each becomes. */
export type ErrorType =
  | 'ResourceBusy'
  | 'AuthenticationFailed'
  | 'PermissionDenied'
  | 'NotFound'
  | 'InvalidArgument'
  | 'WrongState'
  | 'ServerError'
  | 'ServiceUnavailable'
  | 'RequestTimeout'
  | 'NetworkError'
  | 'TlsError'
  | 'ProtocolError'
  | 'SchemaMismatch'
  | 'BackupHashMismatch'
  | 'UnknownRemoteState'
  | 'RemoteJobFailed'
  | 'StartOutcomeUnknown'
  | 'NotPermitted';

// Compile-time check that the registry and the union agree in both directions.
type _RegistryMatchesUnion = [keyof typeof ERROR_CLASSES] extends [ErrorType]
  ? [ErrorType] extends [keyof typeof ERROR_CLASSES]
    ? true
    : never
  : never;
const _registryMatchesUnion: _RegistryMatchesUnion = true;
void _registryMatchesUnion;

export const ERROR_TYPES = Object.keys(ERROR_CLASSES) as readonly ErrorType[];

/** Error types that never succeed on retry: useful for workflow-level retry policies. */
export const NON_RETRYABLE_ERROR_TYPES: readonly ErrorType[] = ERROR_TYPES.filter(
  (name) => new ERROR_CLASSES[name]('', { product: 'vcenter', operation: '' }).retryabilityForDecision() === 'fatal',
);

/**
 * Failure types raised outside the appliance taxonomy. `InvalidInput`: a workflow's input broke its
 * schema (nothing was started). `ConfigurationError`: TLS settings, a secret reference or an option
 * that cannot work on this worker. `InternalError`: anything else, a bug: never retried.
 * All three are non-retryable.
 */
export const NON_APPLIANCE_FAILURE_TYPES = ['InvalidInput', 'ConfigurationError', 'InternalError'] as const;
export type NonApplianceFailureType = (typeof NON_APPLIANCE_FAILURE_TYPES)[number];

/** Whether the step's deadline has passed: then nothing is retried any more. */
function pastDeadline(clock: StepClock | undefined): boolean {
  return clock?.deadlineMs !== undefined && clock.nowMs >= clock.deadlineMs;
}

/**
 * Decide how to retry `err` on attempt number `attempt` (1-based, as Temporal counts), within
 * the step's deadline when `clock` gives one: past it, nothing is retried (network errors included).
 * Errors that are not {@link VmwareApiError}s are programming errors: not retryable.
 */
export function retryDecision(err: unknown, attempt = 1, tuning: RetryTuning = {}, clock?: StepClock): RetryDecision {
  if (!(err instanceof VmwareApiError)) return { retryable: false };
  switch (err.retryabilityForDecision()) {
    case 'transient':
      return { retryable: !pastDeadline(clock) };
    case 'busy': {
      const delay = tuning.busyRetryDelayMs ?? DEFAULT_BUSY_RETRY_DELAY_MS;
      // Busy is retried until the step's deadline, never past it.
      if (clock?.deadlineMs !== undefined && clock.nowMs + delay > clock.deadlineMs) return { retryable: false };
      return { retryable: true, nextRetryDelayMs: delay };
    }
    case 'ambiguous':
      return {
        retryable: !pastDeadline(clock) && attempt < (tuning.ambiguousMaxAttempts ?? DEFAULT_AMBIGUOUS_MAX_ATTEMPTS),
      };
    case 'fatal':
      return { retryable: false };
  }
}

// ---------------------------------------------------------------------------------------------
// Classification of appliance answers (reference §1.6, §2.5, §3.5, §5)

type ErrorClass = new (summary: string, ctx: ErrorContext) => VmwareApiError;

/** vAPI std error types (`/api` `error_type`, or the tail of legacy `com.vmware.vapi.std.errors.x`). */
const VAPI_ERROR_CLASSES: Record<string, ErrorClass> = {
  FEATURE_IN_USE: ResourceBusy,
  RESOURCE_BUSY: ResourceBusy,
  RESOURCE_IN_USE: ResourceBusy,
  CONCURRENT_CHANGE: ResourceBusy,
  UNAUTHENTICATED: AuthenticationFailed,
  UNAUTHORIZED: PermissionDenied,
  UNVERIFIED_PEER: TlsError,
  NOT_FOUND: NotFound,
  OPERATION_NOT_FOUND: NotFound,
  INVALID_ARGUMENT: InvalidArgument,
  INVALID_REQUEST: InvalidArgument,
  INVALID_ELEMENT_CONFIGURATION: InvalidArgument,
  INVALID_ELEMENT_TYPE: InvalidArgument,
  UNEXPECTED_INPUT: InvalidArgument,
  UNSUPPORTED: InvalidArgument,
  ALREADY_EXISTS: InvalidArgument,
  ALREADY_IN_DESIRED_STATE: InvalidArgument,
  NOT_ALLOWED_IN_CURRENT_STATE: WrongState,
  SERVICE_UNAVAILABLE: ServiceUnavailable,
  TIMED_OUT: RequestTimeout,
  INTERNAL_SERVER_ERROR: ServerError,
  ERROR: ServerError,
  CANCELED: ServerError,
  RESOURCE_INACCESSIBLE: ServerError,
  UNABLE_TO_ALLOCATE_RESOURCE: ServerError,
};

/** SDDC Manager `errorCode` and VCDA `code` values with a meaning beyond their HTTP status. */
const NAMED_CODE_CLASSES: Record<string, ErrorClass> = {
  UNAUTHORIZED: AuthenticationFailed, // SDDC Manager uses errorCode Unauthorized for a bad/expired token
  UNAUTHENTICATED: AuthenticationFailed,
  NOTAUTHENTICATED: AuthenticationFailed,
  FORBIDDEN: PermissionDenied,
  PERMISSIONDENIED: PermissionDenied,
  GENERALSERVERFAILURE: ServerError,
  RESOURCE_LOCKED: ResourceBusy,
  RESOURCE_BUSY: ResourceBusy,
  RESOURCES_LOCKED: ResourceBusy,
  NOTFOUND: NotFound,
  TASK_NOT_FOUND: NotFound,
  BACKUPINPROGRESS: ResourceBusy, // VCDA: code for a second POST /backups while one runs is undocumented (simulator guess)
};

/** Class from the HTTP status alone (reference §1.6 reverse map). */
function classForStatus(status: number): ErrorClass {
  if (status === 401) return AuthenticationFailed;
  if (status === 403) return PermissionDenied;
  if (status === 404) return NotFound;
  if (status === 408 || status === 504) return RequestTimeout;
  if (status === 409 || status === 423) return ResourceBusy;
  if (status === 429 || status === 502 || status === 503) return ServiceUnavailable;
  if (status >= 500) return ServerError;
  if (status >= 400) return InvalidArgument;
  return ProtocolError;
}

/** Normalise a vAPI error type: `com.vmware.vapi.std.errors.feature_in_use` → `FEATURE_IN_USE`. */
export function normaliseVapiErrorType(type: string): string {
  return type.replace(/^com\.vmware\.vapi\.std\.errors\./, '').toUpperCase();
}

/**
 * The error for an HTTP error answer. `ctx.vmwareCode` is the product's own code when the
 * body had one; the product decides how its codes are read (vAPI types, SDDC errorCode, VCDA code).
 */
export function errorFromResponse(ctx: ErrorContext & { httpStatus: number }): VmwareApiError {
  let cls = classForStatus(ctx.httpStatus);
  const code = ctx.vmwareCode;
  if (code) {
    if (ctx.product === 'vcenter') {
      cls = VAPI_ERROR_CLASSES[normaliseVapiErrorType(code)] ?? cls;
    } else {
      const key = code.toUpperCase();
      cls = NAMED_CODE_CLASSES[key] ?? NAMED_CODE_CLASSES[key.replace(/[_\s]/g, '')] ?? cls;
    }
  }
  // A 401 is an authentication failure whatever the body says.
  if (ctx.httpStatus === 401) cls = AuthenticationFailed;
  return new cls(`appliance answered HTTP ${ctx.httpStatus}`, ctx);
}

/** undici / Node socket error codes → class. */
const NETWORK_CODES: Record<string, ErrorClass> = {
  UND_ERR_CONNECT_TIMEOUT: RequestTimeout,
  UND_ERR_HEADERS_TIMEOUT: RequestTimeout,
  UND_ERR_BODY_TIMEOUT: RequestTimeout,
  ETIMEDOUT: RequestTimeout,
  UND_ERR_SOCKET: NetworkError,
  UND_ERR_CLOSED: NetworkError,
  ECONNRESET: NetworkError,
  ECONNREFUSED: NetworkError,
  EPIPE: NetworkError,
  ENOTFOUND: NetworkError,
  EAI_AGAIN: NetworkError,
  EHOSTUNREACH: NetworkError,
  ENETUNREACH: NetworkError,
  UND_ERR_RESPONSE_STATUS_CODE: ProtocolError,
  VMWARE_DR_TLS_PIN_MISMATCH: TlsError,
  VMWARE_DR_TLS_CONFIG: TlsError,
  DEPTH_ZERO_SELF_SIGNED_CERT: TlsError,
  SELF_SIGNED_CERT_IN_CHAIN: TlsError,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: TlsError,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: TlsError,
  CERT_HAS_EXPIRED: TlsError,
  ERR_TLS_CERT_ALTNAME_INVALID: TlsError,
};

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code in NETWORK_CODES) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The error for a request that got no HTTP answer (undici/Node failure). */
export function errorFromTransport(err: unknown, ctx: ErrorContext): VmwareApiError {
  if (err instanceof VmwareApiError) return err;
  const code = errorCode(err);
  const cls = (code && NETWORK_CODES[code]) || NetworkError;
  const text = err instanceof Error ? err.message : String(err);
  return new cls(`request failed${code ? ` (${code})` : ''}: ${text}`, { ...ctx, cause: err });
}

/** Whether `err` is the abort of a cancelled request (not a failure of the appliance). */
export function isAbortError(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown } | null;
  return !!e && (e.name === 'AbortError' || e.code === 'UND_ERR_ABORTED' || e.code === 'ABORT_ERR');
}
