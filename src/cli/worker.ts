/** `vmware-dr worker`: the production worker, configured from the environment, until SIGTERM. */
import type { Command } from 'commander';
import type * as WorkerConfig from '../../worker/config';
import { WORKER_ENV_HELP } from '../../worker/env';
import type * as WorkerMain from '../../worker/main';
import { load } from './load';

/** Exit code for an invalid worker environment (the CLI's "invalid input"). */
const EXIT_INVALID_INPUT = 2;

function helpText(): string {
  const width = Math.max(...WORKER_ENV_HELP.map(([name]) => name.length)) + 2;
  return [
    '',
    'Environment:',
    '  TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE, ...',
    '      the standard Temporal client configuration (also read from the Temporal config file)',
    ...WORKER_ENV_HELP.map(([name, help]) => `  ${name.padEnd(width)}${help}`),
    '',
    'Logs are JSON lines on stdout with secrets redacted. GET /metrics serves the project metrics',
    "(vmware_dr_*) and the Temporal runtime's (temporal_*); GET /healthz answers ok.",
    'SIGTERM/SIGINT stop polling, let running activities finish within the grace time (then they',
    'resume from their last heartbeat on another worker) and exit 0.',
    '',
  ].join('\n');
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('Run a worker for the vmware-dr workflows and activities until SIGTERM.')
    .addHelpText('after', helpText)
    .action(async () => {
      const { WorkerConfigError } = load<typeof WorkerConfig>('../../worker/config');
      try {
        await load<typeof WorkerMain>('../../worker/main').runWorker();
      } catch (err) {
        if (!(err instanceof WorkerConfigError)) throw err;
        process.stderr.write(`vmware-dr worker: ${err.message}\n`);
        process.exitCode = EXIT_INVALID_INPUT;
      }
    });
}
