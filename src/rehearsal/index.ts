/**
 * Rehearsal: the real runbook document, run by the real `drRunbook` on a real Temporal server,
 * against simulated appliances of the same topology. One simulated appliance per endpoint, named
 * after its endpoint key; credentials and TLS resolved to the simulator's (by reference, never
 * literal); restores against appliances in the state a real restore needs (a vCenter freshly
 * deployed in its restore stage, with the backup the step names on its location; a fresh SDDC
 * Manager); an in-process worker on its own task queue; everything it started stopped at the end.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, type LogEntry, NativeConnection, Runtime, type WorkerOptions } from '@temporalio/worker';
import { parse as parseYaml } from 'yaml';
import { createWorker } from '../../worker/index';
import { dataConverterFromEnv } from '../codec/data-converter';
import { approveUpdate, progressQuery } from '../contract/messages';
import { leaseCloseSignal } from '../../workflows/lease';
import { Runbook, type RunbookDocument, type RunbookEndpoint, type RunbookStep } from '../contract/runbook/document';
import type { RunbookReport } from '../contract/runbook/report';
import { FaultBook } from '../simulator/faults';
import type { SimulatorApplianceSpec } from '../simulator/appliance-specs';
import { type ApplianceInfo, type Simulator, startSimulator } from '../simulator/server';
import type { FaultRule } from '../simulator/types';
import { InterruptedError, interruptSignal, onInterrupt } from '../core/interrupt';
import { startDevServer } from '../temporal/dev-server';
import { checkInput } from '../contract/inputs';
import { CredentialPolicy, policyForRunbooks } from '../core/policy/index';
import { settlesWithin } from '../core/settles-within';

/** Seconds a simulated job takes in a rehearsal unless told otherwise. */
export const DEFAULT_REHEARSAL_JOB_SECONDS = 3;
/** Status polls in a rehearsal (the document's `pollInterval` is for real appliances). */
export const DEFAULT_REHEARSAL_POLL_INTERVAL_MS = 500;
/** Wait before a start answered "busy" is tried again (real runs: 30 s). */
export const DEFAULT_REHEARSAL_BUSY_RETRY_DELAY_MS = 1000;
/** Prefix of the variables that carry the simulator's secrets to the worker. */
export const REHEARSAL_ENV_PREFIX = 'VMWARE_DR_REHEARSAL_';
/** The client identity a rehearsal starts its run with (at this host). */
export const REHEARSAL_IDENTITY = 'vmware-dr-rehearsal';
/** How often the rehearsal looks at the run (approvals to grant, retries to show). */
const MONITOR_INTERVAL_MS = 250;
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
  /** Waits for the run's end and returns its report, e.g. the CLI's live progress. @default `handle.result()` */
  watch?: (handle: WorkflowHandle) => Promise<RunbookReport>;
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
  /** The command a person types to approve a step (`<step>` and `<name>` to fill in). */
  approveCommand: (step: string, by?: string) => string;
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

