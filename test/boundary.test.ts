/**
 * The input boundary and failures that always end, on a real Temporal server against the
 * simulator: every bad input ends its run FAILED within seconds, names the field and the fix,
 * starts nothing on the appliance and repeats no value; every retry ends at the step deadline;
 * two runs on one appliance each get their own job.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SddcManagerBackupInput, VcdaBackupInput, VcenterBackupInput } from '../workflows';
import { type Harness, createHarness } from './support/harness';
import { historyText } from './support/history';
import { configureSddcBackupLocation } from './support/sddc-manager';

const LITERAL = 'Sup3r$ecret!Literal';

interface Outcome {
  status: string;
  failure?: ApplicationFailure;
  seconds: number;
  activities: string[];
  history: string;
}

describe('input boundary and bounded failures (real server, simulator)', () => {
  let h: Harness;
  let vc: VcenterBackupInput;
  let sddc: SddcManagerBackupInput;
  let vcda: VcdaBackupInput;

  beforeAll(async () => {
    h = await createHarness({ vcenters: 1, sddcManagers: 1, vcdas: 1, jobSeconds: 1 });
    const { vcenter, sddcManager, vcda: vcdas, caFile } = h.sim.info;
    process.env.BND_VC_PASSWORD = vcenter[0]!.password;
    process.env.BND_SDDC_PASSWORD = sddcManager[0]!.password;
    process.env.BND_VCDA_PASSWORD = vcdas[0]!.password;
    process.env.BND_BACKUP_PASSWORD = 'Good#Pass1';
    const tls = { caFile: caFile! };
    vc = {
      endpoint: {
        name: 'vc-1',
        url: vcenter[0]!.url,
        username: vcenter[0]!.username,
        passwordRef: 'env:BND_VC_PASSWORD',
        tls,
      },
      backup: {
        locationType: 'SFTP',
        location: 'sftp://backup.example.com/vc-1',
        backupPasswordRef: 'env:BND_BACKUP_PASSWORD',
      },
      pollIntervalMs: 100,
    };
    sddc = {
      endpoint: {
        name: 'sddc-1',
        url: sddcManager[0]!.url,
        username: sddcManager[0]!.username,
        passwordRef: 'env:BND_SDDC_PASSWORD',
        tls,
      },
      pollIntervalMs: 100,
    };
    // SDDC Manager backups need a configured SFTP location.
    await configureSddcBackupLocation(sddcManager[0]!, tls);
    vcda = {
      endpoint: {
        name: 'vcda-1',
        url: vcdas[0]!.url,
        username: vcdas[0]!.username,
        passwordRef: 'env:BND_VCDA_PASSWORD',
        tls,
      },
      pollIntervalMs: 100,
    };
  });
  afterAll(async () => h?.close());

  /** Runs a workflow to its end (or `limitMs`), with its status, failure, duration and history. */
  async function outcome(workflow: string, input: unknown, limitMs = 30_000): Promise<Outcome> {
    const started = Date.now();
    return h.withWorker(async () => {
      const handle = await h.env.client.workflow.start(workflow, {
        taskQueue: h.taskQueue,
        workflowId: `bnd-${workflow}-${Date.now()}-${Math.random()}`,
        args: [input],
      });
      let failure: ApplicationFailure | undefined;
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), limitMs));
      const result = await Promise.race([
        handle.result().then(
          () => 'done' as const,
          (e: unknown) => e,
        ),
        timer,
      ]);
      if (result === 'timeout') await handle.terminate('test limit reached');
      if (result instanceof WorkflowFailedError) {
        const cause = result.cause instanceof ActivityFailure ? result.cause.cause : result.cause;
        failure = cause instanceof ApplicationFailure ? cause : undefined;
      }
      const description = await handle.describe();
      const history = await handle.fetchHistory();
      const activities = (history.events ?? []).flatMap((e) =>
        e.activityTaskScheduledEventAttributes?.activityType?.name
          ? [e.activityTaskScheduledEventAttributes.activityType.name]
          : [],
      );
      return {
        status: result === 'timeout' ? 'RUNNING' : description.status.name,
        failure,
        seconds: (Date.now() - started) / 1000,
        activities,
        history: historyText(history),
      };
    });
  }

  const jobs = () => h.sim.counters().jobs.length;

  /** A rejected input: FAILED fast, InvalidInput, each field named, no activity, no job, no value echoed. */
  async function expectRejected(workflow: string, input: unknown, fields: (string | RegExp)[], secrets: string[] = []) {
    h.sim.resetCounters();
    const o = await outcome(workflow, input);
    expect(o.status).toBe('FAILED');
    expect(o.seconds).toBeLessThan(30);
    expect(o.failure?.type).toBe('InvalidInput');
    expect(o.failure?.nonRetryable).toBe(true);
    for (const f of fields) expect(o.failure?.message).toMatch(f);
    expect(o.failure?.message).toContain('nothing was started');
    for (const s of secrets) expect(o.failure?.message).not.toContain(s);
    expect(o.activities).toEqual([]);
    expect(jobs()).toBe(0);
    return o;
  }

  it('null, a missing endpoint and a misspelt field end the run as InvalidInput', async () => {
    await expectRejected('vcenterBackup', null, [/\(input\): must be an object \(got null\)/]);
    const { endpoint: _e, ...noEndpoint } = vc;
    await expectRejected('vcenterBackup', noEndpoint, [/endpoint: is required/]);
    // The misspelt field says what it was meant to be; the "is required" of that field would repeat it.
    const misspelt = await expectRejected('vcenterBackup', { ...noEndpoint, endpont: vc.endpoint }, [
      /endpont: unknown field "endpont": did you mean "endpoint"\?/,
    ]);
    expect(misspelt.failure?.message).not.toContain('endpoint: is required');
    await expectRejected('sddcManagerBackup', {}, [/endpoint/]);
    await expectRejected('vcdaBackup', [], [/must be an object \(got an array\)/]);
  });

  it('URLs that are not https://host are refused, naming the fix', async () => {
    const withUrl = (url: unknown) => ({ ...vc, endpoint: { ...vc.endpoint, url } });
    await expectRejected('vcenterBackup', withUrl('vc01.example.com'), [/endpoint\.url: must be an absolute URL/]);
    await expectRejected('vcenterBackup', withUrl(123), [/endpoint\.url: Invalid input: expected string/]);
    await expectRejected('vcenterBackup', withUrl('file:///etc/passwd'), [
      /endpoint\.url: must use https:\/\/ \(got file:\)/,
    ]);
    await expectRejected('vcenterBackup', withUrl('not a url'), [/endpoint\.url: must be an absolute URL/]);
    await expectRejected('vcenterBackup', withUrl('http://vc01.example.com'), [/allowHttp: true/]);
    await expectRejected('vcenterBackup', withUrl('https://vc01.example.com/?x=1'), [/query/]);
  });

  it('a URL with user:password@ is refused without repeating the password anywhere', async () => {
    const o = await expectRejected(
      'vcenterBackup',
      { ...vc, endpoint: { ...vc.endpoint, name: undefined, url: `https://admin:${LITERAL}@vc01.example.com/` } },
      [/user name or password/],
      [LITERAL],
    );
    expect(o.history.split(LITERAL).length).toBe(2); // the input itself, and nowhere else
  });

  it('a literal in passwordRef, or an unknown password field, is refused with "rotate it" and never repeated', async () => {
    const o1 = await expectRejected(
      'vcenterBackup',
      { ...vc, endpoint: { ...vc.endpoint, passwordRef: LITERAL } },
      [/endpoint\.passwordRef: must be a secret reference/, /rotate it/],
      [LITERAL],
    );
    expect(o1.history.split(LITERAL).length).toBe(2);
    const o2 = await expectRejected(
      'vcenterBackup',
      { ...vc, backup: { ...vc.backup, backupPassword: LITERAL } },
      [/backup\.backupPassword: unknown field/, /rotate it/],
      [LITERAL],
    );
    expect(o2.history.split(LITERAL).length).toBe(2);
    await expectRejected(
      'sddcManagerBackup',
      { ...sddc, endpoint: { ...sddc.endpoint, passwordRef: 'https://vault.example.com/x' } },
      [/passwordRef: must be a secret reference/],
    );
  });

  it('bad durations are refused before anything starts on the appliance', async () => {
    for (const pollIntervalMs of [-5, 'abc', 0, 1.5, 31 * 60_000])
      await expectRejected('vcenterBackup', { ...vc, pollIntervalMs }, [/pollIntervalMs: /]);
    for (const timeoutMs of [-1, '1h', 0, 10 * 24 * 3600_000])
      await expectRejected('sddcManagerBackup', { ...sddc, timeoutMs }, [/timeoutMs: /]);
    await expectRejected('vcdaBackup', { ...vcda, pollIntervalMs: -5, timeoutMs: '1h' }, [
      /pollIntervalMs: /,
      /timeoutMs: /,
      /2 problems/,
    ]);
  });

  it('TLS settings: SHA-1 thumbprint and insecure: "yes" are input errors; a missing caFile fails once as ConfigurationError', async () => {
    const withTls = (tls: unknown) => ({ ...vc, endpoint: { ...vc.endpoint, tls } });
    await expectRejected('vcenterBackup', withTls({ thumbprint: 'AB:'.repeat(19) + 'AB' }), [
      /thumbprint: is a SHA-1 thumbprint/,
    ]);
    await expectRejected('vcenterBackup', withTls({ insecure: 'yes' }), [
      /endpoint\.tls\.insecure: Invalid input: expected boolean/,
    ]);
    await expectRejected('vcenterBackup', withTls({ caFile: 'relative.pem' }), [/caFile: must be an absolute path/]);
    h.sim.resetCounters();
    const o = await outcome('vcenterBackup', withTls({ caFile: '/nonexistent/ca.pem' }));
    expect(o.status).toBe('FAILED');
    expect(o.failure?.type).toBe('ConfigurationError');
    expect(o.failure?.nonRetryable).toBe(true);
    expect(o.failure?.message).toMatch(/caFile.*cannot be read.*Fix:/);
    expect(jobs()).toBe(0);
  });

  it('a 1.2 MB name ends the run at once as InvalidInput (no payload-size loop)', async () => {
    const o = await expectRejected(
      'vcenterBackup',
      { ...vc, endpoint: { ...vc.endpoint, name: 'n'.repeat(1_200_000) } },
      [/at most 65536 bytes/],
    );
    expect(o.seconds).toBeLessThan(15);
  });

  it('unreachable appliances end at the step deadline (network errors included)', async () => {
    const refused = { ...vc, endpoint: { ...vc.endpoint, url: 'https://127.0.0.1:9' }, timeoutMs: 5_000 };
    const o = await outcome('vcenterBackup', refused, 40_000);
    expect(o.status).toBe('FAILED');
    expect(o.seconds).toBeLessThan(30);
    const unknownHost = {
      ...sddc,
      endpoint: { ...sddc.endpoint, url: 'https://no-such-host.invalid' },
      timeoutMs: 5_000,
    };
    const o2 = await outcome('sddcManagerBackup', unknownHost, 40_000);
    expect(o2.status).toBe('FAILED');
    expect(o2.seconds).toBeLessThan(30);
  });

  it('a schema-breaking answer to the start POST is retried and attaches to the job it created', async () => {
    h.sim.resetCounters();
    h.sim.faults.add({
      product: 'vcenter',
      appliance: 'vc-1',
      operation: 'backupJobCreate',
      action: { kind: 'schema' },
    });
    const result = await h.withWorker(() =>
      h.env.client.workflow.execute('vcenterBackup', {
        taskQueue: h.taskQueue,
        workflowId: `bnd-schema-${Date.now()}`,
        args: [vc],
      }),
    );
    expect(result.state).toBe('SUCCEEDED');
    expect(result.attached).toBe(true);
    expect(h.sim.counters().calls.vcenter?.['vc-1']?.backupJobCreate).toBe(1);
    expect(jobs()).toBe(1);
  });

  it.each([
    ['vcenterBackup', 'vcenter', 'vc-1'],
    ['sddcManagerBackup', 'sddc-manager', 'sddc-1'],
    ['vcdaBackup', 'vcda', 'vcda-1'],
  ] as const)(
    'two %s runs on one appliance at once each get their own job, one after the other',
    async (workflow, product, appliance) => {
      h.sim.resetCounters();
      const input = workflow === 'vcenterBackup' ? vc : workflow === 'sddcManagerBackup' ? sddc : vcda;
      const [a, b] = await h.withWorker(() =>
        Promise.all(
          ['A', 'B'].map((id) =>
            h.env.client.workflow.execute(workflow, {
              taskQueue: h.taskQueue,
              workflowId: `bnd-two-${workflow}-${id}-${Date.now()}`,
              args: [input],
            }),
          ),
        ),
      );
      const ids = [a, b].map((r) => ('jobId' in r ? r.jobId : r.taskId));
      expect(new Set(ids).size).toBe(2);
      expect(a.attached || b.attached).toBe(false);
      const started = h.sim.counters().jobs.filter((j) => j.product === product && j.appliance === appliance);
      expect(started.map((j) => j.id).sort()).toEqual([...ids].sort());
    },
  );
});
