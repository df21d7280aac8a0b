/**
 * The crash matrix's parts: the production worker as a child process (killed with SIGKILL, then
 * replaced at once), the runbooks of the batch pointed at simulated appliances, and the
 * catalogue of kill points. A kill point is chosen from the run's own signals (simulator
 * counters, the jobs it started, the runbook's progress Query, a step's describe) and, where the
 * point is a request, held there by a simulator delay fault so the point is stable when the kill
 * lands. Recovery time of a kill: from SIGKILL to the first request of the interrupted step (any
 * operation on its appliance) reaching the simulator, which only the new worker can send; for the
 * compensation point (no further request is due), to the interrupted step workflow's close.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client, type WorkflowHandle } from '@temporalio/client';
import type { RunbookDocument } from '../../src/contract/runbook/document';
import type { RunbookReport } from '../../src/contract/runbook/report';
import type { Counters, Simulator } from '../../src/simulator/server';
import type { FaultRule } from '../../src/simulator/types';
import { approveUpdate, pauseSignal, progressQuery, resumeSignal } from '../../src/contract/messages';
import { STEP_HEARTBEAT_TIMEOUT } from '../../workflows/step';

const root = join(__dirname, '..', '..');

/** The goal of every recovery: the heartbeat timeout plus one poll interval of the runbooks (1 s). */
export const POLL_INTERVAL_MS = 1_000;
export const RECOVERY_GOAL_MS = Number.parseInt(STEP_HEARTBEAT_TIMEOUT, 10) * 1_000 + POLL_INTERVAL_MS;
/** How long a held read waits in the simulator (longer than any recovery: the kill always lands inside it). */
export const HOLD_READ_MS = 30_000;
/**
 * How long a held state-changing POST waits before the simulator acts on it. Shorter than the
 * fastest recovery, so its effect (the job) exists before the retry looks for it: the case of an
 * answer lost with the worker, not of a request still travelling.
 */
export const HOLD_POST_MS = 2_500;

/** One worker process: `worker/main.ts` as production runs it, on the test's task queue. */
export interface WorkerProcess {
  readonly pid: number;
  /** Resolves with the ms from spawn to "polling" (its start-up log line). */
  readonly ready: Promise<number>;
  kill(): void;
}

export function spawnWorker(env: NodeJS.ProcessEnv): WorkerProcess {
  const started = Date.now();
  const child: ChildProcess = spawn(process.execPath, ['--require', 'tsx/cjs', join(root, 'worker', 'main.ts')], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ready = new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      if (out.length < 100_000) out += b.toString();
      if (out.includes('vmware-dr worker: namespace')) resolve(Date.now() - started);
    });
    child.stderr!.on('data', () => undefined);
    child.once('exit', (code, signal) => reject(new Error(`worker exited (${code ?? signal}) before it polled`)));
  });
  ready.catch(() => undefined);
  return {
    pid: child.pid!,
    ready,
    kill: () => void child.kill('SIGKILL'),
  };
}

/** Calls to one appliance, all operations together. */
export function callsTo(c: Counters, product: string, appliance: string): number {
  return Object.values(c.calls[product]?.[appliance] ?? {}).reduce((a, b) => a + b, 0);
}
export function callsOf(c: Counters, product: string, appliance: string, operation: string): number {
  return c.calls[product]?.[appliance]?.[operation] ?? 0;
}

/** A step's appliance, as the simulator names it. */
export interface Target {
  sim: 'main' | 'slow';
  product: 'vcenter' | 'sddc-manager' | 'vcda';
  appliance: string;
}

/** What a kill point can see and do. */
export interface Ctx {
  sims: { main: Simulator; slow: Simulator };
  client: Client;
  /** Handles of the started runbooks, by runbook key. */
  runs: Map<string, WorkflowHandle>;
  start(runbook: string): Promise<void>;
  /** Counters now. */
  now: { main: Counters; slow: Counters };
  /** When the simulated jobs end, per appliance (from the simulator's job list and job length). */
  jobRunning(t: Target): boolean;
  jobEnded(t: Target): boolean;
  /** Activity types pending in a runbook and in the step child of `t` (from describe). */
  pending(runbook: string, t: Target): Promise<string[]>;
}

