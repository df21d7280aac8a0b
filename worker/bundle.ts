/**
 * The workflow bundle, built once at `npm run build` (`node dist/worker/bundle.js`) so a
 * production worker loads it with `workflowBundle: { codePath }` instead of running webpack at
 * every start (Temporal's "production" sample and
 * https://docs.temporal.io/develop/typescript/core-application#bundle-workflow-code).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import { workflowsPath } from './index';

/** Whether this module runs compiled (from `dist/`) rather than from the TypeScript source. */
export const RUNNING_COMPILED = __filename.endsWith('.js');

/**
 * Where `npm run build` writes the bundle: `dist/workflow-bundle.js` of this package. From the
 * source tree (tsx) it is the same file under the checkout's `dist/`.
 */
export const DEFAULT_WORKFLOW_BUNDLE_PATH = RUNNING_COMPILED
  ? join(__dirname, '..', 'workflow-bundle.js')
  : join(__dirname, '..', 'dist', 'workflow-bundle.js');

/** Bundles the workflows (`workflowsPath`) into `outFile`; returns its size in bytes. */
export async function buildWorkflowBundle(outFile: string = DEFAULT_WORKFLOW_BUNDLE_PATH): Promise<number> {
  // WARN: webpack's per-module listing stays out of the build output.
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, code);
  return code.length;
}

/** How the worker gets its workflows, and a sentence for the log saying which and why. */
export type WorkflowSource =
  | { kind: 'bundle'; codePath: string; reason: string }
  | { kind: 'workflowsPath'; workflowsPath: string; reason: string };

/**
 * An explicit bundle must exist. Otherwise: compiled (production), the build's bundle must exist
 * (no bundling at start-up); from source (development), bundle at start from `workflowsPath`,
 * never a possibly stale `dist/` bundle.
 */
export function chooseWorkflowSource(explicit?: string): WorkflowSource {
  if (explicit !== undefined) {
    if (!existsSync(explicit))
      throw new Error(
        `VMWARE_DR_WORKFLOW_BUNDLE: no such file ${JSON.stringify(explicit)}; run npm run build (it writes dist/workflow-bundle.js) or unset the variable`,
      );
    return { kind: 'bundle', codePath: explicit, reason: 'VMWARE_DR_WORKFLOW_BUNDLE' };
  }
  if (RUNNING_COMPILED) {
    if (!existsSync(DEFAULT_WORKFLOW_BUNDLE_PATH))
      throw new Error(
        `the workflow bundle ${DEFAULT_WORKFLOW_BUNDLE_PATH} is missing: run npm run build (it writes it), or set VMWARE_DR_WORKFLOW_BUNDLE to a bundle`,
      );
    return { kind: 'bundle', codePath: DEFAULT_WORKFLOW_BUNDLE_PATH, reason: 'built by npm run build' };
  }
  return {
    kind: 'workflowsPath',
    workflowsPath,
    reason: 'running from source (development): bundling the workflows at start',
  };
}

if (require.main === module) {
  const started = Date.now();
  const out = process.argv[2] ?? DEFAULT_WORKFLOW_BUNDLE_PATH;
  buildWorkflowBundle(out).then(
    (size) =>
      console.log(
        `workflow bundle: ${out} (${(size / 1024).toFixed(0)} KiB, ${((Date.now() - started) / 1000).toFixed(1)} s)`,
      ),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
