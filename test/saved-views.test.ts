/**
 * The README's saved views, as written there, against the run's real server (its visibility) and
 * runbook runs against the simulator: "runs waiting for a person" finds a run whose step waits for
 * approval (and a paused one), "runs of site X" finds the site's runs only, "failed runs this
 * week" finds a failed run and not a rejected one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunbookDocument } from '../src/contract/runbook/document';
import type { RunbookReport } from '../src/contract/runbook/report';
import { pauseSignal, progressQuery, rejectUpdate, resumeSignal } from '../src/contract/messages';
import { simulatedEndpoint } from './support/endpoints';
import { type Harness, createHarness } from './support/harness';

/** The query of a saved view in the README's table, by its name. */
function savedView(name: string): string {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const row = readme.split('\n').find((line) => line.startsWith(`| ${name} | \``));
  const query = row?.match(/^\| [^|]+ \| `([^`]+)` \|$/)?.[1];
  if (!query) throw new Error(`README has no saved view "${name}"`);
  return query;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const savedEnv = process.env.SV_VC_PASSWORD;

describe('README saved views (real server, simulator)', () => {
  let h: Harness;
  let doc: (site: string, extra?: object) => RunbookDocument;
  const nonce = Date.now().toString(36);

  beforeAll(async () => {
    h = await createHarness({ vcenters: 1, jobSeconds: 1 });
    process.env.SV_VC_PASSWORD = h.sim.info.vcenter[0]!.password;
    doc = (site, step = {}) => ({
      apiVersion: 'vmware-dr/v1',
      kind: 'Runbook',
      name: `saved-views-${site}`,
      site,
      defaults: { pollInterval: '100ms' },
      endpoints: { 'vc-1': simulatedEndpoint('vcenter', h.sim.info.vcenter[0]!, 'env:SV_VC_PASSWORD') },
      locations: { nas: { type: 'SFTP', url: 'sftp://backup.example.com/vcsa' } },
      stages: [
        { name: 'one', steps: [{ backup: 'vc-1', to: 'nas', ...step }] },
        { name: 'two', steps: [{ backup: 'vc-1', to: 'nas' }] },
      ],
    });
  });
  afterAll(async () => {
    if (savedEnv === undefined) delete process.env.SV_VC_PASSWORD;
    else process.env.SV_VC_PASSWORD = savedEnv;
    await h?.close();
  });

  const start = (d: RunbookDocument, id: string) =>
    h.env.client.workflow.start<(d: RunbookDocument) => Promise<RunbookReport>>('drRunbook', {
      taskQueue: h.taskQueue,
      workflowId: `saved-views-${nonce}-${id}`,
      args: [d],
    });
  /** The ids a query lists once visibility has caught up with `expected` (or after 15 s). */
  async function listed(query: string, expected: (ids: string[]) => boolean): Promise<string[]> {
    let ids: string[] = [];
    for (let i = 0; i < 75; i++) {
      ids = [];
      for await (const w of h.env.client.workflow.list({ query })) ids.push(w.workflowId);
      if (expected(ids)) break;
      await sleep(200);
    }
    return ids;
  }
  async function until(handle: WorkflowHandle, check: (r: RunbookReport) => boolean): Promise<void> {
    for (let i = 0; i < 150 && !check((await handle.query(progressQuery)) as RunbookReport); i++) await sleep(100);
  }

  it('"runs waiting for a person", "runs of site X" and "failed runs this week" find what they say', async () => {
    const waitingForPerson = savedView('Runs waiting for a person');
    const ofSite = (site: string) => savedView('Runs of site X').replace('"site-a"', `"${site}"`);
    const weekAgo = new Date(Date.now() - 7 * 24 * 3_600_000).toISOString();
    const failedThisWeek = savedView('Failed runs this week').replace('"2026-12-01T00:00:00Z"', `"${weekAgo}"`);
    const siteX = `site-x-${nonce}`;
    const siteY = `site-y-${nonce}`;
    h.sim.faults.add({
      product: 'vcenter',
      appliance: 'vc-1',
      operation: 'backupJobCreate',
      action: { kind: 'jobFailed' },
    });
    await h.withWorker(async () => {
      // A run whose first step waits for an approval, and one paused after its first stage started.
      const approval = await start(doc(siteX, { approval: 'required' }), 'approval');
      await until(approval, (r) => r.steps[0]!.state === 'waiting-approval');
      const failed = await start(doc(siteY), 'failed');
      const failedReport = await failed.result();
      expect(failedReport.outcome).toBe('failed');
      const paused = await start(doc(siteY), 'paused');
      await until(paused, (r) => r.steps[0]!.state !== 'pending');
      await paused.signal(pauseSignal, { by: 'ops' });

      const waiting = await listed(waitingForPerson, (ids) => ids.includes(paused.workflowId));
      expect(waiting).toEqual(expect.arrayContaining([approval.workflowId, paused.workflowId]));
      expect(waiting).not.toContain(failed.workflowId);
      const x = await listed(ofSite(siteX), (ids) => ids.includes(approval.workflowId));
      expect(x).toEqual([approval.workflowId]);

      // Rejected (a person's decision) and resumed: no longer waiting; the rejection is not a failure.
      await h
        .as('reviewer@saved-views.test')
        .workflow.getHandle(approval.workflowId)
        .executeUpdate(rejectUpdate, {
          args: [{ step: '1.1', by: 'reviewer', reason: 'not tonight' }],
        });
      expect((await approval.result()).outcome).toBe('rejected');
      await paused.signal(resumeSignal, { by: 'ops' });
      await paused.result();
      const after = await listed(
        waitingForPerson,
        (ids) => !ids.includes(approval.workflowId) && !ids.includes(paused.workflowId),
      );
      expect(after).not.toContain(approval.workflowId);
      expect(after).not.toContain(paused.workflowId);
      const failures = await listed(failedThisWeek, (ids) => ids.includes(failed.workflowId));
      expect(failures).toContain(failed.workflowId);
      expect(failures).not.toContain(approval.workflowId);
    });
  }, 90_000);
});
