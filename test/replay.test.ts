import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';

const fixture = join(__dirname, 'fixtures', 'histories', 'vcenter-backup.json');

describe('replay of a history recorded on a real server', () => {
  it('vcenterBackup replays without a determinism error', async () => {
    const history = historyFromJSON(JSON.parse(await readFile(fixture, 'utf8')));
    expect(history.events?.length).toBeGreaterThan(10);
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, 'recorded-vcenter-backup');
  });

  it('detects a workflow that schedules different activities than the history', async () => {
    const raw = JSON.parse(await readFile(fixture, 'utf8')) as { events: { activityTaskScheduledEventAttributes?: { activityType: { name: string } } }[] };
    const scheduled = raw.events.find((e) => e.activityTaskScheduledEventAttributes);
    scheduled!.activityTaskScheduledEventAttributes!.activityType.name = 'someOtherActivity';
    await expect(
      Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, historyFromJSON(raw), 'recorded-vcenter-backup'),
    ).rejects.toThrow(/[Nn]ondeterminism|DeterminismViolation/);
  });
});
