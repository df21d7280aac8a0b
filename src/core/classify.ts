/**
 * Classification of failures into the taxonomy (reference §1.6, §5): from the HTTP status of an
 * error answer, from the error type the product read in its body, and from transport failures
 * (undici / Node codes). It knows no product: each product maps its own codes (vAPI `error_type`,
 * SDDC Manager `errorCode`, VCDA `code`) to an {@link ErrorType} in `src/<product>/errors.ts`, and
 * its `parseError` hands the result here as `errorType`.
 *
 * Pure module (no Node built-ins).
 */
import {
  AuthenticationFailed,
  ERROR_CLASSES,
  type ErrorContext,
  type ErrorType,
  InvalidArgument,
  NetworkError,
  NotFound,
  PermissionDenied,
  ProtocolError,
  RequestTimeout,
  ResourceBusy,
  ServerError,
  ServiceUnavailable,
  TlsError,
  VmwareApiError,
} from './errors';

type ErrorClass = new (summary: string, ctx: ErrorContext) => VmwareApiError;

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

/**
 * The named error codes of VMware's non-vAPI REST APIs (SDDC Manager's `errorCode`, VCDA's ApiError
 * `code`) with a meaning beyond their HTTP status; the vocabulary both products answer with, so no
 * product of its own. Upper case; {@link lookupErrorCode} also matches them without `_` and blanks.
 */
export const NAMED_ERROR_CODES: Readonly<Record<string, ErrorType>> = {
  UNAUTHORIZED: 'AuthenticationFailed', // SDDC Manager uses errorCode Unauthorized for a bad/expired token
  UNAUTHENTICATED: 'AuthenticationFailed',
  NOTAUTHENTICATED: 'AuthenticationFailed',
  FORBIDDEN: 'PermissionDenied',
  PERMISSIONDENIED: 'PermissionDenied',
  GENERALSERVERFAILURE: 'ServerError',
  RESOURCE_LOCKED: 'ResourceBusy',
  RESOURCE_BUSY: 'ResourceBusy',
  RESOURCES_LOCKED: 'ResourceBusy',
  NOTFOUND: 'NotFound',
  TASK_NOT_FOUND: 'NotFound',
};

/**
 * A product's code → error type lookup, spelled loosely: the code upper-cased, then also without
 * `_` and blanks (`NotAuthenticated`, `NOT_AUTHENTICATED` and `not authenticated` are one code).
 * The keys of `codes` are upper case.
 */
export function lookupErrorCode(
  codes: Readonly<Record<string, ErrorType>>,
  code: string | undefined,
): ErrorType | undefined {
  if (!code) return undefined;
  const key = code.toUpperCase();
  return codes[key] ?? codes[key.replace(/[_\s]/g, '')];
}

/**
 * The error for an HTTP error answer: of the `errorType` the product read from its body when it
 * gave one, else of the HTTP status. `ctx.vmwareCode` (the product's own code) is kept for the
 * message. A 401 is an authentication failure whatever the body says.
 */
export function classifyResponse(ctx: ErrorContext & { httpStatus: number; errorType?: ErrorType }): VmwareApiError {
  const { errorType, ...context } = ctx;
  let cls: ErrorClass = errorType ? ERROR_CLASSES[errorType] : classForStatus(ctx.httpStatus);
  if (ctx.httpStatus === 401) cls = AuthenticationFailed;
  return new cls(`appliance answered HTTP ${ctx.httpStatus}`, context);
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
