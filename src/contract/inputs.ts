/**
 * The inputs of this package's workflows, as zod schemas: the one boundary. Workflows validate
 * their whole input with these first, before any activity; clients and the CLI validate with the
 * same schemas before they start anything. Pure (zod only): safe to import from workflow code.
 */
import { z } from 'zod';
import { closestField } from './closest';
import {
  LITERAL_SECRET_PARAM,
  MAX_POLL_INTERVAL_MS,
  LOCATION_TYPES,
  MAX_STEP_TIMEOUT_MS,
  MAX_URL_LENGTH,
  MIN_STEP_TIMEOUT_MS,
  SddcManagerEndpoint,
  VcdaEndpoint,
  VcenterEndpoint,
  secretRef,
} from './endpoints';
import { MAX_NAME_LENGTH } from './names';
import { fieldsAt } from './schema-fields';

/**
 * Largest input a workflow accepts, as JSON. Temporal refuses payloads over 2 MB (and warns at
 * 512 KB); a workflow copies parts of its input into activity inputs and its result, so the
 * bound is far below, and an oversized input ends the run at once instead of failing its
 * workflow task in a loop.
 */
export const MAX_INPUT_BYTES = 64 * 1024;

/** Wait between status polls, ms: a whole number from 1 to 25 min. */
export const PollIntervalMs = z
  .number()
  .int('must be a whole number of milliseconds')
  .min(1, 'must be at least 1 ms')
  .max(
    MAX_POLL_INTERVAL_MS,
    `must be at most ${MAX_POLL_INTERVAL_MS} ms (25 min, below vCenter's 30 min session idle timeout)`,
  );

/** Wait between status polls when neither the step nor the worker sets one, ms. */
export const DEFAULT_POLL_INTERVAL_MS = 15_000;

/**
 * How a step polls its remote job:
 * - `heartbeat` (default): one poll activity reads the job every `pollIntervalMs` until it ends,
 *   heartbeating meanwhile; it holds one worker activity slot for the job's whole life.
 * - `retry`: each attempt of the poll activity reads the job once; while the job runs the attempt
 *   fails with the retryable, benign `JobStillRunning` and the Temporal server retries it after
 *   `pollIntervalMs` (a fixed interval: backoff coefficient 1), until the step's deadline. No
 *   worker slot is held between reads and no history event is added per read. The interval is
 *   the step's `pollIntervalMs`, else {@link DEFAULT_POLL_INTERVAL_MS}: the server times the
 *   reads, so a worker's own poll interval setting does not apply.
 * https://docs.temporal.io/encyclopedia/retry-policies
 */
export const PollMode = z.enum(['heartbeat', 'retry'], { message: 'must be heartbeat or retry' });
export type PollMode = z.infer<typeof PollMode>;

/** The failure type of a retry-mode poll attempt that found the job still running (retried, never an error). */
export const JOB_STILL_RUNNING_TYPE = 'JobStillRunning';

/** The retry policy of a retry-mode poll activity: a fixed interval, no attempt limit (the deadline bounds it). */
export function retryPollPolicy(intervalMs: number): {
  initialInterval: number;
  backoffCoefficient: 1;
  maximumInterval: number;
} {
  return { initialInterval: intervalMs, backoffCoefficient: 1, maximumInterval: intervalMs };
}

/**
 * Whether a poll activity runs in retry mode, from the retry policy the server gives it
 * (`Context.current().info.retryPolicy`): a backoff coefficient of 1, which only
 * {@link retryPollPolicy} sets for poll activities. The activity reads its mode from the policy
 * that will actually time its next read, so the two cannot disagree.
 */
export function isRetryPollPolicy(policy: { backoffCoefficient?: number } | undefined): boolean {
  return policy?.backoffCoefficient === 1;
}

/** A step's deadline, ms: busy waits and retries included. */
export const StepTimeoutMs = z
  .number()
  .int('must be a whole number of milliseconds')
  .min(MIN_STEP_TIMEOUT_MS, `must be at least ${MIN_STEP_TIMEOUT_MS} ms`)
  .max(MAX_STEP_TIMEOUT_MS, `must be at most ${MAX_STEP_TIMEOUT_MS} ms (7 days)`);

/** Free text sent to an appliance (a job comment): bounded, single line. */
const Comment = z
  .string()
  .max(512, 'must be at most 512 characters')
  .regex(/^[^\r\n\0]*$/, 'must be one line of text');

/** A backup location (`sftp://host/path`, `nfs://…`, …): no user info, the password is a reference. */
const Location = z
  .string()
  .min(1)
  .max(MAX_URL_LENGTH, `must be at most ${MAX_URL_LENGTH} characters`)
  .refine((v) => !/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*@/.test(v), {
    message: 'must not carry a user name or password (user@host): use locationUser and locationPasswordRef',
  })
  .refine((v) => !/[\r\n\0]/.test(v), { message: 'must be one line' });

