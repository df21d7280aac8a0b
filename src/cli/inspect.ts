/**
 * `vmware-dr status`, `list`, `report` and `cancel`: reading and cancelling runbook runs. A
 * running run is read through its `progress` Query, a closed one through its result (the report);
 * the list comes from the Visibility API with the VmwareDr* search attributes
 * (https://docs.temporal.io/list-filter). A run whose payloads this client cannot decode (encrypted
 * with keys it lacks) is marked in the list and shown from its search attributes by `status` and
 * `report` (exit 2), never failing the others (./readable.ts). Also the report views `run` and
 * `rehearse` print.
 */
import Table from 'cli-table3';
import { type Command, Option } from 'commander';
import type { WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
import { type RunbookRun } from '../client/runbook';
import { RUNBOOK_WORKFLOW_TYPE } from '../contract/messages';
import { type RunbookReport, renderReportMarkdown } from '../contract/runbook/report';
import { type ConnectionFlags, findRunbookRun, withClient, withConnectionOptions, workflowUiUrl } from './connect';
import { type CliIo, CliError, EXIT, outcomeExitCode, printJson } from './exit';
import { unreadableMemo, unreadableOf } from './readable';
import { approveCommand, rejectCommand, reportJson, runOutcome, stepDetail, watchRunbook } from './watch';

/** A table without colours (the output is often a file or a pipe). */
function plainTable(head: string[]): Table.Table {
  return new Table({ head, style: { head: [], border: [] }, wordWrap: true });
}

/** The steps of a report as a table, with what each waits for or did. */
export function stepsTable(report: RunbookReport): string {
  const table = plainTable(['Step', 'Stage', 'Action', 'Endpoint', 'Product', 'State', 'Detail']);
  for (const s of report.steps)
    table.push([s.id, s.stage, s.action, s.endpoint, s.product, s.state, stepDetail(report, s).slice(0, 200)]);
  return table.toString();
}

/** A run's state for people: what it is, its status, the steps, and the commands a waiting step needs. */
export function statusText(report: RunbookReport, meta: { status: string; uiUrl?: string }): string {
  const running = report.steps.filter((s) => s.state === 'running' || s.state === 'waiting-approval');
  const lines = [
    `Runbook ${report.runbook}${report.site ? ` (site ${report.site})` : ''}${report.dryRun ? ', dry run' : ''}`,
    `Workflow: ${report.workflowId}`,
    `Status: ${meta.status}, outcome: ${runOutcome(report)}${running.length ? `, stage: ${running[0]!.stage}` : ''}`,
    `Started: ${report.startedAt}${report.startedBy ? ` by ${report.startedBy}` : ''}${report.endedAt ? `, ended: ${report.endedAt}` : ''}`,
    ...(meta.uiUrl ? [`Web UI: ${meta.uiUrl}`] : []),
    stepsTable(report),
  ];
  const waiting = report.steps.filter((s) => s.state === 'waiting-approval');
  if (waiting.length) {
    lines.push('Waiting for approval:');
    for (const s of waiting) {
      const who = s.waiting?.replace(/: vmware-dr approve .*$/, '');
      if (who) lines.push(`  step ${s.id}: ${who}`);
      lines.push(
        `  ${approveCommand(report.workflowId, s.id, undefined, s.acceptWarnings === true)}`,
        `  ${rejectCommand(report.workflowId, s.id)}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * How a command follows a run: live on a terminal (listr2 draws on it directly), else plain lines
 * to stdout, or to stderr when stdout carries JSON.
 */
export function watchOptions(io: CliIo, json: boolean): { write?: (text: string) => void; live: boolean } {
  const live = io.isTTY && !json;
  return live ? { live } : { live, write: json ? io.stderr : io.stdout };
}

/** Prints a finished report: Markdown, or the `--json` shape. */
export function printReport(report: RunbookReport, json: boolean, io: CliIo): void {
  if (json) printJson(reportJson(report), io.stdout);
  else io.stdout(renderReportMarkdown(report));
}

/** Ends a command that waited for a run: exit 1 (with why) unless it succeeded or was a dry run. */
export function endWithOutcome(report: RunbookReport): void {
  const code = outcomeExitCode(report.outcome);
  if (code !== EXIT.OK) {
    const failed = report.steps.filter((s) => s.error).map((s) => `${s.id} ${s.endpoint}: ${s.error!.type}`);
    throw new CliError(
      `runbook ${report.runbook} ended ${report.outcome}${failed.length ? ` (${failed.join('; ')})` : ''}`,
      code,
    );
  }
}

/** The report of a closed run (its result); a run that ended without one (invalid document, terminated) exits 1. */
async function closedReport(handle: RunbookRun, d: WorkflowExecutionDescription): Promise<RunbookReport> {
  try {
    return await handle.result();
  } catch (err) {
    const cause = (err as { cause?: Error }).cause;
    throw new CliError(
      `run ${handle.workflowId} ended ${d.status.name} without a report: ${cause?.message ?? (err as Error).message}`,
      EXIT.FAILED,
    );
  }
}

/** Milliseconds of a protobuf timestamp, as an ISO string. */
function isoOf(t: { seconds?: { toNumber(): number } | number | null; nanos?: number | null } | null | undefined) {
  if (!t) return undefined;
  const seconds = typeof t.seconds === 'number' ? t.seconds : (t.seconds?.toNumber() ?? 0);
  return new Date(seconds * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString();
}

/**
 * The report with its audit trail completed from the run's history: who requested a cancel (the
 * workflow sees the request, not its sender), and who started a run recorded before the workflow
 * read it itself. Identities as the server recorded them.
 */
export async function withHistoryAudit(handle: WorkflowHandle, report: RunbookReport): Promise<RunbookReport> {
  const history = await handle.fetchHistory().catch(() => undefined);
  if (!history) return report;
  const audit = [...(report.audit ?? [])];
  let startedBy = report.startedBy;
  const cancels = audit.filter((e) => e.event === 'cancel-requested' && e.identity === undefined);
  for (const e of history.events ?? []) {
    const at = isoOf(e.eventTime);
    const started = e.workflowExecutionStartedEventAttributes;
    if (started && startedBy === undefined && started.identity) {
      startedBy = started.identity;
      if (!audit.some((a) => a.event === 'started'))
        audit.unshift({ at: at ?? report.startedAt, event: 'started', identity: started.identity });
    }
    const cancel = e.workflowExecutionCancelRequestedEventAttributes;
    if (cancel) {
      const entry = cancels.shift();
      const identity = cancel.identity || undefined;
      if (entry) {
        if (identity) entry.identity = identity;
      } else
        audit.push({
          at: at ?? '',
          event: 'cancel-requested',
          ...(identity && { identity }),
          ...(cancel.cause && { detail: cancel.cause }),
        });
    }
  }
  return { ...report, ...(startedBy !== undefined && { startedBy }), ...(audit.length && { audit }) };
}

/** The report so far of a running run, or the report of a closed one. */
async function currentReport(handle: RunbookRun, d: WorkflowExecutionDescription): Promise<RunbookReport> {
  if (d.status.name !== 'RUNNING') return closedReport(handle, d);
  return handle.progress();
}

/** One run in `list` (and its `--json`). */
interface ListRow {
  workflowId: string;
  runbook: string;
  site: string;
  stage: string;
  outcome: string;
  status: string;
  startedAt: string;
  runId: string;
  /** Why its payloads cannot be decoded here (status and report cannot read it), else null. */
  unreadable: string | null;
}

interface ReadFlags extends ConnectionFlags {
  json?: boolean;
}

/**
 * What can be said of a run whose report this client cannot read: what the server itself
 * records (status, times) and the run's search attributes, never encrypted. `--json` shape.
 */
export function unreadableSummary(d: WorkflowExecutionDescription, reason: string) {
  const or = (v: string) => (v === '' ? null : v);
  return {
    status: d.status.name,
    runbook: or(attribute(d, 'VmwareDrRunbook')),
    site: or(attribute(d, 'VmwareDrSite')),
    workflowId: d.workflowId,
    outcome: or(attribute(d, 'VmwareDrOutcome')),
    stage: or(attribute(d, 'VmwareDrStage')),
    startedAt: d.startTime.toISOString(),
    endedAt: d.closeTime?.toISOString() ?? null,
    steps: null,
    unreadable: reason,
  };
}

/**
 * Prints what can be said of a run whose report cannot be read here (text or `--json`), then
 * ends the command with exit 2 naming what to set.
 */
function endUnreadable(
  d: WorkflowExecutionDescription,
  reason: string,
  io: CliIo,
  o: { json: boolean; uiUrl?: string },
): never {
  const s = unreadableSummary(d, reason);
  if (o.json) printJson(s, io.stdout);
  else
    io.stdout(
      [
        `Runbook ${s.runbook ?? '(unknown)'}${s.site ? ` (site ${s.site})` : ''}`,
        `Workflow: ${s.workflowId}`,
        `Status: ${s.status}${s.outcome ? `, outcome: ${s.outcome}` : ''}${s.stage && s.status === 'RUNNING' ? `, stage: ${s.stage}` : ''}`,
        `Started: ${s.startedAt}${s.endedAt ? `, ended: ${s.endedAt}` : ''}`,
        ...(o.uiUrl ? [`Web UI: ${o.uiUrl}`] : []),
        `Steps: not readable here (${reason})`,
        '',
      ].join('\n'),
    );
  throw new CliError(`run ${d.workflowId}: ${reason}`, EXIT.INVALID);
}

/** The value of a search attribute in a list entry. */
function attribute(
  info: { typedSearchAttributes: { getAll(): { key: { name: string }; value: unknown }[] } },
  name: string,
) {
  const v = info.typedSearchAttributes.getAll().find((p) => p.key.name === name)?.value;
  return Array.isArray(v) ? v.join(',') : v === undefined || v === null ? '' : String(v);
}

export function registerInspect(program: Command, io: CliIo): void {
  withConnectionOptions(
    program
      .command('status')
      .argument('<id>', 'workflow id of the runbook run')
      .option('--watch', 'follow the run live until it ends, then print its report (exit as `run --wait`)')
      .option('--json', 'print JSON: the report so far and the run status')
      .description('Show where a runbook run stands: each step, what it waits for, and the approval commands.'),
  ).action(async (id: string, opts: ReadFlags & { watch?: boolean }) => {
    await withClient(opts, async (c) => {
      const { handle, description } = await findRunbookRun(c, id);
      const uiUrl = workflowUiUrl(c.address, c.namespace, id);
      if (opts.watch) {
        const report =
          description.status.name === 'RUNNING'
            ? await watchRunbook(handle, watchOptions(io, opts.json === true))
            : await closedReport(handle, description);
        const unreadable = unreadableOf(report);
        if (unreadable)
          endUnreadable(description, unreadable, io, { json: opts.json === true, ...(uiUrl && { uiUrl }) });
        printReport(report, opts.json === true, io);
        endWithOutcome(report);
        return;
      }
      const report = await currentReport(handle, description);
      const unreadable = unreadableOf(report);
      if (unreadable) endUnreadable(description, unreadable, io, { json: opts.json === true, ...(uiUrl && { uiUrl }) });
      if (opts.json) printJson({ status: description.status.name, ...reportJson(report) }, io.stdout);
      else io.stdout(statusText(report, { status: description.status.name, ...(uiUrl && { uiUrl }) }));
    });
  });

  withConnectionOptions(
    program
      .command('list')
      .option(
        '--query <query>',
        "a Temporal list filter ANDed to WorkflowType = 'drRunbook', e.g. \"VmwareDrSite = 'site-a'\"",
      )
      .option('--limit <n>', 'most runs listed, newest first', (v) => positiveInt(v, '--limit'), 50)
      .option('--json', 'print JSON')
      .description(
        'List runbook runs (newest first) with their search attributes: id, runbook, site, stage, outcome, status, start.',
      ),
  ).action(async (opts: ReadFlags & { query?: string; limit: number }) => {
    await withClient(opts, async (c) => {
      const query = `WorkflowType = '${RUNBOOK_WORKFLOW_TYPE}'${opts.query ? ` AND (${opts.query})` : ''}`;
      const rows: ListRow[] = [];
      try {
        for await (const wf of c.client.workflow.list({ query })) {
          rows.push({
            workflowId: wf.workflowId,
            runbook: attribute(wf, 'VmwareDrRunbook'),
            site: attribute(wf, 'VmwareDrSite'),
            stage: attribute(wf, 'VmwareDrStage'),
            outcome: attribute(wf, 'VmwareDrOutcome'),
            status: wf.status.name,
            startedAt: wf.startTime.toISOString(),
            runId: wf.runId,
            // Its memo cannot be decoded here: status and report will not read it either.
            unreadable: unreadableMemo(wf.memo) ?? null,
          });
          if (rows.length >= opts.limit) break;
        }
      } catch (err) {
        // gRPC INVALID_ARGUMENT: the server refused the filter.
        const e = err as { code?: number; cause?: { code?: number } };
        if ((e.code ?? e.cause?.code) === 3)
          throw new CliError(`invalid --query ${JSON.stringify(opts.query)}: ${(err as Error).message}`, EXIT.INVALID);
        throw err;
      }
      if (opts.json) return printJson(rows, io.stdout);
      if (!rows.length) return io.stdout(`No runbook runs match ${query}.\n`);
      const unreadable = [...new Set(rows.map((r) => r.unreadable).filter((u) => u !== null))];
      const table = plainTable([
        'Workflow id',
        'Runbook',
        'Site',
        'Stage',
        'Outcome',
        'Status',
        'Started',
        ...(unreadable.length ? ['Note'] : []),
      ]);
      for (const r of rows)
        table.push([
          r.workflowId,
          r.runbook,
          r.site,
          r.stage,
          r.outcome,
          r.status,
          r.startedAt,
          ...(unreadable.length ? [r.unreadable ? `unreadable (${unreadable.indexOf(r.unreadable) + 1})` : ''] : []),
        ]);
      io.stdout(`${table.toString()}\n`);
      unreadable.forEach((why, i) => io.stdout(`(${i + 1}) ${why}\n`));
    });
  });

  withConnectionOptions(
    program
      .command('report')
      .argument('<id>', 'workflow id of the runbook run')
      .addOption(new Option('--format <format>', 'md (Markdown) or json').choices(['md', 'json']).default('md'))
      .description('Print the report of a runbook run (for a run still going: its progress so far).'),
  ).action(async (id: string, opts: ConnectionFlags & { format: 'md' | 'json' }) => {
    await withClient(opts, async (c) => {
      const { handle, description } = await findRunbookRun(c, id);
      const current = await currentReport(handle, description);
      const unreadable = unreadableOf(current);
      if (unreadable) {
        const uiUrl = workflowUiUrl(c.address, c.namespace, id);
        endUnreadable(description, unreadable, io, { json: opts.format === 'json', ...(uiUrl && { uiUrl }) });
      }
      const report = await withHistoryAudit(handle, current);
      if (opts.format === 'json') printJson(reportJson(report), io.stdout);
      else if (description.status.name === 'RUNNING')
        io.stdout(`# Runbook ${report.runbook}: running\n\n${statusText(report, { status: 'RUNNING' })}`);
      else io.stdout(renderReportMarkdown(report));
    });
  });

  withConnectionOptions(
    program
      .command('cancel')
      .argument('<id>', 'workflow id of the runbook run')
      .option('--no-wait', 'only request the cancel; do not wait for the report')
      .option('--json', 'print the report as JSON')
      .description(
        'Cancel a runbook run: steps in flight are cancelled on their appliances and recorded as compensations. ' +
          'Waits for the report; exits 0 when the run ended cancelled, 1 when it ended otherwise first.',
      ),
  ).action(async (id: string, opts: ReadFlags & { wait: boolean }) => {
    await withClient(opts, async (c) => {
      const { handle, description } = await findRunbookRun(c, id);
      if (description.status.name !== 'RUNNING')
        throw new CliError(`run ${id} has already ended (${description.status.name}); nothing to cancel`, EXIT.INVALID);
      await handle.cancel();
      const say = opts.json ? io.stderr : io.stdout;
      say(`Cancel requested for ${id}.\n`);
      if (!opts.wait) return;
      const report = await closedReport(handle, description);
      const unreadable = unreadableOf(report);
      if (unreadable)
        throw new CliError(
          `the cancel was requested, but the report of ${id} is not readable here: ${unreadable}`,
          EXIT.INVALID,
        );
      printReport(report, opts.json === true, io);
      if (report.outcome !== 'cancelled')
        throw new CliError(`run ${id} ended ${report.outcome} before the cancel took effect`, EXIT.FAILED);
    });
  });
}

/** A positive integer flag value, or a usage error naming the flag. */
export function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new CliError(`${flag} must be a positive integer, not ${JSON.stringify(value)}`, EXIT.INVALID);
  return n;
}
