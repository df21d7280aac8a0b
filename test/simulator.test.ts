import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { type Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import type { SimulatorInfo } from '../src/simulator/server';
import { startSimulator } from '../src/simulator/server';
import { VcenterClient } from '../src/vcenter/client';
import { Secret } from '../src/secrets';
import { createDispatcher } from '../src/tls';

const root = join(__dirname, '..');

/** Starts `vmware-dr simulator` from source; resolves with its one JSON line. */
async function startCli(args: string[]): Promise<{ child: ChildProcessByStdio<null, Readable, Readable>; info: SimulatorInfo; stderr: () => string }> {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', join(root, 'src', 'cli.ts'), 'simulator', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const lines = createInterface({ input: child.stdout });
  const first = await Promise.race([
    once(lines, 'line').then(([line]) => line as string),
    once(child, 'exit').then(([code]) => {
      throw new Error(`simulator exited ${code}: ${err}`);
    }),
  ]);
  return { child, info: JSON.parse(first) as SimulatorInfo, stderr: () => err };
}

async function json(url: string, init: { method?: string; body?: unknown; dispatcher?: Agent } = {}): Promise<{ status: number; body: unknown }> {
  const res = await request(url, {
    method: (init.method ?? 'GET') as 'GET',
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
    dispatcher: init.dispatcher,
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
}

describe('vmware-dr simulator (the command)', () => {
  const children: { kill: (s: NodeJS.Signals) => boolean }[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  it('prints one JSON line with every appliance, serves HTTPS with its CA, counts calls, stops on SIGTERM', async () => {
    const { child, info } = await startCli(['--vcenters', '3', '--job-seconds', '1']);
    children.push(child);
    expect(Object.keys(info).sort()).toEqual(['admin', 'caFile', 'sddcManager', 'vcda', 'vcenter']);
    expect(info.vcenter).toHaveLength(3);
    expect(info.sddcManager).toEqual([]);
    expect(info.vcda).toEqual([]);
    for (const vc of info.vcenter) {
      expect(vc.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/vcenter\/vc-\d$/);
      expect(Object.keys(vc).sort()).toEqual(['caFile', 'password', 'url', 'username']);
    }
    const dispatcher = createDispatcher({ tls: { caFile: info.caFile } });
    // Appliances keep separate state: a backup on vc-2 does not make vc-3 busy.
    const clients = info.vcenter.map((vc) => new VcenterClient({ url: vc.url, dispatcher, apiForm: 'api', credentials: async () => ({ username: vc.username, password: new Secret(vc.password) }) }));
    const req = { parts: [], location_type: 'SFTP' as const, location: 'sftp://b/x', comment: 'cli test' };
    await clients[1]!.backupJobCreate(req);
    await clients[2]!.backupJobCreate(req);
    const counters = await json(`${info.admin}/counters`, { dispatcher });
    expect(counters.status).toBe(200);
    const body = counters.body as { calls: Record<string, Record<string, Record<string, number>>>; jobs: { appliance: string; label: string }[] };
    expect(body.calls.vcenter?.['vc-2']?.backupJobCreate).toBe(1);
    expect(body.calls.vcenter?.['vc-3']?.backupJobCreate).toBe(1);
    expect(body.calls.vcenter?.['vc-1']).toBeUndefined();
    expect(body.jobs.map((j) => j.appliance).sort()).toEqual(['vc-2', 'vc-3']);
    expect(body.jobs[0]?.label).toBe('cli test');
    await dispatcher.close();
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('arms faults from a YAML file and rejects a bad one naming the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'faults-'));
    const good = join(dir, 'faults.yaml');
    await writeFile(good, '- product: vcenter\n  appliance: vc-1\n  operation: backupJobCreate\n  count: 2\n  action: { kind: error, error: FEATURE_IN_USE }\n');
    const { child, info } = await startCli(['--http', '--faults', good]);
    children.push(child);
    expect(info.caFile).toBeUndefined();
    expect(info.vcenter[0]!.url).toMatch(/^http:\/\//);
    const faults = await json(`${info.admin}/faults`);
    expect(faults.body).toEqual([expect.objectContaining({ operation: 'backupJobCreate', remaining: 2 })]);
    child.kill('SIGTERM');
    await once(child, 'exit');

    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, '- operation: backupJobCreate\n  action: { kind: explode }\n');
    await expect(startCli(['--http', '--faults', bad])).rejects.toThrow(/entry 0: fault\.action\.kind: one of error, status/);
    await expect(startCli(['--http', '--vcenters', 'two'])).rejects.toThrow(/--vcenters must be a whole number/);
  });
});

describe('simulator admin endpoint', () => {
  it('arms, lists and clears faults; resets counters; rejects bad input with the field named', async () => {
    const sim = await startSimulator({ http: true, vcenters: 2 });
    try {
      const vc = sim.info.vcenter[1]!;
      const client = new VcenterClient({ url: vc.url, apiForm: 'api', credentials: async () => ({ username: vc.username, password: new Secret(vc.password) }) });
      const armed = await json(`${sim.info.admin}/faults`, { method: 'POST', body: { appliance: 'vc-2', operation: 'backupJobList', count: 1, action: { kind: 'status', status: 503 } } });
      expect(armed.status).toBe(201);
      await expect(client.backupJobList()).rejects.toMatchObject({ name: 'ServiceUnavailable', httpStatus: 503 });
      await expect(client.backupJobList()).resolves.toEqual([]);
      const bad = await json(`${sim.info.admin}/faults`, { method: 'POST', body: { operation: 'x', action: { kind: 'error' } } });
      expect(bad).toEqual({ status: 400, body: { error: expect.stringContaining('fault.action.error') } });
      expect((await json(`${sim.info.admin}/counters`)).body).toMatchObject({ calls: { vcenter: { 'vc-2': { backupJobList: 2, sessionCreate: 1 } } } });
      expect((await json(`${sim.info.admin}/counters`, { method: 'DELETE' })).status).toBe(204);
      expect((await json(`${sim.info.admin}/counters`)).body).toEqual({ calls: {}, jobs: [] });
      await json(`${sim.info.admin}/faults`, { method: 'POST', body: [{ operation: '*', action: { kind: 'reset' } }] });
      expect((await json(`${sim.info.admin}/faults`, { method: 'DELETE' })).status).toBe(204);
      expect((await json(`${sim.info.admin}/faults`)).body).toEqual([]);
      expect((await json(`${sim.info.admin}/appliances/vcenter/vc-9`, { method: 'POST', body: {} })).status).toBe(404);
      expect(await json(`${sim.info.admin}/appliances/vcenter/vc-2`, { method: 'POST', body: { stage: 'restore' } })).toEqual({ status: 200, body: { stage: 'restore', restartingServices: false } });
      expect(await json(`${sim.info.admin}/appliances/vcenter/vc-2`, { method: 'POST', body: { stage: 'sideways' } })).toEqual({ status: 400, body: { error: 'stage must be "restore" or "running"' } });
      // A fault on a legacy /rest route answers the legacy error body.
      sim.faults.add({ appliance: 'vc-1', operation: 'sessionCreate', action: { kind: 'error', error: 'SERVICE_UNAVAILABLE' } });
      expect(await json(`${sim.info.vcenter[0]!.url}/rest/com/vmware/cis/session`, { method: 'POST' })).toMatchObject({
        status: 503,
        body: { type: 'com.vmware.vapi.std.errors.service_unavailable', value: { messages: [expect.objectContaining({ default_message: 'injected SERVICE_UNAVAILABLE' })] } },
      });
      expect((await json(`${sim.url}/vcenter/vc-9/api/session`, { method: 'POST' })).status).toBe(404);
    } finally {
      await sim.close();
    }
  });
});
