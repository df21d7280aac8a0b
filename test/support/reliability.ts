/**
 * `npm run reliability`: runs the reliability and security suites (fault matrix, property-based
 * bad input, secret scan, the crash matrix in its full form), collects their figures and rewrites
 * the README's "Reliability and security" block between its markers, so the figures there are
 * measured, never typed by hand.
 * The same suites run in `npm test` (their bounded form); this command only gathers the figures.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const START = '<!-- reliability:start -->';
const END = '<!-- reliability:end -->';

interface FaultTable {
  markdown: string;
  handled: number;
  tried: number;
}
interface Fuzz {
  total: number;
  seed: number;
  counts: Record<string, number>;
}
interface SecretScan {
  hits: number;
  places: number;
  workflows: number;
  historyEvents: number;
  logEntries: number;
  cliOutputs: number;
  reports: number;
  webhookBodies: number;
  kib: number;
}
export interface CrashMatrix {
  form: string;
  tried: number;
  survived: number;
  runbooks: number;
  steps: number;
  remoteJobs: number;
  remoteCancels: number;
  compensations: number;
  compensationsReportedDone: number;
  remoteJobsStoppedByCompensation: number;
  compensated: { key: string; kill?: string; reportedDone: boolean; jobStopped: boolean; remoteCancels: number }[];
  recovery: {
    p50Ms: number;
    maxMs: number;
    goalMs: number;
    withinGoal: number;
    measured: number;
    knownGaps: number;
  };
  kills: { id: string; runbook: string; where: string; recoveryMs: number; recoveryIs: string; knownGap?: string }[];
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** The crash matrix's rows: the summary row of the figures table, and the per-kill-point table. */
export function crashRows(c: CrashMatrix): { row: string; table: string[] } {
  const r = c.recovery;
  const gaps = c.kills.filter((k) => k.knownGap);
  const row = `| worker SIGKILLs survived / tried (${c.runbooks} runbooks, ${c.steps} steps; each kill followed by a fresh worker process) | ${c.survived} / ${c.tried}; remote jobs ${c.remoteJobs} for ${c.steps} steps; remote cancels ${c.remoteCancels} for ${c.compensations} compensated step${c.compensations === 1 ? '' : 's'} (${c.compensated.map((s) => `${s.kill ?? s.key}: ${s.remoteCancels} cancel, job ${s.jobStopped ? 'stopped' : 'left running'}, reported ${s.reportedDone ? 'done' : 'failed'}`).join('; ')}); recovery p50 ${seconds(r.p50Ms)}, max ${seconds(r.maxMs)} (${r.withinGoal} / ${r.measured} within the goal${gaps.length ? `; ${gaps.length} known gap${gaps.length === 1 ? '' : 's'} below` : ''}) | all; 1 job per step, 1 cancel per compensation; recovery ≤ ${seconds(r.goalMs)} (heartbeat timeout + one poll interval) |`;
  const table = [
    "The crash matrix (recovery: from SIGKILL to the interrupted step's next request reaching its appliance, unless the row says otherwise):",
    '',
    '| kill | runbook | where the worker was killed | recovery |',
    '|---|---|---|---|',
    ...c.kills.map((k) => {
      const ok = k.recoveryMs <= r.goalMs ? '✅' : k.knownGap ? '❌ known gap' : '⚠️ over the goal';
      const how = k.recoveryIs.startsWith("the interrupted step's next request") ? '' : ` (to ${k.recoveryIs})`;
      return `| ${k.id} | ${k.runbook} | ${k.where} | ${seconds(k.recoveryMs)}${how} ${ok} |`;
    }),
    ...[...new Set(gaps.map((k) => k.knownGap))].map((why) => `\nKnown gap: ${why}.`),
    ...(c.compensated.some((s) => s.jobStopped && !s.reportedDone)
      ? [
          '\nKnown gap: a worker killed while its poll activity asks the appliance to cancel the job leaves the compensation reported `failed` (heartbeat timeout), although the cancel reached the appliance: Temporal does not retry an activity whose cancellation was requested, and nothing confirms the job state afterwards.',
        ]
      : []),
  ];
  return { row, table };
}

function main(): number {
  const dir = mkdtempSync(join(tmpdir(), 'vmware-dr-reliability-'));
  const out = {
    faults: join(dir, 'faults.json'),
    fuzz: join(dir, 'fuzz.json'),
    secrets: join(dir, 'secrets.json'),
    crash: join(dir, 'crash.json'),
  };
  try {
    const run = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules', 'vitest', 'vitest.mjs'),
        'run',
        'test/fault-matrix.test.ts',
        'test/fuzz.test.ts',
        'test/secret-scan.test.ts',
        'test/crash-matrix.test.ts',
      ],
      {
        cwd: root,
        stdio: 'inherit',
        env: {
          ...process.env,
          VMWARE_DR_FAULT_MATRIX_OUT: out.faults,
          VMWARE_DR_FUZZ_OUT: out.fuzz,
          VMWARE_DR_SECRET_SCAN_OUT: out.secrets,
          VMWARE_DR_CRASH_MATRIX_OUT: out.crash,
          VMWARE_DR_CRASH_MATRIX_FULL: '1',
        },
      },
    );
    const read = <T>(file: string): T | undefined => {
      try {
        return JSON.parse(readFileSync(file, 'utf8')) as T;
      } catch {
        return undefined;
      }
    };
    const faults = read<FaultTable>(out.faults);
    const fuzz = read<Fuzz>(out.fuzz);
    const secrets = read<SecretScan>(out.secrets);
    const crash = read<CrashMatrix>(out.crash);
    if (!faults || !fuzz || !secrets || !crash) {
      process.stderr.write('reliability: a suite wrote no figures (see its output above); the README is unchanged\n');
      return 1;
    }
    const when = new Date().toISOString().slice(0, 10);
    const crashed = crashRows(crash);
    const block = [
      START,
      `Measured by \`npm run reliability\` on ${when} (these figures are rewritten by that command).`,
      '',
      '| promise | measured | goal |',
      '|---|---|---|',
      `| faults injected through the simulator handled as designed | ${faults.handled} / ${faults.tried} | all |`,
      `| bad-input cases (fast-check: runbook documents, response bodies, error parsers; seed ${fuzz.seed}) that ended in a result or a typed error | ${fuzz.total.toLocaleString('en-US')} | ≥ 10,000 |`,
      `| secret marker hits in histories, search attributes, memos, worker logs, CLI output, reports and webhooks | ${secrets.hits} in ${secrets.places} places (${secrets.workflows} workflows, ${secrets.historyEvents} history events, ${secrets.logEntries} log entries, ${secrets.kib} KiB) | 0 |`,
      crashed.row,
      '',
      'The fault matrix (fault × product → the behaviour the test proved):',
      '',
      faults.markdown.trim(),
      '',
      ...crashed.table,
      END,
    ].join('\n');
    const readmeFile = join(root, 'README.md');
    const readme = readFileSync(readmeFile, 'utf8');
    const a = readme.indexOf(START);
    const b = readme.indexOf(END);
    if (a < 0 || b < a) {
      process.stderr.write(`reliability: README.md has no ${START} … ${END} block\n`);
      return 1;
    }
    writeFileSync(readmeFile, readme.slice(0, a) + block + readme.slice(b + END.length));
    process.stdout.write(`${block}\n`);
    return run.status ?? 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) process.exitCode = main();
