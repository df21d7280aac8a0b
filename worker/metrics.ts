/**
 * The worker's Prometheus metrics: the project's own (prom-client) counted by an activity inbound
 * interceptor, so no activity knows about metrics, and one `/metrics` page that also carries the
 * Temporal runtime's metrics.
 *
 * The Temporal runtime's Prometheus exporter binds its own HTTP port
 * (`Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress } } } })`,
 * https://docs.temporal.io/develop/typescript/observability#metrics). The worker binds it to
 * loopback on the runtime port (default: metrics port + 1) and the `/metrics` handler here appends
 * that page to prom-client's, so a scraper needs one target. The families do not collide: ours
 * start with `vmware_dr_`, prom-client's defaults with `process_`/`nodejs_`, the runtime's with
 * `temporal_`.
 *
 * Activity interceptors: https://typescript.temporal.io/api/interfaces/worker.WorkerInterceptors#activity
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context as ActivityContext } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory, CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptors } from '@temporalio/worker';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ErrorType } from '../src/core/errors';

export type MetricsProduct = 'vcenter' | 'sddc-manager' | 'vcda' | 'none';

/** Activities whose success means a remote job (backup, restore, task) was started on an appliance. */
export const START_ACTIVITIES: Readonly<Record<string, MetricsProduct>> = {
  startVcenterBackup: 'vcenter',
  startVcenterRestore: 'vcenter',
  startSddcManagerBackup: 'sddc-manager',
  startSddcManagerRestore: 'sddc-manager',
  setSddcManagerBackupConfiguration: 'sddc-manager',
  retrySddcManagerTask: 'sddc-manager',
  startVcdaBackup: 'vcda',
};

/** Activities that poll a remote job to its end: success = job succeeded, `RemoteJobFailed` = job failed. */
export const POLL_ACTIVITIES: Readonly<Record<string, MetricsProduct>> = {
  pollVcenterBackup: 'vcenter',
  pollVcenterRestore: 'vcenter',
  pollSddcManagerTask: 'sddc-manager',
  pollSddcManagerRestoreTask: 'sddc-manager',
  pollVcdaTask: 'vcda',
};

/** The failure type an activity uses for an appliance that answered "busy" (retried later: a busy wait). */
export const BUSY_FAILURE_TYPE: ErrorType = 'ResourceBusy';
/** The failure type of a remote job that ended failed. */
export const REMOTE_JOB_FAILED_TYPE: ErrorType = 'RemoteJobFailed';

/** The product an activity talks to, from its name (`…Vcenter…`, `…SddcManager…`, `…Vcda…`) or its input's `product`. */
export function activityProduct(activityType: string, args: readonly unknown[] = []): MetricsProduct {
  const known = START_ACTIVITIES[activityType] ?? POLL_ACTIVITIES[activityType];
  if (known) return known;
  if (/SddcManager/.test(activityType)) return 'sddc-manager';
  if (/Vcenter/.test(activityType)) return 'vcenter';
  if (/Vcda/.test(activityType)) return 'vcda';
  const product = (args[0] as { product?: unknown; endpoint?: { product?: unknown } } | undefined) ?? {};
  const p = product.product ?? product.endpoint?.product;
  return p === 'vcenter' || p === 'sddc-manager' || p === 'vcda' ? p : 'none';
}

/** Buckets for activity durations: sub-second calls up to polls of multi-hour jobs (seconds). */
const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 14_400];

/** The error type of what an activity threw, for labels. */
function errorType(err: unknown): string {
  if (err instanceof ApplicationFailure) return err.type ?? 'ApplicationFailure';
  if (err instanceof Error) return err.name;
  return 'unknown';
}

