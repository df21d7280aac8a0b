/**
 * The session core (src/core/http-session.ts) on its own, with scripted logins, and each product
 * client against its simulator: one shared login that no single caller's abort can fail, one
 * re-login for many concurrent 401s, and a renewal made by another call picked up, not repeated.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthenticationFailed, NetworkError, NotFound, RequestTimeout, ServiceUnavailable } from '../src/core/errors';
import { isAbortError } from '../src/core/classify';
import { HttpTransport } from '../src/core/http';
import { SessionCore, type SessionCoreOptions, waitUnlessAborted } from '../src/core/http-session';
import { SddcManagerClient } from '../src/sddc-manager/client';
import { createSddcManagerAppliance, type SddcManagerAppliance } from '../src/simulator/sddc-manager/appliance';
import { Secret } from '../src/core/secrets';
import { type Simulator, startSimulator } from '../src/simulator/server';
import { VcdaClient } from '../src/vcda/client';
import { type VcdaAppliance, createVcdaAppliance } from '../src/simulator/vcda';
import { VcenterClient } from '../src/vcenter/client';
import type { VcenterAppliance } from '../src/simulator/vcenter/appliance';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `p` and returns what it threw (fails the test if it did not throw). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

const unauthorized = () =>
  new AuthenticationFailed('appliance answered HTTP 401', { product: 'vcenter', operation: 'op', httpStatus: 401 });
const context = { product: 'vcenter', operation: 'sessionCreate', appliance: 'test' } as const;

/**
 * A scripted appliance: logins answer `token-<n>` after `loginMs`, calls answer 401 for a token
 * it no longer accepts. Records every login's signal.
 */
function scripted(opts: { loginMs?: number; renew?: boolean } = {}) {
  const state = {
    logins: 0,
    renewals: 0,
    accepted: new Set<string>(),
    loginSignals: [] as AbortSignal[],
    /** Makes every current token invalid (idle timeout, restart). */
    expireAll() {
      state.accepted.clear();
    },
    /** One call with `token`: 401 unless accepted. */
    async call(token: string, value = 'ok'): Promise<string> {
      await sleep(5);
      if (!state.accepted.has(token)) throw unauthorized();
      return `${value}:${token}`;
    },
  };
  const coreOpts: SessionCoreOptions<string> = {
    context,
    login: async (signal) => {
      state.logins += 1;
      state.loginSignals.push(signal);
      await sleep(opts.loginMs ?? 20);
      signal.throwIfAborted();
      const token = `token-${state.logins + state.renewals}`;
      state.accepted.add(token);
      return token;
    },
    ...(opts.renew && {
      renew: async (current: string, signal: AbortSignal) => {
        state.renewals += 1;
        await sleep(5);
        signal.throwIfAborted();
        const token = `${current}-r${state.renewals}`;
        state.accepted.add(token);
        return token;
      },
    }),
  };
  return { state, coreOpts };
}

