/**
 * Approvals by a verified second person, and restores that cannot fail for what the approver was
 * shown, on the real dev server with the simulator over HTTPS: the identity that started a run may
 * not approve it (four eyes), identities come from the server's record of each request (clients of
 * their own identity here), the runbook's `approvers` narrow who may approve, a refused approval
 * leaves no history; a vCenter restore is validated before its approval, its warnings are shown
 * (progress, webhook, report) and no restore job starts unless they are accepted.
 */
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { CredentialPolicy, policyForRunbooks } from '../src/core/policy/index';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { RunbookDocument, RunbookStep } from '../src/contract/runbook/document';
import type { AuditEntry, RunbookReport } from '../src/contract/runbook/report';
import { main } from '../src/cli/index';
import type { VcenterAppliance } from '../src/simulator/vcenter/appliance';
import { approveUpdate, pauseSignal, progressQuery, resumeSignal } from '../src/contract/messages';
import { simulatedEndpoint } from './support/endpoints';
import { type Harness, createHarness } from './support/harness';
import { type Webhook, startWebhook } from './support/webhook';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const savedEnv = { ...process.env };

describe('approvals by a verified second person; restores validated before approval', () => {
  let h: Harness;
  let hook: Webhook;
  let site: RunbookDocument;

  beforeAll(async () => {
    h = await createHarness({ vcenters: 2, jobSeconds: 1 });
    hook = await startWebhook();
    const { vcenter } = h.sim.info;
    vcenter.forEach((v, i) => (process.env[`AP_VC${i + 1}_PASSWORD`] = v.password));
    process.env.AP_SFTP_PASSWORD = 'sftp-secret';
    process.env.AP_HOOK_URL = `${hook.url}/hook`;
    site = {
      apiVersion: 'vmware-dr/v1',
      kind: 'Runbook',
      name: 'approvals',
      defaults: { pollInterval: '100ms' },
      notify: [{ urlRef: 'env:AP_HOOK_URL', on: ['approval-needed'] }],
      endpoints: {
        'vc-1': simulatedEndpoint('vcenter', vcenter[0]!, 'env:AP_VC1_PASSWORD'),
        'vc-2': simulatedEndpoint('vcenter', vcenter[1]!, 'env:AP_VC2_PASSWORD'),
      },
      locations: {
        'sftp-a': {
          type: 'SFTP',
          url: 'sftp://backup.example.com/vcsa',
          username: 'b',
          passwordRef: 'env:AP_SFTP_PASSWORD',
        },
      },
      stages: [{ name: 'seed', steps: [{ backup: 'vc-1', to: 'sftp-a' }] }],
    };
    // A backup of vc-1 to restore from.
    const seeded = await h.withWorker(async () => (await startAs('seeder@test', site)).result());
    expect(seeded.outcome).toBe('succeeded');
  });
  beforeEach(() => {
    // vc-2 freshly "deployed" (restore stage) for every test; the simulator always warns of linked mode.
    (h.sim.appliance('vcenter', 'vc-2') as VcenterAppliance).setStage('restore');
    h.sim.resetCounters();
    hook.bodies.length = 0;
  });
  afterAll(async () => {
    process.env = savedEnv;
    await hook?.close();
    await h?.close();
  });

  function startAs(
    identity: string,
    doc: RunbookDocument,
  ): Promise<WorkflowHandle<(d: unknown) => Promise<RunbookReport>>> {
    return h.as(identity).workflow.start<(d: unknown) => Promise<RunbookReport>>('drRunbook', {
      taskQueue: h.taskQueue,
      workflowId: `approvals-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`,
      args: [doc],
    });
  }
  const restoreDoc = (step: Partial<RunbookStep> = {}): RunbookDocument => ({
    ...site,
    name: 'restore-vc-2',
    stages: [
      {
        name: 'restore',
        steps: [
          { restore: 'vc-2', from: 'sftp-a', archive: 'latest', systemName: 'vc-1.sim.local', ...step } as RunbookStep,
        ],
      },
    ],
  });
  /** The run's handle as another person sees it: their Updates carry their identity. */
  const as = (identity: string, handle: { workflowId: string }) => h.as(identity).workflow.getHandle(handle.workflowId);
  const approve = (identity: string, handle: { workflowId: string }, extra: Record<string, unknown> = {}) =>
    as(identity, handle).executeUpdate(approveUpdate, {
      args: [{ step: '1.1', by: identity.split('@')[0]!, ...extra }],
    });
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => 'accepted',
      (e: unknown) => {
        expect(e).toBeInstanceOf(WorkflowUpdateFailedError);
        return (e as WorkflowUpdateFailedError).cause?.message ?? '';
      },
    );
  async function waitingReport(handle: WorkflowHandle): Promise<RunbookReport> {
    for (;;) {
      const r = (await handle.query(progressQuery)) as RunbookReport;
      if (r.steps[0]!.state === 'waiting-approval') return r;
      if (r.steps[0]!.state !== 'pending')
        throw new Error(`step 1.1 is ${r.steps[0]!.state}: ${JSON.stringify(r.steps[0])}`);
      await sleep(100);
    }
  }
  /** What the UI shows of a run without querying its report: Current Details, memo, search attribute. */
  async function shown(handle: WorkflowHandle) {
    const m = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    const d = await handle.describe();
    const waitingFor = d.typedSearchAttributes.getAll().find((p) => p.key.name === 'VmwareDrWaitingFor')?.value;
    return { details: m.currentDetails, memo: d.memo?.waitingFor, waitingFor };
  }
  const restoreJobs = () => h.sim.counters().jobs.filter((j) => j.kind === 'restore' && j.appliance === 'vc-2');
  const acceptedUpdates = async (handle: WorkflowHandle) =>
    ((await handle.fetchHistory()).events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);

  it("four eyes: the starter's approval is refused without history; another identity's is accepted and recorded", async () => {
    const report = await h.withWorker(async () => {
      const handle = await startAs('alice@site-a.test', restoreDoc({ ignoreWarnings: true }));
      const waiting = await waitingReport(handle);
      expect(waiting.startedBy).toBe('alice@site-a.test');
      expect(waiting.steps[0]!.waiting).toContain('someone other than alice@site-a.test');
      expect(waiting.steps[0]!.waiting).toContain(`vmware-dr approve ${handle.workflowId} --step 1.1`);
      // The UI says it too: Current Details with the command, the memo, and a search attribute for saved views.
      const ui = await shown(handle);
      expect(ui.details).toContain(
        'waiting for approval of step 1.1 (restore vc-2) by someone other than alice@site-a.test',
      );
      expect(ui.details).toContain(`\`vmware-dr approve ${handle.workflowId} --step 1.1 --by NAME\``);
      expect(ui.memo).toBe('step 1.1 (restore vc-2): approval by someone other than alice@site-a.test');
      expect(ui.waitingFor).toBe('approval');
      // The starter, under any name: refused, and the refusal wrote nothing.
      const own = await refusal(approve('alice@site-a.test', handle, { by: 'someone-else' }));
      expect(own).toMatch(/alice@site-a\.test started this run and may not approve its own step 1\.1 \(four eyes\)/);
      // Identities compare without case.
      expect(await refusal(approve('ALICE@site-a.test', handle))).toMatch(/four eyes/);
      expect(await acceptedUpdates(handle)).toHaveLength(0);
      expect(restoreJobs()).toHaveLength(0);
      expect(await approve('bob@site-a.test', handle, { comment: 'CHG-7' })).toEqual({
        step: '1.1',
        state: 'approved',
      });
      const result = await handle.result();
      // Approved: nothing is waited for any more; the approval's timer said what it was.
      const after = await handle.describe();
      expect(after.memo?.waitingFor).toBeUndefined();
      expect(after.typedSearchAttributes.getAll().map((p) => p.key.name)).not.toContain('VmwareDrWaitingFor');
      const timers = ((await handle.fetchHistory()).events ?? []).flatMap((e) =>
        e.timerStartedEventAttributes ? [JSON.parse(Buffer.from(e.userMetadata?.summary?.data ?? []).toString())] : [],
      );
      expect(timers).toEqual(['approval timeout of step 1.1 (restore vc-2)']);
      return result;
    });
    expect(report.outcome).toBe('succeeded');
    expect(report.startedBy).toBe('alice@site-a.test');
    expect(report.approvals).toEqual([
      expect.objectContaining({
        step: '1.1',
        by: 'bob',
        identity: 'bob@site-a.test',
        decision: 'approved',
        comment: 'CHG-7',
      }),
    ]);
    expect(report.steps[0]!.approval).toMatchObject({ by: 'bob', identity: 'bob@site-a.test', decision: 'approved' });
    expect(report.audit).toEqual([
      expect.objectContaining({ event: 'started', identity: 'alice@site-a.test' }),
      expect.objectContaining({
        event: 'approved',
        step: '1.1',
        by: 'bob',
        identity: 'bob@site-a.test',
        detail: 'CHG-7',
      }),
    ]);
    expect(restoreJobs()).toHaveLength(1);
  });

  it("the runbook's approvers narrow who may approve: one outside is refused, one inside accepted", async () => {
    const report = await h.withWorker(async () => {
      const handle = await startAs('alice@site-a.test', restoreDoc({ ignoreWarnings: true, approvers: ['carol@*'] }));
      const waiting = await waitingReport(handle);
      expect(waiting.steps[0]!.waiting).toContain('allowed by the runbook: carol@*');
      expect(await refusal(approve('bob@site-a.test', handle))).toMatch(
        /bob@site-a\.test may not approve step 1\.1: the runbook lets carol@\* approve it/,
      );
      expect(await acceptedUpdates(handle)).toHaveLength(0);
      await approve('carol@site-a.test', handle);
      return handle.result();
    });
    expect(report.outcome).toBe('succeeded');
    expect(report.approvals[0]).toMatchObject({ identity: 'carol@site-a.test' });
  });

  it('a restore with warnings: shown before approval; not accepted → refused, no restore job; accepted → restored and recorded', async () => {
    const report = await h.withWorker(async () => {
      const handle = await startAs('alice@site-a.test', restoreDoc());
      const waiting = await waitingReport(handle);
      const step = waiting.steps[0]!;
      // The simulator's validation warns of an Enhanced Linked Mode domain (one warning).
      expect(step.warnings).toEqual([expect.stringContaining('Enhanced Linked Mode')]);
      expect(step.acceptWarnings).toBe(true);
      expect(step.waiting).toContain('1 restore warning to accept');
      expect(step.waiting).toContain('--accept-warnings');
      // The archive is pinned before the approval: the approver approves that one.
      expect(step.location).toMatch(/^sftp:\/\/backup\.example\.com\/vcsa\//);
      // The webhook's approval request carries them too.
      for (let i = 0; i < 50 && hook.bodies.length === 0; i++) await sleep(100);
      expect(hook.bodies[0]).toMatchObject({ event: 'approval-needed', warnings: step.warnings });
      expect(String(hook.bodies[0]!.text)).toContain('Enhanced Linked Mode');
      expect(await refusal(approve('bob@site-a.test', handle))).toMatch(
        /has restore validation warnings nobody accepted: .*Enhanced Linked Mode.*approve with --accept-warnings/,
      );
      expect(await acceptedUpdates(handle)).toHaveLength(0);
      expect(restoreJobs()).toHaveLength(0);
      await approve('bob@site-a.test', handle, { acceptWarnings: true });
      return handle.result();
    });
    expect(report.outcome).toBe('succeeded');
    expect(report.approvals[0]!.acceptedWarnings).toEqual(report.steps[0]!.warnings);
    expect(report.steps[0]!.approval?.acceptedWarnings).toEqual([expect.stringContaining('Enhanced Linked Mode')]);
    expect(report.audit?.find((e) => e.event === 'approved')?.detail).toContain('accepted warnings');
    expect(restoreJobs()).toHaveLength(1);
  });

  it('the audit trail: who started, paused, resumed (signal identities); vmware-dr report adds who requested the cancel', async () => {
    const { report, json, code } = await h.withWorker(async () => {
      const handle = await startAs('alice@site-a.test', restoreDoc({ ignoreWarnings: true }));
      await waitingReport(handle);
      await as('bob@site-a.test', handle).signal(pauseSignal, { by: 'bob' });
      await as('dave@site-a.test', handle).signal(resumeSignal);
      await as('carol@site-a.test', handle).cancel();
      const r = await handle.result();
      let out = '';
      const exit = await main(
        [
          'report',
          handle.workflowId,
          '--format',
          'json',
          '--address',
          inject('temporalAddress'),
          '--namespace',
          inject('temporalNamespace'),
        ],
        { stdout: (t) => void (out += t), stderr: () => undefined },
      );
      return { report: r, json: JSON.parse(out) as { audit: AuditEntry[] }, code: exit };
    });
    expect(report.outcome).toBe('cancelled');
    expect(report.audit).toEqual([
      expect.objectContaining({ event: 'started', identity: 'alice@site-a.test' }),
      expect.objectContaining({ event: 'paused', by: 'bob', identity: 'bob@site-a.test' }),
      expect.objectContaining({ event: 'resumed', identity: 'dave@site-a.test' }),
      expect.objectContaining({ event: 'cancel-requested' }),
    ]);
    expect(code).toBe(0);
    expect(json.audit.at(-1)).toMatchObject({ event: 'cancel-requested', identity: 'carol@site-a.test' });
    expect(restoreJobs()).toHaveLength(0);
  });

  it('a restore with warnings that needs no approval and does not ignore them fails before it starts: no restore job', async () => {
    const report = await h.withWorker(async () =>
      (await startAs('alice@site-a.test', restoreDoc({ approval: 'none' }))).result(),
    );
    expect(report.outcome).toBe('failed');
    expect(report.steps[0]!.state).toBe('failed');
    expect(report.steps[0]!.error).toMatchObject({
      type: 'RestoreWarnings',
      message: expect.stringContaining('Enhanced Linked Mode'),
      hint: expect.stringContaining('ignoreWarnings: true'),
    });
    // The restore was validated, never started.
    expect(h.sim.counters().calls.vcenter?.['vc-2']?.restoreValidate).toBeGreaterThan(0);
    expect(restoreJobs()).toHaveLength(0);
  });

  describe("under the worker's credential policy", () => {
    /** The simulated site's starting policy (as `policy init` writes it), with these approval settings. */
    const policyWith = (approvals: Record<string, unknown>) => {
      const generated = policyForRunbooks([site, restoreDoc({ ignoreWarnings: true })]);
      return CredentialPolicy.parse(
        JSON.stringify({ ...generated.document, approvals }),
        '/etc/vmware-dr/approvals-test-policy.json',
      );
    };

    it("the policy's approvers: an identity outside them is refused, one inside accepted; the report names the policy", async () => {
      const policy = policyWith({ approvers: [{ identities: ['dave@*'], actions: ['restore'] }] });
      const report = await h.withWorker(
        async () => {
          const handle = await startAs('alice@site-a.test', restoreDoc({ ignoreWarnings: true }));
          const waiting = await waitingReport(handle);
          expect(waiting.steps[0]!.waiting).toContain('allowed by the policy: dave@*');
          expect(await refusal(approve('bob@site-a.test', handle))).toMatch(
            /bob@site-a\.test may not approve step 1\.1: the worker's credential policy lets dave@\* approve it/,
          );
          expect(await acceptedUpdates(handle)).toHaveLength(0);
          await approve('dave@site-a.test', handle);
          return handle.result();
        },
        { policy },
      );
      expect(report.outcome).toBe('succeeded');
      expect(report.policy).toEqual({ source: policy.source, sha256: policy.sha256 });
      expect(report.approvals[0]).toMatchObject({ identity: 'dave@site-a.test' });
    });

    it('fourEyes: false lets the starter approve (the operator chose it)', async () => {
      const policy = policyWith({ fourEyes: false });
      const report = await h.withWorker(
        async () => {
          const handle = await startAs('alice@site-a.test', restoreDoc({ ignoreWarnings: true }));
          await waitingReport(handle);
          await approve('alice@site-a.test', handle);
          return handle.result();
        },
        { policy },
      );
      expect(report.outcome).toBe('succeeded');
      expect(report.approvals[0]).toMatchObject({ identity: 'alice@site-a.test' });
    });

    it('a restore the policy requires approval for cannot turn it off: approval: none is refused before anything starts', async () => {
      const policy = policyWith({ required: ['restore'] });
      const report = await h.withWorker(
        async () =>
          (await startAs('alice@site-a.test', restoreDoc({ ignoreWarnings: true, approval: 'none' }))).result(),
        { policy },
      );
      expect(report.outcome).toBe('failed');
      expect(report.steps[0]).toMatchObject({ state: 'failed', error: { type: 'NotPermitted' } });
      expect(report.refused).toEqual([
        expect.objectContaining({ steps: ['1.1'], rule: expect.stringContaining('approvals') }),
      ]);
      // Refused before any request to the appliance: not even the restore validation.
      expect(h.sim.counters().calls.vcenter?.['vc-2']).toBeUndefined();
      expect(restoreJobs()).toHaveLength(0);
    });

    it('a restore step workflow started directly never restores: NotPermitted before its POST, no restore job', async () => {
      const policy = policyWith({ required: ['restore'] });
      const failure = await h.withWorker(
        async () => {
          const handle = await h.as('mallory@site-a.test').workflow.start('vcenterRestoreStep', {
            taskQueue: h.taskQueue,
            workflowId: `direct-restore-${Date.now()}`,
            args: [
              {
                endpoint: { ...site.endpoints['vc-2']!, product: undefined },
                restore: { locationType: 'SFTP', location: 'sftp://backup.example.com/vcsa', ignoreWarnings: true },
                pollIntervalMs: 100,
              },
            ],
          });
          return handle.result().then(
            () => undefined,
            (e: unknown) => e as WorkflowFailedError,
          );
        },
        { policy },
      );
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      let cause: unknown = failure;
      while ((cause as { cause?: unknown }).cause) cause = (cause as { cause?: unknown }).cause;
      expect((cause as ApplicationFailure).type).toBe('NotPermitted');
      expect((cause as ApplicationFailure).nonRetryable).toBe(true);
      expect((cause as ApplicationFailure).message).toMatch(/started directly, not by a runbook/);
      expect(restoreJobs()).toHaveLength(0);
      expect(h.sim.counters().calls.vcenter?.['vc-2']?.restoreJobCreate).toBeUndefined();
    });
  });
});
