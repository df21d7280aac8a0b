/**
 * `vmware-dr run FILE`: checks a runbook file (as `validate` does), starts `drRunbook` with it and
 * prints the workflow id and its Web UI link; `--wait` follows the run live and ends with its
 * report (exit 0 succeeded or dry run, 1 otherwise; Ctrl-C cancels the run, then exits 130).
 */
import type { Command } from 'commander';
import { DEFAULT_TASK_QUEUE } from '../contract/names';
import { InterruptedError, interruptSignal, onInterrupt } from '../core/interrupt';
import type { RunbookDocument } from '../contract/runbook/document';
import type { RunbookReport } from '../contract/runbook/report';
import { type StartedRunbookRun, runbookClient } from '../client/runbook';
import { type ConnectionFlags, withClient, withConnectionOptions, workflowUiUrl, temporalClient } from './connect';
import { type CliIo, CliError, EXIT, printJson } from './exit';
import { endWithOutcome, printReport, watchOptions } from './inspect';
import { checkRunbookFile, problemLine } from './runbook-file';
import { watchRunbook } from './watch';

interface RunFlags extends ConnectionFlags {
  dryRun?: boolean;
  wait?: boolean;
  id?: string;
  taskQueue?: string;
  json?: boolean;
}

/** After Ctrl-C: how long `run --wait` waits for the cancelled run to end before it exits. */
const INTERRUPT_CANCEL_WAIT_MS = 20_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** The workflow id of a run started without `--id`: `vmware-dr/<site>/<name>/<UTC time to the ms>`. */
export function defaultRunWorkflowId(doc: { name: string; site?: string }, now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '');
  return ['vmware-dr', ...(doc.site ? [doc.site] : []), doc.name, stamp].join('/');
}

/**
 * A runbook file's document, or exit 2 after printing every problem as `validate` does
 * (`file:line:column: path: message`).
 */
export function readRunbookFile(file: string, io: Pick<CliIo, 'stderr'>): RunbookDocument {
  const checked = checkRunbookFile(file);
  if (!checked.ok) {
    for (const p of checked.problems) io.stderr(`${problemLine(p)}\n`);
    const n = checked.problems.length;
    throw new CliError(
      `${file} is not a valid runbook (${n} problem${n === 1 ? '' : 's'}); nothing was started`,
      EXIT.INVALID,
    );
  }
  return checked.document as RunbookDocument;
}

export function registerRun(program: Command, io: CliIo): void {
  withConnectionOptions(
    program
      .command('run')
      .argument('<file>', 'a runbook file, YAML or JSON')
      .option('--dry-run', 'log in, resolve archives and validate; change nothing')
      .option('--wait', 'follow the run live, then print its report; exit 0 succeeded or dry run, 1 otherwise')
      .option('--id <id>', 'workflow id (default: vmware-dr/<site>/<name>/<UTC time>)')
      .option(
        '--task-queue <queue>',
        `task queue of the workers (default: VMWARE_DR_TASK_QUEUE, ${DEFAULT_TASK_QUEUE})`,
      )
      .option('--json', 'print JSON (the run, or with --wait the report); progress goes to stderr')
      .description('Validate a runbook file and start it as a drRunbook workflow; print its id and Web UI link.'),
  ).action(async (file: string, opts: RunFlags) => {
    const doc = readRunbookFile(file, io);
    const workflowId = opts.id ?? defaultRunWorkflowId(doc);
    const taskQueue = opts.taskQueue ?? process.env.VMWARE_DR_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
    await withClient(opts, async (c) => {
      const { WorkflowExecutionAlreadyStartedError } = temporalClient();
      let handle: StartedRunbookRun;
      try {
        handle = await runbookClient(c.client, { taskQueue }).start(doc, {
          workflowId,
          ...(opts.dryRun && { dryRun: true }),
          summary: `runbook ${doc.name}${doc.site ? ` (site ${doc.site})` : ''}${opts.dryRun ? ', dry run' : ''}`,
        });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError)
          throw new CliError(
            `a run with id ${workflowId} is already running; choose another --id, or follow it with: vmware-dr status ${workflowId} --watch`,
            EXIT.INVALID,
          );
        throw err;
      }
      const uiUrl = workflowUiUrl(c.address, c.namespace, workflowId);
      if (opts.json && !opts.wait)
        return printJson(
          { workflowId, runId: handle.firstExecutionRunId, namespace: c.namespace, taskQueue, uiUrl: uiUrl ?? null },
          io.stdout,
        );
      const say = opts.json ? io.stderr : io.stdout;
      say(
        `Started runbook ${doc.name}${opts.dryRun ? ' (dry run)' : ''} as workflow ${workflowId} on task queue ${taskQueue}\n` +
          (uiUrl ? `Web UI: ${uiUrl}\n` : '') +
          (opts.wait ? '' : `Follow it: vmware-dr status ${workflowId} --watch\n`),
      );
      if (!opts.wait) return;
      // Ctrl-C: the run this command started is cancelled (its steps cancel their remote jobs), not left behind.
      let cancelling: Promise<void> | undefined;
      const release = onInterrupt(`run ${workflowId} (cancelling it)`, () => {
        cancelling ??= handle.cancel().then(async () => {
          await Promise.race([handle.result().catch(() => undefined), sleep(INTERRUPT_CANCEL_WAIT_MS)]);
        });
        return cancelling;
      });
      let report: RunbookReport;
      try {
        report = await watchRunbook(handle, watchOptions(io, opts.json === true));
      } catch (err) {
        if (!interruptSignal.aborted) throw err;
        await cancelling;
        throw new InterruptedError(`run ${workflowId} cancelled`);
      } finally {
        release();
      }
      printReport(report, opts.json === true, io);
      if (interruptSignal.aborted) throw new InterruptedError(`run ${workflowId} ended ${report.outcome}`);
      endWithOutcome(report);
    });
  });
}
