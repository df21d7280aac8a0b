/**
 * `vmware-dr freshness FILE`: is every endpoint the runbook backs up within its backup SLO? Runs
 * the read-only `freshness` workflow and prints green / amber / red per endpoint with the age of
 * its last successful backup and why; `--schedule` creates a freshness schedule instead.
 */
import { styleText } from 'node:util';
import { type Command, Option } from 'commander';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, TimeoutFailure } from '@temporalio/common';
import type { freshness as FreshnessWorkflow } from '../../workflows/freshness';
import { DEFAULT_TASK_QUEUE } from '../contract/names';
import { durationText, formatDurationText as formatDuration, parseDuration } from '../contract/duration';
import { FreshnessOptions, type FreshnessRating, type FreshnessResult } from '../contract/freshness';
import { checkInput } from '../contract/inputs';
import { workflowUiUrl, withClient, withConnectionOptions } from './connect';
import { CliError, EXIT, printJson } from './exit';
import {
  type CliProblem,
  type TimingFlags,
  createScheduleFromFile,
  flagProblem,
  invalidInput,
  ioOf,
  readRunbook,
  table,
  timeText,
  withTimingOptions,
} from './schedule';
import { INVALID_INPUT_TYPE } from '../core/errors';

/** How long `--wait` waits for the check before it gives up (the run's execution timeout). */
export const DEFAULT_FRESHNESS_TIMEOUT = '5m';

interface FreshnessFlags extends TimingFlags {
  maxAge?: string;
  amberAfter?: string;
  failOn: 'amber' | 'red';
  /** Undefined unless `--wait` / `--no-wait` is given: waiting is the default. */
  wait?: boolean;
  timeout: string;
  color: 'auto' | 'always' | 'never';
  schedule?: boolean;
}

/** The exit code of a check: 1 when any endpoint is at least as bad as `failOn`, else 0. */
export function freshnessExitCode(overall: FreshnessRating, failOn: 'amber' | 'red'): number {
  if (overall === 'red' || (overall === 'amber' && failOn === 'amber')) return EXIT.FAILED;
  return EXIT.OK;
}

/**
 * Colour when asked, or on a terminal unless NO_COLOR is set (https://no-color.org/). Decided here once,
 * so `styleText` is told not to check the stream again (its output may be captured).
 */
function useColour(when: FreshnessFlags['color'], env: NodeJS.ProcessEnv = process.env): boolean {
  if (when !== 'auto') return when === 'always';
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0';
  return process.stdout.isTTY === true;
}

const COLOURS: Record<FreshnessRating, 'green' | 'yellow' | 'red'> = { green: 'green', amber: 'yellow', red: 'red' };

/** The result as a table: one row per endpoint, its rating coloured when `colour`. */
export function freshnessTable(result: FreshnessResult, colour: boolean, now = Date.now()): string {
  const paint = (r: FreshnessRating) => (colour ? styleText(COLOURS[r], r, { validateStream: false }) : r);
  const t = table(['endpoint', 'product', 'rating', 'last backup', 'age', 'last attempt', 'reason']);
  for (const e of result.endpoints)
    t.push([
      e.endpoint,
      e.product,
      paint(e.rating),
      timeText(e.lastSuccessAt, now) || 'none',
      e.ageMs !== undefined ? formatDuration(e.ageMs) : '',
      e.lastAttempt ? `${e.lastAttempt.status} ${e.lastAttempt.at}` : '',
      e.reason,
    ]);
  return [
    `${result.runbook}: ${paint(result.overall)} (red after ${formatDuration(result.maxAgeMs)}, amber after ` +
      `${formatDuration(result.amberAfterMs)}; checked ${result.checkedAt})`,
    t.toString(),
  ].join('\n');
}

/** Flags that only mean something with `--schedule`. */
const SCHEDULE_ONLY: [keyof FreshnessFlags, string][] = [
  ['cron', '--cron'],
  ['every', '--every'],
  ['jitter', '--jitter'],
  ['catchupWindow', '--catchup-window'],
  ['pauseOnFailure', '--pause-on-failure'],
  ['note', '--note'],
];

