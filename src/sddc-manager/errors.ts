/**
 * SDDC Manager's error answers in the taxonomy's terms: the `errorCode` values with a meaning
 * beyond their HTTP status, mapped to an {@link ErrorType}, and the reading of the `Error` model
 * (reference §2.5, §5).
 */
import type { ErrorType } from '../core/errors';
import { NAMED_ERROR_CODES, lookupErrorCode } from '../core/classify';
import type { ParsedErrorBody } from '../core/http';
import { SddcError } from './schemas';

/**
 * `errorCode` values (upper case; also matched without `_` and blanks) → error type. A code not
 * here is classified by its HTTP status.
 */
const SDDC_MANAGER_ERROR_CODES: Readonly<Record<string, ErrorType>> = {
  ...NAMED_ERROR_CODES,
  BACKUPINPROGRESS: 'ResourceBusy', // read for SDDC Manager too since the first version, so no answer changes class
};

/** The error type of a code, or undefined (then the HTTP status decides). */
export function sddcManagerErrorType(code: string | undefined): ErrorType | undefined {
  return lookupErrorCode(SDDC_MANAGER_ERROR_CODES, code);
}

/** Messages of an Error, its causes and nested errors, depth first, without duplicates. */
function errorMessages(e: SddcError, out: string[] = [], depth = 0): string[] {
  const add = (m: string | null | undefined) => {
    if (m && !out.includes(m)) out.push(m);
  };
  add(e.message);
  for (const c of e.causes ?? []) add(c.message);
  for (const n of e.notifications ?? []) add(n.message);
  if (depth < 5) for (const n of e.nestedErrors ?? []) errorMessages(n, out, depth + 1);
  return out;
}

/** Reads the SDDC Manager `Error` model (bindings `model_client.Error`) into the taxonomy's terms. */
export function parseSddcError(body: unknown): ParsedErrorBody {
  const parsed = SddcError.safeParse(body);
  if (!parsed.success || typeof body !== 'object' || body === null || Array.isArray(body)) return {};
  const e = parsed.data;
  const out: ParsedErrorBody = {};
  if (e.errorCode) {
    out.vmwareCode = e.errorCode;
    const errorType = sddcManagerErrorType(e.errorCode);
    if (errorType) out.errorType = errorType;
  }
  const messages = errorMessages(e);
  if (messages.length) out.messages = messages;
  // The bindings' `remediationUrl` ("URL string for remediation documentation link") is appended.
  // Blank parts are dropped: a whitespace-only remediationMessage must not replace the class's own hint.
  const remediation = [e.remediationMessage?.trim(), e.remediationUrl?.trim() && `See ${e.remediationUrl.trim()}`]
    .filter(Boolean)
    .join(' ');
  if (remediation) out.remediation = remediation;
  return out;
}
