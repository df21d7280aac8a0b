/**
 * The command line (parsing, help, usage errors) and the commands a user runs: `vmware-dr worker` (connection from Temporal's environment
 * configuration) and `npm run demo` (the README's first quick-start command).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Server, connect } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { type MockInstance, afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { main } from '../src/cli';
import { startSimulator } from '../src/simulator/server';
import { simulatorPolicy, writeTempPolicy } from './support/policy';

const root = join(__dirname, '..');
const cli = (args: string[], env: NodeJS.ProcessEnv) =>
  spawn(process.execPath, ['--require', 'tsx/cjs', join(root, 'src', 'cli', 'index.ts'), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

/** Runs the program in this process, capturing what it writes. */
async function runMain(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

describe('vmware-dr command line (parsing only)', () => {
  const commands = [['demo'], ['simulator'], ['worker'], ['temporal'], ['temporal', 'install']];
  let listen: MockInstance<Server['listen']>;
  beforeEach(() => {
    listen = vi.spyOn(Server.prototype, 'listen');
  });
  afterEach(() => listen.mockRestore());

  it.each(commands)('%s … --help prints its help, exits 0 and opens no port', async (...command: string[]) => {
    const started = Date.now();
    for (const help of [
      [...command, '--help'],
      [...command, '-h'],
      [...command.slice(0, -1), 'help', ...command.slice(-1)],
    ]) {
      const { code, out, err } = await runMain(help);
      expect(code, help.join(' ')).toBe(0);
      expect(err).toBe('');
      expect(out).toContain(`Usage: vmware-dr ${command.join(' ')} [options]`);
    }
    expect(listen).not.toHaveBeenCalled();
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('vmware-dr alone and --help list every command', async () => {
    for (const argv of [[], ['--help']]) {
      const { code, out } = await runMain(argv);
      expect(code).toBe(0);
      for (const command of ['demo', 'simulator', 'worker', 'temporal'])
        expect(out).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
  });

  it('--version and -V print the package version', async () => {
    expect(await runMain(['--version'])).toEqual({ code: 0, out: `${version}\n`, err: '' });
    expect((await runMain(['-V'])).out).toBe(`${version}\n`);
  });

  it.each(commands)('%s … refuses an unknown flag with exit 2, naming it', async (...command: string[]) => {
    const { code, out, err } = await runMain([...command, '--frobnicate']);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toContain("unknown option '--frobnicate'");
    expect(listen).not.toHaveBeenCalled();
  });

  it('refuses an unknown command, a stray argument, a missing subcommand and a bad flag value with exit 2', async () => {
    expect(await runMain(['backup-everything'])).toMatchObject({
      code: 2,
      err: expect.stringContaining("unknown command 'backup-everything'"),
    });
    expect(await runMain(['worker', 'extra'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('too many arguments'),
    });
    expect((await runMain(['temporal'])).code).toBe(2);
    expect(await runMain(['simulator', '--vcenters', 'two'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('--vcenters must be a whole number ≥ 0, got "two"'),
    });
    expect(await runMain(['simulator', '--job-seconds', '-1'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('--job-seconds must be a number of seconds ≥ 0'),
    });
    expect(await runMain(['simulator', '--port'])).toMatchObject({
      code: 2,
      err: expect.stringContaining("option '--port <n>' argument missing"),
    });
    expect(await runMain(['simulator', '--http', '--cert-name', 'sim'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('--cert-name needs HTTPS'),
    });
    expect(listen).not.toHaveBeenCalled();
  });
});

describe('commands', () => {
  it('the vmware-dr bin prints its usage and version', async () => {
    const run = async (args: string[]) => {
      const child = spawn(process.execPath, [join(root, 'bin', 'vmware-dr.js'), ...args], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const [code] = await once(child, 'exit');
      return { code, out };
    };
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: vmware-dr <command> \[options\]/);
    for (const command of ['demo', 'simulator', 'worker', 'temporal'])
      expect(help.out).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    expect(await run(['--version'])).toEqual({ code: 0, out: `${version}\n` });
  }, 60_000);

  it('worker --help and simulator --help in a real process print help and exit 0 at once, starting nothing', async () => {
    for (const command of ['worker', 'simulator']) {
      // With a reachable server, a worker that started would keep running until the test times out.
      const child = cli([command, '--help'], { TEMPORAL_ADDRESS: inject('temporalAddress') });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
      expect(out).toContain(`Usage: vmware-dr ${command} [options]`);
    }
  }, 60_000);

  it('vmware-dr worker: connects from TEMPORAL_ADDRESS/TEMPORAL_NAMESPACE, serves VMWARE_DR_TASK_QUEUE, stops on SIGTERM', async () => {
    const sim = await startSimulator({ vcenters: 1, jobSeconds: 1, http: true });
    const taskQueue = `worker-cmd-${Date.now()}`;
    const vc = sim.info.vcenter[0]!;
    // The simulated site's credential policy (plain http allowed: the simulator runs without TLS here).
    const policy = await writeTempPolicy(
      simulatorPolicy({
        url: sim.url,
        login: ['env:CMD_VC_PASSWORD'],
        locations: [{ name: 'nfs', url: 'nfs://n/cmd' }],
        allowHttp: true,
      }),
    );
    const child = cli(['worker'], {
      VMWARE_DR_POLICY: policy.file,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: inject('temporalNamespace'),
      VMWARE_DR_TASK_QUEUE: taskQueue,
      VMWARE_DR_POLL_INTERVAL_MS: '200',
      VMWARE_DR_METRICS_PORT: '0',
      CMD_VC_PASSWORD: vc.password,
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    try {
      const client = new Client({ connection, namespace: inject('temporalNamespace') });
      const result = await client.workflow.execute('vcenterBackup', {
        taskQueue,
        workflowId: taskQueue,
        args: [
          {
            endpoint: { url: vc.url, allowHttp: true, username: vc.username, passwordRef: 'env:CMD_VC_PASSWORD' },
            backup: { locationType: 'NFS', location: 'nfs://n/cmd' },
          },
        ],
      });
      expect(result).toMatchObject({ state: 'SUCCEEDED' });
      expect(out).toContain(`task queue ${taskQueue}`);
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await connection.close();
      await sim.close();
      await policy.cleanup();
    }
  }, 90_000);

  it('vmware-dr worker: a bad setting fails with the variable named', async () => {
    const child = cli(['worker'], { TEMPORAL_ADDRESS: inject('temporalAddress'), VMWARE_DR_POLL_INTERVAL_MS: 'soon' });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(err).toContain('VMWARE_DR_POLL_INTERVAL_MS: a whole number of milliseconds 1–1500000, got "soon"');
  }, 60_000);

  it('npm run demo: dev server with UI, the full-site rehearsal with a busy retry, an approved restore, exit 0, nothing left running', async () => {
    const started = Date.now();
    const child = cli(['demo'], { VMWARE_DR_DEMO_JOB_SECONDS: '1', TEMPORAL_ADDRESS: '' });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = await once(child, 'exit');
    expect(out).toMatch(/Web UI http:\/\/127\.0\.0\.1:\d+/);
    // The busy answer, retried visibly, and the report of the full site.
    expect(out).toMatch(/step 2\.1 vc-mgmt: waiting: appliance busy \(attempt 1\)/);
    expect(out).toContain('# Runbook site-a-nightly: Succeeded');
    expect(out).toMatch(
      /\| 2\.1 \| vcenters \| backup \| vc-mgmt \| vcenter \| succeeded \(2 attempts\) \| \d{8}-\d{6}-\d+ \|/,
    );
    expect(out).toContain('Simulator saw 4 remote job(s)');
    expect(out).toContain('Step 2.1 (vc-mgmt) started its job on attempt 2.');
    // The restore waited for approval and the demo granted it through the Update.
    expect(out).toMatch(/step 1\.1 \(restore vc-mgmt\) waits for approval; approving as demo-operator/);
    expect(out).toContain('# Runbook restore-vc-mgmt: Succeeded');
    expect(out).toMatch(/\| 1\.1 \| approved \| demo-operator \|/);
    expect(code, out).toBe(0);
    expect(Date.now() - started).toBeLessThan(120_000);
    // The dev server, its UI and the simulators it started are gone.
    const ports = [
      /Temporal: 127\.0\.0\.1:(\d+)/,
      /Web UI http:\/\/127\.0\.0\.1:(\d+)/,
      /Simulated appliances: sddc-a https:\/\/127\.0\.0\.1:(\d+)/,
      /Simulated appliances: vc-mgmt https:\/\/127\.0\.0\.1:(\d+)/,
    ].map((re) => Number(re.exec(out)?.[1]));
    for (const port of ports) {
      expect(port).toBeGreaterThan(0);
      const refused = await new Promise<boolean>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port });
        socket.once('connect', () => (socket.destroy(), resolve(false)));
        socket.once('error', () => resolve(true));
      });
      expect(refused).toBe(true);
    }
  }, 150_000);
});
