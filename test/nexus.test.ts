/**
 * "Run a runbook" as a Nexus operation, end to end on the real dev server against the simulator:
 * a caller workflow in a second namespace runs a runbook through a Nexus Endpoint whose target is
 * the namespace and task queue of the worker that hosts the handler (worker/nexus.ts), and reads the
 * report. Also: a caller-given workflow id shared by two callers starts one run; an invalid
 * document is refused before anything starts, naming the field.
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { Client, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, NexusOperationFailure } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import * as nexus from 'nexus-rpc';
import { DefaultLogger, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunRunbookInput } from '../src/nexus/service';
import type { RunbookDocument } from '../src/contract/runbook/document';
import { createActivities } from '../activities';
import { checkRunRunbookInput, runbookNexusServiceHandler, runbookNexusWorkflowId } from '../worker/nexus';
import { progressQuery } from '../src/contract/messages';
import type { runbookViaNexus } from './fixtures/workflows/nexus-caller';
import { simulatedEndpoint } from './support/endpoints';
import { type Harness, createHarness } from './support/harness';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('runRunbook as a Nexus operation (real server, simulator, two namespaces)', () => {
  let h: Harness;
  let handlerWorker: Worker;
  let callerWorker: Worker;
  let running: Promise<void>[] = [];
  let caller: Client;
  let endpoint: { id: string; version: temporal.api.nexus.v1.IEndpoint['version']; name: string } | undefined;
  let doc: RunbookDocument;
  const suffix = randomUUID().slice(0, 8);
  const callerNamespace = `nexus-caller-${suffix}`;
  const callerTaskQueue = `nexus-caller-${suffix}`;
  const envVar = `NX_${suffix.toUpperCase()}_VC_PASSWORD`;

  beforeAll(async () => {
    h = await createHarness({ vcenters: 1, jobSeconds: 1 });
    const vc = h.sim.info.vcenter[0]!;
    process.env[envVar] = vc.password;
    doc = {
      apiVersion: 'vmware-dr/v1',
      kind: 'Runbook',
      name: 'nexus-nightly',
      site: 'site-b',
      defaults: { pollInterval: '100ms' },
      endpoints: {
        'vc-1': simulatedEndpoint('vcenter', vc, `env:${envVar}`),
      },
      locations: {
        'sftp-a': {
          type: 'SFTP',
          url: 'sftp://backup.example.com/vcsa',
          username: 'backup',
          passwordRef: `env:${envVar}`,
          encryptionPasswordRef: `env:${envVar}`,
        },
      },
      stages: [{ name: 'vcenter', steps: [{ backup: 'vc-1', to: 'sftp-a' }] }],
    };

    const connection = h.env.connection;
    // The caller's namespace: registered on the run's dev server, visible once describe answers.
    await connection.workflowService.registerNamespace({
      namespace: callerNamespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    for (let i = 0; ; i++) {
      try {
        await connection.workflowService.describeNamespace({ namespace: callerNamespace });
        break;
      } catch (err) {
        if (i > 100) throw err;
        await sleep(100);
      }
    }
    // The endpoint: the operator's one act that connects the two namespaces (the caller names only it).
    const name = `vmware-dr-runbook-${suffix}`;
    const created = await connection.operatorService.createNexusEndpoint({
      spec: {
        name,
        target: { worker: { namespace: inject('temporalNamespace'), taskQueue: h.taskQueue } },
      },
    });
    endpoint = { id: created.endpoint!.id!, version: created.endpoint!.version, name };

    const { code } = await bundleWorkflowCode({
      workflowsPath: path.resolve(__dirname, 'fixtures/workflows/nexus-caller.ts'),
      logger: new DefaultLogger('WARN'),
    });
    // The handler worker: the harness's worker (workflows + activities) with the Nexus service added,
    // as createWorker (worker/index.ts) registers it.
    handlerWorker = await Worker.create({
      connection: h.env.nativeConnection,
      namespace: inject('temporalNamespace'),
      taskQueue: h.taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      activities: createActivities({ pollIntervalMs: 100, busyRetryDelayMs: 100 }),
      nexusServices: [runbookNexusServiceHandler()],
      maxHeartbeatThrottleInterval: '1 second',
    });
    callerWorker = await Worker.create({
      connection: h.env.nativeConnection,
      namespace: callerNamespace,
      taskQueue: callerTaskQueue,
      workflowBundle: { code },
    });
    running = [handlerWorker.run(), callerWorker.run()];
    caller = new Client({ connection, namespace: callerNamespace });
  });

  afterAll(async () => {
    for (const w of [handlerWorker, callerWorker]) if (w?.getState() === 'RUNNING') w.shutdown();
    await Promise.all(running);
    if (endpoint)
      await h.env.connection.operatorService
        .deleteNexusEndpoint({ id: endpoint.id, version: endpoint.version })
        .catch(() => undefined);
    delete process.env[envVar];
    await h?.close();
  });

  const call = (input: RunRunbookInput, workflowId = `nexus-call-${randomUUID()}`) =>
    caller.workflow.start<typeof runbookViaNexus>('runbookViaNexus', {
      taskQueue: callerTaskQueue,
      workflowId,
      args: [endpoint!.name, input],
    });

  /** The runbook runs in the handler's namespace, started by the Nexus handler (on this file's task queue only: other test files share the namespace). */
  const runbookRuns = async () => {
    const runs: { workflowId: string; type: string }[] = [];
    for await (const w of h.env.client.workflow.list({
      query: `WorkflowType = 'drRunbook' AND TaskQueue = '${h.taskQueue}'`,
    }))
      runs.push({ workflowId: w.workflowId, type: w.type });
    return runs;
  };

  it('a caller in another namespace runs a runbook through the endpoint and reads its report', async () => {
    h.sim.resetCounters();
    const handle = await call({ document: doc });
    const { namespace, report } = await handle.result();

    expect(namespace).toBe(callerNamespace);
    expect(report.outcome).toBe('succeeded');
    expect(report.steps.map((s) => [s.id, s.endpoint, s.state])).toEqual([['1.1', 'vc-1', 'succeeded']]);
    const jobs = h.sim.counters().jobs.filter((j) => j.kind === 'backup');
    expect(jobs.map((j) => `${j.product}/${j.appliance}`)).toEqual(['vcenter/vc-1']);
    expect(report.steps[0]!.remoteId).toBe(jobs[0]!.id);

    // The caller's history: one Nexus operation on the endpoint, completed with the report.
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const scheduled = events.find((e) => e.nexusOperationScheduledEventAttributes);
    expect(scheduled?.nexusOperationScheduledEventAttributes).toMatchObject({
      endpoint: endpoint!.name,
      service: 'vmware-dr-runbook',
      operation: 'runRunbook',
    });
    expect(events.some((e) => e.nexusOperationStartedEventAttributes)).toBe(true);
    expect(events.some((e) => e.nexusOperationCompletedEventAttributes)).toBe(true);
    // The run is drRunbook in the handler's namespace, its id derived from the Nexus request id.
    const requestId = scheduled!.nexusOperationScheduledEventAttributes!.requestId!;
    expect(report.workflowId).toBe(runbookNexusWorkflowId('nexus-nightly', requestId));
    const run = await h.env.client.workflow.getHandle(report.workflowId).describe();
    expect(run.type).toBe('drRunbook');
    expect(run.status.name).toBe('COMPLETED');
    // No secret crossed into either history: the password is a reference resolved by the activity.
    const password = h.sim.info.vcenter[0]!.password;
    expect(JSON.stringify(history)).not.toContain(password);
    expect(JSON.stringify(await h.env.client.workflow.getHandle(report.workflowId).fetchHistory())).not.toContain(
      password,
    );
  });

  it('two calls with the same caller-given workflow id start one run; both get its report', async () => {
    h.sim.resetCounters();
    const workflowId = `nexus-shared-${suffix}`;
    const [a, b] = await Promise.all([call({ document: doc, workflowId }), call({ document: doc, workflowId })]);
    const [ra, rb] = await Promise.all([a.result(), b.result()]);
    expect(ra.report.workflowId).toBe(workflowId);
    expect(rb.report.workflowId).toBe(workflowId);
    expect(ra.report.outcome).toBe('succeeded');
    expect(rb.report).toEqual(ra.report);
    expect(h.sim.counters().jobs.filter((j) => j.kind === 'backup')).toHaveLength(1);
    expect((await runbookRuns()).filter((r) => r.workflowId === workflowId)).toHaveLength(1);
  });

  it('cancelling the caller cancels the operation: the runbook stops and the caller still gets its report', async () => {
    h.sim.resetCounters();
    const workflowId = `nexus-cancel-${suffix}`;
    const held: RunbookDocument = {
      ...doc,
      stages: [{ name: 'vcenter', steps: [{ backup: 'vc-1', to: 'sftp-a', approval: 'required' }] }],
    };
    const handle = await call({ document: held, workflowId });
    const runbook = h.env.client.workflow.getHandle(workflowId);
    for (let i = 0; ; i++) {
      const state = await runbook
        .query(progressQuery)
        .then((p) => p.steps[0]?.state)
        .catch(() => undefined);
      if (state === 'waiting-approval') break;
      if (i > 200) throw new Error(`the runbook never waited for approval (last state ${state})`);
      await sleep(100);
    }
    await handle.cancel();
    const { report } = await handle.result();
    expect(report.workflowId).toBe(workflowId);
    expect(report.outcome).toBe('cancelled');
    expect(report.steps.map((s) => s.state)).toEqual(['cancelled']);
    expect(h.sim.counters().jobs).toEqual([]);
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.some((e) => e.nexusOperationCancelRequestedEventAttributes)).toBe(true);
    expect((await runbook.describe()).status.name).toBe('COMPLETED');
  });

  it('an invalid document is refused by the handler, naming the field; nothing starts', async () => {
    h.sim.resetCounters();
    const before = (await runbookRuns()).length;
    const bad = { ...doc, stages: [{ name: 'vcenter', steps: [{ backup: 'vc-9', to: 'sftp-a' }] }] };
    const handle = await call({ document: bad, options: { dryRun: 'yes' as unknown as boolean } });
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const failure = (err as WorkflowFailedError).cause;
    expect(failure).toBeInstanceOf(NexusOperationFailure);
    const chain: string[] = [];
    for (let e: unknown = failure; e instanceof Error; e = e.cause) chain.push(`${e.name}: ${e.message}`);
    const text = chain.join('\n');
    // Refused by the handler as a non-retryable BAD_REQUEST, its cause the same InvalidInput failure
    // (with every problem's path) that drRunbook itself would have ended with.
    const handlerError = (failure as NexusOperationFailure).cause;
    expect(handlerError).toBeInstanceOf(nexus.HandlerError);
    expect((handlerError as nexus.HandlerError).type).toBe('BAD_REQUEST');
    expect((handlerError as nexus.HandlerError).retryable).toBe(false);
    const invalid = (handlerError as nexus.HandlerError).cause;
    expect(invalid).toBeInstanceOf(ApplicationFailure);
    expect((invalid as ApplicationFailure).type).toBe('InvalidInput');
    expect((invalid as ApplicationFailure).details?.[0]).toEqual({
      problems: [
        { path: 'options.dryRun', message: expect.any(String) },
        { path: 'document.stages[0].steps[0].backup', message: expect.stringMatching(/unknown endpoint "vc-9"/) },
      ],
    });
    expect(text).toMatch(/document\.stages\[0\]\.steps\[0\]\.backup: unknown endpoint "vc-9"/);
    expect(text).toMatch(/options\.dryRun/);
    expect(text).toMatch(/nothing was started/);
    expect(h.sim.counters().jobs).toEqual([]);
    expect((await runbookRuns()).length).toBe(before);
  });
});

