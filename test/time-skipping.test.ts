/**
 * Time skipping on the Temporal test server: a vCenter backup step whose appliance stays busy for
 * its whole 6 h deadline fails at that deadline after seconds of wall time.
 *
 * Why not "a 6 h backup job completes": the simulator's jobs progress by the real clock
 * (`Date.now()` in src/simulator/server.ts), and the poll activity waits between polls inside
 * one activity with real timers, so a 6 h simulated job takes 6 h whatever the server's clock
 * says. Busy waits, in contrast, are workflow timers between start activities (of the worker's
 * `busyRetryDelayMs`), kept by the server, which the time-skipping server jumps over.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../src/simulator/server';
import type { VcenterBackupInput } from '../workflows';
import { type TimeSkippingEnv, createTimeSkippingEnv } from './support/time-skipping';

const HOUR_MS = 60 * 60 * 1000;
const STEP_TIMEOUT_MS = 6 * HOUR_MS;
/** Wait between two busy answers: 36 attempts fill the 6 h deadline. */
const BUSY_RETRY_DELAY_MS = 10 * 60 * 1000;

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
    const serverStart = await ts.env.currentTimeMs();
    const wallStart = Date.now();
    const err = await worker
      .runUntil(
        ts.env.client.workflow.execute('vcenterBackup', {
          taskQueue: ts.taskQueue,
          workflowId: `time-skipping-busy-${Date.now()}`,
          args: [{ ...input, timeoutMs: STEP_TIMEOUT_MS }],
        }),
      )
      .catch((e: unknown) => e);
    const wallMs = Date.now() - wallStart;
    const skippedMs = (await ts.env.currentTimeMs()) - serverStart;
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
});
