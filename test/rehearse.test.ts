/**
 * Rehearsals end to end: the examples/ runbooks run by the real `drRunbook` on the run's Temporal
 * server against simulated appliances named after their endpoint keys (faults, approvals, dry
 * run); `vmware-dr rehearse` exit codes and `--json`; the simulator's named appliances.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { request } from 'undici';
import { beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { main } from '../src/cli';
import { runRehearse } from '../src/cli/rehearse';
import * as RehearsalModule from '../src/rehearsal/index';
import * as WatchModule from '../src/cli/watch';
import { checkRunbookFile } from '../src/cli/runbook-file';
import { type RehearseOptions, installQuietSdkLogger, readFaultsFile, rehearse } from '../src/rehearsal/index';
import { RehearsalInputError } from '../src/rehearsal/plan';
import { startSimulator } from '../src/simulator/server';
import { approveUpdate } from '../src/contract/messages';

const examples = join(__dirname, '..', 'examples');
const example = (name: string) => join(examples, name);
const read = (name: string) => checkRunbookFile(example(name));
const siteA = () => {
  const r = read('site-a-nightly.yaml');
  if (!r.ok) throw new Error('site-a-nightly.yaml is invalid');
  return r.document;
};

/** Every rehearsal here: the run's server and workflow bundle, 1 s jobs, fast polls. */
const fast = (extra: RehearseOptions = {}): RehearseOptions => ({
  temporal: { address: inject('temporalAddress'), namespace: inject('temporalNamespace') },
  workflowBundle: { codePath: inject('workflowBundlePath') },
  jobSeconds: 1,
  pollIntervalMs: 200,
  busyRetryDelayMs: 300,
  ...extra,
});

beforeAll(() => installQuietSdkLogger());

describe('examples/', () => {
  it('every runbook example is valid; the faults example parses and names an endpoint of site-a-nightly', async () => {
    for (const file of ['site-a-nightly.yaml', 'restore-vc-mgmt.yaml', 'restore-sddc-manager.yaml']) {
      const r = read(file);
      expect(r.ok ? [] : r.problems, file).toEqual([]);
    }
    const faults = await readFaultsFile(example('faults-busy.json'));
    expect(faults).toHaveLength(1);
    expect(Object.keys((siteA() as { endpoints: object }).endpoints)).toContain(faults[0]!.appliance);
  });
});

