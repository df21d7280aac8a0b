import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import {
  CONFIGURATION_ERROR_TYPE,
  INTERNAL_ERROR_TYPE,
  type NonApplianceFailureType,
  NotPermitted,
  VmwareApiError,
} from '../src/core/errors';
import { type RetryTuning, type StepClock, retryDecision } from '../src/core/retry';
import { isAbortError } from '../src/core/classify';
import { SecretReferenceError } from '../src/core/secrets';
import { CertificatePinMismatchError, TlsConfigError } from '../src/core/tls';

/** Settings that cannot work on this worker: each says what to change, and none is retried. */
function configurationFix(err: Error): string | undefined {
  if (err instanceof TlsConfigError)
    return "correct the endpoint's tls settings (caFile readable PEM, SHA-256 thumbprint, or insecure: true alone)";
  if (err instanceof CertificatePinMismatchError)
    return "the appliance's certificate changed or the pin is wrong: check tls.thumbprint";
  if (err instanceof SecretReferenceError)
    return 'set the environment variable or file the reference names on every worker, or register its scheme';
  if (err instanceof RangeError) return 'use a value inside the range the message gives';
  return undefined;
}

function nonAppliance(type: NonApplianceFailureType, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: true,
    ...(details !== undefined && { details: [details] }),
  });
}

/**
 * Turns anything an activity throws into the `ApplicationFailure` that leaves it: `type` is the
 * error class name, retryability comes from `errors.ts` alone (bounded by the step's deadline),
 * the message names product, appliance, operation, VMware error id and the remediation hint.
 * Never includes request bodies. Configuration errors (TLS, secret references, ranges) fail for
 * good with a fix; an error nobody classified is an `InternalError` with its stack, never retried.
 * Temporal's own failures (cancellation) and the abort of a cancelled request pass through.
 */
export function toApplicationFailure(
  err: unknown,
  attempt: number,
  tuning: RetryTuning = {},
  clock?: StepClock,
  cancelled = false,
): unknown {
  if (err instanceof ApplicationFailure || err instanceof TemporalFailure) return err;
  if (cancelled && isAbortError(err)) return err;
  if (err instanceof VmwareApiError) {
    const decision = retryDecision(err, attempt, tuning, clock);
    // Retryable but for the clock: the step's deadline ended it.
    const pastDeadline = !decision.retryable && retryDecision(err, attempt, tuning).retryable;
    return ApplicationFailure.create({
      type: err.name,
      message: pastDeadline
        ? `${err.message} (${err.name === 'ResourceBusy' ? 'still busy' : 'gave up'} at the step's deadline)`
        : err.message,
      nonRetryable: !decision.retryable,
      nextRetryDelay: decision.nextRetryDelayMs,
      details: [
        {
          code: err.code,
          product: err.product,
          appliance: err.appliance,
          operation: err.operation,
          httpStatus: err.httpStatus,
          vmwareCode: err.vmwareCode,
          remediation: err.remediation,
          // A policy refusal: the rule that refused and the input field (the workflow side reads them).
          ...(err instanceof NotPermitted && { rule: err.rule, field: err.field }),
        },
      ],
    });
  }
  if (err instanceof Error) {
    const fix = configurationFix(err);
    if (fix !== undefined)
      return nonAppliance(CONFIGURATION_ERROR_TYPE, `${err.message}. Fix: ${fix}`, {
        code: (err as { code?: unknown }).code ?? err.name,
        remediation: fix,
      });
    const failure = nonAppliance(
      INTERNAL_ERROR_TYPE,
      `unexpected ${err.name}: ${err.message} (a bug: report it with this run's id)`,
      { name: err.name },
    );
    failure.stack = err.stack ?? failure.stack;
    return failure;
  }
  return nonAppliance(
    INTERNAL_ERROR_TYPE,
    `unexpected non-error thrown: ${typeof err} (a bug: report it with this run's id)`,
  );
}
