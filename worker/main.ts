/**
 * The production worker process (`vmware-dr worker`). Connection from the standard Temporal
 * environment configuration (`@temporalio/envconfig`: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TLS, TEMPORAL_PROFILE / config file); the worker's own settings from
 * `VMWARE_DR_*` variables (./config.ts). Structured JSON logs (pino) for the process and the
 * Temporal runtime, Prometheus metrics, the prebuilt workflow bundle, and a graceful stop on
 * SIGTERM/SIGINT: the Runtime's shutdown signals call `worker.shutdown()`, polling stops,
 * running activities get `shutdownGraceTime` to finish and are then cancelled (an activity
 * cancelled by a shutdown is retried on the next worker and resumes from its last heartbeat),
 * and `run()` resolves (https://docs.temporal.io/develop/typescript/cancellation#worker-shutdown).
 */
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import type { Logger } from 'pino';
import { TemporalPinoLogger, createLogger, temporalLogLevel } from '../src/logging';
import { chooseWorkflowSource } from './bundle';
import { type WorkerConfig, loadWorkerConfig } from './config';
import { createWorker } from './index';
import { type MetricsServer, WorkerMetrics, serveMetrics } from './metrics';

/** Signals that stop the worker gracefully (the Temporal Runtime's `shutdownSignals`). */
export const SHUTDOWN_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR2'];

export interface RunWorkerOptions {
  env?: NodeJS.ProcessEnv;
  /** Called once the worker polls (tests, supervisors). */
  onRunning?: (info: { metricsPort?: number }) => void;
}

/** Installs the Temporal runtime once per process: logs through pino, metrics on loopback. */
function installRuntime(config: WorkerConfig, logger: Logger): void {
  Runtime.install({
    logger: new TemporalPinoLogger(logger.child({ component: 'temporal' })),
    shutdownSignals: SHUTDOWN_SIGNALS,
    telemetryOptions: {
      logging: {
        forward: {},
        filter: makeTelemetryFilterString({ core: temporalLogLevel(config.logLevel), other: 'ERROR' }),
      },
      ...(config.metrics && {
        metrics: { prometheus: { bindAddress: `127.0.0.1:${config.metrics.runtimePort}` } },
      }),
    },
  });
}

/** Runs the worker until a shutdown signal; resolves once it has drained and closed. */
export async function runWorker(opts: RunWorkerOptions = {}): Promise<void> {
  const env = opts.env ?? process.env;
  const config = loadWorkerConfig(env);
  const logger = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    base: { service: 'vmware-dr-worker' },
  });
  if (config.unknownVariables.length > 0)
    logger.warn(
      { variables: config.unknownVariables },
      'ignoring VMWARE_DR_* variables this worker does not read (a typo?); see vmware-dr worker --help',
    );
  const source = chooseWorkflowSource(config.workflowBundle);
  installRuntime(config, logger);

  const metrics = config.metrics ? new WorkerMetrics() : undefined;
  let metricsServer: MetricsServer | undefined;
  if (metrics && config.metrics) {
    metricsServer = await serveMetrics(metrics, {
      host: config.metrics.host,
      port: config.metrics.port,
      runtimeMetricsUrl: `http://127.0.0.1:${config.metrics.runtimePort}/metrics`,
    });
  }

  const clientConfig = loadClientConnectConfig(
    opts.env
      ? {
          overrideEnvVars: Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<
            string,
            string
          >,
        }
      : {},
  );
  const address = clientConfig.connectionOptions.address ?? 'localhost:7233';
  const namespace = clientConfig.namespace ?? 'default';
  let connection: NativeConnection | undefined;
  const onSignal = (signal: NodeJS.Signals) =>
    logger.info(
      { signal, shutdownGraceMs: config.shutdownGraceMs },
      'shutdown requested: no new tasks; running activities get the grace time, then resume on the next worker',
    );
  for (const s of SHUTDOWN_SIGNALS) process.once(s, onSignal);
  try {
    connection = await NativeConnection.connect(clientConfig.connectionOptions);
    const worker = await createWorker({
      connection,
      namespace,
      taskQueue: config.taskQueue,
      activities: {
        ...(config.pollIntervalMs !== undefined && { pollIntervalMs: config.pollIntervalMs }),
        ...(config.busyRetryDelayMs !== undefined && { busyRetryDelayMs: config.busyRetryDelayMs }),
      },
      ...(source.kind === 'bundle' && { workflowBundle: { codePath: source.codePath } }),
      worker: {
        maxConcurrentActivityTaskExecutions: config.maxConcurrentActivities,
        maxConcurrentWorkflowTaskExecutions: config.maxConcurrentWorkflowTasks,
        shutdownGraceTime: config.shutdownGraceMs,
        ...(metrics && { interceptors: { activity: [metrics.interceptor] } }),
      },
    });
    logger.info(
      {
        address,
        namespace,
        taskQueue: config.taskQueue,
        workflows: source.kind === 'bundle' ? source.codePath : source.workflowsPath,
        workflowSource: source.kind,
        why: source.reason,
        ...(config.metrics && {
          metrics: `http://${config.metrics.host}:${metricsServer?.port ?? config.metrics.port}/metrics`,
          runtimeMetrics: `http://127.0.0.1:${config.metrics.runtimePort}/metrics`,
        }),
        maxConcurrentActivities: config.maxConcurrentActivities,
        shutdownGraceMs: config.shutdownGraceMs,
      },
      `vmware-dr worker: namespace ${namespace}, task queue ${config.taskQueue}, server ${address}, workflows from ${source.kind === 'bundle' ? 'the prebuilt bundle' : 'source (bundled at start)'}`,
    );
    opts.onRunning?.({ ...(metricsServer && { metricsPort: metricsServer.port }) });
    await worker.run();
    logger.info('worker stopped: every running task drained or handed back');
  } finally {
    for (const s of SHUTDOWN_SIGNALS) process.off(s, onSignal);
    await connection?.close();
    await metricsServer?.close();
    logger.flush();
  }
}

if (require.main === module) {
  runWorker().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