describe("checkRunRunbookInput (the handler's boundary, pure)", () => {
  const problemsOf = (input: unknown): string[] => {
    try {
      checkRunRunbookInput(input);
    } catch (err) {
      expect(err).toBeInstanceOf(nexus.HandlerError);
      const cause = (err as nexus.HandlerError).cause as ApplicationFailure;
      return (cause.details?.[0] as { problems: { path: string; message: string }[] }).problems.map(
        (p) => `${p.path}: ${p.message}`,
      );
    }
    return [];
  };

  it('names every problem of the envelope and the document at once', () => {
    expect(problemsOf({})).toEqual([expect.stringMatching(/^document: is required/)]);
    expect(problemsOf({ document: 42 })).toEqual([expect.stringMatching(/^document: must be an object/)]);
    const all = problemsOf({ document: { apiVersion: 'v0' }, workflowId: '', extra: 1 });
    expect(all).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^workflowId: must not be empty/),
        expect.stringMatching(/^extra: unknown field "extra"/),
        expect.stringMatching(/^document\.apiVersion: must be vmware-dr\/v1/),
        expect.stringMatching(/^document\.stages: /),
      ]),
    );
  });

  it('returns a valid input, options and caller id kept', () => {
    const document = {
      apiVersion: 'vmware-dr/v1',
      kind: 'Runbook',
      name: 'n1',
      endpoints: { vc: { product: 'vcenter', url: 'https://vc.example.com', username: 'u', passwordRef: 'env:VC' } },
      stages: [{ name: 's', steps: [{ backup: 'vc', to: 'l' }] }],
      locations: { l: { type: 'NFS', url: 'nfs://nas/vcsa' } },
    };
    expect(problemsOf({ document, options: { dryRun: true }, workflowId: 'mine' })).toEqual([]);
    const input = checkRunRunbookInput({ document, options: { dryRun: true }, workflowId: 'mine' });
    expect(input).toMatchObject({ document: { name: 'n1' }, options: { dryRun: true }, workflowId: 'mine' });
    expect(runbookNexusWorkflowId('n1', 'req-1')).toBe('runbook/n1/nexus/req-1');
  });
});
