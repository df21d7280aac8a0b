/**
 * `drRunbook` workflow logic with mocked activities and fake child step workflows (the model:
 * temporalio/samples-typescript `hello-world/src/mocha/workflows-mocks.test.ts`), on the test
 * run's dev server: stage order, parallel steps, failure handling, outcome rules, approvals,
 * cancel with compensation, pause/resume, startWithin, and `executeRunbook` from a parent. The
 * fakes live in test/fixtures/workflows/fake-steps.ts (behaviour from the endpoint's name).
 */
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunbookDocument, RunbookStep } from '../src/contract/runbook/document';
import type { RunbookReport } from '../src/contract/runbook/report';
import type { drRunbook } from '../workflows';
import { approveUpdate, pauseSignal, progressQuery, rejectUpdate, resumeSignal } from '../src/contract/messages';
import type { FakeStepEvent, runbookParent } from './fixtures/workflows/fake-steps';

const events: (FakeStepEvent & { at: number })[] = [];
const activityCalls: { name: string; input: unknown }[] = [];
const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The activities `drRunbook` (and the fakes) call, all fakes. A location URL containing `slow` makes the archive lookup take 3 s. */
const fakeActivities = {
  async fakeStepEvent(e: FakeStepEvent): Promise<void> {
    events.push({ ...e, at: Date.now() });
  },
  async checkEndpoint(input: { product: string; endpoint: { name: string } }) {
    activityCalls.push({ name: 'checkEndpoint', input });
    return { appliance: input.endpoint.name, checks: ['login (fake)'] };
  },
  async findVcenterArchive(input: { location: { url: string }; archive: string }) {
    activityCalls.push({ name: 'findVcenterArchive', input });
    if (input.location.url.includes('slow')) await sleepMs(3000);
    return {
      systemName: 'vc-orig',
      archive: '20261201-020000',
      location: `${input.location.url}/vc-orig/20261201-020000`,
      timestamp: '2026-12-01T02:00:00Z',
    };
  },
  async validateVcenterBackup(input: unknown) {
    activityCalls.push({ name: 'validateVcenterBackup', input });
    return { status: 'OK', messages: [] };
  },
  async validateVcenterRestore(input: unknown) {
    activityCalls.push({ name: 'validateVcenterRestore', input });
    return { applicable: true, version: '8.0', boxname: 'vc-orig', timestamp: '', parts: [], messages: [] };
  },
  async isWorkflowRunning() {
    return true;
  },
  async registeredSearchAttributes() {
    return [] as string[];
  },
  /** No credential policy: nothing refused, four eyes against a fixed starter (the test client approves). */
  async checkRunbookPolicy(input: { document: RunbookDocument }) {
    activityCalls.push({ name: 'checkRunbookPolicy', input });
    const ids = input.document.stages.flatMap((st, s) => st.steps.map((_, i) => `${s + 1}.${i + 1}`));
    return {
      problems: [],
      approvals: Object.fromEntries(ids.map((id) => [id, { required: false, fourEyes: true }])),
      startedBy: 'starter@logic.test',
    };
  },
  async sendNotification(input: unknown) {
    activityCalls.push({ name: 'sendNotification', input });
    return { status: 204 };
  },
};

// ---------------------------------------------------------------------------------------------
// Documents: an endpoint's product comes from its name (`sddc…`, `vcda…`, else vCenter); its
// behaviour in the fake step too (see fake-steps.ts).

const productOf = (name: string) =>
  name.startsWith('sddc') ? 'sddc-manager' : name.startsWith('vcda') ? 'vcda' : ('vcenter' as const);

/** A backup step of `name` (vCenter backups go to location `nas`). */
const backup = (name: string, extra: Partial<RunbookStep> = {}): RunbookStep =>
  ({ backup: name, ...(productOf(name) === 'vcenter' && { to: 'nas' }), ...extra }) as RunbookStep;
/** A restore step of `name` (vCenter: from `nas`; SDDC Manager: a backup file). */
const restore = (name: string, extra: Partial<RunbookStep> = {}): RunbookStep =>
  ({
    restore: name,
    ...(productOf(name) === 'vcenter'
      ? { from: 'nas' }
      : { backupFile: '/tmp/vcf-backup.tar.gz', passphraseRef: 'env:FAKE_PASSPHRASE' }),
    ...extra,
  }) as RunbookStep;

