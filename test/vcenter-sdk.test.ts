/**
 * VMware's own Python vSphere Automation SDK (`vmware-vcenter` 9.1.1.0, unchanged) drives the
 * simulated vCenter over HTTPS, in both of its wires: vAPI JSON-RPC (`POST /api`, its default)
 * and its REST connector (the `/rest` form, GET inputs in a JSON body). The script
 * (`test/support/vcenter-sdk/drive.py`) logs in, runs a backup to SUCCEEDED, lists system names
 * and archives, gets an archive, validates a restore and reads an unknown job (NotFound); this
 * test checks what it printed against the simulator's own state. The SDK is pip-installed into
 * `<tmpdir>/vmware-dr-vcenter-sdk/venv` on first use (kept afterwards); no PyPI fails the test.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../src/simulator/server';
import type { VcenterAppliance } from '../src/simulator/vcenter/appliance';
import { sdkPython } from './support/vcenter-sdk/venv';

const DRIVE = path.join(__dirname, 'support', 'vcenter-sdk', 'drive.py');

interface Drive {
  mode: string;
  sessionUser: string | null;
  created: { id: string; state: string };
  finished: { id: string; state: string; progress: number; endTime: string | null };
  jobList: string[];
  details: Record<string, { status: string; location: string }>;
  systemNames: string[];
  archives: { archive: string; comment: string }[];
  archive: { location: string; systemName: string; parts: string[] };
  validate: { applicable: boolean; boxname: string; warnings: string[] };
  notFound: { type: string; message: string } | null;
}

/** Runs drive.py; its JSON output, or an error with its stderr. */
function drive(python: string, mode: string, input: object): Promise<Drive> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [DRIVE, mode], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`drive.py ${mode} exited ${code}:\n${err.slice(-3000)}`));
      resolve(JSON.parse(out) as Drive);
    });
    child.stdin.end(JSON.stringify(input));
  });
}

describe("VMware's vSphere Automation SDK against the simulated vCenter", () => {
  let sim: Simulator;
  let python: string;

  beforeAll(async () => {
    const venv = await sdkPython((line) => process.stderr.write(`${line}\n`));
    python = venv.python;
    process.stderr.write(`[vcenter-sdk] venv ready in ${venv.setupMs} ms\n`);
    // The simulator as `vmware-dr simulator` starts it: JSON-RPC is served by default.
    sim = await startSimulator({ vcenters: 1, jobSeconds: 1 });
  }, 600_000);
  afterAll(async () => sim?.close());

  it.each(['jsonrpc', 'rest'] as const)('%s: backup, archives, restore validation and NotFound', async (mode) => {
    const vc = sim.info.vcenter[0]!;
    const before = sim.counters().calls.vcenter?.['vc-1'] ?? {};
    const location = `sftp://backup.example.test/sdk/${mode}`;
    const r = await drive(python, mode, { ...vc, caFile: sim.info.caFile, location });
    const appliance = sim.appliance('vcenter', 'vc-1') as VcenterAppliance;
    const job = appliance.jobs.get(r.created.id);

    expect(job?.location).toBe(location);
    expect(job?.comment).toBe(`sdk ${mode}`);
    expect(r.created.state).toBe('INPROGRESS');
    expect(r.finished).toMatchObject({ id: r.created.id, state: 'SUCCEEDED', progress: 100 });
    expect(r.finished.endTime).toBeTruthy();
    expect(r.jobList).toContain(r.created.id);
    expect(r.details).toEqual({ [r.created.id]: { status: 'SUCCEEDED', location } });
    expect(r.systemNames).toEqual([appliance.systemName]);
    expect(r.archives).toHaveLength(1);
    expect(r.archives[0]!.comment).toBe(`sdk ${mode}`);
    expect(r.archive.location).toBe(`${location}/vCenter/sn_${appliance.systemName}/${r.archives[0]!.archive}`);
    expect(r.archive).toMatchObject({ systemName: appliance.systemName, parts: ['common'] });
    // A running appliance: the backup validates, but a restore is not applicable now.
    expect(r.validate.boxname).toBe(appliance.systemName);
    expect(r.validate.applicable).toBe(false);
    expect(r.validate.warnings.join('\n')).toMatch(/Enhanced Linked Mode/);
    expect(r.notFound).toEqual({ type: 'NotFound', message: 'Backup job no-such-job not found.' });
    if (mode === 'jsonrpc') expect(r.sessionUser).toBe('VSPHERE.LOCAL\\administrator');

    // Both modes are counted as the operations they call (what fault rules target), not as a transport.
    const calls = sim.counters().calls.vcenter?.['vc-1'] ?? {};
    const delta = (op: string) => (calls[op] ?? 0) - (before[op] ?? 0);
    expect(delta('systemNameList')).toBe(1);
    expect(delta('backupJobCreate')).toBe(1);
    expect(delta('jsonRpcInvoke')).toBe(0);
  });

  it('a fault rule for an operation hits its JSON-RPC call too', async () => {
    const vc = sim.info.vcenter[0]!;
    const { Agent, request } = await import('undici');
    const { readFile } = await import('node:fs/promises');
    const dispatcher = new Agent({ connect: { ca: await readFile(sim.info.caFile!, 'utf8') } });
    const invoke = async (serviceId: string, operationId: string, securityCtx: object) => {
      const res = await request(`${vc.url}/api`, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          method: 'invoke',
          id: '1',
          params: { serviceId, operationId, input: { STRUCTURE: { 'operation-input': {} } }, ctx: { securityCtx } },
        }),
      });
      return { status: res.statusCode, body: (await res.body.json()) as { result?: { output?: unknown } } };
    };
    const login = await invoke('com.vmware.cis.session', 'create', {
      schemeId: 'com.vmware.vapi.std.security.user_pass',
      userName: vc.username,
      password: vc.password,
    });
    expect(login.status).toBe(200);
    const session = { schemeId: 'com.vmware.vapi.std.security.session_id', sessionId: login.body.result?.output };
    sim.faults.add({ product: 'vcenter', operation: 'backupJobList', action: { kind: 'status', status: 503 } });
    const list = (serviceId: string) => invoke(serviceId, 'list', session);
    expect((await list('com.vmware.appliance.recovery.backup.job')).status).toBe(503);
    expect((await list('com.vmware.appliance.recovery.backup.job')).status).toBe(200);
    await dispatcher.close();
  });
});