describe('rehearse (real server, simulator)', () => {
  it('the full-site example succeeds: one remote job per step, appliances named after the endpoint keys', async () => {
    const result = await rehearse(siteA(), fast());
    const { report, rehearsal } = result;
    expect(report.outcome).toBe('succeeded');
    expect(report.steps.map((s) => [s.endpoint, s.state, s.attempts])).toEqual([
      ['sddc-a', 'succeeded', 1],
      ['vc-mgmt', 'succeeded', 1],
      ['vc-wld01', 'succeeded', 1],
      ['vcda-a', 'succeeded', 1],
    ]);
    expect(rehearsal.appliances.map((a) => [a.endpoint, a.product])).toEqual([
      ['sddc-a', 'sddc-manager'],
      ['vc-mgmt', 'vcenter'],
      ['vc-wld01', 'vcenter'],
      ['vcda-a', 'vcda'],
    ]);
    for (const a of rehearsal.appliances) expect(a.url).toMatch(new RegExp(`/${a.product}/${a.endpoint}$`));
    // Its worker enforced the credential policy generated for the simulated site.
    expect(rehearsal.policy).toEqual({
      source: 'credential policy of the simulated site of site-a-nightly (generated)',
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    // Exactly one remote job per step, on the appliance named after the step's endpoint, with the step's id.
    expect(rehearsal.remoteJobs).toHaveLength(report.steps.length);
    for (const s of report.steps)
      expect(rehearsal.remoteJobs.filter((j) => j.appliance === s.endpoint)).toEqual([
        { product: s.product, appliance: s.endpoint, kind: 'backup', id: s.remoteId },
      ]);
    expect(rehearsal.taskQueue).toMatch(/^vmware-dr-rehearsal-[0-9a-f]{8}$/);
    // Secrets reached the worker by reference only, and the references are gone afterwards.
    expect(Object.keys(process.env).filter((k) => k.startsWith('VMWARE_DR_REHEARSAL_'))).toEqual([]);
  }, 40_000);

  it('with the busy fault the run still succeeds; the busy step started on attempt 2 and the retry was told', async () => {
    const lines: string[] = [];
    const { report, rehearsal } = await rehearse(
      siteA(),
      fast({ faults: await readFaultsFile(example('faults-busy.json')), log: (l) => lines.push(l) }),
    );
    expect(report.outcome).toBe('succeeded');
    const step = report.steps.find((s) => s.endpoint === 'vc-mgmt')!;
    expect(step.attempts).toBeGreaterThan(1);
    expect(report.steps.filter((s) => s.endpoint !== 'vc-mgmt').every((s) => s.attempts === 1)).toBe(true);
    expect(rehearsal.remoteJobs.filter((j) => j.appliance === 'vc-mgmt')).toHaveLength(1);
    // The fault is announced before the run, and the wait it causes says it was injected.
    expect(lines).toContain('Injected fault: vc-mgmt backupJobCreate → error FEATURE_IN_USE (×1)');
    expect(lines.join('\n')).toMatch(
      /step 2\.1 vc-mgmt: waiting: appliance busy \(attempt 1\) \(injected by the rehearsal: vc-mgmt backupJobCreate → error FEATURE_IN_USE \(×1\)\)/,
    );
  }, 40_000);

  it('the vCenter restore example with approveAs: a freshly deployed vCenter restored from the seeded backup, the approval reported', async () => {
    const r = read('restore-vc-mgmt.yaml');
    if (!r.ok) throw new Error('invalid');
    const lines: string[] = [];
    const { report, rehearsal } = await rehearse(r.document, fast({ approveAs: 'alice', log: (l) => lines.push(l) }));
    expect(report.outcome).toBe('succeeded');
    // The simulated services restart (503s, dropped connections) is announced, and so is every retry it causes.
    expect(lines).toContain(
      'Simulated: vc-mgmt restarts its services during the restore (503 answers, dropped connections), as a real vCenter does',
    );
    for (const retry of lines.filter((l) => / attempt \d+ after: /.test(l)))
      expect(retry).toContain('after: simulated by the rehearsal: the vCenter restarts its services during a restore');
    expect(report.approvals).toEqual([expect.objectContaining({ step: '1.1', by: 'alice', decision: 'approved' })]);
    expect(report.steps[0]!.approval).toMatchObject({ by: 'alice', decision: 'approved' });
    expect(rehearsal.appliances).toEqual([
      expect.objectContaining({ endpoint: 'vc-mgmt', state: expect.stringMatching(/restore/) }),
    ]);
    expect(rehearsal.remoteJobs).toEqual([
      expect.objectContaining({ product: 'vcenter', appliance: 'vc-mgmt', kind: 'restore' }),
    ]);
  }, 40_000);

  it('the SDDC Manager restore example without approveAs waits; the printed command’s Update approves it', async () => {
    const r = read('restore-sddc-manager.yaml');
    if (!r.ok) throw new Error('invalid');
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    const client = new Client({ connection, namespace: inject('temporalNamespace') });
    let workflowId = '';
    let printed = '';
    try {
      const { report, rehearsal } = await rehearse(
        r.document,
        fast({
          onStart: (s) => (workflowId = s.workflowId),
          log: (line) => {
            if (!/waits for approval/.test(line)) return;
            printed = line;
            // What `vmware-dr approve ID --step 1.1 --by bob` sends.
            void client.workflow
              .getHandle(workflowId)
              .executeUpdate(approveUpdate, { args: [{ step: '1.1', by: 'bob' }] });
          },
        }),
      );
      expect(printed).toContain(`vmware-dr approve ${workflowId} --step 1.1 --by NAME`);
      expect(report.outcome).toBe('succeeded');
      expect(report.approvals).toEqual([expect.objectContaining({ step: '1.1', by: 'bob' })]);
      expect(rehearsal.remoteJobs).toEqual([
        expect.objectContaining({ product: 'sddc-manager', appliance: 'sddc-a', kind: 'restore' }),
      ]);
    } finally {
      await connection.close();
    }
  }, 40_000);

  it('a dry run of the restore and of the full site starts no remote job', async () => {
    const r = read('restore-vc-mgmt.yaml');
    if (!r.ok) throw new Error('invalid');
    const restore = await rehearse(r.document, fast({ dryRun: true }));
    expect(restore.report.outcome).toBe('dry-run');
    expect(restore.report.steps[0]!.plan).toMatch(/archive .*sn_vc-mgmt\.example\.com.*restore validation: applicable/);
    expect(restore.rehearsal.remoteJobs).toEqual([]);
    const site = await rehearse(siteA(), fast({ dryRun: true }));
    expect(site.report.outcome).toBe('dry-run');
    expect(site.report.steps.every((s) => s.state === 'planned')).toBe(true);
    expect(site.rehearsal.remoteJobs).toEqual([]);
  }, 40_000);

  it('vmware-dr rehearse --json with a failed vCenter job: exit 1, partial, the later stage skipped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vmware-dr-rehearse-'));
    const faults = join(dir, 'faults.yaml');
    await writeFile(
      faults,
      '- { product: vcenter, appliance: vc-wld01, operation: backupJobCreate, action: { kind: jobFailed } }\n',
    );
    let out = '';
    let err = '';
    try {
      const code = await runRehearse(
        example('site-a-nightly.yaml'),
        { faults, jobSeconds: 1, json: true },
        {
          // The module as this test loaded it (the command's own lazy `require` finds no .ts under vitest).
          rehearsal: RehearsalModule,
          watch: WatchModule,
          options: { temporal: fast().temporal, workflowBundle: fast().workflowBundle },
          stdout: (s) => (out += s),
          stderr: (s) => (err += s),
        },
      );
      expect(code, err).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const json = JSON.parse(out) as {
      outcome: string;
      steps: { endpoint: string; outcome: string; error?: { type: string } }[];
      rehearsal: { remoteJobs: { appliance: string }[] };
    };
    expect(json.outcome).toBe('partial');
    expect(Object.fromEntries(json.steps.map((s) => [s.endpoint, s.outcome]))).toEqual({
      'sddc-a': 'succeeded',
      'vc-mgmt': 'succeeded',
      'vc-wld01': 'failed',
      'vcda-a': 'skipped',
    });
    expect(json.steps.find((s) => s.endpoint === 'vc-wld01')!.error?.type).toBe('RemoteJobFailed');
    expect(json.rehearsal.remoteJobs.map((j) => j.appliance).sort()).toEqual(['sddc-a', 'vc-mgmt', 'vc-wld01']);
    // Progress went to stderr, so stdout is the JSON alone.
    expect(err).toMatch(/2\.2 backup vc-wld01 \(vcenter, stage vcenters\): failed/);
    expect(err).toContain('RemoteJobFailed');
  }, 40_000);
});

