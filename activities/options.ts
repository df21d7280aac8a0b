import { Context } from '@temporalio/activity';
import { MAX_POLL_INTERVAL_MS } from '../src/contract/endpoints';
import type { RetryTuning } from '../src/core/retry';
import { DEFAULT_POLL_INTERVAL_MS } from '../src/contract/inputs';
import type { CredentialPolicy } from '../src/core/policy/index';
import { type SecretResolver, type SecretResolverOptions, createSecretResolver } from '../src/core/secrets';

/** Options of {@link createActivities}. Every field has a documented default. */
export interface ActivitiesOptions extends RetryTuning {
  /**
   * Resolves `env:`/`file:` (and your own schemes) to secrets inside activities.
   * Default: `createSecretResolver()` (env and file).
   */
  secrets?: SecretResolver | SecretResolverOptions;
  /** Wait between two status polls. Default 15 000 ms; at most 25 min (below vCenter's 30 min idle timeout). */
  pollIntervalMs?: number;
  /** Per-request HTTP timeout. Default 60 000 ms. */
  requestTimeoutMs?: number;
  /** Where TLS `insecure` warnings go. Default: the activity logger, or console.warn outside one. */
  warn?: (message: string) => void;
  /**
   * The worker credential policy (src/core/policy/index.ts, `VMWARE_DR_POLICY` of the production worker):
   * which appliances the activities may connect to, which secret references each may be sent,
   * which backup locations and webhooks are allowed, from where `env:`/`file:` references may be
   * read (it also guards a resolver given in `secrets`). Refusals fail with the non-retryable
   * `NotPermitted` before a secret is read or a connection opened.
   * @default none: every reference and appliance is allowed (library use), with one warning
   */
  policy?: CredentialPolicy;
}

export { DEFAULT_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS };

/** A poll interval checked against the bounds; the error names the field and the allowed range. */
export function checkPollInterval(ms: number, field: string): number {
  if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_POLL_INTERVAL_MS) {
    throw new RangeError(
      `${field} must be between 1 and ${MAX_POLL_INTERVAL_MS} ms (25 min, below vCenter's 30 min session idle timeout), got ${ms}`,
    );
  }
  return ms;
}

/** Options with defaults applied. */
export interface ResolvedActivitiesOptions extends RetryTuning {
  /** With a policy: checks every `env:`/`file:` reference against its secret sources before the inner resolver reads it. */
  secrets: SecretResolver;
  policy?: CredentialPolicy;
  pollIntervalMs: number;
  requestTimeoutMs: number;
  warn: (message: string) => void;
}

/** Warns through the running activity's logger (so it carries the activity's context), else console. */
function activityWarn(message: string): void {
  let log: { warn(message: string): void } = console;
  try {
    log = Context.current().log;
  } catch {
    // Not inside an activity (a client used directly).
  }
  log.warn(message);
}

/** A resolver that reads nothing the policy's secret sources do not list (whatever resolver it wraps). */
export function policyGuardedResolver(inner: SecretResolver, policy: CredentialPolicy): SecretResolver {
  return {
    async resolve(ref, field) {
      await policy.checkReadable(ref, field);
      return inner.resolve(ref, field);
    },
  };
}

export function resolveOptions(opts: ActivitiesOptions = {}): ResolvedActivitiesOptions {
  const inner = opts.secrets && 'resolve' in opts.secrets ? opts.secrets : createSecretResolver(opts.secrets);
  const secrets = opts.policy ? policyGuardedResolver(inner, opts.policy) : inner;
  return {
    secrets,
    ...(opts.policy && { policy: opts.policy }),
    pollIntervalMs: checkPollInterval(opts.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, 'pollIntervalMs'),
    requestTimeoutMs: opts.requestTimeoutMs ?? 60_000,
    warn: opts.warn ?? activityWarn,
    busyRetryDelayMs: opts.busyRetryDelayMs,
    ambiguousMaxAttempts: opts.ambiguousMaxAttempts,
  };
}
