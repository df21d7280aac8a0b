/**
 * The fault matrix (test/support/fault-matrix.ts): every fault × product injected through the
 * simulator into a step workflow on a real Temporal dev server and worker, each on its own
 * appliance so all run side by side; each case is then its own test of the designed behaviour
 * (retry, re-login, attach, or a non-retryable failure of the right type with a hint). The table
 * and its counts are printed; with VMWARE_DR_FAULT_MATRIX_OUT set they are also written there as
 * JSON (for `npm run reliability`).
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActivities } from '../activities';
import { renderFaultTable } from '../src/simulator/fault-table';
import { endTaskQueueWorkflows } from '../src/client/task-queue';
import { type Simulator, startSimulator } from '../src/simulator/server';
import type { StartedJob } from '../src/simulator/types';
import type { StepResult } from '../src/contract/results';
import {
  CANCEL_JOB_SECONDS,
  FAULT_MATRIX,
  FAULT_MATRIX_FACTORIES,
  type FaultCase,
  JOB_SECONDS,
  PRODUCT_OPS,
  SLOW_REQUEST_TIMEOUT_MS,
  faultTableRows,
} from './support/fault-matrix';
import { configureSddcBackupLocation } from './support/sddc-manager';

const PASSWORD = 'Fault#Matrix-Appliance-1';
const BACKUP_PASSWORD = 'Fault#Backup42';
const RESTORE_LOCATION = 'sftp://backup.example.com/fault-matrix';
/** A well-formed SHA-256 pin of no certificate the simulator has. */
const WRONG_PIN = Array.from({ length: 32 }, () => 'AB').join(':');

interface Run {
  result?: StepResult;
  /** The workflow ended cancelled (the compensation cases). */
  cancelled?: boolean;
  failure?: ApplicationFailure;
  /** Anything else that went wrong (a bug in the run itself). */
  error?: unknown;
  calls: Record<string, number>;
  jobs: StartedJob[];
  /** Wall-clock time from start to end of the workflow. */
  ms: number;
}

const WORKFLOWS: Record<string, string> = {
  'vcenter/backup': 'vcenterBackupStep',
  'vcenter/restore': 'vcenterRestoreStep',
  'sddc-manager/backup': 'sddcManagerBackupStep',
  'sddc-manager/restore': 'sddcManagerRestoreStep',
  'vcda/backup': 'vcdaBackupStep',
};

