/**
 * The production worker: its environment schema, redacted JSON logs, and one real worker process
 * (`vmware-dr worker`) that serves /metrics with the project's counters after real backups
 * against the simulator, then drains on SIGTERM, exits 0, and leaves its running backup to the
 * next worker, which completes it with exactly one remote job.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { REDACTED, TemporalPinoLogger, createLogger, scrubSecrets } from '../src/core/logging';
import { WorkerConfigError, loadWorkerConfig } from '../worker/config';
import { DEFAULT_METRICS_PORT } from '../worker/env';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { JOB_STILL_RUNNING_TYPE } from '../src/contract/inputs';
import { WorkerMetrics, activityProduct } from '../worker/metrics';
import type { VcenterBackupInput } from '../workflows';
import { type Harness, createHarness } from './support/harness';
import { type TempPolicy, simulatorPolicy, writeTempPolicy } from './support/policy';

const root = join(__dirname, '..');

describe('worker environment (VMWARE_DR_*)', () => {
  it('applies the documented defaults', () => {
    const c = loadWorkerConfig({});
    expect(c).toMatchObject({
      taskQueue: 'vmware-dr',
      maxConcurrentActivities: 400,
      metrics: { host: '0.0.0.0', port: DEFAULT_METRICS_PORT, runtimePort: DEFAULT_METRICS_PORT + 1 },
      logLevel: 'info',
      logFormat: 'json',
      shutdownGraceMs: 20_000,
      unknownVariables: [],
    });
    expect(c.pollIntervalMs).toBeUndefined();
    expect(c.workflowBundle).toBeUndefined();
  });

  it('reads every variable; 0 or empty disables metrics; unknown VMWARE_DR_* names are reported', () => {
    const c = loadWorkerConfig({
      VMWARE_DR_TASK_QUEUE: 'site-b',
      VMWARE_DR_POLL_INTERVAL_MS: '500',
      VMWARE_DR_BUSY_RETRY_DELAY_MS: '250',
      VMWARE_DR_MAX_CONCURRENT_ACTIVITIES: '7',
      VMWARE_DR_LOG_LEVEL: 'DEBUG',
      VMWARE_DR_LOG_FORMAT: 'pretty',
      VMWARE_DR_SHUTDOWN_GRACE_TIME: '1m30s',
      VMWARE_DR_METRICS_PORT: '0',
      VMWARE_DR_TASKQUEUE: 'typo',
    });
    expect(c).toMatchObject({
      taskQueue: 'site-b',
      pollIntervalMs: 500,
      busyRetryDelayMs: 250,
      maxConcurrentActivities: 7,
      logLevel: 'debug',
      logFormat: 'pretty',
      shutdownGraceMs: 90_000,
      unknownVariables: ['VMWARE_DR_TASKQUEUE'],
    });
    expect(c.metrics).toBeUndefined();
    expect(loadWorkerConfig({ VMWARE_DR_METRICS_PORT: '' }).metrics).toBeUndefined();
    expect(loadWorkerConfig({ VMWARE_DR_METRICS_PORT: '9100' }).metrics).toMatchObject({
      port: 9100,
      runtimePort: 9101,
    });
  });

  it('lists every bad variable at once, each with what it must be and the value it got', () => {
    let err: unknown;
    try {
      loadWorkerConfig({
        VMWARE_DR_METRICS_PORT: 'x',
        VMWARE_DR_LOG_FORMAT: 'xml',
        VMWARE_DR_POLL_INTERVAL_MS: 'soon',
        VMWARE_DR_SHUTDOWN_GRACE_TIME: '30',
        VMWARE_DR_MAX_CONCURRENT_ACTIVITIES: '0',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WorkerConfigError);
    const problems = (err as WorkerConfigError).problems;
    expect(problems).toHaveLength(5);
    expect(problems).toContain('VMWARE_DR_METRICS_PORT: a port 1–65535 (0 or empty: no metrics), got "x"');
    expect(problems).toContain('VMWARE_DR_LOG_FORMAT: one of json, pretty, got "xml"');
    expect(problems.find((p) => p.startsWith('VMWARE_DR_POLL_INTERVAL_MS:'))).toContain('got "soon"');
    expect(problems.find((p) => p.startsWith('VMWARE_DR_SHUTDOWN_GRACE_TIME:'))).toContain('30s');
    expect(problems.find((p) => p.startsWith('VMWARE_DR_MAX_CONCURRENT_ACTIVITIES:'))).toContain('1–10000');
    expect(() => loadWorkerConfig({ VMWARE_DR_METRICS_PORT: '65535' })).toThrow(/VMWARE_DR_RUNTIME_METRICS_PORT/);
  });

  it('names the product of an activity from its name or its input', () => {
    expect(activityProduct('startVcenterBackup')).toBe('vcenter');
    expect(activityProduct('pollSddcManagerRestoreTask')).toBe('sddc-manager');
    expect(activityProduct('pollVcdaTask')).toBe('vcda');
    expect(activityProduct('checkEndpoint', [{ endpoint: { product: 'vcda' } }])).toBe('vcda');
    expect(activityProduct('sendNotification', [{}])).toBe('none');
  });

  it('a retry-mode read that found the job running (benign JobStillRunning) is no failure in the metrics', async () => {
    const m = new WorkerMetrics({ defaultMetrics: false });
    const still = ApplicationFailure.create({
      type: JOB_STILL_RUNNING_TYPE,
      message: 'still running',
      category: ApplicationFailureCategory.BENIGN,
    });
    m.record('pollVcenterBackup', [], 0.1, still);
    m.record('pollVcenterBackup', [], 0.1, ApplicationFailure.create({ type: 'ServerError', message: 'boom' }));
    const text = await m.registry.metrics();
    expect(text).toMatch(/vmware_dr_activity_failures_total\{[^}]*error_type="ServerError"[^}]*\} 1/);
    expect(text).not.toContain(JOB_STILL_RUNNING_TYPE);
    expect(text).toMatch(/vmware_dr_activity_duration_seconds_count\{[^}]*outcome="still-running"[^}]*\} 1/);
  });
});

describe('structured logs', () => {
  function capture(): { lines: () => Record<string, unknown>[]; raw: () => string; stream: Writable } {
    let text = '';
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString();
        done();
      },
    });
    return {
      stream,
      raw: () => text,
      lines: () =>
        text
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, unknown>),
    };
  }

  it('redacts password-ish fields and Basic/Bearer credentials, keeps references', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream, base: { service: 't' } });
    logger.info(
      {
        password: 'hunter2-top',
        endpoint: { username: 'admin', password: 'hunter2-nested', passwordRef: 'env:VC_PASSWORD' },
        request: { headers: { authorization: 'Basic YWRtaW46aHVudGVyMg==' } },
        note: 'retrying with Bearer eyJhbGciOiJIUzI1NiJ9.abc.def',
      },
      'login failed: Authorization: Basic YWRtaW46aHVudGVyMg== vmware-api-session-id: 5c3f0a9e1b',
    );
    const raw = out.raw();
    for (const secret of ['hunter2', 'YWRtaW46aHVudGVyMg', 'eyJhbGciOiJIUzI1NiJ9', '5c3f0a9e1b'])
      expect(raw).not.toContain(secret);
    const [line] = out.lines();
    expect(line).toMatchObject({
      level: 'info',
      service: 't',
      password: REDACTED,
      endpoint: { username: 'admin', password: REDACTED, passwordRef: 'env:VC_PASSWORD' },
      request: { headers: { authorization: REDACTED } },
      note: `retrying with Bearer ${REDACTED}`,
    });
    expect(line?.msg).toBe(`login failed: Authorization: Basic ${REDACTED} vmware-api-session-id: ${REDACTED}`);
    expect(typeof line?.time).toBe('string');
  });

  it('the Temporal runtime logger adapter keeps metadata as fields, redacted, errors as {type, message}', () => {
    const out = capture();
    const temporal = new TemporalPinoLogger(createLogger({ destination: out.stream, level: 'debug' }));
    temporal.warn('Activity failed', {
      activityType: 'startVcenterBackup',
      error: new Error('401 for Basic dXNlcjpzZWNyZXQ='),
      secret: 's3cr3t',
    });
    temporal.debug('debug line');
    const [warn, debug] = out.lines();
    expect(warn).toMatchObject({
      level: 'warn',
      msg: 'Activity failed',
      activityType: 'startVcenterBackup',
      secret: REDACTED,
      error: { type: 'Error', message: `401 for Basic ${REDACTED}` },
    });
    expect(debug).toMatchObject({ level: 'debug', msg: 'debug line' });
    expect(out.raw()).not.toContain('dXNlcjpzZWNyZXQ');
    expect(scrubSecrets('Bearer abc.def and basic Zm9v')).toBe(`Bearer ${REDACTED} and basic ${REDACTED}`);
  });
});

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The value of one sample (`name{labels} value`) in a Prometheus text page, or undefined. */
function sample(page: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of page.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? '').split(',');
    if (wanted.every((w) => have.includes(w))) return Number(m[3]);
  }
  return undefined;
}

