import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities, VcenterBackupSpec } from '../activities';
import type { VcenterEndpoint } from '../src/config';

export interface VcenterBackupInput {
  /** The vCenter to back up. Its password is a reference resolved by the worker. */
  endpoint: VcenterEndpoint;
  backup: VcenterBackupSpec;
  /** Wait between status polls. Default: the worker's setting (15 s). */
  pollIntervalMs?: number;
  /** Longest the backup may run before the step fails. Default 6 hours. */
  timeoutMs?: number;
}

export interface VcenterBackupResult {
  appliance: string;
  jobId: string;
  state: 'SUCCEEDED';
  startTime: string;
  endTime?: string;
  /** Job duration by the appliance's clock, in ms. */
  durationMs?: number;
}

const DEFAULT_TIMEOUT_MS = 6 * 60 * 60 * 1000;

const { startVcenterBackup } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes' },
});

/** Back up one vCenter: one remote job, polled to its end inside one activity. */
export async function vcenterBackup(input: VcenterBackupInput): Promise<VcenterBackupResult> {
  const appliance = input.endpoint.name ?? input.endpoint.url;
  const stepId = `${workflowInfo().workflowId}/vcenter-backup/${appliance}`;
  const started = await startVcenterBackup({ endpoint: input.endpoint, backup: input.backup, stepId });
  const { pollVcenterBackup } = proxyActivities<Activities>({
    startToCloseTimeout: input.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    heartbeatTimeout: '30 seconds', // polls heartbeat every ≤5 s even while sleeping
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });
  const done = await pollVcenterBackup({ endpoint: input.endpoint, jobId: started.jobId, pollIntervalMs: input.pollIntervalMs });
  const durationMs = done.endTime ? Date.parse(done.endTime) - Date.parse(done.startTime) : undefined;
  return { appliance, jobId: done.jobId, state: done.state, startTime: done.startTime, endTime: done.endTime, durationMs };
}
