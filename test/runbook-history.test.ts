/**
 * What an operator sees of a site backup, on the run's real server against the simulator: the
 * runbook's history stays small (step progress reaches the run only on a change of step state;
 * the job's percent is read on demand from the step, `runbookProgress`), the live view still
 * shows the percent in 10 % marks, the run's Current Details name the running stage, its Queries,
 * Updates and Signals carry descriptions, and the appliance leases end COMPLETED, not terminated.
 *
 * The shape is examples/site-a-nightly.yaml rehearsed as `vmware-dr rehearse` runs it (3 s jobs,
 * 500 ms polls, a 12-second site backup): 138 events in its runbook history before quiet history
 * (20 `vmwareDrStepProgress` signals, 30 workflow tasks; measured on main at 3565639).
 */
import type { WorkflowHandle } from '@temporalio/client';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { checkRunbookFile } from '../src/cli/runbook-file';
import { runbookProgress } from '../src/client/live-progress';
import { installQuietSdkLogger, rehearse } from '../src/rehearsal/index';
import type { RunbookReport } from '../src/contract/runbook/report';

/** Events of the site backup's runbook history before quiet history. */
const EVENTS_BEFORE = 138;

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
type Metadata = {
  definition?: {
    queryDefinitions?: { name?: string; description?: string }[];
    signalDefinitions?: { name?: string; description?: string }[];
    updateDefinitions?: { name?: string; description?: string }[];
  };
  currentDetails?: string;
};

const siteA = () => {
  const r = checkRunbookFile(`${__dirname}/../examples/site-a-nightly.yaml`);
  if (!r.ok) throw new Error('site-a-nightly.yaml is invalid');
  return r.document;
};

beforeAll(() => installQuietSdkLogger());

describe('quiet history: a site backup (rehearsed site-a-nightly, real server, simulator)', () => {
  it('no signal per poll, at most a third of the events, the same live view, named stages, leases COMPLETED', async () => {
    const percents = new Map<string, number[]>();
    const details = new Set<string>();
    let metadata: Metadata | undefined;
    let history: History | undefined;
    const { report, rehearsal } = await rehearse(siteA(), {
      temporal: { address: inject('temporalAddress'), namespace: inject('temporalNamespace') },
      workflowBundle: { codePath: inject('workflowBundlePath') },
      watch: async (handle) => {
        let done = false;
        const result = (handle.result() as Promise<RunbookReport>).finally(() => (done = true));
        while (!done) {
          const live = await runbookProgress(handle).catch(() => undefined);
          // The progress Query never reports an outcome the run has not reached: anything but
          // `running` only once the run has closed (the Query can land between the run's end and
          // result() returning here, and then answers from the closed run).
          if (live && live.outcome !== 'running') expect((await handle.describe()).status.name).not.toBe('RUNNING');
          for (const s of live?.steps ?? []) {
            if (s.state !== 'running' || s.percent === undefined) continue;
            const seen = percents.get(s.id) ?? [];
            if (seen.at(-1) !== s.percent) percents.set(s.id, [...seen, s.percent]);
          }
          const m = (await handle.query<Metadata>('__temporal_workflow_metadata').catch(() => undefined)) ?? metadata;
          metadata = m;
          if (m?.currentDetails) details.add(m.currentDetails);
          await new Promise((r) => setTimeout(r, 100));
        }
        const r = await result;
        history = await handle.fetchHistory();
        return r;
      },
    });
    expect(report.outcome).toBe('succeeded');
    const events = history?.events ?? [];
    const signals = events.filter((e) => e.workflowExecutionSignaledEventAttributes);
    expect(signals.map((e) => e.workflowExecutionSignaledEventAttributes?.signalName)).toEqual([]);
    // At least 3× fewer events than before (138 → ≤ 46).
    expect(events.length).toBeLessThanOrEqual(Math.floor(EVENTS_BEFORE / 3));
    // The live view is unchanged: each vCenter job's percent, in 10 % marks, rising.
    for (const step of ['2.1', '2.2']) {
      const seen = percents.get(step) ?? [];
      expect(seen.length, `percents of step ${step}: ${seen.join(', ')}`).toBeGreaterThanOrEqual(2);
      for (const p of seen) expect(p % 10).toBe(0);
      expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    }
    // Current Details name the running stage.
    expect([...details]).toContain('stage 2/3 vcenters: backup vc-mgmt, backup vc-wld01');
    // Every Query, Signal and Update of the run says what it is for.
    const d = metadata?.definition;
    const handlers = [...(d?.queryDefinitions ?? []), ...(d?.signalDefinitions ?? []), ...(d?.updateDefinitions ?? [])];
    expect(handlers.map((h) => h.name)).toEqual(
      expect.arrayContaining(['progress', 'approve', 'reject', 'pause', 'resume', 'vmwareDrStepProgress']),
    );
    for (const h of handlers.filter((x) => !x.name?.startsWith('__'))) expect(h.description, h.name).toBeTruthy();
    // The appliance leases of the rehearsal ended cleanly.
    const { Client, Connection } = await import('@temporalio/client');
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    try {
      const client = new Client({ connection, namespace: inject('temporalNamespace') });
      const leases: string[] = [];
      for await (const w of client.workflow.list({
        query: `TaskQueue = "${rehearsal.taskQueue}" AND WorkflowType = "applianceLease"`,
      }))
        leases.push(w.status.name);
      expect(leases.length).toBeGreaterThan(0);
      expect(
        leases.every((s) => s === 'COMPLETED'),
        leases.join(', '),
      ).toBe(true);
    } finally {
      await connection.close();
    }
  }, 90_000);
});
