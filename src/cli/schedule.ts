/**
 * `vmware-dr schedule create|list|describe|pause|unpause|trigger|delete`: recurring runbooks as
 * Temporal Schedules (https://docs.temporal.io/schedule), built on `src/client/schedules.ts`. Also the
 * pieces `vmware-dr freshness --schedule` shares: the timing flags, reading the runbook file,
 * creating a schedule with every problem reported at once (exit 2, nothing created), and output.
 * Imported at start-up like `connect.ts` (which loads the Temporal client for its option helpers).
 */
import Table from 'cli-table3';
import type { Command } from 'commander';
import {
  type ScheduleDescription,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type ScheduleSpecDescription,
} from '@temporalio/client';
import { formatDurationText as formatDuration } from '../contract/duration';
import type { FreshnessOptions } from '../contract/freshness';
import {
  InvalidScheduleOptions,
  type RunbookScheduleHandle,
  type RunbookScheduleOptions,
  type RunbookScheduleState,
  createFreshnessSchedule,
  createRunbookSchedule,
  runbookSchedule,
} from '../client/schedules';
import { RUNBOOK_WORKFLOW_TYPE } from '../contract/messages';
import type { InputProblem } from '../contract/inputs';
import { type CliClient, type ConnectionFlags, withClient, withConnectionOptions } from './connect';
import { CliError, EXIT, printJson } from './exit';
import { type LocatedProblem, checkRunbookFile, problemLine } from './runbook-file';

/** Workflow types whose schedules are vmware-dr's (what `schedule list` shows). */
const SCHEDULED_TYPES = new Set([RUNBOOK_WORKFLOW_TYPE, 'freshness']);

