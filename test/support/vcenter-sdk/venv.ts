/**
 * A Python venv with VMware's vSphere Automation SDK (pinned), for `test/vcenter-sdk.test.ts`:
 * `vmware-dr-vcenter-sdk/venv` in the OS temp dir (not in the project, where eslint and prettier
 * would walk its site-packages), made once and kept while its marker file names the same packages. Uses the project's installer runner
 * (`src/temporal/install.ts`). Never skips: a failure (no python3, PyPI out of reach) throws with
 * pip's last lines.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXE, VENV_BIN, run } from '../../../src/temporal/install';

/** The SDK as the test pins it. */
export const SDK_PACKAGES = [
  'vmware-vcenter==9.1.1.0',
  'vmware-vapi-runtime==9.1.1.0',
  'vmware-vapi-common-client==9.1.1.0',
];

const DIR = path.join(os.tmpdir(), 'vmware-dr-vcenter-sdk');
const VENV = path.join(DIR, 'venv');
const MARKER = path.join(DIR, 'installed.txt');

/** The venv's python (installing the SDK first when the venv is missing or pinned otherwise) and how long that took. */
export async function sdkPython(log: (line: string) => void = () => {}): Promise<{ python: string; setupMs: number }> {
  const python = path.join(VENV, VENV_BIN, `python${EXE}`);
  const want = SDK_PACKAGES.join('\n');
  const started = Date.now();
  if (fs.existsSync(python) && fs.existsSync(MARKER) && fs.readFileSync(MARKER, 'utf8') === want)
    return { python, setupMs: Date.now() - started };
  fs.rmSync(MARKER, { force: true });
  fs.mkdirSync(DIR, { recursive: true });
  const opts = { env: process.env, log, prefix: '[vcenter-sdk] ', timeoutMs: 600_000 };
  const venv = await run('python3', ['-m', 'venv', '--clear', VENV], opts);
  if (!venv.ok) throw new Error(`cannot create the SDK venv: ${venv.detail}`);
  const pip = await run(
    python,
    ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--progress-bar', 'off', ...SDK_PACKAGES],
    opts,
  );
  if (!pip.ok)
    throw new Error(`cannot pip-install VMware's vSphere Automation SDK (is PyPI reachable?): ${pip.detail}`);
  fs.writeFileSync(MARKER, want);
  return { python, setupMs: Date.now() - started };
}
