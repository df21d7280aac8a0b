/**
 * The benchmark's wiring: the embedded Temporal dev server, one workflow bundle (the package's
 * workflows plus the naive loop), worker child processes with RSS/CPU stats, and simulated
 * appliances (one simulator per runbook, so every runbook has appliances of its own: the
 * appliance lease is per host:port, as it is per real appliance).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import type { RunbookDocument } from '../src/contract/runbook/document';
import { type Simulator, startSimulator } from '../src/simulator/server';
import { startDevServer } from '../src/temporal/dev-server';
import type { WorkerChildConfig, WorkerStats } from './worker-child';

/** The variable every simulated appliance's password is read from (a reference, never a literal). */
export const PASSWORD_VAR = 'VMWARE_DR_BENCH_PASSWORD';
export const PASSWORD_REF = `env:${PASSWORD_VAR}`;
/** The location's user and URL (the simulator accepts any SFTP location). */
const LOCATION = { type: 'SFTP' as const, url: 'sftp://backup.bench.local/vcsa', username: 'backup' };

export interface BenchEnv {
  address: string;
  namespace: string;
  client: Client;
  bundlePath: string;
  /** The bundle of the retry-as-poll worker (every step with `pollMode: 'retry'`), built on first use. */
  retryBundlePath(): Promise<string>;
  close(): Promise<void>;
}

export async function startBenchEnv(log: (line: string) => void): Promise<BenchEnv> {
  process.env[PASSWORD_VAR] ??= `Bench-${randomUUID()}#1`;
  const dir = await mkdtemp(join(tmpdir(), 'vmware-dr-bench-'));
  const [server, code] = await Promise.all([
    startDevServer({ log: (l) => log(`  ${l}`) }),
    bundleWorkflowCode({ workflowsPath: join(__dirname, 'workflows.ts'), logger: new DefaultLogger('WARN') }).then(
      (b) => b.code,
    ),
  ]);
  const bundlePath = join(dir, 'bundle.js');
  await writeFile(bundlePath, code);
  let retryBundle: Promise<string> | undefined;
  const retryBundlePath = () =>
    (retryBundle ??= bundleWorkflowCode({
      workflowsPath: join(__dirname, 'workflows.ts'),
      workflowInterceptorModules: [join(__dirname, 'retry-poll-interceptor.ts')],
      logger: new DefaultLogger('WARN'),
    }).then(async (b) => {
      const path = join(dir, 'retry-bundle.js');
      await writeFile(path, b.code);
      return path;
    }));
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  return {
    address: server.address,
    namespace: server.namespace,
    client,
    bundlePath,
    retryBundlePath,
    async close() {
      await connection.close().catch(() => undefined);
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface WorkerChild {
  taskQueue: string;
  pid: number;
  stats(): Promise<WorkerStats>;
  /** Stops the worker (graceful shutdown) and returns its last stats. */
  stop(): Promise<WorkerStats>;
}

/** Forks bench/worker-child.ts (through tsx) on a fresh task queue and waits until it polls. */
export async function spawnWorker(
  env: BenchEnv,
  opts: {
    maxConcurrentActivityTaskExecutions?: number;
    maxCachedWorkflows?: number;
    bundlePath?: string;
    /** V8's old-space limit of the worker process (`--max-old-space-size`); the SDK sizes its default cache from it. */
    maxOldSpaceMb?: number;
  } = {},
): Promise<WorkerChild> {
  const taskQueue = `bench-${randomUUID().slice(0, 8)}`;
  const { maxOldSpaceMb, ...rest } = opts;
  const config: WorkerChildConfig = {
    address: env.address,
    namespace: env.namespace,
    taskQueue,
    bundlePath: env.bundlePath,
    ...rest,
  };
  const child: ChildProcess = fork(join(__dirname, 'worker-child.ts'), [], {
    execArgv: ['--import', 'tsx', ...(maxOldSpaceMb ? [`--max-old-space-size=${maxOldSpaceMb}`] : [])],
    env: { ...process.env, BENCH_WORKER: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`bench worker exited with ${code}`))),
  );
  exited.catch(() => undefined);
  const ask = (message: string) =>
    Promise.race([
      exited,
      new Promise<WorkerStats>((resolve) => {
        const on = (m: { stats?: WorkerStats }) => {
          if (!m.stats) return;
          child.off('message', on);
          resolve(m.stats);
        };
        child.on('message', on);
        child.send(message);
      }),
    ]);
  // The worker is ready once it has answered (createWorker has connected and loaded the bundle).
  await ask('stats');
  return {
    taskQueue,
    pid: child.pid as number,
    stats: () => ask('stats'),
    async stop() {
      const last = await ask('stop');
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
      return last;
    },
  };
}

/** The four appliances of a full site, named as the runbook's endpoints. */
export const SITE = [
  { product: 'sddc-manager', name: 'sddc' },
  { product: 'vcenter', name: 'vc-mgmt' },
  { product: 'vcenter', name: 'vc-wld01' },
  { product: 'vcda', name: 'vcda' },
] as const;

/** One simulated full site (its own port), jobs taking `jobSeconds`. */
export function startSite(jobSeconds: number): Promise<Simulator> {
  return startSimulator({
    appliances: SITE.map((a) => ({ product: a.product, name: a.name })),
    jobSeconds,
    credentials: { password: process.env[PASSWORD_VAR] as string },
  });
}

/** The endpoint of a site's appliance, as workflows and activities take it (TLS verified with the simulator's CA). */
export function endpointOf(
  sim: Simulator,
  name: string,
): { name: string; url: string; username: string; passwordRef: string; tls: { caFile: string } } {
  const all = [...sim.info.vcenter, ...sim.info.sddcManager, ...sim.info.vcda];
  const info = all.find((a) => a.url.endsWith(`/${name}`));
  if (!info) throw new Error(`no appliance ${name} in the simulator`);
  return { name, url: info.url, username: info.username, passwordRef: PASSWORD_REF, tls: { caFile: sim.info.caFile! } };
}

/** The full-site runbook (SDDC Manager → both vCenters in parallel → VCDA) against one simulated site. */
export function siteRunbook(sim: Simulator, name: string, pollIntervalMs: number): RunbookDocument {
  const endpoints: Record<string, unknown> = {};
  for (const a of SITE) {
    const { name: _name, ...e } = endpointOf(sim, a.name);
    endpoints[a.name] = { product: a.product, ...e };
  }
  return {
    apiVersion: 'vmware-dr/v1',
    kind: 'Runbook',
    name,
    site: 'bench',
    defaults: { timeout: '1h', pollInterval: `${pollIntervalMs}ms` },
    endpoints,
    locations: { sftp: { ...LOCATION, passwordRef: PASSWORD_REF } },
    stages: [
      { name: 'sddc-manager', steps: [{ backup: 'sddc' }] },
      {
        name: 'vcenters',
        steps: [
          { backup: 'vc-mgmt', to: 'sftp' },
          { backup: 'vc-wld01', to: 'sftp' },
        ],
      },
      { name: 'vcda', steps: [{ backup: 'vcda' }] },
    ],
  } as unknown as RunbookDocument;
}

/** The vCenter backup spec the runbook passes its step (the same location, by reference). */
export function vcenterBackupSpec(comment: string) {
  return {
    locationType: LOCATION.type,
    location: LOCATION.url,
    locationUser: LOCATION.username,
    locationPasswordRef: PASSWORD_REF,
    comment,
  };
}

/** Runs `fn` over `items` with at most `limit` at once. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T, i);
      }
    }),
  );
  return out;
}
