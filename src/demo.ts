/**
 * `npm run demo`: a Temporal dev server (with UI), the simulator, a worker, and one real
 * `vcenterBackup` run end to end. Everything is started here and stopped before exit.
 */
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { DEFAULT_TASK_QUEUE, createWorker } from '../worker';
import type { VcenterBackupInput, VcenterBackupResult } from '../workflows';
import { startSimulator } from './simulator/server';
import { startDevServer } from './temporal/dev-server';

export interface DemoOptions {
  /** Seconds the simulated backup takes. Default: `VMWARE_DR_DEMO_JOB_SECONDS`, else 10. */
  jobSeconds?: number;
  log?: (line: string) => void;
}

/** A password that meets vCenter's backup-password policy. */
function demoBackupPassword(): string {
  return `Dr-${randomBytes(4).toString('hex')}#A1`;
}

function bar(progress: number): string {
  const filled = Math.round(Math.max(0, Math.min(100, progress)) / 5);
  return `[${'#'.repeat(filled)}${'.'.repeat(20 - filled)}]`;
}

export async function runDemo(opts: DemoOptions = {}): Promise<VcenterBackupResult> {
  const log = opts.log ?? ((line: string) => console.log(line));
  // The demo prints its own story; the SDK's INFO lines (bundling, worker states) would bury it.
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // A host process (a test) installed the runtime already: keep its logger.
  }
  const stops: (() => Promise<void>)[] = [];
  try {
    log('Starting a Temporal dev server…');
    const server = await startDevServer({ ui: true, log: (l) => log(`  ${l}`) });
    stops.unshift(() => server.stop());
    log(`Temporal: ${server.address}${server.uiUrl ? `, Web UI ${server.uiUrl}` : ''}`);

    const sim = await startSimulator({
      vcenters: 1,
      jobSeconds: opts.jobSeconds ?? (Number(process.env.VMWARE_DR_DEMO_JOB_SECONDS) || 10),
    });
    stops.unshift(() => sim.close());
    const vc = sim.info.vcenter[0]!;
    log(`Simulated vCenter: ${vc.url} (HTTPS, CA ${sim.info.caFile})`);

    // Credentials reach the activity by reference: only the variable names enter the workflow.
    process.env.VMWARE_DR_DEMO_VC_PASSWORD = vc.password;
    process.env.VMWARE_DR_DEMO_BACKUP_PASSWORD = demoBackupPassword();

    const nativeConnection = await NativeConnection.connect({ address: server.address });
    stops.unshift(() => nativeConnection.close());
    const worker = await createWorker({
      connection: nativeConnection,
      namespace: server.namespace,
      activities: { pollIntervalMs: 1000 },
      worker: { maxHeartbeatThrottleInterval: '1 second' },
    });
    const running = worker.run();
    stops.unshift(async () => {
      worker.shutdown();
      await running;
    });

    const connection = await Connection.connect({ address: server.address });
    stops.unshift(() => connection.close());
    const client = new Client({ connection, namespace: server.namespace });
    const input: VcenterBackupInput = {
      endpoint: {
        name: 'vc-1',
        url: vc.url,
        username: vc.username,
        passwordRef: 'env:VMWARE_DR_DEMO_VC_PASSWORD',
        tls: { caFile: vc.caFile },
      },
      backup: {
        locationType: 'SFTP',
        location: 'sftp://backup.example.com/vcsa/vc-1',
        locationUser: 'backup',
        backupPasswordRef: 'env:VMWARE_DR_DEMO_BACKUP_PASSWORD',
        comment: 'vmware-dr demo',
      },
      pollIntervalMs: 1000,
    };
    const workflowId = `demo-vcenter-backup-${Date.now()}`;
    const handle = await client.workflow.start('vcenterBackup', {
      taskQueue: DEFAULT_TASK_QUEUE,
      workflowId,
      args: [input],
    });
    log(
      `Started workflow ${workflowId}${server.uiUrl ? ` (${server.uiUrl}/namespaces/${server.namespace}/workflows/${workflowId})` : ''}`,
    );

    let lastShown = '';
    const progress = setInterval(() => {
      handle
        .describe()
        .then((d) => {
          for (const a of d.raw.pendingActivities ?? []) {
            const payload = a.heartbeatDetails?.payloads?.[0];
            if (!payload) continue;
            const details = defaultPayloadConverter.fromPayload<{ state: string; progress: number }>(payload);
            const line = `  ${a.activityType?.name}: ${details.state} ${bar(details.progress)} ${details.progress}%`;
            if (line !== lastShown) log((lastShown = line));
          }
        })
        .catch(() => undefined);
    }, 500);
    try {
      const result = (await handle.result()) as VcenterBackupResult;
      log(
        `Backup finished: job ${result.jobId} ${result.state} in ${((result.durationMs ?? 0) / 1000).toFixed(1)} s on ${result.appliance}`,
      );
      const counters = sim.counters();
      log(`Simulator saw ${counters.jobs.length} backup job(s) created.`);
      return result;
    } finally {
      clearInterval(progress);
    }
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}