/** Where and how to back up a vCenter (the `backup` of `vcenterBackup`). */
export const VcenterBackupSpec = z
  .object({
    locationType: z.enum(LOCATION_TYPES),
    location: Location,
    locationUser: z.string().min(1).max(256).optional(),
    locationPasswordRef: secretRef().optional(),
    backupPasswordRef: secretRef().optional(),
    parts: z
      .array(z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'must be a part id such as seat'))
      .max(32)
      .optional(),
    comment: Comment.optional(),
    fastBackup: z.boolean().optional(),
  })
  .strict();

export const VcenterBackupInput = z
  .object({
    /** The vCenter to back up. Its password is a reference resolved by the worker. */
    endpoint: VcenterEndpoint,
    backup: VcenterBackupSpec,
    /** Wait between status polls. Default: the worker's setting (15 s). */
    pollIntervalMs: PollIntervalMs.optional(),
    /** How the job is polled (see {@link PollMode}). Default `heartbeat`. */
    pollMode: PollMode.optional(),
    /** Longest the step may take, busy waits included, before it fails. Default 6 hours. */
    timeoutMs: StepTimeoutMs.optional(),
  })
  .strict();
export type VcenterBackupInput = z.input<typeof VcenterBackupInput>;

export const SddcManagerBackupInput = z
  .object({
    endpoint: SddcManagerEndpoint,
    pollIntervalMs: PollIntervalMs.optional(),
    /** How the job is polled (see {@link PollMode}). Default `heartbeat`. */
    pollMode: PollMode.optional(),
    /** Longest the step may take, lock waits included. Default 6 hours. */
    timeoutMs: StepTimeoutMs.optional(),
  })
  .strict();
export type SddcManagerBackupInput = z.input<typeof SddcManagerBackupInput>;

export const VcdaBackupInput = z
  .object({
    endpoint: VcdaEndpoint,
    /** Reference to the backup encryption password. Default: none. */
    backupPasswordRef: secretRef().optional(),
    pollIntervalMs: PollIntervalMs.optional(),
    /** How the task is polled (see {@link PollMode}). Default `heartbeat`. */
    pollMode: PollMode.optional(),
    timeoutMs: StepTimeoutMs.optional(),
  })
  .strict();
export type VcdaBackupInput = z.input<typeof VcdaBackupInput>;

/** One problem with an input: where (a dotted path such as `endpoint.url`) and what to do. */
export interface InputProblem {
  path: string;
  message: string;
}

export type InputCheck<T> = { ok: true; value: T } | { ok: false; problems: InputProblem[]; message: string };

/** Field names that hold secrets when they are not references. */
const SECRET_LIKE_KEY = /pass(word|phrase)?|secret|token|credential|api[-_]?key|private[-_]?key/i;
/** Keys shown by name in messages; any other unknown key is "an unknown field" (a key may itself be a secret). */
const SHOWABLE_KEY = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

function pathOf(path: readonly PropertyKey[]): string {
  return path.length === 0
    ? '(input)'
    : path
        .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
        .join('.')
        .replace(/\.\[/g, '[');
}

/** Keys whose values may hold a secret (a password typed into a reference or a URL with user info). */
const SECRET_BEARING_KEY = /pass|secret|token|credential|key|ref|url|location/i;

/**
 * The strings in `value` that may be secrets, to keep out of messages (belt and braces: messages
 * are built not to quote values): values under secret-bearing keys, and keys that are not shown.
 */
function stringsIn(value: unknown, out: Set<string> = new Set(), depth = 0, bearing = false): Set<string> {
  if (depth > 20 || out.size > 10_000) return out;
  if (typeof value === 'string') {
    if (bearing && value.length >= 4) out.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) stringsIn(v, out, depth + 1, bearing);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const hidden = !SHOWABLE_KEY.test(k);
      if (hidden && k.length >= 4) out.add(k);
      stringsIn(v, out, depth + 1, hidden || SECRET_BEARING_KEY.test(k));
    }
  }
  return out;
}

/**
 * Where a checked input is held, which decides what a message says of a secret typed into it:
 * - `history`: a workflow's input, recorded in its run's history (rotate the secret);
 * - `file`: a file a person wrote, checked before anything starts (delete it there);
 * - `call`: a value a program passed, checked before anything records it.
 */
export type InputOrigin = 'history' | 'file' | 'call';

/** What to do about a secret typed where a reference belongs, by where the input is. */
const SECRET_WHERE: Record<InputOrigin, string> = {
  history: "If this held a secret it is now in this run's history: rotate it",
  file: 'If this is a real secret, delete it from the file (and rotate it if the file has been shared)',
  call: 'Nothing was recorded: pass a reference instead',
};

/** How many field names an "unknown field" message lists at most. */
const MAX_FIELDS_LISTED = 20;

/** The value at `path` of `input` (undefined when the path leaves it). */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const key of path)
    v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

