import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VcenterBackupInput } from '../workflows';
import { type Harness, createHarness } from './support/harness';

describe('vcenterBackup workflow on a real Temporal server against the simulated vCenter', () => {
  let h: Harness;
  let input: VcenterBackupInput;

  beforeAll(async () => {
    h = await createHarness({ vcenters: 1 });
    const vc = h.sim.info.vcenter[0]!;
    process.env.TEST_VC_PASSWORD = vc.password;
    process.env.TEST_BACKUP_PASSWORD = 'Good#Pass1';
    input = {
      endpoint: {
        name: 'vc-1',
        url: vc.url,
        username: vc.username,
        passwordRef: 'env:TEST_VC_PASSWORD',
        tls: { caFile: vc.caFile },
      },
      backup: {
        locationType: 'SFTP',
        location: 'sftp://backup.example.com/vc-1',
        backupPasswordRef: 'env:TEST_BACKUP_PASSWORD',
        comment: 'test',
      },
      pollIntervalMs: 100,
    };
  });
  afterAll(async () => h?.close());

  const run = (workflowId: string, i: VcenterBackupInput = input) =>
    h.withWorker(() =>
      h.env.client.workflow.execute('vcenterBackup', { taskQueue: h.taskQueue, workflowId, args: [i] }),
    );

  it('completes, and the simulator saw exactly one job create', async () => {
    h.sim.resetCounters();
    const result = await run(`backup-ok-${Date.now()}`);
    expect(result.state).toBe('SUCCEEDED');
    expect(result.appliance).toBe('vc-1');
    expect(result.jobId).toMatch(/^\d{8}-\d{6}-\d+$/);
    expect(result.durationMs).toBeGreaterThanOrEqual(900);
    const counters = h.sim.counters();
    expect(counters.calls.vcenter?.['vc-1']?.backupJobCreate).toBe(1);
    expect(counters.jobs).toHaveLength(1);
    expect(counters.jobs[0]).toMatchObject({ product: 'vcenter', appliance: 'vc-1', id: result.jobId });
    expect(counters.jobs[0]?.label).toContain('[vmware-dr:');
    expect(counters.calls.vcenter?.['vc-1']?.backupJobGet).toBeGreaterThanOrEqual(2);
  });

  it('retries a FEATURE_IN_USE answer to the first POST and still succeeds', async () => {
    h.sim.resetCounters();
    h.sim.faults.add({
      product: 'vcenter',
      appliance: 'vc-1',
      operation: 'backupJobCreate',
      action: { kind: 'error', error: 'FEATURE_IN_USE' },
    });
    const result = await run(`backup-busy-${Date.now()}`);
    expect(result.state).toBe('SUCCEEDED');
    const counters = h.sim.counters();
    expect(counters.calls.vcenter?.['vc-1']?.backupJobCreate).toBe(2);
    expect(counters.jobs).toHaveLength(1);
  });

  it('fails fast, non-retryable, naming the rule, for a bad backup_password', async () => {
    h.sim.resetCounters();
    process.env.TEST_BAD_BACKUP_PASSWORD = 'alllowercase1!';
    const bad = { ...input, backup: { ...input.backup, backupPasswordRef: 'env:TEST_BAD_BACKUP_PASSWORD' } };
    const err = await run(`backup-badpw-${Date.now()}`, bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const activityFailure = (err as WorkflowFailedError).cause;
    expect(activityFailure).toBeInstanceOf(ActivityFailure);
    const app = (activityFailure as ActivityFailure).cause;
    expect(app).toBeInstanceOf(ApplicationFailure);
    expect((app as ApplicationFailure).type).toBe('InvalidArgument');
    expect((app as ApplicationFailure).nonRetryable).toBe(true);
    expect((app as ApplicationFailure).message).toContain('at least 1 uppercase letter');
    expect((app as ApplicationFailure).message).not.toContain('alllowercase1!');
    expect(h.sim.counters().calls.vcenter?.['vc-1']?.backupJobCreate).toBe(1);
    expect(h.sim.counters().jobs).toHaveLength(0);
  });
});
