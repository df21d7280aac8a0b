/**
 * `vmware-dr` as a person runs it in a fresh checkout after `npm ci`: `node bin/vmware-dr.js` in
 * a copy of the tree without `dist/`, as a child process (not tsx from the test). Every command's
 * help; the server-talking commands (run, status, list, approve, report) against the test run's
 * Temporal server, with a worker in this process; Ctrl-C on `run --wait` and on `rehearse` ends
 * the runs they started (cancelled, nothing left running on the server) and exits 130.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { buildProgram } from '../src/cli/index';
import { type Simulator, startSimulator } from '../src/simulator/server';
import { copyCheckout } from './support/checkout';
import { simulatedEndpoint } from './support/endpoints';
import { type Harness, createHarness } from './support/harness';

let tmp: string;
let checkout: string;
const savedEnv = { ...process.env };

interface Spawned {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>;
}

/** `node bin/vmware-dr.js ARGS` in the checkout, with the environment of a shell (plus `env`). */
function vmwareDr(args: string[], env: NodeJS.ProcessEnv = {}): Spawned {
  const { NODE_OPTIONS: _nodeOptions, ...shell } = process.env;
  const child = spawn(process.execPath, [join(checkout, 'bin', 'vmware-dr.js'), ...args], {
    cwd: checkout,
    env: { ...shell, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => void (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => void (err += b.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>(
    (resolve) => child.on('close', (code, signal) => resolve({ code, signal, out, err })),
  );
  return { child, out: () => out, err: () => err, done };
}

const run = (args: string[], env?: NodeJS.ProcessEnv) => vmwareDr(args, env).done;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `ok()` holds (polling), or fails naming `what`. */
async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'vmware-dr-bin-'));
  checkout = join(tmp, 'checkout');
  await copyCheckout(checkout);
}, 60_000);
afterAll(async () => {
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('npx vmware-dr in a checkout without dist/', () => {
  it('every command and subcommand prints its help and exits 0', async () => {
    const program = buildProgram({ stdout: () => undefined, stderr: () => undefined });
    const lines = program.commands.flatMap((c) => [
      [c.name()],
      ...c.commands.filter((s) => s.name() !== 'help').map((s) => [c.name(), s.name()]),
    ]);
    expect(lines.length).toBeGreaterThan(15);
    // A few at a time: each is a Node process loading the TypeScript source through tsx.
    const queue = [...lines];
    const failures: string[] = [];
    await Promise.all(
      [1, 2, 3].map(async () => {
        for (let line = queue.shift(); line; line = queue.shift()) {
          const r = await run([...line, '--help']);
          if (r.code !== 0 || !r.out.includes(`Usage: vmware-dr ${line.join(' ')}`) || r.err !== '')
            failures.push(`${line.join(' ')}: exit ${r.code}\n${r.out}${r.err}`);
        }
      }),
    );
    expect(failures).toEqual([]);
  }, 180_000);

  it('runs the source, not a stale dist/ left by an earlier build', async () => {
    const stale = join(checkout, 'dist', 'src', 'cli');
    mkdirSync(stale, { recursive: true });
    writeFileSync(join(stale, 'index.js'), "exports.run = () => { console.log('STALE'); process.exit(9); };\n");
    try {
      const r = await run(['--version']);
      expect(r).toMatchObject({ code: 0, err: '' });
      expect(r.out).toMatch(/^\d+\.\d+\.\d+\n$/);
    } finally {
      await rm(join(checkout, 'dist'), { recursive: true, force: true });
    }
  });

  it('a missing runbook file is invalid input (exit 2) naming the file', async () => {
    const r = await run(['validate', join(tmp, 'missing.yaml')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${join(tmp, 'missing.yaml')}: (file): cannot read it: no such file (ENOENT)`);
  });
});

describe('npx vmware-dr against a Temporal server (worker in this process)', () => {
  let h: Harness;
  let slow: Simulator;
  let worker: Worker;
  let running: Promise<void>;
  let server: string[];
  let approvalFile: string;
  let slowFile: string;

  beforeAll(async () => {
    h = await createHarness({ vcenters: 1 });
    slow = await startSimulator({ vcenters: 1, jobSeconds: 60 });
    worker = await h.worker();
    running = worker.run();
    server = ['--address', inject('temporalAddress'), '--namespace', inject('temporalNamespace')];
    process.env.BIN_VC_PASSWORD = h.sim.info.vcenter[0]!.password;
    process.env.BIN_SLOW_PASSWORD = slow.info.vcenter[0]!.password;
    process.env.BIN_SFTP_PASSWORD = 'sftp-secret';
    process.env.BIN_BACKUP_PASSWORD = 'Good#Pass1';
    const doc = (name: string, ref: string, vc: Simulator, approval: 'required' | 'none') => ({
      apiVersion: 'vmware-dr/v1',
      kind: 'Runbook',
      name,
      site: 'site-bin',
      defaults: { pollInterval: '100ms' },
      endpoints: { 'vc-1': simulatedEndpoint('vcenter', vc.info.vcenter[0]!, `env:${ref}`) },
      locations: {
        'sftp-a': {
          type: 'SFTP',
          url: 'sftp://backup.example.com/vcsa',
          username: 'backup',
          passwordRef: 'env:BIN_SFTP_PASSWORD',
          encryptionPasswordRef: 'env:BIN_BACKUP_PASSWORD',
        },
      },
      stages: [{ name: 'vcenters', steps: [{ backup: 'vc-1', to: 'sftp-a', approval }] }],
    });
    approvalFile = join(tmp, 'approval.yaml');
    writeFileSync(approvalFile, stringify(doc('bin-approval', 'BIN_VC_PASSWORD', h.sim, 'required')));
    slowFile = join(tmp, 'slow.yaml');
    writeFileSync(slowFile, stringify(doc('bin-slow', 'BIN_SLOW_PASSWORD', slow, 'none')));
  }, 60_000);

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await slow?.close();
    await h?.close();
  });

  it('run, status, list, approve (as another person) and report', async () => {
    const id = `bin-approval-${Date.now()}`;
    const started = await run(['run', approvalFile, '--id', id, '--task-queue', h.taskQueue, ...server]);
    expect(started.err).toBe('');
    expect(started.code).toBe(0);
    expect(started.out).toContain(`as workflow ${id}`);
    const handle = h.env.client.workflow.getHandle(id);
    await until('the step to wait for approval', async () => {
      const r = await run(['status', id, '--json', ...server]);
      return (
        r.code === 0 && (JSON.parse(r.out) as { steps: { outcome: string }[] }).steps[0]?.outcome === 'waiting-approval'
      );
    });
    const status = await run(['status', id, ...server]);
    expect(status.code).toBe(0);
    expect(status.out).toContain('waiting-approval');
    expect(status.out).toContain(`vmware-dr approve ${id} --step 1.1 --by <you>`);
    await until('the run to be listed', async () => {
      const r = await run(['list', '--query', `WorkflowId = '${id}'`, '--json', ...server]);
      return r.code === 0 && r.out.includes(id);
    });
    const approved = await run(['approve', id, '--step', '1.1', '--by', 'alice', ...server], {
      VMWARE_DR_IDENTITY: 'alice@bin.test',
    });
    expect(approved.err).toBe('');
    expect(approved.code).toBe(0);
    expect(approved.out).toContain(`Step 1.1 of ${id} approved by alice.`);
    await handle.result();
    const report = await run(['report', id, '--format', 'json', ...server]);
    expect(report.code).toBe(0);
    expect(JSON.parse(report.out)).toMatchObject({ workflowId: id, outcome: 'succeeded' });
    const markdown = await run(['report', id, ...server]);
    expect(markdown.out).toContain('# Runbook bin-approval: Succeeded');
  }, 120_000);

  it('Ctrl-C on run --wait cancels the run it started (its job cancelled on the appliance), then exits 130', async () => {
    const id = `bin-slow-${Date.now()}`;
    const waiting = vmwareDr(['run', slowFile, '--wait', '--id', id, '--task-queue', h.taskQueue, ...server]);
    await until('the step to run', () => /1\.1 backup vc-1 \(vcenter, stage vcenters\): running/.test(waiting.out()));
    await until('the remote job', () => slow.counters().jobs.length === 1, 30_000);
    waiting.child.kill('SIGINT');
    const r = await waiting.done;
    expect(r.code, r.err).toBe(130);
    expect(r.err).toContain(`vmware-dr: interrupted: ending run ${id} (cancelling it)`);
    expect(r.out).toContain('# Runbook bin-slow: Cancelled');
    const d = await h.env.client.workflow.getHandle(id).describe();
    expect(d.status.name).not.toBe('RUNNING');
    expect(slow.counters().calls.vcenter?.['vc-1']?.backupJobCancel).toBe(1);
  }, 120_000);

  it('Ctrl-C on rehearse cancels its run and leaves nothing running on the server; exit 130, no SDK error', async () => {
    const site = join(checkout, 'examples', 'site-a-nightly.yaml');
    const rehearsing = vmwareDr(['rehearse', site, '--job-seconds', '120'], {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: inject('temporalNamespace'),
    });
    // The workflows are bundled first (tens of seconds on a small machine).
    await until(
      'the first step to run',
      () => /1\.1 backup sddc-a \(sddc-manager, stage sddc-manager\): running/.test(rehearsing.out()),
      150_000,
    );
    const id = /as workflow (\S+)/.exec(rehearsing.out())![1]!;
    rehearsing.child.kill('SIGINT');
    const r = await rehearsing.done;
    expect(r.code, r.err).toBe(130);
    expect(r.err).toContain('vmware-dr: interrupted: ending the rehearsal of site-a-nightly');
    expect(r.err).toContain(`vmware-dr: the rehearsal run ${id} was cancelled`);
    expect(r.err).not.toMatch(/shut ?down|ShutdownError|\n\s+at /i);
    const d = await h.env.client.workflow.getHandle(id).describe();
    expect(d.status.name).not.toBe('RUNNING');
    expect((await h.env.client.workflow.getHandle(`${id}/1.1`).describe()).status.name).not.toBe('RUNNING');
    // Nothing of the rehearsal (the step, appliance leases) still runs on its task queue.
    await until('no run on the rehearsal task queue', async () => {
      for await (const _ of h.env.client.workflow.list({
        query: `TaskQueue = '${d.taskQueue}' AND ExecutionStatus = 'Running'`,
      }))
        return false;
      return true;
    });
  }, 240_000);
});
