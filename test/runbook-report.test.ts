import { describe, expect, it } from 'vitest';
import {
  type RunbookReport,
  type StepReport,
  type StepState,
  escapeCell,
  formatBytes,
  overallOutcome,
  renderReportMarkdown,
} from '../src/contract/runbook/report';
import { formatDuration } from '../src/contract/duration';

function step(id: string, state: StepState, extra: Partial<StepReport> = {}): StepReport {
  return { id, stage: 'backup', action: 'backup', endpoint: `vc-${id}`, product: 'vcenter', state, ...extra };
}
const steps = (...states: StepState[]) => states.map((s, i) => step(`1.${i + 1}`, s));
const run = { cancelled: false, dryRun: false };

describe('overallOutcome', () => {
  it('dry run wins over everything', () => {
    expect(overallOutcome(steps('planned', 'planned'), { cancelled: false, dryRun: true })).toBe('dry-run');
    expect(overallOutcome(steps('failed', 'rejected'), { cancelled: true, dryRun: true })).toBe('dry-run');
  });

  it('cancelled wins over the step states', () => {
    expect(overallOutcome(steps('succeeded', 'cancelled'), { cancelled: true, dryRun: false })).toBe('cancelled');
    expect(overallOutcome(steps('succeeded', 'succeeded'), { cancelled: true, dryRun: false })).toBe('cancelled');
    expect(overallOutcome(steps('failed', 'rejected'), { cancelled: true, dryRun: false })).toBe('cancelled');
  });

  it('a rejected step with none failed is rejected (also when others succeeded)', () => {
    expect(overallOutcome(steps('rejected'), run)).toBe('rejected');
    expect(overallOutcome(steps('succeeded', 'rejected', 'skipped'), run)).toBe('rejected');
  });

  it('a rejected step next to a failed one is not rejected', () => {
    expect(overallOutcome(steps('succeeded', 'rejected', 'failed'), run)).toBe('partial');
    expect(overallOutcome(steps('rejected', 'failed'), run)).toBe('failed');
  });

  it('all succeeded is succeeded (and no steps is vacuously succeeded)', () => {
    expect(overallOutcome(steps('succeeded', 'succeeded', 'succeeded'), run)).toBe('succeeded');
    expect(overallOutcome([], run)).toBe('succeeded');
  });

  it('some succeeded and some failed or skipped is partial', () => {
    expect(overallOutcome(steps('succeeded', 'failed'), run)).toBe('partial');
    expect(overallOutcome(steps('succeeded', 'skipped'), run)).toBe('partial');
    expect(overallOutcome(steps('failed', 'succeeded', 'skipped'), run)).toBe('partial');
  });

  it('none succeeded and some failed is failed', () => {
    expect(overallOutcome(steps('failed'), run)).toBe('failed');
    expect(overallOutcome(steps('failed', 'skipped', 'skipped'), run)).toBe('failed');
  });

  it('nothing succeeded and nothing failed (all skipped) is failed: the runbook did not do its job', () => {
    expect(overallOutcome(steps('skipped', 'skipped'), run)).toBe('failed');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0 ms'],
    [850, '850 ms'],
    [1_000, '1 s'],
    [45_000, '45 s'],
    [59_999, '59 s'],
    [60_000, '1 min'],
    [125_000, '2 min 5 s'],
    [3_600_000, '1 h'],
    [3_600_000 + 2 * 60_000 + 30_000, '1 h 2 min'],
    [26 * 3_600_000 + 5 * 60_000, '26 h 5 min'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('is empty for negative or non-finite values', () => {
    expect(formatDuration(-1)).toBe('');
    expect(formatDuration(Number.NaN)).toBe('');
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('');
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [512, '512 B'],
    [1536, '1.5 KiB'],
    [5 * 1024 ** 2, '5.0 MiB'],
    [1.5 * 1024 ** 3, '1.5 GiB'],
    [2 * 1024 ** 4, '2.0 TiB'],
  ])('%d → %s', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });
});

describe('escapeCell', () => {
  it('escapes pipes and turns line breaks (LF, CRLF, CR) into <br>', () => {
    expect(escapeCell('a|b')).toBe('a\\|b');
    expect(escapeCell('one\ntwo\r\nthree\rfour')).toBe('one<br>two<br>three<br>four');
    expect(escapeCell('  padded  ')).toBe('padded');
  });
});

const base: RunbookReport = {
  runbook: 'nightly-mgmt',
  site: 'site-a',
  workflowId: 'dr-runbook-nightly-1',
  outcome: 'succeeded',
  dryRun: false,
  startedAt: '2026-12-01T22:00:00.000Z',
  endedAt: '2026-12-01T23:02:00.000Z',
  steps: [
    step('1.1', 'succeeded', {
      stage: 'management',
      remoteId: '20261201-220000-1',
      durationMs: 45_000,
      sizeBytes: 1.5 * 1024 ** 3,
    }),
    step('1.2', 'succeeded', {
      stage: 'management',
      endpoint: 'sddc-1',
      product: 'sddc-manager',
      remoteId: 'task-7',
      attached: true,
      startedAt: '2026-12-01T22:00:00.000Z',
      endedAt: '2026-12-01T23:02:00.000Z',
    }),
  ],
  compensations: [],
  approvals: [],
};

/** The table rows of the section headed `## <title>` (header and separator excluded). */
function rows(md: string, title: string): string[] {
  const section = md.split(`## ${title}\n`)[1] ?? '';
  return section
    .split('\n## ')[0]!
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .slice(2);
}

/** Cells of a table row, split on unescaped pipes. */
function cells(row: string): string[] {
  return row
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

describe('renderReportMarkdown', () => {
  it('heads with the runbook, its outcome as a word and the times', () => {
    const md = renderReportMarkdown(base);
    expect(md.split('\n')[0]).toBe('# Runbook nightly-mgmt: Succeeded');
    expect(md).toContain('- Outcome: Succeeded');
    expect(md).toContain('- Site: site-a');
    expect(md).toContain('- Workflow: dr-runbook-nightly-1');
    expect(md).toContain('- Started: 2026-12-01T22:00:00.000Z');
    expect(md).toContain('- Ended: 2026-12-01T23:02:00.000Z');
    expect(md).toContain('- Duration: 1 h 2 min');
    expect(md).not.toContain('Dry run');
    expect(md.endsWith('\n')).toBe(true);
  });

  it.each([
    ['partial', 'Partially succeeded'],
    ['failed', 'Failed'],
    ['cancelled', 'Cancelled'],
    ['rejected', 'Rejected'],
    ['dry-run', 'Dry run'],
    ['running', 'Running'],
  ] as const)('words the outcome %s as "%s", no emoji', (outcome, word) => {
    const md = renderReportMarkdown({ ...base, outcome });
    expect(md.split('\n')[0]).toBe(`# Runbook nightly-mgmt: ${word}`);
    expect(md).not.toMatch(/\p{Extended_Pictographic}/u);
  });

  it('lists the steps in a table with human durations and sizes', () => {
    const md = renderReportMarkdown(base);
    expect(md).toContain(
      '| Step | Stage | Action | Endpoint | Product | State | Remote id | Duration | Size | Error |\n| --- |',
    );
    const [first, second] = rows(md, 'Steps').map(cells);
    expect(first).toEqual([
      '1.1',
      'management',
      'backup',
      'vc-1.1',
      'vcenter',
      'succeeded',
      '20261201-220000-1',
      '45 s',
      '1.5 GiB',
      '',
    ]);
    // Duration from the step's times when durationMs is absent; an attached job says so.
    expect(second).toEqual([
      '1.2',
      'management',
      'backup',
      'sddc-1',
      'sddc-manager',
      'succeeded',
      'task-7 (attached)',
      '1 h 2 min',
      '',
      '',
    ]);
  });

  it('escapes pipes and line breaks in cells, so every row keeps its columns', () => {
    const md = renderReportMarkdown({
      ...base,
      outcome: 'failed',
      steps: [
        step('1.1', 'failed', {
          stage: 'stage|with|pipes',
          error: { type: 'ResourceBusy', message: 'busy | still\nbusy', hint: 'wait\r\nthen retry' },
        }),
      ],
    });
    const [row] = rows(md, 'Steps');
    expect(row).not.toContain('\n');
    const c = cells(row!);
    expect(c).toHaveLength(10);
    expect(c[1]).toBe('stage\\|with\\|pipes');
    expect(c[9]).toBe('ResourceBusy: busy \\| still<br>busy<br>Hint: wait<br>then retry');
  });

  it('keeps a multi-line runbook name on the heading line', () => {
    const md = renderReportMarkdown({ ...base, runbook: 'two\nlines' });
    expect(md.split('\n')[0]).toBe('# Runbook two lines: Succeeded');
  });

  it('omits empty sections and optional facts', () => {
    const md = renderReportMarkdown({ ...base, site: undefined, endedAt: undefined });
    expect(md).not.toContain('## Compensations');
    expect(md).not.toContain('## Approvals');
    expect(md).not.toContain('## Recovery point');
    expect(md).not.toContain('- Site:');
    expect(md).not.toContain('- Ended:');
    expect(md).not.toContain('- Duration:');
  });

  it('shows what a running step waits for, and the starts a busy appliance took', () => {
    const md = renderReportMarkdown({
      ...base,
      steps: [
        step('1.1', 'running', { attempts: 2, waiting: 'appliance busy (attempt 2)' }),
        step('1.2', 'succeeded', { attempts: 4 }),
        step('1.3', 'succeeded', { attempts: 1 }),
      ],
    });
    expect(rows(md, 'Steps').map((r) => cells(r)[5])).toEqual([
      'running (waiting: appliance busy (attempt 2))',
      'succeeded (4 attempts)',
      'succeeded',
    ]);
  });

  it('says "No steps." instead of an empty table', () => {
    const md = renderReportMarkdown({ ...base, steps: [] });
    expect(md).toContain('## Steps\n\nNo steps.');
    expect(md).not.toContain('| Step |');
  });

  it('renders compensations, approvals and the recovery point when present', () => {
    const md = renderReportMarkdown({
      ...base,
      outcome: 'partial',
      compensations: [
        { step: '2.1', action: 'cancel remote job', outcome: 'done' },
        { step: '2.2', action: 'delete partial backup', outcome: 'failed', error: { type: 'Timeout', message: 'x|y' } },
      ],
      approvals: [
        { step: '2.1', by: 'alice', at: '2026-12-01T22:10:00.000Z', decision: 'approved', comment: 'ok\ngo' },
        { step: '2.2', by: 'bob', at: '2026-12-01T22:11:00.000Z', decision: 'rejected' },
      ],
      recoveryPoint: {
        takenAt: '2026-12-01T23:02:00.000Z',
        members: [
          { endpoint: 'vc-1', product: 'vcenter', remoteId: 'j1', location: 'sftp://b/vc-1' },
          { endpoint: 'sddc-1', product: 'sddc-manager', remoteId: 't7' },
        ],
      },
    });
    expect(rows(md, 'Compensations').map(cells)).toEqual([
      ['2.1', 'cancel remote job', 'done', ''],
      ['2.2', 'delete partial backup', 'failed', 'Timeout: x\\|y'],
    ]);
    expect(rows(md, 'Approvals').map(cells)).toEqual([
      ['2.1', 'approved', 'alice', '2026-12-01T22:10:00.000Z', 'ok<br>go'],
      ['2.2', 'rejected', 'bob', '2026-12-01T22:11:00.000Z', ''],
    ]);
    expect(md).toContain('## Recovery point\n\nTaken at 2026-12-01T23:02:00.000Z.');
    expect(rows(md, 'Recovery point').map(cells)).toEqual([
      ['vc-1', 'vcenter', 'j1', 'sftp://b/vc-1'],
      ['sddc-1', 'sddc-manager', 't7', ''],
    ]);
    // Sections in a fixed order.
    const order = ['## Steps', '## Compensations', '## Approvals', '## Recovery point'].map((h) => md.indexOf(h));
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('a dry run says nothing changed and shows each step plan', () => {
    const md = renderReportMarkdown({
      ...base,
      outcome: 'dry-run',
      dryRun: true,
      endedAt: undefined,
      steps: [step('1.1', 'planned', { plan: 'POST /api/appliance/recovery/backup/job to vc-1' })],
    });
    expect(md).toContain('- Dry run: nothing was changed');
    expect(md).toContain('| Error | Plan |');
    const [row] = rows(md, 'Steps').map(cells);
    expect(row).toHaveLength(11);
    expect(row![5]).toBe('planned');
    expect(row![10]).toBe('POST /api/appliance/recovery/backup/job to vc-1');
  });
});
