/**
 * Watching a `drRunbook` run from a client: the `progress` Query polled; on a terminal one listr2
 * task per step whose title and output follow the step (state, attempts and busy waits of its
 * running activity, the exact `approve` / `reject` commands while it waits for approval), else plain
 * lines (one per step state, one per new detail, each naming its step); the run's report at the
 * end. Also the client-side views of a report shared by `run`, `status`, `report` and `rehearse`:
 * `reportJson` (the `--json` shape), `stepDetail` and `approveCommand`.
 *
 * Progress comes through the run handle (src/client/runbook.ts): the workflow's own `progress`
 * Query (`src/contract/messages.ts`) and the server's description of each running step's child
 * workflow (pending activities: attempt and last failure, see
 * https://docs.temporal.io/activity-execution#activity-retry-policy).
 */
import { Listr, ListrLogger, ProcessOutput, createWritable } from 'listr2';
import type { RunbookReport, StepReport, StepState } from '../contract/runbook/report';
import { approveCommandText } from '../contract/runbook/approvals';
import type { StepActivity } from '../client/live-progress';
import type { RunbookRun } from '../client/runbook';
import { UnreadableRunError, unreadableOf } from './readable';

/** How {@link watchRunbook} shows a run. */
export interface WatchOptions {
  /**
   * Where the progress goes.
   * @default process.stdout.write
   */
  write?: (text: string) => void;
  /**
   * Time between two `progress` queries.
   * @default 1000
   */
  intervalMs?: number;
  /**
   * A live task list redrawn in place (listr2's default renderer). `false` prints plain lines
   * instead (see {@link plainProgress}).
   * @default true
   */
  live?: boolean;
}

/** Default time between two `progress` queries. */
export const DEFAULT_WATCH_INTERVAL_MS = 1000;

/** Step states after which a step changes no more. */
const FINAL_STATES: ReadonlySet<StepState> = new Set([
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
  'rejected',
  'planned',
]);

/** A shell word: quoted only when it needs to be. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command that approves a step waiting for approval, as an operator types it (with
 * `--accept-warnings` when the step has restore warnings that must be accepted).
 */
export function approveCommand(workflowId: string, step: string, by = '<you>', acceptWarnings = false): string {
  return approveCommandText(shellWord(workflowId), step, acceptWarnings, by);
}

/** The command that rejects a step waiting for approval. */
export function rejectCommand(workflowId: string, step: string, by = '<you>'): string {
  return `vmware-dr reject ${shellWord(workflowId)} --step ${step} --by ${by} --reason <why>`;
}

/** One line saying what a step waits for or did: approval commands, attempts and busy waits, error. */
export function stepDetail(
  report: Pick<RunbookReport, 'workflowId'>,
  step: StepReport,
  activity?: StepActivity,
): string {
  switch (step.state) {
    case 'waiting-approval': {
      // The run's own words say by whom (a second person, the approvers) and which warnings.
      const who = step.waiting?.replace(/: vmware-dr approve .*$/, '');
      return `waiting for approval: ${approveCommand(report.workflowId, step.id, undefined, step.acceptWarnings === true)} (or ${rejectCommand(report.workflowId, step.id)})${who ? `; ${who}` : ''}`;
    }
    case 'running': {
      const parts: string[] = [];
      if (step.remoteId) parts.push(`remote ${step.remoteId}`);
      if (step.percent !== undefined && step.waiting === undefined) parts.push(`${step.percent} %`);
      // The runbook's own word for a busy wait (its step workflow waits it out with a timer).
      if (step.waiting !== undefined) parts.push(`waiting: ${step.waiting}`);
      if (activity) {
        parts.push(`${activity.type} attempt ${activity.attempt}`);
        if (activity.lastFailure) {
          const busy = /busy|in use|locked|in progress/i.test(
            `${activity.lastFailure.type} ${activity.lastFailure.message}`,
          );
          // An absolute time, so the line changes only when the attempt does.
          const next = activity.nextAttemptAt
            ? `, next try at ${activity.nextAttemptAt.toISOString().slice(11, 19)}Z`
            : '';
          parts.push(
            `${busy ? 'busy wait' : 'retrying'}${next} (${activity.lastFailure.type ? `${activity.lastFailure.type}: ` : ''}${activity.lastFailure.message})`,
          );
        }
      }
      if (step.attempts !== undefined && !activity && step.waiting === undefined)
        parts.push(`attempts ${step.attempts}`);
      return parts.join(', ');
    }
    case 'failed':
    case 'cancelled':
    case 'rejected': {
      const who = step.approval ? `${step.approval.decision} by ${step.approval.by}` : '';
      const err = step.error
        ? `${step.error.type}: ${step.error.message}${step.error.hint ? ` (hint: ${step.error.hint})` : ''}`
        : '';
      return [who, err].filter(Boolean).join('; ');
    }
    case 'succeeded':
      return [
        step.remoteId ? `remote ${step.remoteId}` : '',
        step.attempts !== undefined && step.attempts > 1 ? `${step.attempts} attempts` : '',
        step.attached ? 'attached to the job a retry found' : '',
      ]
        .filter(Boolean)
        .join(', ');
    case 'planned':
      return step.plan ?? '';
    default:
      return '';
  }
}

