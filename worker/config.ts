/**
 * The worker process's own settings, from `VMWARE_DR_*` environment variables: one zod schema,
 * every problem reported at once, each naming the variable and how to fix it. The connection to
 * Temporal is not here: it comes from the standard Temporal environment configuration
 * (`@temporalio/envconfig`: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key, profiles).
 * None of these variables holds a secret, so a message may quote the value it rejects, except the
 * payload encryption keys (VMWARE_DR_CODEC_KEYS / VMWARE_DR_CODEC_KEY_FILE), checked by
 * src/codec/keys.ts whose messages never show key material.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  CODEC_KEYS_VARIABLE,
  CODEC_KEY_FILE_VARIABLE,
  CodecKeyError,
  type CodecKeyring,
  loadCodecKeys,
} from '../src/codec/keys';
import { MAX_POLL_INTERVAL_MS } from '../src/contract/endpoints';
import { DEFAULT_TASK_QUEUE } from '../src/contract/names';
import { durationText, parseDuration } from '../src/contract/duration';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevelName } from '../src/core/log-levels';
import {
  DEFAULT_MAX_CONCURRENT_ACTIVITIES,
  DEFAULT_MAX_CONCURRENT_WORKFLOW_TASKS,
  DEFAULT_METRICS_HOST,
  DEFAULT_METRICS_PORT,
  DEFAULT_SHUTDOWN_GRACE_TIME,
  MAX_SHUTDOWN_GRACE_MS,
  WORKER_ENV_HELP,
} from './env';
import { CredentialPolicy, PolicyFileError } from '../src/core/policy/index';

const KNOWN = new Set(WORKER_ENV_HELP.map(([name]) => name));
/** Checked apart from the zod schema: their values are secret and never quoted. */
const CODEC_VARIABLES = new Set([CODEC_KEYS_VARIABLE, CODEC_KEY_FILE_VARIABLE]);
/** The credential policy file's variable (read apart from the zod schema: the file is checked by src/core/policy/index.ts). */
export const POLICY_VARIABLE = 'VMWARE_DR_POLICY';
/** Where the README and the messages suggest the policy file lives. */
export const DEFAULT_POLICY_PATH = '/etc/vmware-dr/policy.yaml';

/** The problem of a production worker started without a credential policy: what it is for and how to write one. */
export const MISSING_POLICY_PROBLEM =
  `${POLICY_VARIABLE}: not set. The worker refuses to start without a credential policy: it decides which appliances, ` +
  'secret references, backup locations and webhooks runbooks may use, so that whoever can start a workflow cannot make ' +
  `the worker hand its secrets elsewhere. Write one with \`vmware-dr policy init RUNBOOK... > ${DEFAULT_POLICY_PATH}\`, ` +
  `review it (\`vmware-dr policy check ${DEFAULT_POLICY_PATH}\`), then set ${POLICY_VARIABLE}=${DEFAULT_POLICY_PATH}`;

/** A whole number in [min, max] from an environment string; `''` counts as unset. */
function wholeNumber(min: number, max: number, message = `a whole number ${min}–${max}`) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, { message, abort: true })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { message });
}

