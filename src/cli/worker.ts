/** `vmware-dr worker`: a worker configured from the standard Temporal environment. */
import type { Command } from 'commander';
import type * as WorkerMain from '../../worker/main';
import { load } from './load';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('Run a worker for the vmware-dr workflows and activities until SIGTERM.')
    .addHelpText(
      'after',
      [
        '',
        'Environment:',
        '  TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_PROFILE, ...',
        '                               the standard Temporal client configuration',
        '  VMWARE_DR_TASK_QUEUE         task queue (default vmware-dr)',
        '  VMWARE_DR_POLL_INTERVAL_MS   poll interval of the status activities (default 15000)',
        '',
      ].join('\n'),
    )
    .action(async () => {
      await load<typeof WorkerMain>('../../worker/main').runWorker();
    });
}