/** A step's task title: what it is and its state. */
export function stepTitle(step: StepReport): string {
  return `${step.id} ${step.action} ${step.endpoint} (${step.product}, stage ${step.stage}): ${step.state}`;
}

/** A run's outcome as the JSON says it: `running` until the run has ended (the progress report has no `endedAt`). */
export function runOutcome(report: RunbookReport): RunbookReport['outcome'] | 'running' {
  return report.endedAt === undefined ? 'running' : report.outcome;
}

/** The `--json` report: stable keys (absent values are `null`), each step's state as its `outcome`. Pure. */
export function reportJson(report: RunbookReport) {
  return {
    runbook: report.runbook,
    site: report.site ?? null,
    workflowId: report.workflowId,
    outcome: runOutcome(report),
    dryRun: report.dryRun,
    startedAt: report.startedAt,
    endedAt: report.endedAt ?? null,
    steps: report.steps.map((s) => ({
      id: s.id,
      stage: s.stage,
      action: s.action,
      endpoint: s.endpoint,
      product: s.product,
      outcome: s.state,
      remoteId: s.remoteId ?? null,
      startedAt: s.startedAt ?? null,
      endedAt: s.endedAt ?? null,
      durationMs: s.durationMs ?? null,
      attempts: s.attempts ?? null,
      percent: s.percent ?? null,
      location: s.location ?? null,
      sizeBytes: s.sizeBytes ?? null,
      hash: s.hash ?? null,
      approval: s.approval ?? null,
      ...(s.warnings !== undefined && { warnings: s.warnings }),
      ...(s.state === 'waiting-approval' && s.waiting !== undefined && { waiting: s.waiting }),
      ...(s.acceptWarnings === true && { acceptWarnings: true }),
      error: s.error ?? null,
      ...(s.plan !== undefined && { plan: s.plan }),
    })),
    compensations: report.compensations,
    approvals: report.approvals,
    recoveryPoint: report.recoveryPoint ?? null,
    ...(report.startedBy !== undefined && { startedBy: report.startedBy }),
    ...(report.policy !== undefined && { policy: report.policy }),
    ...(report.refused !== undefined && { refused: report.refused }),
    ...(report.audit !== undefined && { audit: report.audit }),
  };
}

export type ReportJson = ReturnType<typeof reportJson>;

/**
 * Progress as plain lines, for a pipe or a file: one line when a step reaches a state (its title,
 * and what it waits for or did), and one line, starting with the step id, when only that detail
 * changes (an attempt, a busy wait, a percentage). Nothing is repeated.
 */
export function plainProgress(write: (text: string) => void): (s: Pick<Snapshot, 'report' | 'activities'>) => void {
  const shown = new Map<string, { state: StepState; detail: string }>();
  return ({ report, activities }) => {
    for (const step of report.steps) {
      const detail = stepDetail(report, step, activities.get(step.id));
      const before = shown.get(step.id);
      if (before?.state !== step.state) write(`${stepTitle(step)}${detail ? `; ${detail}` : ''}\n`);
      else if (detail && detail !== before.detail) write(`${step.id} ${detail}\n`);
      shown.set(step.id, { state: step.state, detail });
    }
  };
}

/** A snapshot of the run: the report so far and the activity of each running step. */
interface Snapshot {
  report: RunbookReport;
  activities: Map<string, StepActivity>;
  final: boolean;
}

