/**
 * `vmware-dr run / status / list / report / cancel / approve / reject` end to end: the program
 * runs in-process (`main`) against the test run's Temporal dev server, a worker on a unique task
 * queue and the HTTPS simulator; runbook files are written to a temporary directory.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { stringify } from 'yaml';
import { main } from '../src/cli/index';
import { cliIdentity } from '../src/cli/connect';
import { reportJson } from '../src/cli/watch';
import type { RunbookReport } from '../src/contract/runbook/report';
import { type Simulator, startSimulator } from '../src/simulator/server';
import type { VcenterAppliance } from '../src/simulator/vcenter/appliance';
import { simulatedEndpoint } from './support/endpoints';
import { type Harness, createHarness } from './support/harness';

const dir = mkdtempSync(join(tmpdir(), 'vmware-dr-cli-client-'));
const savedEnv = { ...process.env };

interface Ran {
  code: number;
  out: string;
  err: string;
}

/** Starts one command line in-process, capturing its output: what it wrote so far, and its end. */
function cliStart(args: string[]): { out: () => string; done: Promise<Ran> } {
  let out = '';
  let err = '';
  const done = main(args, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) }).then((code) => ({
    code,
    out,
    err,
  }));
  return { out: () => out, done };
}

/** Runs one command line in-process, capturing its output. */
const cli = (args: string[]): Promise<Ran> => cliStart(args).done;

