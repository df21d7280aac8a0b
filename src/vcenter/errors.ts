/**
 * vCenter's error answers in the taxonomy's terms: the vAPI standard error types (`/api`
 * `error_type`, or the tail of legacy `/rest` `com.vmware.vapi.std.errors.x`) mapped to an
 * {@link ErrorType}, and the reading of both error body forms (reference §1.6, §5).
 */
import type { ErrorType } from '../core/errors';
import type { ParsedErrorBody } from '../core/http';
import { ApiErrorBody, RestErrorBody } from './schemas';

/** vAPI std error types → error type; a type not here is classified by its HTTP status. */
const VAPI_ERROR_TYPES: Readonly<Record<string, ErrorType>> = {
  FEATURE_IN_USE: 'ResourceBusy',
  RESOURCE_BUSY: 'ResourceBusy',
  RESOURCE_IN_USE: 'ResourceBusy',
  CONCURRENT_CHANGE: 'ResourceBusy',
  UNAUTHENTICATED: 'AuthenticationFailed',
  UNAUTHORIZED: 'PermissionDenied',
  UNVERIFIED_PEER: 'TlsError',
  NOT_FOUND: 'NotFound',
  OPERATION_NOT_FOUND: 'NotFound',
  INVALID_ARGUMENT: 'InvalidArgument',
  INVALID_REQUEST: 'InvalidArgument',
  INVALID_ELEMENT_CONFIGURATION: 'InvalidArgument',
  INVALID_ELEMENT_TYPE: 'InvalidArgument',
  UNEXPECTED_INPUT: 'InvalidArgument',
  UNSUPPORTED: 'InvalidArgument',
  ALREADY_EXISTS: 'InvalidArgument',
  ALREADY_IN_DESIRED_STATE: 'InvalidArgument',
  NOT_ALLOWED_IN_CURRENT_STATE: 'WrongState',
  SERVICE_UNAVAILABLE: 'ServiceUnavailable',
  TIMED_OUT: 'RequestTimeout',
  INTERNAL_SERVER_ERROR: 'ServerError',
  ERROR: 'ServerError',
  CANCELED: 'ServerError',
  RESOURCE_INACCESSIBLE: 'ServerError',
  UNABLE_TO_ALLOCATE_RESOURCE: 'ServerError',
};

/** Normalise a vAPI error type: `com.vmware.vapi.std.errors.feature_in_use` → `FEATURE_IN_USE`. */
export function normaliseVapiErrorType(type: string): string {
  return type.replace(/^com\.vmware\.vapi\.std\.errors\./, '').toUpperCase();
}

/** The error type of a vAPI error type in either spelling, or undefined (then the HTTP status decides). */
export function vcenterErrorType(vapiType: string | undefined): ErrorType | undefined {
  return vapiType ? VAPI_ERROR_TYPES[normaliseVapiErrorType(vapiType)] : undefined;
}

/** Reads both error body forms into the taxonomy's terms. */
export function parseVcenterError(body: unknown): ParsedErrorBody {
  const api = ApiErrorBody.safeParse(body);
  if (api.success && (api.data.error_type || api.data.messages.length)) {
    return read(api.data.error_type, api.data.messages);
  }
  const rest = RestErrorBody.safeParse(body);
  if (rest.success) return read(rest.data.type, rest.data.value?.messages ?? []);
  return {};
}

function read(vmwareCode: string | undefined, messages: readonly { default_message: string }[]): ParsedErrorBody {
  const errorType = vcenterErrorType(vmwareCode);
  return { vmwareCode, ...(errorType && { errorType }), messages: messages.map((m) => m.default_message) };
}
