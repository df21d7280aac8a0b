/**
 * A worker process killed (SIGKILL) during a start activity: the start is retried on another
 * worker within the heartbeat timeout (10 s), not after its 2-minute start-to-close timeout, and
 * the step still starts exactly one remote job.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { VcenterBackupInput } from '../workflows';
import { type Harness, createHarness } from './support/harness';
import { type TempPolicy, simulatorPolicy, writeTempPolicy } from './support/policy';

const root = join(__dirname, '..');

async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('worker killed during a start activity', () => {
  let h: Harness;
  let child: ChildProcess | undefined;
  let policy: TempPolicy | undefined;

  beforeAll(async () => {
    h = await createHarness({ vcenters: 1, jobSeconds: 1 });
    // The production worker's credential policy for this simulated site.
    policy = await writeTempPolicy(
      simulatorPolicy({
        url: h.sim.url,
        caFile: h.sim.info.caFile,
        login: ['env:KILL_VC_PASSWORD'],
        encryption: ['env:KILL_BACKUP_PASSWORD'],
        locations: [{ name: 'sftp', url: 'sftp://backup.example.com/vc-1' }],
      }),
    );
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await h?.close();
    await policy?.cleanup();
  });

  it('is retried within the heartbeat timeout on another worker, with one remote job', async () => {
    const vc = h.sim.info.vcenter[0]!;
    const env = { KILL_VC_PASSWORD: vc.password, KILL_BACKUP_PASSWORD: 'Good#Pass1' };
    Object.assign(process.env, env);
    const input: VcenterBackupInput = {
      endpoint: {
        name: 'vc-1',
        url: vc.url,
        username: vc.username,
        passwordRef: 'env:KILL_VC_PASSWORD',
        tls: { caFile: vc.caFile! },
      },
      backup: {
        locationType: 'SFTP',
        location: 'sftp://backup.example.com/vc-1',
        backupPasswordRef: 'env:KILL_BACKUP_PASSWORD',
      },
      pollIntervalMs: 100,
    };
    // The start activity's first read (the snapshot of recent jobs) hangs: the worker dies inside it.
    h.sim.faults.add({
      product: 'vcenter',
      appliance: 'vc-1',
      operation: 'backupJobDetails',
      count: 1,
      action: { kind: 'delay', ms: 120_000 },
    });
    child = spawn(process.execPath, ['--require', 'tsx/cjs', join(root, 'worker', 'main.ts')], {
      cwd: root,
      env: {
        ...process.env,
        ...env,
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        TEMPORAL_NAMESPACE: inject('temporalNamespace'),
        VMWARE_DR_TASK_QUEUE: h.taskQueue,
        VMWARE_DR_METRICS_PORT: '0',
        VMWARE_DR_POLICY: policy!.file,
      },
      stdio: 'ignore',
    });
    const handle = await h.env.client.workflow.start('vcenterBackup', {
      taskQueue: h.taskQueue,
      workflowId: `kill-start-${Date.now()}`,
      args: [input],
    });
    await until(
      'the start activity to be inside its first request',
      () => (h.sim.counters().calls.vcenter?.['vc-1']?.backupJobDetails ?? 0) >= 1,
    );
    child.kill('SIGKILL');
    const killedAt = Date.now();
    const result = await h.withWorker(() => handle.result());
    const recoverySeconds = (Date.now() - killedAt) / 1000;
    console.info(`worker-kill: the step completed ${recoverySeconds.toFixed(1)} s after SIGKILL of the worker`);
    expect(result.state).toBe('SUCCEEDED');
    // Heartbeat timeout 10 s + retry backoff 2 s + the job (1 s) and polls; far below 120 s.
    expect(recoverySeconds).toBeLessThan(40);
    expect(h.sim.counters().calls.vcenter?.['vc-1']?.backupJobCreate).toBe(1);
    expect(h.sim.counters().jobs).toHaveLength(1);
  });
});
