/**
 * The benchmark's worker, in its own process so its RSS and CPU are its own: this package's
 * `createWorker` (all activities, the workflow bundle the parent built) plus the bench activity.
 * Configured by the BENCH_WORKER environment variable (JSON, see WorkerChildConfig); answers
 * `stats` messages over IPC and stops on `stop`.
 */
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createWorker } from '../worker';
import { createBenchActivities } from './activities';

export interface WorkerChildConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  bundlePath: string;
  /** The worker's activity slots; unset: the SDK's default (100). */
  maxConcurrentActivityTaskExecutions?: number;
  /** The worker's sticky workflow cache size; unset: the SDK's default (grows with the heap limit). */
  maxCachedWorkflows?: number;
}

export interface WorkerStats {
  rssMb: number;
  peakRssMb: number;
  cpuSeconds: number;
  /** The worker's effective `maxCachedWorkflows` (set, or the SDK's default for this heap). */
  maxCachedWorkflows?: number;
  /** V8's heap in use and allocated, and memory held outside the heap by JS objects (buffers). */
  heapUsedMb?: number;
  heapTotalMb?: number;
  externalMb?: number;
}

function stats(): WorkerStats {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return {
    heapUsedMb: mem.heapUsed / 2 ** 20,
    heapTotalMb: mem.heapTotal / 2 ** 20,
    externalMb: mem.external / 2 ** 20,
    rssMb: process.memoryUsage().rss / 2 ** 20,
    // getrusage(2) ru_maxrss: the process's peak resident set, in KiB on Linux.
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_WORKER ?? '') as WorkerChildConfig;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const connection = await NativeConnection.connect({ address: config.address });
  const worker = await createWorker({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    workflowBundle: { codePath: config.bundlePath },
    worker: {
      activities: { ...createActivities({ busyRetryDelayMs: 1000 }), ...createBenchActivities() },
      maxHeartbeatThrottleInterval: '1 second',
      ...(config.maxConcurrentActivityTaskExecutions && {
        maxConcurrentActivityTaskExecutions: config.maxConcurrentActivityTaskExecutions,
      }),
      ...(config.maxCachedWorkflows !== undefined && { maxCachedWorkflows: config.maxCachedWorkflows }),
    },
  });
  const cache = worker.options.maxCachedWorkflows;
  process.on('message', (m: unknown) => {
    if (m === 'stats') process.send?.({ stats: { ...stats(), maxCachedWorkflows: cache } });
    if (m === 'stop') worker.shutdown();
  });
  await worker.run();
  await connection.close();
  process.send?.({ stats: stats(), stopped: true });
  process.disconnect?.();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