describe('fault matrix: every fault × product through the simulator, on a real worker', () => {
  let env: TestWorkflowEnvironment;
  /**
   * One simulator per case: each appliance then has its own host:port, which is what the
   * appliance lease is keyed by (`applianceKey`), so the cases' starts do not queue on one lease.
   */
  const sims = new Map<string, Simulator>();
  const simOf = (c: FaultCase) => sims.get(c.id)!;
  const runs = new Map<string, Run>();
  const handled = new Map<string, boolean>();
  let queue: string | undefined;
  let slowQueue: string | undefined;

  function input(c: FaultCase): unknown {
    const sim = simOf(c);
    const caFile = sim.info.caFile!;
    const info = ({ vcenter: sim.info.vcenter, 'sddc-manager': sim.info.sddcManager, vcda: sim.info.vcda } as const)[
      c.product
    ].find((a) => a.url.endsWith(`/${c.id}`))!;
    const tls =
      c.inject.via === 'tls' ? (c.inject.tls === 'wrong-pin' ? { thumbprint: WRONG_PIN } : undefined) : { caFile };
    const endpoint = {
      name: c.id,
      url: info.url,
      username: info.username,
      passwordRef: 'env:FAULT_MATRIX_PASSWORD',
      ...(tls && { tls }),
    };
    const common = { endpoint, pollIntervalMs: 100, timeoutMs: 60_000, stepId: `fault/${c.id}` };
    if (c.product === 'vcenter' && c.action === 'backup')
      return {
        ...common,
        backup: {
          locationType: 'SFTP',
          location: `sftp://backup.example.com/${c.id}`,
          backupPasswordRef: 'env:FAULT_MATRIX_BACKUP',
        },
      };
    if (c.product === 'vcenter')
      return {
        ...common,
        restore: {
          locationType: 'SFTP',
          location: RESTORE_LOCATION,
          backupPasswordRef: 'env:FAULT_MATRIX_BACKUP',
          ignoreWarnings: true,
        },
      };
    if (c.action === 'restore')
      return {
        ...common,
        restore: { backupFile: '/tmp/vcf-backup-fault-matrix.tar.gz', passphraseRef: 'env:FAULT_MATRIX_BACKUP' },
      };
    return common;
  }

  async function until(what: string, probe: () => boolean, timeoutMs = 30_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!probe()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async function runCase(c: FaultCase, taskQueue: string): Promise<Run> {
    const sim = simOf(c);
    const calls = () => sim.counters().calls[c.product]?.[c.id] ?? {};
    const out: Run = { calls: {}, jobs: [], ms: 0 };
    const t0 = Date.now();
    try {
      const handle = await env.client.workflow.start(WORKFLOWS[`${c.product}/${c.action}`]!, {
        taskQueue,
        workflowId: `fault-matrix-${c.id}-${randomUUID()}`,
        args: [input(c)],
      });
      if (c.inject.via === 'expire') {
        const op = c.inject.afterOperation;
        await until(`the start of ${c.id}`, () => (calls()[op] ?? 0) >= 1, 90_000);
        sim.appliance(c.product, c.id)!.admin!(PRODUCT_OPS[c.product].expire);
      }
      if (c.inject.via === 'cancel') {
        // Cancel once the job runs and its poll has read it: the compensation meets the fault.
        await until(`the poll of ${c.id}`, () => (calls()[PRODUCT_OPS[c.product].poll] ?? 0) >= 1, 90_000);
        await handle.cancel();
      }
      try {
        out.result = (await handle.result()) as StepResult;
      } catch (err) {
        if (!(err instanceof WorkflowFailedError)) throw err;
        const cause = err.cause instanceof ActivityFailure ? err.cause.cause : err.cause;
        if (cause instanceof ApplicationFailure) out.failure = cause;
        else if (cause instanceof CancelledFailure) out.cancelled = true;
        else out.error = err;
      }
    } catch (err) {
      out.error = err;
    }
    out.ms = Date.now() - t0;
    out.calls = calls();
    out.jobs = sim.counters().jobs.filter((j) => j.product === c.product && j.appliance === c.id);
    return out;
  }

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createFromExistingServer({
      address: inject('temporalAddress'),
      namespace: inject('temporalNamespace'),
    });
    process.env.FAULT_MATRIX_PASSWORD = PASSWORD;
    process.env.FAULT_MATRIX_BACKUP = BACKUP_PASSWORD;
    await Promise.all(
      FAULT_MATRIX.map(async (c) => {
        const sim = await startSimulator({
          jobSeconds: c.inject.via === 'cancel' ? CANCEL_JOB_SECONDS : JOB_SECONDS,
          credentials: { password: PASSWORD },
          factories: FAULT_MATRIX_FACTORIES,
          appliances: [
            {
              product: c.product,
              name: c.id,
              ...(c.product === 'vcenter' &&
                c.action === 'restore' && {
                  stage: 'restore' as const,
                  backups: [{ location: RESTORE_LOCATION, backupPassword: BACKUP_PASSWORD }],
                }),
            },
          ],
        });
        sims.set(c.id, sim);
        for (const a of sim.info.sddcManager)
          await configureSddcBackupLocation({ ...a, password: PASSWORD }, { caFile: sim.info.caFile! });
        sim.resetCounters();
        if (c.inject.via === 'fault' || c.inject.via === 'cancel')
          sim.faults.add({
            product: c.product,
            appliance: c.id,
            operation: c.inject.via === 'cancel' ? PRODUCT_OPS[c.product].cancel! : c.inject.operation,
            action: c.inject.action,
            count: c.inject.count ?? 1,
          });
      }),
    );
    const makeWorker = (taskQueue: string, requestTimeoutMs?: number) =>
      Worker.create({
        connection: env.nativeConnection,
        namespace: inject('temporalNamespace'),
        taskQueue,
        workflowBundle: { codePath: inject('workflowBundlePath') },
        activities: createActivities({
          pollIntervalMs: 100,
          busyRetryDelayMs: 100,
          ...(requestTimeoutMs !== undefined && { requestTimeoutMs }),
        }),
        maxHeartbeatThrottleInterval: '1 second',
      });
    const fast = `fault-matrix-${randomUUID()}`;
    const slow = `fault-matrix-slow-${randomUUID()}`;
    [queue, slowQueue] = [fast, slow];
    const [worker, slowWorker] = await Promise.all([makeWorker(fast), makeWorker(slow, SLOW_REQUEST_TIMEOUT_MS)]);
    const started = Date.now();
    await worker.runUntil(
      slowWorker.runUntil(
        Promise.all(FAULT_MATRIX.map(async (c) => runs.set(c.id, await runCase(c, c.slowWorker ? slow : fast)))),
      ),
    );
    const slowest = [...runs.entries()]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, 5)
      .map(([id, r]) => `${id} ${r.ms} ms`);
    console.log(
      `fault matrix: ${FAULT_MATRIX.length} cases ran side by side in ${Date.now() - started} ms (slowest: ${slowest.join(', ')})`,
    );
  }, 110_000);

  afterAll(async () => {
    for (const q of [queue, slowQueue])
      if (q) await endTaskQueueWorkflows(env.client, q, 'the fault matrix ended').catch(() => undefined);
    const table = renderFaultTable(faultTableRows(handled));
    console.log(`${table.markdown}\nfault matrix: ${table.handled} handled / ${table.tried} tried`);
    const outFile = process.env.VMWARE_DR_FAULT_MATRIX_OUT;
    if (outFile) writeFileSync(outFile, `${JSON.stringify(table, null, 2)}\n`);
    delete process.env.FAULT_MATRIX_PASSWORD;
    delete process.env.FAULT_MATRIX_BACKUP;
    await Promise.all([...sims.values()].map((sim) => sim.close()));
    await env?.teardown();
  });

  it('covers every required fault for every product (restore where the product has one)', () => {
    const required = [
      'busy',
      '401',
      'expiry',
      '500',
      '502',
      '503',
      '504',
      'reset',
      'slower than the request timeout',
      'malformed JSON on the poll',
      'malformed JSON on the start',
      'schema-breaking body on the poll',
      'schema-breaking body on the start',
      'unknown job status',
      'FAILED',
      'TLS: unknown CA',
      'TLS: wrong SHA-256 pin',
    ];
    const compensation = [
      '500 on the cancel',
      '503 on the cancel',
      'reset on the cancel',
      '401 on the cancel',
      'refused',
    ];
    for (const product of ['vcenter', 'sddc-manager'] as const) {
      const faults = FAULT_MATRIX.filter((c) => c.product === product && c.inject.via === 'cancel').map((c) => c.fault);
      for (const r of compensation)
        expect(
          faults.some((f) => f.includes(r)),
          `${product}: compensation ${r}`,
        ).toBe(true);
    }
    for (const product of ['vcenter', 'sddc-manager', 'vcda'] as const) {
      const faults = FAULT_MATRIX.filter((c) => c.product === product).map((c) => c.fault);
      for (const r of required)
        expect(
          faults.some((f) => f.includes(r)),
          `${product}: ${r}`,
        ).toBe(true);
    }
    expect(FAULT_MATRIX.filter((c) => c.action === 'restore').map((c) => c.product)).toEqual([
      'vcenter',
      'sddc-manager',
    ]);
    expect(new Set(FAULT_MATRIX.map((c) => c.id)).size).toBe(FAULT_MATRIX.length);
  });

  it.each(FAULT_MATRIX.map((c) => [`${c.product}: ${c.fault}`, c] as const))('%s', (_name, c) => {
    handled.set(c.id, false);
    const run = runs.get(c.id)!;
    expect(run.error).toBeUndefined();
    const kind = c.action;
    const jobs = run.jobs.filter((j) => j.kind === kind);
    const ops = PRODUCT_OPS[c.product];
    if (c.expect.outcome === 'fail') {
      expect(run.result, 'the step must fail').toBeUndefined();
      expect(run.failure).toBeInstanceOf(ApplicationFailure);
      expect(run.failure!.type).toBe(c.expect.type);
      expect(run.failure!.nonRetryable).toBe(true);
      expect(run.failure!.message).toMatch(/Fix: \S/);
      expect(run.failure!.message).not.toContain(PASSWORD);
      expect(jobs.length).toBeLessThanOrEqual(1);
      if (c.inject.via === 'tls') expect(run.calls, 'no request reaches the appliance').toEqual({});
      if (c.expect.type === 'RemoteJobFailed') expect(jobs).toHaveLength(1);
      if (c.inject.via === 'cancel') {
        // Refused for good: asked once, and the step says the job may still run.
        expect(jobs).toHaveLength(1);
        expect(run.calls[ops.cancel!]).toBe(1);
        expect(run.failure!.message).toMatch(/may still be running/);
      }
    } else if (c.expect.outcome === 'compensate') {
      expect(run.failure?.message ?? '').toBe('');
      expect(run.cancelled, 'the step ends cancelled').toBe(true);
      expect(jobs, 'exactly one remote job').toHaveLength(1);
      const count = c.inject.via === 'cancel' ? (c.inject.count ?? 1) : 1;
      // Every faulted cancel was asked again, and one more request got through: then no more.
      expect(run.calls[ops.cancel!]).toBe(count + 1);
      expect(simOf(c).faults.list()).toEqual([]);
      if (c.expect.relogin) {
        const logins = ops.login.reduce((n, op) => n + (run.calls[op] ?? 0), 0);
        expect(logins).toBeGreaterThanOrEqual(2);
      }
    } else {
      expect(run.failure?.message ?? '').toBe('');
      expect(run.result).toMatchObject({ outcome: 'succeeded', product: c.product, appliance: c.id });
      expect(jobs, 'exactly one remote job').toHaveLength(1);
      expect(run.result!.remoteId).toBe(jobs[0]!.id);
      if (c.inject.via === 'fault') {
        // The fault was consumed: the operation was called again after it.
        expect(simOf(c).faults.list()).toEqual([]);
        if (c.expect.outcome !== 'attach')
          expect(run.calls[c.inject.operation]).toBeGreaterThanOrEqual((c.inject.count ?? 1) + 1);
      }
      if (c.expect.outcome === 'retry') expect(run.result!.attached).toBe(false);
      if (c.expect.outcome === 'attach') {
        expect(run.result!.attached).toBe(true);
        expect(run.calls[ops.start]).toBe(1);
      }
      if (c.expect.outcome === 'relogin') {
        const logins = ops.login.reduce((n, op) => n + (run.calls[op] ?? 0), 0);
        expect(logins).toBeGreaterThanOrEqual(2);
      }
    }
    handled.set(c.id, true);
  });
});

