/**
 * Recurring runbooks as Temporal Schedules, created from code (client side): a validated runbook
 * document run by `drRunbook` (or checked by `freshness`) on a cron expression or an interval,
 * never two runs at once (overlap SKIP), paused on a failed run, plus thin typed helpers to
 * describe, pause, unpause, trigger and delete a schedule (what the CLI builds on).
 */
import { type Client, ScheduleOverlapPolicy } from '@temporalio/client';
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from '../contract/names';
import { durationText, parseDuration } from '../contract/duration';
import { FreshnessOptions } from '../contract/freshness';
import { Runbook, type RunbookDocument } from '../contract/runbook/document';
import { type InputProblem, checkInput } from '../contract/inputs';
import { RUNBOOK_WORKFLOW_TYPE } from '../contract/messages';

/** Default catch-up window: a run missed while the server was down is still taken within 1 h. */
export const DEFAULT_SCHEDULE_CATCHUP_WINDOW = '1h';
/** Default jitter: none, each run starts at its scheduled time. */
export const DEFAULT_SCHEDULE_JITTER = '0s';

const DAY_MS = 86_400_000;

/** When and how a schedule runs: what runbook and freshness schedules have in common. */
export interface ScheduleTimingOptions {
  /** The schedule's id (unique in the namespace); its runs get workflow ids `<workflowId>-<time>`. */
  scheduleId: string;
  /** A cron expression (5 fields, UTC unless it starts with `CRON_TZ=`), e.g. `0 2 * * *`. Exactly one of `cron`, `every`. */
  cron?: string;
  /** An interval such as `24h` or `30m`. Exactly one of `cron`, `every`. */
  every?: string;
  /** @default 'vmware-dr' (`DEFAULT_TASK_QUEUE`) */
  taskQueue?: string;
  /** Each run starts up to this much later than scheduled, at random (spreads load). @default '0s' */
  jitter?: string;
  /** Runs missed while the Temporal server was unavailable are still taken if this late at most. @default '1h' */
  catchupWindow?: string;
  /** Pause the schedule when a run fails (or times out), until someone unpauses it. @default true */
  pauseOnFailure?: boolean;
  /** Create the schedule paused. @default false */
  paused?: boolean;
  /** A note shown with the schedule's state (e.g. who created it and why). @default none */
  note?: string;
  /** Workflow id prefix of the runs (Temporal appends the scheduled time). @default the schedule id */
  workflowId?: string;
}

/** Options of {@link createRunbookSchedule}. */
export interface RunbookScheduleOptions extends ScheduleTimingOptions {
  /** The runbook document (validated with the `Runbook` schema before anything is created). */
  document: RunbookDocument;
  /** Each run only checks and plans, changing nothing. @default false */
  dryRun?: boolean;
}

/** Options of {@link createFreshnessSchedule}. */
export interface FreshnessScheduleOptions extends ScheduleTimingOptions {
  /** The runbook whose backed-up endpoints are checked. */
  document: RunbookDocument;
  /** The SLO (`maxAge`, `amberAfter`). @default { maxAge: '26h' } */
  slo?: FreshnessOptions;
}

/** The options of a schedule, with every default applied. */
export type CompiledScheduleTiming = Required<Omit<ScheduleTimingOptions, 'cron' | 'every' | 'note'>> &
  Pick<ScheduleTimingOptions, 'cron' | 'every' | 'note'>;

/** Thrown by the create functions when the options or the document are invalid; nothing was created. */
export class InvalidScheduleOptions extends Error {
  override readonly name = 'InvalidScheduleOptions';
  readonly code = 'VMWARE_DR_INVALID_SCHEDULE_OPTIONS';
  constructor(
    message: string,
    /** Every problem, each with its field path (`document.endpoints.vc-1.url`, `every`, …). */
    readonly problems: InputProblem[],
  ) {
    super(message);
  }
}

