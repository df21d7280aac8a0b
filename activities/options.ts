import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { MAX_POLL_INTERVAL_MS } from '../src/contract/endpoints';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../src/core/http';
import { DEFAULT_AMBIGUOUS_MAX_ATTEMPTS, DEFAULT_BUSY_RETRY_DELAY_MS, type RetryTuning } from '../src/core/retry';
import { DEFAULT_POLL_INTERVAL_MS } from '../src/contract/inputs';
import type { CredentialPolicy } from '../src/core/policy/index';
import { type SecretResolver, type SecretResolverOptions, createSecretResolver } from '../src/core/secrets';

/**
 * Options of {@link createActivities}. Every field has a documented default, applied in one
 * place: {@link resolveOptions}.
 */
export interface ActivitiesOptions extends RetryTuning {
  /**
   * Resolves `env:`/`file:` (and your own schemes) to secrets inside activities.
   * @default createSecretResolver() (env and file)
   */
  secrets?: SecretResolver | SecretResolverOptions;
  /**
   * Wait between two status polls; at most 25 min (below vCenter's 30 min idle timeout).
   * @default DEFAULT_POLL_INTERVAL_MS (15 000 ms)
   */
  pollIntervalMs?: number;
  /**
   * Per-request HTTP timeout.
   * @default DEFAULT_REQUEST_TIMEOUT_MS (60 000 ms)
   */
  requestTimeoutMs?: number;
  /**
   * Where TLS `insecure` warnings go.
   * @default the activity logger, or console.warn outside one
   */
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
  /**
   * The Temporal client the activities read runs with: a restore's recovery point, a restore
   * step's approval, the appliance lease workflow, the namespace's search attributes.
   * @default the running activity's own client (`Context.current().client`, the worker's connection)
   */
  client?: Client;
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

/** Options with defaults applied ({@link resolveOptions}). */
export interface ResolvedActivitiesOptions extends Required<RetryTuning> {
  /** With a policy: checks every `env:`/`file:` reference against its secret sources before the inner resolver reads it. */
  secrets: SecretResolver;
  policy?: CredentialPolicy;
  pollIntervalMs: number;
  requestTimeoutMs: number;
  warn: (message: string) => void;
  /** The one accessor of the Temporal client: the one given, else the running activity's (throws outside an activity). */
  client: () => Client;
}

/** The running activity's own Temporal client. */
function activityClient(): Client {
  return Context.current().client;
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

/** The one place that applies the defaults of {@link ActivitiesOptions} (and checks the poll interval). */
export function resolveOptions(opts: ActivitiesOptions = {}): ResolvedActivitiesOptions {
  const inner = opts.secrets && 'resolve' in opts.secrets ? opts.secrets : createSecretResolver(opts.secrets);
  const secrets = opts.policy ? policyGuardedResolver(inner, opts.policy) : inner;
  const { client } = opts;
  return {
    secrets,
    ...(opts.policy && { policy: opts.policy }),
    pollIntervalMs: checkPollInterval(opts.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, 'pollIntervalMs'),
    requestTimeoutMs: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    warn: opts.warn ?? activityWarn,
    busyRetryDelayMs: opts.busyRetryDelayMs ?? DEFAULT_BUSY_RETRY_DELAY_MS,
    ambiguousMaxAttempts: opts.ambiguousMaxAttempts ?? DEFAULT_AMBIGUOUS_MAX_ATTEMPTS,
    client: client ? () => client : activityClient,
  };
}
