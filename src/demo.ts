/**
 * `npm run demo`: a Temporal dev server with its Web UI, then two rehearsals on it: the full-site
 * backup example (SDDC Manager → 2 vCenters → VCDA) with one injected "busy" answer that is
 * retried, and the vCenter restore example, which waits for an approval that the demo grants
 * through the `approve` Update, as a person would. Everything is started here and stopped before
 * exit (with `keep`, the server and its UI stay until Ctrl-C).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import { workflowsPath } from '../worker';
import { watchRunbook } from './cli/watch';
import { type RehearsalResult, installQuietSdkLogger, readFaultsFile, rehearse } from './rehearsal';
import { renderReportMarkdown } from './runbook/report';
import { startDevServer } from './temporal/dev-server';

/** Seconds each simulated job takes in the demo unless told otherwise. */
export const DEFAULT_DEMO_JOB_SECONDS = 3;

export interface DemoOptions {
  /** Seconds each simulated job takes. @default `VMWARE_DR_DEMO_JOB_SECONDS`, else 3 */
  jobSeconds?: number;
  /** Leave the dev server and its UI running until SIGINT/SIGTERM. @default false */
  keep?: boolean;
  /** Where the demo's story goes. @default console.log */
  log?: (line: string) => void;
  /** Redraw progress in place. @default whether stdout is a terminal */
  live?: boolean;
}

export interface DemoResult {
  backup: RehearsalResult;
  restore: RehearsalResult;
}

/** The package's `examples/` folder (from `src/` and from `dist/src/`). */
export function examplesDir(): string {
  return join(dirname(require.resolve('vmware-dr-temporal/package.json')), 'examples');
}

export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const jobSeconds = opts.jobSeconds ?? (Number(process.env.VMWARE_DR_DEMO_JOB_SECONDS) || DEFAULT_DEMO_JOB_SECONDS);
  const live = opts.live ?? process.stdout.isTTY === true;
  installQuietSdkLogger();
  const examples = examplesDir();

  log('Starting a Temporal dev server…');
  const server = await startDevServer({ ui: true, log: (l) => log(`  ${l}`) });
  try {
    log(`Temporal: ${server.address}${server.uiUrl ? `, Web UI ${server.uiUrl}` : ''}`);
    log(
      'Each rehearsal worker enforces a credential policy generated for its simulated site (as `vmware-dr policy init` writes one).',
    );
    log('Bundling the workflows once for both rehearsals…');
    const { code } = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
    const common = {
      temporal: { address: server.address, namespace: server.namespace },
      jobSeconds,
      workflowBundle: { code },
      busyRetryDelayMs: 2000,
      log: (line: string) => log(`  ${line}`),
      watch: (handle: Parameters<typeof watchRunbook>[0]) =>
        watchRunbook(handle, { write: (text) => log(text.replace(/\n$/, '')), live }),
    };
    const link = (id: string) =>
      server.uiUrl ? ` (${server.uiUrl}/namespaces/${server.namespace}/workflows/${encodeURIComponent(id)})` : '';

    const siteFile = join(examples, 'site-a-nightly.yaml');
    log('');
    log(
      `1. Rehearsal of ${relative(process.cwd(), siteFile)}: 1 SDDC Manager, 2 vCenters, 1 VCDA, each simulated under its endpoint name.`,
    );
    log('   Injected fault (examples/faults-busy.json): vc-mgmt answers its first backup request "busy".');
    const backup = await rehearse(readFileSync(siteFile, 'utf8'), {
      ...common,
      faults: await readFaultsFile(join(examples, 'faults-busy.json')),
      onStart: (s) => log(`   Started ${s.workflowId}${link(s.workflowId)}`),
    });
    log('');
    log(renderReportMarkdown(backup.report));
    log(`Simulated appliances: ${backup.rehearsal.appliances.map((a) => `${a.endpoint} ${a.url}`).join(', ')}`);
    log(
      `Simulator saw ${backup.rehearsal.remoteJobs.length} remote job(s): ${backup.rehearsal.remoteJobs.map((j) => `${j.appliance} ${j.kind}`).join(', ')}.`,
    );
    const retried = backup.report.steps.filter((s) => (s.attempts ?? 1) > 1);
    for (const s of retried) log(`Step ${s.id} (${s.endpoint}) started its job on attempt ${s.attempts}.`);

    const restoreFile = join(examples, 'restore-vc-mgmt.yaml');
    log('');
    log(
      `2. Rehearsal of ${relative(process.cwd(), restoreFile)}: a freshly deployed vCenter waiting for its restore, a backup on sftp-a.`,
    );
    log('   The restore waits for approval; the demo grants it with the `approve` Update, as a person would.');
    const restore = await rehearse(readFileSync(restoreFile, 'utf8'), {
      ...common,
      approveAs: 'demo-operator',
      onStart: (s) => {
        log(`   Started ${s.workflowId}${link(s.workflowId)}`);
        log(`   (by hand: ${s.approveCommand('1.1', 'alice')})`);
      },
    });
    log('');
    log(renderReportMarkdown(restore.report));
    log(
      `Simulated appliances: ${restore.rehearsal.appliances.map((a) => `${a.endpoint} ${a.url} (${a.state})`).join(', ')}`,
    );

    if (opts.keep) {
      log(`The dev server keeps running${server.uiUrl ? `: Web UI ${server.uiUrl}` : ''}. Press Ctrl-C to stop it.`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    }
    return { backup, restore };
  } finally {
    await server.stop().catch(() => undefined);
  }
}
