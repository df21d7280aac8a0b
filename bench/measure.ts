/**
 * The measurements (a) history growth, (b) orchestration overhead and (d) cost per job; (c) scale
 * is in ./scale.ts. Each returns plain numbers for bench/results.json.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../activities';
import { runbookClient } from '../src/client/runbook';
import { endTaskQueueWorkflows } from '../src/client/task-queue';
import type { Counters, Simulator } from '../src/simulator/server';
import { type OverheadBreakdown, type ScriptPhases, runbookBreakdown } from './breakdown';
import { type BenchEnv, SITE, endpointOf, siteRunbook, spawnWorker, startSite, vcenterBackupSpec } from './env';

export type Log = (line: string) => void;

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
      const run = await runbookClient(env.client, { taskQueue: worker.taskQueue }).start(
        siteRunbook(sim, 'bench-history', RUNBOOK_HISTORY_POLL_INTERVAL_MS),
        { workflowId },
      );
      const report = await run.result();
      if (report.outcome !== 'succeeded') throw new Error(`the history runbook ended ${report.outcome}`);
      const events = (await run.fetchHistory()).events ?? [];
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
        const run = await runbookClient(env.client, { taskQueue: worker.taskQueue }).start(
          siteRunbook(runbookSim, 'bench-overhead', pollIntervalMs),
          { workflowId: runbookId },
        );
        const report = await run.result();
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
