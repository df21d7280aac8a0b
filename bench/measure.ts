/**
 * The four measurements: (a) history growth, (b) orchestration overhead, (c) scale, (d) cost per
 * job. Each returns plain numbers for bench/results.json.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { loadavg } from 'node:os';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../activities';
import { endTaskQueueWorkflows } from '../src/client/task-queue';
import type { RunbookReport } from '../src/contract/runbook/report';
import type { Counters, Simulator } from '../src/simulator/server';
import { type OverheadBreakdown, type ScriptPhases, runbookBreakdown } from './breakdown';
import {
  type BenchEnv,
  SITE,
  endpointOf,
  mapLimit,
  siteRunbook,
  spawnWorker,
  startSite,
  vcenterBackupSpec,
} from './env';

type Log = (line: string) => void;

async function historyLength(env: BenchEnv, workflowId: string): Promise<number> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return history.events?.length ?? 0;
}

/** The history of one full-site backup runbook (SDDC Manager → 2 vCenters → VCDA), as a rehearsal runs it. */
export interface RunbookHistoryResult {
  /** Events of the runbook workflow's history. */
  events: number;
  /** Of those, `vmwareDrStepProgress` signals (one per 10 % mark before quiet history, now only on a step state change). */
  stepProgressSignals: number;
  /** Workflow tasks of the runbook (each a worker round trip, CPU and cache). */
  workflowTasks: number;
  /** Events of each step's child workflow, in step order. */
  stepEvents: number[];
  jobSeconds: number;
  pollIntervalMs: number;
}

/** The shape of the runbook history measurement: `vmware-dr rehearse examples/site-a-nightly.yaml` (3 s jobs, 500 ms polls). */
export const RUNBOOK_HISTORY_JOB_SECONDS = 3;
export const RUNBOOK_HISTORY_POLL_INTERVAL_MS = 500;

