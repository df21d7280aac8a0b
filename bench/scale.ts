/**
 * Measurement (c), scale: N full-site runbooks at once, each against its own simulated site, on
 * one worker process, in one of three polling modes. Returns plain numbers for bench/results.json.
 */
import { loadavg } from 'node:os';
import type { RunbookReport } from '../src/contract/runbook/report';
import { runbookClient } from '../src/client/runbook';
import { endTaskQueueWorkflows } from '../src/client/task-queue';
import { type BenchEnv, mapLimit, siteRunbook, spawnWorker, startSite } from './env';
import { type Log, round } from './measure';

export interface ScaleResult {
  runbooks: number;
  failures: number;
  runbooksPerMinute: number;
  p50LagMs: number;
  p95LagMs: number;
  peakRssMb: number;
  /** The worker's RSS once it polls, before any runbook. */
  idleRssMb: number;
  cpuSecondsPerRunbook: number;
  mode: ScaleMode;
  activitySlots: number;
  /** The worker's `maxCachedWorkflows` as set; null: the SDK's default. */
  maxCachedWorkflows?: number | null;
  /** The cache size the worker ran with (the SDK's default resolved for its heap when unset). */
  effectiveMaxCachedWorkflows?: number;
  /** The worker's V8 old-space limit (`--max-old-space-size`, MB); absent: Node's default. */
  maxOldSpaceMb?: number;
  /** Of the peak RSS: the largest V8 heap in use and allocated seen by the 1 s sampler, MB. */
  peakHeapUsedMb?: number;
  peakHeapTotalMb?: number;
  wallMs: number;
  jobSeconds: number;
  pollIntervalMs: number;
  maxLagMs: number;
  /** 1-minute load average of the machine before and after the entry (it is shared). */
  loadAverage1m?: [number, number];
  /** With a cap (`--scale-cap-minutes`): runbooks not finished when it passed (counted in `failures`). */
  unfinished?: number;
  capMinutes?: number;
}

/**
 * How the scale worker polls: heartbeat polling with the SDK's default 100 activity slots or with
 * slots sized for every step in flight, or retry-as-poll (`pollMode: 'retry'` on every step:
 * one read per attempt, retried by the server; no slot held between reads).
 */
export type ScaleMode = 'heartbeat-default-slots' | 'heartbeat-sized-slots' | 'retry-as-poll';
export const SCALE_MODES: readonly ScaleMode[] = ['heartbeat-default-slots', 'heartbeat-sized-slots', 'retry-as-poll'];

/** The SDK's default `maxConcurrentActivityTaskExecutions`. */
export const SDK_DEFAULT_ACTIVITY_SLOTS = 100;

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/**
 * (c) N full-site runbooks at once, each against its own simulated site, on one worker process.
 * Lag: a step's child workflow closing (server clock) minus its job's end on the simulator
 * (the job's recorded start + jobSeconds).
 */
