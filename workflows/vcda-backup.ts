import { proxyActivities } from '@temporalio/workflow';
import type { Activities, VcdaBackupResult } from '../activities';
import type { VcdaEndpoint } from '../src/config';
import { DEFAULT_STEP_TIMEOUT_MS, START_RETRY, pollOptions, stepRef } from './step';

export interface VcdaBackupInput {
  endpoint: VcdaEndpoint;
  /** Reference to the backup encryption password. Default: none. */
  backupPasswordRef?: string;
  pollIntervalMs?: number;
  timeoutMs?: number;
}

export interface VcdaBackupWorkflowResult extends VcdaBackupResult {
  appliance: string;
  attached: boolean;
}

const { startVcdaBackup } = proxyActivities<Activities>({ startToCloseTimeout: '2 minutes', retry: START_RETRY });

/** Back up a VCDA appliance: one task, polled to its end. */
export async function vcdaBackup(input: VcdaBackupInput): Promise<VcdaBackupWorkflowResult> {
  const appliance = input.endpoint.name ?? input.endpoint.url;
  const timeoutMs = input.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  const started = await startVcdaBackup({ endpoint: input.endpoint, backupPasswordRef: input.backupPasswordRef, step: stepRef('vcda-backup', appliance, timeoutMs) });
  const { pollVcdaTask } = proxyActivities<Activities>(pollOptions(timeoutMs));
  const done = await pollVcdaTask({ endpoint: input.endpoint, taskId: started.taskId, pollIntervalMs: input.pollIntervalMs });
  return { ...done, appliance, attached: started.attached };
}
