/**
 * The commands a user runs: `vmware-dr worker` (connection from Temporal's environment
 * configuration) and `npm run demo` (the README's first quick-start command).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { describe, expect, inject, it } from 'vitest';
import { startSimulator } from '../src/simulator/server';

const root = join(__dirname, '..');
const cli = (args: string[], env: NodeJS.ProcessEnv) =>
  spawn(process.execPath, ['--require', 'tsx/cjs', join(root, 'src', 'cli.ts'), ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });

describe('commands', () => {
  it('the vmware-dr bin prints its usage', async () => {
    const child = spawn(process.execPath, [join(root, 'bin', 'vmware-dr.js'), '--help'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(out).toMatch(/^Usage: vmware-dr <command>/);
    for (const command of ['demo', 'simulator', 'worker', 'temporal install']) expect(out).toContain(`  ${command}`);
  }, 60_000);

  it('vmware-dr worker: connects from TEMPORAL_ADDRESS/TEMPORAL_NAMESPACE, serves VMWARE_DR_TASK_QUEUE, stops on SIGTERM', async () => {
    const sim = await startSimulator({ vcenters: 1, jobSeconds: 1, http: true });
    const taskQueue = `worker-cmd-${Date.now()}`;
    const vc = sim.info.vcenter[0]!;
    const child = cli(['worker'], {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: inject('temporalNamespace'),
      VMWARE_DR_TASK_QUEUE: taskQueue,
      VMWARE_DR_POLL_INTERVAL_MS: '200',
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
        args: [{ endpoint: { url: vc.url, allowHttp: true, username: vc.username, passwordRef: 'env:CMD_VC_PASSWORD' }, backup: { locationType: 'NFS', location: 'nfs://n/cmd' } }],
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
    }
  }, 90_000);

  it('vmware-dr worker: a bad setting fails with the variable named', async () => {
    const child = cli(['worker'], { TEMPORAL_ADDRESS: inject('temporalAddress'), VMWARE_DR_POLL_INTERVAL_MS: 'soon' });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(err).toContain('VMWARE_DR_POLL_INTERVAL_MS must be a positive number');
  }, 60_000);

  it('npm run demo: dev server + simulator + worker + one backup, exit 0, nothing left running', async () => {
    const child = cli(['demo'], { VMWARE_DR_DEMO_JOB_SECONDS: '2', TEMPORAL_ADDRESS: '' });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = await once(child, 'exit');
    expect(out).toMatch(/Web UI http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toMatch(/pollVcenterBackup: INPROGRESS \[[#.]{20}\] \d+%/);
    expect(out).toMatch(/Backup finished: job \d{8}-\d{6}-\d+ SUCCEEDED/);
    expect(out).toContain('Simulator saw 1 backup job(s) created.');
    expect(code).toBe(0);
    // The dev server and the simulator it started are gone.
    const ports = [/Temporal: 127\.0\.0\.1:(\d+)/, /Simulated vCenter: https:\/\/127\.0\.0\.1:(\d+)/].map((re) => Number(re.exec(out)?.[1]));
    for (const port of ports) {
      expect(port).toBeGreaterThan(0);
      const refused = await new Promise<boolean>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port });
        socket.once('connect', () => (socket.destroy(), resolve(false)));
        socket.once('error', () => resolve(true));
      });
      expect(refused).toBe(true);
    }
  }, 120_000);
});
