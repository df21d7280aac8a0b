/**
 * The crash matrix (issue 10): a batch of full-site runbooks (SDDC Manager → two vCenters →
 * VCDA, twice), a vCenter restore that waits for approval, a runbook cancelled mid-flight (its
 * compensation cancels the remote job) and a dry run, run by the production worker as a child
 * process (`worker/main.ts`, the prebuilt workflow bundle). The worker is killed with SIGKILL at
 * kill points chosen from the runs' own signals (./support/crash-matrix.ts), each held by a
 * simulator delay fault where it is a request, and a fresh worker process is started at once.
 * Then: every runbook reaches its outcome, the simulators counted exactly one remote job per step
 * and exactly one remote cancel per compensated step (C1: killed while its cancel request was at
 * the appliance; C2: cancelled while its poll's attempt was lost with the worker), each job stopped
 * and each compensation reported done; each kill's recovery time is measured against the goal
 * (heartbeat timeout + one poll interval) and must come from the heartbeat timeout.
 *
 * `npm test` runs the bounded form (the points marked `bounded`, one of each kind); with
 * VMWARE_DR_CRASH_MATRIX_FULL=1 (set by `npm run reliability`) every point of the catalogue.
 * VMWARE_DR_CRASH_MATRIX_OUT names a file the figures are written to (JSON).
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { policyForRunbooks } from '../src/core/policy/index';
import { endTaskQueueWorkflows } from '../src/client/task-queue';
import type { RunbookReport } from '../src/contract/runbook/report';
import { type Simulator, startSimulator } from '../src/simulator/server';
import { POLL_RETRY, START_RETRY, STEP_HEARTBEAT_TIMEOUT } from '../workflows/step';
import {
  type Ctx,
  type KillPoint,
  RECOVERY_GOAL_MS,
  type Target,
  T,
  batchDocuments,
  callsOf,
  callsTo,
  killPoints,
  percentile,
  spawnWorker,
  type WorkerProcess,
} from './support/crash-matrix';
import { type TempPolicy, writeTempPolicy } from './support/policy';

const HEARTBEAT_TIMEOUT_MS = Number.parseInt(STEP_HEARTBEAT_TIMEOUT, 10) * 1_000;
const FULL = process.env.VMWARE_DR_CRASH_MATRIX_FULL === '1';
const OUT = process.env.VMWARE_DR_CRASH_MATRIX_OUT;
/** Main simulator's job length: longer than a recovery, so a job still runs when its step resumes. */
const JOB_SECONDS = 12;
const PASSWORD = `Crash#${randomUUID().slice(0, 8)}`;
const BACKUP_PASSWORD = 'Good#Pass1';

interface KillRecord {
  id: string;
  runbook: string;
  where: string;
  /** The step's pending activity when the kill landed (from describe), if any. */
  pending?: string;
  recoveryMs: number;
  recoveryIs: string;
  workerReadyMs: number;
  knownGap?: string;
}

const tick = () => new Promise((r) => setTimeout(r, 25));

async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`crash matrix: timed out waiting for ${what}`);
    await tick();
  }
}