function runbook(
  stages: { name?: string; startWithin?: string; steps: RunbookStep[] }[],
  opts: { name?: string; locationUrl?: string } = {},
): RunbookDocument {
  const names = new Set(stages.flatMap((s) => s.steps.map((st) => ('backup' in st ? st.backup : st.restore))));
  return {
    apiVersion: 'vmware-dr/v1',
    kind: 'Runbook',
    name: opts.name ?? 'logic',
    endpoints: Object.fromEntries(
      [...names].map((n) => [
        n,
        { product: productOf(n), url: `https://${n}.example.com`, username: 'admin', passwordRef: 'env:FAKE_PW' },
      ]),
    ) as RunbookDocument['endpoints'],
    locations: { nas: { type: 'SFTP', url: opts.locationUrl ?? 'sftp://nas.example.com/vcsa' } },
    stages: stages.map((s, i) => ({ ...s, name: s.name ?? `stage-${i + 1}` })),
  };
}

// ---------------------------------------------------------------------------------------------

describe('drRunbook workflow logic (mocked activities, fake step workflows)', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let workflowCode: string;
  const taskQueue = `logic-${randomUUID()}`;

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createFromExistingServer({
      address: inject('temporalAddress'),
      namespace: inject('temporalNamespace'),
    });
    const { code } = await bundleWorkflowCode({
      workflowsPath: path.resolve(__dirname, 'fixtures/workflows/fake-steps.ts'),
      logger: new DefaultLogger('WARN'),
    });
    workflowCode = code;
    worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: inject('temporalNamespace'),
      taskQueue,
      workflowBundle: { code },
      activities: fakeActivities,
    });
    running = worker.run();
  });
  afterAll(async () => {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running;
    await env?.teardown();
  });

  const start = (doc: unknown, options: unknown = {}) =>
    env.client.workflow.start<typeof drRunbook>('drRunbook', {
      taskQueue,
      workflowId: `logic-${randomUUID()}`,
      args: [doc as RunbookDocument, options as object],
    });
  const run = async (doc: unknown, options: unknown = {}) => (await start(doc, options)).result();
  const eventsOf = (h: { workflowId: string }, event: FakeStepEvent['event'] = 'start') =>
    events.filter((e) => e.workflowId.startsWith(`${h.workflowId}/`) && e.event === event);
  const stepOf = (r: RunbookReport, id: string) => r.steps.find((s) => s.id === id)!;
  const states = (r: RunbookReport) => Object.fromEntries(r.steps.map((s) => [s.id, s.state]));
  async function until(what: string, check: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleepMs(50);
    }
  }
  const stateIs = (h: WorkflowHandle, id: string, state: string) => async () =>
    stepOf(await h.query(progressQuery), id).state === state;

  describe('stages and steps', () => {
    it('runs stages in order: each stage starts after the previous one ended', async () => {
      const doc = runbook([{ steps: [backup('sddc-a')] }, { steps: [backup('vc-1')] }, { steps: [backup('vcda-a')] }]);
      const h = await start(doc);
      const report = await h.result();
      expect(report.outcome).toBe('succeeded');
      expect(report.steps.map((s) => [s.id, s.endpoint, s.product, s.state])).toEqual([
        ['1.1', 'sddc-a', 'sddc-manager', 'succeeded'],
        ['2.1', 'vc-1', 'vcenter', 'succeeded'],
        ['3.1', 'vcda-a', 'vcda', 'succeeded'],
      ]);
      expect(eventsOf(h).map((e) => e.workflowType)).toEqual([
        'sddcManagerBackupStep',
        'vcenterBackupStep',
        'vcdaBackupStep',
      ]);
      const t = (id: string, f: 'startedAt' | 'endedAt') => Date.parse(stepOf(report, id)[f]!);
      expect(t('1.1', 'endedAt')).toBeLessThanOrEqual(t('2.1', 'startedAt'));
      expect(t('2.1', 'endedAt')).toBeLessThanOrEqual(t('3.1', 'startedAt'));
      // The child ids, remote ids and locations the runbook passed and recorded.
      expect(eventsOf(h).map((e) => e.workflowId)).toEqual(['1.1', '2.1', '3.1'].map((id) => `${h.workflowId}/${id}`));
      expect(stepOf(report, '2.1')).toMatchObject({
        remoteId: 'fake-vcenterBackupStep-stage-2/2.1',
        location: 'sftp://nas.example.com/vcsa',
      });
    });

    it('runs the steps of a stage in parallel (their runs overlap)', async () => {
      const doc = runbook([{ steps: [backup('slow-vc-1'), backup('slow-vc-2'), backup('slow-sddc')] }]);
      const h = await start(doc);
      const report = await h.result();
      expect(report.outcome).toBe('succeeded');
      const starts = report.steps.map((s) => Date.parse(s.startedAt!));
      const ends = report.steps.map((s) => Date.parse(s.endedAt!));
      expect(Math.max(...starts)).toBeLessThan(Math.min(...ends));
      // All three children started before any 1.5 s step could have ended.
      const at = eventsOf(h).map((e) => e.at);
      expect(at).toHaveLength(3);
      expect(Math.max(...at) - Math.min(...at)).toBeLessThan(1500);
    });

    it('a failed step stops the later stages: their steps are skipped and never start', async () => {
      const doc = runbook([{ steps: [backup('vc-1'), backup('fail-vc-2')] }, { steps: [backup('vcda-a')] }]);
      const h = await start(doc);
      const report = await h.result();
      expect(states(report)).toEqual({ '1.1': 'succeeded', '1.2': 'failed', '2.1': 'skipped' });
      expect(stepOf(report, '1.2').error).toEqual({
        type: 'RemoteJobFailed',
        message: 'fake backup of fail-vc-2 failed',
      });
      expect(report.outcome).toBe('partial');
      expect(eventsOf(h).map((e) => e.stepId)).not.toContain('stage-2/2.1');
    });

    it('continueOnFailure lets the later stages run', async () => {
      const doc = runbook([
        { steps: [backup('fail-vc-1', { continueOnFailure: true })] },
        { steps: [backup('vcda-a')] },
      ]);
      const report = await run(doc);
      expect(states(report)).toEqual({ '1.1': 'failed', '2.1': 'succeeded' });
      expect(report.outcome).toBe('partial');
      // The document's defaults set it for every step.
      const all = await run({
        ...runbook([{ steps: [backup('fail-vc-1')] }, { steps: [backup('fail-vc-2')] }]),
        defaults: { continueOnFailure: true },
      });
      expect(states(all)).toEqual({ '1.1': 'failed', '2.1': 'failed' });
      expect(all.outcome).toBe('failed');
    });
  });

  describe('outcome rules', () => {
    it('succeeded, partial, failed from the steps', async () => {
      const [ok, partial, failed] = await Promise.all([
        run(runbook([{ steps: [backup('vc-1'), backup('sddc-a')] }])),
        run(runbook([{ steps: [backup('vc-1'), backup('fail-sddc')] }])),
        run(runbook([{ steps: [backup('fail-vc-1')] }, { steps: [backup('vc-2')] }])),
      ]);
      expect([ok.outcome, partial.outcome, failed.outcome]).toEqual(['succeeded', 'partial', 'failed']);
      expect(states(failed)).toEqual({ '1.1': 'failed', '2.1': 'skipped' });
    });

    it('rejected: a step rejected at approval and none failed, even when others succeeded', async () => {
      const h = await start(runbook([{ steps: [backup('vc-1'), restore('vc-r')] }, { steps: [backup('vcda-a')] }]));
      await until('the restore to wait for approval', stateIs(h, '1.2', 'waiting-approval'));
      await h.executeUpdate(rejectUpdate, { args: [{ step: '1.2', by: 'bob', reason: 'wrong archive' }] });
      const report = await h.result();
      expect(report.outcome).toBe('rejected');
      expect(states(report)).toEqual({ '1.1': 'succeeded', '1.2': 'rejected', '2.1': 'skipped' });
      expect(stepOf(report, '1.2').approval).toMatchObject({
        by: 'bob',
        decision: 'rejected',
        comment: 'wrong archive',
      });
      expect(report.approvals).toEqual([expect.objectContaining({ step: '1.2', by: 'bob', decision: 'rejected' })]);
      expect(eventsOf(h).map((e) => e.stepId)).toEqual(['stage-1/1.1']);
    });

    it('dry-run: every step planned and checked, no child started, nothing waits for approval', async () => {
      activityCalls.length = 0;
      const doc = runbook([
        { steps: [backup('sddc-a'), backup('vc-1')] },
        { steps: [restore('vc-r'), restore('sddc-r')] },
        { steps: [backup('vcda-a')] },
      ]);
      const h = await start(doc, { dryRun: true });
      const report = await h.result();
      expect(report.outcome).toBe('dry-run');
      expect(report.dryRun).toBe(true);
      expect(report.steps.every((s) => s.state === 'planned')).toBe(true);
      const plan = (id: string) => stepOf(report, id).plan;
      expect(plan('1.1')).toBe('sddcManagerBackupStep on sddc-a; checked: login (fake)');
      expect(plan('1.2')).toBe('vcenterBackupStep on vc-1; checked: login (fake), backup validation OK');
      expect(plan('2.1')).toBe(
        'vcenterRestoreStep on vc-r after approval; checked: login (fake), archive sftp://nas.example.com/vcsa/vc-orig/20261201-020000, restore validation: applicable',
      );
      expect(plan('2.2')).toBe('sddcManagerRestoreStep on sddc-r after approval; checked: login (fake)');
      expect(eventsOf(h)).toEqual([]);
      expect(report.approvals).toEqual([]);
      expect(activityCalls.filter((c) => c.name === 'checkEndpoint')).toHaveLength(5);
    });
  });

  describe('approvals', () => {
    it('the validators refuse an unknown step, a missing approver or reason, a step not waiting; one approval runs the restore', async () => {
      const h = await start(runbook([{ steps: [backup('slow-vc-1')] }, { steps: [restore('vc-r')] }]));
      await until('1.1 to run', stateIs(h, '1.1', 'running'));
      const refusal = async (p: Promise<unknown>) => {
        const e = await p.then(() => undefined).catch((err: unknown) => err);
        expect(e).toBeInstanceOf(WorkflowUpdateFailedError);
        return String((e as WorkflowUpdateFailedError).cause?.message);
      };
      expect(await refusal(h.executeUpdate(approveUpdate, { args: [{ step: '1.1', by: 'alice' }] }))).toMatch(
        /step 1\.1 is running, not waiting for approval/,
      );
      expect(await refusal(h.executeUpdate(approveUpdate, { args: [{ step: '2.1', by: 'alice' }] }))).toMatch(
        /step 2\.1 is pending, not waiting for approval/,
      );
      await until('2.1 to wait for approval', stateIs(h, '2.1', 'waiting-approval'));
      expect(await refusal(h.executeUpdate(approveUpdate, { args: [{ step: '9.9', by: 'alice' }] }))).toMatch(
        /no step 9\.9: steps are 1\.1, 2\.1/,
      );
      expect(await refusal(h.executeUpdate(approveUpdate, { args: [{ step: '2.1', by: ' ' }] }))).toMatch(
        /by: who decides/,
      );
      expect(
        await refusal(h.executeUpdate(approveUpdate, { args: [{ step: '2.1' } as { step: string; by: string }] })),
      ).toMatch(/by: who decides/);
      expect(await refusal(h.executeUpdate(rejectUpdate, { args: [{ step: '2.1', by: 'bob', reason: '' }] }))).toMatch(
        /reason: why the step is rejected is required/,
      );
      expect(eventsOf(h).map((e) => e.stepId)).toEqual(['stage-1/1.1']);
      expect(await h.executeUpdate(approveUpdate, { args: [{ step: '2.1', by: 'alice', comment: 'CHG-1' }] })).toEqual({
        step: '2.1',
        state: 'approved',
      });
      const report = await h.result();
      expect(report.outcome).toBe('succeeded');
      expect(report.approvals).toEqual([
        expect.objectContaining({ step: '2.1', by: 'alice', decision: 'approved', comment: 'CHG-1' }),
      ]);
      // The restore child got the archive the lookup found.
      expect(eventsOf(h).find((e) => e.stepId === 'stage-2/2.1')).toMatchObject({
        workflowType: 'vcenterRestoreStep',
        location: 'sftp://nas.example.com/vcsa/vc-orig/20261201-020000',
      });
      // Refused updates leave no history: one accepted update.
      const history = await h.fetchHistory();
      expect((history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toHaveLength(1);
    });

    it('no approval within approvalTimeout fails safe: ApprovalTimeout, nothing started, later stages skipped', async () => {
      const h = await start(runbook([{ steps: [restore('sddc-r')] }, { steps: [backup('vc-1')] }]), {
        approvalTimeout: '1s',
      });
      const report = await h.result();
      expect(report.outcome).toBe('failed');
      expect(states(report)).toEqual({ '1.1': 'failed', '2.1': 'skipped' });
      expect(stepOf(report, '1.1').error).toEqual({
        type: 'ApprovalTimeout',
        message: 'no approval within 1s: the step did not start',
      });
      expect(eventsOf(h)).toEqual([]);
    });

    // The validators refuse a decision on a step already decided: an approve and a reject that
    // reach the workflow in one task (its worker is stopped while both are sent) are not both accepted.
    it('an approve and a reject arriving together: only one decision is accepted', async () => {
      const queue = `logic-race-${randomUUID()}`;
      const raceWorker = () =>
        Worker.create({
          connection: env.nativeConnection,
          namespace: inject('temporalNamespace'),
          taskQueue: queue,
          workflowBundle: { code: workflowCode },
          activities: fakeActivities,
        });
      const h = await env.client.workflow.start<typeof drRunbook>('drRunbook', {
        taskQueue: queue,
        workflowId: `logic-race-${randomUUID()}`,
        args: [runbook([{ steps: [restore('vc-r')] }]), {}],
      });
      await (await raceWorker()).runUntil(until('approval wait', stateIs(h, '1.1', 'waiting-approval')));
      const settle = (p: Promise<unknown>) => p.catch((e: unknown) => e);
      const approve = settle(h.executeUpdate(approveUpdate, { args: [{ step: '1.1', by: 'alice' }] }));
      const reject = settle(h.executeUpdate(rejectUpdate, { args: [{ step: '1.1', by: 'bob', reason: 'no' }] }));
      await sleepMs(500);
      const [a, r, report] = await (await raceWorker()).runUntil(Promise.all([approve, reject, h.result()]));
      const accepted = [a, r].filter((x) => !(x instanceof WorkflowUpdateFailedError));
      expect(report.approvals).toHaveLength(1);
      expect(accepted).toHaveLength(1);
    });

    it('approval: none on a restore runs it without waiting; approval: required holds a backup', async () => {
      const h = await start(
        runbook([{ steps: [restore('vc-r', { approval: 'none' }), backup('vc-1', { approval: 'required' })] }]),
      );
      await until('the backup to wait for approval', stateIs(h, '1.2', 'waiting-approval'));
      await until('the restore to succeed', stateIs(h, '1.1', 'succeeded'));
      await h.executeUpdate(approveUpdate, { args: [{ step: '1.2', by: 'carol' }] });
      const report = await h.result();
      expect(states(report)).toEqual({ '1.1': 'succeeded', '1.2': 'succeeded' });
      expect(report.approvals.map((a) => a.step)).toEqual(['1.2']);
    });
  });

  describe('cancel, pause, startWithin', () => {
    it('cancel while a step runs: the child sees the cancel, the report is cancelled, compensation only for the running step', async () => {
      const h = await start(runbook([{ steps: [backup('vc-1'), backup('hang-vc-2')] }, { steps: [backup('vcda-a')] }]));
      await until('the hanging child to start', () => eventsOf(h).some((e) => e.stepId === 'stage-1/1.2'));
      await until('1.1 to succeed', stateIs(h, '1.1', 'succeeded'));
      await h.cancel();
      const report = await h.result();
      expect(report.outcome).toBe('cancelled');
      expect(states(report)).toEqual({ '1.1': 'succeeded', '1.2': 'cancelled', '2.1': 'skipped' });
      expect(report.compensations).toEqual([
        { step: '1.2', action: 'cancel the vcenter backup on hang-vc-2', outcome: 'done' },
      ]);
      expect(eventsOf(h, 'cancelled').map((e) => e.workflowId)).toEqual([`${h.workflowId}/1.2`]);
      const child = await env.client.workflow.getHandle(`${h.workflowId}/1.2`).describe();
      expect(child.status.name).toBe('CANCELLED');
    });

    it('cancel while a step waits for approval: cancelled, no compensation (nothing started)', async () => {
      const h = await start(runbook([{ steps: [restore('vc-r')] }]));
      await until('the restore to wait for approval', stateIs(h, '1.1', 'waiting-approval'));
      await h.cancel();
      const report = await h.result();
      expect(report.outcome).toBe('cancelled');
      expect(states(report)).toEqual({ '1.1': 'cancelled' });
      expect(report.compensations).toEqual([]);
      expect(eventsOf(h)).toEqual([]);
    });

    // A cancel while a restore still resolves its archive (no child started) compensates nothing.
    it('cancel during a restore’s archive lookup records no compensation for a job never started', async () => {
      const doc = runbook([{ steps: [restore('vc-r', { approval: 'none' })] }], {
        locationUrl: 'sftp://slow.example.com/vcsa',
      });
      const h = await start(doc);
      await until('the archive lookup', () =>
        activityCalls.some(
          (c) => c.name === 'findVcenterArchive' && JSON.stringify(c.input).includes('slow.example.com'),
        ),
      );
      await h.cancel();
      const report = await h.result();
      expect(report.outcome).toBe('cancelled');
      expect(states(report)).toEqual({ '1.1': 'cancelled' });
      expect(eventsOf(h)).toEqual([]);
      expect(report.compensations.filter((c) => c.outcome === 'done')).toEqual([]);
    });

    // A child that cannot cancel its remote job: the report records a failed compensation.
    it('cancel whose remote cancel fails records a failed compensation', async () => {
      const h = await start(runbook([{ steps: [backup('badcancel-vc-1')] }]));
      await until('the child to start', () => eventsOf(h).length === 1);
      await h.cancel();
      const report = await h.result();
      expect(report.outcome).toBe('cancelled');
      expect(eventsOf(h, 'cancelled')).toHaveLength(1);
      expect(report.compensations).toEqual([
        expect.objectContaining({
          step: '1.1',
          outcome: 'failed',
          error: expect.objectContaining({ type: 'RemoteCancelFailed' }),
        }),
      ]);
    });

    it('pause holds the next stage until resume', async () => {
      const h = await start(runbook([{ steps: [backup('slow-vc-1')] }, { steps: [backup('vcda-a')] }]));
      await until('1.1 to run', stateIs(h, '1.1', 'running'));
      await h.signal(pauseSignal, { by: 'ops' });
      await until('1.1 to succeed', stateIs(h, '1.1', 'succeeded'));
      await sleepMs(1000);
      expect(stepOf(await h.query(progressQuery), '2.1').state).toBe('pending');
      expect(eventsOf(h).map((e) => e.stepId)).toEqual(['stage-1/1.1']);
      const resumedAt = Date.now();
      await h.signal(resumeSignal, { by: 'ops' });
      const report = await h.result();
      expect(report.outcome).toBe('succeeded');
      expect(eventsOf(h).find((e) => e.stepId === 'stage-2/2.1')!.at).toBeGreaterThanOrEqual(resumedAt);
    });

    it('a pause sent with the start holds the first stage until resume', async () => {
      const h = await env.client.workflow.signalWithStart<typeof drRunbook, [{ by?: string }?]>('drRunbook', {
        taskQueue,
        workflowId: `logic-${randomUUID()}`,
        args: [runbook([{ steps: [backup('vc-1')] }]), {}],
        signal: pauseSignal,
        signalArgs: [{ by: 'ops' }],
      });
      await sleepMs(1000);
      expect(stepOf(await h.query(progressQuery), '1.1').state).toBe('pending');
      expect(eventsOf(h)).toEqual([]);
      // A paused run waits for a person: its Current Details and memo say so.
      const m = await h.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      expect(m.currentDetails).toBe('paused by ops: the next stage starts after a resume signal');
      expect((await h.describe()).memo?.waitingFor).toBe('resume (paused by ops)');
      await h.signal(resumeSignal);
      expect((await h.result()).outcome).toBe('succeeded');
      expect((await h.describe()).memo?.waitingFor).toBeUndefined();
    });

    it('cancel while paused: cancelled, later stages skipped', async () => {
      const h = await start(runbook([{ steps: [backup('slow-vc-1')] }, { steps: [backup('vcda-a')] }]));
      // (A pause that reaches the run before its first stage holds that stage: wait until 1.1 runs.)
      await until('1.1 to run', stateIs(h, '1.1', 'running'));
      await h.signal(pauseSignal);
      await until('1.1 to succeed', stateIs(h, '1.1', 'succeeded'));
      await h.cancel();
      const report = await h.result();
      expect(report.outcome).toBe('cancelled');
      expect(states(report)).toEqual({ '1.1': 'succeeded', '2.1': 'skipped' });
      expect(report.compensations).toEqual([]);
    });

    it('a step approved after its stage’s startWithin window fails StartWindowMissed and never starts', async () => {
      const h = await start(runbook([{ startWithin: '1s', steps: [restore('vc-r')] }, { steps: [backup('vc-1')] }]));
      await until('the restore to wait for approval', stateIs(h, '1.1', 'waiting-approval'));
      await sleepMs(1500);
      await h.executeUpdate(approveUpdate, { args: [{ step: '1.1', by: 'alice' }] });
      const report = await h.result();
      expect(states(report)).toEqual({ '1.1': 'failed', '2.1': 'skipped' });
      expect(stepOf(report, '1.1').error?.type).toBe('StartWindowMissed');
      expect(report.outcome).toBe('failed');
      expect(eventsOf(h)).toEqual([]);
    });
  });

  describe('executeRunbook from a parent workflow', () => {
    it('runs drRunbook as a child with a derived id and returns its report to the parent', async () => {
      const parentId = `logic-parent-${randomUUID()}`;
      const doc = runbook([{ steps: [backup('vc-1')] }, { steps: [backup('fail-vcda')] }], { name: 'nightly' });
      const { parentWorkflowId, report } = await env.client.workflow.execute<typeof runbookParent>('runbookParent', {
        taskQueue,
        workflowId: parentId,
        args: [doc],
      });
      expect(parentWorkflowId).toBe(parentId);
      expect(report.workflowId).toBe(`${parentId}/runbook/nightly`);
      expect(report.runbook).toBe('nightly');
      expect(report.outcome).toBe('partial');
      expect(states(report)).toEqual({ '1.1': 'succeeded', '2.1': 'failed' });
      const child = await env.client.workflow.getHandle(`${parentId}/runbook/nightly`).describe();
      expect(child.type).toBe('drRunbook');
      expect(child.parentExecution?.workflowId).toBe(parentId);
    });

    it('cancelling the parent cancels the runbook, which still returns its cancelled report to the parent', async () => {
      const parentId = `logic-parent-${randomUUID()}`;
      const parent = await env.client.workflow.start<typeof runbookParent>('runbookParent', {
        taskQueue,
        workflowId: parentId,
        args: [runbook([{ steps: [backup('hang-vc-1')] }, { steps: [backup('vc-2')] }], { name: 'held' })],
      });
      const runbookId = `${parentId}/runbook/held`;
      await until('the runbook step to start', () => events.some((e) => e.workflowId === `${runbookId}/1.1`));
      await parent.cancel();
      const { report } = await parent.result();
      expect(report.outcome).toBe('cancelled');
      expect(states(report)).toEqual({ '1.1': 'cancelled', '2.1': 'skipped' });
      expect(report.compensations.map((c) => c.step)).toEqual(['1.1']);
      expect(events.filter((e) => e.workflowId === `${runbookId}/1.1` && e.event === 'cancelled')).toHaveLength(1);
    });

    it('takes an explicit child workflow id and options (dry run)', async () => {
      const childId = `logic-child-${randomUUID()}`;
      const { report } = await env.client.workflow.execute<typeof runbookParent>('runbookParent', {
        taskQueue,
        workflowId: `logic-parent-${randomUUID()}`,
        args: [runbook([{ steps: [backup('vc-1')] }]), { dryRun: true }, childId],
      });
      expect(report.workflowId).toBe(childId);
      expect(report.outcome).toBe('dry-run');
    });
  });
});
