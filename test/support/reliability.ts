/**
 * `npm run reliability`: runs the reliability and security suites (fault matrix, property-based
 * bad input, secret scan), collects their figures and rewrites the README's "Reliability and
 * security" block between its markers, so the figures there are measured, never typed by hand.
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

function main(): number {
  const dir = mkdtempSync(join(tmpdir(), 'vmware-dr-reliability-'));
  const out = {
    faults: join(dir, 'faults.json'),
    fuzz: join(dir, 'fuzz.json'),
    secrets: join(dir, 'secrets.json'),
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
      ],
      {
        cwd: root,
        stdio: 'inherit',
        env: {
          ...process.env,
          VMWARE_DR_FAULT_MATRIX_OUT: out.faults,
          VMWARE_DR_FUZZ_OUT: out.fuzz,
          VMWARE_DR_SECRET_SCAN_OUT: out.secrets,
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
    if (!faults || !fuzz || !secrets) {
      process.stderr.write('reliability: a suite wrote no figures (see its output above); the README is unchanged\n');
      return 1;
    }
    const when = new Date().toISOString().slice(0, 10);
    const block = [
      START,
      `Measured by \`npm run reliability\` on ${when} (these figures are rewritten by that command).`,
      '',
      '| promise | measured | goal |',
      '|---|---|---|',
      `| faults injected through the simulator handled as designed | ${faults.handled} / ${faults.tried} | all |`,
      `| bad-input cases (fast-check: runbook documents, response bodies, error parsers; seed ${fuzz.seed}) that ended in a result or a typed error | ${fuzz.total.toLocaleString('en-US')} | ≥ 10,000 |`,
      `| secret marker hits in histories, search attributes, memos, worker logs, CLI output, reports and webhooks | ${secrets.hits} in ${secrets.places} places (${secrets.workflows} workflows, ${secrets.historyEvents} history events, ${secrets.logEntries} log entries, ${secrets.kib} KiB) | 0 |`,
      '',
      'The fault matrix (fault × product → the behaviour the test proved):',
      '',
      faults.markdown.trim(),
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

process.exitCode = main();
