/**
 * The vCenter step workflows: one backup or one restore, started once under the appliance lease,
 * polled to its end and verified, ending in the one `StepResult` shape.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { InvalidArgument, RemoteJobFailed } from '../src/core/errors';
import { VcenterBackupStepInput, VcenterRestoreStepInput } from '../src/contract/step-inputs';
import { type StepResult, durationBetween } from '../src/contract/results';
import { ending } from './boundary';
import { beginStep, startThenPoll, stepFailure, verifyOptions } from './step';
import { runVcenterBackup } from './vcenter-backup';

export type { VcenterBackupStepInput, VcenterRestoreStepInput };

/**
 * Back up one vCenter as a step: one job, polled to its end, then verified from the job details
 * (SUCCEEDED, size above 0 where given), recording where the backup went and its size.
 */
export async function vcenterBackupStep(raw: VcenterBackupStepInput): Promise<StepResult> {
  return ending(async () => {
    const { input, appliance, step } = beginStep('vcenterBackupStep', VcenterBackupStepInput, raw, 'vcenter-backup');
    const { started, done } = await runVcenterBackup(input, step, true);
    const { verifyVcenterBackup } = proxyActivities<Activities>(verifyOptions(step));
    const verified = await verifyVcenterBackup({ endpoint: input.endpoint, jobId: done.jobId });
    const startedAt = done.startTime;
    const endedAt = done.endTime ?? verified.endTime;
    return {
      product: 'vcenter',
      action: 'backup',
      appliance,
      remoteId: done.jobId,
      outcome: 'succeeded',
      startedAt,
      ...(endedAt !== undefined && { endedAt, durationMs: durationBetween(startedAt, endedAt) }),
      location: verified.location,
      ...(verified.sizeBytes !== undefined && { sizeBytes: verified.sizeBytes }),
      attached: started.attached,
      verification: { checks: [`backup job ${done.jobId} polled to SUCCEEDED`, ...verified.checks] },
    };
  });
}

/**
 * Restore a freshly deployed vCenter (restore stage, before firstboot) from a backup as a step:
 * validated first (not applicable → `InvalidArgument`, nothing started), then one restore job
 * under the lease, polled through the appliance's service restarts to SUCCEEDED at 100 %. The
 * restore job carries no times, so the result's are workflow time.
 */
export async function vcenterRestoreStep(raw: VcenterRestoreStepInput): Promise<StepResult> {
  return ending(async () => {
    const { input, appliance, step } = beginStep('vcenterRestoreStep', VcenterRestoreStepInput, raw, 'vcenter-restore');
    const { endpoint, restore } = input;
    const { validateVcenterRestore } = proxyActivities<Activities>(verifyOptions(step));
    const validation = await validateVcenterRestore({ endpoint, restore });
    if (!validation.applicable) {
      throw stepFailure(
        new InvalidArgument('the backup cannot be restored onto this appliance (restore validation: not applicable)', {
          product: 'vcenter',
          operation: 'restoreValidate',
          appliance,
          messages: validation.messages,
          remediation:
            'restore onto a freshly deployed vCenter in the restore stage (before firstboot) with a backup of a matching version',
        }),
      );
    }
    const { started, done } = await startThenPoll({
      product: 'vcenter',
      endpoint,
      step,
      lease: true,
      start: (a) => a.startVcenterRestore({ endpoint, restore, step }),
      poll: (a) => a.pollVcenterRestore({ endpoint, pollIntervalMs: input.pollIntervalMs }),
    });
    if (done.state !== 'SUCCEEDED' || done.progress !== 100) {
      throw stepFailure(
        new RemoteJobFailed(`restore job ended ${done.state} at ${done.progress} %, not SUCCEEDED at 100 %`, {
          product: 'vcenter',
          operation: 'restoreJobGet',
          appliance,
          messages: done.messages,
        }),
      );
    }
    const endedAt = new Date(Date.now()).toISOString();
    return {
      product: 'vcenter',
      action: 'restore',
      appliance,
      remoteId: 'restore',
      outcome: 'succeeded',
      startedAt: step.startedAt,
      endedAt,
      durationMs: durationBetween(step.startedAt, endedAt),
      attached: started.attached,
      verification: {
        checks: [
          `restore validation: applicable (backup of ${validation.boxname}, version ${validation.version}, ${validation.timestamp})`,
          'restore job SUCCEEDED at 100 %',
        ],
      },
    };
  });
}
