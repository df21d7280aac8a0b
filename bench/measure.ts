/**
 * The four measurements: (a) history growth, (b) orchestration overhead, (c) scale, (d) cost per
 * job. Each returns plain numbers for bench/results.json.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { RunbookReport } from '../src/runbook/report';
import type { Counters, Simulator } from '../src/simulator/server';
import {
  type BenchEnv,
  SITE,
  endpointOf,
  mapLimit,
  siteRunbook,
  spawnWorker,
  startSite,
  terminateLeftovers,
  vcenterBackupSpec,
} from './env';

type Log = (line: string) => void;

async function historyLength(env: BenchEnv, workflowId: string): Promise<number> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return history.events?.length ?? 0;
}

export interface HistoryResult {
  pollIntervalMs: number;
  jobSeconds: { short: number; long: number };
  ours: { short: number; long: number; workflow: string };
  naive: {
    short: number;
    long: number;
    polls: { short: number; long: number };
    slopeEventsPerJobSecond: number;
    eventsPerPoll: number;
  };
}

/** (a) Events of one product step for a short and a long job, this package's polling vs the naive loop. */
export async function measureHistory(
  env: BenchEnv,
  log: Log,
  short = 1,
  long = 30,
  pollIntervalMs = 50,
): Promise<HistoryResult> {
  const worker = await spawnWorker(env);
  const sims: Simulator[] = [];
  try {
    const run = async (kind: 'ours' | 'naive', jobSeconds: number) => {
      const sim = await startSite(jobSeconds);
      sims.push(sim);
      const endpoint = endpointOf(sim, 'vc-mgmt');
      const workflowId = `history-${kind}-${jobSeconds}s-${Date.now()}`;
      const backup = vcenterBackupSpec(`bench ${workflowId}`);
      const result = (await env.client.workflow.execute(kind === 'ours' ? 'vcenterBackup' : 'naivePollBackup', {
        taskQueue: worker.taskQueue,
        workflowId,
        args: [kind === 'ours' ? { endpoint, backup, pollIntervalMs } : { endpoint, backup, pollIntervalMs }],
      })) as { polls?: number };
      const events = await historyLength(env, workflowId);
      log(`  (a) ${kind} ${jobSeconds}s job: ${events} events${result.polls ? ` (${result.polls} polls)` : ''}`);
      return { events, polls: result.polls ?? 0 };
    };
    const [os, ol, ns, nl] = await Promise.all([
      run('ours', short),
      run('ours', long),
      run('naive', short),
      run('naive', long),
    ]);
    return {
      pollIntervalMs,
      jobSeconds: { short, long },
      ours: { short: os.events, long: ol.events, workflow: 'vcenterBackup' },
      naive: {
        short: ns.events,
        long: nl.events,
        polls: { short: ns.polls, long: nl.polls },
        slopeEventsPerJobSecond: round((nl.events - ns.events) / (long - short), 1),
        eventsPerPoll: round((nl.events - ns.events) / Math.max(1, nl.polls - ns.polls), 2),
      },
    };
  } finally {
    await terminateLeftovers(env.client, worker.taskQueue).catch(() => undefined);
    await worker.stop().catch(() => undefined);
    await Promise.all(sims.map((s) => s.close()));
  }
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/**
 * The straight-line script: the same activities (so the same clients, requests and polls), in the
 * runbook's order (SDDC Manager, then both vCenters together, then VCDA), start → poll → verify
 * per step, in-process through MockActivityEnvironment: no Temporal server, no lease, no history.
 */
async function straightLineSite(sim: Simulator, pollIntervalMs: number): Promise<void> {
  const activities = createActivities({ pollIntervalMs });
  const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> =>
    new MockActivityEnvironment({ heartbeatTimeoutMs: 10_000 }, { logger: new DefaultLogger('ERROR') }).run(
      fn,
      ...args,
    );
  const now = Date.now();
  const step = (id: string) => ({
    id: `script/${id}`,
    startedAt: new Date(now).toISOString(),
    deadline: new Date(now + 3_600_000).toISOString(),
  });
  const sddc = endpointOf(sim, 'sddc');
  const t = await run(activities.startSddcManagerBackup, { endpoint: sddc, step: step('sddc') });
  const done = await run(activities.pollSddcManagerTask, { endpoint: sddc, taskId: t.taskId, pollIntervalMs });
  await run(activities.verifySddcManagerTask, { endpoint: sddc, taskId: done.taskId, restore: false });
  await Promise.all(
    ['vc-mgmt', 'vc-wld01'].map(async (name) => {
      const endpoint = endpointOf(sim, name);
      const backup = vcenterBackupSpec(`bench script ${name}`);
      const j = await run(activities.startVcenterBackup, { endpoint, backup, step: step(name) });
      const d = await run(activities.pollVcenterBackup, { endpoint, jobId: j.jobId, pollIntervalMs });
      await run(activities.verifyVcenterBackup, { endpoint, jobId: d.jobId });
    }),
  );
  const vcda = endpointOf(sim, 'vcda');
  const v = await run(activities.startVcdaBackup, { endpoint: vcda, step: step('vcda') });
  await run(activities.pollVcdaTask, { endpoint: vcda, taskId: v.taskId, pollIntervalMs });
}

export interface OverheadResult {
  ratio: number;
  runbookWallMs: number;
  scriptWallMs: number;
  pollIntervalMs: number;
  jobSeconds: number;
  cost: CostResult;
}

export interface CostResult {
  requestsPerJob: number;
  bytesPerJob: number;
  connectionsPerAppliance: number;
  loginsPerRunbook: number;
  /** Requests of one runbook by operation (all four appliances). */
  requestsByOperation: Record<string, number>;
  jobs: number;
}

/** (b) The full-site runbook vs the straight-line script, side by side; (d) from the runbook's simulator. */
export async function measureOverhead(
  env: BenchEnv,
  log: Log,
  jobSeconds = 10,
  pollIntervalMs = 1000,
): Promise<OverheadResult> {
  const worker = await spawnWorker(env);
  const [runbookSim, scriptSim] = await Promise.all([startSite(jobSeconds), startSite(jobSeconds)]);
  const wire = watchSockets(runbookSim);
  try {
    const timed = async (fn: () => Promise<unknown>) => {
      const t0 = performance.now();
      await fn();
      return performance.now() - t0;
    };
    const [runbookWallMs, scriptWallMs] = await Promise.all([
      timed(async () => {
        const report = (await env.client.workflow.execute('drRunbook', {
          taskQueue: worker.taskQueue,
          workflowId: `overhead-runbook-${Date.now()}`,
          args: [siteRunbook(runbookSim, 'bench-overhead', pollIntervalMs), {}],
        })) as RunbookReport;
        if (report.outcome !== 'succeeded') throw new Error(`the overhead runbook ended ${report.outcome}`);
      }),
      timed(() => straightLineSite(scriptSim, pollIntervalMs)),
    ]);
    log(`  (b) runbook ${(runbookWallMs / 1000).toFixed(1)} s, script ${(scriptWallMs / 1000).toFixed(1)} s`);
    const cost = costOf(runbookSim.counters(), wire());
    return {
      ratio: round(runbookWallMs / scriptWallMs, 3),
      runbookWallMs: Math.round(runbookWallMs),
      scriptWallMs: Math.round(scriptWallMs),
      pollIntervalMs,
      jobSeconds,
      cost,
    };
  } finally {
    await terminateLeftovers(env.client, worker.taskQueue).catch(() => undefined);
    await worker.stop().catch(() => undefined);
    await Promise.all([runbookSim.close(), scriptSim.close()]);
  }
}

/**
 * Connections and bytes on the wire (TLS records and handshakes included) of one simulator: the
 * TCP sockets its server accepts (Node's `net.server.socket` diagnostics channel), by port.
 */
function watchSockets(sim: Simulator): () => { connections: number; bytes: number } {
  const port = Number(new URL(sim.url).port);
  const sockets: Socket[] = [];
  const onSocket = (m: unknown) => {
    const socket = (m as { socket: Socket }).socket;
    if (socket.localPort === port) sockets.push(socket);
  };
  subscribe('net.server.socket', onSocket);
  return () => {
    unsubscribe('net.server.socket', onSocket);
    return { connections: sockets.length, bytes: sockets.reduce((n, s) => n + s.bytesRead + s.bytesWritten, 0) };
  };
}

/** Operations that log in (vCenter and VCDA sessions, SDDC Manager tokens; a token refresh is not a login). */
const LOGIN_OPERATIONS = /^(sessionCreate|tokenCreate)$/;

/** (d) Requests, bytes and connections per remote job, logins per runbook. */
function costOf(counters: Counters, wire: { connections: number; bytes: number }): CostResult {
  const byOperation: Record<string, number> = {};
  let requests = 0;
  for (const appliances of Object.values(counters.calls))
    for (const ops of Object.values(appliances))
      for (const [op, n] of Object.entries(ops)) {
        byOperation[op] = (byOperation[op] ?? 0) + n;
        requests += n;
      }
  const logins = Object.entries(byOperation)
    .filter(([op]) => LOGIN_OPERATIONS.test(op))
    .reduce((s, [, n]) => s + n, 0);
  const jobs = counters.jobs.length;
  return {
    requestsPerJob: round(requests / jobs, 1),
    bytesPerJob: Math.round(wire.bytes / jobs),
    connectionsPerAppliance: round(wire.connections / SITE.length, 2),
    loginsPerRunbook: logins,
    requestsByOperation: byOperation,
    jobs,
  };
}

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
  wallMs: number;
  jobSeconds: number;
  pollIntervalMs: number;
  maxLagMs: number;
}