describe('SessionCore', () => {
  it('concurrent calls share one login; a caller cancelled while it runs leaves alone, the others succeed', async () => {
    const { state, coreOpts } = scripted({ loginMs: 100 });
    const core = new SessionCore(coreOpts);
    const cancelled = new AbortController();
    const calls = [
      core.run((t) => state.call(t, 'first'), cancelled.signal), // the first caller starts the login
      ...Array.from({ length: 4 }, (_, i) => core.run((t) => state.call(t, `c${i}`), new AbortController().signal)),
      core.run((t) => state.call(t, 'no-signal')),
    ];
    await sleep(20);
    cancelled.abort();
    const results = await Promise.allSettled(calls);
    expect(results[0]!.status).toBe('rejected');
    expect(isAbortError((results[0] as PromiseRejectedResult).reason)).toBe(true);
    expect(results.slice(1).map((r) => r.status)).toEqual(Array(5).fill('fulfilled'));
    expect(results.slice(1).map((r) => (r as PromiseFulfilledResult<string>).value)).toEqual([
      'c0:token-1',
      'c1:token-1',
      'c2:token-1',
      'c3:token-1',
      'no-signal:token-1',
    ]);
    expect(state.logins).toBe(1);
    expect(state.loginSignals[0]!.aborted).toBe(false);
    expect(core.current).toEqual({ value: 'token-1', generation: 1 });
  });

  it('a caller already cancelled does not start a login; the next caller does', async () => {
    const { state, coreOpts } = scripted();
    const core = new SessionCore(coreOpts);
    const err = await rejection(core.run((t) => state.call(t), AbortSignal.abort()));
    expect(isAbortError(err)).toBe(true);
    expect(state.logins).toBe(0);
    await expect(core.run((t) => state.call(t))).resolves.toBe('ok:token-1');
  });

  it('N concurrent calls all answered 401 make exactly one new login, and all repeat once and succeed', async () => {
    const { state, coreOpts } = scripted();
    const core = new SessionCore(coreOpts);
    await core.login();
    state.expireAll();
    let attempts = 0;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        core.run((t) => {
          attempts += 1;
          return state.call(t, `c${i}`);
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 8 }, (_, i) => `c${i}:token-2`));
    expect(state.logins).toBe(2);
    expect(attempts).toBe(16);
    expect(core.current?.generation).toBe(2);
  });

  it('a 401 after another call already renewed picks up the new session without logging in', async () => {
    const { state, coreOpts } = scripted();
    const core = new SessionCore(coreOpts);
    await core.login();
    // Call A sends with token-1 and is slow to hear back; meanwhile token-1 expires and call B renews.
    const a = core.run(async (t) => {
      await sleep(60);
      return state.call(t, 'a');
    });
    await sleep(10);
    state.expireAll();
    await expect(core.run((t) => state.call(t, 'b'))).resolves.toBe('b:token-2');
    expect(state.logins).toBe(2);
    // A's 401 (token-1) sees generation 2 already there: it repeats with token-2, no third login.
    await expect(a).resolves.toBe('a:token-2');
    expect(state.logins).toBe(2);
  });

  it('a second 401 in a row leaves as AuthenticationFailed (one re-login only)', async () => {
    const { state, coreOpts } = scripted();
    const core = new SessionCore(coreOpts);
    let attempts = 0;
    const err = await rejection(
      core.run(async () => {
        attempts += 1;
        throw unauthorized();
      }),
    );
    expect(err).toBeInstanceOf(AuthenticationFailed);
    expect(attempts).toBe(2);
    expect(state.logins).toBe(2);
  });

  it('the pluggable renew step: used for a stale session and after a 401, with the current session; login only at first', async () => {
    const { state, coreOpts } = scripted({ renew: true });
    let stale = false;
    const core = new SessionCore({ ...coreOpts, isStale: () => stale });
    await expect(core.run((t) => state.call(t))).resolves.toBe('ok:token-1');
    stale = true;
    await expect(Promise.all([core.run((t) => state.call(t)), core.run((t) => state.call(t))])).resolves.toEqual([
      'ok:token-1-r1',
      'ok:token-1-r1',
    ]);
    stale = false;
    expect(state).toMatchObject({ logins: 1, renewals: 1 });
    state.expireAll();
    await expect(Promise.all([core.run((t) => state.call(t)), core.run((t) => state.call(t))])).resolves.toEqual([
      'ok:token-1-r1-r2',
      'ok:token-1-r1-r2',
    ]);
    expect(state).toMatchObject({ logins: 1, renewals: 2 });
    expect(core.current?.generation).toBe(3);
  });

  it('a renew step may fall back to a login (SDDC Manager: refresh, else log in)', async () => {
    let refreshes = 0;
    let logins = 0;
    const core = new SessionCore<string>({
      context,
      login: async () => `login-${++logins}`,
      renew: async (current) => {
        refreshes += 1;
        if (current.startsWith('login-')) return `login-${++logins}`; // the refresh token is gone
        return current;
      },
    });
    const seen: string[] = [];
    await core.run(async (t) => {
      seen.push(t);
      if (seen.length === 1) throw unauthorized();
    });
    expect(seen).toEqual(['login-1', 'login-2']);
    expect({ refreshes, logins }).toEqual({ refreshes: 1, logins: 2 });
  });

  it('a failed login fails every caller waiting for it; the next call logs in again', async () => {
    let logins = 0;
    const core = new SessionCore<string>({
      context,
      login: async () => {
        logins += 1;
        await sleep(10);
        if (logins === 1) throw new ServiceUnavailable('appliance answered HTTP 503', { ...context, httpStatus: 503 });
        return 'token';
      },
    });
    const results = await Promise.allSettled([core.run(async (t) => t), core.run(async (t) => t)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(ServiceUnavailable);
    expect(logins).toBe(1);
    await expect(core.run(async (t) => t)).resolves.toBe('token');
    expect(logins).toBe(2);
  });

  it('the login has its own timeout: it fails as RequestTimeout for everyone, and its signal is aborted', async () => {
    let loginSignal: AbortSignal | undefined;
    const core = new SessionCore<string>({
      context,
      loginTimeoutMs: 50,
      login: (signal) => {
        loginSignal = signal;
        return new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
        );
      },
    });
    const results = await Promise.allSettled([core.login(), core.run(async (t) => t, new AbortController().signal)]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const err = (r as PromiseRejectedResult).reason as RequestTimeout;
      expect(err).toBeInstanceOf(RequestTimeout);
      expect(err).toMatchObject({ product: 'vcenter', operation: 'sessionCreate', appliance: 'test' });
      expect(err.message).toContain('50 ms');
    }
    expect(loginSignal?.aborted).toBe(true);
  });

  it('the default login timeout is two request timeouts', async () => {
    let timedOut = false;
    const core = new SessionCore<string>({
      context,
      requestTimeoutMs: 20,
      login: (signal) =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => {
            timedOut = true;
            reject(signal.reason);
          }),
        ),
    });
    const started = Date.now();
    expect(await rejection(core.login())).toBeInstanceOf(RequestTimeout);
    expect(timedOut).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
  });

  it('clear() forgets the session: the next call logs in', async () => {
    const { state, coreOpts } = scripted();
    const core = new SessionCore(coreOpts);
    await core.login();
    core.clear();
    expect(core.current).toBeUndefined();
    await expect(core.run((t) => state.call(t))).resolves.toBe('ok:token-2');
  });

  it('waitUnlessAborted leaves on the signal with its reason, without touching the shared promise', async () => {
    let resolveShared!: (v: string) => void;
    const shared = new Promise<string>((r) => (resolveShared = r));
    const ctl = new AbortController();
    const reason = new Error('activity cancelled');
    const waiting = waitUnlessAborted(shared, ctl.signal);
    ctl.abort(reason);
    expect(await rejection(waiting)).toBe(reason);
    resolveShared('done');
    await expect(waitUnlessAborted(shared, new AbortController().signal)).resolves.toBe('done');
    await expect(waitUnlessAborted(shared)).resolves.toBe('done');
  });
});

