import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';

const dir = join(__dirname, 'fixtures', 'histories');
const fixture = join(dir, 'vcenter-backup.json');
/** Every recorded history: the current shape of each workflow and the shapes before its patches. */
const recorded = [
  'vcenter-backup.json',
  'vcenter-backup-before-lease.json',
  'sddc-manager-backup.json',
  'vcda-backup.json',
  'vcenter-backup-step.json',
  'vcenter-backup-step-busy.json',
  'vcenter-backup-step-busy-before-timer-summary.json',
  'vcenter-restore-step.json',
  'sddc-manager-backup-step.json',
  'sddc-manager-restore-step.json',
  'vcda-backup-step.json',
  'dr-runbook.json',
  'dr-runbook-before-quiet-history.json',
  'dr-runbook-before-trust-boundary.json',
  'dr-runbook-approved-restore.json',
  'dr-runbook-approved-restore-before-quiet-history.json',
  'dr-runbook-busy.json',
  'dr-runbook-busy-before-quiet-history.json',
  'dr-runbook-recovery-point.json',
  'dr-runbook-recovery-point-before-quiet-history.json',
  'freshness.json',
  'appliance-lease.json',
];

/** Histories kept under another name than the id they were recorded with (a runbook's child ids derive from it). */
const recordedAs: Record<string, string> = {
  'dr-runbook-before-trust-boundary.json': 'dr-runbook',
  'dr-runbook-before-quiet-history.json': 'dr-runbook',
  'dr-runbook-approved-restore-before-quiet-history.json': 'dr-runbook-approved-restore',
  'dr-runbook-busy-before-quiet-history.json': 'dr-runbook-busy',
  'dr-runbook-recovery-point-before-quiet-history.json': 'dr-runbook-recovery-point',
  'vcenter-backup-step-busy-before-timer-summary.json': 'vcenter-backup-step-busy',
};

describe('replay of histories recorded on a real server', () => {
  it('the list covers every recorded history', async () => {
    expect((await readdir(dir)).filter((f) => f.endsWith('.json')).sort()).toEqual([...recorded].sort());
  });

  it.each(recorded)('%s replays without a determinism error', async (file) => {
    const history = historyFromJSON(JSON.parse(await readFile(join(dir, file), 'utf8')));
    expect(history.events?.length).toBeGreaterThan(10);
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: inject('workflowBundlePath') } },
      history,
      // The recorded run's workflow id (a runbook's child ids derive from it).
      recordedAs[file] ?? file.replace(/\.json$/, ''),
    );
  });

  it('timer summaries are user metadata, not part of the replay check: the recorded names, changed or removed, replay', async () => {
    const raw = JSON.parse(await readFile(join(dir, 'vcenter-backup-step-busy.json'), 'utf8')) as {
      events: { timerStartedEventAttributes?: unknown; userMetadata?: { summary?: { data?: string } } }[];
    };
    const timers = raw.events.filter((e) => e.timerStartedEventAttributes);
    const names = timers.map((e) => JSON.parse(Buffer.from(e.userMetadata?.summary?.data ?? '', 'base64').toString()));
    expect(names).toEqual([
      expect.stringMatching(
        /^deadline: wait for the appliance lease vmware-dr-lease\/vcenter\/.* until the step's deadline$/,
      ),
      'busy retry: start recorded/busy again (attempt 2)',
      'busy retry: start recorded/busy again (attempt 3)',
    ]);
    const replay = (events: unknown[]) =>
      Worker.runReplayHistory(
        { workflowBundle: { codePath: inject('workflowBundlePath') } },
        historyFromJSON({ ...raw, events }),
        'vcenter-backup-step-busy',
      );
    const renamed = structuredClone(raw.events);
    for (const e of renamed.filter((x) => x.userMetadata?.summary))
      e.userMetadata!.summary!.data = Buffer.from('"another name"').toString('base64');
    await replay(renamed);
    await replay(raw.events.map(({ userMetadata: _, ...e }) => e));
  });

  it('detects a workflow that schedules different activities than the history', async () => {
    const raw = JSON.parse(await readFile(fixture, 'utf8')) as {
      events: { activityTaskScheduledEventAttributes?: { activityType: { name: string } } }[];
    };
    const scheduled = raw.events.find((e) => e.activityTaskScheduledEventAttributes);
    scheduled!.activityTaskScheduledEventAttributes!.activityType.name = 'someOtherActivity';
    await expect(
      Worker.runReplayHistory(
        { workflowBundle: { codePath: inject('workflowBundlePath') } },
        historyFromJSON(raw),
        'recorded-vcenter-backup',
      ),
    ).rejects.toThrow(/[Nn]ondeterminism|DeterminismViolation/);
  });
});