export interface KillPoint {
  id: string;
  runbook: string;
  /** Where the runbook is when the kill lands. */
  where: string;
  /** The step interrupted (its appliance): its next request ends the recovery. */
  target: Target;
  /** Prepares the point (faults, a cancel); called after the previous kill, again each tick until it returns true. */
  arm?: (c: Ctx) => boolean | Promise<boolean>;
  /** True once the runbook stands at the point (checked after the previous kill's recovery). */
  reached: (c: Ctx) => boolean | Promise<boolean>;
  /** Right after the kill, before the new worker polls (e.g. an approval sent while no worker runs). */
  afterKill?: (c: Ctx) => Promise<void>;
  /** Recovery end, if not the target's next request. */
  recovered?: (c: Ctx, atKill: { main: Counters; slow: Counters }) => boolean | Promise<boolean>;
  /** How `recovered` is measured, for the report. */
  recoveryIs?: string;
  /** Arm only once the previous kill has recovered (a short hold that must not expire meanwhile). */
  armAfterRecovery?: boolean;
  /**
   * A recovery known to miss the goal, and why: the matrix does not wait for it (it is measured
   * in the background while the next points run) and reports it apart.
   */
  knownGap?: string;
  /** Part of the bounded form that `npm test` runs. */
  bounded?: boolean;
}

const hold = (t: Target, operation: string, ms: number): FaultRule => ({
  product: t.product,
  appliance: t.appliance,
  operation,
  count: 1,
  action: { kind: 'delay', ms },
});
/** Arms a delay fault on the target's next `operation` call. */
const holdNext =
  (operation: string, ms = HOLD_READ_MS) =>
  (t: Target) =>
  (c: Ctx): boolean => {
    c.sims[t.sim].faults.add(hold(t, operation, ms));
    return true;
  };

/** Reached once a held call of `operation` has arrived (its count rose past the count when armed). */
function heldCall(t: Target, operation: string, extra?: (c: Ctx) => boolean) {
  let base: number | undefined;
  return {
    note: (c: Ctx) => void (base ??= callsOf(c.now[t.sim], t.product, t.appliance, operation)),
    reached: (c: Ctx) =>
      base !== undefined && callsOf(c.now[t.sim], t.product, t.appliance, operation) > base && (extra?.(c) ?? true),
  };
}

/** A point held at the target's next `operation` call (armed right after the previous kill). */
function heldPoint(
  p: Omit<KillPoint, 'arm' | 'reached'> & {
    operation: string;
    ms?: number;
    armWhen?: (c: Ctx) => boolean | Promise<boolean>;
  },
): KillPoint {
  const call = heldCall(p.target, p.operation);
  const arm = holdNext(p.operation, p.ms)(p.target);
  return {
    ...p,
    arm: async (c) => {
      if (p.armWhen && !(await p.armWhen(c))) return false;
      call.note(c);
      return arm(c);
    },
    reached: call.reached,
  };
}

/**
 * Right after a stage ends: the runbook is paused (Signal `pause`, honoured between stages) while
 * its stage-1 child runs, so once that child has completed the runbook stands still before stage 2;
 * the kill lands there and `resume` is sent while no worker runs.
 */
function stageEnded(runbook: string, step: string, next: Target[], id: string, bounded = false): KillPoint {
  return {
    id,
    runbook,
    bounded,
    where: `right after stage 1 ended: step ${step}'s child completed, stage 2 not started (resumed after the kill)`,
    target: next[0]!,
    arm: async (c) => {
      const handle = c.runs.get(runbook);
      if (!handle) return false;
      await handle.signal(pauseSignal);
      return true;
    },
    reached: async (c) => {
      if (next.some((t) => callsTo(c.now[t.sim], t.product, t.appliance) > 0))
        throw new Error(`${id}: stage 2 began before the stage-end point was seen`);
      const d = await c.client.workflow
        .getHandle(`${c.runs.get(runbook)!.workflowId}/${step}`)
        .describe()
        .catch(() => undefined);
      return d?.status.name === 'COMPLETED';
    },
    afterKill: async (c) => {
      await c.runs.get(runbook)!.signal(resumeSignal);
    },
    recovered: (c, atKill) =>
      next.some((t) => callsTo(c.now[t.sim], t.product, t.appliance) > callsTo(atKill[t.sim], t.product, t.appliance)),
    recoveryIs: "stage 2's first request",
  };
}

/** Recovered once the runbook's step 1.1 child has closed. */
function stepClosed(runbook: string) {
  return async (c: Ctx): Promise<boolean> => {
    const d = await c.client.workflow
      .getHandle(`${c.runs.get(runbook)!.workflowId}/1.1`)
      .describe()
      .catch(() => undefined);
    return d !== undefined && d.status.name !== 'RUNNING';
  };
}

