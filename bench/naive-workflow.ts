/**
 * The naive polling loop the benchmark compares against (bench only, never shipped): one
 * activity per status read and one timer between reads, so every poll adds events to history.
 * Pure workflow code, bundled with the package's workflows by bench/workflows.ts.
 */
import { proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { BenchActivities } from './activities';
import type { VcenterEndpoint } from '../src/contract/endpoints';

export interface NaivePollInput {
  endpoint: VcenterEndpoint;
  backup: { locationType: 'SFTP'; location: string; locationUser?: string; locationPasswordRef?: string };
  pollIntervalMs: number;
}

const { startVcenterBackup } = proxyActivities<Activities>({ startToCloseTimeout: '2 minutes' });
const { readVcenterBackupState } = proxyActivities<BenchActivities>({ startToCloseTimeout: '30 seconds' });

/** Starts one vCenter backup job, then reads its state (activity) and sleeps (timer) until it ends. */
export async function naivePollBackup(input: NaivePollInput): Promise<{ polls: number; state: string }> {
  const now = Date.now();
  const step = {
    id: `${workflowInfo().workflowId}/naive`,
    startedAt: new Date(now).toISOString(),
    deadline: new Date(now + 3_600_000).toISOString(),
  };
  const { jobId } = await startVcenterBackup({ endpoint: input.endpoint, backup: input.backup, step });
  for (let polls = 1; ; polls++) {
    const { state } = await readVcenterBackupState({ endpoint: input.endpoint, jobId });
    if (state === 'SUCCEEDED' || state === 'FAILED') return { polls, state };
    await sleep(input.pollIntervalMs);
  }
}
