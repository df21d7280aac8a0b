/**
 * The simulated SDDC Manager's error answers: the `Error` model of VMware's bindings
 * (`vmware-sddc-manager` 9.1.1.0, `model_client.py` `Error`), the fault type handlers throw,
 * and the errorCode ↔ HTTP status maps used for armed faults.
 */
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { SimFaults } from '../types';

/** Where simulated errors and failed subtasks point for documentation (`remediationUrl`, `documentationLink`). */
export const DOCS_URL = 'https://techdocs.broadcom.com/us/en/vmware-cis/vcf.html';

/** errorCode → HTTP status, for `error` faults. Unknown codes answer 400 (a validation error). */
export const CODE_STATUS: Record<string, number> = {
  UNAUTHORIZED: 401,
  UNAUTHENTICATED: 401,
  NOTAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  TASK_NOT_FOUND: 404,
  // Locks: 400 like the simulator's own busy answer (the bindings declare 400/500 for starts).
  RESOURCE_LOCKED: 400,
  RESOURCES_LOCKED: 400,
  RESOURCE_BUSY: 400,
  TASK_NOT_RETRYABLE: 409,
  TASK_NOT_CANCELLABLE: 409,
  INTERNAL_SERVER_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
};
/** HTTP status → errorCode, for `status` faults. */
export const STATUS_CODE: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'Unauthorized',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  423: 'RESOURCE_LOCKED',
  429: 'TOO_MANY_REQUESTS',
  500: 'INTERNAL_SERVER_ERROR',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
};

export interface ErrorExtras {
  remediationMessage?: string;
  remediationUrl?: string;
  causes?: { type: string; message: string }[];
  context?: Record<string, string>;
  args?: string[];
}

/** An Error-model answer: handlers throw it, the route wrapper renders it. */
export class SddcFault extends Error {
  readonly extras: ErrorExtras;
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    remediationMessage?: string,
    causes: { type: string; message: string }[] = [],
    extras: Omit<ErrorExtras, 'remediationMessage' | 'causes'> = {},
  ) {
    super(message);
    this.extras = { ...extras, remediationMessage, causes };
  }
}

function referenceToken(): string {
  return randomBytes(3).toString('hex').toUpperCase();
}

/**
 * The bindings' `Error` model, as every error answer of this simulator carries it. There is
 * always a `remediationMessage` (a generic one when the caller has none); `remediationUrl` only
 * when there is documentation to link.
 */
export function sddcErrorBody(errorCode: string, message: string, opts: ErrorExtras = {}) {
  return {
    errorCode,
    errorType: 'ERROR',
    arguments: opts.args ?? [],
    context: opts.context ?? {},
    message,
    remediationMessage:
      opts.remediationMessage ?? 'Retry the operation; if it keeps failing, contact support with the reference token.',
    ...(opts.remediationUrl ? { remediationUrl: opts.remediationUrl } : {}),
    causes: opts.causes ?? [],
    nestedErrors: [],
    referenceToken: referenceToken(),
  };
}

/** How the routes answer an SddcFault (the shared `route` wrapper of `../types`). */
export const SDDC_FAULTS: SimFaults<SddcFault> = {
  fault: SddcFault,
  answer: (err) => ({ status: err.status, body: sddcErrorBody(err.errorCode, err.message, err.extras) }),
};

export function zodMessage(error: z.ZodError): string {
  const issue = error.issues[0];
  return `Invalid parameter ${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`;
}