/** The appliances of the batch (one set per runbook, so a fault armed for one never hits another). */
export const T = {
  sddc1: { sim: 'main', product: 'sddc-manager', appliance: 'sddc-1' },
  vc1: { sim: 'main', product: 'vcenter', appliance: 'vc-1' },
  vc2: { sim: 'main', product: 'vcenter', appliance: 'vc-2' },
  vcda1: { sim: 'main', product: 'vcda', appliance: 'vcda-1' },
  sddc2: { sim: 'main', product: 'sddc-manager', appliance: 'sddc-2' },
  vc3: { sim: 'main', product: 'vcenter', appliance: 'vc-3' },
  vc4: { sim: 'main', product: 'vcenter', appliance: 'vc-4' },
  vcda2: { sim: 'main', product: 'vcda', appliance: 'vcda-2' },
  sddc3: { sim: 'main', product: 'sddc-manager', appliance: 'sddc-3' },
  vc5: { sim: 'main', product: 'vcenter', appliance: 'vc-5' },
  vcda3: { sim: 'main', product: 'vcda', appliance: 'vcda-3' },
  vcNew: { sim: 'main', product: 'vcenter', appliance: 'vc-new' },
  vcSlow: { sim: 'slow', product: 'vcenter', appliance: 'vc-slow' },
  vcSlow2: { sim: 'slow', product: 'vcenter', appliance: 'vc-slow-2' },
} as const satisfies Record<string, Target>;

/**
 * The kill points, in the order they are taken. A runbook's points are consecutive (it moves on
 * between them); the restore waits for approval and the cancelled runbook polls its long job
 * through every earlier kill, so they are interrupted there too.
 */
