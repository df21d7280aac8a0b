import { proxyActivities } from '@temporalio/workflow';
import type { Activities, SddcTaskResult } from '../activities';
import type { SddcManagerEndpoint } from '../src/config';
import { DEFAULT_STEP_TIMEOUT_MS, START_RETRY, pollOptions, stepRef } from './step';

export interface SddcManagerBackupInput {
  endpoint: SddcManagerEndpoint;
  pollIntervalMs?: number;
  /** Longest the step may take, lock waits included. Default 6 hours. */
  timeoutMs?: number;
}

export interface SddcManagerBackupResult extends SddcTaskResult {
  appliance: string;
  /** True when a retry attached to the task this step had already started. */
  attached: boolean;
}

const { startSddcManagerBackup } = proxyActivities<Activities>({ startToCloseTimeout: '2 minutes', retry: START_RETRY });

/** Back up SDDC Manager (needs a configured SFTP location): one task, polled to its end. */
export async function sddcManagerBackup(input: SddcManagerBackupInput): Promise<SddcManagerBackupResult> {
  const appliance = input.endpoint.name ?? input.endpoint.url;
  const timeoutMs = input.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  const started = await startSddcManagerBackup({ endpoint: input.endpoint, step: stepRef('sddc-manager-backup', appliance, timeoutMs) });
  const { pollSddcManagerTask } = proxyActivities<Activities>(pollOptions(timeoutMs));
  const done = await pollSddcManagerTask({ endpoint: input.endpoint, taskId: started.taskId, pollIntervalMs: input.pollIntervalMs });
  return { ...done, appliance, attached: started.attached };
}