export class WorkerMetrics {
  readonly registry = new Registry();
  readonly jobsStarted = new Counter({
    name: 'vmware_dr_remote_jobs_started_total',
    help: 'Remote jobs (backups, restores, tasks) started on appliances, per product',
    labelNames: ['product'] as const,
    registers: [this.registry],
  });
  readonly jobsSucceeded = new Counter({
    name: 'vmware_dr_remote_jobs_succeeded_total',
    help: 'Remote jobs polled to a successful end, per product',
    labelNames: ['product'] as const,
    registers: [this.registry],
  });
  readonly jobsFailed = new Counter({
    name: 'vmware_dr_remote_jobs_failed_total',
    help: 'Remote jobs that ended failed on the appliance, per product',
    labelNames: ['product'] as const,
    registers: [this.registry],
  });
  readonly busyWaits = new Counter({
    name: 'vmware_dr_busy_waits_total',
    help: 'Activity attempts an appliance answered "busy" (retried later), per product and activity',
    labelNames: ['product', 'activity'] as const,
    registers: [this.registry],
  });
  readonly activityFailures = new Counter({
    name: 'vmware_dr_activity_failures_total',
    help: 'Failed activity attempts, per product, activity and error type',
    labelNames: ['product', 'activity', 'error_type'] as const,
    registers: [this.registry],
  });
  readonly activityDuration = new Histogram({
    name: 'vmware_dr_activity_duration_seconds',
    help: 'Duration of activity attempts (steps: start, poll, verify, …), per product, activity and outcome',
    labelNames: ['product', 'activity', 'outcome'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Records one finished activity attempt. */
  record(activity: string, args: readonly unknown[], seconds: number, err?: unknown): void {
    const product = activityProduct(activity, args);
    // A retry-mode poll read that found the job still running (benign, `JobStillRunning`): how
    // that mode polls, never a failure.
    if (err instanceof ApplicationFailure && err.category === ApplicationFailureCategory.BENIGN) {
      this.activityDuration.observe({ product, activity, outcome: 'still-running' }, seconds);
      return;
    }
    const outcome = err === undefined ? 'succeeded' : err instanceof CancelledFailure ? 'cancelled' : 'failed';
    this.activityDuration.observe({ product, activity, outcome }, seconds);
    if (err === undefined) {
      if (START_ACTIVITIES[activity]) this.jobsStarted.inc({ product });
      if (POLL_ACTIVITIES[activity]) this.jobsSucceeded.inc({ product });
      return;
    }
    const type = errorType(err);
    this.activityFailures.inc({ product, activity, error_type: type });
    if (type === BUSY_FAILURE_TYPE) this.busyWaits.inc({ product, activity });
    if (type === REMOTE_JOB_FAILED_TYPE && POLL_ACTIVITIES[activity]) this.jobsFailed.inc({ product });
  }

  /** For `Worker.create({ interceptors: { activity: [metrics.interceptor] } })`. */
  readonly interceptor = (ctx: ActivityContext): ActivityInterceptors => ({
    inbound: {
      execute: async (input, next) => {
        const started = process.hrtime.bigint();
        const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
        try {
          const result = await next(input);
          this.record(ctx.info.activityType, input.args, seconds());
          return result;
        } catch (err) {
          this.record(ctx.info.activityType, input.args, seconds(), err);
          throw err;
        }
      },
    },
  });
}

export interface MetricsServerOptions {
  host: string;
  /** 0: a free port. */
  port: number;
  /** The Temporal runtime's exporter page to append, e.g. `http://127.0.0.1:9465/metrics`. */
  runtimeMetricsUrl?: string;
}

export interface MetricsServer {
  /** The bound port. */
  port: number;
  close(): Promise<void>;
}

/** The runtime exporter's page, or a comment saying why it is missing (never fails the scrape). */
async function runtimePage(url: string): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) return `# Temporal runtime metrics unavailable: HTTP ${res.status}\n`;
    return await res.text();
  } catch (err) {
    return `# Temporal runtime metrics unavailable: ${(err as Error).message}\n`;
  }
}

/** Serves `GET /metrics` (project + runtime) and `GET /healthz` until closed. */
export async function serveMetrics(metrics: WorkerMetrics, opts: MetricsServerOptions): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics or /healthz\n');
      return;
    }
    void Promise.all([
      metrics.registry.metrics(),
      opts.runtimeMetricsUrl ? runtimePage(opts.runtimeMetricsUrl) : Promise.resolve(''),
    ]).then(
      ([own, runtime]) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(runtime ? `${own.trimEnd()}\n${runtime}` : own);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(err as Error).message}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
