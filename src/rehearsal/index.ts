/**
 * Rehearsal: the real runbook document, run by the real `drRunbook` on a real Temporal server,
 * against simulated appliances of the same topology. One simulated appliance per endpoint, named
 * after its endpoint key; credentials and TLS resolved to the simulator's (by reference, never
 * literal); restores against appliances in the state a real restore needs (a vCenter freshly
 * deployed in its restore stage, with the backup the step names on its location; a fresh SDDC
 * Manager); an in-process worker on its own task queue; everything it started stopped at the end.
 * The plan (what to simulate, the document rewritten to it) is ./plan.ts; what the rehearsal
 * watches while the run goes on (approvals, retries) is ./monitor.ts; the run is started and
 * driven through the runbook client (src/client/runbook.ts).
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, type LogEntry, NativeConnection, Runtime, type WorkerOptions } from '@temporalio/worker';
import { parse as parseYaml } from 'yaml';
import { createWorker } from '../../worker/index';
import { type RunbookRun, runbookClient } from '../client/runbook';
import { endTaskQueueWorkflows } from '../client/task-queue';
import { dataConverterFromEnv } from '../codec/data-converter';
import { approveCommandText } from '../contract/runbook/approvals';
import type { RunbookReport } from '../contract/runbook/report';
import { FaultBook } from '../simulator/faults';
import { startSimulator } from '../simulator/server';
import type { FaultRule } from '../simulator/types';
import { InterruptedError, interruptSignal, onInterrupt } from '../core/interrupt';
import { startDevServer } from '../temporal/dev-server';
import { CredentialPolicy, policyForRunbooks } from '../core/policy/index';
import { settlesWithin } from '../core/settles-within';
import { injectedCause, monitor } from './monitor';
import { RehearsalInputError, checkFaults, faultText, parseRunbook, planRehearsal } from './plan';

/** Seconds a simulated job takes in a rehearsal unless told otherwise. */
export const DEFAULT_REHEARSAL_JOB_SECONDS = 3;
/** Status polls in a rehearsal (the document's `pollInterval` is for real appliances). */
export const DEFAULT_REHEARSAL_POLL_INTERVAL_MS = 500;
/** Wait before a start answered "busy" is tried again (real runs: 30 s). */
export const DEFAULT_REHEARSAL_BUSY_RETRY_DELAY_MS = 1000;
/** The client identity a rehearsal starts its run with (at this host). */
export const REHEARSAL_IDENTITY = 'vmware-dr-rehearsal';
/** After Ctrl-C: how long the cancelled run may take to end before it is terminated. */
const INTERRUPT_CANCEL_WAIT_MS = 15_000;

export interface RehearseOptions {
  /** Run `drRunbook` with `dryRun` (logins, archive lookup and validations only). @default false */
  dryRun?: boolean;
  /** Faults in the simulator's format; `appliance` is an endpoint key. @default [] */
  faults?: FaultRule[];
  /**
   * Grant every approval when it is requested, through the `approve` Update, as this person: a
   * client of its own whose identity is this name (the run is started by the rehearsal's identity,
   * so four eyes let it approve). @default none: wait
   */
  approveAs?: string;
  /** With `approveAs`: also accept restore validation warnings (`approve --accept-warnings`). @default false */
  acceptWarnings?: boolean;
  /** Seconds each simulated job takes. @default 3 */
  jobSeconds?: number;
  /** @default 500 */
  pollIntervalMs?: number;
  /** @default 1000 */
  busyRetryDelayMs?: number;
  /**
   * The Temporal server. @default `TEMPORAL_ADDRESS` (namespace `TEMPORAL_NAMESPACE`, else `default`)
   * when set, else an embedded dev server started (and stopped) by the rehearsal
   */
  temporal?: { address: string; namespace?: string };
  /** Start the embedded dev server with its Web UI. @default false */
  ui?: boolean;
  /** A prebuilt workflow bundle for the worker. @default bundle the workflows at start */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** @default `rehearsal-<runbook name>-<time>` */
  workflowId?: string;
  /** Where progress lines go (retries, approvals, what was started). @default none */
  log?: (line: string) => void;
  /** Waits for the run's end and returns its report, e.g. the CLI's live progress. @default `run.result()` */
  watch?: (run: RunbookRun) => Promise<RunbookReport>;
  /** Called once the run has started (e.g. to print its id and UI link). */
  onStart?: (started: RehearsalStarted) => void;
  /** Environment read for `TEMPORAL_ADDRESS`. @default process.env */
  env?: NodeJS.ProcessEnv;
}

