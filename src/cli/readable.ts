/**
 * Runs this client cannot read: a payload it cannot decode (encrypted by a worker whose keys the
 * client lacks) reaches a command as a marker value saying why (./readable-codec.ts makes it), so
 * `list`, `status` and `report` degrade per run (mark it, keep the rest) instead of failing as a
 * whole. No Temporal imports: the program loads this for `--help` too.
 */
import { CODEC_KEYS_VARIABLE, CODEC_KEY_FILE_VARIABLE } from '../codec/keys';

/** The key of the marker value an undecodable payload becomes: `{ [UNREADABLE_KEY]: why }`. */
export const UNREADABLE_KEY = 'vmware-dr:unreadable';

/** Why a payload encrypted by a worker cannot be read by a client without keys. */
export const NO_KEYS_REASON = `the run's payloads are encrypted: set ${CODEC_KEYS_VARIABLE} or ${CODEC_KEY_FILE_VARIABLE} to the keys the worker uses`;

/** Why a decoded value (a report, a memo field, an Update's answer) could not be read, if it is a marker. */
export function unreadableOf(value: unknown): string | undefined {
  const reason = (value as Record<string, unknown> | null | undefined)?.[UNREADABLE_KEY];
  return typeof reason === 'string' ? reason : undefined;
}

/** Why a run's memo could not be read (any field a marker), if so. */
export function unreadableMemo(memo: Record<string, unknown> | undefined): string | undefined {
  for (const value of Object.values(memo ?? {})) {
    const reason = unreadableOf(value);
    if (reason) return reason;
  }
  return undefined;
}

/** A run whose report cannot be read here (its payloads are encrypted with keys this client lacks). */
export class UnreadableRunError extends Error {
  override readonly name = 'UnreadableRunError';
}