export interface HistoryResult {
  /** Events per runbook: a full-site backup (absent in results from before it was measured). */
  runbook?: RunbookHistoryResult;
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
    // Events per runbook: the full-site backup, as `vmware-dr rehearse` runs site-a-nightly.
    const runbook = async (): Promise<RunbookHistoryResult> => {
      const sim = await startSite(RUNBOOK_HISTORY_JOB_SECONDS);
      sims.push(sim);
      const workflowId = `history-runbook-${Date.now()}`;
      const report = (await env.client.workflow.execute('drRunbook', {
        taskQueue: worker.taskQueue,
        workflowId,
        args: [siteRunbook(sim, 'bench-history', RUNBOOK_HISTORY_POLL_INTERVAL_MS), {}],
      })) as RunbookReport;
      if (report.outcome !== 'succeeded') throw new Error(`the history runbook ended ${report.outcome}`);
      const events = (await env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
      const stepEvents = await Promise.all(report.steps.map((st) => historyLength(env, `${workflowId}/${st.id}`)));
      const result: RunbookHistoryResult = {
        events: events.length,
        stepProgressSignals: events.filter(
          (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'vmwareDrStepProgress',
        ).length,
        workflowTasks: events.filter((e) => e.workflowTaskCompletedEventAttributes).length,
        stepEvents,
        jobSeconds: RUNBOOK_HISTORY_JOB_SECONDS,
        pollIntervalMs: RUNBOOK_HISTORY_POLL_INTERVAL_MS,
      };
      log(
        `  (a) runbook (full-site backup, ${result.jobSeconds} s jobs, ${result.pollIntervalMs} ms polls): ${result.events} events per runbook, ` +
          `${result.stepProgressSignals} step-progress signals, ${result.workflowTasks} workflow tasks; steps ${stepEvents.join(' / ')} events`,
      );
      return result;
    };
    const [os, ol, ns, nl, rb] = await Promise.all([
      run('ours', short),
      run('ours', long),
      run('naive', short),
      run('naive', long),
      runbook(),
    ]);
    return {
      runbook: rb,
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
    await endTaskQueueWorkflows(env.client, worker.taskQueue, 'benchmark over', { workerPolling: true }).catch(
      () => undefined,
    );
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
async function straightLineSite(sim: Simulator, pollIntervalMs: number): Promise<ScriptPhases[]> {
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
  // Each call timed, as the breakdown's start / poll / verify phases of the runbook's steps.
  const timed = async <R>(fn: () => Promise<R>): Promise<[R, number]> => {
    const t0 = performance.now();
    const r = await fn();
    return [r, performance.now() - t0];
  };
  const sddc = endpointOf(sim, 'sddc');
  const [t, ts] = await timed(() => run(activities.startSddcManagerBackup, { endpoint: sddc, step: step('sddc') }));
  const [done, tp] = await timed(() =>
    run(activities.pollSddcManagerTask, { endpoint: sddc, taskId: t.taskId, pollIntervalMs }),
  );
  const [, tv] = await timed(() =>
    run(activities.verifySddcManagerTask, { endpoint: sddc, taskId: done.taskId, restore: false }),
  );
  const vcenters = await Promise.all(
    ['vc-mgmt', 'vc-wld01'].map(async (name) => {
      const endpoint = endpointOf(sim, name);
      const backup = vcenterBackupSpec(`bench script ${name}`);
      const [j, js] = await timed(() => run(activities.startVcenterBackup, { endpoint, backup, step: step(name) }));
      const [d, jp] = await timed(() =>
        run(activities.pollVcenterBackup, { endpoint, jobId: j.jobId, pollIntervalMs }),
      );
      const [, jv] = await timed(() => run(activities.verifyVcenterBackup, { endpoint, jobId: d.jobId }));
      return { step: name, startMs: js, pollMs: jp, verifyMs: jv };
    }),
  );
  const vcda = endpointOf(sim, 'vcda');
  const [v, vs] = await timed(() => run(activities.startVcdaBackup, { endpoint: vcda, step: step('vcda') }));
  const [, vp] = await timed(() => run(activities.pollVcdaTask, { endpoint: vcda, taskId: v.taskId, pollIntervalMs }));
  const slower = vcenters.reduce((a, b) =>
    b.startMs + b.pollMs + b.verifyMs > a.startMs + a.pollMs + a.verifyMs ? b : a,
  );
  return [
    { step: 'sddc', startMs: ts, pollMs: tp, verifyMs: tv },
    slower,
    { step: 'vcda', startMs: vs, pollMs: vp, verifyMs: 0 },
  ].map((x) => ({
    step: x.step,
    startMs: Math.round(x.startMs),
    pollMs: Math.round(x.pollMs),
    verifyMs: Math.round(x.verifyMs),
  }));
}

export interface OverheadResult {
  ratio: number;
  runbookWallMs: number;
  scriptWallMs: number;
  pollIntervalMs: number;
  jobSeconds: number;
  cost: CostResult;
  /** False when measured side by side with (a) (the quick form), true when alone. */
  alone?: boolean;
  /** Where the runbook's time goes, per step on the critical path, next to the script's. */
  breakdown?: OverheadBreakdown;
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
  opts: { jobSeconds?: number; pollIntervalMs?: number; alone?: boolean } = {},
): Promise<OverheadResult> {
  const { jobSeconds = 10, pollIntervalMs = 1000, alone = true } = opts;
  const worker = await spawnWorker(env);
  const [runbookSim, scriptSim] = await Promise.all([startSite(jobSeconds), startSite(jobSeconds)]);
  const wire = watchSockets(runbookSim);
  const runbookId = `overhead-runbook-${Date.now()}`;
  try {
    const timed = async <R>(fn: () => Promise<R>): Promise<[R, number]> => {
      const t0 = performance.now();
      const r = await fn();
      return [r, performance.now() - t0];
    };
    const [[, runbookWallMs], [script, scriptWallMs]] = await Promise.all([
      timed(async () => {
        const report = (await env.client.workflow.execute('drRunbook', {
          taskQueue: worker.taskQueue,
          workflowId: runbookId,
          args: [siteRunbook(runbookSim, 'bench-overhead', pollIntervalMs), {}],
        })) as RunbookReport;
        if (report.outcome !== 'succeeded') throw new Error(`the overhead runbook ended ${report.outcome}`);
      }),
      timed(() => straightLineSite(scriptSim, pollIntervalMs)),
    ]);
    log(`  (b) runbook ${(runbookWallMs / 1000).toFixed(1)} s, script ${(scriptWallMs / 1000).toFixed(1)} s`);
    const cost = costOf(runbookSim.counters(), wire());
    const breakdown = await runbookBreakdown(env.client, runbookId, runbookWallMs, script);
    log(`  (b) breakdown ${JSON.stringify(breakdown)}`);
    return {
      ratio: round(runbookWallMs / scriptWallMs, 3),
      runbookWallMs: Math.round(runbookWallMs),
      scriptWallMs: Math.round(scriptWallMs),
      pollIntervalMs,
      jobSeconds,
      cost,
      alone,
      breakdown,
    };
  } finally {
    await endTaskQueueWorkflows(env.client, worker.taskQueue, 'benchmark over', { workerPolling: true }).catch(
      () => undefined,
    );
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
    const handles = await mapLimit(sims, 50, (sim, i) =>
      env.client.workflow.start('drRunbook', {
        taskQueue: worker.taskQueue,
        workflowId: `${prefix}-${i}`,
        args: [siteRunbook(sim, `bench-${i}`, pollIntervalMs), {}],
      }),
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
