/**
 * vAPI errors of the simulated vCenter: the fault a route throws ({@link VapiFault}), its body in
 * either wire form, the HTTP status of each error type (reference §1.6), and the argument checks
 * that answer INVALID_ARGUMENT.
 */
import type { z } from 'zod';
import { normaliseVapiErrorType } from '../../vcenter/errors';
import type { SimResponse } from '../types';
import { backupPasswordViolation } from '../../vcenter/schemas';
import { PARTS, type VcenterForm, msg } from './model';

/** vAPI std error → HTTP status (reference §1.6). */
export const VAPI_STATUS: Record<string, number> = {
  UNAUTHENTICATED: 401,
  UNAUTHORIZED: 403,
  NOT_FOUND: 404,
  OPERATION_NOT_FOUND: 404,
  CONCURRENT_CHANGE: 409,
  INTERNAL_SERVER_ERROR: 500,
  ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
  TIMED_OUT: 504,
};
export const STATUS_VAPI: Record<number, string> = {
  401: 'UNAUTHENTICATED',
  403: 'UNAUTHORIZED',
  404: 'NOT_FOUND',
  409: 'CONCURRENT_CHANGE',
  429: 'SERVICE_UNAVAILABLE',
  500: 'INTERNAL_SERVER_ERROR',
  502: 'SERVICE_UNAVAILABLE',
  503: 'SERVICE_UNAVAILABLE',
  504: 'TIMED_OUT',
};

/** A vAPI error to answer: the route throws it, the router renders it in the request's form. */
export class VapiFault extends Error {
  constructor(
    readonly errorType: string,
    message: string,
    readonly messageId = `com.vmware.applmgmt.err_${errorType.toLowerCase()}`,
  ) {
    super(message);
  }
}

/** The error body of a vAPI error in either form. */
export function vapiErrorResponse(
  form: VcenterForm,
  errorType: string,
  message: string,
  messageId?: string,
  status?: number,
): SimResponse {
  const type = normaliseVapiErrorType(errorType);
  const m = msg(messageId ?? `com.vmware.applmgmt.err_${type.toLowerCase()}`, message);
  const httpStatus = status ?? VAPI_STATUS[type] ?? 400;
  if (form === 'api') return { status: httpStatus, body: { error_type: type, messages: [m] } };
  return {
    status: httpStatus,
    body: { type: `com.vmware.vapi.std.errors.${type.toLowerCase()}`, value: { messages: [m] } },
  };
}

/** Parses a request part with `schema`; INVALID_ARGUMENT naming the field otherwise. */
export function parseArg<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = [what, ...(issue?.path ?? []).map(String)].filter(Boolean).join('.');
  throw new VapiFault(
    'INVALID_ARGUMENT',
    `Invalid argument ${field || 'body'}: ${issue?.message}`,
    'vapi.bindings.typeconverter.invalid',
  );
}

export function checkPassword(password: string | undefined): void {
  if (password === undefined) return;
  const violation = backupPasswordViolation(password);
  if (violation) throw new VapiFault('INVALID_ARGUMENT', violation, 'com.vmware.applmgmt.err_backup_password_policy');
}

export function checkParts(parts: readonly string[]): void {
  for (const p of parts) {
    if (!PARTS.some((k) => k.id === p))
      throw new VapiFault('INVALID_ARGUMENT', `Unknown backup part '${p}'.`, 'com.vmware.applmgmt.err_unknown_part');
  }
}