describe('HttpTransport.stream (the shared transport for streamed answers)', () => {
  let server: Server;
  let transport: HttpTransport;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/missing') {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ code: 'NotFound', msg: 'no such backup' }));
      } else if (req.url === '/broken') {
        res.writeHead(200, { 'content-length': '1000' });
        res.write('x'.repeat(100), () => res.destroy());
      } else if (req.url === '/slow') {
        res.writeHead(200);
        res.write('x'.repeat(10));
        setTimeout(() => res.end('y'), 2_000).unref();
      } else {
        res.writeHead(200).end('x'.repeat(5000));
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    transport = new HttpTransport({
      product: 'vcda',
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      appliance: 'stream-test',
      timeoutMs: 5_000,
      parseError: (body) => ({
        vmwareCode: (body as { code?: string }).code,
        messages: [(body as { msg?: string }).msg ?? ''],
      }),
    });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const readAll = async ({ body }: { body: AsyncIterable<Buffer> }) => {
    let n = 0;
    for await (const chunk of body) n += chunk.length;
    return n;
  };

  it('hands a 2xx body to the consumer as a stream', async () => {
    await expect(transport.stream({ operation: 'download', method: 'GET', path: '/ok' }, readAll)).resolves.toBe(5000);
  });

  it('classifies an error answer through the taxonomy, with the product body read', async () => {
    const err = await rejection(transport.stream({ operation: 'download', method: 'GET', path: '/missing' }, readAll));
    expect(err).toBeInstanceOf(NotFound);
    expect(err).toMatchObject({
      httpStatus: 404,
      vmwareCode: 'NotFound',
      messages: ['no such backup'],
      operation: 'download',
      appliance: 'stream-test',
    });
  });

  it('an answer that breaks off is a NetworkError; a local file error stays as it is', async () => {
    expect(
      await rejection(transport.stream({ operation: 'download', method: 'GET', path: '/broken' }, readAll)),
    ).toBeInstanceOf(NetworkError);
    const disk = Object.assign(new Error('ENOSPC: no space left on device'), {
      code: 'ENOSPC',
      syscall: 'write',
      path: '/tmp/x',
    });
    expect(
      await rejection(
        transport.stream({ operation: 'download', method: 'GET', path: '/ok' }, async () => {
          throw disk;
        }),
      ),
    ).toBe(disk);
  });

  it("the caller's abort mid-body leaves as an abort, not a classified failure", async () => {
    const ctl = new AbortController();
    const p = transport.stream({ operation: 'download', method: 'GET', path: '/slow', signal: ctl.signal }, readAll);
    await sleep(100);
    ctl.abort();
    expect(isAbortError(await rejection(p))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Each product client against its simulator: concurrent calls while the shared login is slow
// (a delay fault), the FIRST caller (the one that starts the login) cancelled mid-login.

/** Starts `n` calls, the first with a signal aborted after `abortAfterMs`; returns their outcomes. */
async function concurrentWithFirstAborted<T>(n: number, call: (signal: AbortSignal) => Promise<T>, abortAfterMs = 50) {
  const first = new AbortController();
  const pending = [call(first.signal), ...Array.from({ length: n - 1 }, () => call(new AbortController().signal))];
  await sleep(abortAfterMs);
  first.abort();
  return Promise.allSettled(pending);
}

function expectFirstAbortedOthersOk(results: PromiseSettledResult<unknown>[]) {
  expect(results[0]!.status).toBe('rejected');
  expect(isAbortError((results[0] as PromiseRejectedResult).reason)).toBe(true);
  for (const r of results.slice(1)) {
    if (r.status === 'rejected') throw r.reason;
  }
}

describe('VcenterClient ↔ simulator: sessions under concurrency', () => {
  let sim: Simulator;
  const vc = () => sim.info.vcenter[0]!;
  const client = () =>
    new VcenterClient({
      url: vc().url,
      appliance: 'vc-1',
      timeoutMs: 5_000,
      credentials: async () => ({ username: vc().username, password: new Secret(vc().password) }),
    });
  const calls = () => sim.counters().calls.vcenter?.['vc-1'] ?? {};

  beforeAll(async () => {
    sim = await startSimulator({ vcenters: 1, http: true, jobSeconds: 1 });
  });
  afterAll(async () => sim?.close());
  beforeEach(() => {
    sim.faults.clear();
    sim.resetCounters();
  });

  it('one cancelled caller does not fail the shared login: the others succeed, one sessionCreate', async () => {
    const c = client();
    sim.faults.add({
      product: 'vcenter',
      appliance: 'vc-1',
      operation: 'sessionCreate',
      action: { kind: 'delay', ms: 300 },
    });
    const results = await concurrentWithFirstAborted(5, (signal) => c.backupParts(signal));
    expectFirstAbortedOthersOk(results);
    expect(calls()).toMatchObject({ sessionCreate: 1, backupPartList: 4 });
    expect(c.apiForm).toBe('api');
  });

  it('an explicit login cancelled by its caller still logs in for the calls waiting on it', async () => {
    const c = client();
    sim.faults.add({
      product: 'vcenter',
      appliance: 'vc-1',
      operation: 'sessionCreate',
      action: { kind: 'delay', ms: 300 },
    });
    const ctl = new AbortController();
    const login = c.login(ctl.signal);
    const parts = c.backupParts();
    await sleep(50);
    ctl.abort();
    expect(isAbortError(await rejection(login))).toBe(true);
    await expect(parts).resolves.toBeInstanceOf(Array);
    expect(calls()).toMatchObject({ sessionCreate: 1, backupPartList: 1 });
  });

  it('expired sessions: N concurrent 401s make exactly one new login', async () => {
    const c = client();
    await c.login();
    (sim.appliance('vcenter', 'vc-1') as VcenterAppliance).expireSessions();
    sim.resetCounters();
    await Promise.all(Array.from({ length: 6 }, () => c.backupJobList()));
    expect(calls()).toMatchObject({ sessionCreate: 1, backupJobList: 12 });
  });
});

describe('SddcManagerClient ↔ simulator: sessions under concurrency', () => {
  let sim: Simulator;
  const info = () => sim.info.sddcManager.find((a) => a.url.endsWith('/sddc-1'))!;
  const client = () =>
    new SddcManagerClient({
      url: info().url,
      appliance: 'sddc-1',
      timeoutMs: 5_000,
      credentials: async () => ({ username: info().username, password: new Secret(info().password) }),
    });
  const calls = () => sim.counters().calls['sddc-manager']?.['sddc-1'] ?? {};
  const appliance = () => sim.appliance('sddc-manager', 'sddc-1') as SddcManagerAppliance;

  beforeAll(async () => {
    sim = await startSimulator({
      factories: { 'sddc-manager': createSddcManagerAppliance },
      sddcManagers: 1,
      vcenters: 0,
      http: true,
      jobSeconds: 1,
    });
  });
  afterAll(async () => sim?.close());
  beforeEach(() => {
    sim.faults.clear();
    sim.resetCounters();
  });

  it('one cancelled caller does not fail the shared login: the others succeed, one tokenCreate', async () => {
    const c = client();
    sim.faults.add({
      product: 'sddc-manager',
      appliance: 'sddc-1',
      operation: 'tokenCreate',
      action: { kind: 'delay', ms: 300 },
    });
    const results = await concurrentWithFirstAborted(5, (signal) => c.listTasks({}, signal));
    expectFirstAbortedOthersOk(results);
    expect(calls()).toEqual({ tokenCreate: 1, listTasks: 4 });
  });

  it('one cancelled caller does not fail the shared refresh after a 401: one tokenRefresh, no login', async () => {
    const c = client();
    await c.login();
    appliance().expireAccessTokens();
    sim.resetCounters();
    sim.faults.add({
      product: 'sddc-manager',
      appliance: 'sddc-1',
      operation: 'tokenRefresh',
      action: { kind: 'delay', ms: 300 },
    });
    const results = await concurrentWithFirstAborted(5, (signal) => c.listTasks({}, signal), 100);
    expectFirstAbortedOthersOk(results);
    expect(calls()).toEqual({ listTasks: 9, tokenRefresh: 1 });
  });

  it('N concurrent 401s with the refresh token gone: one refresh attempt, one login', async () => {
    const c = client();
    await c.login();
    appliance().expireAccessTokens();
    appliance().revokeRefreshTokens();
    sim.resetCounters();
    await Promise.all(Array.from({ length: 6 }, () => c.listTasks()));
    expect(calls()).toEqual({ listTasks: 12, tokenRefresh: 1, tokenCreate: 1 });
  });
});

describe('VcdaClient ↔ simulator: sessions under concurrency', () => {
  let sim: Simulator;
  const info = () => sim.info.vcda[0]!;
  const client = () =>
    new VcdaClient({
      url: info().url,
      appliance: 'vcda-1',
      timeoutMs: 5_000,
      credentials: async () => ({ username: info().username, password: new Secret(info().password) }),
    });
  const calls = () => sim.counters().calls.vcda?.['vcda-1'] ?? {};

  beforeAll(async () => {
    sim = await startSimulator({
      factories: { vcda: createVcdaAppliance },
      vcdas: 1,
      vcenters: 0,
      http: true,
      jobSeconds: 1,
    });
  });
  afterAll(async () => sim?.close());
  beforeEach(() => {
    sim.faults.clear();
    sim.resetCounters();
  });

  it('one cancelled caller does not fail the shared login: the others succeed, one sessionCreate', async () => {
    const c = client();
    sim.faults.add({
      product: 'vcda',
      appliance: 'vcda-1',
      operation: 'sessionCreate',
      action: { kind: 'delay', ms: 300 },
    });
    const results = await concurrentWithFirstAborted(5, (signal) => c.listBackups({ signal }));
    expectFirstAbortedOthersOk(results);
    expect(calls()).toEqual({ sessionCreate: 1, backupList: 4 });
  });

  it('expired sessions, one caller cancelled during the re-login: exactly one new login, the others succeed', async () => {
    const c = client();
    await c.login();
    (sim.appliance('vcda', 'vcda-1') as VcdaAppliance).expireSessions();
    sim.resetCounters();
    sim.faults.add({
      product: 'vcda',
      appliance: 'vcda-1',
      operation: 'sessionCreate',
      action: { kind: 'delay', ms: 300 },
    });
    const results = await concurrentWithFirstAborted(5, (signal) => c.listTasks({ signal }), 100);
    expectFirstAbortedOthersOk(results);
    expect(calls()).toEqual({ sessionCreate: 1, taskList: 9 });
  });
});
