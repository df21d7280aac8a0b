/**
 * The one error taxonomy (reference §5). Every failure talking to a VMware appliance becomes a
 * {@link VmwareApiError} subclass with a stable `name` and `code`, as undici's `lib/core/errors.js`
 * does; {@link FAILURE_TYPES} is the one registry of every failure type this package raises,
 * appliance or not. Which answer becomes which class is `classify.ts` (and each product's
 * `errors.ts`); whether it is retried is `retry.ts`, alone.
 *
 * Pure module (no Node built-ins): workflow code may import the class names, codes and types.
 */
import type { Product } from '../contract/names';
import { JOB_STILL_RUNNING_TYPE } from '../contract/inputs';

/**
 * The product an error names: a runbook {@link Product}, or a product whose typed client exists
 * before runbooks, activities and reports know it (`nsx-manager`, until it joins `PRODUCTS`).
 */
export type ErrorProduct = Product | 'nsx-manager';

/** Where a failure happened. Never carries credentials. */
export interface ErrorContext {
  /** Unset only for a failure that concerns no single product (a credential-policy refusal of a webhook or a secret source). */
  product?: ErrorProduct;
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

/** The kind of failure a class is, as `retry.ts` reads it. */
export type Retryability = 'transient' | 'busy' | 'ambiguous' | 'fatal';

/** Base class: one stable `code` per failure mode, as undici does. */
export abstract class VmwareApiError extends Error {
  /** The class name as a literal, so `ApplicationFailure.type` survives bundling and minifying. */
  abstract override readonly name: ErrorType;
  abstract readonly code: string;
  /** How this failure mode is retried; read through `retryDecision` (retry.ts). */
  protected abstract readonly retryability: Retryability;
  protected abstract readonly defaultRemediation: string;
  readonly product?: ErrorProduct;
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