async function runCheck(self: Command, file: string, flags: FreshnessFlags): Promise<void> {
  const io = ioOf(self);
  const slo: FreshnessOptions = {
    ...(flags.maxAge !== undefined && { maxAge: flags.maxAge }),
    ...(flags.amberAfter !== undefined && { amberAfter: flags.amberAfter }),
  };
  if (flags.schedule) return createScheduleFromFile(self, file, flags, { freshness: { slo } });

  // Every problem at once, before any server is needed.
  const read = readRunbook(file);
  const problems: CliProblem[] = [...read.problems];
  const sloCheck = checkInput('slo', FreshnessOptions, slo, { origin: 'call' });
  if (!sloCheck.ok) problems.push(...sloCheck.problems.map((p) => flagProblem({ ...p, path: `slo.${p.path}` })));
  const timeout = durationText(10_000, 86_400_000).safeParse(flags.timeout);
  if (!timeout.success)
    problems.push(...timeout.error.issues.map((i) => ({ path: 'timeout', flag: '--timeout', message: i.message })));
  for (const [key, flag] of SCHEDULE_ONLY)
    if (flags[key] !== undefined)
      problems.push({ path: key, flag, message: 'only with --schedule (it sets when a schedule runs the check)' });
  if (problems.length) throw invalidInput(io, flags.json, problems, 'no check was started');

  const name = read.name!;
  const taskQueue = flags.taskQueue ?? DEFAULT_TASK_QUEUE;
  const workflowId = flags.id ?? `freshness-${name}-${new Date().toISOString().replace(/[-:]|\.\d{3}/g, '')}`;
  await withClient(flags, async (c) => {
    let handle;
    try {
      handle = await c.client.workflow.start<typeof FreshnessWorkflow>('freshness', {
        taskQueue,
        workflowId,
        args: [read.document as Parameters<typeof FreshnessWorkflow>[0], slo],
        // Bounds the run itself: with no worker on the task queue it times out instead of waiting forever.
        workflowExecutionTimeout: parseDuration(flags.timeout),
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError)
        throw new CliError(`a workflow with id ${workflowId} is already running: choose another --id`, EXIT.INVALID);
      throw err;
    }
    const url = workflowUiUrl(c.address, c.namespace, workflowId);
    if (flags.wait === false) {
      if (flags.json) printJson({ workflowId, runId: handle.firstExecutionRunId, ...(url && { url }) }, io.out);
      else io.out(`started freshness check ${workflowId}${url ? `\n${url}` : ''}\n`);
      return;
    }
    let result: FreshnessResult;
    try {
      result = await handle.result();
    } catch (err) {
      if (err instanceof WorkflowFailedError) {
        if (err.cause instanceof TimeoutFailure)
          throw new CliError(
            `no result from ${workflowId} within ${flags.timeout}: is a worker polling task queue ${taskQueue}? ` +
              '(vmware-dr worker; or --task-queue, --timeout)',
            EXIT.FAILED,
          );
        if (err.cause instanceof ApplicationFailure && err.cause.type === INVALID_INPUT_TYPE)
          throw new CliError(`the check refused its input: ${err.cause.message}`, EXIT.INVALID);
        throw new CliError(`the check ${workflowId} failed: ${err.cause?.message ?? err.message}`, EXIT.FAILED);
      }
      throw err;
    }
    if (flags.json) printJson({ workflowId, ...result }, io.out);
    else io.out(`${freshnessTable(result, useColour(flags.color))}\n`);
    const code = freshnessExitCode(result.overall, flags.failOn);
    if (code !== EXIT.OK) {
      const bad = result.endpoints.filter((e) => e.rating !== 'green').map((e) => `${e.endpoint} ${e.rating}`);
      throw new CliError(`backups of ${result.runbook} are ${result.overall}: ${bad.join(', ')}`, code);
    }
  });
}

export function registerFreshness(program: Command): void {
  const cmd = program
    .command('freshness')
    .argument('<file>', 'a runbook file, YAML or JSON: every endpoint it backs up is checked')
    .description(
      'Check the backup SLO of every endpoint the runbook backs up (read only): green, amber or red, with the age of ' +
        'its last successful backup and why. Needs a worker on the task queue. --schedule creates a schedule that ' +
        'runs the check instead.',
    )
    .option('--max-age <duration>', 'red when the last successful backup is older (default 26h)')
    .option('--amber-after <duration>', 'amber when it is older than this (default 75% of --max-age)')
    .addOption(
      new Option('--fail-on <rating>', 'exit 1 when any endpoint is this or worse')
        .choices(['amber', 'red'])
        .default('red'),
    )
    .option('--wait', 'wait for the result and print it (the default)')
    .option('--no-wait', 'only start the check; print its workflow id')
    .option(
      '--timeout <duration>',
      'give up when the check has no result this long (e.g. no worker)',
      DEFAULT_FRESHNESS_TIMEOUT,
    )
    .option('--json', 'print the result as JSON ({ workflowId, runbook, overall, endpoints: [...] })')
    .addOption(
      new Option('--color <when>', 'colour the ratings: auto (on a terminal, unless NO_COLOR), always, never')
        .choices(['auto', 'always', 'never'])
        .default('auto'),
    )
    .option('--schedule', 'create a schedule that runs the check (--cron or --every) instead of checking now');
  withConnectionOptions(
    withTimingOptions(
      cmd,
      'workflow id of the check (default freshness-<runbook>-<time>); with --schedule the schedule id (default <runbook>-freshness)',
    ),
  )
    .addHelpText(
      'after',
      [
        '',
        'Exit codes (for cron jobs and monitoring checks):',
        '  0  no endpoint red (amber is a warning: printed, exit 0; --fail-on amber makes it exit 1)',
        '  1  an endpoint is red (or amber with --fail-on amber), or the check could not finish',
        '  2  invalid file or flags; nothing was started',
        '  3  cannot reach Temporal',
        '',
        'Red: the newest backup run failed, there is no successful backup, or the last one is older than --max-age.',
        'An endpoint that cannot be read is red, with why.',
        '',
      ].join('\n'),
    )
    .action((file: string, opts: FreshnessFlags, self: Command) => runCheck(self, file, opts));
}
