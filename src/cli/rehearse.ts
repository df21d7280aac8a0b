/**
 * `vmware-dr rehearse FILE`: runs the real runbook file against simulated appliances of the same
 * topology (one per endpoint, named after its key), with an in-process worker, on TEMPORAL_ADDRESS
 * or an embedded dev server; prints live progress, then the report. Exit codes as `run --wait`.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import type * as Rehearsal from '../rehearsal/index';
import { renderReportMarkdown } from '../contract/runbook/report';
import type * as Watch from './watch';
import { CliError, EXIT, printJson } from './exit';
import { load } from './load';
import { checkRunbookFile, problemLine } from './runbook-file';

export interface RehearseFlags {
  dryRun?: boolean;
  faults?: string;
  approveAs?: string;
  acceptWarnings?: boolean;
  jobSeconds: number;
  json?: boolean;
}

function seconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0) || n > 3600)
    throw new InvalidArgumentError(`--job-seconds must be a number of seconds from 0 to 3600, got "${value}"`);
  return n;
}

function approver(value: string): string {
  if (value.trim() === '' || value.length > 128)
    throw new InvalidArgumentError('--approve-as must name who approves (1–128 characters)');
  return value;
}

/** The exit code of a finished run: 0 succeeded (or a clean dry run), else 1. */
export function outcomeExitCode(outcome: string): number {
  return outcome === 'succeeded' || outcome === 'dry-run' ? EXIT.OK : EXIT.FAILED;
}

/** What the command runs with; tests pass modules they loaded themselves and rehearsal options (a prebuilt bundle). */
export interface RehearseCommandDeps {
  /** @default the `../rehearsal` module, loaded when the command runs */
  rehearsal?: typeof Rehearsal;
  /** @default the `./watch` module, loaded when the command runs */
  watch?: typeof Watch;
  /** Extra options for `rehearse` (e.g. `temporal`, `workflowBundle`). @default none */
  options?: Partial<Rehearsal.RehearseOptions>;
  /** @default process.stdout.write */
  stdout?: (text: string) => void;
  /** @default process.stderr.write */
  stderr?: (text: string) => void;
}

/**
 * `vmware-dr rehearse FILE`: resolves with the exit code (0 succeeded or dry run, 1 the run did
 * not succeed); throws a {@link CliError} with 2 (invalid file, faults or flags) or 3 (no Temporal).
 */
export async function runRehearse(file: string, flags: RehearseFlags, deps: RehearseCommandDeps = {}): Promise<number> {
  const checked = checkRunbookFile(file);
  if (!checked.ok) {
    throw new CliError(
      `${file} is not a valid runbook:\n${checked.problems.map(problemLine).join('\n')}`,
      EXIT.INVALID,
    );
  }
  const { rehearse, readFaultsFile, installQuietSdkLogger, RehearsalConnectionError } =
    deps.rehearsal ?? load<typeof Rehearsal>('../rehearsal');
  const { watchRunbook, reportJson } = deps.watch ?? load<typeof Watch>('./watch');
  // With --json, stdout carries only the JSON; progress goes to stderr.
  const out = deps.stdout ?? ((text: string) => void process.stdout.write(text));
  const err = deps.stderr ?? ((text: string) => void process.stderr.write(text));
  const progress = flags.json ? err : out;
  const log = (line: string) => progress(`${line}\n`);
  installQuietSdkLogger();
  try {
    const faults = flags.faults ? await readFaultsFile(flags.faults) : [];
    const result = await rehearse(checked.document, {
      dryRun: flags.dryRun,
      faults,
      approveAs: flags.approveAs,
      ...(flags.acceptWarnings === true && { acceptWarnings: true }),
      jobSeconds: flags.jobSeconds,
      log,
      onStart: (s) => {
        log(`Rehearsing ${file} as workflow ${s.workflowId} on ${s.address} (namespace ${s.namespace})`);
        if (s.uiUrl) log(`Web UI: ${s.uiUrl}`);
      },
      watch: (handle) => watchRunbook(handle, { write: progress, live: !flags.json && process.stdout.isTTY === true }),
      ...deps.options,
    });
    if (flags.json) printJson({ ...reportJson(result.report), rehearsal: result.rehearsal }, out);
    else {
      out(`\n${renderReportMarkdown(result.report)}`);
      out(`\n## Rehearsal\n\n`);
      for (const a of result.rehearsal.appliances)
        out(`- ${a.endpoint} (${a.product}): simulated at ${a.url}${a.state ? `, ${a.state}` : ''}\n`);
      out(`- Remote jobs started: ${result.rehearsal.remoteJobs.length}\n`);
      for (const j of result.rehearsal.remoteJobs) out(`  - ${j.product} ${j.appliance}: ${j.kind} ${j.id}\n`);
      for (const n of result.rehearsal.notes) out(`- Note: ${n}\n`);
      out(`- Credential policy: ${result.rehearsal.policy.source}, sha256 ${result.rehearsal.policy.sha256}\n`);
    }
    return outcomeExitCode(result.report.outcome);
  } catch (e) {
    // Invalid input: the file, the faults (RehearsalInputError, of ../rehearsal/plan), or the payload
    // encryption keys (CodecKeyError); by name, both loaded lazily.
    if ((e as Error).name === 'RehearsalInputError' || (e as Error).name === 'CodecKeyError')
      throw new CliError((e as Error).message, EXIT.INVALID);
    if (e instanceof RehearsalConnectionError) throw new CliError(e.message, EXIT.NO_TEMPORAL);
    throw e;
  }
}

export function registerRehearse(program: Command): void {
  program
    .command('rehearse')
    .argument('<file>', 'a runbook file, YAML or JSON')
    .description(
      'Run a runbook file against simulated appliances of the same topology (one per endpoint, named after its key), with an in-process worker; print the report.',
    )
    .option('--dry-run', 'only log in, look up archives and validate, as `run --dry-run`')
    .option('--faults <file>', 'JSON or YAML faults in the simulator format; appliance = an endpoint key')
    .addOption(
      new Option(
        '--approve-as <name>',
        'grant each approval when it is requested, as NAME (its client identity)',
      ).argParser(approver),
    )
    .option(
      '--accept-warnings',
      'with --approve-as: also accept restore validation warnings (as approve --accept-warnings)',
    )
    .addOption(new Option('--job-seconds <s>', 'how long each simulated job takes').argParser(seconds).default(3))
    .option('--json', 'print the report and `rehearsal` (appliances, remote jobs) as JSON')
    .addHelpText(
      'after',
      [
        '',
        'Temporal: TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE) when set, else an embedded dev server.',
        'Without --approve-as a restore waits for `vmware-dr approve` like a real run (the command is printed).',
        'Exit codes: 0 succeeded (or a dry run), 1 failed/partial/cancelled/rejected, 2 invalid file or flags, 3 Temporal unreachable.',
        '',
      ].join('\n'),
    )
    .action(async (file: string, flags: RehearseFlags) => {
      process.exitCode = await runRehearse(file, flags);
    });
}