  /** @internal used by `retryDecision` (retry.ts) and the registry only. */
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
 * The three failure types outside the appliance taxonomy that any activity or workflow input may
 * end in. `InvalidInput`: a workflow's input broke its schema (nothing was started).
 * `ConfigurationError`: TLS settings, a secret reference or an option that cannot work on this
 * worker. `InternalError`: anything else, a bug: never retried. All three are non-retryable.
 * The runbook's own failure types are the constants below; every one is in {@link FAILURE_TYPES}.
 */
export const INVALID_INPUT_TYPE = 'InvalidInput';
export const CONFIGURATION_ERROR_TYPE = 'ConfigurationError';
export const INTERNAL_ERROR_TYPE = 'InternalError';
export const NON_APPLIANCE_FAILURE_TYPES = [INVALID_INPUT_TYPE, CONFIGURATION_ERROR_TYPE, INTERNAL_ERROR_TYPE] as const;
export type NonApplianceFailureType = (typeof NON_APPLIANCE_FAILURE_TYPES)[number];

/** A runbook webhook could not be sent, or answered ≥ 300. Retried by the notify activity's policy. */
export const NOTIFICATION_FAILED_TYPE = 'NotificationFailed';
/** A cancelled step's job could not be cancelled on the appliance: it may still run. */
export const COMPENSATION_FAILED_TYPE = 'CompensationFailed';
/** A restore's recovery point is no succeeded `drRunbook` backup run (or lacks that endpoint). */
export const RECOVERY_POINT_UNUSABLE_TYPE = 'RecoveryPointUnusable';
/** Nobody approved or rejected a step within its approval timeout. */
export const APPROVAL_TIMEOUT_TYPE = 'ApprovalTimeout';
/** A step was approved after its stage's `startWithin` window closed: it never started. */
export const START_WINDOW_MISSED_TYPE = 'StartWindowMissed';
/** A restore's validation reported warnings that nothing accepts: it never started. */
export const RESTORE_WARNINGS_TYPE = 'RestoreWarnings';

/** Failure types that are no {@link VmwareApiError} class: raised by activities and workflows. */
export type OtherFailureType =
  | NonApplianceFailureType
  | typeof NOTIFICATION_FAILED_TYPE
  | typeof COMPENSATION_FAILED_TYPE
  | typeof RECOVERY_POINT_UNUSABLE_TYPE
  | typeof APPROVAL_TIMEOUT_TYPE
  | typeof START_WINDOW_MISSED_TYPE
  | typeof RESTORE_WARNINGS_TYPE
  | typeof JOB_STILL_RUNNING_TYPE;

/** Every `ApplicationFailure.type` this package raises. */
export type FailureType = ErrorType | OtherFailureType;

/** What the registry says of one failure type. */
export interface FailureTypeInfo {
  /**
   * Whether a failure of this type may be tried again. For appliance types this is what
   * `retryDecision` (retry.ts) decides on a first attempt with the step's deadline ahead: the
   * ambiguous ones are retried only a few times, and none past the deadline.
   */
  retryable: boolean;
  /** What happened (the README's troubleshooting table says the same). */
  description: string;
}

function appliance(type: ErrorType, description: string): FailureTypeInfo {
  return { retryable: !NON_RETRYABLE_ERROR_TYPES.includes(type), description };
}

/**
 * The one registry of failure types: every `type` an `ApplicationFailure` of this package carries,
 * whether it is retried and what it means. Appliance types take their retryability from their
 * class (above); the others state theirs here.
 */
export const FAILURE_TYPES: { readonly [T in FailureType]: FailureTypeInfo } = {
  ResourceBusy: appliance(
    'ResourceBusy',
    'The appliance is busy (FEATURE_IN_USE, RESOURCE_BUSY, SDDC resource lock, HTTP 423/409).',
  ),
  AuthenticationFailed: appliance(
    'AuthenticationFailed',
    'Credentials rejected, even after one re-login (401 UNAUTHENTICATED / NotAuthenticated).',
  ),
  PermissionDenied: appliance('PermissionDenied', 'Authenticated but not allowed (403 UNAUTHORIZED / Forbidden).'),
  NotFound: appliance('NotFound', 'The object or path does not exist (404 NOT_FOUND / OPERATION_NOT_FOUND).'),
  InvalidArgument: appliance(
    'InvalidArgument',
    'The request was rejected as invalid (INVALID_ARGUMENT, INVALID_REQUEST, UNSUPPORTED, ALREADY_EXISTS, SDDC 400 validation).',
  ),
  WrongState: appliance(
    'WrongState',
    'The appliance is not in a state that allows this (NOT_ALLOWED_IN_CURRENT_STATE).',
  ),
  ServerError: appliance(
    'ServerError',
    'The appliance failed internally (HTTP 500, INTERNAL_SERVER_ERROR, GeneralServerFailure). Limited retries.',
  ),
  ServiceUnavailable: appliance(
    'ServiceUnavailable',
    'The service is down or restarting (502/503, SERVICE_UNAVAILABLE, 429).',
  ),
  RequestTimeout: appliance(
    'RequestTimeout',
    'The appliance or the connection timed out (504/408, TIMED_OUT, undici timeouts).',
  ),
  NetworkError: appliance('NetworkError', 'The connection failed (refused, reset, DNS, socket closed).'),
  TlsError: appliance('TlsError', 'TLS verification failed (unknown CA, pin mismatch, bad TLS configuration).'),
  ProtocolError: appliance(
    'ProtocolError',
    'The appliance answered something this client cannot read (malformed JSON, unexpected status). Limited retries.',
  ),
  SchemaMismatch: appliance(
    'SchemaMismatch',
    "A well-formed body whose shape breaks the schema (quotes the offending field's path).",
  ),
  BackupHashMismatch: appliance(
    'BackupHashMismatch',
    'A downloaded backup whose SHA-512 differs from the one the appliance published. Limited retries.',
  ),
  UnknownRemoteState: appliance(
    'UnknownRemoteState',
    'The appliance reported a state this client does not know: never taken as "still running".',
  ),
  RemoteJobFailed: appliance(
    'RemoteJobFailed',
    'The remote job or task ended FAILED or CANCELLED: a business outcome, not retried by the activity.',
  ),
  StartOutcomeUnknown: appliance(
    'StartOutcomeUnknown',
    "A state-changing request (the POST that starts a job or task) got an answer that cannot be read, or none the client could trust: the job may exist. Retried a few times, within the step's deadline; the retry attaches to the job this step created instead of starting a second one.",
  ),
  NotPermitted: appliance(
    'NotPermitted',
    "The worker's credential policy (src/core/policy/index.ts) refused what a workflow input asked for: an appliance, a secret reference, a backup location, a webhook or a TLS setting the operator did not allow. Raised before the secret is read and before any connection is opened. The message names the input field, the policy rule and what to add to the policy, never a secret's value.",
  ),
  [INVALID_INPUT_TYPE]: {
    retryable: false,
    description: 'the runbook or a workflow input broke its schema; nothing started',
  },
  [CONFIGURATION_ERROR_TYPE]: {
    retryable: false,
    description: 'a secret reference that does not resolve on the worker, TLS settings, an option out of range',
  },
  [INTERNAL_ERROR_TYPE]: {
    retryable: false,
    description: 'anything nobody classified: a bug (the failure keeps its stack)',
  },
  [NOTIFICATION_FAILED_TYPE]: {
    retryable: true,
    description:
      'a runbook webhook request failed or answered with a status of 300 or more (the URL is never repeated)',
  },
  [COMPENSATION_FAILED_TYPE]: {
    retryable: false,
    description:
      'a cancelled step asked its appliance to cancel the job, and the appliance refused (or kept failing for 30 s): the job may still run; the runbook reports the compensation as failed',
  },
  [RECOVERY_POINT_UNUSABLE_TYPE]: {
    retryable: false,
    description:
      'a restore names a recovery point that is not a finished, succeeded `drRunbook` backup run, or has no backup of that endpoint at that location; nothing started',
  },
  [APPROVAL_TIMEOUT_TYPE]: {
    retryable: false,
    description: 'nobody approved or rejected the step in time (24 h by default)',
  },
  [START_WINDOW_MISSED_TYPE]: {
    retryable: false,
    description: "the step was approved after its stage's `startWithin` window had closed; it never started",
  },
  [RESTORE_WARNINGS_TYPE]: {
    retryable: false,
    description:
      "a restore's validation reported warnings, the step ignores none (`ignoreWarnings`) and waits for no approval that could accept them: vCenter would fail the restore, so it never started",
  },
  [JOB_STILL_RUNNING_TYPE]: {
    retryable: true,
    description:
      'a `pollMode: retry` read found the job still running: this is how that mode polls (logged at DEBUG, not counted as a failure)',
  },
};
