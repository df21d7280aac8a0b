/**
 * Live progress of a `drRunbook` run for the CLI: polls the `progress` Query and prints a line
 * whenever a step's state changes; returns the run's result (the report).
 *
 * Minimal version (one line per change); `vmware-dr run --wait` / `status --watch` share the
 * same signature.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { RunbookReport, StepReport } from '../runbook/report';
import { progressQuery } from '../../workflows/runbook-messages';

export interface WatchRunbookOptions {
  /** Where lines go. @default process.stdout.write */
  write?: (text: string) => void;
  /** Wait between two progress queries. @default 500 */
  intervalMs?: number;
  /** Redraw in place (a terminal); this minimal version always prints plain lines. @default false */
  live?: boolean;
}

const DEFAULT_INTERVAL_MS = 500;

function describeStep(s: StepReport): string {
  const extra = [
    s.remoteId !== undefined ? `remote id ${s.remoteId}` : undefined,
    s.error ? `${s.error.type}: ${s.error.message}` : undefined,
    s.approval ? `${s.approval.decision} by ${s.approval.by}` : undefined,
  ].filter(Boolean);
  return `  step ${s.id} ${s.action} ${s.endpoint} (${s.product}): ${s.state}${extra.length ? ` (${extra.join('; ')})` : ''}`;
}

/** Prints each step's state as it changes until the run ends; resolves with the report. */
export async function watchRunbook(handle: WorkflowHandle, options: WatchRunbookOptions = {}): Promise<RunbookReport> {
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  const shown = new Map<string, string>();
  const show = (report: RunbookReport): void => {
    for (const s of report.steps) {
      const line = describeStep(s);
      if (shown.get(s.id) !== line) {
        shown.set(s.id, line);
        write(`${line}\n`);
      }
    }
  };
  let done = false;
  const result = (handle.result() as Promise<RunbookReport>).finally(() => (done = true));
  // The result settles the loop; a query that fails (the run is just starting or ending) is retried.
  result.catch(() => undefined);
  while (!done) {
    const report = await handle.query(progressQuery).catch(() => undefined);
    if (report) show(report);
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, intervalMs))]);
  }
  const report = await result;
  show(report);
  return report;
}