export type ScaleMode = 'heartbeat-default-slots' | 'heartbeat-sized-slots';

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
  pollIntervalMs = 1000,
): Promise<ScaleResult> {
  // Sized: every step of every runbook can hold a slot at once (two vCenter polls per runbook, plus starts and verifies).
  const activitySlots =
    mode === 'heartbeat-default-slots'
      ? SDK_DEFAULT_ACTIVITY_SLOTS
      : Math.max(SDK_DEFAULT_ACTIVITY_SLOTS, runbooks * 4);
  const sims = await mapLimit(Array.from({ length: runbooks }), 16, () => startSite(jobSeconds));
  const worker = await spawnWorker(env, { maxConcurrentActivityTaskExecutions: activitySlots });
  const before = await worker.stats();
  let peakRssMb = before.rssMb;
  const sampler = setInterval(() => {
    worker.stats().then(
      (s) => (peakRssMb = Math.max(peakRssMb, s.rssMb)),
      () => undefined,
    );
  }, 1000);
  const prefix = `scale-${mode}-${runbooks}-${Date.now()}`;
  try {
    const t0 = Date.now();
    const reports = await mapLimit(sims, 200, async (sim, i) => {
      const handle = await env.client.workflow.start('drRunbook', {
        taskQueue: worker.taskQueue,
        workflowId: `${prefix}-${i}`,
        args: [siteRunbook(sim, `bench-${i}`, pollIntervalMs), {}],
      });
      return (await handle
        .result()
        .catch((err: unknown) => ({ outcome: `error: ${(err as Error).message}` }))) as RunbookReport;
    });
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
      runbooksPerMinute: round(runbooks / (wallMs / 60_000), 1),
      p50LagMs: Math.round(percentile(lags, 50)),
      p95LagMs: Math.round(percentile(lags, 95)),
      peakRssMb: Math.round(peakRssMb),
      idleRssMb: Math.round(before.rssMb),
      cpuSecondsPerRunbook: round((after.cpuSeconds - before.cpuSeconds) / runbooks, 3),
      mode,
      activitySlots,
      wallMs,
      jobSeconds,
      pollIntervalMs,
      maxLagMs: Math.round(lags[lags.length - 1] ?? Number.NaN),
    };
    log(`  (c) ${runbooks} runbooks, ${mode}: ${JSON.stringify(result)}`);
    return result;
  } finally {
    clearInterval(sampler);
    await terminateLeftovers(env.client, worker.taskQueue).catch(() => undefined);
    await worker.stop().catch(() => undefined);
    await mapLimit(sims, 32, (s) => s.close());
  }
}
