/**
 * Start (or attach to) a Temporal dev server with this project's search attributes registered (the
 * readiness wait and the registration are in server-setup.ts).
 *
 * - `binary`: spawns `temporal server start-dev` in its own process group and waits until it answers;
 *   its own output (warnings such as `Cluster Id … not a valid uuid` or `GetHistory page size`)
 *   goes to a log file, not to the terminal (see {@link devServerLogFile}).
 * - `address`: attaches to an already-running server and registers missing search attributes.
 * - `sdk-download`: lets @temporalio/testing download and run the CLI (needs internet).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, statSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type * as Testing from '@temporalio/testing';
import { SEARCH_ATTRIBUTES } from '../contract/visibility';
import { notFoundAfter, resolveTemporalServer, type TemporalServerSource } from './resolve-cli';
import {
  type DevServerSearchAttributeType,
  ensureSearchAttributes,
  errorMessage,
  waitUntilReady,
} from './server-setup';
import { settlesWithin } from '../core/settles-within';

export interface DevServerOptions {
  /** Default: `await resolveTemporalServer({ log })`. */
  source?: TemporalServerSource;
  /** Default '127.0.0.1'. */
  ip?: string;
  /** Default: a free port on `ip`. */
  port?: number;
  /** Default false (headless). When true, the UI listens on `uiPort` (default: a free port). */
  ui?: boolean;
  uiPort?: number;
  /** Default none. The UI's remote codec endpoint (`--ui-codec-endpoint`, e.g. `vmware-dr codec-server`); implies `ui`. */
  uiCodecEndpoint?: string;
  /** Default 'default'. */
  namespace?: string;
  /** Default: SEARCH_ATTRIBUTES from ../contract/visibility. */
  searchAttributes?: Record<string, DevServerSearchAttributeType>;
  /** Default 60 000 ms (the SDK's own ~5 s is too short on a loaded 2-core machine). */
  readyTimeoutMs?: number;
  log?: (line: string) => void;
  /**
   * Where the server's own output is appended (a started server only).
   * @default {@link devServerLogFile}: `VMWARE_DR_DEV_SERVER_LOG`, else `<os tmpdir>/vmware-dr-dev-server.log`
   */
  logFile?: string;
}

/** The variable that names the dev server's log file. */
export const DEV_SERVER_LOG_VARIABLE = 'VMWARE_DR_DEV_SERVER_LOG';
/** File name of the dev server's log in the OS temporary directory, unless the variable names another. */
export const DEV_SERVER_LOG_NAME = 'vmware-dr-dev-server.log';
/** A log file past this size is started afresh rather than appended to. */
const MAX_LOG_BYTES = 10 * 1024 * 1024;

/**
 * Where a started dev server's own output goes: `VMWARE_DR_DEV_SERVER_LOG`, else
 * `vmware-dr-dev-server.log` in the OS temporary directory (`/tmp` on Linux). Each start appends a
 * header line naming the server; the file starts afresh once it passes 10 MiB.
 */
export function devServerLogFile(env: NodeJS.ProcessEnv = process.env): string {
  return env[DEV_SERVER_LOG_VARIABLE]?.trim() || join(tmpdir(), DEV_SERVER_LOG_NAME);
}

export interface DevServer {
  /** host:port of the frontend gRPC service. */
  address: string;
  namespace: string;
  uiUrl?: string;
  /** The file the server's own output goes to (a started server only). */
  logFile?: string;
  /** Stop the server (no-op for an `address` source). Idempotent. */
  stop(): Promise<void>;
}

const OUTPUT_TAIL_LINES = 50;
const STOP_GRACE_MS = 10_000;
const MAX_PORT_RETRIES = 3;

const SDK_SEARCH_ATTRIBUTE_TYPE = {
  Keyword: 'KEYWORD',
  Text: 'TEXT',
  Int: 'INT',
  Double: 'DOUBLE',
  Bool: 'BOOL',
  Datetime: 'DATETIME',
  KeywordList: 'KEYWORD_LIST',
} as const satisfies Record<DevServerSearchAttributeType, string>;

