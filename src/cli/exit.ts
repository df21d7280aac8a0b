/**
 * The stable exit codes of `vmware-dr`, the error a command ends with, and `--json` output.
 * No imports, so the program (and `--help`) loads none of the Temporal client.
 */
/** The exit codes of `vmware-dr`, stable and documented in the README. */
export const EXIT = {
  /** The command (or the runbook it waited for) succeeded; a dry run that found nothing wrong. */
  OK: 0,
  /** The runbook failed, ended partial, cancelled or rejected; or the command failed. */
  FAILED: 1,
  /** Invalid input: a runbook file, a flag, an id that does not exist. */
  INVALID: 2,
  /** Temporal cannot be reached (address, TLS, credentials). */
  NO_TEMPORAL: 3,
} as const;

/** An error a command ends with, carrying its exit code; `main` prints its message once. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Prints a value as indented JSON (what every `--json` prints). */
export function printJson(value: unknown, write: (text: string) => void = (s) => void process.stdout.write(s)): void {
  write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Where a command writes, and whether its stdout is a terminal (a live task list then). */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** True when stdout is an interactive terminal. */
  isTTY: boolean;
}

/** The exit code of a runbook's outcome: 0 for `succeeded` and `dry-run`, 1 for every other outcome. */
export function outcomeExitCode(outcome: string): number {
  return outcome === 'succeeded' || outcome === 'dry-run' ? EXIT.OK : EXIT.FAILED;
}
