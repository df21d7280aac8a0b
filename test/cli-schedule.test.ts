/**
 * `vmware-dr schedule …` and `vmware-dr freshness` end to end: the real program (`main`) in
 * process, against the test run's Temporal dev server, with a simulated vCenter and a worker on
 * a unique task queue making the triggered runs and the freshness checks real.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScheduleNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { main } from '../src/cli/index';
import type { FreshnessResult } from '../src/contract/freshness';
import type { RunbookReport } from '../src/contract/runbook/report';
import { simulatedEndpoint } from './support/endpoints';
import { type Harness, createHarness } from './support/harness';

const ESC = String.fromCharCode(27);

describe('vmware-dr schedule / freshness (real server, simulator)', () => {
  let h: Harness;
  let dir: string;
  /** Backs up vc-1. */
  let nightly: string;
  /** Checks vc-1 (backed up by the triggered run) and vc-2 (never backed up). */
  let twoVcenters: string;
  const created = new Set<string>();
  const id = (what: string) => `cli-${what}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`;

  /** Runs one command line against the test server; resolves with its exit code and output. */
  async function cli(args: string[], server = true): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const conn = server ? ['--address', inject('temporalAddress'), '--namespace', inject('temporalNamespace')] : [];
    const code = await main([...args, ...conn], { stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
    return { code, out, err };
  }

  /** Asserts a command succeeded, showing its stderr when not. */
  function ok(r: { code: number; out: string; err: string }): { code: number; out: string; err: string } {
    expect(r.err, 'stderr').toBe('');
    expect(r.code).toBe(0);
    return r;
  }

  const exists = (scheduleId: string) =>
    h.env.client.schedule
      .getHandle(scheduleId)
      .describe()
      .then(
        () => true,
        (e: unknown) => {
          if (e instanceof ScheduleNotFoundError) return false;
          throw e;
        },
      );

  beforeAll(async () => {
    h = await createHarness({ vcenters: 2, jobSeconds: 1 });
    const [v1, v2] = h.sim.info.vcenter;
    process.env.CLI_SCH_VC1_PASSWORD = v1!.password;
    process.env.CLI_SCH_VC2_PASSWORD = v2!.password;
    dir = mkdtempSync(join(tmpdir(), 'vmware-dr-cli-schedule-'));
    const endpoint = (v: typeof v1, n: number) =>
      `  vc-${n}: { product: vcenter, url: "${v!.url}", username: "${v!.username}", passwordRef: env:CLI_SCH_VC${n}_PASSWORD, tls: { caFile: "${h.sim.info.caFile!}" } }`;
    const head = (name: string) =>
      [
        'apiVersion: vmware-dr/v1',
        'kind: Runbook',
        `name: ${name}`,
        'site: site-c',
        'defaults: { pollInterval: 100ms }',
        'endpoints:',
        endpoint(v1, 1),
        endpoint(v2, 2),
        'locations:',
        '  sftp-c: { type: SFTP, url: "sftp://backup.example.com/cli" }',
        'stages:',
      ].join('\n');
    nightly = join(dir, 'nightly.yaml');
    writeFileSync(nightly, `${head('cli-nightly')}\n  - { name: vcenter, steps: [ { backup: vc-1, to: sftp-c } ] }\n`);
    twoVcenters = join(dir, 'two.yaml');
    writeFileSync(
      twoVcenters,
      `${head('cli-two')}\n  - { name: vcenter, steps: [ { backup: vc-1, to: sftp-c }, { backup: vc-2, to: sftp-c } ] }\n`,
    );
  });

  afterAll(async () => {
    for (const s of created)
      await h?.env.client.schedule
        .getHandle(s)
        .delete()
        .catch(() => undefined);
    delete process.env.CLI_SCH_VC1_PASSWORD;
    delete process.env.CLI_SCH_VC2_PASSWORD;
    if (dir) rmSync(dir, { recursive: true, force: true });
    await h?.close();
  });

  it('create --every, list, describe, pause/unpause, trigger a real run, delete', async () => {
    const scheduleId = id('life');
    created.add(scheduleId);
    const c = await cli([
      'schedule',
      'create',
      nightly,
      '--every',
      '24h',
      '--id',
      scheduleId,
      '--task-queue',
      h.taskQueue,
      '--note',
      'from the CLI test',
      '--json',
    ]);
    expect(c.err).toBe('');
    expect(c.code).toBe(0);
    expect(JSON.parse(c.out)).toMatchObject({
      scheduleId,
      workflowType: 'drRunbook',
      what: 'runbook',
      runbook: 'cli-nightly',
      site: 'site-c',
      spec: 'every 1d',
      taskQueue: h.taskQueue,
      policies: { overlap: 'SKIP', catchupWindow: 3_600_000, pauseOnFailure: true },
      paused: false,
      note: 'from the CLI test',
      recentRuns: [],
    });

    // The list comes from the server's visibility store: the new schedule shows up within seconds.
    let list: { code: number; out: string; err: string } | undefined;
    for (let i = 0; i < 50; i++) {
      list = await cli(['schedule', 'list']);
      if (list.out.includes(scheduleId)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(list!.code).toBe(0);
    const line = list!.out.split('\n').find((l) => l.includes(scheduleId))!;
    expect(line).toMatch(/cli-nightly .*site-c .*runbook .*every 1d .*no .*\d{4}-\d\d-\d\dT.*\(in \d+[hms]/);
    expect(list!.out.split('\n')[1]).toMatch(/id .*runbook .*site .*runs .*when .*paused .*next run .*last run/);
    const listJson = JSON.parse((await cli(['schedule', 'list', '--json'])).out) as { scheduleId: string }[];
    expect(listJson.find((s) => s.scheduleId === scheduleId)).toMatchObject({
      runbook: 'cli-nightly',
      site: 'site-c',
      paused: false,
      nextRunAt: expect.any(String),
    });

    const d = await cli(['schedule', 'describe', scheduleId]);
    expect(d.code).toBe(0);
    expect(d.out).toMatch(/runbook of cli-nightly \(site site-c\)/);
    expect(d.out).toMatch(/overlap SKIP, catch-up window 1h, pauses on failure/);

    ok(await cli(['schedule', 'pause', scheduleId, '--note', 'maintenance']));
    expect(JSON.parse((await cli(['schedule', 'describe', scheduleId, '--json'])).out)).toMatchObject({
      paused: true,
      note: 'maintenance',
    });
    ok(await cli(['schedule', 'unpause', scheduleId]));
    expect((await h.env.client.schedule.getHandle(scheduleId).describe()).state.paused).toBe(false);

    // trigger starts a real drRunbook run that backs up vc-1 on the simulator.
    h.sim.resetCounters();
    const report = await h.withWorker(async () => {
      const t = await cli(['schedule', 'trigger', scheduleId]);
      expect(t.code).toBe(0);
      let runs: { workflowId: string; runId: string }[] = [];
      for (let i = 0; i < 150 && runs.length === 0; i++) {
        runs = (JSON.parse((await cli(['schedule', 'describe', scheduleId, '--json'])).out) as { recentRuns: [] })
          .recentRuns;
        if (!runs.length) await new Promise((r) => setTimeout(r, 200));
      }
      expect(runs).toHaveLength(1);
      expect(runs[0]!.workflowId.startsWith(`${scheduleId}-`)).toBe(true);
      return (await h.env.client.workflow.getHandle(runs[0]!.workflowId).result()) as RunbookReport;
    });
    expect(report.outcome).toBe('succeeded');
    expect(h.sim.counters().jobs.filter((j) => j.kind === 'backup')).toHaveLength(1);
    const after = await cli(['schedule', 'describe', scheduleId]);
    expect(after.out).toMatch(new RegExp(`last run .*${scheduleId}-`));

    const del = await cli(['schedule', 'delete', scheduleId]);
    expect(del.code).toBe(0);
    expect(await exists(scheduleId)).toBe(false);
    created.delete(scheduleId);
    // A dozen CLI runs and a real runbook: more than the default minute on a loaded CI machine.
  }, 120_000);

  it('an unknown id is exit 2 for describe, pause, unpause, trigger and delete', async () => {
    for (const cmd of ['describe', 'pause', 'unpause', 'trigger', 'delete']) {
      const r = await cli(['schedule', cmd, 'no-such-schedule']);
      expect(r.code, cmd).toBe(2);
      expect(r.err).toMatch(/no schedule with id no-such-schedule in namespace/);
    }
  });

  it('a bad cron expression, bad flags or a bad file: exit 2 with every problem, nothing created', async () => {
    const cronId = id('cron');
    const cron = await cli(['schedule', 'create', nightly, '--cron', '61 25 * * *', '--id', cronId]);
    expect(cron.code, cron.err).toBe(2);
    expect(cron.err).toMatch(/^--cron: /m);
    expect(await exists(cronId)).toBe(false);

    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      [
        'apiVersion: vmware-dr/v1',
        'kind: Runbook',
        'name: bad',
        'endpoints:',
        '  vc-1: { product: vcenter, url: "https://vc.example.com", username: u, passwordRef: env:X }',
        'stages:',
        '  - { name: s, steps: [ { backup: vc-9 } ] }',
        '',
      ].join('\n'),
    );
    const badId = id('bad');
    const r = await cli(['schedule', 'create', bad, '--every', '1 day', '--jitter', 'lots', '--id', badId]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${bad}:7:35: stages[0].steps[0].backup: unknown endpoint "vc-9"`);
    expect(r.err).toMatch(/^--every: must be a duration/m);
    expect(r.err).toMatch(/^--jitter: must be a duration/m);
    expect(r.err).toMatch(/invalid input \(3 problems\); no schedule was created/);
    expect(await exists(badId)).toBe(false);
    const json = await cli(['schedule', 'create', bad, '--id', badId, '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.out)).toMatchObject({
      ok: false,
      problems: [
        { file: bad, line: 7, path: 'stages[0].steps[0].backup' },
        { path: 'every', flag: '--every', message: expect.stringMatching(/exactly one of cron/) },
      ],
    });
    expect(await exists(badId)).toBe(false);

    const missing = await cli(['schedule', 'create', join(dir, 'nope.yaml'), '--every', '1h']);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/cannot read the runbook file .*nope\.yaml: no such file \(ENOENT\)/);
  });

  it('an id already in use is exit 2 and leaves the existing schedule as it was', async () => {
    const scheduleId = id('dup');
    created.add(scheduleId);
    ok(await cli(['schedule', 'create', nightly, '--cron', '0 2 * * *', '--id', scheduleId]));
    const again = await cli(['schedule', 'create', nightly, '--every', '1h', '--id', scheduleId]);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(new RegExp(`a schedule with id ${scheduleId} already exists`));
    const d = JSON.parse((await cli(['schedule', 'describe', scheduleId, '--json'])).out) as { spec: string };
    expect(d.spec).toBe('cron 0 2 * * *');
  });

  it('freshness: colours per endpoint, --json shape, exit codes by --fail-on; --schedule makes a schedule', async () => {
    // vc-1 gets a fresh backup (a runbook run on the worker), vc-2 never has one.
    await h.withWorker(async () => {
      const run = await h.env.client.workflow.execute('drRunbook', {
        taskQueue: h.taskQueue,
        workflowId: id('backup-vc1'),
        args: [
          {
            apiVersion: 'vmware-dr/v1',
            kind: 'Runbook',
            name: 'vc1-only',
            defaults: { pollInterval: '100ms' },
            endpoints: {
              'vc-1': simulatedEndpoint('vcenter', h.sim.info.vcenter[0]!, 'env:CLI_SCH_VC1_PASSWORD'),
            },
            locations: { sftp: { type: 'SFTP', url: 'sftp://backup.example.com/cli' } },
            stages: [{ name: 'vc', steps: [{ backup: 'vc-1', to: 'sftp' }] }],
          },
        ],
      });
      expect((run as RunbookReport).outcome).toBe('succeeded');

      const q = ['--task-queue', h.taskQueue];
      const json = await cli(['freshness', twoVcenters, ...q, '--json']);
      expect(json.code, json.err + json.out).toBe(1); // vc-2 is red
      const result = JSON.parse(json.out) as FreshnessResult & { workflowId: string };
      expect(result).toMatchObject({
        workflowId: expect.stringMatching(/^freshness-cli-two-/),
        runbook: 'cli-two',
        maxAgeMs: 26 * 3_600_000,
        overall: 'red',
        endpoints: [
          { endpoint: 'vc-1', product: 'vcenter', rating: 'green', lastSuccessAt: expect.any(String) },
          { endpoint: 'vc-2', product: 'vcenter', rating: 'red', reason: 'no successful backup found' },
        ],
      });
      expect(json.err).toMatch(/backups of cli-two are red: vc-2 red/);

      const table = await cli(['freshness', twoVcenters, ...q, '--color', 'always']);
      expect(table.code).toBe(1);
      expect(table.out).toContain(`${ESC}[32mgreen${ESC}[39m`);
      expect(table.out).toContain(`${ESC}[31mred${ESC}[39m`);
      expect(table.out).toMatch(/vc-2 .*no successful backup found/);
      const plain = await cli(['freshness', twoVcenters, ...q, '--color', 'never']);
      expect(plain.out).not.toContain(ESC);
      expect(plain.out.split('\n')[0]).toMatch(/^cli-two: red \(red after 1d2h, amber after 19h30m; checked /);

      // vc-1 alone, with an SLO it is past the amber threshold of: amber warns (exit 0) unless --fail-on amber.
      await new Promise((r) => setTimeout(r, 1_100));
      const amber = ['freshness', nightly, ...q, '--max-age', '1h', '--amber-after', '1s', '--json'];
      const warn = await cli(amber);
      expect(JSON.parse(warn.out)).toMatchObject({
        overall: 'amber',
        endpoints: [{ endpoint: 'vc-1', rating: 'amber' }],
      });
      expect(warn.code).toBe(0);
      expect((await cli([...amber, '--fail-on', 'amber'])).code).toBe(1);
      ok(await cli(['freshness', nightly, ...q]));

      // --no-wait only starts the check.
      const started = await cli(['freshness', nightly, ...q, '--no-wait', '--json']);
      expect(started.code).toBe(0);
      const { workflowId } = JSON.parse(started.out) as { workflowId: string };
      const later = (await h.env.client.workflow.getHandle(workflowId).result()) as FreshnessResult;
      expect(later.overall).toBe('green');
    });

    // Invalid SLO and flags: exit 2 before anything starts.
    const bad = await cli(['freshness', nightly, '--max-age', '1h', '--amber-after', '2h', '--every', '1h']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^--amber-after: must not be longer than maxAge/m);
    expect(bad.err).toMatch(/^--every: only with --schedule/m);

    // --schedule creates a freshness schedule instead.
    const scheduleId = id('fresh');
    created.add(scheduleId);
    const s = await cli([
      'freshness',
      nightly,
      '--schedule',
      '--every',
      '1h',
      '--id',
      scheduleId,
      '--max-age',
      '2d',
      '--json',
    ]);
    expect(s.code).toBe(0);
    expect(JSON.parse(s.out)).toMatchObject({ scheduleId, workflowType: 'freshness', what: 'freshness check' });
    const raw = await h.env.client.schedule.getHandle(scheduleId).describe();
    expect(raw.action.args?.[1]).toEqual({ maxAge: '2d' });
  });

  it('an unreachable Temporal server is exit 3', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    // Bounds the connection attempt where connect.ts reads it (10 s otherwise).
    const before = process.env.VMWARE_DR_CONNECT_TIMEOUT_MS;
    process.env.VMWARE_DR_CONNECT_TIMEOUT_MS = '2000';
    let r;
    try {
      r = await cli(['schedule', 'list', '--address', `127.0.0.1:${port}`], false);
    } finally {
      if (before === undefined) delete process.env.VMWARE_DR_CONNECT_TIMEOUT_MS;
      else process.env.VMWARE_DR_CONNECT_TIMEOUT_MS = before;
    }
    expect(r.code).toBe(3);
    expect(r.err).toMatch(new RegExp(`cannot reach Temporal at 127\\.0\\.0\\.1:${port}`));
  }, 30_000);
});
