/**
 * The workflow side of the input boundary: validate first, and make every failure end the run.
 * A plain `throw` in workflow code fails its workflow task, which Temporal retries forever; here
 * it becomes a non-retryable `ApplicationFailure` instead.
 */
import { ApplicationFailure, TemporalFailure, isCancellation } from '@temporalio/workflow';
import type { z } from 'zod';
import { checkInput } from '../src/contract/inputs';
import { INTERNAL_ERROR_TYPE, INVALID_INPUT_TYPE } from '../src/core/errors';

/**
 * The input parsed by `schema`, or a non-retryable `ApplicationFailure` of type `InvalidInput`
 * that names every bad field and its fix (never a value), before anything has been started.
 */
export function validateInput<S extends z.ZodType>(workflow: string, schema: S, input: unknown): z.output<S> {
  const check = checkInput(workflow, schema, input);
  if (check.ok) return check.value;
  throw ApplicationFailure.create({
    type: INVALID_INPUT_TYPE,
    message: check.message,
    nonRetryable: true,
    details: [{ problems: check.problems }],
  });
}

/**
 * Runs a workflow body so that it always ends: Temporal failures (activity and child failures,
 * cancellation) pass through; anything else (a bug) fails the run as a non-retryable
 * `InternalError` instead of failing the workflow task forever.
 */
export async function ending<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof TemporalFailure || isCancellation(err)) throw err;
    const e = err instanceof Error ? err : new Error(String(err));
    const failure = ApplicationFailure.create({
      type: INTERNAL_ERROR_TYPE,
      message: `unexpected ${e.name} in workflow code: ${e.message} (a bug: report it with this run's id)`,
      nonRetryable: true,
    });
    failure.stack = e.stack ?? failure.stack;
    throw failure;
  }
}