export function killPoints(): KillPoint[] {
  const running = (t: Target) => (c: Ctx) => c.jobRunning(t);
  const ended = (t: Target) => (c: Ctx) => c.jobEnded(t);
  /** The step has started its job and polls it (or waits to retry its poll): its next read is the poll's or the verify's. */
  const polling = (runbook: string, t: Target, when: (c: Ctx) => boolean) => async (c: Ctx) =>
    when(c) && (await c.pending(runbook, t)).some((a) => a.startsWith('poll'));
  const pts: KillPoint[] = [
    // cancel-2: cancelled while no worker runs, its poll's attempt lost with the killed worker.
    {
      id: 'C2',
      runbook: 'cancel-2',
      where:
        'compensation: the runbook cancelled right after the kill, while its poll attempt was lost with the worker',
      target: T.vcSlow2,
      arm: () => true,
      reached: (c) => c.jobRunning(T.vcSlow2) && callsOf(c.now.slow, 'vcenter', 'vc-slow-2', 'backupJobGet') >= 2,
      afterKill: async (c) => {
        await c.runs.get('cancel-2')!.cancel();
      },
      // Recovered when the compensation's first request (its read of the job) reaches the appliance.
    },
    // dry run: checks only, on its own appliances.
    heldPoint({
      id: 'D2',
      runbook: 'dry-run',
      where: 'dry run: the vCenter backup validation held',
      target: T.vc5,
      operation: 'backupValidate',
    }),
    // site-a: SDDC Manager → vc-1 + vc-2 → VCDA.
    heldPoint({
      id: 'A1',
      runbook: 'site-a',
      bounded: true,
      where: 'SDDC Manager backup: the start POST reached the appliance, its answer held',
      target: T.sddc1,
      operation: 'startBackup',
      ms: HOLD_POST_MS,
    }),
    {
      ...heldPoint({
        id: 'A2',
        runbook: 'site-a',
        bounded: true,
        where: 'SDDC Manager backup: mid-poll, a status read held while the task runs',
        target: T.sddc1,
        operation: 'getTask',
      }),
    },
    heldPoint({
      id: 'A3',
      runbook: 'site-a',
      where: 'SDDC Manager backup: the task ended, its next read held (the poll that sees the end, or the verify)',
      target: T.sddc1,
      operation: 'getTask',
      armWhen: polling('site-a', T.sddc1, ended(T.sddc1)),
    }),
    stageEnded('site-a', '1.1', [T.vc1, T.vc2], 'A4', true),
    heldPoint({
      id: 'A5',
      runbook: 'site-a',
      bounded: true,
      where: 'vCenter vc-2 backup (vc-1 starting beside it): the create POST reached the appliance, its answer held',
      target: T.vc2,
      operation: 'backupJobCreate',
      ms: HOLD_POST_MS,
    }),
    heldPoint({
      id: 'A6',
      runbook: 'site-a',
      where: 'vCenter vc-1 backup: mid-poll, a status read held while the job runs',
      target: T.vc1,
      operation: 'backupJobGet',
      armWhen: polling('site-a', T.vc1, running(T.vc1)),
    }),
    heldPoint({
      id: 'A7',
      runbook: 'site-a',
      bounded: true,
      where: 'vCenter vc-2 backup: the poll saw the job end, the verify read held',
      target: T.vc2,
      operation: 'backupJobDetails',
      armWhen: polling('site-a', T.vc2, ended(T.vc2)),
    }),
    heldPoint({
      id: 'A8',
      runbook: 'site-a',
      where: 'VCDA backup: the appliance lease held, the start activity in its snapshot read',
      target: T.vcda1,
      operation: 'taskList',
    }),
    heldPoint({
      id: 'A9',
      runbook: 'site-a',
      where: 'VCDA backup: mid-poll, a status read held while the task runs',
      target: T.vcda1,
      operation: 'taskGet',
    }),
    // restore: a vCenter restore that has waited for approval since the batch began.
    {
      id: 'R1',
      runbook: 'restore',
      bounded: true,
      where: 'vCenter restore waiting for approval; approved right after the kill, through the new worker',
      target: T.vcNew,
      reached: async (c) =>
        ((await c.runs.get('restore')?.query(progressQuery)) as RunbookReport | undefined)?.steps[0]?.state ===
        'waiting-approval',
      afterKill: async (c) => {
        // Accepted by whichever worker runs next: the Update waits for it.
        // By another person than the matrix that started the run (four eyes): a client of their own.
        void new Client({
          connection: c.client.connection,
          namespace: c.client.options.namespace,
          identity: 'approver@crash-matrix.test',
        }).workflow
          .getHandle(c.runs.get('restore')!.workflowId)
          .executeUpdate(approveUpdate, { args: [{ step: '1.1', by: 'crash-matrix', comment: 'approved mid-crash' }] })
          .catch(() => undefined);
      },
    },
    heldPoint({
      id: 'R3',
      runbook: 'restore',
      where: 'vCenter restore: the appliance lease held, the restore validation held',
      target: T.vcNew,
      operation: 'restoreValidate',
    }),
    heldPoint({
      id: 'R4',
      runbook: 'restore',
      bounded: true,
      where: 'vCenter restore: the restore POST reached the appliance, its answer held',
      target: T.vcNew,
      operation: 'restoreJobCreate',
      ms: HOLD_POST_MS,
    }),
    heldPoint({
      id: 'R5',
      runbook: 'restore',
      where: 'vCenter restore: mid-poll, a status read held while the restore runs',
      target: T.vcNew,
      operation: 'restoreJobGet',
      armWhen: polling('restore', T.vcNew, running(T.vcNew)),
    }),
    // cancel: a long backup (its own simulator, 5-minute jobs) cancelled mid-flight.
    {
      id: 'C1',
      runbook: 'cancel',
      bounded: true,
      where: 'compensation: the runbook cancelled, the remote job cancel request held at the appliance',
      target: T.vcSlow,
      armAfterRecovery: true,
      arm: async (c) => {
        // The poll runs (its first attempt, never interrupted before): the cancel reaches it.
        if (!c.jobRunning(T.vcSlow) || callsOf(c.now.slow, 'vcenter', 'vc-slow', 'backupJobGet') < 2) return false;
        c.sims.slow.faults.add(hold(T.vcSlow, 'backupJobCancel', HOLD_POST_MS));
        await c.runs.get('cancel')!.cancel();
        return true;
      },
      reached: (c) => callsOf(c.now.slow, 'vcenter', 'vc-slow', 'backupJobCancel') > 0,
      recovered: stepClosed('cancel'),
      recoveryIs: "the interrupted step's child workflow closed",
    },
    // site-b: a second full-site backup.
    heldPoint({
      id: 'B1',
      runbook: 'site-b',
      where: 'SDDC Manager backup: the appliance lease held, the start activity in its snapshot read',
      target: T.sddc2,
      operation: 'listTasks',
    }),
    stageEnded('site-b', '1.1', [T.vc3, T.vc4], 'B2'),
    heldPoint({
      id: 'B3',
      runbook: 'site-b',
      where: 'vCenter vc-3 backup: the appliance lease held, the start activity in its snapshot read',
      target: T.vc3,
      operation: 'backupJobDetails',
    }),
    heldPoint({
      id: 'B5',
      runbook: 'site-b',
      where: 'vCenter vc-4 backup: mid-poll, a status read held while the job runs',
      target: T.vc4,
      operation: 'backupJobGet',
      armWhen: polling('site-b', T.vc4, running(T.vc4)),
    }),
    heldPoint({
      id: 'B4',
      runbook: 'site-b',
      where: 'VCDA backup: the create POST reached the appliance, its answer held',
      target: T.vcda2,
      operation: 'backupCreate',
      ms: HOLD_POST_MS,
    }),
    heldPoint({
      id: 'B6',
      runbook: 'site-b',
      where: 'VCDA backup: mid-poll, a status read held while the task runs',
      target: T.vcda2,
      operation: 'taskGet',
    }),
  ];
  return pts;
}