export interface RehearsalStarted {
  workflowId: string;
  address: string;
  namespace: string;
  /** The embedded dev server's Web UI link of the run, when it has a UI. */
  uiUrl?: string;
  /**
   * The command a person types to approve a step (`by` default `NAME`, to fill in), with the
   * flags their `vmware-dr` needs to find this server.
   */
  approveCommand: (step: string, by?: string, acceptWarnings?: boolean) => string;
}

/** One remote job the simulator started during the rehearsal. */
export interface RehearsalRemoteJob {
  product: string;
  /** The endpoint key (the simulated appliance is named after it). */
  appliance: string;
  kind: string;
  id: string;
}

export interface RehearsalResult {
  report: RunbookReport;
  rehearsal: {
    workflowId: string;
    taskQueue: string;
    temporal: { address: string; namespace: string; embedded: boolean; uiUrl?: string };
    /** Each endpoint and the simulated appliance that stood in for it. */
    appliances: { endpoint: string; product: string; url: string; state?: string }[];
    remoteJobs: RehearsalRemoteJob[];
    /** What the rehearsal changed in the document to run it (timings, webhooks, archive ids). */
    notes: string[];
    /** The credential policy the rehearsal's worker enforced: generated for the simulated site, as `policy init` writes one. */
    policy: { source: string; sha256: string };
  };
}

/** Temporal could not be reached (exit 3). */
export class RehearsalConnectionError extends Error {
  override readonly name = 'RehearsalConnectionError';
}

/**
 * Installs the SDK's process-wide logger at WARN, without the "Activity failed" warning of a
 * retryable failure (a rehearsal tells each retry in its own line), and without the SDK's own
 * shutdown on SIGINT/SIGTERM: on Ctrl-C the CLI first ends the runs it started, which needs the
 * rehearsal's worker still running (src/core/interrupt.ts). A no-op when a runtime is installed already
 * (a host process keeps its logger and its signals).
 */
export function installQuietSdkLogger(): void {
  const fallback = new DefaultLogger('WARN');
  const logger = new DefaultLogger('WARN', (entry: LogEntry) => {
    const error = entry.meta?.error as { nonRetryable?: boolean } | undefined;
    if (entry.message === 'Activity failed' && error?.nonRetryable === false) return;
    fallback.log(entry.level, entry.message, entry.meta);
  });
  try {
    Runtime.install({ logger, shutdownSignals: [] });
  } catch {
    // Installed already.
  }
}

