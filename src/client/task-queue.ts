/**
 * Ending what still runs on a task queue whose worker goes away (the rehearsal's, a test's, the
 * bench's): appliance leases asked to close, anything left terminated. Client side (I/O).
 */
import type { Client } from '@temporalio/client';
import { leaseCloseSignal } from '../../workflows/lease';

/** How long {@link endTaskQueueWorkflows} waits for lease workflows asked to close (they end within a workflow task). */
const LEASE_CLOSE_WAIT_MS = 10_000;

/**
 * Ends what still runs on a task queue whose worker is going away: chiefly the appliance lease
 * workflows, which idle for a minute. Left running, a later run whose appliance has the same
 * host:port (a simulator given a freed port) would send its lease request to a workflow no worker
 * serves, and wait for a grant that never comes.
 *
 * With `workerPolling` (call it while the task queue's worker still runs), lease workflows are
 * asked to close (`vmwareDrLeaseClose`) and end cleanly, COMPLETED, as soon as nothing is queued
 * or held; whatever still runs after that (a run left behind, a lease still held, or every
 * workflow when no worker polls) is terminated with `reason`. Best effort: a run that ends
 * meanwhile is skipped.
 */
export async function endTaskQueueWorkflows(
  client: Client,
  taskQueue: string,
  reason: string,
  opts: { workerPolling?: boolean } = {},
): Promise<void> {
  const running: { workflowId: string; runId: string; type: string }[] = [];
  for await (const w of client.workflow.list({ query: `TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"` }))
    running.push({ workflowId: w.workflowId, runId: w.runId, type: w.type });
  const handle = (w: { workflowId: string; runId: string }) => client.workflow.getHandle(w.workflowId, w.runId);
  if (opts.workerPolling) {
    const deadline = Date.now() + LEASE_CLOSE_WAIT_MS;
    await Promise.all(
      running
        .filter((w) => w.type === 'applianceLease')
        .map(async (w) => {
          const h = handle(w);
          await h.signal(leaseCloseSignal).catch(() => undefined);
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            h.result().catch(() => undefined),
            new Promise((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now())))),
          ]);
          clearTimeout(timer);
        }),
    );
  }
  await Promise.all(
    running.map(async (w) => {
      const h = handle(w);
      if (opts.workerPolling && (await h.describe().catch(() => undefined))?.status.name !== 'RUNNING') return;
      await h.terminate(reason).catch(() => undefined);
    }),
  );
}
