import { ApplicationFailure } from '@temporalio/common';
import { type RetryTuning, type StepClock, VmwareApiError, retryDecision } from '../src/errors';
import { SecretReferenceError } from '../src/secrets';

/**
 * Turns anything an activity throws into the `ApplicationFailure` that leaves it: `type` is the
 * error class name, retryability comes from `errors.ts` alone, the message names product,
 * appliance, operation, VMware error id and the remediation hint. Never includes request bodies.
 * Bad input (a secret reference that does not resolve, an out-of-range option) fails for good.
 */
export function toApplicationFailure(err: unknown, attempt: number, tuning: RetryTuning = {}, clock?: StepClock): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof VmwareApiError) {
    const decision = retryDecision(err, attempt, tuning, clock);
    const pastDeadline = err.name === 'ResourceBusy' && !decision.retryable;
    return ApplicationFailure.create({
      type: err.name,
      message: pastDeadline ? `${err.message} (still busy at the step's deadline)` : err.message,
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
        },
      ],
    });
  }
  if (err instanceof SecretReferenceError || err instanceof RangeError) {
    return ApplicationFailure.create({ type: err.name, message: err.message, nonRetryable: true });
  }
  return err;
}
