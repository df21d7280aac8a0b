/**
 * The simulated NSX Manager's error answers: the `ApiError` body of VMware's NSX-T REST API
 * reference (error_code, error_message, details, module_name, related_errors) with the
 * `httpStatus` name real Managers add, the fault type handlers throw, and the name ↔ status maps
 * used for armed faults. The numeric codes are the simulator's own [uncertain]: VMware publishes
 * no list of the codes these calls answer with.
 */
import type { z } from 'zod';
import type { SimFaults } from '../types';

/** HTTP status → the `httpStatus` name NSX puts in its error bodies. */
const STATUS_NAMES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  423: 'LOCKED',
  429: 'TOO_MANY_REQUESTS',
  500: 'INTERNAL_SERVER_ERROR',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
};

/** The simulator's numeric codes (invented; stable so tests and rehearsals can name them). */
export const SIM_CODES = {
  badRequest: 255,
  notFound: 202,
  notAuthenticated: 403,
  backupNotConfigured: 29101,
  backupInProgress: 29102,
  sftpUnreachable: 29103,
  restoreWrongState: 29170,
  restoreBadInstruction: 29171,
  restoreNoBackup: 29172,
  internal: 99,
} as const;

/** Named errors for `error` faults → HTTP status. A numeric name is sent as the code itself; unknown names answer 400. */
export const CODE_STATUS: Record<string, number> = {
  RESOURCE_BUSY: 409,
  RESOURCE_LOCKED: 423,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  INTERNAL_SERVER_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
};

/** An ApiError answer: handlers throw it, the route wrapper renders it. */
export class NsxFault extends Error {
  constructor(
    readonly status: number,
    readonly code: number | string,
    message: string,
    readonly details?: string,
  ) {
    super(message);
  }
}

/** The `ApiError` body for one answer. */
export function nsxErrorBody(status: number, code: number | string, message: string, details?: string) {
  return {
    httpStatus: STATUS_NAMES[status] ?? String(status),
    error_code: code,
    module_name: 'ClusterBackupRestore',
    error_message: message,
    ...(details ? { details } : {}),
    related_errors: [],
  };
}

/** How the routes answer an NsxFault (the shared `route` wrapper of `../types`). */
export const NSX_FAULTS: SimFaults<NsxFault> = {
  fault: NsxFault,
  answer: (err) => ({ status: err.status, body: nsxErrorBody(err.status, err.code, err.message, err.details) }),
};

/** A 400 for a body that fails its schema. */
export function badBody(error: z.ZodError): NsxFault {
  const issue = error.issues[0];
  return new NsxFault(
    400,
    SIM_CODES.badRequest,
    `Field level validation errors: {${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}}`,
  );
}
