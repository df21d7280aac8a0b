import { patched } from '@temporalio/workflow';
import type { SddcTaskResult, StepRef } from '../activities';
import type { SddcManagerEndpoint } from '../src/contract/endpoints';
import { SddcManagerBackupInput } from '../src/contract/inputs';
import { ending } from './boundary';
import { beginStep, startThenPoll } from './step';
import { LEASE_PATCH } from './vcenter-backup';

export type { SddcManagerBackupInput };

export interface SddcManagerBackupResult extends SddcTaskResult {
  appliance: string;
  /** True when a retry attached to the task this step had already started. */
  attached: boolean;
}

/**
 * Back up SDDC Manager (needs a configured SFTP location): one task, polled to its end. SDDC
 * Manager tasks carry no tag of ours, so the start holds the appliance lease: no other step's
 * task can appear between the snapshot of recent tasks and the POST.
 */
export async function sddcManagerBackup(raw: SddcManagerBackupInput): Promise<SddcManagerBackupResult> {
  return ending(async () => {
    const { input, appliance, step } = beginStep(
      'sddcManagerBackup',
      SddcManagerBackupInput,
      raw,
      'sddc-manager-backup',
    );
    const { started, done } = await runSddcManagerBackup(input, step, patched(LEASE_PATCH));
    return { ...done, appliance, attached: started.attached };
  });
}

/** Starts one SDDC Manager backup task (under the lease when `lease`) and polls it to its end. */
export function runSddcManagerBackup(
  input: { endpoint: SddcManagerEndpoint; pollIntervalMs?: number },
  step: StepRef,
  lease: boolean,
) {
  return startThenPoll({
    product: 'sddc-manager',
    endpoint: input.endpoint,
    step,
    lease,
    start: (a) => a.startSddcManagerBackup({ endpoint: input.endpoint, step }),
    poll: (a, started) =>
      a.pollSddcManagerTask({ endpoint: input.endpoint, taskId: started.taskId, pollIntervalMs: input.pollIntervalMs }),
  });
}
