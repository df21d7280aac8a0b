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
import { createServer } from 'node:net';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import type { Logger } from 'pino';
import { encryptingDataConverter } from '../src/codec/data-converter';
import { TemporalPinoLogger, createLogger, temporalLogLevel } from '../src/core/logging';
import { chooseWorkflowSource } from './bundle';
import { type WorkerConfig, WorkerConfigError, loadWorkerConfig } from './config';
import { createWorker } from './index';
import { type MetricsServer, WorkerMetrics, serveMetrics } from './metrics';

/** Signals that stop the worker gracefully (the Temporal Runtime's `shutdownSignals`). */
export const SHUTDOWN_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR2'];

export interface RunWorkerOptions {
  env?: NodeJS.ProcessEnv;
  /** Called once the worker polls (tests, supervisors). */
  onRunning?: (info: { metricsPort?: number }) => void;
}

/** Resolves when nothing listens on host:port (listens briefly, then closes). */
function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

/** A port that cannot be bound, as a config error naming the variable (other errors unchanged). */
function portProblem(err: unknown, variable: string, host: string, port: number): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL') return err;
  return new WorkerConfigError([
    `${variable}: cannot listen on ${host}:${port} (${code}; another worker on this host?): choose a free port${variable === 'VMWARE_DR_METRICS_PORT' ? ', or 0 for no metrics' : ''}`,
  ]);
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
  // The production worker runs only with a credential policy (VMWARE_DR_POLICY).
  const config = loadWorkerConfig(env, { requirePolicy: true });
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
  const source = chooseWorkflowSource(config.workflowBundle, { encodeFailures: config.codecKeys !== undefined });

  // Ports first, so a port in use fails here with the variable to change, before the runtime starts.
  const metrics = config.metrics ? new WorkerMetrics() : undefined;
  let metricsServer: MetricsServer | undefined;
  if (metrics && config.metrics) {
    const { host, port, runtimePort } = config.metrics;
    metricsServer = await serveMetrics(metrics, {
      host,
      port,
      runtimeMetricsUrl: `http://127.0.0.1:${runtimePort}/metrics`,
    }).catch((err: unknown) => {
      throw portProblem(err, 'VMWARE_DR_METRICS_PORT', host, port);
    });
    await assertPortFree('127.0.0.1', runtimePort).catch(async (err: unknown) => {
      await metricsServer?.close();
      throw portProblem(err, 'VMWARE_DR_RUNTIME_METRICS_PORT', '127.0.0.1', runtimePort);
    });
  }
  let connection: NativeConnection | undefined;
  const onSignal = (signal: NodeJS.Signals) =>
    logger.info(
      { signal, shutdownGraceMs: config.shutdownGraceMs },
      'shutdown requested: no new tasks; running activities get the grace time, then resume on the next worker',
    );
  try {
    installRuntime(config, logger);
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
    for (const s of SHUTDOWN_SIGNALS) process.once(s, onSignal);
    connection = await NativeConnection.connect(clientConfig.connectionOptions);
    const worker = await createWorker({
      connection,
      namespace,
      taskQueue: config.taskQueue,
      activities: {
        ...(config.policy && { policy: config.policy }),
        ...(config.pollIntervalMs !== undefined && { pollIntervalMs: config.pollIntervalMs }),
        ...(config.busyRetryDelayMs !== undefined && { busyRetryDelayMs: config.busyRetryDelayMs }),
      },
      ...(source.kind === 'bundle' && { workflowBundle: { codePath: source.codePath } }),
      ...(config.codecKeys && { dataConverter: encryptingDataConverter(config.codecKeys) }),
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
        // Which policy allows what this worker does (its references are names, never values).
        ...(config.policy && { policy: config.policy.summary() }),
        payloadEncryption: config.codecKeys
          ? { encryptKeyId: config.codecKeys.encryptKeyId, keyIds: config.codecKeys.ids }
          : 'off',
      },
      `vmware-dr worker: namespace ${namespace}, task queue ${config.taskQueue}, server ${address}, workflows from ${source.kind === 'bundle' ? 'the prebuilt bundle' : 'source (bundled at start)'}, credential policy ${config.policy?.source} (sha256 ${config.policy?.sha256})`,
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
