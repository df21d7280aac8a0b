/**
 * Time skipping on the Temporal test server.
 *
 * 1. A vCenter backup step whose appliance stays busy for its whole 6 h deadline fails at that
 *    deadline (never past it) after seconds of wall time: busy waits are workflow timers between
 *    start activities (of the worker's `busyRetryDelayMs`), which the server skips.
 * 2. Why a 6 h backup *job* cannot complete in seconds, proven: the job is polled inside one
 *    long activity (heartbeats, no history per poll), and the test server does not skip time
 *    while an activity is scheduled or running: it locks time skipping when it schedules an
 *    activity task and unlocks it only when the activity completes, fails, is cancelled or times
 *    out (temporalio/sdk-java temporal-test-server, TestWorkflowMutableStateImpl
 *    `processScheduleActivityTask` → `ctx.lockTimer`, `completeActivityTask`/`failActivityTask`/
 *    `timeoutActivity` → unlock; `TestWorkflowService.sleep`: "might block if the time skipping
 *    lock counter was more than 1"). So `env.sleep` blocks and server time moves at the real
 *    rate, even with the simulator's clock following the server's. Heartbeat timeouts never come
 *    into it: the clock does not jump under a running activity.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../src/simulator/server';
import type { SimulatorContext } from '../src/simulator/types';
import { createVcenterAppliance } from '../src/simulator/vcenter/appliance';
import type { VcenterBackupInput } from '../workflows';
import { type TimeSkippingEnv, createTimeSkippingEnv } from './support/time-skipping';

const HOUR_MS = 60 * 60 * 1000;
const STEP_TIMEOUT_MS = 6 * HOUR_MS;
/** Wait between two busy answers: 36 attempts fill the 6 h deadline. */
const BUSY_RETRY_DELAY_MS = 10 * 60 * 1000;
/** The simulated backup job's length. */
const JOB_MS = 6 * HOUR_MS;

