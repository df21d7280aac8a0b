/** The error a failed step reports, read from the failure chain Temporal hands the workflow. */
import { ApplicationFailure, ChildWorkflowFailure, TemporalFailure } from '@temporalio/workflow';
import { INTERNAL_ERROR_TYPE } from '../../src/core/errors';

/** The error of a failed step, from the failure chain: the innermost application failure's type and message. */
export function stepError(err: unknown): { type: string; message: string } {
  let e: unknown = err;
  let last: { type: string; message: string } = {
    type: INTERNAL_ERROR_TYPE,
    message: String((err as Error)?.message ?? err),
  };
  for (let depth = 0; e && depth < 6; depth++) {
    if (e instanceof ApplicationFailure) last = { type: e.type ?? 'ApplicationFailure', message: e.message };
    else if (e instanceof TemporalFailure && !(e instanceof ChildWorkflowFailure))
      last = { type: e.name, message: e.message };
    e = (e as { cause?: unknown }).cause;
  }
  return last;
}
