/**
 * `vmware-dr`: the command-line entry. Parsing and help come from commander; each command lives
 * in its own file here and registers itself on the program. Usage errors (unknown command or
 * flag, bad flag value) exit 2; failures of a command exit 1; Ctrl-C ends the runs the command
 * started and exits 130 (src/core/interrupt.ts).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { EXIT_INTERRUPTED, handleInterrupts, interrupted } from '../core/interrupt';
import { type CliIo, CliError, EXIT } from './exit';
import { registerApprove } from './approve';
import { registerCodecServer } from './codec-server';
import { registerDemo } from './demo';
import { registerFreshness } from './freshness';
import { registerInspect } from './inspect';
import { registerPolicy } from './policy';
import { registerRehearse } from './rehearse';
import { registerRun } from './run';
import { registerRunbookFile } from './runbook-file';
import { registerSchedule } from './schedule';
import { registerSimulator } from './simulator';
import { registerTemporal } from './temporal';
import { registerWorker } from './worker';

/** Exit code for a command line commander refused (POSIX convention for usage errors). */
export const EXIT_USAGE = EXIT.INVALID;

/** Where the program writes; tests capture it. */
export interface CliOutput {
  /** @default process.stdout.write */
  stdout?: (text: string) => void;
  /** @default process.stderr.write */
  stderr?: (text: string) => void;
}

/** This package's version, from its own package.json (works from `src/` and from `dist/`). */
function packageVersion(): string {
  const file = require.resolve('vmware-dr-temporal/package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** The whole `vmware-dr` program; nothing runs until it parses a command line. */
export function buildProgram(output: CliOutput = {}): Command {
  const program = new Command('vmware-dr')
    .usage('<command> [options]')
    .description('Durable backup and restore of a VMware management plane with Temporal.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print help')
    .helpCommand('help [command]', 'print help for a command')
    .showHelpAfterError('(vmware-dr --help lists the commands; vmware-dr <command> --help their options)');
  const write = {
    writeOut: output.stdout ?? ((s: string) => void process.stdout.write(s)),
    writeErr: output.stderr ?? ((s: string) => void process.stderr.write(s)),
  };
  // Runbook runs: run, status, list, report, cancel, approve, reject (they write where `output` says).
  const io: CliIo = {
    stdout: write.writeOut,
    stderr: write.writeErr,
    isTTY: output.stdout === undefined && process.stdout.isTTY === true,
  };
  // In the order an admin meets them (`vmware-dr --help` lists them so).
  registerRunbookFile(program);
  registerRehearse(program);
  registerRun(program, io);
  registerInspect(program, io);
  registerApprove(program, io);
  registerSchedule(program);
  registerFreshness(program);
  registerDemo(program);
  registerWorker(program);
  registerPolicy(program, io);
  registerSimulator(program);
  registerCodecServer(program, io);
  registerTemporal(program);
  const configure = (cmd: Command): void => {
    cmd.configureOutput(write).exitOverride();
    for (const sub of cmd.commands) configure(sub);
  };
  configure(program);
  return program;
}

/** Runs one command line (without `node` and the script); resolves with the exit code. */
export async function main(argv: string[], output: CliOutput = {}): Promise<number> {
  const program = buildProgram(output);
  const stderr = output.stderr ?? ((s: string) => void process.stderr.write(s));
  if (argv.length === 0) {
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    // A command that ends normally but reports a result code (e.g. validate: 2 for an invalid file).
    const code = typeof process.exitCode === 'number' ? process.exitCode : 0;
    process.exitCode = undefined;
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are "errors" with exit code 0: how commander stops after printing them.
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    stderr(`vmware-dr: ${(err as Error).message}\n`);
    // Ctrl-C: the command ended what it started (by name: the error class may be loaded twice).
    if ((err as Error)?.name === 'InterruptedError') return EXIT_INTERRUPTED;
    // A command's own ending (exit code chosen by the command: 2 invalid input, 3 no Temporal, ...).
    return err instanceof CliError ? err.exitCode : 1;
  }
}

/**
 * `main`, then exit: native handles (the Temporal runtime) can keep the loop alive after a
 * finished command. Ctrl-C ends the runs the command started, then exits 130.
 */
export function run(argv: string[] = process.argv.slice(2)): void {
  // Output piped to a reader that stopped (`vmware-dr list | head`): end quietly, as other tools do.
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
      throw err;
    });
  handleInterrupts({
    exit: (code) => process.exit(code),
    say: (line) => void process.stderr.write(`vmware-dr: ${line}\n`),
  });
  void main(argv).then((code) => process.exit(interrupted() ? EXIT_INTERRUPTED : code));
}

if (require.main === module) run();
