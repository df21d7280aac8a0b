/**
 * The SDDC Manager step workflows: one backup or one restore task, started once under the
 * appliance lease, polled to its end and verified by one more read (the task and every subtask
 * SUCCESSFUL), ending in the one `StepResult` shape.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities, SddcTaskRef, SddcTaskResult, StepRef } from '../activities';
import { SddcManagerBackupStepInput, SddcManagerRestoreStepInput } from '../src/contract/step-inputs';
import { type StepAction, type StepResult, durationBetween } from '../src/contract/results';
import { ending } from './boundary';
import { runSddcManagerBackup } from './sddc-manager-backup';
import { beginStep, startThenPoll, verifyOptions } from './step';

export type { SddcManagerBackupStepInput, SddcManagerRestoreStepInput };

/** Verifies a finished task by one read and shapes the step's result. */
async function verifiedResult(
  action: StepAction,
  input: { endpoint: SddcManagerBackupStepInput['endpoint'] },
  appliance: string,
  step: StepRef,
  started: SddcTaskRef,
  done: SddcTaskResult,
): Promise<StepResult> {
  const { verifySddcManagerTask } = proxyActivities<Activities>(verifyOptions(step));
  const verified = await verifySddcManagerTask({
    endpoint: input.endpoint,
    taskId: done.taskId,
    restore: action === 'restore',
  });
  const startedAt = done.creationTimestamp ?? verified.creationTimestamp ?? step.startedAt;
  const endedAt = done.completionTimestamp ?? verified.completionTimestamp;
  return {
    product: 'sddc-manager',
    action,
    appliance,
    remoteId: done.taskId,
    outcome: 'succeeded',
    startedAt,
    ...(endedAt !== undefined && { endedAt, durationMs: durationBetween(startedAt, endedAt) }),
    attached: started.attached,
    verification: { checks: [`task ${done.taskId} polled to ${done.status}`, ...verified.checks] },
  };
}

/** Back up SDDC Manager as a step: one task (needs a configured SFTP location), polled, verified. */
export async function sddcManagerBackupStep(raw: SddcManagerBackupStepInput): Promise<StepResult> {
  return ending(async () => {
    const { input, appliance, step } = beginStep(
      'sddcManagerBackupStep',
      SddcManagerBackupStepInput,
      raw,
      'sddc-manager-backup',
    );
    const { started, done } = await runSddcManagerBackup(input, step, true);
    return verifiedResult('backup', input, appliance, step, started, done);
  });
}

/**
 * Restore a freshly deployed SDDC Manager from a backup file as a step: one restore task under
 * the lease, polled through the appliance's service restarts, verified.
 */
export async function sddcManagerRestoreStep(raw: SddcManagerRestoreStepInput): Promise<StepResult> {
  return ending(async () => {
    const { input, appliance, step } = beginStep(
      'sddcManagerRestoreStep',
      SddcManagerRestoreStepInput,
      raw,
      'sddc-manager-restore',
    );
    const { endpoint, restore } = input;
    const { started, done } = await startThenPoll({
      product: 'sddc-manager',
      endpoint,
      step,
      lease: true,
      start: (a) => a.startSddcManagerRestore({ endpoint, restore, step }),
      poll: (a, s) =>
        a.pollSddcManagerRestoreTask({ endpoint, taskId: s.taskId, pollIntervalMs: input.pollIntervalMs }),
    });
    return verifiedResult('restore', input, appliance, step, started, done);
  });
}
