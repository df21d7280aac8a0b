import { patched } from '@temporalio/workflow';
import type { StepRef, VcenterBackupSpec } from '../activities';
import type { VcenterEndpoint } from '../src/contract/endpoints';
import { durationBetween } from '../src/contract/results';
import { VcenterBackupInput } from '../src/contract/inputs';
import { ending } from './boundary';
import { beginStep, startThenPoll } from './step';

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

/** Starts one vCenter backup job (under the lease when `lease`) and polls it to its end. */
export function runVcenterBackup(
  input: { endpoint: VcenterEndpoint; backup: VcenterBackupSpec; pollIntervalMs?: number },
  step: StepRef,
  lease: boolean,
) {
  return startThenPoll({
    product: 'vcenter',
    endpoint: input.endpoint,
    step,
    lease,
    start: (a) => a.startVcenterBackup({ endpoint: input.endpoint, backup: input.backup, step }),
    poll: (a, started) =>
      a.pollVcenterBackup({ endpoint: input.endpoint, jobId: started.jobId, pollIntervalMs: input.pollIntervalMs }),
  });
}

/** Back up one vCenter: one remote job, polled to its end inside one activity. */
export async function vcenterBackup(raw: VcenterBackupInput): Promise<VcenterBackupResult> {
  return ending(async () => {
    const { input, appliance, step } = beginStep('vcenterBackup', VcenterBackupInput, raw, 'vcenter-backup');
    const { started, done } = await runVcenterBackup(input, step, patched(LEASE_PATCH));
    return {
      appliance,
      jobId: done.jobId,
      state: done.state,
      startTime: done.startTime,
      endTime: done.endTime,
      durationMs: durationBetween(done.startTime, done.endTime),
      attached: started.attached,
      ...(done.resumedFromPolls !== undefined && { resumedFromPolls: done.resumedFromPolls }),
    };
  });
}