/** A port that was free on `ip` a moment ago. */
export async function freePort(ip = '127.0.0.1'): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: ip, port: 0, exclusive: true }, () => {
      const addr = server.address();
      server.close(() => {
        if (addr && typeof addr === 'object') resolve(addr.port);
        else reject(new Error(`could not determine a free port on ${ip}`));
      });
    });
  });
}

export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const log = opts.log ?? (() => undefined);
  const source = opts.source ?? (await resolveTemporalServer({ log }));
  const ip = opts.ip ?? '127.0.0.1';
  const namespace = opts.namespace ?? 'default';
  const searchAttributes: Record<string, DevServerSearchAttributeType> = opts.searchAttributes ?? SEARCH_ATTRIBUTES;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000;
  const ui = opts.ui ?? (opts.uiPort !== undefined || opts.uiCodecEndpoint !== undefined);
  const uiArgs = opts.uiCodecEndpoint === undefined ? [] : ['--ui-codec-endpoint', opts.uiCodecEndpoint];

  switch (source.kind) {
    case 'address':
      return attachToServer(source.address, namespace, searchAttributes, readyTimeoutMs, log);
    case 'binary': {
      let lastError: unknown;
      for (let attempt = 1; attempt <= (opts.port === undefined ? MAX_PORT_RETRIES : 1); attempt++) {
        const port = opts.port ?? (await freePort(ip));
        const uiPort = ui ? (opts.uiPort ?? (await freePort(ip))) : undefined;
        try {
          return await spawnDevServer({
            bin: source.path,
            ip,
            port,
            uiPort,
            uiArgs,
            namespace,
            searchAttributes,
            readyTimeoutMs,
            log,
            logFile: opts.logFile ?? devServerLogFile(),
          });
        } catch (err) {
          lastError = err;
          // A free port picked by us may have been taken in between: retry with another one.
          const portTaken = err instanceof DevServerExitedError && /address already in use|bind/i.test(err.message);
          if (opts.port !== undefined || !portTaken) throw err;
          log(`port ${port} was taken, retrying with another port`);
        }
      }
      throw lastError;
    }
    case 'sdk-download':
      return startWithSdkDownload(source, {
        ip,
        port: opts.port,
        ui,
        uiPort: opts.uiPort,
        uiArgs,
        namespace,
        searchAttributes,
        log,
      });
  }
}

// ---------------------------------------------------------------------------------------------
// binary

class DevServerExitedError extends Error {
  override readonly name = 'DevServerExitedError';
}

function hostPort(ip: string, port: number): string {
  return net.isIPv6(ip) ? `[${ip}]:${port}` : `${ip}:${port}`;
}

