/**
 * `freshness` end to end on a real Temporal server against the simulator: green after a runbook
 * backup, red for a failed later vCenter job and for an endpoint never backed up, amber and red
 * by the SLO, invalid options refused first, and no state-changing call on any appliance.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FreshnessOptions, FreshnessResult } from '../src/contract/freshness';
import type { RunbookDocument } from '../src/contract/runbook/document';
import type { RunbookReport } from '../src/contract/runbook/report';
import { simulatedEndpoint } from './support/endpoints';
import { type Harness, createHarness } from './support/harness';
import { startWebhook } from './support/webhook';

/** The only operations a freshness run may call: logins and reads. */
const READ_ONLY = /^(session|token|login|backupJobDetails$|listTasks$|backupList$|taskList$)/;

describe('freshness (real server, simulator)', () => {
  let h: Harness;
  /** Backs up vc-1, vc-2, sddc-a and vcda-a. */
  let backups: RunbookDocument;
  /** The same endpoints plus vc-3, which is never backed up. */
  let checked: RunbookDocument;
  let n = 0;

  beforeAll(async () => {
    h = await createHarness({ vcenters: 3, sddcManagers: 1, vcdas: 1, jobSeconds: 1 });
    const { vcenter, sddcManager, vcda } = h.sim.info;
    vcenter.forEach((v, i) => (process.env[`FR_VC${i + 1}_PASSWORD`] = v.password));
    process.env.FR_SDDC_PASSWORD = sddcManager[0]!.password;
    process.env.FR_VCDA_PASSWORD = vcda[0]!.password;
    const vc = (i: number) => simulatedEndpoint('vcenter', vcenter[i]!, `env:FR_VC${i + 1}_PASSWORD`);
    const endpoints: RunbookDocument['endpoints'] = {
      'sddc-a': simulatedEndpoint('sddc-manager', sddcManager[0]!, 'env:FR_SDDC_PASSWORD'),
      'vc-1': vc(0),
      'vc-2': vc(1),
      'vc-3': vc(2),
      'vcda-a': simulatedEndpoint('vcda', vcda[0]!, 'env:FR_VCDA_PASSWORD'),
    };
    const common = {
      apiVersion: 'vmware-dr/v1' as const,
      kind: 'Runbook' as const,
      site: 'site-f',
      defaults: { pollInterval: '100ms' },
      endpoints,
      locations: { 'sftp-f': { type: 'SFTP' as const, url: 'sftp://backup.example.com/fresh' } },
    };
    backups = {
      ...common,
      name: 'site-f-nightly',
      stages: [
        { name: 'sddc-manager', steps: [{ backup: 'sddc-a' }] },
        {
          name: 'vcenters',
          steps: [
            { backup: 'vc-1', to: 'sftp-f' },
            { backup: 'vc-2', to: 'sftp-f' },
          ],
        },
        { name: 'vcda', steps: [{ backup: 'vcda-a' }] },
      ],
    };
    checked = {
      ...backups,
      stages: [...backups.stages, { name: 'never', steps: [{ backup: 'vc-3', to: 'sftp-f' }] }],
    };
  });
  afterAll(async () => {
    for (const k of Object.keys(process.env)) if (k.startsWith('FR_')) delete process.env[k];
    await h?.close();
  });

  const runbook = (doc: RunbookDocument) =>
    h.env.client.workflow.execute<(d: unknown, o: unknown) => Promise<RunbookReport>>('drRunbook', {
      taskQueue: h.taskQueue,
      workflowId: `fr-rb-${Date.now()}-${n++}`,
      args: [doc, {}],
    });
  /** One freshness run; asserts that it called nothing but logins and reads, and started no job. */
  const check = async (options: FreshnessOptions | unknown = {}, doc: unknown = checked) => {
    h.sim.resetCounters();
    const result = await h.env.client.workflow.execute<(d: unknown, o: unknown) => Promise<FreshnessResult>>(
      'freshness',
      { taskQueue: h.taskQueue, workflowId: `fr-${Date.now()}-${n++}`, args: [doc, options] },
    );
    const { calls, jobs } = h.sim.counters();
    const ops = Object.values(calls).flatMap((byAppliance) =>
      Object.values(byAppliance ?? {}).flatMap((o) => Object.keys(o ?? {})),
    );
    expect(jobs).toEqual([]);
    expect(ops.filter((op) => !READ_ONLY.test(op))).toEqual([]);
    return result;
  };
  const rating = (r: FreshnessResult) => Object.fromEntries(r.endpoints.map((e) => [e.endpoint, e.rating]));

  it('before any runbook backup: red without a backup; the simulated SDDC Manager day-old backup is amber', async () => {
    const r = await h.withWorker(() => check());
    expect(r.overall).toBe('red');
    expect(r.runbook).toBe('site-f-nightly');
    expect(r.endpoints.map((e) => e.endpoint)).toEqual(['sddc-a', 'vc-1', 'vc-2', 'vcda-a', 'vc-3']);
    expect(rating(r)).toEqual({ 'sddc-a': 'amber', 'vc-1': 'red', 'vc-2': 'red', 'vcda-a': 'red', 'vc-3': 'red' });
    for (const e of r.endpoints.filter((x) => x.rating === 'red')) {
      expect(e.reason).toBe('no successful backup found');
      expect(e.lastSuccessAt).toBeUndefined();
    }
    // The simulator seeds one SUCCESSFUL SDDCMANAGER_BACKUP task a day old: past 19h30m (75 % of 26h).
    const sddc = r.endpoints[0]!;
    expect(sddc.lastAttempt?.status).toBe('SUCCESSFUL');
    expect(sddc.ageMs).toBeGreaterThan(r.amberAfterMs);
    expect(sddc.reason).toMatch(/over the amber threshold of 19h30m/);
  });

  it('after a successful runbook backup its endpoints are green; the never backed-up one stays red', async () => {
    await h.withWorker(async () => {
      expect((await runbook(backups)).outcome).toBe('succeeded');
      const r = await check();
      expect(rating(r)).toEqual({
        'sddc-a': 'green',
        'vc-1': 'green',
        'vc-2': 'green',
        'vcda-a': 'green',
        'vc-3': 'red',
      });
      expect(r.overall).toBe('red');
      const green = await check({}, backups);
      expect(green.overall).toBe('green');
      for (const e of green.endpoints) {
        expect(e.lastSuccessAt).toBeDefined();
        expect(e.ageMs).toBeGreaterThanOrEqual(0);
        expect(e.ageMs).toBeLessThan(120_000);
      }
    });
  });

  it('amber past amberAfter, red past maxAge', async () => {
    await new Promise((r) => setTimeout(r, 2_100));
    await h.withWorker(async () => {
      const amber = await check({ maxAge: '1h', amberAfter: '1s' }, backups);
      expect(amber.overall).toBe('amber');
      expect(
        amber.endpoints.every((e) => e.rating === 'amber' && /over the amber threshold of 1s/.test(e.reason)),
      ).toBe(true);
      const red = await check({ maxAge: '2s' }, backups);
      expect(red.overall).toBe('red');
      expect(red.endpoints.every((e) => /over the maximum of 2s/.test(e.reason))).toBe(true);
    });
  });

  it('a later vCenter job that FAILED makes that endpoint red although an older backup succeeded', async () => {
    h.sim.faults.add({
      product: 'vcenter',
      appliance: 'vc-2',
      operation: 'backupJobCreate',
      action: { kind: 'jobFailed' },
    });
    await h.withWorker(async () => {
      const report = await runbook({ ...backups, stages: [backups.stages[1]!] });
      expect(report.steps.map((s) => [s.endpoint, s.state])).toEqual([
        ['vc-1', 'succeeded'],
        ['vc-2', 'failed'],
      ]);
      const r = await check({}, backups);
      const vc2 = r.endpoints.find((e) => e.endpoint === 'vc-2')!;
      expect(vc2.rating).toBe('red');
      expect(vc2.reason).toMatch(/the last backup run failed/);
      expect(vc2.lastSuccessAt).toBeDefined();
      expect(vc2.lastAttempt?.status).toBe('FAILED');
      expect(rating(r)).toMatchObject({ 'vc-1': 'green', 'sddc-a': 'green', 'vcda-a': 'green' });
      expect(r.overall).toBe('red');
    });
  });

  it('invalid options or document end the run as InvalidInput before anything is read', async () => {
    const err = await h
      .withWorker(() => check({ maxAge: 'soon', amberAfter: '1h', extra: 1 }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause.type).toBe('InvalidInput');
    expect(cause.message).toMatch(/maxAge: must be a duration.*unknown field "extra"/);
    expect(h.sim.counters()).toEqual({ calls: {}, jobs: [] });
    const bad = await h
      .withWorker(() => check({}, { ...backups, endpoints: {} }))
      .then(
        () => undefined,
        (e: unknown) => (e as WorkflowFailedError).cause as ApplicationFailure,
      );
    expect(bad?.type).toBe('InvalidInput');
    expect(bad?.message).toMatch(/endpoints/);
    expect(h.sim.counters()).toEqual({ calls: {}, jobs: [] });
  });

  it("tells the runbook's stale webhooks which endpoints are not green", async () => {
    const hook = await startWebhook();
    const bodies = hook.bodies as { event?: string; text?: string; overall?: string }[];
    process.env.FR_HOOK = `${hook.url}/stale-hook`;
    try {
      const r = await h.withWorker(() => check({}, { ...checked, notify: [{ urlRef: 'env:FR_HOOK', on: ['stale'] }] }));
      expect(r.overall).toBe('red');
      expect(bodies).toHaveLength(1);
      expect(bodies[0]).toMatchObject({ event: 'stale', overall: 'red' });
      expect(bodies[0]!.text).toMatch(/^site-f-nightly: backups red: .*vc-3 red/);
    } finally {
      await hook.close();
    }
  });

  it('an endpoint that cannot be read is red with the reason; the others are still rated', async () => {
    delete process.env.FR_UNSET_PASSWORD;
    const doc = {
      ...backups,
      endpoints: {
        ...backups.endpoints,
        'vc-1': { ...backups.endpoints['vc-1']!, passwordRef: 'env:FR_UNSET_PASSWORD' },
      },
    };
    const r = await h.withWorker(() => check({}, doc));
    const vc1 = r.endpoints.find((e) => e.endpoint === 'vc-1')!;
    expect(vc1.rating).toBe('red');
    expect(vc1.reason).toMatch(/^could not read its backups: ConfigurationError: .*FR_UNSET_PASSWORD/);
    expect(rating(r)).toMatchObject({ 'sddc-a': 'green', 'vcda-a': 'green' });
  });
});