const unsetIfEmpty = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const WorkerEnv = z.object({
  VMWARE_DR_TASK_QUEUE: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .trim()
      .max(200, 'a task queue name of at most 200 characters')
      .regex(/^\S+$/, 'a task queue name without spaces')
      .default(DEFAULT_TASK_QUEUE),
  ),
  VMWARE_DR_POLL_INTERVAL_MS: z.preprocess(
    unsetIfEmpty,
    wholeNumber(1, MAX_POLL_INTERVAL_MS, `a whole number of milliseconds 1–${MAX_POLL_INTERVAL_MS}`).optional(),
  ),
  VMWARE_DR_BUSY_RETRY_DELAY_MS: z.preprocess(
    unsetIfEmpty,
    wholeNumber(1, MAX_POLL_INTERVAL_MS, `a whole number of milliseconds 1–${MAX_POLL_INTERVAL_MS}`).optional(),
  ),
  VMWARE_DR_MAX_CONCURRENT_ACTIVITIES: z.preprocess(
    unsetIfEmpty,
    wholeNumber(1, 10_000).default(DEFAULT_MAX_CONCURRENT_ACTIVITIES),
  ),
  VMWARE_DR_MAX_CONCURRENT_WORKFLOW_TASKS: z.preprocess(
    unsetIfEmpty,
    // The SDK needs at least 2 workflow task slots (one for sticky and one for normal polls).
    wholeNumber(2, 10_000).default(DEFAULT_MAX_CONCURRENT_WORKFLOW_TASKS),
  ),
  // Empty or 0 disables metrics; unset uses the default port.
  VMWARE_DR_METRICS_PORT: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === undefined ? String(DEFAULT_METRICS_PORT) : v === '' ? '0' : v))
    .pipe(wholeNumber(0, 65_535, 'a port 1–65535 (0 or empty: no metrics)').transform((n) => n || undefined)),
  VMWARE_DR_METRICS_HOST: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9.:[\]-]+$/, 'an IP address or host name, e.g. 0.0.0.0 or 127.0.0.1')
      .default(DEFAULT_METRICS_HOST),
  ),
  VMWARE_DR_RUNTIME_METRICS_PORT: z.preprocess(unsetIfEmpty, wholeNumber(1, 65_535, 'a port 1–65535').optional()),
  VMWARE_DR_LOG_LEVEL: z.preprocess(
    (v) => (typeof unsetIfEmpty(v) === 'string' ? (v as string).trim().toLowerCase() : undefined),
    z.enum(LOG_LEVELS, { message: `one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  ),
  VMWARE_DR_LOG_FORMAT: z.preprocess(
    (v) => (typeof unsetIfEmpty(v) === 'string' ? (v as string).trim().toLowerCase() : undefined),
    z.enum(LOG_FORMATS, { message: `one of ${LOG_FORMATS.join(', ')}` }).default('json'),
  ),
  VMWARE_DR_WORKFLOW_BUNDLE: z.preprocess(unsetIfEmpty, z.string().trim().optional()),
  VMWARE_DR_SHUTDOWN_GRACE_TIME: z.preprocess(
    unsetIfEmpty,
    durationText(0, MAX_SHUTDOWN_GRACE_MS).default(DEFAULT_SHUTDOWN_GRACE_TIME),
  ),
});

/** The worker's settings, defaults applied (by the `WorkerEnv` schema above, the one place). */
export interface WorkerConfig {
  /** @default DEFAULT_TASK_QUEUE (`vmware-dr`) */
  taskQueue: string;
  /** @default unset: the activities' default (DEFAULT_POLL_INTERVAL_MS, 15 s) */
  pollIntervalMs?: number;
  /** @default unset: the activities' default (DEFAULT_BUSY_RETRY_DELAY_MS, 30 s) */
  busyRetryDelayMs?: number;
  /** @default DEFAULT_MAX_CONCURRENT_ACTIVITIES */
  maxConcurrentActivities: number;
  /** @default DEFAULT_MAX_CONCURRENT_WORKFLOW_TASKS */
  maxConcurrentWorkflowTasks: number;
  /**
   * Metrics server; undefined when disabled.
   * @default DEFAULT_METRICS_HOST, DEFAULT_METRICS_PORT
   */
  metrics?: { host: string; port: number; runtimePort: number };
  /** @default 'info' */
  logLevel: LogLevelName;
  /** @default 'json' */
  logFormat: LogFormat;
  /**
   * An explicit workflow bundle path (must exist).
   * @default unset: the worker bundles at start
   */
  workflowBundle?: string;
  /** @default DEFAULT_SHUTDOWN_GRACE_TIME */
  shutdownGraceMs: number;
  /**
   * Payload encryption keys (the first encrypts).
   * @default unset: payloads are not encrypted
   */
  codecKeys?: CodecKeyring;
  /** The credential policy from `VMWARE_DR_POLICY`; undefined when the variable is unset. */
  policy?: CredentialPolicy;
  /** `VMWARE_DR_*` variables set in the environment that this worker does not read (likely typos). */
  unknownVariables: string[];
}

/** A bad worker environment: `problems` has one `VARIABLE: what it must be, got "value"` per issue. */
export class WorkerConfigError extends Error {
  override readonly name = 'WorkerConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid worker environment:\n  ${problems.join('\n  ')}`);
  }
}