const timingFields = {
  scheduleId: z
    .string()
    .min(1, 'is required')
    .max(255)
    .regex(/^[^\s\0]+$/, 'must not contain blanks'),
  cron: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[^\r\n\0]+$/, 'must be one line, e.g. 0 2 * * *')
    .optional(),
  every: durationText(1_000, 366 * DAY_MS).optional(),
  taskQueue: z.string().min(1).max(255).optional(),
  jitter: durationText(0, DAY_MS).optional(),
  catchupWindow: durationText(10_000, 366 * DAY_MS).optional(),
  pauseOnFailure: z.boolean().optional(),
  paused: z.boolean().optional(),
  note: z.string().max(1024).optional(),
  workflowId: z.string().min(1).max(255).optional(),
};

/** The options schema: the timing fields plus `extra`, no unknown field. */
const optionsSchema = (extra: z.ZodRawShape) => z.object({ ...timingFields, document: z.unknown(), ...extra }).strict();

const RunbookScheduleSchema = optionsSchema({ dryRun: z.boolean().optional() });
const FreshnessScheduleSchema = optionsSchema({ slo: z.unknown().optional() });

/** Validates options and document together: all problems at once, or the compiled timing. */
function validate(
  what: string,
  raw: ScheduleTimingOptions & { document: unknown },
  schema: z.ZodType,
  more: (problems: InputProblem[]) => void = () => undefined,
): CompiledScheduleTiming {
  const problems: InputProblem[] = [];
  const options = checkInput(`${what} options`, schema, raw, { origin: 'call' });
  if (!options.ok) problems.push(...options.problems);
  // Checked apart from the schema, so it is reported together with any other problem.
  if ((raw?.cron === undefined) === (raw?.every === undefined))
    problems.push({
      path: raw?.cron === undefined ? 'every' : 'cron',
      message: 'set exactly one of cron (e.g. "0 2 * * *") or every (e.g. "24h")',
    });
  const doc = checkInput(`${what} document`, Runbook, raw?.document, { origin: 'call' });
  if (!doc.ok)
    problems.push(
      ...doc.problems.map((p) => ({
        path: p.path === '(input)' ? 'document' : `document.${p.path}`,
        message: p.message,
      })),
    );
  more(problems);
  if (problems.length)
    throw new InvalidScheduleOptions(
      `${what}: invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}); no schedule was created: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      problems,
    );
  return {
    scheduleId: raw.scheduleId,
    ...(raw.cron !== undefined && { cron: raw.cron }),
    ...(raw.every !== undefined && { every: raw.every }),
    taskQueue: raw.taskQueue ?? DEFAULT_TASK_QUEUE,
    jitter: raw.jitter ?? DEFAULT_SCHEDULE_JITTER,
    catchupWindow: raw.catchupWindow ?? DEFAULT_SCHEDULE_CATCHUP_WINDOW,
    pauseOnFailure: raw.pauseOnFailure ?? true,
    paused: raw.paused ?? false,
    ...(raw.note !== undefined && { note: raw.note }),
    workflowId: raw.workflowId ?? raw.scheduleId,
  };
}

async function create(
  client: Client,
  t: CompiledScheduleTiming,
  workflowType: string,
  args: unknown[],
  memo: Record<string, unknown>,
): Promise<RunbookScheduleHandle> {
  const handle = await client.schedule.create({
    scheduleId: t.scheduleId,
    spec: {
      ...(t.cron !== undefined && { cronExpressions: [t.cron] }),
      ...(t.every !== undefined && { intervals: [{ every: parseDuration(t.every) }] }),
      jitter: parseDuration(t.jitter),
    },
    action: { type: 'startWorkflow', workflowType, workflowId: t.workflowId, taskQueue: t.taskQueue, args, memo },
    policies: {
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: parseDuration(t.catchupWindow),
      pauseOnFailure: t.pauseOnFailure,
    },
    state: { paused: t.paused, ...(t.note !== undefined && { note: t.note }) },
    memo,
  });
  return runbookSchedule(client, handle.scheduleId);
}

const memoOf = (doc: RunbookDocument, extra: Record<string, unknown>) => ({
  runbook: doc.name,
  ...(doc.site !== undefined && { site: doc.site }),
  ...extra,
});

/**
 * Creates a Temporal Schedule that runs `drRunbook(document, { dryRun })`. The document and the
 * options are validated first (all problems at once, each naming its field): on any problem it
 * throws {@link InvalidScheduleOptions} and creates nothing. Overlap policy SKIP (a run never
 * starts while the previous one is still running). Memo: `runbook`, `site`, `dryRun`.
 */
export async function createRunbookSchedule(
  client: Client,
  options: RunbookScheduleOptions,
): Promise<RunbookScheduleHandle> {
  const timing = validate('createRunbookSchedule', options, RunbookScheduleSchema);
  const dryRun = options.dryRun ?? false;
  return create(
    client,
    timing,
    RUNBOOK_WORKFLOW_TYPE,
    [options.document, { dryRun }],
    memoOf(options.document, { dryRun }),
  );
}

/**
 * Creates a Temporal Schedule that runs `freshness(document, slo)`: a short read-only check of
 * the backup SLO of every endpoint the runbook backs up. Validated like {@link createRunbookSchedule}.
 */
export async function createFreshnessSchedule(
  client: Client,
  options: FreshnessScheduleOptions,
): Promise<RunbookScheduleHandle> {
  const timing = validate('createFreshnessSchedule', options, FreshnessScheduleSchema, (problems) => {
    const slo = checkInput('slo', FreshnessOptions, options?.slo ?? {});
    if (!slo.ok) problems.push(...slo.problems.map((p) => ({ path: `slo.${p.path}`, message: p.message })));
  });
  const slo = options.slo ?? {};
  return create(client, timing, 'freshness', [options.document, slo], memoOf(options.document, { check: 'freshness' }));
}

/** A schedule's state, as the helpers report it. */
export interface RunbookScheduleState {
  scheduleId: string;
  workflowType: string;
  paused: boolean;
  note?: string;
  /** The next times a run is due. */
  nextRunTimes: Date[];
  /** Recent runs, oldest first (manual triggers included). */
  recentRuns: { workflowId: string; runId: string; scheduledAt: Date; takenAt: Date }[];
  /** Workflow ids of runs still running (at most one: overlap SKIP). */
  running: string[];
  memo?: Record<string, unknown>;
}

/** Thin typed operations on one schedule. */
export interface RunbookScheduleHandle {
  readonly scheduleId: string;
  describe(): Promise<RunbookScheduleState>;
  /** Stops taking runs until unpaused; `note` says why. */
  pause(note?: string): Promise<void>;
  unpause(note?: string): Promise<void>;
  /** Starts a run now, unless one is running (overlap SKIP). */
  trigger(): Promise<void>;
  /** Deletes the schedule; runs already started are not affected. */
  delete(): Promise<void>;
}

/** The helpers for an existing schedule (no server call until one is used). */
export function runbookSchedule(client: Client, scheduleId: string): RunbookScheduleHandle {
  const handle = client.schedule.getHandle(scheduleId);
  return {
    scheduleId,
    async describe() {
      const d = await handle.describe();
      return {
        scheduleId,
        workflowType: d.action.workflowType,
        paused: d.state.paused,
        ...(d.state.note ? { note: d.state.note } : {}),
        nextRunTimes: d.info.nextActionTimes,
        recentRuns: d.info.recentActions.map((a) => ({
          workflowId: a.action.workflow.workflowId,
          runId: a.action.workflow.firstExecutionRunId,
          scheduledAt: a.scheduledAt,
          takenAt: a.takenAt,
        })),
        running: d.info.runningActions.map((a) => a.workflow.workflowId),
        ...(d.memo && { memo: d.memo }),
      };
    },
    pause: (note) => handle.pause(note),
    unpause: (note) => handle.unpause(note),
    trigger: () => handle.trigger(ScheduleOverlapPolicy.SKIP),
    delete: () => handle.delete(),
  };
}
