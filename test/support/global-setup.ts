/**
 * vitest globalSetup: one Temporal dev server and one workflow bundle per test run.
 *
 * Provides (see ./provided.d.ts):
 *   - temporalAddress / temporalNamespace: the dev server (found or installed by src/temporal/resolve-cli.ts,
 *     or TEMPORAL_ADDRESS when set)
 *   - workflowBundlePath: `bundleWorkflowCode()` output for ../../workflows, for `workflowBundle: { codePath }`
 *   - temporalUiUrl: the dev server's Web UI (the browser test opens it), or TEMPORAL_UI_URL with TEMPORAL_ADDRESS;
 *     undefined when neither gives one
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TestProject } from 'vitest/node' with { 'resolution-mode': 'import' };
import { bundleWorkflowCode, DefaultLogger, type LogEntry } from '@temporalio/worker';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';

function log(line: string): void {
  process.stderr.write(`[temporal] ${line}\n`);
}

function workflowsPath(): string {
  try {
    return require.resolve('../../workflows');
  } catch {
    // Outside a TS-aware require (plain `require` does not resolve .ts files): the directory works too.
    return path.resolve(__dirname, '../../workflows');
  }
}

async function bundleWorkflows(): Promise<{ dir: string; codePath: string }> {
  const started = Date.now();
  const workflows = workflowsPath();
  const { code } = await bundleWorkflowCode({
    workflowsPath: workflows,
    logger: new DefaultLogger('WARN', (entry: LogEntry) => log(`[bundle] ${entry.level} ${entry.message}`)),
  });
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'vmware-dr-workflows-'));
  const codePath = path.join(dir, 'workflow-bundle.js');
  await fs.promises.writeFile(codePath, code);
  log(
    `workflow bundle of ${workflows} (${(code.length / 1024).toFixed(0)} KiB) written to ${codePath} in ${((Date.now() - started) / 1000).toFixed(1)}s`,
  );
  return { dir, codePath };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  log('starting a Temporal dev server and bundling workflows');
  const [server, bundle] = await Promise.allSettled([startDevServer({ log, ui: true }), bundleWorkflows()]);

  const teardown = async (): Promise<void> => {
    if (server.status === 'fulfilled') {
      log(`stopping the dev server at ${server.value.address}`);
      await server.value.stop();
    }
    if (bundle.status === 'fulfilled') await fs.promises.rm(bundle.value.dir, { recursive: true, force: true });
  };

  if (server.status === 'rejected' || bundle.status === 'rejected') {
    await teardown();
    throw server.status === 'rejected' ? server.reason : (bundle as PromiseRejectedResult).reason;
  }

  const dev: DevServer = server.value;
  project.provide('temporalAddress', dev.address);
  project.provide('temporalNamespace', dev.namespace);
  project.provide('workflowBundlePath', bundle.value.codePath);
  // A server of TEMPORAL_ADDRESS has its UI wherever it runs: TEMPORAL_UI_URL names it.
  const uiUrl = dev.uiUrl ?? (process.env.TEMPORAL_UI_URL?.trim().replace(/\/+$/, '') || undefined);
  project.provide('temporalUiUrl', uiUrl);
  log(
    `ready in ${((Date.now() - started) / 1000).toFixed(1)}s: ${dev.address} (namespace ${dev.namespace})${uiUrl ? `, Web UI ${uiUrl}` : ''}`,
  );
  return teardown;
}