/** Options of {@link loadWorkerConfig}. */
export interface LoadWorkerConfigOptions {
  /** A missing `VMWARE_DR_POLICY` is a problem (the production worker). @default false */
  requirePolicy?: boolean;
}

/** The policy file `VMWARE_DR_POLICY` names, read and checked; its problems added to `problems`. */
function loadPolicy(file: string, problems: string[]): CredentialPolicy | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(
      `${POLICY_VARIABLE}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}): check the path and that the worker's user may read it`,
    );
    return undefined;
  }
  try {
    return CredentialPolicy.parse(text, file);
  } catch (err) {
    if (!(err instanceof PolicyFileError)) throw err;
    problems.push(
      `${POLICY_VARIABLE}: ${file} is not a valid credential policy:`,
      ...err.problems.map((p) => `  ${p}`),
    );
    return undefined;
  }
}

/**
 * Reads and checks the worker's `VMWARE_DR_*` variables (and the credential policy file
 * `VMWARE_DR_POLICY` names); throws `WorkerConfigError` listing every problem.
 */
export function loadWorkerConfig(
  env: NodeJS.ProcessEnv = process.env,
  options: LoadWorkerConfigOptions = {},
): WorkerConfig {
  const raw = Object.fromEntries(
    [...KNOWN].filter((k) => !CODEC_VARIABLES.has(k) && k !== POLICY_VARIABLE).map((k) => [k, env[k]]),
  );
  const parsed = WorkerEnv.safeParse(raw);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0]);
      problems.push(`${name}: ${issue.message}, got ${JSON.stringify(env[name] ?? '')}`);
    }
  }
  const c = parsed.data;
  let metrics: WorkerConfig['metrics'];
  if (c?.VMWARE_DR_METRICS_PORT !== undefined) {
    const runtimePort = c.VMWARE_DR_RUNTIME_METRICS_PORT ?? c.VMWARE_DR_METRICS_PORT + 1;
    if (runtimePort > 65_535 || runtimePort === c.VMWARE_DR_METRICS_PORT)
      problems.push(
        `VMWARE_DR_RUNTIME_METRICS_PORT: a port 1–65535 other than VMWARE_DR_METRICS_PORT, got ${runtimePort} (set it explicitly)`,
      );
    metrics = { host: c.VMWARE_DR_METRICS_HOST, port: c.VMWARE_DR_METRICS_PORT, runtimePort };
  }
  let codecKeys: CodecKeyring | undefined;
  try {
    codecKeys = loadCodecKeys(env);
  } catch (err) {
    if (!(err instanceof CodecKeyError)) throw err;
    problems.push(...err.problems);
  }
  const policyFile = env[POLICY_VARIABLE]?.trim();
  const policy = policyFile ? loadPolicy(policyFile, problems) : undefined;
  if (!policyFile && options.requirePolicy) problems.unshift(MISSING_POLICY_PROBLEM);
  if (problems.length > 0 || !c) throw new WorkerConfigError(problems);
  return {
    taskQueue: c.VMWARE_DR_TASK_QUEUE,
    ...(c.VMWARE_DR_POLL_INTERVAL_MS !== undefined && { pollIntervalMs: c.VMWARE_DR_POLL_INTERVAL_MS }),
    ...(c.VMWARE_DR_BUSY_RETRY_DELAY_MS !== undefined && { busyRetryDelayMs: c.VMWARE_DR_BUSY_RETRY_DELAY_MS }),
    maxConcurrentActivities: c.VMWARE_DR_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTasks: c.VMWARE_DR_MAX_CONCURRENT_WORKFLOW_TASKS,
    ...(metrics && { metrics }),
    logLevel: c.VMWARE_DR_LOG_LEVEL,
    logFormat: c.VMWARE_DR_LOG_FORMAT,
    ...(c.VMWARE_DR_WORKFLOW_BUNDLE !== undefined && { workflowBundle: c.VMWARE_DR_WORKFLOW_BUNDLE }),
    shutdownGraceMs: parseDuration(c.VMWARE_DR_SHUTDOWN_GRACE_TIME),
    ...(codecKeys && { codecKeys }),
    ...(policy && { policy }),
    unknownVariables: Object.keys(env).filter((k) => k.startsWith('VMWARE_DR_') && !KNOWN.has(k)),
  };
}