/** Snapshots published by the poll loop; tasks wait for the next one. */
class Snapshots {
  latest: Snapshot;
  private waiters: (() => void)[] = [];
  constructor(first: Snapshot) {
    this.latest = first;
  }
  publish(s: Snapshot): void {
    this.latest = s;
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }
  next(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref?.());

/**
 * Shows a runbook run's progress until it ends and returns its report (`handle.result()`). Polls
 * the `progress` query every `intervalMs`; a listr2 task per step, or plain lines
 * ({@link plainProgress}). Rejects as `handle.result()` does when the run fails without a report
 * (an invalid document, a termination).
 */
export async function watchRunbook(
  handle: RunbookRun,
  options: { write?: (text: string) => void; intervalMs?: number; live?: boolean } = {},
): Promise<RunbookReport> {
  const o: Required<WatchOptions> = {
    write: options.write ?? ((s) => void process.stdout.write(s)),
    intervalMs: options.intervalMs ?? DEFAULT_WATCH_INTERVAL_MS,
    live: options.live ?? true,
  };
  let final: RunbookReport | undefined;
  let failure: unknown;
  // A run this client cannot read (encrypted with keys it lacks) ends the watch with why.
  const unreadable = (value: unknown) => {
    const reason = unreadableOf(value);
    return reason === undefined ? undefined : new UnreadableRunError(`run ${handle.workflowId}: ${reason}`);
  };
  const settled = handle.result().then(
    (r) => void (unreadable(r) ? (failure = unreadable(r)) : (final = r)),
    (e: unknown) => void (failure = e ?? new Error('the run failed')),
  );
  const ended = () => final !== undefined || failure !== undefined;

  const snapshot = async (): Promise<Snapshot | undefined> => {
    if (final) return { report: final, activities: new Map(), final: true };
    // The report so far, with each running step's percent read from the step.
    const report = await handle.progress().catch(() => undefined);
    if (!report) return undefined;
    const cannot = unreadable(report);
    if (cannot) throw cannot;
    const activities = new Map<string, StepActivity>();
    await Promise.all(
      report.steps
        .filter((s) => s.state === 'running')
        .map(async (s) => {
          const a = await handle.stepActivity(s.id);
          if (a) activities.set(s.id, a);
        }),
    );
    return { report, activities, final: false };
  };

  // The first snapshot: the steps the task list shows (a run that just started may not answer yet).
  let first: Snapshot | undefined;
  while (!(first = await snapshot())) {
    if (failure !== undefined) throw failure;
    await Promise.race([sleep(o.intervalMs), settled]);
  }
  const snapshots = new Snapshots(first);
  // Plain lines: no task list (listr2's own plain renderer repeats a title per event and prints
  // output lines without their task).
  const plain = o.live ? undefined : plainProgress(o.write);
  const publish = (s: Snapshot): void => {
    snapshots.publish(s);
    plain?.(s);
  };
  const poll = async () => {
    for (;;) {
      await Promise.race([sleep(o.intervalMs), settled]);
      const done = ended();
      const s = await snapshot();
      if (failure !== undefined) break;
      if (s) publish(s);
      if (done && final) break;
    }
    // Ends every task: the final report, or the last known state when the run failed without one.
    publish({ ...(final ? { report: final } : snapshots.latest), activities: new Map(), final: true });
  };

  if (plain) {
    plain(first);
    await poll();
    await settled;
    if (failure !== undefined) throw failure;
    return final as RunbookReport;
  }

  // The terminal itself when nobody redirected the output (the live renderer needs its width).
  const stream = options.write ? (createWritable(o.write) as NodeJS.WriteStream) : process.stdout;
  const logger = new ListrLogger({
    processOutput: new ProcessOutput(stream, stream, { dump: [], leaveEmptyLine: false }),
  });
  const list = new Listr(
    first.report.steps.map((initial) => ({
      title: stepTitle(initial),
      task: async (_ctx: unknown, task: { title: string; output: string; skip: (m?: string) => void }) => {
        let output = '';
        for (;;) {
          const s = snapshots.latest;
          const step = s.report.steps.find((x) => x.id === initial.id) ?? initial;
          const title = stepTitle(step);
          if (task.title !== title) task.title = title;
          const detail = stepDetail(s.report, step, s.activities.get(step.id));
          if (detail && detail !== output) task.output = output = detail;
          if (FINAL_STATES.has(step.state) || s.final) {
            if (step.state === 'skipped') task.skip(title);
            else if (step.state === 'failed' || step.state === 'rejected' || step.state === 'cancelled')
              throw new Error(`${title}${detail ? `: ${detail}` : ''}`);
            return;
          }
          await snapshots.next();
        }
      },
    })),
    {
      concurrent: true,
      exitOnError: false,
      registerSignalListeners: false,
      // The default renderer redraws in place (listr2 falls back to its plain renderer when the
      // stream is not a terminal after all).
      renderer: 'default',
      fallbackRenderer: 'verbose',
      rendererOptions: { logger, persistentOutput: true },
      fallbackRendererOptions: { logger, logTitleChange: true },
    } as never,
  );

  await Promise.all([list.run(), poll()]);
  await settled;
  if (failure !== undefined) throw failure;
  return final as RunbookReport;
}
