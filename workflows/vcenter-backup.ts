import { proxyActivities } from '@temporalio/workflow';
import type { Activities, VcenterBackupSpec } from '../activities';
import type { VcenterEndpoint } from '../src/config';
import { DEFAULT_STEP_TIMEOUT_MS, START_RETRY, pollOptions, stepRef } from './step';

export interface VcenterBackupInput {
  /** The vCenter to back up. Its password is a reference resolved by the worker. */
  endpoint: VcenterEndpoint;
  backup: VcenterBackupSpec;
  /** Wait between status polls. Default: the worker's setting (15 s). */
  pollIntervalMs?: number;
  /** Longest the step may take, busy waits included, before it fails. Default 6 hours. */
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
  /** True when a retried start found the job this step had already started. */
  attached: boolean;
  /** Set when the poll resumed after a worker restart or failed attempt (polls done before). */
  resumedFromPolls?: number;
}

const { startVcenterBackup } = proxyActivities<Activities>({ startToCloseTimeout: '2 minutes', retry: START_RETRY });

/** Back up one vCenter: one remote job, polled to its end inside one activity. */
export async function vcenterBackup(input: VcenterBackupInput): Promise<VcenterBackupResult> {
  const appliance = input.endpoint.name ?? input.endpoint.url;
  const timeoutMs = input.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  const step = stepRef('vcenter-backup', appliance, timeoutMs);
  const started = await startVcenterBackup({ endpoint: input.endpoint, backup: input.backup, step });
  const { pollVcenterBackup } = proxyActivities<Activities>(pollOptions(timeoutMs));
  const done = await pollVcenterBackup({ endpoint: input.endpoint, jobId: started.jobId, pollIntervalMs: input.pollIntervalMs });
  const durationMs = done.endTime ? Date.parse(done.endTime) - Date.parse(done.startTime) : undefined;
  return {
    appliance,
    jobId: done.jobId,
    state: done.state,
    startTime: done.startTime,
    endTime: done.endTime,
    durationMs,
    attached: started.attached,
    ...(done.resumedFromPolls !== undefined && { resumedFromPolls: done.resumedFromPolls }),
  };
}
