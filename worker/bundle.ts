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
import { ENCODED_FAILURE_CONVERTER_PATH } from '../src/codec/data-converter';
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

/**
 * The bundle a worker with payload encryption loads: the same workflows, built with the
 * `encodeCommonAttributes` failure converter, so the failures workflow code raises itself (invalid
 * input, approval timeouts, a step's checks) have their messages and stack traces encrypted too.
 * A prebuilt bundle keeps the failure converter it was built with (the SDK reads
 * `failureConverterPath` only when it bundles `workflowsPath` itself), hence a second bundle.
 */
export const ENCODED_FAILURES_BUNDLE_PATH = encodedFailuresBundlePath(DEFAULT_WORKFLOW_BUNDLE_PATH);

/** `x/workflow-bundle.js` → `x/workflow-bundle-encoded-failures.js`. */
export function encodedFailuresBundlePath(plain: string): string {
  return `${plain.replace(/\.js$/, '')}-encoded-failures.js`;
}

export interface BuildWorkflowBundleOptions {
  /** Build with the encrypting setup's failure converter ({@link ENCODED_FAILURES_BUNDLE_PATH}). */
  encodeFailures?: boolean;
}

/** Bundles the workflows (`workflowsPath`) into `outFile`; returns its size in bytes. */
export async function buildWorkflowBundle(
  outFile: string = DEFAULT_WORKFLOW_BUNDLE_PATH,
  opts: BuildWorkflowBundleOptions = {},
): Promise<number> {
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    // WARN: webpack's per-module listing stays out of the build output.
    logger: new DefaultLogger('WARN'),
    ...(opts.encodeFailures && { failureConverterPath: ENCODED_FAILURE_CONVERTER_PATH }),
  });
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, code);
  return code.length;
}

/** How the worker gets its workflows, and a sentence for the log saying which and why. */
export type WorkflowSource =
  | { kind: 'bundle'; codePath: string; reason: string }
  | { kind: 'workflowsPath'; workflowsPath: string; reason: string };

/**
 * An explicit bundle must exist (the operator chose it, failure converter included). Otherwise:
 * compiled (production), the build's bundle must exist (no bundling at start-up), the one built
 * with the encrypting failure converter when payload encryption is on; from source
 * (development), bundle at start from `workflowsPath` (the SDK bundles the data converter's
 * failure converter then), never a possibly stale `dist/` bundle.
 */
export function chooseWorkflowSource(explicit?: string, opts: BuildWorkflowBundleOptions = {}): WorkflowSource {
  if (explicit !== undefined) {
    if (!existsSync(explicit))
      throw new Error(
        `VMWARE_DR_WORKFLOW_BUNDLE: no such file ${JSON.stringify(explicit)}; run npm run build (it writes dist/workflow-bundle.js) or unset the variable`,
      );
    return { kind: 'bundle', codePath: explicit, reason: 'VMWARE_DR_WORKFLOW_BUNDLE' };
  }
  if (RUNNING_COMPILED) {
    const codePath = opts.encodeFailures ? ENCODED_FAILURES_BUNDLE_PATH : DEFAULT_WORKFLOW_BUNDLE_PATH;
    if (!existsSync(codePath))
      throw new Error(
        `the workflow bundle ${codePath} is missing: run npm run build (it writes it), or set VMWARE_DR_WORKFLOW_BUNDLE to a bundle`,
      );
    return {
      kind: 'bundle',
      codePath,
      reason: opts.encodeFailures
        ? 'built by npm run build, with the encrypting failure converter (payload encryption is on)'
        : 'built by npm run build',
    };
  }
  return {
    kind: 'workflowsPath',
    workflowsPath,
    reason: 'running from source (development): bundling the workflows at start',
  };
}

if (require.main === module) {
  // `node dist/worker/bundle.js [out.js]`: the plain bundle and its encoded-failures twin.
  const started = Date.now();
  const out = process.argv[2] ?? DEFAULT_WORKFLOW_BUNDLE_PATH;
  const builds = [
    { file: out, encodeFailures: false },
    { file: encodedFailuresBundlePath(out), encodeFailures: true },
  ];
  (async () => {
    for (const b of builds) {
      const size = await buildWorkflowBundle(b.file, { encodeFailures: b.encodeFailures });
      console.log(
        `workflow bundle: ${b.file} (${(size / 1024).toFixed(0)} KiB, ${((Date.now() - started) / 1000).toFixed(1)} s)`,
      );
    }
  })().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