describe('time skipping on the Temporal test server', () => {
  let ts: TimeSkippingEnv;
  let sim: Simulator;
  let input: VcenterBackupInput;
  const envBefore = { vc: process.env.TS_VC_PASSWORD, backup: process.env.TS_BACKUP_PASSWORD };

  beforeAll(async () => {
    ts = await createTimeSkippingEnv();
    sim = await startSimulator({ vcenters: 1, jobSeconds: 1 });
    const vc = sim.info.vcenter[0]!;
    process.env.TS_VC_PASSWORD = vc.password;
    process.env.TS_BACKUP_PASSWORD = 'Good#Pass1';
    input = {
      endpoint: {
        name: 'vc-1',
        url: vc.url,
        username: vc.username,
        passwordRef: 'env:TS_VC_PASSWORD',
        tls: { caFile: vc.caFile },
      },
      backup: {
        locationType: 'SFTP',
        location: 'sftp://backup.example.com/vc-1',
        backupPasswordRef: 'env:TS_BACKUP_PASSWORD',
      },
      pollIntervalMs: 100,
    };
  });

  afterAll(async () => {
    await sim?.close();
    await ts?.teardown();
    for (const [key, value] of [
      ['TS_VC_PASSWORD', envBefore.vc],
      ['TS_BACKUP_PASSWORD', envBefore.backup],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('runs on the time-skipping test server binary from the resolver', () => {
    expect(ts.env.supportsTimeSkipping).toBe(true);
    expect(ts.serverPath).toMatch(/temporal-test-server(\.exe)?$/);
  });

  it('a step whose appliance stays busy fails at its 6 h deadline in seconds of wall time', async () => {
    sim.resetCounters();
    sim.faults.add({
      product: 'vcenter',
      appliance: 'vc-1',
      operation: 'backupJobCreate',
      count: 10_000,
      action: { kind: 'error', error: 'FEATURE_IN_USE' },
    });
    const worker = await ts.worker({ busyRetryDelayMs: BUSY_RETRY_DELAY_MS });
    const wallStart = Date.now();
    const workflowId = `time-skipping-busy-${Date.now()}`;
    const err = await worker
      .runUntil(
        ts.env.client.workflow.execute('vcenterBackup', {
          taskQueue: ts.taskQueue,
          workflowId,
          args: [{ ...input, timeoutMs: STEP_TIMEOUT_MS }],
        }),
      )
      .catch((e: unknown) => e);
    const wallMs = Date.now() - wallStart;
    // Server time from the run's start to its failure, from its history. The server clock read
    // afterwards may have skipped further: the appliance lease workflow outlives the step, and once
    // the worker has stopped the test server can skip ahead (once, under load, by 10 years).
    const events = (await ts.env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const skippedMs = tsToMs(events.at(-1)!.eventTime) - tsToMs(events[0]!.eventTime);
    const attempts = sim.counters().calls.vcenter?.['vc-1']?.backupJobCreate ?? 0;
    process.stderr.write(
      `[time-skipping] 6 h busy step: failed after ${(skippedMs / HOUR_MS).toFixed(2)} h of server time, ` +
        `${(wallMs / 1000).toFixed(1)} s of wall time, ${attempts} start attempts\n`,
    );

    expect(err).toBeInstanceOf(WorkflowFailedError);
    const activityFailure = (err as WorkflowFailedError).cause;
    expect(activityFailure).toBeInstanceOf(ActivityFailure);
    // The step waits out busy answers with workflow timers (server time, skipped here) and stops
    // when the next wait would pass its deadline: the last busy answer, non-retryable, says so.
    // The activity itself cannot see the deadline pass: its clock is the worker's real one.
    const cause = (activityFailure as ActivityFailure).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('ResourceBusy');
    expect((cause as ApplicationFailure).nonRetryable).toBe(true);
    expect((cause as ApplicationFailure).message).toContain('FEATURE_IN_USE');
    expect((cause as ApplicationFailure).message).toContain("still busy at the step's deadline");

    // Never past the deadline, and not more than one busy wait before it.
    expect(skippedMs).toBeGreaterThan(STEP_TIMEOUT_MS - BUSY_RETRY_DELAY_MS);
    expect(skippedMs).toBeLessThanOrEqual(STEP_TIMEOUT_MS);
    expect(wallMs).toBeLessThan(30_000);
    // One start attempt per busy wait over the 6 h (each wait a workflow timer of busyRetryDelayMs).
    expect(attempts).toBeGreaterThanOrEqual(STEP_TIMEOUT_MS / BUSY_RETRY_DELAY_MS - 2);
    expect(attempts).toBeLessThanOrEqual(STEP_TIMEOUT_MS / BUSY_RETRY_DELAY_MS + 2);
    expect(sim.counters().jobs).toHaveLength(0);
  });

  it('a 6 h job does not complete in seconds: a running poll activity holds the server clock (the limit, proven)', async () => {
    // The simulator's clock follows the test server's (sampled every 20 ms, real time in between),
    // injected through the public `factories` option (SimulatorContext.now): were server time
    // skipped, the 6 h job would be done at the next poll.
    let serverAt = await ts.env.currentTimeMs();
    let wallAt = Date.now();
    const clock = () => serverAt + (Date.now() - wallAt);
    let syncing = true;
    const sync = (async () => {
      while (syncing) {
        const t = await ts.env.currentTimeMs();
        [serverAt, wallAt] = [t, Date.now()];
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const slow = await startSimulator({
      vcenters: 1,
      jobSeconds: JOB_MS / 1000,
      factories: {
        vcenter: (i: number, ctx: SimulatorContext) => {
          ctx.now = clock;
          return createVcenterAppliance(i, ctx);
        },
      },
    });
    try {
      const vc = slow.info.vcenter[0]!;
      process.env.TS_SLOW_VC_PASSWORD = vc.password;
      const worker = await ts.worker({ pollIntervalMs: 200 });
      const outcome = await worker.runUntil(async () => {
        const handle = await ts.env.client.workflow.start('vcenterBackupStep', {
          taskQueue: ts.taskQueue,
          workflowId: `time-skipping-6h-${Date.now()}`,
          args: [
            {
              ...input,
              endpoint: {
                ...input.endpoint,
                url: vc.url,
                passwordRef: 'env:TS_SLOW_VC_PASSWORD',
                tls: { caFile: vc.caFile },
              },
              pollIntervalMs: 200,
              timeoutMs: 7 * HOUR_MS,
            },
          ],
        });
        while (slow.counters().jobs.length === 0) await new Promise((r) => setTimeout(r, 50));
        await new Promise((r) => setTimeout(r, 500)); // the poll activity runs
        const before = await ts.env.currentTimeMs();
        // Ask the server to skip 30 min: it cannot while the poll activity is scheduled.
        const skipped = ts.env.sleep(30 * 60 * 1000).then(() => 'skipped' as const);
        const first = await Promise.race([skipped, new Promise((r) => setTimeout(() => r('still locked'), 3_000))]);
        const advancedMs = (await ts.env.currentTimeMs()) - before;
        // Clean up: the cancel reaches the appliance, the activity ends, and the clock is free again.
        await handle.cancel();
        const ended = await handle.result().then(
          () => 'completed',
          (e: unknown) => (e as Error).name,
        );
        await skipped;
        return { first, advancedMs, ended };
      });
      process.stderr.write(`[time-skipping] 6 h job while polling: ${JSON.stringify(outcome)}\n`);
      expect(outcome.first).toBe('still locked');
      // Server time moved with real time only (3 s, not 30 min).
      expect(outcome.advancedMs).toBeGreaterThan(2_000);
      expect(outcome.advancedMs).toBeLessThan(60_000);
      expect(outcome.ended).toBe('WorkflowFailedError'); // cancelled
      expect(slow.counters().calls.vcenter?.['vc-1']?.backupJobCancel).toBe(1);
      expect(slow.counters().jobs).toHaveLength(1);
    } finally {
      syncing = false;
      await sync;
      await slow.close();
    }
  });
});
