/**
 * NSX Manager's error answers in the taxonomy's terms: the reading of its `ApiError` body
 * (error_code, error_message, details, module_name, related_errors; NSX-T REST API reference) and
 * the codes with a meaning beyond their HTTP status.
 *
 * What is not known [uncertain]: VMware's reference types `error_code` as an integer and publishes
 * no list of the codes the backup and restore calls answer with, so no numeric code is mapped here:
 * the HTTP status decides (`src/core/classify.ts`), and the client turns a 409 refusal of a
 * restore action into {@link WrongState} per call. A capture of real refusals (a second restore
 * start, an advance while RUNNING, a backup while one runs) would settle which numbers to add.
 * The named codes of the other REST products are read too, should an appliance or proxy send one.
 */
import type { ErrorType } from '../core/errors';
import { NAMED_ERROR_CODES, lookupErrorCode } from '../core/classify';
import type { ParsedErrorBody } from '../core/http';
import { NsxApiError } from './schemas';

/** Codes (upper case; also matched without `_` and blanks) → error type. A code not here: the HTTP status decides. */
const NSX_MANAGER_ERROR_CODES: Readonly<Record<string, ErrorType>> = {
  ...NAMED_ERROR_CODES,
};

/** The error type of a code, or undefined (then the HTTP status decides). */
export function nsxManagerErrorType(code: string | undefined): ErrorType | undefined {
  return lookupErrorCode(NSX_MANAGER_ERROR_CODES, code);
}

/** Reads an NSX `ApiError` body into the taxonomy's terms: its code, its message and details, then the related errors' messages. */
export function parseNsxError(body: unknown): ParsedErrorBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return {};
  const parsed = NsxApiError.safeParse(body);
  if (!parsed.success) return {};
  const e = parsed.data;
  const out: ParsedErrorBody = {};
  if (e.error_code !== undefined && e.error_code !== null) {
    out.vmwareCode = String(e.error_code);
    const errorType = nsxManagerErrorType(out.vmwareCode);
    if (errorType) out.errorType = errorType;
  }
  const messages: string[] = [];
  const add = (m: string | null | undefined) => {
    if (m && !messages.includes(m)) messages.push(m);
  };
  add(e.error_message);
  add(e.details?.trim());
  for (const r of e.related_errors ?? []) add(r.error_message);
  if (messages.length) out.messages = messages;
  return out;
}