export async function measureScale(
  env: BenchEnv,
  log: Log,
  runbooks: number,
  mode: ScaleMode,
  jobSeconds: number,
  opts: { maxCachedWorkflows?: number; maxOldSpaceMb?: number; pollIntervalMs?: number; capMinutes?: number } = {},
): Promise<ScaleResult> {
  const pollIntervalMs = opts.pollIntervalMs ?? 1000;
  // Sized: every step of every runbook can hold a slot at once (two vCenter polls per runbook, plus
  // starts and verifies). Retry-as-poll holds a slot only for one read: the SDK's default.
  const activitySlots =
    mode === 'heartbeat-sized-slots' ? Math.max(SDK_DEFAULT_ACTIVITY_SLOTS, runbooks * 4) : SDK_DEFAULT_ACTIVITY_SLOTS;
  const load0 = loadavg()[0] as number;
  const sims = await mapLimit(Array.from({ length: runbooks }), 16, () => startSite(jobSeconds));
  const worker = await spawnWorker(env, {
    maxConcurrentActivityTaskExecutions: activitySlots,
    ...(opts.maxCachedWorkflows !== undefined && { maxCachedWorkflows: opts.maxCachedWorkflows }),
    ...(opts.maxOldSpaceMb !== undefined && { maxOldSpaceMb: opts.maxOldSpaceMb }),
    ...(mode === 'retry-as-poll' && { bundlePath: await env.retryBundlePath() }),
  });
  const before = await worker.stats();
  let peakRssMb = before.rssMb;
  let peakHeapUsedMb = before.heapUsedMb ?? 0;
  let peakHeapTotalMb = before.heapTotalMb ?? 0;
  const sampler = setInterval(() => {
    worker.stats().then(
      (s) => {
        peakRssMb = Math.max(peakRssMb, s.rssMb);
        peakHeapUsedMb = Math.max(peakHeapUsedMb, s.heapUsedMb ?? 0);
        peakHeapTotalMb = Math.max(peakHeapTotalMb, s.heapTotalMb ?? 0);
      },
      () => undefined,
    );
  }, 1000);
  const prefix = `scale-${mode}-${opts.maxCachedWorkflows ?? 'default'}-${opts.maxOldSpaceMb ?? 'default'}-${runbooks}-${Date.now()}`;
  try {
    const t0 = Date.now();
    // Every runbook in flight at once: started first (50 start requests at a time), then awaited.
    const runbooksClient = runbookClient(env.client, { taskQueue: worker.taskQueue });
    const handles = await mapLimit(sims, 50, (sim, i) =>
      runbooksClient.start(siteRunbook(sim, `bench-${i}`, pollIntervalMs), { workflowId: `${prefix}-${i}` }),
    );
    log(`  (c) ${runbooks} runbooks started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // With a cap, a runbook still running when it passes counts as unfinished (a failure of the entry).
    const UNFINISHED = 'unfinished';
    let capTimer: NodeJS.Timeout | undefined;
    const cap =
      opts.capMinutes === undefined
        ? undefined
        : new Promise<{ outcome: string }>((r) => {
            capTimer = setTimeout(() => r({ outcome: UNFINISHED }), opts.capMinutes! * 60_000);
          });
    const reports = await mapLimit(handles, runbooks, async (handle) => {
      const result = handle
        .result()
        .catch((err: unknown) => ({ outcome: `error: ${(err as Error).message}` })) as Promise<RunbookReport>;
      return (cap ? await Promise.race([result, cap]) : await result) as RunbookReport;
    });
    clearTimeout(capTimer);
    const unfinished = reports.filter((r) => (r.outcome as string) === UNFINISHED).length;
    if (opts.capMinutes !== undefined)
      log(`  (c) ${runbooks - unfinished} of ${runbooks} finished within ${opts.capMinutes} min`);
    const wallMs = Date.now() - t0;
    clearInterval(sampler);
    const after = await worker.stats();
    peakRssMb = Math.max(peakRssMb, after.peakRssMb);
    const failures = reports.filter((r) => r.outcome !== 'succeeded').length;

    // When each step's child workflow closed, from visibility (one listing for the whole run).
    const closed = new Map<string, number>();
    for await (const w of env.client.workflow.list({
      query: `TaskQueue = "${worker.taskQueue}" AND ExecutionStatus = "Completed"`,
    }))
      if (w.closeTime) closed.set(w.workflowId, w.closeTime.getTime());
    const lags: number[] = [];
    sims.forEach((sim, i) => {
      const report = reports[i];
      if (!report?.steps) return;
      const jobs = sim.counters().jobs;
      for (const s of report.steps) {
        const job = jobs.find((j) => j.appliance === s.endpoint);
        const end = closed.get(`${prefix}-${i}/${s.id}`);
        if (job && end !== undefined) lags.push(end - (Date.parse(job.startedAt) + jobSeconds * 1000));
      }
    });
    lags.sort((a, b) => a - b);
    const result: ScaleResult = {
      runbooks,
      failures,
      // Finished runbooks only: with a cap, the unfinished ones are failures, not throughput.
      runbooksPerMinute: round((runbooks - unfinished) / (wallMs / 60_000), 1),
      p50LagMs: Math.round(percentile(lags, 50)),
      p95LagMs: Math.round(percentile(lags, 95)),
      peakRssMb: Math.round(peakRssMb),
      idleRssMb: Math.round(before.rssMb),
      cpuSecondsPerRunbook: round((after.cpuSeconds - before.cpuSeconds) / runbooks, 3),
      mode,
      activitySlots,
      maxCachedWorkflows: opts.maxCachedWorkflows ?? null,
      ...(before.maxCachedWorkflows !== undefined && { effectiveMaxCachedWorkflows: before.maxCachedWorkflows }),
      ...(opts.maxOldSpaceMb !== undefined && { maxOldSpaceMb: opts.maxOldSpaceMb }),
      peakHeapUsedMb: Math.round(peakHeapUsedMb),
      peakHeapTotalMb: Math.round(peakHeapTotalMb),
      wallMs,
      jobSeconds,
      pollIntervalMs,
      maxLagMs: Math.round(lags[lags.length - 1] ?? Number.NaN),
      loadAverage1m: [round(load0), round(loadavg()[0] as number)],
      ...(opts.capMinutes !== undefined && { unfinished, capMinutes: opts.capMinutes }),
    };
    log(`  (c) ${runbooks} runbooks, ${scaleLabel(result)}: ${JSON.stringify(result)}`);
    return result;
  } finally {
    clearInterval(sampler);
    await endTaskQueueWorkflows(env.client, worker.taskQueue, 'benchmark over', { workerPolling: true }).catch(
      () => undefined,
    );
    await worker.stop().catch(() => undefined);
    await mapLimit(sims, 32, (s) => s.close());
  }
}

/** A scale entry's mode with the knobs it set (`retry-as-poll, cache 250`). */
export function scaleLabel(x: Pick<ScaleResult, 'mode' | 'maxCachedWorkflows' | 'maxOldSpaceMb'>): string {
  return [
    x.mode,
    ...(x.maxCachedWorkflows == null ? [] : [`cache ${x.maxCachedWorkflows}`]),
    ...(x.maxOldSpaceMb ? [`heap ${x.maxOldSpaceMb} MB`] : []),
  ].join(', ');
}