async function spawnDevServer(args: {
  bin: string;
  ip: string;
  port: number;
  uiPort: number | undefined;
  uiArgs: string[];
  namespace: string;
  searchAttributes: Record<string, DevServerSearchAttributeType>;
  readyTimeoutMs: number;
  log: (line: string) => void;
  logFile: string;
}): Promise<DevServer> {
  const { bin, ip, port, uiPort, uiArgs, namespace, searchAttributes, readyTimeoutMs, log, logFile } = args;
  const address = hostPort(ip, port);
  const argv = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(port),
    ...(uiPort === undefined ? ['--headless'] : ['--ui-port', String(uiPort), ...uiArgs]),
    '--namespace',
    namespace,
    '--log-level',
    'warn',
    ...Object.entries(searchAttributes).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
  ];
  log(`starting ${bin} ${argv.join(' ')}`);
  const started = Date.now();

  const child = spawn(bin, argv, {
    detached: process.platform !== 'win32',
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
  });
  const pid = child.pid;

  const tail: string[] = [];
  const file = openServerLog(logFile, log);
  file.write(`--- ${new Date().toISOString()} ${bin} server start-dev at ${address} (pid ${pid}) ---\n`);
  log(`server output: ${logFile}`);
  let stopRequested = false; // the shutdown chatter (dial errors, poll failures) is not worth logging
  const collect = (stream: NodeJS.ReadableStream | null): void => {
    let rest = '';
    stream?.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString('utf8')).split(/\r?\n/);
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > OUTPUT_TAIL_LINES) tail.shift();
        // The file, never the terminal: the server's warnings are about itself, not the runs.
        if (!stopRequested) file.write(`${line}\n`);
      }
    });
  };
  collect(child.stdout);
  collect(child.stderr);

  let exitInfo: { code: number | null; signal: NodeJS.Signals | null; error?: Error } | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo ??= { code, signal };
      resolve();
    });
    child.once('error', (error) => {
      exitInfo ??= { code: null, signal: null, error };
      resolve();
    });
  });

  const killGroup = (signal: NodeJS.Signals): void => {
    if (pid === undefined) return;
    try {
      if (process.platform === 'win32') child.kill(signal);
      else process.kill(-pid, signal);
    } catch {
      // ESRCH: the whole group is gone already (or, defensively, was never created): signal the child itself.
      if (exitInfo === undefined) child.kill(signal);
    }
  };
  const onProcessExit = (): void => killGroup('SIGKILL');
  process.on('exit', onProcessExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      stopRequested = true;
      killGroup('SIGTERM');
      const timedOut = !(await settlesWithin(exited, STOP_GRACE_MS));
      if (timedOut)
        log(`dev server (pid ${pid}) did not stop within ${STOP_GRACE_MS / 1000}s of SIGTERM: sending SIGKILL`);
      // Always SIGKILL the group too: it reaps anything the server left behind (ESRCH if none).
      killGroup('SIGKILL');
      if (timedOut) await settlesWithin(exited, 5_000);
      process.off('exit', onProcessExit);
      await file.end();
    })());

  const describeExit = (): string => {
    const info = exitInfo;
    if (!info) return '';
    if (info.error) return `could not start ${bin}: ${info.error.message}`;
    return `${bin} server start-dev exited ${info.signal ? `by ${info.signal}` : `with code ${info.code}`} before becoming ready`;
  };
  const withTail = (msg: string): string =>
    tail.length > 0 ? `${msg}\n--- last ${tail.length} lines of server output ---\n${tail.join('\n')}` : msg;

  try {
    const connection = await waitUntilReady({
      address,
      namespace,
      deadline: started + readyTimeoutMs,
      exited,
      hasExited: () => exitInfo !== undefined,
    }).catch((err: unknown) => {
      if (exitInfo) throw new DevServerExitedError(withTail(describeExit()));
      throw new Error(
        withTail(
          `Temporal dev server at ${address} (pid ${pid}) was not ready within ${readyTimeoutMs} ms: ${errorMessage(err)}`,
        ),
      );
    });
    try {
      await ensureSearchAttributes(connection, namespace, searchAttributes, started + readyTimeoutMs, log);
    } finally {
      await connection.close();
    }
  } catch (err) {
    await stop();
    throw err;
  }
  log(`dev server ready at ${address} (pid ${pid}) after ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return {
    address,
    namespace,
    uiUrl: uiPort === undefined ? undefined : `http://${hostPort(ip, uiPort)}`,
    logFile,
    stop,
  };
}

/** A log file a server's output is appended to. */
interface ServerLog {
  write(text: string): void;
  end(): Promise<void>;
}

/**
 * The server's log file opened for appending (afresh past its size bound). When it cannot be
 * written, that is said once through `log` and the output is dropped.
 */