describe('renderFaultTable (pure)', () => {
  it('one line per fault in first-seen order, one column per product, n/a where a product has no case', () => {
    const t = renderFaultTable([
      { fault: 'b', product: 'vcda', expected: 'retry', handled: true },
      { fault: 'a', product: 'vcenter', expected: 'x | y', handled: false },
      { fault: 'b', product: 'vcenter', expected: 'retry' },
    ]);
    expect(t.markdown.split('\n').slice(0, 4)).toEqual([
      '| fault | vCenter | SDDC Manager | VCDA |',
      '|---|---|---|---|',
      '| b | retry | n/a | retry ✅ |',
      '| a | x \\| y ❌ | n/a | n/a |',
    ]);
    expect(t).toMatchObject({ handled: 1, tried: 2 });
    expect(t.markdown).toContain('Faults handled as designed: 1 / 2 tried (3 in the matrix).');
  });

  it('refuses two rows for one fault and product (the table would hide one)', () => {
    const row = { fault: 'a', product: 'vcda' as const, expected: 'retry' };
    expect(() => renderFaultTable([row, row])).toThrow(/two rows for "a" on vcda/);
  });

  it('renders the whole matrix before a run: every case a cell, none marked', () => {
    const t = renderFaultTable(faultTableRows());
    expect(t).toMatchObject({ handled: 0, tried: 0 });
    const lines = t.markdown.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| fault'));
    expect(lines).toHaveLength(new Set(FAULT_MATRIX.map((c) => c.fault)).size);
    expect(t.markdown).not.toMatch(/✅|❌/);
  });
});