describe('crash matrix: the worker SIGKILLed at kill points of a runbook batch', () => {
  let main: Simulator;
  let slow: Simulator;
  let connection: Connection;
  let client: Client;
  let worker: WorkerProcess | undefined;
  const taskQueue = `crash-${randomUUID()}`;
  let policy: TempPolicy | undefined;
  const runs = new Map<string, WorkflowHandle>();
  const saved = new Map<string, string | undefined>();
  const env = {
    CRASH_APPLIANCE_PASSWORD: PASSWORD,
    CRASH_SFTP_PASSWORD: PASSWORD,
    CRASH_BACKUP_PASSWORD: BACKUP_PASSWORD,
  };

  beforeAll(async () => {
    for (const [k, v] of Object.entries(env)) {
      saved.set(k, process.env[k]);
      process.env[k] = v;
    }
    main = await startSimulator({
      vcenters: 6,
      sddcManagers: 3,
      vcdas: 3,
      jobSeconds: JOB_SECONDS,
      credentials: { password: PASSWORD },
      appliances: [
        {
          product: 'vcenter',
          name: 'vc-new',
          stage: 'restore',
          systemName: 'vc-1.sim.local',
          backups: [
            { location: 'sftp://backup.example.com/vcsa', locationType: 'SFTP', backupPassword: BACKUP_PASSWORD },
          ],
        },
      ],
    });
    slow = await startSimulator({
      appliances: [
        { product: 'vcenter', name: 'vc-slow' },
        { product: 'vcenter', name: 'vc-slow-2' },
      ],
      jobSeconds: 300,
      credentials: { password: PASSWORD },
    });
    connection = await Connection.connect({ address: inject('temporalAddress') });
    client = new Client({ connection, namespace: inject('temporalNamespace') });
  });

  afterAll(async () => {
    worker?.kill();
    // Appliance lease workflows idle a while after their last step: end those of this task queue.
    if (client) await endTaskQueueWorkflows(client, taskQueue, 'crash matrix ended');
    await connection?.close();
    await main?.close();
    await slow?.close();
    await policy?.cleanup();
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it(
    `survives every kill (${FULL ? 'full catalogue' : 'bounded form'}): right outcomes, one remote job per step, one cancel per compensation, recovery from the heartbeat timeout`,
    { timeout: FULL ? 900_000 : 240_000 },
    async () => {
      const began = Date.now();
      const sims = { main, slow };
      const docs = batchDocuments(sims);
      // The production worker's credential policy: the one `policy init` writes for this batch.
      policy = await writeTempPolicy(policyForRunbooks(Object.values(docs)).text);
      const workerEnv = {
        ...env,
        VMWARE_DR_POLICY: policy.file,
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        TEMPORAL_NAMESPACE: inject('temporalNamespace'),
        VMWARE_DR_TASK_QUEUE: taskQueue,
        VMWARE_DR_METRICS_PORT: '0',
        VMWARE_DR_WORKFLOW_BUNDLE: inject('workflowBundlePath'),
        VMWARE_DR_BUSY_RETRY_DELAY_MS: '1000',
        VMWARE_DR_LOG_LEVEL: 'info',
      };
      const jobEnd = (t: Target): number | undefined => {
        const job = sims[t.sim]
          .counters()
          .jobs.filter((j) => j.product === t.product && j.appliance === t.appliance)
          .at(-1);
        return job ? Date.parse(job.startedAt) + (t.sim === 'slow' ? 300 : JOB_SECONDS) * 1000 : undefined;
      };
      const ctx: Ctx = {
        sims,
        client,
        runs,
        now: { main: main.counters(), slow: slow.counters() },
        async start(key) {
          const opts = key === 'dry-run' ? { dryRun: true } : {};
          runs.set(
            key,
            await client.workflow.start('drRunbook', {
              taskQueue,
              workflowId: `crash-${key}-${randomUUID().slice(0, 8)}`,
              args: [docs[key]!, opts],
            }),
          );
        },
        jobRunning: (t) => {
          const end = jobEnd(t);
          return end !== undefined && Date.now() < end - 500;
        },
        jobEnded: (t) => {
          const end = jobEnd(t);
          return end !== undefined && Date.now() >= end;
        },
        async pending(runbook, t) {
          const run = runs.get(runbook);
          if (!run) return [];
          const doc = docs[runbook]!;
          const key = Object.entries(doc.endpoints).find(([, e]) =>
            e.url.endsWith(`/${t.product}/${t.appliance}`),
          )?.[0];
          const step = doc.stages
            .flatMap((s, si) =>
              s.steps.map((st, i) => ({ id: `${si + 1}.${i + 1}`, key: 'backup' in st ? st.backup : st.restore })),
            )
            .find((s) => s.key === key)?.id;
          const names: string[] = [];
          for (const id of [run.workflowId, ...(step ? [`${run.workflowId}/${step}`] : [])]) {
            const d = await client.workflow
              .getHandle(id)
              .describe()
              .catch(() => undefined);
            for (const a of d?.raw.pendingActivities ?? []) names.push(a.activityType?.name ?? '?');
          }
          return names;
        },
      };
      const refresh = () => {
        ctx.now = { main: main.counters(), slow: slow.counters() };
      };
      const all = killPoints();
      const points = FULL ? all : all.filter((p) => p.bounded);
      const kills: KillRecord[] = [];
      const background: Promise<void>[] = [];

      worker = spawnWorker(workerEnv);
      await worker.ready;
      // The restore waits for approval from the start, through every kill before its own points.
      await ctx.start('restore');

      const arm = async (p: KillPoint) => {
        if (!runs.has(p.runbook)) await ctx.start(p.runbook);
        await until(
          `${p.id} to be armed`,
          async () => {
            refresh();
            return p.arm ? p.arm(ctx) : true;
          },
          90_000,
        );
      };
      /** What the interrupted step was doing: the pending activities of its runbook and its step child. */
      const pendingOf = async (p: KillPoint): Promise<string | undefined> => {
        const names = await ctx.pending(p.runbook, p.target);
        return names.length ? names.join(', ') : undefined;
      };

      // Point 1 is armed before anything runs; each later point right after the kill before it.
      if (points[0] && !points[0].armAfterRecovery) await arm(points[0]);
      for (let i = 0; i < points.length; i++) {
        const p = points[i]!;
        if (p.armAfterRecovery) await arm(p);
        await until(
          `${p.id} (${p.where})`,
          async () => {
            refresh();
            return p.reached(ctx);
          },
          90_000,
        );
        const pending = await pendingOf(p);
        refresh();
        const atKill = ctx.now;
        worker.kill();
        const killedAt = Date.now();
        await p.afterKill?.(ctx);
        worker = spawnWorker(workerEnv);
        const next = points[i + 1];
        const armNext = next && !next.armAfterRecovery ? arm(next) : Promise.resolve();
        const recovered =
          p.recovered ??
          ((c: Ctx, k: typeof atKill) =>
            callsTo(c.now[p.target.sim], p.target.product, p.target.appliance) >
            callsTo(k[p.target.sim], p.target.product, p.target.appliance));
        const readyAt = worker.ready;
        const measure = until(
          `recovery after kill ${p.id}`,
          async () => {
            refresh();
            return recovered(ctx, atKill);
          },
          p.knownGap ? 300_000 : 90_000,
        ).then(async () => {
          const recoveryMs = Date.now() - killedAt;
          kills.push({
            id: p.id,
            runbook: p.runbook,
            where: p.where,
            ...(pending && { pending }),
            recoveryMs,
            recoveryIs: p.recoveryIs ?? "the interrupted step's next request reached its appliance",
            workerReadyMs: await readyAt,
            ...(p.knownGap && { knownGap: p.knownGap }),
          });
          console.info(
            `crash matrix: kill ${p.id} (${p.where}; pending: ${pending ?? '-'}) → recovered in ${(recoveryMs / 1000).toFixed(1)} s`,
          );
        });
        // A known gap is measured in the background while the next points run.
        if (p.knownGap) background.push(measure);
        else await measure;
        await armNext;
      }

      await Promise.all(background);
      // Every runbook to its end (the ones no selected point started are started now, without kills).
      for (const key of Object.keys(docs)) if (!runs.has(key) && FULL) await ctx.start(key);
      const reports = new Map<string, RunbookReport>();
      for (const [key, run] of runs) reports.set(key, (await run.result()) as RunbookReport);
      refresh();
      const wallMs = Date.now() - began;

      // Outcomes.
      const outcome = Object.fromEntries([...reports].map(([k, r]) => [k, r.outcome]));
      const expected: Record<string, string> = {
        'site-a': 'succeeded',
        'site-b': 'succeeded',
        restore: 'succeeded',
        cancel: 'cancelled',
        'cancel-2': 'cancelled',
        'dry-run': 'dry-run',
      };
      expect(outcome).toEqual(Object.fromEntries(Object.keys(outcome).map((k) => [k, expected[k]])));
      expect(reports.get('restore')!.approvals).toEqual([
        expect.objectContaining({ step: '1.1', decision: 'approved', by: 'crash-matrix' }),
      ]);
      // The cancelled runbooks' steps. `cancel` (C1, killed while its compensation's cancel request
      // was held at the appliance): the request took effect, and the compensation's retry read the
      // job stopped, so it did not cancel again. `cancel-2` (C2, full form: cancelled while its
      // poll's attempt was lost with the worker): the step's compensation activity, run by the
      // workflow once the poll timed out, cancelled the job.
      const cancelRuns = (['cancel', 'cancel-2'] as const).filter((k) => reports.has(k));
      const compensated = cancelRuns.map((key) => {
        const r = reports.get(key)!;
        expect(r.compensations, key).toHaveLength(1);
        const c = r.compensations[0]!;
        expect(c.step).toBe('1.1');

        const vc = key === 'cancel' ? 'vc-slow' : 'vc-slow-2';
        const appliance = slow.appliance('vcenter', vc) as unknown as { jobs: Map<string, { cancelled?: boolean }> };
        return {
          key,
          kill: points.find((p) => p.runbook === key)?.id,
          reportedDone: c.outcome === 'done',
          jobStopped: [...appliance.jobs.values()].some((j) => j.cancelled === true),
          remoteCancels: callsOf(slow.counters(), 'vcenter', vc, 'backupJobCancel'),
        };
      });
      // Every compensation: one cancel that reached the appliance, the job stopped, reported done.
      for (const c of compensated)
        expect(c, c.key).toMatchObject({ jobStopped: true, remoteCancels: 1, reportedDone: true });

      // One remote job per step that ran, none for the dry run; one remote cancel per compensation.
      const stepTargets: Target[] = [];
      for (const [key, r] of reports) {
        if (key === 'dry-run') continue;
        for (const s of r.steps) {
          const url = docs[key]!.endpoints[s.endpoint]!.url;
          const t = Object.values(T).find((x) => url === `${sims[x.sim].url}/${x.product}/${x.appliance}`);
          if (t) stepTargets.push(t);
        }
      }
      const jobsPer = stepTargets.map((t) => ({
        step: `${t.product}/${t.appliance}`,
        jobs: ctx.now[t.sim].jobs.filter((j) => j.product === t.product && j.appliance === t.appliance).length,
      }));
      expect(jobsPer.filter((j) => j.jobs !== 1)).toEqual([]);
      const remoteJobs = main.counters().jobs.length + slow.counters().jobs.length;
      expect(remoteJobs).toBe(stepTargets.length);
      const remoteCancels = compensated.reduce((n, c) => n + c.remoteCancels, 0);

      // Recovery.
      kills.sort((a, b) => points.findIndex((p) => p.id === a.id) - points.findIndex((p) => p.id === b.id));
      const rec = kills.filter((k) => !k.knownGap).map((k) => k.recoveryMs);
      const p50 = percentile(rec, 50);
      const max = Math.max(...rec);
      const figures = {
        form: FULL ? 'full' : 'bounded',
        tried: points.length,
        survived: kills.length,
        runbooks: reports.size,
        steps: stepTargets.length,
        remoteJobs,
        remoteCancels,
        compensations: compensated.length,
        compensationsReportedDone: compensated.filter((c) => c.reportedDone).length,
        remoteJobsStoppedByCompensation: compensated.filter((c) => c.jobStopped).length,
        compensated,
        recovery: {
          p50Ms: p50,
          maxMs: max,
          goalMs: RECOVERY_GOAL_MS,
          withinGoal: rec.filter((ms) => ms <= RECOVERY_GOAL_MS).length,
          measured: rec.length,
          knownGaps: kills.filter((k) => k.knownGap).length,
        },
        heartbeatTimeout: STEP_HEARTBEAT_TIMEOUT,
        retryInitialInterval: { start: START_RETRY.initialInterval, poll: POLL_RETRY.initialInterval },
        wallMs,
        kills,
      };
      console.info(`crash matrix: ${JSON.stringify({ ...figures, kills: undefined })}`);
      if (OUT) writeFileSync(OUT, JSON.stringify(figures, null, 2));
      expect(kills).toHaveLength(points.length);
      // Every recovery came from the heartbeat timeout (not a 2-minute start-to-close timeout),
      // except the known gaps; how many met the goal is reported in the figures (a loaded machine
      // adds to the retry's dispatch, so the test does not fail on the goal itself).
      expect(kills.filter((k) => !k.knownGap && k.recoveryMs > 2 * HEARTBEAT_TIMEOUT_MS)).toEqual([]);
    },
  );
});
