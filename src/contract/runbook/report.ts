/**
 * The runbook report: what a `drRunbook` run did, step by step, and its Markdown rendering.
 *
 * Pure (types and pure functions, no Node built-ins, no I/O), so workflows, the CLI and clients
 * share it. Times are ISO 8601 strings as recorded (workflow time); rendering never reads a clock.
 */
import { formatDuration } from '../duration';
import type { Product } from '../names';

/**
 * A run's outcome: `running` until it ends (the `progress` Query never reports an outcome the run
 * has not reached), then one of the final outcomes ({@link FinalOutcome}).
 */
export type RunbookOutcome = 'running' | FinalOutcome;

/** The outcome of a run that has ended (its result). */
export type FinalOutcome = 'succeeded' | 'partial' | 'failed' | 'cancelled' | 'rejected' | 'dry-run';

export type StepState =
  | 'pending'
  | 'waiting-approval'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'cancelled'
  | 'rejected'
  | 'planned';

/** The product of a reported step: the one {@link Product} union, under the name this module has always exported. */
export type ReportProduct = Product;

export interface StepReport {
  /** `<stage-index>.<step-index>`, 1-based, e.g. `"1.2"`. */
  id: string;
  stage: string;
  action: 'backup' | 'restore';
  /** The endpoint's name. */
  endpoint: string;
  product: ReportProduct;
  state: StepState;
  /** The appliance's job or task id. */
  remoteId?: string;
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
  /** Start attempts, when the appliance answered busy (set from the first busy answer on). */
  attempts?: number;
  /**
   * While a step waits, for what: a running step e.g. `appliance busy (attempt 2)`; a step waiting
   * for approval, for whom and the command that approves it.
   */
  waiting?: string;
  /** True while the step waits for an approval that must accept its restore warnings (`--accept-warnings`). */
  acceptWarnings?: boolean;
  /**
   * While a running step's remote job runs: its progress as the appliance reports it, in 10 % marks.
   * Read on demand from the step's poll activity by `runbookProgress` (src/client/live-progress.ts);
   * the `progress` Query itself has it only from workers before quiet history, which signalled it.
   */
  percent?: number;
  /** Where the backup went (or the restore came from). */
  location?: string;
  sizeBytes?: number;
  hash?: string;
  /** True when a retried start found the remote job this step had already started. */
  attached?: boolean;
  approval?: {
    by: string;
    /** The client identity the Temporal server recorded for the decision (four eyes compare it). */
    identity?: string;
    at: string;
    comment?: string;
    decision: 'approved' | 'rejected';
    /** The restore validation warnings the approver accepted (`approve --accept-warnings`). */
    acceptedWarnings?: string[];
  };
  /**
   * A restore's validation warnings, read before its approval (shown in the approval request).
   * A restore with warnings starts only when they are accepted: `ignoreWarnings` on the step, or
   * the approver's `--accept-warnings`.
   */
  warnings?: string[];
  error?: { type: string; message: string; hint?: string };
  /** Dry run: what the step would do. */
  plan?: string;
}

export interface CompensationReport {
  /** The id of the step compensated. */
  step: string;
  action: string;
  outcome: 'done' | 'failed' | 'not-needed';
  error?: { type: string; message: string };
}

export interface ApprovalReport {
  step: string;
  by: string;
  /** The client identity the Temporal server recorded for the decision. */
  identity?: string;
  at: string;
  decision: 'approved' | 'rejected';
  comment?: string;
  /** The restore validation warnings accepted with the approval. */
  acceptedWarnings?: string[];
}

/** What happened to a run and who did it: one entry per start, decision, pause, resume, cancel. */
export interface AuditEntry {
  at: string;
  event: 'started' | 'approved' | 'rejected' | 'paused' | 'resumed' | 'cancel-requested';
  /** The step a decision is about. */
  step?: string;
  /** The name the person gave (`--by`), when the message carries one. */
  by?: string;
  /** The client identity the Temporal server recorded for the request. */
  identity?: string;
  /** A comment, a reason, or the warnings accepted. */
  detail?: string;
}

/**
 * The backups of one run that belong together (SDDC Manager and the vCenters of its window). A
 * restore runbook names it by the run's workflow id (`archive: { recoveryPoint }`).
 */
export interface RecoveryPoint {
  takenAt: string;
  /** Each backup: the endpoint, its job or task id, where it went, and the step that made it. */
  members: { endpoint: string; product: string; remoteId: string; location?: string; step?: string }[];
}

/** A part of a runbook the worker's credential policy refuses (the run stops before anything starts). */
export interface PolicyRefusal {
  /** Where in the runbook, e.g. `endpoints.vc-mgmt.passwordRef`. */
  path: string;
  /** The steps it stops (ids such as `1.2`); empty for a document-wide part (a webhook). */
  steps: string[];
  /** The policy rule that refuses it. */
  rule: string;
  message: string;
}

