import { patched } from '@temporalio/workflow';
import type { StepRef, VcdaBackupResult } from '../activities';
import type { VcdaEndpoint } from '../src/contract/endpoints';
import { VcdaBackupInput } from '../src/contract/inputs';
import { ending } from './boundary';
import { beginStep, startThenPoll } from './step';
import { LEASE_PATCH } from './vcenter-backup';

export type { VcdaBackupInput };

export interface VcdaBackupWorkflowResult extends VcdaBackupResult {
  appliance: string;
  attached: boolean;
}

/**
 * Back up a VCDA appliance: one task, polled to its end. VCDA's task model does not echo the
 * `operationID` we send, so the start holds the appliance lease (see `sddcManagerBackup`).
 */
export async function vcdaBackup(raw: VcdaBackupInput): Promise<VcdaBackupWorkflowResult> {
  return ending(async () => {
    const { input, appliance, step } = beginStep('vcdaBackup', VcdaBackupInput, raw, 'vcda-backup');
    const { started, done } = await runVcdaBackup(input, step, patched(LEASE_PATCH));
    return { ...done, appliance, attached: started.attached };
  });
}

/** Starts one VCDA backup task (under the lease when `lease`) and polls it to its end. */
export function runVcdaBackup(
  input: { endpoint: VcdaEndpoint; backupPasswordRef?: string; pollIntervalMs?: number },
  step: StepRef,
  lease: boolean,
) {
  return startThenPoll({
    product: 'vcda',
    endpoint: input.endpoint,
    step,
    lease,
    start: (a) => a.startVcdaBackup({ endpoint: input.endpoint, backupPasswordRef: input.backupPasswordRef, step }),
    poll: (a, started) =>
      a.pollVcdaTask({ endpoint: input.endpoint, taskId: started.taskId, pollIntervalMs: input.pollIntervalMs }),
  });
}