/** The runbook documents of the batch, pointed at the simulators (passwords by reference). */
export function batchDocuments(sims: { main: Simulator; slow: Simulator }): Record<string, RunbookDocument> {
  const url = (sim: Simulator, product: string, name: string) => `${sim.url}/${product}/${name}`;
  const ep = (sim: Simulator, product: 'vcenter' | 'sddc-manager' | 'vcda', name: string) => ({
    product,
    url: url(sim, product, name),
    username: [...sim.info.vcenter, ...sim.info.sddcManager, ...sim.info.vcda].find(
      (a) => a.url === url(sim, product, name),
    )!.username,
    passwordRef: 'env:CRASH_APPLIANCE_PASSWORD',
    tls: { caFile: sim.info.caFile! },
  });
  const locations = {
    'sftp-a': {
      type: 'SFTP',
      url: 'sftp://backup.example.com/vcsa',
      username: 'backup',
      passwordRef: 'env:CRASH_SFTP_PASSWORD',
      encryptionPasswordRef: 'env:CRASH_BACKUP_PASSWORD',
    },
  };
  const base = { apiVersion: 'vmware-dr/v1', kind: 'Runbook', defaults: { pollInterval: '1s' }, locations };
  const site = (name: string, sddc: string, vcs: [string, string], vcda: string) => ({
    ...base,
    name,
    site: name,
    endpoints: {
      sddc: ep(sims.main, 'sddc-manager', sddc),
      [vcs[0]]: ep(sims.main, 'vcenter', vcs[0]),
      [vcs[1]]: ep(sims.main, 'vcenter', vcs[1]),
      vcda: ep(sims.main, 'vcda', vcda),
    },
    stages: [
      { name: 'sddc-manager', steps: [{ backup: 'sddc' }] },
      { name: 'vcenters', steps: vcs.map((v) => ({ backup: v, to: 'sftp-a' })) },
      { name: 'vcda', steps: [{ backup: 'vcda' }] },
    ],
  });
  const dry = site('dry-run', 'sddc-3', ['vc-5', 'vc-6'], 'vcda-3');
  return {
    'site-a': site('site-a', 'sddc-1', ['vc-1', 'vc-2'], 'vcda-1'),
    'site-b': site('site-b', 'sddc-2', ['vc-3', 'vc-4'], 'vcda-2'),
    'dry-run': dry,
    restore: {
      ...base,
      name: 'restore',
      site: 'restore',
      endpoints: { 'vc-new': ep(sims.main, 'vcenter', 'vc-new') },
      stages: [
        {
          name: 'restore',
          steps: [
            {
              restore: 'vc-new',
              from: 'sftp-a',
              archive: 'latest',
              systemName: 'vc-1.sim.local',
              ignoreWarnings: true,
            },
          ],
        },
      ],
    },
    ...Object.fromEntries(
      (['cancel', 'cancel-2'] as const).map((name, i) => {
        const vc = i === 0 ? 'vc-slow' : 'vc-slow-2';
        return [
          name,
          {
            ...base,
            name,
            site: name,
            endpoints: { [vc]: ep(sims.slow, 'vcenter', vc) },
            stages: [{ name: 'vcenters', steps: [{ backup: vc, to: 'sftp-a' }] }],
          },
        ];
      }),
    ),
  } as unknown as Record<string, RunbookDocument>;
}

/** The p-th percentile (nearest rank) of `xs`. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