export interface RunbookReport {
  runbook: string;
  site?: string;
  workflowId: string;
  outcome: RunbookOutcome;
  dryRun: boolean;
  startedAt: string;
  endedAt?: string;
  steps: StepReport[];
  compensations: CompensationReport[];
  approvals: ApprovalReport[];
  recoveryPoint?: RecoveryPoint;
  /** The client identity that started the run, as the Temporal server recorded it. */
  startedBy?: string;
  /** The worker's credential policy the run was checked against (its file and SHA-256). */
  policy?: { source: string; sha256: string };
  /** Who started, approved, rejected, paused, resumed or cancelled the run, and when. */
  audit?: AuditEntry[];
  /** What the worker's credential policy refused: the run changed nothing. */
  refused?: PolicyRefusal[];
}

/**
 * The outcome of a run from its steps, in this order of precedence:
 *   1. a dry run                                  → `dry-run`
 *   2. cancelled                                  → `cancelled`
 *   3. a step rejected (at approval), none failed → `rejected`
 *   4. every step succeeded (or there are none)   → `succeeded`
 *   5. some succeeded, others did not             → `partial` (failed, skipped, or never ran)
 *   6. none succeeded                             → `failed` (some failed, or nothing ran to success)
 */
export function overallOutcome(steps: StepReport[], flags: { cancelled: boolean; dryRun: boolean }): FinalOutcome {
  if (flags.dryRun) return 'dry-run';
  if (flags.cancelled) return 'cancelled';
  const count = (state: StepState) => steps.filter((s) => s.state === state).length;
  const failed = count('failed');
  const succeeded = count('succeeded');
  if (count('rejected') > 0 && failed === 0) return 'rejected';
  if (succeeded === steps.length) return 'succeeded';
  if (succeeded > 0) return 'partial';
  return 'failed';
}

// ---------------------------------------------------------------------------------------------
// Markdown

const OUTCOME_WORDS: Record<RunbookOutcome, string> = {
  running: 'Running',
  succeeded: 'Succeeded',
  partial: 'Partially succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
  rejected: 'Rejected',
  'dry-run': 'Dry run',
};