/** The document or the options cannot be rehearsed (exit 2). */
export class RehearsalInputError extends Error {
  override readonly name = 'RehearsalInputError';
  constructor(
    message: string,
    readonly problems: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** Temporal could not be reached (exit 3). */
export class RehearsalConnectionError extends Error {
  override readonly name = 'RehearsalConnectionError';
}

/** `vc-mgmt` → `VC_MGMT` (the part of an environment variable name). */
function envPart(key: string): string {
  return key.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** A password that meets vCenter's backup-password policy (8–20 characters, upper, lower, digit, special). */
function backupPassword(): string {
  return `Re-${randomBytes(5).toString('hex')}#A1`;
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

/** Parses runbook text (YAML or JSON) and checks it; every problem named. */
export function parseRunbook(input: string | unknown): RunbookDocument {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = parseYaml(input);
    } catch (err) {
      throw new RehearsalInputError(`the runbook is not YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const check = checkInput('runbook', Runbook, value, { origin: 'call' });
  if (!check.ok)
    throw new RehearsalInputError(
      `the runbook is invalid: ${check.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      check.problems,
    );
  return check.value as RunbookDocument;
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

/** Faults must name endpoints of this runbook (and their product), or they would silently hit nothing. */
function checkFaults(doc: RunbookDocument, faults: FaultRule[]): FaultRule[] {
  const keys = Object.keys(doc.endpoints);
  return faults.map((raw, i) => {
    let f: FaultRule;
    try {
      f = FaultBook.validate(raw);
    } catch (err) {
      throw new RehearsalInputError(`faults[${i}]: ${(err as Error).message}`);
    }
    if (f.appliance !== undefined) {
      const e = doc.endpoints[f.appliance];
      if (!e)
        throw new RehearsalInputError(
          `faults[${i}].appliance: "${f.appliance}" is not an endpoint of runbook ${doc.name} (endpoints: ${keys.join(', ')})`,
        );
      if (f.product !== undefined && f.product !== e.product)
        throw new RehearsalInputError(
          `faults[${i}].product: endpoint ${f.appliance} is a ${e.product}, not a ${f.product}; fix or drop product`,
        );
    }
    return f;
  });
}

/** The first step of each endpoint, in stage order. */
function firstUse(doc: RunbookDocument): Map<string, RunbookStep> {
  const first = new Map<string, RunbookStep>();
  for (const stage of doc.stages)
    for (const step of stage.steps) {
      const key = 'backup' in step ? step.backup : step.restore;
      if (!first.has(key)) first.set(key, step);
    }
  return first;
}

/** The host of an appliance URL (the default system name of its vCenter backups). */
function urlHost(url: string): string {
  return /^[a-z]+:\/\/\[?([^/:?#\]]+)/i.exec(url)?.[1]?.toLowerCase() ?? 'vcenter.sim.local';
}

interface Plan {
  specs: SimulatorApplianceSpec[];
  /** Variable name → value, set for the worker while the rehearsal runs. */
  secrets: Map<string, string>;
  notes: string[];
  /** Builds the rehearsed document once the simulator runs. */
  document: (sim: Simulator) => RunbookDocument;
}

/** What the simulator must serve and how the document is rewritten to it. */
function planRehearsal(doc: RunbookDocument): Plan {
  const secrets = new Map<string, string>();
  const notes: string[] = [];
  const variable = (name: string, value: string): string => {
    let full = `${REHEARSAL_ENV_PREFIX}${name}`;
    for (let n = 2; secrets.has(full); n++) full = `${REHEARSAL_ENV_PREFIX}${name}_${n}`;
    secrets.set(full, value);
    return `env:${full}`;
  };

  // Locations: their secrets become the rehearsal's; a vCenter backup is encrypted with the location's password.
  const locations: Record<string, NonNullable<RunbookDocument['locations']>[string]> = {};
  const encryption = new Map<string, string>();
  for (const [key, l] of Object.entries(doc.locations ?? {})) {
    const loc = { ...l };
    if (l.passwordRef !== undefined) loc.passwordRef = variable(`LOCATION_${envPart(key)}_PASSWORD`, randomUUID());
    if (l.encryptionPasswordRef !== undefined) {
      const pw = backupPassword();
      encryption.set(key, pw);
      loc.encryptionPasswordRef = variable(`LOCATION_${envPart(key)}_ENCRYPTION`, pw);
    }
    locations[key] = loc;
  }

  // Appliances: a vCenter whose first step is a restore is freshly deployed, with the backup to restore.
  const first = firstUse(doc);
  const systemNames = new Map<string, string>();
  const specs: SimulatorApplianceSpec[] = Object.entries(doc.endpoints).map(([key, e]) => {
    const step = first.get(key);
    if (e.product !== 'vcenter' || !step || !('restore' in step)) return { product: e.product, name: key };
    const systemName = step.systemName ?? urlHost(e.url);
    systemNames.set(key, systemName);
    const from = step.from !== undefined ? doc.locations?.[step.from] : undefined;
    return {
      product: 'vcenter',
      name: key,
      stage: 'restore',
      systemName,
      backups: from
        ? [
            {
              location: from.url,
              locationType: from.type,
              ...(encryption.has(step.from!) && { backupPassword: encryption.get(step.from!) }),
            },
          ]
        : [],
    };
  });

  // Steps: restores name their system (the URL changes to the simulator's); a fixed archive id cannot exist there.
  const stages = doc.stages.map((stage) => ({
    ...stage,
    steps: stage.steps.map((step) => {
      const { pollInterval: _pollInterval, ...rest } = step;
      if (!('restore' in rest)) return rest;
      const out = { ...rest };
      const endpoint = doc.endpoints[rest.restore]!;
      if (endpoint.product === 'vcenter') {
        out.systemName ??= systemNames.get(rest.restore) ?? urlHost(endpoint.url);
        if (rest.archive !== undefined && rest.archive !== 'latest') {
          notes.push(
            `step ${rest.restore}: archive ${rest.archive} cannot exist on a simulated backup server; rehearsed with the latest archive`,
          );
          out.archive = 'latest';
        }
      }
      if (rest.passphraseRef !== undefined)
        out.passphraseRef = variable(`${envPart(rest.restore)}_PASSPHRASE`, randomUUID());
      return out;
    }),
  }));
  const hadPollInterval =
    doc.defaults?.pollInterval !== undefined ||
    doc.stages.some((s) => s.steps.some((st) => st.pollInterval !== undefined));
  if (hadPollInterval)
    notes.push('pollInterval: the document’s intervals are for real appliances; rehearsed with short polls');
  if (doc.notify?.length) notes.push(`notify: ${doc.notify.length} webhook(s) not called during a rehearsal`);

  return {
    specs,
    secrets,
    notes,
    document: (sim) => {
      const endpoints: Record<string, RunbookEndpoint> = {};
      for (const [key, e] of Object.entries(doc.endpoints)) {
        const product = e.product === 'sddc-manager' ? 'sddcManager' : e.product;
        const info = sim.info[product].find((a) => a.url.endsWith(`/${key}`)) as ApplianceInfo;
        const { allowHttp: _allowHttp, tls: _tls, ...rest } = e;
        endpoints[key] = {
          ...rest,
          url: info.url,
          username: info.username,
          passwordRef: variable(envPart(key), info.password),
          tls: { caFile: sim.info.caFile! },
        } as RunbookEndpoint;
      }
      const { notify: _notify, ...base } = doc;
      return {
        ...base,
        defaults: { ...doc.defaults, pollInterval: undefined },
        endpoints,
        ...(doc.locations && { locations }),
        stages,
      } as RunbookDocument;
    },
  };
}

/** The highest attempt of a step's start activity, from its child workflow's history. */
async function startAttempts(client: Client, childId: string): Promise<number | undefined> {
  const history = await client.workflow.getHandle(childId).fetchHistory();
  const starts = new Set<string>();
  let attempts: number | undefined;
  for (const e of history.events ?? []) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled && /^start/.test(scheduled.activityType?.name ?? '')) starts.add(String(e.eventId));
    const started = e.activityTaskStartedEventAttributes;
    if (started && starts.has(String(started.scheduledEventId)))
      attempts = Math.max(attempts ?? 0, started.attempt ?? 1);
  }
  return attempts;
}

/** A fault rule in a line: `vc-mgmt backupJobCreate → error FEATURE_IN_USE (×1)`. */
function faultText(f: FaultRule): string {
  const what =
    'error' in f.action
      ? `${f.action.kind} ${f.action.error}`
      : 'status' in f.action
        ? `${f.action.kind} ${f.action.status}`
        : f.action.kind;
  return `${f.appliance ?? `every ${f.product ?? 'appliance'}`} ${f.operation === '*' ? 'every call' : f.operation} → ${what} (×${f.count ?? 1})`;
}

/** What the simulated services restart of a vCenter restore looks like to a step (503, a dropped connection). */
const RESTART_FAILURE =
  /503|SERVICE_UNAVAILABLE|ServiceUnavailable|NetworkError|content-length|socket|closed|ECONNRESET/i;

/**
 * Which failures of a step the rehearsal itself caused, so they are announced as such and not
 * mistaken for the site's (a "check that the appliance address is reachable" hint is about a real
 * network): the fault rules it was given, once they have fired on the step's appliance and
 * operation, and the services restart a simulated vCenter goes through during a restore.
 */
function injectedCause(
  sim: Simulator,
  faults: readonly FaultRule[],
  restored: ReadonlySet<string>,
): (endpoint: string, failure?: string) => string | undefined {
  const key = (f: FaultRule) => JSON.stringify([f.product, f.appliance, f.operation, f.action]);
  return (endpoint, failure) => {
    // Failure messages start `<product> <appliance> <operation>:` (src/core/errors.ts).
    const operation = failure ? /^\S+ \S+ (\w+):/.exec(failure)?.[1] : undefined;
    // A rule has fired once the simulator's book no longer holds it untouched (it drops spent rules).
    const armed = sim.faults.list();
    const fired = faults.find(
      (f) =>
        (f.appliance === undefined || f.appliance === endpoint) &&
        (operation === undefined || f.operation === '*' || f.operation === operation) &&
        !armed.some((r) => key(r) === key(f) && r.remaining === (f.count ?? 1)),
    );
    if (fired) return `injected by the rehearsal: ${faultText(fired)}`;
    if (restored.has(endpoint) && failure !== undefined && RESTART_FAILURE.test(failure))
      return 'simulated by the rehearsal: the vCenter restarts its services during a restore (503 answers, dropped connections), as a real one does';
    return undefined;
  };
}

/** Approvals to grant (or announce) and retries to show while the run goes on. */
function monitor(
  handle: WorkflowHandle,
  client: Client,
  opts: {
    approveAs?: string;
    acceptWarnings?: boolean;
    log: (line: string) => void;
    approveCommand: (step: string) => string;
    /** Says when a step's failure is one the rehearsal injected. */
    injected: (endpoint: string, failure?: string) => string | undefined;
  },
): { stop: () => Promise<void> } {
  // The approver is another person than the rehearsal that started the run: a client of its own.
  const approver =
    opts.approveAs === undefined
      ? undefined
      : new Client({
          connection: client.connection,
          namespace: client.options.namespace,
          identity: opts.approveAs,
          dataConverter: client.options.dataConverter,
        }).workflow.getHandle(handle.workflowId);
  let stopped = false;
  const announced = new Set<string>();
  const retries = new Set<string>();
  const loop = (async () => {
    while (!stopped) {
      const report = await handle.query(progressQuery).catch(() => undefined);
      for (const s of report?.steps ?? []) {
        if (s.state === 'waiting-approval' && !announced.has(s.id)) {
          announced.add(s.id);
          if (approver === undefined || opts.approveAs === undefined) {
            opts.log(
              `step ${s.id} (${s.action} ${s.endpoint}) waits for approval: ${opts.approveCommand(s.id)}${s.acceptWarnings ? ' --accept-warnings' : ''}`,
            );
            continue;
          }
          opts.log(`step ${s.id} (${s.action} ${s.endpoint}) waits for approval; approving as ${opts.approveAs}`);
          await approver
            .executeUpdate(approveUpdate, {
              args: [
                {
                  step: s.id,
                  by: opts.approveAs,
                  comment: 'approved when requested (rehearsal)',
                  ...(opts.acceptWarnings === true && { acceptWarnings: true }),
                },
              ],
            })
            .catch((err: unknown) => opts.log(`approval of step ${s.id} refused: ${(err as Error).message}`));
        }
        // A busy appliance: the step waits it out with a timer and says so in the progress report.
        if (s.state === 'running' && s.waiting !== undefined && !retries.has(`${s.id}/${s.waiting}`)) {
          retries.add(`${s.id}/${s.waiting}`);
          const injected = opts.injected(s.endpoint);
          opts.log(`step ${s.id} ${s.endpoint}: waiting: ${s.waiting}${injected ? ` (${injected})` : ''}`);
        }
        if (s.state === 'running') {
          const child = await client.workflow
            .getHandle(`${handle.workflowId}/${s.id}`)
            .describe()
            .catch(() => undefined);
          for (const a of child?.raw.pendingActivities ?? []) {
            const key = `${s.id}/${a.activityId}/${a.attempt}`;
            if ((a.attempt ?? 1) > 1 && !retries.has(key)) {
              retries.add(key);
              const why = (a.lastFailure?.message ?? 'a retryable failure').split('\n')[0]!;
              const injected = opts.injected(s.endpoint, why);
              opts.log(
                `step ${s.id} ${s.endpoint}: ${a.activityType?.name} attempt ${a.attempt} after: ${injected ? `${injected}: ` : ''}${why}`,
              );
            }
          }
        }
      }
      await new Promise((r) => setTimeout(r, MONITOR_INTERVAL_MS));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop.catch(() => undefined);
    },
  };
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
    const approveCommand = (step: string, by = 'NAME') =>
      `vmware-dr approve ${workflowId} --step ${step} --by ${by}${serverFlags}`;
    const runUi = uiUrl
      ? `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`
      : undefined;

    const interruptedRun = () => new InterruptedError(`the rehearsal run ${workflowId} was cancelled`);
    let report: RunbookReport;
    try {
      report = await worker.runUntil(async () => {
        if (interruptSignal.aborted) throw new InterruptedError('interrupted before the rehearsal run started');
        const handle = await client.workflow.start('drRunbook', {
          taskQueue,
          workflowId,
          args: [document, { ...(options.dryRun && { dryRun: true }) }],
          staticSummary: `rehearsal of runbook ${doc.name} against simulated appliances`,
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
          return options.watch ? await options.watch(handle) : ((await handle.result()) as RunbookReport);
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

    for (const s of report.steps) {
      if (s.attempts !== undefined || (s.state !== 'succeeded' && s.state !== 'failed')) continue;
      const attempts = await startAttempts(client, `${workflowId}/${s.id}`).catch(() => undefined);
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

/** How long {@link endTaskQueueWorkflows} waits for lease workflows asked to close (they end within a workflow task). */
const LEASE_CLOSE_WAIT_MS = 10_000;

/**
 * Ends what still runs on a task queue whose worker is going away: chiefly the appliance lease
 * workflows, which idle for a minute. Left running, a later run whose appliance has the same
 * host:port (a simulator given a freed port) would send its lease request to a workflow no worker
 * serves, and wait for a grant that never comes.
 *
 * With `workerPolling` (call it while the task queue's worker still runs), lease workflows are
 * asked to close (`vmwareDrLeaseClose`) and end cleanly, COMPLETED, as soon as nothing is queued
 * or held; whatever still runs after that (a run left behind, a lease still held, or every
 * workflow when no worker polls) is terminated with `reason`. Best effort: a run that ends
 * meanwhile is skipped.
 */
export async function endTaskQueueWorkflows(
  client: Client,
  taskQueue: string,
  reason: string,
  opts: { workerPolling?: boolean } = {},
): Promise<void> {
  const running: { workflowId: string; runId: string; type: string }[] = [];
  for await (const w of client.workflow.list({ query: `TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"` }))
    running.push({ workflowId: w.workflowId, runId: w.runId, type: w.type });
  const handle = (w: { workflowId: string; runId: string }) => client.workflow.getHandle(w.workflowId, w.runId);
  if (opts.workerPolling) {
    const deadline = Date.now() + LEASE_CLOSE_WAIT_MS;
    await Promise.all(
      running
        .filter((w) => w.type === 'applianceLease')
        .map(async (w) => {
          const h = handle(w);
          await h.signal(leaseCloseSignal).catch(() => undefined);
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            h.result().catch(() => undefined),
            new Promise((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now())))),
          ]);
          clearTimeout(timer);
        }),
    );
  }
  await Promise.all(
    running.map(async (w) => {
      const h = handle(w);
      if (opts.workerPolling && (await h.describe().catch(() => undefined))?.status.name !== 'RUNNING') return;
      await h.terminate(reason).catch(() => undefined);
    }),
  );
}
