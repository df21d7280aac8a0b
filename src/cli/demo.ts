/**
 * `vmware-dr demo`: a dev server with its UI and two rehearsals (full-site backup with a busy retry,
 * an approved vCenter restore); `--codec` encrypts their payloads and wires the UI to a codec server.
 */
import type { Command } from 'commander';
import type * as Demo from './demo-run';
import { EXIT } from './exit';
import { load } from './load';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'Start a Temporal dev server with its Web UI; rehearse the full-site backup example (with a busy answer that is retried) and the vCenter restore example (approved through the approve Update); stop them all.',
    )
    .option('--keep', 'leave the dev server and its Web UI running until Ctrl-C')
    .option(
      '--codec',
      'encrypt every payload with a throwaway key and start a codec server with it, the Web UI wired to it (the browser shows payloads decrypted)',
    )
    .addHelpText(
      'after',
      '\nEnvironment:\n  VMWARE_DR_DEMO_JOB_SECONDS  seconds each simulated job takes (default 3)\n  TEMPORAL_ADDRESS            use this running server instead of starting one\n',
    )
    .action(async (flags: { keep?: boolean; codec?: boolean }) => {
      const { backup, restore } = await load<typeof Demo>('./demo-run').runDemo({
        keep: flags.keep,
        codec: flags.codec,
      });
      const ok = backup.report.outcome === 'succeeded' && restore.report.outcome === 'succeeded';
      process.exitCode = ok ? EXIT.OK : EXIT.FAILED;
    });
}