/** Runs one command line as another person: their client identity (VMWARE_DR_IDENTITY), which four eyes compare. */
async function cliAs(identity: string, args: string[]): Promise<Ran> {
  const saved = process.env.VMWARE_DR_IDENTITY;
  process.env.VMWARE_DR_IDENTITY = identity;
  try {
    return await cli(args);
  } finally {
    if (saved === undefined) delete process.env.VMWARE_DR_IDENTITY;
    else process.env.VMWARE_DR_IDENTITY = saved;
  }
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('vmware-dr runbook runs (dev server, worker, simulator)', () => {
  let h: Harness;
  let slow: Simulator;
  let worker: Worker;
  let running: Promise<void>;
  let server: string[];
  const file = (name: string, doc: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, stringify(doc));
    return path;
  };
  let backupFile: string;
  let failingFile: string;
  let restoreFile: string;
  let slowFile: string;

  beforeAll(async () => {
    h = await createHarness({ vcenters: 2, sddcManagers: 1, jobSeconds: 1 });
    slow = await startSimulator({ vcenters: 1, jobSeconds: 30 });
    // Busy answers wait 1.5 s before the next attempt, long enough for the watch to show them.
    worker = await h.worker({ busyRetryDelayMs: 1500 });
    running = worker.run();
    server = ['--address', inject('temporalAddress'), '--namespace', inject('temporalNamespace')];
    const { vcenter, sddcManager } = h.sim.info;
    process.env.CLI_VC1_PASSWORD = vcenter[0]!.password;
    process.env.CLI_VC2_PASSWORD = vcenter[1]!.password;
    process.env.CLI_SDDC_PASSWORD = sddcManager[0]!.password;
    process.env.CLI_SLOW_PASSWORD = slow.info.vcenter[0]!.password;
    process.env.CLI_BACKUP_PASSWORD = 'Good#Pass1';
    process.env.CLI_SFTP_PASSWORD = 'sftp-secret';
    process.env.VMWARE_DR_UI_URL = 'https://temporal-ui.example.com/';
    const base = {
      apiVersion: 'vmware-dr/v1',
      kind: 'Runbook',
      site: 'site-cli',
      defaults: { pollInterval: '100ms' },
      locations: {
        'sftp-a': {
          type: 'SFTP',
          url: 'sftp://backup.example.com/vcsa',
          username: 'backup',
          passwordRef: 'env:CLI_SFTP_PASSWORD',
          encryptionPasswordRef: 'env:CLI_BACKUP_PASSWORD',
        },
      },
    };
    const vc = (i: number, ref: string) => simulatedEndpoint('vcenter', vcenter[i]!, `env:${ref}`);
    backupFile = file('backup.yaml', {
      ...base,
      name: 'cli-backup',
      endpoints: {
        'sddc-a': simulatedEndpoint('sddc-manager', sddcManager[0]!, 'env:CLI_SDDC_PASSWORD'),
        'vc-1': vc(0, 'CLI_VC1_PASSWORD'),
      },
      stages: [
        { name: 'sddc-manager', steps: [{ backup: 'sddc-a' }] },
        { name: 'vcenters', steps: [{ backup: 'vc-1', to: 'sftp-a' }] },
      ],
    });
    failingFile = file('failing.yaml', {
      ...base,
      name: 'cli-failing',
      endpoints: { 'vc-1': vc(0, 'CLI_VC1_PASSWORD') },
      stages: [
        { name: 'vcenters', steps: [{ backup: 'vc-1', to: 'sftp-a' }] },
        { name: 'again', steps: [{ backup: 'vc-1', to: 'sftp-a' }] },
      ],
    });
    restoreFile = file('restore.yaml', {
      ...base,
      name: 'cli-restore',
      endpoints: { 'vc-2': vc(1, 'CLI_VC2_PASSWORD') },
      stages: [
        {
          name: 'restore',
          steps: [
            { restore: 'vc-2', from: 'sftp-a', archive: 'latest', systemName: 'vc-1.sim.local', ignoreWarnings: true },
          ],
        },
      ],
    });
    slowFile = file('slow.yaml', {
      ...base,
      name: 'cli-slow',
      endpoints: { 'vc-slow': simulatedEndpoint('vcenter', slow.info.vcenter[0]!, 'env:CLI_SLOW_PASSWORD') },
      stages: [
        { name: 'vcenters', steps: [{ backup: 'vc-slow', to: 'sftp-a' }] },
        { name: 'after', steps: [{ backup: 'vc-slow', to: 'sftp-a' }] },
      ],
    });
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await slow?.close();
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
  });

  /** Polls `status --json` until `ok` holds for it. */
  async function statusUntil(id: string, ok: (s: ReturnType<typeof reportJson> & { status: string }) => boolean) {
    for (let i = 0; i < 150; i++) {
      const r = await cli(['status', id, '--json', ...server]);
      if (r.code === 0) {
        const s = JSON.parse(r.out) as ReturnType<typeof reportJson> & { status: string };
        if (ok(s)) return s;
      }
      await sleep(200);
    }
    throw new Error(`status of ${id} never matched`);
  }

  it('run --wait: live progress per step (busy waits with attempts), the Markdown report, exit 0', async () => {
    h.sim.resetCounters();
    // vCenter answers "busy" to the first two backup POSTs: the step waits and retries.
    h.sim.faults.add({
      product: 'vcenter',
      appliance: 'vc-1',
      operation: 'backupJobCreate',
      count: 2,
      action: { kind: 'error', error: 'FEATURE_IN_USE' },
    });
    const r = await cli(['run', backupFile, '--wait', '--task-queue', h.taskQueue, ...server]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const id = /as workflow (\S+)/.exec(r.out)?.[1] ?? '';
    expect(id).toMatch(/^vmware-dr\/site-cli\/cli-backup\/\d{8}T\d{6}\.\d{3}Z$/);
    expect(r.out).toContain(
      `Web UI: https://temporal-ui.example.com/namespaces/${inject('temporalNamespace')}/workflows/${encodeURIComponent(id)}`,
    );
    // Plain lines (not a terminal): each step's title as it changes, and the busy wait with its attempt.
    expect(r.out).toContain('1.1 backup sddc-a (sddc-manager, stage sddc-manager): running');
    expect(r.out).toContain('2.1 backup vc-1 (vcenter, stage vcenters): succeeded');
    expect(r.out).toMatch(/waiting: appliance busy \(attempt [12]\)/);
    // Piped: every progress line names its step, and each step state has one line.
    const progress = r.out
      .slice(r.out.indexOf('\n', r.out.indexOf('Web UI:')) + 1, r.out.indexOf('# Runbook'))
      .split('\n')
      .filter(Boolean);
    expect(progress.length).toBeGreaterThanOrEqual(4);
    for (const line of progress) expect(line).toMatch(/^\d+\.\d+ /);
    const stateLines = progress.filter((l) => /^\d+\.\d+ (backup|restore) \S+ \(/.test(l));
    expect(stateLines.map((l) => l.replace(/; .*$/, ''))).toEqual([
      ...new Set(stateLines.map((l) => l.replace(/; .*$/, ''))),
    ]);
    expect(r.out).toContain('# Runbook cli-backup: Succeeded');
    expect(r.out).toMatch(/\| 2\.1 \| vcenters \| backup \| vc-1 \| vcenter \| succeeded \(3 attempts\) \|/);
    expect(h.sim.counters().calls.vcenter?.['vc-1']?.backupJobCreate).toBe(3);
    // The finished run: status reads its result, list finds it with its search attributes.
    const status = await cli(['status', id, ...server]);
    expect(status.code).toBe(0);
    expect(status.out).toMatch(/Status: COMPLETED, outcome: succeeded/);
    expect(status.out).toMatch(/│ 2\.1 +│ vcenters +│ backup +│ vc-1 +│ vcenter +│ succeeded/);
    let listed = { code: -1, out: '', err: '' };
    for (let i = 0; i < 50 && !listed.out.includes(id); i++) {
      if (i) await sleep(200);
      listed = await cli(['list', '--query', "VmwareDrRunbook = 'cli-backup'", '--json', ...server]);
    }
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.out)).toContainEqual(
      expect.objectContaining({
        workflowId: id,
        runbook: 'cli-backup',
        site: 'site-cli',
        stage: 'vcenters',
        outcome: 'succeeded',
        status: 'COMPLETED',
      }),
    );
    const table = await cli(['list', '--query', "VmwareDrSite = 'site-cli'", ...server]);
    expect(table.out).toMatch(/Workflow id.*Runbook.*Site.*Stage.*Outcome.*Status.*Started/);
    expect(table.out).toContain('cli-backup');
    const badQuery = await cli(['list', '--query', 'NoSuchAttribute = 1', ...server]);
    expect(badQuery.code).toBe(2);
    expect(badQuery.err).toContain('invalid --query');
  });

  describe('a restore waiting for approval', () => {
    beforeAll(() => {
      // vc-2 freshly deployed (restore stage); the backup test left a backup of vc-1 on sftp-a.
      (h.sim.appliance('vcenter', 'vc-2') as VcenterAppliance).setStage('restore');
    });

    it('status shows waiting-approval with the command; a bad step is refused (exit 2); approve continues the run', async () => {
      h.sim.resetCounters();
      const id = `cli-restore-${Date.now()}`;
      const waited = cliStart(['run', restoreFile, '--wait', '--id', id, '--task-queue', h.taskQueue, ...server]);
      const s = await statusUntil(id, (x) => x.steps[0]?.outcome === 'waiting-approval');
      // The live view says what to type while the step waits.
      const command = `waiting for approval: vmware-dr approve ${id} --step 1.1 --by <you>`;
      for (let i = 0; i < 50 && !waited.out().includes(command); i++) await sleep(100);
      expect(waited.out()).toContain(command);
      expect(s).toMatchObject({ status: 'RUNNING', outcome: 'running', endedAt: null });
      const text = await cli(['status', id, ...server]);
      expect(text.out).toContain('waiting-approval');
      expect(text.out).toContain(`vmware-dr approve ${id} --step 1.1 --by <you>`);
      // The same id while it runs: refused.
      const again = await cli(['run', restoreFile, '--id', id, '--task-queue', h.taskQueue, ...server]);
      expect(again.code).toBe(2);
      expect(again.err).toContain(`a run with id ${id} is already running`);
      // The report of a running run is its progress.
      const progress = await cli(['report', id, '--format', 'json', ...server]);
      expect(JSON.parse(progress.out)).toMatchObject({ outcome: 'running', steps: [{ outcome: 'waiting-approval' }] });
      const badStep = await cli(['reject', id, '--step', '9.9', '--by', 'bob', '--reason', 'wrong archive', ...server]);
      expect(badStep.code).toBe(2);
      expect(badStep.err).toContain('no step 9.9: steps are 1.1');
      const noReason = await cli(['reject', id, '--step', '1.1', '--by', 'bob', ...server]);
      expect(noReason.code).toBe(2);
      expect(h.sim.counters().jobs).toEqual([]);
      // Who started the run (this process's identity, user@host) may not approve it: four eyes.
      const own = await cli(['approve', id, '--step', '1.1', '--by', 'me', ...server]);
      expect(own.code).toBe(2);
      expect(own.err).toContain('four eyes');
      const ok = await cliAs('alice@cli.test', [
        'approve',
        id,
        '--step',
        '1.1',
        '--by',
        'alice',
        '--comment',
        'CHG-1',
        ...server,
      ]);
      expect(ok).toMatchObject({ code: 0, err: '' });
      expect(ok.out).toContain(`Step 1.1 of ${id} approved by alice.`);
      expect(ok.out).toContain('Recorded as client identity alice@cli.test.');
      const twice = await cliAs('carol@cli.test', ['approve', id, '--step', '1.1', '--by', 'carol', ...server]);
      expect(twice.code).toBe(2);
      const r = await waited.done;
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toContain('1.1 restore vc-2 (vcenter, stage restore): succeeded');
      expect(r.out).toContain('# Runbook cli-restore: Succeeded');
      expect(r.out).toMatch(/\| 1\.1 \| approved \| alice \|/);
      const report = await cli(['report', id, '--format', 'json', ...server]);
      expect(report.code).toBe(0);
      const json = JSON.parse(report.out) as ReturnType<typeof reportJson>;
      expect(json).toMatchObject({ outcome: 'succeeded', steps: [{ action: 'restore', outcome: 'succeeded' }] });
      expect(json.approvals).toEqual([
        expect.objectContaining({
          step: '1.1',
          by: 'alice',
          identity: 'alice@cli.test',
          decision: 'approved',
          comment: 'CHG-1',
        }),
      ]);
      // The audit trail: who started (this process) and who approved, as the server recorded them.
      expect(json.audit).toEqual([
        expect.objectContaining({ event: 'started', identity: cliIdentity() }),
        expect.objectContaining({ event: 'approved', step: '1.1', by: 'alice', identity: 'alice@cli.test' }),
      ]);
      expect(h.sim.counters().jobs.filter((j) => j.kind === 'restore' && j.appliance === 'vc-2')).toHaveLength(1);
      // Decisions on a run that has ended: invalid.
      const late = await cliAs('alice@cli.test', ['approve', id, '--step', '1.1', '--by', 'alice', ...server]);
      expect(late.code).toBe(2);
      expect(late.err).toContain('has ended (COMPLETED)');
      const md = await cli(['report', id, ...server]);
      expect(md.out).toContain('# Runbook cli-restore: Succeeded');
    });
  });

  it('a failing run: run --wait --json exits 1 with the report JSON (step outcome, error, skipped stage)', async () => {
    h.sim.faults.add({
      product: 'vcenter',
      appliance: 'vc-1',
      operation: 'backupJobCreate',
      action: { kind: 'jobFailed' },
    });
    const id = `cli-failing-${Date.now()}`;
    const r = await cli(['run', failingFile, '--wait', '--json', '--id', id, '--task-queue', h.taskQueue, ...server]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`as workflow ${id}`);
    expect(r.err).toContain('vmware-dr: runbook cli-failing ended failed (1.1 vc-1: RemoteJobFailed)');
    const json = JSON.parse(r.out) as ReturnType<typeof reportJson>;
    expect(json).toMatchObject({ runbook: 'cli-failing', workflowId: id, outcome: 'failed', site: 'site-cli' });
    expect(json.startedAt).toEqual(expect.any(String));
    expect(json.endedAt).toEqual(expect.any(String));
    expect(json.steps).toEqual([
      expect.objectContaining({
        stage: 'vcenters',
        action: 'backup',
        endpoint: 'vc-1',
        product: 'vcenter',
        outcome: 'failed',
        remoteId: null,
        error: expect.objectContaining({ type: 'RemoteJobFailed', message: expect.any(String) }),
      }),
      expect.objectContaining({ stage: 'again', outcome: 'skipped', error: null, startedAt: null }),
    ]);
    expect(Object.keys(json.steps[0]!)).toEqual(
      expect.arrayContaining(['remoteId', 'startedAt', 'endedAt', 'attempts', 'error']),
    );
    expect(json.compensations).toEqual([]);
    expect(json.approvals).toEqual([]);
  });

  it('cancel: the running job is cancelled on its appliance; the report says cancelled with its compensation', async () => {
    const id = `cli-cancel-${Date.now()}`;
    const started = await cli(['run', slowFile, '--id', id, '--json', '--task-queue', h.taskQueue, ...server]);
    expect(started.code).toBe(0);
    expect(JSON.parse(started.out)).toMatchObject({ workflowId: id, taskQueue: h.taskQueue });
    await statusUntil(id, (x) => x.steps[0]?.outcome === 'running');
    for (let i = 0; i < 100 && slow.counters().jobs.length === 0; i++) await sleep(100);
    expect(slow.counters().jobs).toHaveLength(1);
    // Someone watching the run sees it end cancelled (exit 1, as run --wait would).
    const watching = cliStart(['status', id, '--watch', ...server]);
    for (let i = 0; i < 50 && !watching.out().includes('1.1 backup vc-slow'); i++) await sleep(100);
    expect(watching.out()).toContain('1.1 backup vc-slow (vcenter, stage vcenters): running');
    const r = await cli(['cancel', id, ...server]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Cancel requested for ${id}.`);
    expect(r.out).toContain('# Runbook cli-slow: Cancelled');
    expect(r.out).toMatch(/## Compensations[\s\S]*\| 1\.1 \| cancel the vcenter backup on vc-slow \| done \|/);
    expect(slow.counters().calls.vcenter?.['vc-1']?.backupJobCancel).toBe(1);
    const watched = await watching.done;
    expect(watched.code).toBe(1);
    expect(watched.out).toContain('1.1 backup vc-slow (vcenter, stage vcenters): cancelled');
    expect(watched.out).toContain('2.1 backup vc-slow (vcenter, stage after): skipped');
    expect(watched.out).toContain('# Runbook cli-slow: Cancelled');
    expect(watched.err).toContain('vmware-dr: runbook cli-slow ended cancelled');
    const json = JSON.parse((await cli(['report', id, '--format', 'json', ...server])).out) as ReturnType<
      typeof reportJson
    >;
    expect(json.outcome).toBe('cancelled');
    expect(json.steps.map((s) => s.outcome)).toEqual(['cancelled', 'skipped']);
    const again = await cli(['cancel', id, ...server]);
    expect(again.code).toBe(2);
    expect(again.err).toContain('has already ended');
  });

  it('an unknown workflow id exits 2 for every command that takes one', async () => {
    for (const args of [
      ['status', 'no-such-run'],
      ['report', 'no-such-run'],
      ['cancel', 'no-such-run'],
      ['approve', 'no-such-run', '--step', '1.1', '--by', 'alice'],
    ]) {
      const r = await cli([...args, ...server]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toContain('no runbook run with id no-such-run');
    }
  });

  it('an invalid runbook file exits 2 with the positions validate prints; nothing starts', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      stringify({
        apiVersion: 'vmware-dr/v1',
        kind: 'Runbook',
        name: 'cli-bad',
        endpoints: {},
        stages: [{ name: 'x', steps: [{ backup: 'nope' }] }],
      }),
    );
    const r = await cli(['run', bad, '--id', `cli-bad-${Date.now()}`, '--task-queue', h.taskQueue, ...server]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      new RegExp(`${bad}:\\d+:\\d+: stages\\[0\\]\\.steps\\[0\\]\\.backup: unknown endpoint "nope"`),
    );
    expect(r.err).toContain('nothing was started');
    expect(r.out).toBe('');
    const missing = await cli(['run', join(dir, 'missing.yaml'), ...server]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('cannot read');
  });
});

describe('vmware-dr without a server', () => {
  it('an unreachable server exits 3', async () => {
    const port = await closedPort();
    const saved = process.env.VMWARE_DR_CONNECT_TIMEOUT_MS;
    process.env.VMWARE_DR_CONNECT_TIMEOUT_MS = '1000';
    try {
      const r = await cli(['status', 'any', '--address', `127.0.0.1:${port}`]);
      expect(r.code).toBe(3);
      expect(r.err).toContain(`cannot reach Temporal at 127.0.0.1:${port}`);
    } finally {
      if (saved === undefined) delete process.env.VMWARE_DR_CONNECT_TIMEOUT_MS;
      else process.env.VMWARE_DR_CONNECT_TIMEOUT_MS = saved;
    }
  });

  it('--help of every command starts nothing: exit 0 fast with TEMPORAL_ADDRESS at a closed port', async () => {
    const saved = process.env.TEMPORAL_ADDRESS;
    process.env.TEMPORAL_ADDRESS = `127.0.0.1:${await closedPort()}`;
    try {
      const started = Date.now();
      for (const cmd of ['run', 'status', 'list', 'report', 'cancel', 'approve', 'reject']) {
        const r = await cli([cmd, '--help']);
        expect(r.code, cmd).toBe(0);
        expect(r.out).toContain(`Usage: vmware-dr ${cmd}`);
      }
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      if (saved === undefined) delete process.env.TEMPORAL_ADDRESS;
      else process.env.TEMPORAL_ADDRESS = saved;
    }
  });

  it('reportJson maps each step state to its outcome, with stable keys', () => {
    const report: RunbookReport = {
      runbook: 'r',
      workflowId: 'w',
      outcome: 'succeeded',
      dryRun: false,
      startedAt: '2026-01-01T00:00:00Z',
      steps: [{ id: '1.1', stage: 's', action: 'backup', endpoint: 'e', product: 'vcda', state: 'running' }],
      compensations: [],
      approvals: [],
    };
    // No endedAt: the run is still going, whatever its provisional outcome says.
    expect(reportJson(report)).toMatchObject({ outcome: 'running', endedAt: null, site: null });
    expect(reportJson(report).steps[0]).toMatchObject({ outcome: 'running', remoteId: null, error: null });
    expect(reportJson({ ...report, endedAt: '2026-01-01T00:01:00Z' }).outcome).toBe('succeeded');
  });
});