describe('vmware-dr worker process: invalid settings', () => {
  it('a metrics port in use, or a bad variable, exits 2 naming the variable, before connecting', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    const policy = await writeTempPolicy(simulatorPolicy({ url: 'https://127.0.0.1:1' }));
    try {
      const cases: [Record<string, string>, string][] = [
        [
          { VMWARE_DR_METRICS_HOST: '127.0.0.1', VMWARE_DR_METRICS_PORT: String(port) },
          `VMWARE_DR_METRICS_PORT: cannot listen on 127.0.0.1:${port} (EADDRINUSE`,
        ],
        [{ VMWARE_DR_LOG_FORMAT: 'xml' }, 'VMWARE_DR_LOG_FORMAT: one of json, pretty, got "xml"'],
      ];
      for (const [env, message] of cases) {
        const child = spawn(
          process.execPath,
          ['--require', 'tsx/cjs', join(root, 'src', 'cli', 'index.ts'), 'worker'],
          {
            cwd: root,
            // An address nobody serves: the worker must fail before it tries to connect.
            env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', VMWARE_DR_POLICY: policy.file, ...env },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let err = '';
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        const [code] = (await once(child, 'exit')) as [number | null];
        expect(err).toContain(message);
        expect(code).toBe(2);
      }
    } finally {
      await new Promise((r) => busy.close(r));
      await policy.cleanup();
    }
  });
});

describe('vmware-dr worker process: the credential policy is required', () => {
  const start = async (env: NodeJS.ProcessEnv): Promise<{ code: number | null; err: string }> => {
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', join(root, 'src', 'cli', 'index.ts'), 'worker'], {
      cwd: root,
      // An address nobody serves: the worker must refuse before it tries to connect.
      env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', VMWARE_DR_METRICS_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, err };
  };

  it('without VMWARE_DR_POLICY it exits 2 saying how to write one, with the other problems at once', async () => {
    const { code, err } = await start({ VMWARE_DR_POLICY: '', VMWARE_DR_LOG_FORMAT: 'xml' });
    expect(code).toBe(2);
    expect(err).toContain('VMWARE_DR_POLICY: not set. The worker refuses to start without a credential policy');
    expect(err).toContain('vmware-dr policy init RUNBOOK... > /etc/vmware-dr/policy.yaml');
    expect(err).toContain('set VMWARE_DR_POLICY=/etc/vmware-dr/policy.yaml');
    expect(err).toContain('VMWARE_DR_LOG_FORMAT: one of json, pretty, got "xml"');
    expect(() => loadWorkerConfig({}, { requirePolicy: true })).toThrow(WorkerConfigError);
  });

  it('with a bad policy file it exits 2 listing every problem with its line; an unreadable one is named', async () => {
    const bad = await writeTempPolicy(
      [
        'apiVersion: vmware-dr/v1',
        'kind: WorkerPolicy',
        'appliances:',
        '  - product: vcentre',
        '    hosts: [vc01.example.com]',
        '    secrets: { login: [env:NOT_A_SOURCE] }',
        'locatoins: []',
      ].join('\n'),
    );
    try {
      const { code, err } = await start({ VMWARE_DR_POLICY: bad.file });
      expect(code).toBe(2);
      expect(err).toContain(`VMWARE_DR_POLICY: ${bad.file} is not a valid credential policy:`);
      expect(err).toContain(`${bad.file}:4: appliances[0].product: is "vcentre"`);
      expect(err).toContain(`${bad.file}:6: appliances[0].secrets.login[0]: env:NOT_A_SOURCE is bound here`);
      expect(err).toContain(`${bad.file}:7: locatoins: unknown field (did you mean "locations"?)`);
      const missing = await start({ VMWARE_DR_POLICY: join(bad.dir, 'nope.yaml') });
      expect(missing.code).toBe(2);
      expect(missing.err).toContain(`VMWARE_DR_POLICY: cannot read ${join(bad.dir, 'nope.yaml')} (ENOENT)`);
    } finally {
      await bad.cleanup();
    }
  });
});

describe('vmware-dr worker process', () => {
  let h: Harness;
  let child: ChildProcess | undefined;
  let output = '';
  let metricsPort = 0;
  const password = 'Sim-Pass#1-do-not-log';
  // The references the workflows carry, resolved by the spawned worker and by the in-process one.
  const secrets = { PROD_VC_PASSWORD: password, PROD_BACKUP_PASSWORD: 'Good#Pass1' };
  const saved = Object.fromEntries(Object.keys(secrets).map((k) => [k, process.env[k]]));

  let policy: TempPolicy | undefined;

  beforeAll(async () => {
    Object.assign(process.env, secrets);
    h = await createHarness({ vcenters: 1, jobSeconds: 3, credentials: { password } });
    // The simulated site's credential policy: its vCenter, these references, the backup location.
    policy = await writeTempPolicy(
      simulatorPolicy({
        url: h.sim.url,
        caFile: h.sim.info.caFile,
        login: ['env:PROD_VC_PASSWORD'],
        encryption: ['env:PROD_BACKUP_PASSWORD'],
        locations: [{ name: 'sftp', url: 'sftp://backup.example.com/vc-1' }],
      }),
    );
    metricsPort = await freePort();
    const runtimePort = await freePort();
    child = spawn(process.execPath, ['--require', 'tsx/cjs', join(root, 'src', 'cli', 'index.ts'), 'worker'], {
      cwd: root,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        TEMPORAL_NAMESPACE: inject('temporalNamespace'),
        VMWARE_DR_TASK_QUEUE: h.taskQueue,
        VMWARE_DR_WORKFLOW_BUNDLE: inject('workflowBundlePath'),
        VMWARE_DR_METRICS_HOST: '127.0.0.1',
        VMWARE_DR_METRICS_PORT: String(metricsPort),
        VMWARE_DR_RUNTIME_METRICS_PORT: String(runtimePort),
        VMWARE_DR_POLL_INTERVAL_MS: '200',
        VMWARE_DR_BUSY_RETRY_DELAY_MS: '200',
        VMWARE_DR_SHUTDOWN_GRACE_TIME: '1s',
        VMWARE_DR_POLICY: policy.file,
        ...secrets,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await until('the worker to poll', () => output.includes(`task queue ${h.taskQueue}`), 60_000);
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await h?.close();
    await policy?.cleanup();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  const input = (): VcenterBackupInput => {
    const vc = h.sim.info.vcenter[0]!;
    return {
      endpoint: {
        name: 'vc-1',
        url: vc.url,
        username: vc.username,
        passwordRef: 'env:PROD_VC_PASSWORD',
        tls: { caFile: vc.caFile! },
      },
      backup: {
        locationType: 'SFTP',
        location: 'sftp://backup.example.com/vc-1',
        backupPasswordRef: 'env:PROD_BACKUP_PASSWORD',
      },
      pollIntervalMs: 200,
    };
  };

  it('logs JSON lines: which workflow source it loaded and where its metrics are', () => {
    const lines = output
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const started = lines.find((l) => String(l.msg).includes('task queue'));
    expect(started).toMatchObject({
      level: 'info',
      service: 'vmware-dr-worker',
      taskQueue: h.taskQueue,
      workflowSource: 'bundle',
      workflows: inject('workflowBundlePath'),
      metrics: `http://127.0.0.1:${metricsPort}/metrics`,
      // Which credential policy it enforces: the file and the sha256 of its bytes.
      policy: { source: policy!.file, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), appliances: 3, locations: 1 },
    });
    expect(String(started?.msg)).toContain(`credential policy ${policy!.file} (sha256 `);
  });

  it('GET /metrics: remote jobs, busy waits and step durations per product, and the runtime metrics', async () => {
    h.sim.faults.add({
      product: 'vcenter',
      appliance: 'vc-1',
      operation: 'backupJobCreate',
      count: 1,
      action: { kind: 'error', error: 'FEATURE_IN_USE' },
    });
    const result = await h.env.client.workflow.execute('vcenterBackup', {
      taskQueue: h.taskQueue,
      workflowId: `prod-metrics-${Date.now()}`,
      args: [input()],
    });
    expect(result.state).toBe('SUCCEEDED');
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(sample(page, 'vmware_dr_remote_jobs_started_total', { product: 'vcenter' })).toBe(1);
    expect(sample(page, 'vmware_dr_remote_jobs_succeeded_total', { product: 'vcenter' })).toBe(1);
    expect(sample(page, 'vmware_dr_busy_waits_total', { product: 'vcenter', activity: 'startVcenterBackup' })).toBe(1);
    expect(
      sample(page, 'vmware_dr_activity_failures_total', {
        product: 'vcenter',
        activity: 'startVcenterBackup',
        error_type: 'ResourceBusy',
      }),
    ).toBe(1);
    const polled = sample(page, 'vmware_dr_activity_duration_seconds_sum', {
      product: 'vcenter',
      activity: 'pollVcenterBackup',
      outcome: 'succeeded',
    });
    // The job runs 3 s on the simulator; the poll activity waits for it.
    expect(polled).toBeGreaterThan(2);
    for (const outcome of ['failed', 'succeeded'])
      expect(
        sample(page, 'vmware_dr_activity_duration_seconds_count', {
          product: 'vcenter',
          activity: 'startVcenterBackup',
          outcome,
        }),
      ).toBe(1);
    expect(page).toMatch(/^process_cpu_user_seconds_total /m);
    // The Temporal runtime's own exporter, merged into the same page.
    expect(page).toMatch(/^temporal_\w+/m);
    expect(page).not.toContain('# Temporal runtime metrics unavailable');
    expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(200);
  });

  it('a backup to a location the policy does not list fails NotPermitted; the JSON log names the refusal, never the password', async () => {
    const before = h.sim.counters().jobs.length;
    const err = await h.env.client.workflow
      .execute('vcenterBackup', {
        taskQueue: h.taskQueue,
        workflowId: `prod-refused-${Date.now()}`,
        args: [{ ...input(), backup: { ...input().backup, location: 'sftp://attacker.example/loot' } }],
      })
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(err).toBeDefined();
    let cause: unknown = err;
    while ((cause as { cause?: unknown }).cause) cause = (cause as { cause?: unknown }).cause;
    expect(cause).toMatchObject({ type: 'NotPermitted', nonRetryable: true });
    expect((cause as Error).message).toContain(
      'backup.location: sftp://attacker.example/loot is not at or below a location',
    );
    expect(h.sim.counters().jobs).toHaveLength(before);
    await until('the refusal in the worker log', () => output.includes('credential policy: backup.location'));
    expect(output).not.toContain(password);
    expect(output).not.toContain(secrets.PROD_BACKUP_PASSWORD);
  });

  it('SIGTERM during a backup: exits 0 quickly; the next worker completes it with exactly one remote job', async () => {
    const before = h.sim.counters().jobs.length;
    const handle = await h.env.client.workflow.start('vcenterBackup', {
      taskQueue: h.taskQueue,
      workflowId: `prod-sigterm-${Date.now()}`,
      args: [input()],
    });
    await until('the backup job to start', () => h.sim.counters().jobs.length === before + 1);
    const signalled = Date.now();
    const exited = once(child!, 'exit');
    child!.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    const stopSeconds = (Date.now() - signalled) / 1000;
    console.info(`worker-production: exit ${code} ${stopSeconds.toFixed(1)} s after SIGTERM`);
    expect(code).toBe(0);
    expect(stopSeconds).toBeLessThan(15);
    const lines = output
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => String(l.msg).startsWith('shutdown requested') && l.signal === 'SIGTERM')).toBe(true);
    expect(lines.at(-1)?.msg).toMatch(/^worker stopped/);
    expect(output).not.toContain(password);

    const resumedAt = Date.now();
    const result = await h.withWorker(() => handle.result(), { busyRetryDelayMs: 200 });
    console.info(
      `worker-production: the next worker completed it in ${((Date.now() - resumedAt) / 1000).toFixed(1)} s`,
    );
    expect(result.state).toBe('SUCCEEDED');
    const jobs = h.sim.counters().jobs;
    expect(jobs).toHaveLength(before + 1);
    expect(jobs.at(-1)?.id).toBe(result.jobId);
  });
});
