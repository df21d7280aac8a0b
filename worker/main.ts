/**
 * The worker process. Connection from the standard Temporal environment configuration
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, TEMPORAL_PROFILE / config file);
 * task queue from VMWARE_DR_TASK_QUEUE (default `vmware-dr`).
 */
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';
import { DEFAULT_TASK_QUEUE, createWorker } from './index';

export async function runWorker(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const pollIntervalMs = env.VMWARE_DR_POLL_INTERVAL_MS ? Number(env.VMWARE_DR_POLL_INTERVAL_MS) : undefined;
  if (pollIntervalMs !== undefined && !(pollIntervalMs > 0)) {
    throw new Error(
      `VMWARE_DR_POLL_INTERVAL_MS must be a positive number of milliseconds, got "${env.VMWARE_DR_POLL_INTERVAL_MS}"`,
    );
  }
  const config = loadClientConnectConfig();
  const connection = await NativeConnection.connect(config.connectionOptions);
  const taskQueue = env.VMWARE_DR_TASK_QUEUE || DEFAULT_TASK_QUEUE;
  const namespace = config.namespace ?? 'default';
  const worker = await createWorker({ connection, namespace, taskQueue, activities: { pollIntervalMs } });
  console.log(
    `vmware-dr worker: namespace ${namespace}, task queue ${taskQueue}, server ${config.connectionOptions.address ?? 'localhost:7233'}`,
  );
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  runWorker().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