/**
 * An unknown-field issue may carry the fields of its object (`fields`), when a refinement
 * re-reports the issues of a part it parsed with its own schema (`src/contract/runbook/document.ts`).
 */
type UnknownKeysIssue = z.core.$ZodIssueUnrecognizedKeys & { fields?: string[] };

function problemsOf(error: z.ZodError, schema: z.ZodType, input: unknown, origin: InputOrigin): InputProblem[] {
  const problems: InputProblem[] = [];
  // Fields an unknown field was probably meant to be, by parent path: their "is required" is said once, there.
  const meant = new Set<string>();
  const unknown: InputProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const fields = (issue as UnknownKeysIssue).fields ?? fieldsAt(schema, issue.path, input);
    for (const key of issue.keys) {
      const showable = SHOWABLE_KEY.test(key);
      const at = pathOf([...issue.path, ...(showable ? [key] : [])]);
      const name = showable ? `unknown field ${JSON.stringify(key)}` : 'an unknown field';
      const hint = closestField(key, fields);
      if (hint !== undefined) meant.add(pathOf([...issue.path, hint]));
      const guess = hint === undefined ? ':' : `: did you mean ${JSON.stringify(hint)}?`;
      let message: string;
      if (SECRET_LIKE_KEY.test(key) && !/Ref$/.test(key))
        message = `${name}${guess} Secrets are never passed as values: ${
          hint?.endsWith('Ref')
            ? `give ${hint} a reference (env:NAME, file:/path)`
            : 'use the matching …Ref field with a reference (env:NAME, file:/path)'
        }. ${SECRET_WHERE[origin]}`;
      else if (hint !== undefined) message = `${name}${guess}`;
      else
        message = `${name}: remove it${
          fields.length
            ? `; the fields here are ${fields.slice(0, MAX_FIELDS_LISTED).join(', ')}${fields.length > MAX_FIELDS_LISTED ? ', …' : ''}`
            : ' (check its spelling against the documented fields)'
        }`;
      unknown.push({ path: at, message });
    }
  }
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      problems.push(...unknown.splice(0, issue.keys.length));
      continue;
    }
    if (issue.code === 'invalid_union' && issue.errors.length) {
      problems.push({ path: pathOf(issue.path), message: 'does not match any accepted form' });
      continue;
    }
    const path = pathOf(issue.path);
    const missing = issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined;
    if (missing && meant.has(path)) continue;
    let message = issue.message;
    // zod's own words for a missing field ("Invalid input: expected string, received undefined").
    if (missing && /^Invalid input: expected /.test(message)) message = 'is required';
    if (issue.code === 'custom' && (issue.params as Record<string, unknown> | undefined)?.[LITERAL_SECRET_PARAM])
      message = `${message}. ${SECRET_WHERE[origin].replace('If this held a secret', 'If you typed the secret here')}`;
    problems.push({ path, message });
  }
  return problems;
}

/** How {@link checkInput} reads an input. */
export interface CheckInputOptions {
  /**
   * Where the input is held: what a message says of a secret typed into it.
   * @default 'history' (a workflow checking its own input)
   */
  origin?: InputOrigin;
}

/**
 * Checks a workflow input against its schema: all problems at once, each with its field path and
 * the fix. Messages never repeat a value from the input (a value may be a secret typed in the
 * wrong field). Oversized inputs are refused before they are parsed.
 */
export function checkInput<S extends z.ZodType>(
  what: string,
  schema: S,
  input: unknown,
  options: CheckInputOptions = {},
): InputCheck<z.output<S>> {
  let problems: InputProblem[];
  let size = 0;
  try {
    size = JSON.stringify(input ?? null).length;
  } catch {
    size = Number.POSITIVE_INFINITY;
  }
  if (size > MAX_INPUT_BYTES) {
    problems = [
      {
        path: '(input)',
        message: `is ${Number.isFinite(size) ? `${size} bytes` : 'not serialisable'} as JSON; at most ${MAX_INPUT_BYTES} bytes are accepted (names at most ${MAX_NAME_LENGTH} characters)`,
      },
    ];
  } else if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    problems = [
      {
        path: '(input)',
        message: `must be an object (got ${input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input})`,
      },
    ];
  } else {
    const result = schema.safeParse(input);
    if (result.success) return { ok: true, value: result.data };
    problems = problemsOf(result.error, schema, input, options.origin ?? 'history');
  }
  const secrets = [...stringsIn(input)].sort((a, b) => b.length - a.length);
  const scrub = (text: string) => secrets.reduce((t, s) => (t.includes(s) ? t.split(s).join('[redacted]') : t), text);
  problems = problems.slice(0, 50).map((p) => ({ path: scrub(p.path), message: scrub(p.message) }));
  const message = `${what} input is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}); nothing was started: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`;
  return { ok: false, problems, message };
}
