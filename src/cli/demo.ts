/** `vmware-dr demo`: dev server, simulator, worker and one vCenter backup, then everything stops. */
import type { Command } from 'commander';
import type * as Demo from '../demo';
import { load } from './load';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Start a Temporal dev server, the simulator and a worker; run one vCenter backup; stop them all.')
    .addHelpText(
      'after',
      '\nEnvironment:\n  VMWARE_DR_DEMO_JOB_SECONDS  seconds the simulated backup takes (default 10)\n  TEMPORAL_ADDRESS            use this running server instead of starting one\n',
    )
    .action(async () => {
      await load<typeof Demo>('../demo').runDemo();
    });
}
