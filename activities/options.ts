import type { RetryTuning } from '../src/errors';
import { type SecretResolver, type SecretResolverOptions, createSecretResolver } from '../src/secrets';

/** Options of {@link createActivities}. Every field has a documented default. */
export interface ActivitiesOptions extends RetryTuning {
  /**
   * Resolves `env:`/`file:` (and your own schemes) to secrets inside activities.
   * Default: `createSecretResolver()` (env and file).
   */
  secrets?: SecretResolver | SecretResolverOptions;
  /** Wait between two status polls. Default 15 000 ms (kept below vCenter's 30 min idle timeout). */
  pollIntervalMs?: number;
  /** Per-request HTTP timeout. Default 60 000 ms. */
  requestTimeoutMs?: number;
  /** Where TLS `insecure` warnings go. Default: the activity logger, or console.warn outside one. */
  warn?: (message: string) => void;
}

export const DEFAULT_POLL_INTERVAL_MS = 15_000;

/** Options with defaults applied. */
export interface ResolvedActivitiesOptions extends RetryTuning {
  secrets: SecretResolver;
  pollIntervalMs: number;
  requestTimeoutMs: number;
  warn: (message: string) => void;
}

export function resolveOptions(opts: ActivitiesOptions = {}): ResolvedActivitiesOptions {
  const secrets = opts.secrets && 'resolve' in opts.secrets ? opts.secrets : createSecretResolver(opts.secrets);
  return {
    secrets,
    pollIntervalMs: opts.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    requestTimeoutMs: opts.requestTimeoutMs ?? 60_000,
    warn: opts.warn ?? ((m) => console.warn(m)),
    busyRetryDelayMs: opts.busyRetryDelayMs,
    ambiguousMaxAttempts: opts.ambiguousMaxAttempts,
  };
}