describe('rehearse input checks (nothing starts)', () => {
  it('refuses a fault naming no endpoint, a fault with the wrong product and an invalid document', async () => {
    const unknown = { operation: 'backupJobCreate', appliance: 'vc-1', action: { kind: 'jobFailed' } } as const;
    await expect(rehearse(siteA(), { faults: [unknown] })).rejects.toThrow(
      /faults\[0\]\.appliance: "vc-1" is not an endpoint of runbook site-a-nightly \(endpoints: sddc-a, vc-mgmt/,
    );
    await expect(
      rehearse(siteA(), { faults: [{ ...unknown, appliance: 'vcda-a', product: 'vcenter' }] }),
    ).rejects.toThrow(/faults\[0\]\.product: endpoint vcda-a is a vcda, not a vcenter/);
    const err = await rehearse('apiVersion: vmware-dr/v1\nkind: Runbook\nname: x\nendpoints: {}\nstages: []\n').catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RehearsalInputError);
    expect((err as RehearsalInputError).problems.map((p) => p.path)).toContain('stages');
  });

  it('vmware-dr rehearse: an invalid file exits 2 with its position; a bad flag exits 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vmware-dr-rehearse-'));
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const bad = join(dir, 'bad.yaml');
      await writeFile(
        bad,
        'apiVersion: vmware-dr/v1\nkind: Runbook\nname: bad\nendpoints: {}\nstages:\n  - { name: s, steps: [ { backup: nope } ] }\n',
      );
      expect(await main(['rehearse', bad])).toBe(2);
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toMatch(
        /bad\.yaml:6:\d+: stages\[0\]\.steps\[0\]\.backup/,
      );
      expect(await main(['rehearse', example('site-a-nightly.yaml'), '--job-seconds', 'soon'])).toBe(2);
      expect(await main(['rehearse', example('site-a-nightly.yaml'), '--approve-as', ''])).toBe(2);
      expect(await main(['rehearse', example('site-a-nightly.yaml'), '--frobnicate'])).toBe(2);
      expect(await main(['rehearse'])).toBe(2);
    } finally {
      stderr.mockRestore();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('vmware-dr rehearse --help', () => {
  it('prints its usage, options and exit codes, exits 0 and opens no port', async () => {
    const listen = vi.spyOn(Server.prototype, 'listen');
    let out = '';
    try {
      expect(await main(['rehearse', '--help'], { stdout: (s) => (out += s) })).toBe(0);
      expect(listen).not.toHaveBeenCalled();
    } finally {
      listen.mockRestore();
    }
    expect(out).toContain('Usage: vmware-dr rehearse [options] <file>');
    for (const flag of ['--dry-run', '--faults <file>', '--approve-as <name>', '--job-seconds <s>', '--json'])
      expect(out).toContain(flag);
    expect(out).toMatch(/Exit codes: 0 succeeded.*3 Temporal unreachable/);
  });
});

describe('simulator: named appliances', () => {
  it('serves each at /<product>/<name>, a vCenter in its restore stage with a seeded archive; refuses bad specs', async () => {
    const sim = await startSimulator({
      jobSeconds: 1,
      appliances: [
        { product: 'vcenter', name: 'vc-mgmt', stage: 'restore', backups: [{ location: 'nfs://nas/vcsa' }] },
        { product: 'sddc-manager', name: 'sddc-a' },
      ],
    });
    try {
      expect(sim.info.vcenter.map((v) => v.url)).toEqual([`${sim.url}/vcenter/vc-mgmt`]);
      expect(sim.info.sddcManager.map((v) => v.url)).toEqual([`${sim.url}/sddc-manager/sddc-a`]);
      const vc = sim.info.vcenter[0]!;
      const auth = `Basic ${Buffer.from(`${vc.username}:${vc.password}`).toString('base64')}`;
      const { Agent } = await import('undici');
      const { readFile } = await import('node:fs/promises');
      const dispatcher = new Agent({ connect: { ca: await readFile(sim.info.caFile!) } });
      const session = (await (
        await request(`${vc.url}/api/session`, { method: 'POST', headers: { authorization: auth }, dispatcher })
      ).body.json()) as string;
      const headers = { 'vmware-api-session-id': session, 'content-type': 'application/json' };
      const post = async (path: string, body: unknown) => {
        const res = await request(`${vc.url}${path}`, {
          method: 'POST',
          headers,
          body: JSON.stringify(body),
          dispatcher,
        });
        return { status: res.statusCode, body: (await res.body.json()) as unknown };
      };
      expect(
        await post('/api/appliance/recovery/backup/system-name?action=list', { location: 'nfs://nas/vcsa' }),
      ).toEqual({
        status: 200,
        body: ['vc-mgmt.sim.local'],
      });
      // The restore stage: a backup is refused (only a restore is allowed before firstboot).
      const backup = await post('/api/appliance/recovery/backup/job', {
        parts: ['common'],
        location_type: 'NFS',
        location: 'nfs://nas/vcsa',
      });
      expect(backup.status).toBeGreaterThanOrEqual(400);
      expect(JSON.stringify(backup.body)).toMatch(/NOT_ALLOWED_IN_CURRENT_STATE|waiting for a restore/i);
      expect(sim.counters().calls.vcenter?.['vc-mgmt']).toBeDefined();
      await dispatcher.close();
    } finally {
      await sim.close();
    }
    await expect(startSimulator({ appliances: [{ product: 'vcda', name: 'x', stage: 'restore' }] })).rejects.toThrow(
      /appliances\[0\]: stage apply to vCenter appliances only/,
    );
    await expect(
      startSimulator({
        appliances: [
          { product: 'vcenter', name: 'a' },
          { product: 'vcenter', name: 'a' },
        ],
      }),
    ).rejects.toThrow(/two appliances at \/vcenter\/a/);
    await expect(startSimulator({ appliances: [{ product: 'vcenter', name: 'a/b' }] })).rejects.toThrow(
      /appliances\[0\]\.name/,
    );
  });
});
