import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities, VcdaBackupResult } from '../activities';
import { applianceKey, endpointName } from '../src/config';
import { VcdaBackupInput } from '../src/workflow-inputs';
import { ending, validateInput } from './boundary';
import { withApplianceLease } from './lease';
import { pollOptions, startOptions, stepRef } from './step';
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
    const input = validateInput('vcdaBackup', VcdaBackupInput, raw);
    const appliance = endpointName(input.endpoint);
    const step = stepRef('vcda-backup', appliance, input.timeoutMs);
    const { startVcdaBackup } = proxyActivities<Activities>(startOptions(step));
    const start = () => startVcdaBackup({ endpoint: input.endpoint, backupPasswordRef: input.backupPasswordRef, step });
    const started = patched(LEASE_PATCH)
      ? await withApplianceLease(applianceKey('vcda', input.endpoint), Date.parse(step.deadline as string), start)
      : await start();
    const { pollVcdaTask } = proxyActivities<Activities>(pollOptions(step));
    const done = await pollVcdaTask({
      endpoint: input.endpoint,
      taskId: started.taskId,
      pollIntervalMs: input.pollIntervalMs,
    });
    return { ...done, appliance, attached: started.attached };
  });
}
