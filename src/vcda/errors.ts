/**
 * VCDA's error answers in the taxonomy's terms: the ApiError `code` values with a meaning beyond
 * their HTTP status, mapped to an {@link ErrorType}, and the reading of the ApiError body
 * (reference §3.5, §5).
 */
import type { ErrorType } from '../core/errors';
import { NAMED_ERROR_CODES, lookupErrorCode } from '../core/classify';
import type { ParsedErrorBody } from '../core/http';
import { ApiError } from './schemas';

/**
 * ApiError `code` values (upper case; also matched without `_` and blanks) → error type. A code
 * not here is classified by its HTTP status.
 */
const VCDA_ERROR_CODES: Readonly<Record<string, ErrorType>> = {
  ...NAMED_ERROR_CODES,
  BACKUPINPROGRESS: 'ResourceBusy', // the code for a second POST /backups while one runs is undocumented (simulator guess)
};

/** The error type of a code, or undefined (then the HTTP status decides). */
export function vcdaErrorType(code: string | undefined): ErrorType | undefined {
  return lookupErrorCode(VCDA_ERROR_CODES, code);
}

/** Reads a VCDA ApiError body `{code, msg, args, stacktrace}` into the taxonomy's terms. */
export function parseVcdaError(body: unknown): ParsedErrorBody {
  const parsed = ApiError.partial().safeParse(body);
  if (!parsed.success) return {};
  const { code, msg } = parsed.data;
  const errorType = vcdaErrorType(code ?? undefined);
  return { vmwareCode: code ?? undefined, ...(errorType && { errorType }), messages: msg ? [msg] : [] };
}
