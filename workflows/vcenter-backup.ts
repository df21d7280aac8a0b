import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { applianceKey, endpointName } from '../src/config';
import { VcenterBackupInput } from '../src/workflow-inputs';
import { ending, validateInput } from './boundary';
import { withApplianceLease } from './lease';
import { pollOptions, startOptions, stepRef } from './step';

export type { VcenterBackupInput };

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

/** Marks the histories that hold the appliance lease around the start (older ones replay without). */
export const LEASE_PATCH = 'vmware-dr-appliance-lease';

/** Back up one vCenter: one remote job, polled to its end inside one activity. */
export async function vcenterBackup(raw: VcenterBackupInput): Promise<VcenterBackupResult> {
  return ending(async () => {
    const input = validateInput('vcenterBackup', VcenterBackupInput, raw);
    const appliance = endpointName(input.endpoint);
    const step = stepRef('vcenter-backup', appliance, input.timeoutMs);
    const { startVcenterBackup } = proxyActivities<Activities>(startOptions(step));
    const start = () => startVcenterBackup({ endpoint: input.endpoint, backup: input.backup, step });
    const started = patched(LEASE_PATCH)
      ? await withApplianceLease(applianceKey('vcenter', input.endpoint), Date.parse(step.deadline as string), start)
      : await start();
    const { pollVcenterBackup } = proxyActivities<Activities>(pollOptions(step));
    const done = await pollVcenterBackup({
      endpoint: input.endpoint,
      jobId: started.jobId,
      pollIntervalMs: input.pollIntervalMs,
    });
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
  });
}
