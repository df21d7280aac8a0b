/** `vmware-dr temporal install`: find or install the Temporal CLI and the time-skipping test server the demo and tests use. */
import type { Command } from 'commander';
import type * as ResolveCli from '../temporal/resolve-cli';
import type * as ResolveTestServer from '../temporal/resolve-test-server';
import { load } from './load';

export function registerTemporal(program: Command): void {
  const temporal = program
    .command('temporal')
    .description('Manage the Temporal CLI and time-skipping test server used by the demo and the tests.');
  temporal
    .command('install')
    .description(
      'Find or install the Temporal CLI and the time-skipping test server. Prints the CLI path (or TEMPORAL_ADDRESS=… ' +
        'when one is set), then TEMPORAL_TEST_SERVER_PATH=<path>. Exits 1 if either is missing.',
    )
    .action(async () => {
      const log = (l: string) => console.error(l);
      const source = await load<typeof ResolveCli>('../temporal/resolve-cli').resolveTemporalServer({ log });
      console.log(
        source.kind === 'binary'
          ? source.path
          : source.kind === 'address'
            ? `TEMPORAL_ADDRESS=${source.address}`
            : 'sdk-download',
      );
      const testServer = await load<typeof ResolveTestServer>('../temporal/resolve-test-server').resolveTestServer({
        log,
      });
      console.log(`TEMPORAL_TEST_SERVER_PATH=${testServer.path}`);
    });
}