function openServerLog(logFile: string, log: (line: string) => void): ServerLog {
  let broken = false;
  const fail = (err: unknown): void => {
    if (!broken) log(`cannot write the server log ${logFile}: ${errorMessage(err)}; the server's output is dropped`);
    broken = true;
  };
  let stream: NodeJS.WritableStream | undefined;
  try {
    mkdirSync(dirname(logFile), { recursive: true });
    let size = 0;
    try {
      size = statSync(logFile).size;
    } catch {
      // No file yet.
    }
    stream = createWriteStream(logFile, { flags: size > MAX_LOG_BYTES ? 'w' : 'a' }).on('error', fail);
  } catch (err) {
    fail(err);
  }
  return {
    write: (text) => void (!broken && stream?.write(text)),
    end: () => new Promise<void>((resolve) => (stream && !broken ? stream.end(resolve) : resolve())),
  };
}

// ---------------------------------------------------------------------------------------------
// address

async function attachToServer(
  address: string,
  namespace: string,
  searchAttributes: Record<string, DevServerSearchAttributeType>,
  readyTimeoutMs: number,
  log: (line: string) => void,
): Promise<DevServer> {
  const deadline = Date.now() + readyTimeoutMs;
  log(`using the Temporal server at ${address} (namespace ${namespace})`);
  const connection = await waitUntilReady({ address, namespace, deadline }).catch((err: unknown) => {
    throw new Error(
      `Temporal server at ${address} (TEMPORAL_ADDRESS) did not answer within ${readyTimeoutMs} ms: ${errorMessage(err)}`,
    );
  });
  try {
    await ensureSearchAttributes(connection, namespace, searchAttributes, deadline, log);
  } finally {
    await connection.close();
  }
  return { address, namespace, stop: async () => undefined };
}

// ---------------------------------------------------------------------------------------------
// sdk-download

async function startWithSdkDownload(
  source: TemporalServerSource,
  o: {
    ip: string;
    port: number | undefined;
    ui: boolean;
    uiPort: number | undefined;
    uiArgs: string[];
    namespace: string;
    searchAttributes: Record<string, DevServerSearchAttributeType>;
    log: (line: string) => void;
  },
): Promise<DevServer> {
  // An optional peer dependency (a devDependency here): installed packages may not have it.
  let testing: typeof Testing;
  try {
    testing = await import('@temporalio/testing');
  } catch (err) {
    throw notFoundAfter(source, {
      step: 'sdk-download',
      outcome: `@temporalio/testing is not installed (npm install @temporalio/testing@1.24.0 to let the SDK download the CLI): ${errorMessage(err)}`,
    });
  }
  const { TestWorkflowEnvironment } = testing;
  const { defineSearchAttributeKey } = await import('@temporalio/common');
  const port = o.port ?? (await freePort(o.ip));
  const uiPort = o.ui ? (o.uiPort ?? (await freePort(o.ip))) : undefined;
  o.log(`letting @temporalio/testing download and start the Temporal CLI on ${hostPort(o.ip, port)}`);
  let env: Awaited<ReturnType<typeof TestWorkflowEnvironment.createLocal>>;
  try {
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        ip: o.ip,
        port,
        namespace: o.namespace,
        ui: o.ui,
        ...(uiPort === undefined ? {} : { uiPort, extraArgs: o.uiArgs }),
        log: { format: 'pretty', level: 'warn' },
        searchAttributes: Object.entries(o.searchAttributes).map(([name, type]) =>
          defineSearchAttributeKey(name, SDK_SEARCH_ATTRIBUTE_TYPE[type]),
        ),
      },
    });
  } catch (err) {
    throw notFoundAfter(source, {
      step: 'sdk-download',
      outcome: `TestWorkflowEnvironment.createLocal() failed: ${errorMessage(err)}`,
    });
  }
  let stopping: Promise<void> | undefined;
  return {
    address: env.address,
    namespace: o.namespace,
    uiUrl: uiPort === undefined ? undefined : `http://${hostPort(o.ip, uiPort)}`,
    stop: () => (stopping ??= env.teardown()),
  };
}
