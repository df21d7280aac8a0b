/** `vmware-dr temporal install`: find or install the Temporal CLI the demo and tests use. */
import type { Command } from 'commander';
import type * as ResolveCli from '../temporal/resolve-cli';
import { load } from './load';

export function registerTemporal(program: Command): void {
  const temporal = program.command('temporal').description('Manage the Temporal CLI used by the demo and the tests.');
  temporal
    .command('install')
    .description('Find or install the Temporal CLI; print its path (or TEMPORAL_ADDRESS=… when one is set).')
    .action(async () => {
      const source = await load<typeof ResolveCli>('../temporal/resolve-cli').resolveTemporalServer({
        log: (l) => console.error(l),
      });
      console.log(
        source.kind === 'binary'
          ? source.path
          : source.kind === 'address'
            ? `TEMPORAL_ADDRESS=${source.address}`
            : 'sdk-download',
      );
    });
}
