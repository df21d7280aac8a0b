import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities, SddcTaskResult } from '../activities';
import { applianceKey, endpointName } from '../src/config';
import { SddcManagerBackupInput } from '../src/workflow-inputs';
import { ending, validateInput } from './boundary';
import { withApplianceLease } from './lease';
import { pollOptions, startOptions, stepRef } from './step';
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
    const input = validateInput('sddcManagerBackup', SddcManagerBackupInput, raw);
    const appliance = endpointName(input.endpoint);
    const step = stepRef('sddc-manager-backup', appliance, input.timeoutMs);
    const { startSddcManagerBackup } = proxyActivities<Activities>(startOptions(step));
    const start = () => startSddcManagerBackup({ endpoint: input.endpoint, step });
    const started = patched(LEASE_PATCH)
      ? await withApplianceLease(
          applianceKey('sddc-manager', input.endpoint),
          Date.parse(step.deadline as string),
          start,
        )
      : await start();
    const { pollSddcManagerTask } = proxyActivities<Activities>(pollOptions(step));
    const done = await pollSddcManagerTask({
      endpoint: input.endpoint,
      taskId: started.taskId,
      pollIntervalMs: input.pollIntervalMs,
    });
    return { ...done, appliance, attached: started.attached };
  });
}