/** Where a command writes (the program's configured output, so tests can capture it). */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** The output of the command `cmd` runs in (commander's `configureOutput`, set by `buildProgram`). */
export function ioOf(cmd: Command): Io {
  const o = cmd.configureOutput();
  return {
    out: (s) => (o.writeOut ?? ((t: string) => void process.stdout.write(t)))(s),
    err: (s) => (o.writeErr ?? ((t: string) => void process.stderr.write(t)))(s),
  };
}

/** The timing flags of a schedule (`schedule create`, `freshness --schedule`). */
export interface TimingFlags extends ConnectionFlags {
  cron?: string;
  every?: string;
  id?: string;
  jitter?: string;
  catchupWindow?: string;
  pauseOnFailure?: boolean;
  note?: string;
  taskQueue?: string;
  json?: boolean;
}

/** Adds the timing flags; defaults are those of `createRunbookSchedule` (applied there, once). */
export function withTimingOptions(cmd: Command, idHelp: string): Command {
  return cmd
    .option('--cron <expr>', 'when to run: a cron expression (5 fields, UTC unless CRON_TZ=…), e.g. "0 2 * * *"')
    .option('--every <duration>', 'when to run: an interval such as 24h or 30m (exactly one of --cron, --every)')
    .option('--id <id>', idHelp)
    .option('--jitter <duration>', 'start each run up to this much later, at random (default 0s)')
    .option('--catchup-window <duration>', 'still take a run missed while Temporal was down this late (default 1h)')
    .option('--pause-on-failure', 'pause the schedule when a run fails, until unpaused (the default)')
    .option('--no-pause-on-failure', 'keep the schedule running after a failed run')
    .option('--note <text>', 'a note shown with the schedule (who created it, why)')
    .option('--task-queue <name>', 'task queue of the runs: where your worker polls (default vmware-dr)');
}

/** Which flag sets an option field of `createRunbookSchedule` / `createFreshnessSchedule`. */
const FLAG_OF: Record<string, string> = {
  scheduleId: '--id',
  workflowId: '--id',
  cron: '--cron',
  every: '--every',
  jitter: '--jitter',
  catchupWindow: '--catchup-window',
  pauseOnFailure: '--pause-on-failure',
  note: '--note',
  taskQueue: '--task-queue',
  'slo.maxAge': '--max-age',
  'slo.amberAfter': '--amber-after',
};

/** A problem of the command line: in the file (with its position) or of a flag. */
export type CliProblem = LocatedProblem | (InputProblem & { flag?: string });

/** A library problem (`cron`, `slo.maxAge`, …) with the flag that sets the field. */
export const flagProblem = (p: InputProblem): CliProblem => ({
  ...p,
  ...(FLAG_OF[p.path] && { flag: FLAG_OF[p.path] }),
});

/** Prints every problem (`file:line:col: path: message` or `--flag: message`) and returns the exit-2 error. */
export function invalidInput(io: Io, json: boolean | undefined, problems: CliProblem[], what: string): CliError {
  if (json) printJson({ ok: false, problems }, io.out);
  else
    for (const p of problems)
      io.err('file' in p ? `${problemLine(p)}\n` : `${'flag' in p && p.flag ? p.flag : p.path}: ${p.message}\n`);
  return new CliError(
    `invalid input (${problems.length} problem${problems.length === 1 ? '' : 's'}); ${what}`,
    EXIT.INVALID,
  );
}

/** A runbook file read and checked: the document (when valid) and its problems with positions. */
export function readRunbook(file: string): { document?: unknown; name?: string; problems: LocatedProblem[] } {
  const checked = checkRunbookFile(file);
  if (!checked.ok && checked.unreadable !== undefined)
    throw new CliError(`cannot read the runbook file ${file}: ${checked.unreadable}`, EXIT.INVALID);
  if (!checked.ok) return { problems: checked.problems };
  return { document: checked.document, name: (checked.document as { name: string }).name, problems: [] };
}

/** Milliseconds → `every 24h` style text. */
const msText = (ms: number) => formatDuration(ms);

/** A time as `2026-12-02T02:00:00Z (in 23h59m)`. */
export function timeText(d: Date | string | undefined, now = Date.now()): string {
  if (d === undefined) return '';
  const date = typeof d === 'string' ? new Date(d) : d;
  const delta = date.getTime() - now;
  const rel = Math.abs(delta) < 1_000 ? 'now' : delta > 0 ? `in ${msText(delta)}` : `${msText(-delta)} ago`;
  return `${date.toISOString().replace(/\.\d{3}Z$/, 'Z')} (${rel})`;
}

type Ranges = { start: number | string; end: number | string; step?: number }[];

/** One calendar field as cron text: `*` for its whole domain, else `a`, `a-b`, `a-b/s`, comma-separated. */
function cronField(ranges: Ranges | undefined, whole: [number | string, number | string]): string {
  if (!ranges?.length) return '*';
  const short = (v: number | string) => (typeof v === 'string' ? v.slice(0, 3) : String(v));
  return ranges
    .map(({ start, end, step }) => {
      const s = step && step > 1 ? `/${step}` : '';
      if (start === whole[0] && end === whole[1]) return `*${s}`;
      return `${short(start)}${end !== start ? `-${short(end)}` : ''}${s}`;
    })
    .join(',');
}

/** A schedule's spec in words: `cron 0 2 * * *` (as the server keeps it: calendars) or `every 24h`. */
export function specText(spec: ScheduleSpecDescription | undefined): string {
  const parts: string[] = [];
  for (const c of spec?.calendars ?? [])
    parts.push(
      `cron ${[
        cronField(c.minute, [0, 59]),
        cronField(c.hour, [0, 23]),
        cronField(c.dayOfMonth, [1, 31]),
        cronField(c.month, ['JANUARY', 'DECEMBER']),
        cronField(c.dayOfWeek, ['SUNDAY', 'SATURDAY']),
      ].join(' ')}`,
    );
  for (const i of spec?.intervals ?? []) parts.push(`every ${msText(Number(i.every))}`);
  if (spec?.jitter) parts.push(`jitter ${msText(spec.jitter)}`);
  return parts.join(', ') || '(no spec)';
}

/** What a schedule runs, from its workflow type and memo. */
function whatText(workflowType: string | undefined, memo: Record<string, unknown> | undefined): string {
  if (workflowType === 'freshness') return 'freshness check';
  if (workflowType === RUNBOOK_WORKFLOW_TYPE) return memo?.dryRun ? 'runbook (dry run)' : 'runbook';
  return workflowType ?? '?';
}

/** A table with the package's style: no colours of its own (they depend on the terminal). */
export function table(head: string[]): Table.Table {
  return new Table({ head, style: { head: [], border: [] } });
}

/** The handle for an existing schedule, or exit 2 naming the id. */
async function describeOrExit(
  c: CliClient,
  scheduleId: string,
): Promise<{ raw: ScheduleDescription; state: RunbookScheduleState }> {
  try {
    const raw = await c.client.schedule.getHandle(scheduleId).describe();
    return { raw, state: await runbookSchedule(c.client, scheduleId).describe() };
  } catch (err) {
    if (err instanceof ScheduleNotFoundError)
      throw new CliError(
        `no schedule with id ${scheduleId} in namespace ${c.namespace} (vmware-dr schedule list shows them)`,
        EXIT.INVALID,
      );
    throw err;
  }
}

/** The JSON of `schedule describe` (and `schedule create --json`). */
function describeJson(raw: ScheduleDescription, state: RunbookScheduleState) {
  const memo = (raw.memo ?? {}) as Record<string, unknown>;
  return {
    scheduleId: raw.scheduleId,
    workflowType: raw.action.workflowType,
    what: whatText(raw.action.workflowType, memo),
    runbook: memo.runbook,
    site: memo.site,
    spec: specText(raw.spec),
    taskQueue: raw.action.taskQueue,
    workflowIdPrefix: raw.action.workflowId,
    policies: raw.policies,
    paused: state.paused,
    ...(state.note !== undefined && { note: state.note }),
    nextRunTimes: state.nextRunTimes.map((d) => d.toISOString()),
    recentRuns: state.recentRuns.map((r) => ({
      ...r,
      scheduledAt: r.scheduledAt.toISOString(),
      takenAt: r.takenAt.toISOString(),
    })),
    running: state.running,
    createdAt: raw.info.createdAt.toISOString(),
    actionsTaken: raw.info.numActionsTaken,
    memo,
  };
}

function printDescription(io: Io, d: ReturnType<typeof describeJson>): void {
  const t = new Table({ style: { head: [], border: [] } });
  const last = d.recentRuns[d.recentRuns.length - 1];
  t.push(
    { id: d.scheduleId },
    { runs: `${d.what} of ${String(d.runbook ?? '?')}${d.site ? ` (site ${String(d.site)})` : ''}` },
    { when: d.spec },
    { 'task queue': d.taskQueue ?? '' },
    { paused: d.paused ? `yes${d.note ? `: ${d.note}` : ''}` : `no${d.note ? ` (${d.note})` : ''}` },
    {
      'next runs':
        d.nextRunTimes
          .slice(0, 3)
          .map((x) => timeText(x))
          .join('\n') || 'none',
    },
    { 'last run': last ? `${last.workflowId} ${timeText(last.takenAt)}` : 'none yet' },
    { running: d.running.join('\n') || 'none' },
    {
      policies: `overlap ${d.policies.overlap}, catch-up window ${msText(d.policies.catchupWindow)}, ${d.policies.pauseOnFailure ? 'pauses' : 'does not pause'} on failure`,
    },
  );
  io.out(`${t.toString()}\n`);
}

/**
 * Creates a runbook or freshness schedule from a file and the timing flags. Every problem of the
 * file (with its position) and of the flags is reported at once (exit 2) and nothing is created;
 * an id already in use is exit 2 too.
 */
export async function createScheduleFromFile(
  cmd: Command,
  file: string,
  flags: TimingFlags,
  kind: { runbook: { dryRun?: boolean } } | { freshness: { slo: FreshnessOptions } },
): Promise<void> {
  const io = ioOf(cmd);
  const read = readRunbook(file);
  const defaultId = read.name && ('runbook' in kind ? read.name : `${read.name}-freshness`);
  const timing = {
    scheduleId: flags.id ?? defaultId ?? '',
    ...(flags.cron !== undefined && { cron: flags.cron }),
    ...(flags.every !== undefined && { every: flags.every }),
    ...(flags.jitter !== undefined && { jitter: flags.jitter }),
    ...(flags.catchupWindow !== undefined && { catchupWindow: flags.catchupWindow }),
    ...(flags.pauseOnFailure !== undefined && { pauseOnFailure: flags.pauseOnFailure }),
    ...(flags.note !== undefined && { note: flags.note }),
    ...(flags.taskQueue !== undefined && { taskQueue: flags.taskQueue }),
  };
  await withClient(flags, async (c) => {
    const document = read.document as RunbookScheduleOptions['document'];
    try {
      if ('runbook' in kind)
        await createRunbookSchedule(c.client, { ...timing, document, dryRun: kind.runbook.dryRun ?? false });
      else await createFreshnessSchedule(c.client, { ...timing, document, slo: kind.freshness.slo });
    } catch (err) {
      const nothing = 'no schedule was created';
      if (err instanceof InvalidScheduleOptions) {
        // The file's problems come with positions from the file itself; the rest are the flags'.
        const flagProblems = err.problems.filter((p) => !(read.problems.length && /^document\b/.test(p.path)));
        throw invalidInput(io, flags.json, [...read.problems, ...flagProblems.map(flagProblem)], nothing);
      }
      if (err instanceof ScheduleAlreadyRunning)
        throw new CliError(
          `a schedule with id ${timing.scheduleId} already exists in namespace ${c.namespace}: choose another --id, or ` +
            `replace it (vmware-dr schedule delete ${timing.scheduleId}); ${nothing}`,
          EXIT.INVALID,
        );
      // The server checks what the client cannot (e.g. the cron expression's fields): INVALID_ARGUMENT (gRPC 3).
      // The server checks what the client cannot, such as the cron expression's fields; the SDK
      // turns its "Invalid schedule spec" answer (gRPC INVALID_ARGUMENT) into a TypeError.
      const invalidArgument =
        (err as { code?: number }).code === 3 || (err as { cause?: { code?: number } }).cause?.code === 3;
      if (err instanceof TypeError || invalidArgument) {
        const message = `the server refused the schedule: ${(err as Error).message.split('\n')[0] ?? ''}`;
        const cron = flags.cron !== undefined;
        throw invalidInput(
          io,
          flags.json,
          [{ path: cron ? 'cron' : '(schedule)', message, ...(cron && { flag: '--cron' }) }],
          nothing,
        );
      }
      throw err;
    }
    const { raw, state } = await describeOrExit(c, timing.scheduleId);
    const d = describeJson(raw, state);
    if (flags.json) printJson(d, io.out);
    else {
      io.out(`created schedule ${d.scheduleId}\n`);
      printDescription(io, d);
    }
  });
}

/** `schedule pause|unpause|trigger|delete ID`: one call on an existing schedule. */
function registerAction(
  schedule: Command,
  name: string,
  description: string,
  run: (handle: RunbookScheduleHandle, note: string | undefined) => Promise<void>,
  done: (id: string) => string,
  withNote = false,
): void {
  const cmd = schedule.command(name).argument('<id>', 'the schedule id').description(description);
  if (withNote) cmd.option('--note <text>', 'why (shown with the schedule)');
  withConnectionOptions(cmd).action(async (id: string, opts: ConnectionFlags & { note?: string }, self: Command) => {
    const io = ioOf(self);
    await withClient(opts, async (c) => {
      await describeOrExit(c, id);
      await run(runbookSchedule(c.client, id), opts.note);
      io.out(`${done(id)}\n`);
    });
  });
}

export function registerSchedule(program: Command): void {
  const schedule = program
    .command('schedule')
    .description(
      'Run a runbook on a schedule (Temporal Schedules): create, list, describe, pause, unpause, trigger, delete.',
    )
    .addHelpText(
      'after',
      '\nRuns never overlap (overlap policy SKIP, also for trigger). Exit codes: 0 done, 2 invalid file, flag or unknown id, 3 cannot reach Temporal.',
    );

  withConnectionOptions(
    withTimingOptions(
      schedule
        .command('create')
        .argument('<file>', 'a runbook file, YAML or JSON')
        .description(
          'Create a schedule that runs the runbook (drRunbook). The file and the flags are checked first: every problem is ' +
            'printed and nothing is created (exit 2); an id already in use is exit 2 too.',
        ),
      'schedule id (default: the runbook name); runs get workflow ids <id>-<time>',
    )
      .option('--dry-run', 'each run only checks and plans, changing nothing (drRunbook dryRun)')
      .option('--json', 'print the created schedule as JSON'),
  ).action(async (file: string, opts: TimingFlags & { dryRun?: boolean }, self: Command) => {
    await createScheduleFromFile(self, file, opts, { runbook: { dryRun: opts.dryRun } });
  });

  withConnectionOptions(
    schedule
      .command('list')
      .description('List the schedules of runbooks and freshness checks in the namespace.')
      .option('--json', 'print them as JSON'),
  ).action(async (opts: ConnectionFlags & { json?: boolean }, self: Command) => {
    const io = ioOf(self);
    await withClient(opts, async (c) => {
      const rows = [];
      for await (const s of c.client.schedule.list()) {
        const type = s.action?.workflowType;
        if (!type || !SCHEDULED_TYPES.has(type)) continue;
        const memo = (s.memo ?? {}) as Record<string, unknown>;
        const last = s.info.recentActions[s.info.recentActions.length - 1];
        rows.push({
          scheduleId: s.scheduleId,
          workflowType: type,
          what: whatText(type, memo),
          runbook: typeof memo.runbook === 'string' ? memo.runbook : undefined,
          site: typeof memo.site === 'string' ? memo.site : undefined,
          spec: specText(s.spec),
          paused: s.state.paused,
          ...(s.state.note !== undefined && { note: s.state.note }),
          nextRunAt: s.info.nextActionTimes[0]?.toISOString(),
          lastRunAt: last?.takenAt.toISOString(),
          lastWorkflowId: last?.action.workflow.workflowId,
        });
      }
      rows.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
      if (opts.json) return printJson(rows, io.out);
      if (!rows.length) return io.out('no runbook schedules (vmware-dr schedule create FILE --every 24h makes one)\n');
      const t = table(['id', 'runbook', 'site', 'runs', 'when', 'paused', 'next run', 'last run']);
      for (const r of rows)
        t.push([
          r.scheduleId,
          r.runbook ?? '',
          r.site ?? '',
          r.what,
          r.spec,
          r.paused ? 'yes' : 'no',
          timeText(r.nextRunAt),
          timeText(r.lastRunAt),
        ]);
      io.out(`${t.toString()}\n`);
    });
  });

  withConnectionOptions(
    schedule
      .command('describe')
      .argument('<id>', 'the schedule id')
      .description('Show a schedule: what it runs, when, its state, next and recent runs.')
      .option('--json', 'print it as JSON'),
  ).action(async (id: string, opts: ConnectionFlags & { json?: boolean }, self: Command) => {
    const io = ioOf(self);
    await withClient(opts, async (c) => {
      const { raw, state } = await describeOrExit(c, id);
      const d = describeJson(raw, state);
      if (opts.json) printJson(d, io.out);
      else printDescription(io, d);
    });
  });

  registerAction(
    schedule,
    'pause',
    'Pause a schedule: no run starts until it is unpaused.',
    (h, note) => h.pause(note ?? 'paused with vmware-dr schedule pause'),
    (id) => `paused ${id} (vmware-dr schedule unpause ${id} resumes it)`,
    true,
  );
  registerAction(
    schedule,
    'unpause',
    'Unpause a schedule (also after it paused itself on a failed run).',
    (h, note) => h.unpause(note ?? 'unpaused with vmware-dr schedule unpause'),
    (id) => `unpaused ${id}`,
    true,
  );
  registerAction(
    schedule,
    'trigger',
    'Start a run now (skipped if a run of this schedule is still running).',
    (h) => h.trigger(),
    (id) => `triggered ${id} (vmware-dr schedule describe ${id} shows the run)`,
  );
  registerAction(
    schedule,
    'delete',
    'Delete a schedule; runs already started go on.',
    (h) => h.delete(),
    (id) => `deleted ${id}`,
  );
}
