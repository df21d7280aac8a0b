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
import { type VcenterAppliance, createJsonRpcVcenterAppliance } from '../src/simulator/vcenter/appliance';
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
    // JSON-RPC is opt-in for now (see `VcenterApplianceOptions.jsonRpc`).
    sim = await startSimulator({ vcenters: 1, jobSeconds: 1, factories: { vcenter: createJsonRpcVcenterAppliance } });
  }, 600_000);
  afterAll(async () => sim?.close());

  it.each(['jsonrpc', 'rest'] as const)('%s: backup, archives, restore validation and NotFound', async (mode) => {
    const vc = sim.info.vcenter[0]!;
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

    const calls = sim.counters().calls.vcenter?.['vc-1'] ?? {};
    if (mode === 'jsonrpc') expect(calls.jsonRpcInvoke).toBeGreaterThan(8);
    else expect(calls.systemNameList).toBe(1);
  });
});
