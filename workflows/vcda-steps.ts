/**
 * The VCDA step workflow: one appliance backup task, started once under the appliance lease,
 * polled to its end and verified (the task's BackupInfo carries a hash), ending in the one
 * `StepResult` shape.
 */
import { RemoteJobFailed } from '../src/core/errors';
import { VcdaBackupStepInput } from '../src/contract/step-inputs';
import { type StepResult, durationBetween } from '../src/contract/results';
import { ending } from './boundary';
import { beginStep, stepFailure } from './step';
import { runVcdaBackup } from './vcda-backup';

export type { VcdaBackupStepInput };

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** Back up a VCDA appliance as a step: one task, polled, its backup's id and hash recorded. */
export async function vcdaBackupStep(raw: VcdaBackupStepInput): Promise<StepResult> {
  return ending(async () => {
    const { input, appliance, step } = beginStep('vcdaBackupStep', VcdaBackupStepInput, raw, 'vcda-backup');
    const { started, done } = await runVcdaBackup(input, step, true);
    if (!done.backup?.hash) {
      throw stepFailure(
        new RemoteJobFailed(`task ${done.taskId} SUCCEEDED but reports no backup hash (BackupInfo.hash)`, {
          product: 'vcda',
          operation: 'taskGet',
          appliance,
          remediation: 'check the backup on the appliance (System Backup) and run the step again',
        }),
      );
    }
    const startedAt = iso(done.startTime) ?? step.startedAt;
    const endedAt = iso(done.endTime);
    return {
      product: 'vcda',
      action: 'backup',
      appliance,
      remoteId: done.taskId,
      outcome: 'succeeded',
      startedAt,
      ...(endedAt !== undefined && { endedAt, durationMs: durationBetween(startedAt, endedAt) }),
      // VCDA keeps the backup on the appliance: its id is where to find it.
      location: done.backup.id,
      hash: done.backup.hash,
      attached: started.attached,
      verification: {
        checks: [
          `task ${done.taskId} SUCCEEDED`,
          `backup ${done.backup.id} generated ${iso(done.backup.generatedOn)} with hash ${done.backup.hash.slice(0, 16)}…`,
        ],
      },
    };
  });
}
