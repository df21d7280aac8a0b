/**
 * `npm run demo`: a Temporal dev server with its Web UI, then two rehearsals on it: the full-site
 * backup example (SDDC Manager → 2 vCenters → VCDA) with one injected "busy" answer that is
 * retried, and the vCenter restore example, which waits for an approval that the demo grants
 * through the `approve` Update, as a person would. Everything is started here and stopped before
 * exit (with `keep`, the server and its UI stay until Ctrl-C).
 *
 * With `codec`, the rehearsals encrypt every payload with a throwaway key, and a codec server with
 * that key runs beside the UI, which is wired to it (`--ui-codec-endpoint`): the history holds only
 * ciphertext, the browser shows summaries, inputs and results decrypted.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import { workflowsPath } from '../../worker/index';
import { watchRunbook } from './watch';
import { AesGcmCodec } from '../codec/aes-gcm-codec';
import { CODEC_KEYS_VARIABLE, CODEC_KEY_FILE_VARIABLE, CodecKeyring } from '../codec/keys';
import { DEFAULT_CODEC_CORS_ORIGINS, startCodecServer } from '../codec/server';
import { type RehearsalResult, installQuietSdkLogger, readFaultsFile, rehearse } from '../rehearsal/index';
import { renderReportMarkdown } from '../contract/runbook/report';
import { freePort, startDevServer } from '../temporal/dev-server';
import { resolveTemporalServer } from '../temporal/resolve-cli';

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
  /**
   * Encrypt every payload with a throwaway key and run a codec server with it, the dev server's UI
   * wired to it. @default false
   */
  codec?: boolean;
  /**
   * Called once both rehearsals ended, while the servers still run; they stop when it settles.
   * @default with `keep`, wait for SIGINT/SIGTERM; else nothing
   */
  hold?: (demo: DemoRunning) => Promise<void>;
}

/** The codec of a demo in codec mode. */
export interface DemoCodec {
  /** The codec server (`POST /decode`, `/encode`), which the UI calls from the browser. */
  url: string;
  /** The throwaway key's id (`encryption-key-id` of every payload). */
  encryptKeyId: string;
  /** The key in the `VMWARE_DR_CODEC_KEY_FILE` format, for `vmware-dr` commands; deleted at exit. */
  keyFile: string;
  /** Origins the codec server answers (the UI's). */
  corsOrigins: string[];
}

export interface DemoResult {
  backup: RehearsalResult;
  restore: RehearsalResult;
  /** In codec mode (the server and the key file are gone once `runDemo` returns). */
  codec?: DemoCodec;
}

/** What runs while {@link DemoOptions.hold} holds the demo open. */
export interface DemoRunning extends DemoResult {
  temporal: { address: string; namespace: string; uiUrl?: string };
}

/** The UI origins of `temporal server start-dev` on its default ports: a server of TEMPORAL_ADDRESS may have one. */
const DEV_SERVER_UI_ORIGINS = ['http://localhost:8233', 'http://127.0.0.1:8233'];

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

  const stops: (() => Promise<void>)[] = [];
  try {
    log('Starting a Temporal dev server…');
    const serverLog = (l: string) => log(`  ${l}`);
    const source = await resolveTemporalServer({ log: serverLog });
    let codec: DemoCodec | undefined;
    let rehearsalEnv: NodeJS.ProcessEnv | undefined;
    let uiPort: number | undefined;
    if (opts.codec) {
      // The UI's port first: the codec server must let the UI's origin call it, the UI must know its URL.
      if (source.kind !== 'address') uiPort = await freePort();
      const started = await startDemoCodec(
        uiPort === undefined
          ? [...DEFAULT_CODEC_CORS_ORIGINS, ...DEV_SERVER_UI_ORIGINS]
          : [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`],
      );
      stops.unshift(started.stop);
      codec = started.codec;
      // The rehearsals read the key from the file (and never a key the caller's environment has).
      rehearsalEnv = { ...process.env, [CODEC_KEY_FILE_VARIABLE]: codec.keyFile };
      delete rehearsalEnv[CODEC_KEYS_VARIABLE];
    }
    const server = await startDevServer({
      source,
      ui: true,
      ...(uiPort !== undefined && { uiPort }),
      ...(codec && { uiCodecEndpoint: codec.url }),
      log: serverLog,
    });
    stops.unshift(() => server.stop());
    log(`Temporal: ${server.address}${server.uiUrl ? `, Web UI ${server.uiUrl}` : ''}`);
    if (codec) {
      log(
        `Payload encryption: every payload the rehearsals write is AES-256-GCM encrypted with the throwaway key ${codec.encryptKeyId} (${codec.keyFile}, deleted at exit).`,
      );
      log(
        server.uiUrl
          ? `Codec server: ${codec.url}; the Web UI decodes through it (--ui-codec-endpoint), so summaries, inputs and results read in the browser.`
          : `Codec server: ${codec.url}; point the Web UI of ${server.address} at it (its codec server setting, or TEMPORAL_CODEC_ENDPOINT of temporalio/ui; origins ${codec.corsOrigins.join(', ')}).`,
      );
    }
    log(
      'Each rehearsal worker enforces a credential policy generated for its simulated site (as `vmware-dr policy init` writes one).',
    );
    log('Bundling the workflows once for both rehearsals…');
    const { code } = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
    const common = {
      temporal: { address: server.address, namespace: server.namespace },
      ...(rehearsalEnv && { env: rehearsalEnv }),
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
        const keys = codec ? `${CODEC_KEY_FILE_VARIABLE}=${codec.keyFile} ` : '';
        log(`   (by hand: ${keys}${s.approveCommand('1.1', 'alice')})`);
      },
    });
    log('');
    log(renderReportMarkdown(restore.report));
    log(
      `Simulated appliances: ${restore.rehearsal.appliances.map((a) => `${a.endpoint} ${a.url} (${a.state})`).join(', ')}`,
    );

    const result: DemoResult = { backup, restore, ...(codec && { codec }) };
    const temporal = {
      address: server.address,
      namespace: server.namespace,
      ...(server.uiUrl && { uiUrl: server.uiUrl }),
    };
    if (opts.hold) await opts.hold({ ...result, temporal });
    else if (opts.keep) {
      log(
        `The dev server keeps running${server.uiUrl ? `: Web UI ${server.uiUrl}` : ''}${codec ? `, codec server ${codec.url}` : ''}. Press Ctrl-C to stop it.`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    }
    return result;
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

/** A throwaway key (in a key file of its own) and the codec server that decrypts with it. */
async function startDemoCodec(corsOrigins: string[]): Promise<{ codec: DemoCodec; stop: () => Promise<void> }> {
  const encryptKeyId = `demo-${Date.now().toString(36)}`;
  const key = randomBytes(32);
  const dir = await mkdtemp(join(tmpdir(), 'vmware-dr-demo-codec-'));
  const removeDir = () => rm(dir, { recursive: true, force: true });
  try {
    const keyFile = join(dir, 'codec-keys');
    await writeFile(keyFile, `# throwaway key of vmware-dr demo --codec\n${encryptKeyId}:${key.toString('base64')}\n`, {
      mode: 0o600,
    });
    const server = await startCodecServer({
      codec: new AesGcmCodec(new CodecKeyring([[encryptKeyId, key]], 'the demo key')),
      port: 0,
      corsOrigins,
    });
    return {
      codec: { url: server.url, encryptKeyId, keyFile, corsOrigins },
      stop: async () => {
        await server.close();
        await removeDir();
      },
    };
  } catch (err) {
    await removeDir();
    throw err;
  }
}