/** The outcome as a word or two for people (no emoji). */
export function outcomeWord(outcome: RunbookOutcome): string {
  return OUTCOME_WORDS[outcome];
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** A size for people: `"512 B"`, `"1.5 GiB"` (binary units, one decimal); `""` for a negative or non-finite value. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.floor(value)} B` : `${value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

/** Text made safe for one Markdown table cell: pipes escaped, line breaks as `<br>`. */
export function escapeCell(text: string): string {
  return text
    .trim()
    .replace(/\|/g, '\\|')
    .replace(/\r\n|\r|\n/g, '<br>');
}

/** Text on one line (headings, list items): line breaks become spaces. */
function oneLine(text: string): string {
  return text.replace(/\s*(\r\n|\r|\n)\s*/g, ' ').trim();
}

function table(headers: string[], rows: (string | undefined)[][]): string[] {
  return [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map((cell) => escapeCell(cell ?? '')).join(' | ')} |`),
  ];
}

function elapsed(startedAt: string | undefined, endedAt: string | undefined): number | undefined {
  if (startedAt === undefined || endedAt === undefined) return undefined;
  const ms = Date.parse(endedAt) - Date.parse(startedAt);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

function stepDuration(step: StepReport): string {
  const ms = step.durationMs ?? elapsed(step.startedAt, step.endedAt);
  return ms === undefined ? '' : formatDuration(ms);
}

/** The state, with what a running step waits for and how many starts a busy appliance took. */
function stateText(step: StepReport): string {
  if (step.waiting !== undefined) return `${step.state} (waiting: ${step.waiting})`;
  if (step.state === 'running' && step.percent !== undefined) return `${step.state} (${step.percent} %)`;
  if (step.attempts !== undefined && step.attempts > 1) return `${step.state} (${step.attempts} attempts)`;
  return step.state;
}

function errorText(error: { type: string; message: string; hint?: string } | undefined): string {
  if (!error) return '';
  return `${error.type}: ${error.message}${error.hint ? `\nHint: ${error.hint}` : ''}`;
}

/**
 * The report as Markdown: a heading with the runbook and its outcome, the run's facts, a table of
 * the steps; then restore warnings, Compensations, Approvals, the audit trail and the recovery point,
 * each only when there is any.
 */
export function renderReportMarkdown(report: RunbookReport): string {
  const lines: string[] = [`# Runbook ${oneLine(report.runbook)}: ${outcomeWord(report.outcome)}`, ''];

  const total = elapsed(report.startedAt, report.endedAt);
  lines.push(
    `- Outcome: ${outcomeWord(report.outcome)}`,
    ...(report.site !== undefined ? [`- Site: ${oneLine(report.site)}`] : []),
    `- Workflow: ${oneLine(report.workflowId)}`,
    `- Started: ${oneLine(report.startedAt)}`,
    ...(report.endedAt !== undefined ? [`- Ended: ${oneLine(report.endedAt)}`] : []),
    ...(total !== undefined ? [`- Duration: ${formatDuration(total)}`] : []),
    ...(report.dryRun ? ['- Dry run: nothing was changed'] : []),
    '',
    '## Steps',
    '',
  );

  if (report.steps.length === 0) {
    lines.push('No steps.');
  } else {
    const withPlan = report.steps.some((s) => s.plan !== undefined);
    const headers = [
      'Step',
      'Stage',
      'Action',
      'Endpoint',
      'Product',
      'State',
      'Remote id',
      'Duration',
      'Size',
      'Error',
      ...(withPlan ? ['Plan'] : []),
    ];
    lines.push(
      ...table(
        headers,
        report.steps.map((s) => [
          s.id,
          s.stage,
          s.action,
          s.endpoint,
          s.product,
          stateText(s),
          s.remoteId === undefined ? '' : `${s.remoteId}${s.attached ? ' (attached)' : ''}`,
          stepDuration(s),
          s.sizeBytes === undefined ? '' : formatBytes(s.sizeBytes),
          errorText(s.error),
          ...(withPlan ? [s.plan ?? ''] : []),
        ]),
      ),
    );
  }

  if (report.refused?.length) {
    lines.push(
      '',
      '## Refused by the credential policy',
      '',
      'Nothing was started: the worker’s policy does not allow these parts of the runbook.',
      '',
      ...table(
        ['Where', 'Steps', 'Rule', 'Why'],
        report.refused.map((r) => [r.path, r.steps.join(', '), r.rule, r.message]),
      ),
    );
  }

  const warned = report.steps.filter((s) => s.warnings?.length);
  if (warned.length > 0) {
    lines.push('', '## Restore validation warnings', '');
    for (const s of warned) {
      // Started with warnings: accepted by its approver, else by the runbook (the step's ignoreWarnings).
      const started = s.state === 'running' || s.state === 'succeeded' || s.remoteId !== undefined;
      const accepted = s.approval?.acceptedWarnings?.length
        ? `accepted by ${s.approval.by}`
        : started
          ? 'accepted by the runbook (ignoreWarnings)'
          : undefined;
      lines.push(`- Step ${s.id} (${oneLine(s.endpoint)})${accepted ? `, ${accepted}` : ''}:`);
      for (const w of s.warnings!) lines.push(`  - ${oneLine(w)}`);
    }
  }

  if (report.compensations.length > 0) {
    lines.push(
      '',
      '## Compensations',
      '',
      ...table(
        ['Step', 'Action', 'Outcome', 'Error'],
        report.compensations.map((c) => [c.step, c.action, c.outcome, errorText(c.error)]),
      ),
    );
  }

  if (report.approvals.length > 0) {
    const identities = report.approvals.some((a) => a.identity !== undefined);
    const warnings = report.approvals.some((a) => a.acceptedWarnings?.length);
    lines.push(
      '',
      '## Approvals',
      '',
      ...table(
        [
          'Step',
          'Decision',
          'By',
          ...(identities ? ['Identity'] : []),
          'At',
          'Comment',
          ...(warnings ? ['Warnings accepted'] : []),
        ],
        report.approvals.map((a) => [
          a.step,
          a.decision,
          a.by,
          ...(identities ? [a.identity ?? ''] : []),
          a.at,
          a.comment,
          ...(warnings ? [(a.acceptedWarnings ?? []).join('\n')] : []),
        ]),
      ),
    );
  }

  if (report.audit?.length) {
    lines.push(
      '',
      '## Audit trail',
      '',
      ...(report.startedBy !== undefined ? [`Started by ${oneLine(report.startedBy)}.`, ''] : []),
      ...(report.policy !== undefined
        ? [`Credential policy: ${oneLine(report.policy.source)} (sha256 ${report.policy.sha256.slice(0, 12)}).`, '']
        : []),
      ...table(
        ['At', 'Event', 'Step', 'By', 'Identity', 'Detail'],
        report.audit.map((e) => [e.at, e.event, e.step, e.by, e.identity, e.detail]),
      ),
    );
  }

  const rp = report.recoveryPoint;
  if (rp) {
    lines.push('', '## Recovery point', '', `Taken at ${oneLine(rp.takenAt)}.`);
    if (rp.members.length > 0) {
      lines.push(
        '',
        ...table(
          ['Endpoint', 'Product', 'Remote id', 'Location'],
          rp.members.map((m) => [m.endpoint, m.product, m.remoteId, m.location]),
        ),
      );
    }
  }

  return `${lines.join('\n')}\n`;
}

/**
 * Memo key a runbook sets on each child step workflow (value: the step id): a step with it tells
 * its parent its progress by the signal {@link STEP_PROGRESS_SIGNAL}; a step without it (run alone,
 * or by another parent) sends nothing. Here (pure) so workflows and activities share the names.
 */
export const RUNBOOK_STEP_MEMO = 'vmwareDrRunbookStep';

/** The signal name a step (its workflow, or its poll activity) tells its runbook parent its progress by. */
export const STEP_PROGRESS_SIGNAL = 'vmwareDrStepProgress';