/** Reads a faults file (JSON or YAML: one fault or a list), in the simulator's format. */
export async function readFaultsFile(file: string): Promise<FaultRule[]> {
  let parsed: unknown;
  try {
    parsed = parseYaml(await readFile(file, 'utf8'));
  } catch (err) {
    throw new RehearsalInputError(`--faults ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  return (Array.isArray(parsed) ? parsed : [parsed]).map((f, i) => {
    try {
      return FaultBook.validate(f);
    } catch (err) {
      throw new RehearsalInputError(`--faults ${file}: entry ${i}: ${(err as Error).message}`);
    }
  });
}

/**
 * Rehearses a runbook (text or document) against simulated appliances of its topology; returns
 * the report and what the simulator saw. Stops everything it started, whatever happens.
 *
 * The simulator's passwords reach the in-process worker as `env:VMWARE_DR_REHEARSAL_<KEY>`
 * variables of this process, set for the rehearsal and restored after it: two rehearsals at once
 * in one process must not share endpoint or location keys.
 */
export async function rehearse(input: string | unknown, options: RehearseOptions = {}): Promise<RehearsalResult> {
  const doc = parseRunbook(input);
  const faults = checkFaults(doc, options.faults ?? []);
  if (options.approveAs !== undefined && (options.approveAs.trim() === '' || options.approveAs.length > 128))
    throw new RehearsalInputError('approveAs: who approves, 1–128 characters');
  const jobSeconds = options.jobSeconds ?? DEFAULT_REHEARSAL_JOB_SECONDS;
  if (!(Number.isFinite(jobSeconds) && jobSeconds >= 0))
    throw new RehearsalInputError(`jobSeconds: a number of seconds ≥ 0, got ${jobSeconds}`);
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_REHEARSAL_POLL_INTERVAL_MS;
  const log = options.log ?? (() => undefined);
  const env = options.env ?? process.env;
  const plan = planRehearsal(doc);

  const stops: (() => Promise<void>)[] = [];
  const savedEnv = new Map<string, string | undefined>();
  // Ctrl-C (in the CLI): the run is cancelled while its worker still runs, then whatever still
  // runs on its task queue is terminated.
  let endRun: (() => Promise<void>) | undefined;
  let ending: Promise<void> | undefined;
  const release = onInterrupt(`the rehearsal of ${doc.name}`, () =>
    endRun ? (ending ??= endRun()) : Promise.resolve(),
  );
  try {
    const sim = await startSimulator({ appliances: plan.specs, jobSeconds, faults });
    stops.unshift(() => sim.close());
    // What the rehearsal injects, said before the run (and again on each failure it causes).
    const restored = new Set(
      plan.specs.filter((a) => a.product === 'vcenter' && a.stage === 'restore').map((a) => a.name),
    );
    for (const f of faults) log(`Injected fault: ${faultText(f)}`);
    for (const name of restored)
      log(
        `Simulated: ${name} restarts its services during the restore (503 answers, dropped connections), as a real vCenter does`,
      );
    const document = plan.document(sim);
    // The simulated site's credential policy, from the generator of `vmware-dr policy init`.
    const policy = CredentialPolicy.parse(
      policyForRunbooks([document]).text,
      `credential policy of the simulated site of ${doc.name} (generated)`,
    );
    for (const [name, value] of plan.secrets) {
      savedEnv.set(name, process.env[name]);
      process.env[name] = value;
    }

    let temporal = options.temporal;
    let embedded = false;
    let uiUrl: string | undefined;
    if (!temporal && env.TEMPORAL_ADDRESS)
      temporal = { address: env.TEMPORAL_ADDRESS, namespace: env.TEMPORAL_NAMESPACE || undefined };
    if (!temporal) {
      log('Starting an embedded Temporal dev server…');
      const server = await startDevServer({ ui: options.ui ?? false, log: (l) => log(`  ${l}`) });
      stops.unshift(() => server.stop());
      temporal = { address: server.address, namespace: server.namespace };
      embedded = true;
      uiUrl = server.uiUrl;
    }
    const address = temporal.address;
    const namespace = temporal.namespace ?? 'default';
    let connection: Connection;
    let nativeConnection: NativeConnection;
    try {
      connection = await Connection.connect({ address, connectTimeout: '10 seconds' });
      stops.unshift(() => connection.close());
      nativeConnection = await NativeConnection.connect({ address });
      stops.unshift(() => nativeConnection.close());
    } catch (err) {
      throw new RehearsalConnectionError(
        `cannot reach Temporal at ${address}: ${(err as Error).message.split('\n')[0]} (set TEMPORAL_ADDRESS, or unset it for an embedded dev server)`,
      );
    }
    // Payload encryption when the environment configures keys (VMWARE_DR_CODEC_KEYS / _KEY_FILE).
    const dataConverter = dataConverterFromEnv(env);
    // The rehearsal starts the run under an identity of its own, so the person rehearsing (or
    // `approveAs`) is the second person four eyes ask for.
    const client = new Client({
      connection,
      namespace,
      identity: `${REHEARSAL_IDENTITY}@${hostname()}`,
      ...(dataConverter && { dataConverter }),
    });
    const taskQueue = `vmware-dr-rehearsal-${randomUUID().slice(0, 8)}`;
    const runbooks = runbookClient(client, { taskQueue });
    // This package's worker, with heartbeats every second so retries show at once.
    const worker = await createWorker({
      connection: nativeConnection,
      namespace,
      taskQueue,
      activities: {
        policy,
        pollIntervalMs,
        busyRetryDelayMs: options.busyRetryDelayMs ?? DEFAULT_REHEARSAL_BUSY_RETRY_DELAY_MS,
      },
      ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : {}),
      ...(dataConverter && { dataConverter }),
      worker: { maxHeartbeatThrottleInterval: '1 second' },
    });
    const workflowId = options.workflowId ?? `rehearsal-${doc.name}-${Date.now()}`;
    // The flags a person's `vmware-dr` needs to find this server (it reads TEMPORAL_ADDRESS).
    const serverFlags = `${address !== env.TEMPORAL_ADDRESS ? ` --address ${address}` : ''}${namespace !== (env.TEMPORAL_NAMESPACE || 'default') ? ` --namespace ${namespace}` : ''}`;
    // The one approve command text (src/contract/runbook/approvals.ts); the server flags follow the
    // approver's name, `--accept-warnings` comes last, as the rehearsal always printed it.
    const approveCommand = (step: string, by = 'NAME', acceptWarnings = false) =>
      approveCommandText(workflowId, step, acceptWarnings, `${by}${serverFlags}`);
    const runUi = uiUrl
      ? `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`
      : undefined;

    const interruptedRun = () => new InterruptedError(`the rehearsal run ${workflowId} was cancelled`);
    let report: RunbookReport;
    try {
      report = await worker.runUntil(async () => {
        if (interruptSignal.aborted) throw new InterruptedError('interrupted before the rehearsal run started');
        const handle = await runbooks.start(document, {
          workflowId,
          ...(options.dryRun && { dryRun: true }),
          summary: `rehearsal of runbook ${doc.name} against simulated appliances`,
        });
        endRun = async () => {
          await handle.cancel().catch(() => undefined);
          if (!(await settlesWithin(handle.result(), INTERRUPT_CANCEL_WAIT_MS)))
            await handle.terminate('interrupted (Ctrl-C); the cancel did not end it in time').catch(() => undefined);
          await endTaskQueueWorkflows(client, taskQueue, 'the rehearsal that started it was interrupted').catch(
            () => undefined,
          );
        };
        // Ctrl-C while the start was on its way: end the run now.
        if (interruptSignal.aborted) ending ??= endRun();
        options.onStart?.({ workflowId, address, namespace, ...(runUi && { uiUrl: runUi }), approveCommand });
        const watcher = monitor(handle, client, {
          approveAs: options.approveAs,
          acceptWarnings: options.acceptWarnings,
          log,
          approveCommand,
          injected: injectedCause(sim, faults, restored),
        });
        try {
          return options.watch ? await options.watch(handle) : await handle.result();
        } finally {
          await watcher.stop();
          // While the worker still runs: the appliance leases end cleanly (COMPLETED), not terminated.
          if (!interruptSignal.aborted)
            await endTaskQueueWorkflows(client, taskQueue, 'the rehearsal that started it ended', {
              workerPolling: true,
            });
        }
      });
    } catch (err) {
      if (!interruptSignal.aborted) throw err;
      await ending;
      // Never started: nothing was cancelled (the error says so already).
      throw endRun ? interruptedRun() : err;
    }
    if (interruptSignal.aborted) {
      await ending;
      throw interruptedRun();
    }

    const run = runbooks.get(workflowId);
    for (const s of report.steps) {
      if (s.attempts !== undefined || (s.state !== 'succeeded' && s.state !== 'failed')) continue;
      const attempts = await run.startAttempts(s.id).catch(() => undefined);
      if (attempts !== undefined) s.attempts = attempts;
    }

    return {
      report,
      rehearsal: {
        workflowId,
        taskQueue,
        temporal: { address, namespace, embedded, ...(runUi && { uiUrl: runUi }) },
        appliances: plan.specs.map((s) => ({
          endpoint: s.name,
          product: s.product,
          url: `${sim.url}/${s.product}/${s.name}`,
          ...(s.stage && { state: s.stage === 'restore' ? 'freshly deployed, waiting for a restore' : s.stage }),
        })),
        remoteJobs: sim.counters().jobs.map(({ product, appliance, kind, id }) => ({ product, appliance, kind, id })),
        notes: plan.notes,
        policy: { source: policy.source, sha256: policy.sha256 },
      },
    };
  } finally {
    release();
    for (const stop of stops) await stop().catch(() => undefined);
    for (const [name, value] of savedEnv) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
