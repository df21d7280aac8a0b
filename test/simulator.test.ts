import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type ClientRequest, request as httpRequest } from 'node:http';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { type PeerCertificate, connect as tlsConnect } from 'node:tls';
import { type Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import type { SimulatorInfo } from '../src/simulator/server';
import { MAX_BODY_BYTES, startSimulator } from '../src/simulator/server';
import { VcenterClient } from '../src/vcenter/client';
import { Secret } from '../src/core/secrets';
import { createDispatcher } from '../src/core/tls';

const root = join(__dirname, '..');

/** Starts `vmware-dr simulator` from source; resolves with its one JSON line. */
async function startCli(
  args: string[],
): Promise<{ child: ChildProcessByStdio<null, Readable, Readable>; info: SimulatorInfo; stderr: () => string }> {
  const child = spawn(
    process.execPath,
    ['--require', 'tsx/cjs', join(root, 'src', 'cli', 'index.ts'), 'simulator', ...args],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const lines = createInterface({ input: child.stdout });
  const first = await Promise.race([
    once(lines, 'line').then(([line]) => line as string),
    once(child, 'exit').then(([code]) => {
      throw new Error(`simulator exited ${code}: ${err}`);
    }),
  ]);
  return { child, info: JSON.parse(first) as SimulatorInfo, stderr: () => err };
}

async function json(
  url: string,
  init: { method?: string; body?: unknown; dispatcher?: Agent } = {},
): Promise<{ status: number; body: unknown }> {
  const res = await request(url, {
    method: (init.method ?? 'GET') as 'GET',
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
    dispatcher: init.dispatcher,
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
}

describe('vmware-dr simulator (the command)', () => {
  const children: { kill: (s: NodeJS.Signals) => boolean }[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  it('prints one JSON line with every appliance, serves HTTPS with its CA, counts calls, stops on SIGTERM', async () => {
    const { child, info } = await startCli(['--vcenters', '3', '--job-seconds', '1']);
    children.push(child);
    expect(Object.keys(info).sort()).toEqual(['admin', 'caFile', 'sddcManager', 'vcda', 'vcenter']);
    expect(info.vcenter).toHaveLength(3);
    expect(info.sddcManager).toEqual([]);
    expect(info.vcda).toEqual([]);
    for (const vc of info.vcenter) {
      expect(vc.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/vcenter\/vc-\d$/);
      expect(Object.keys(vc).sort()).toEqual(['caFile', 'password', 'url', 'username']);
    }
    const dispatcher = createDispatcher({ tls: { caFile: info.caFile } });
    // Appliances keep separate state: a backup on vc-2 does not make vc-3 busy.
    const clients = info.vcenter.map(
      (vc) =>
        new VcenterClient({
          url: vc.url,
          dispatcher,
          apiForm: 'api',
          credentials: async () => ({ username: vc.username, password: new Secret(vc.password) }),
        }),
    );
    const req = { parts: [], location_type: 'SFTP' as const, location: 'sftp://b/x', comment: 'cli test' };
    await clients[1]!.backupJobCreate(req);
    await clients[2]!.backupJobCreate(req);
    const counters = await json(`${info.admin}/counters`, { dispatcher });
    expect(counters.status).toBe(200);
    const body = counters.body as {
      calls: Record<string, Record<string, Record<string, number>>>;
      jobs: { appliance: string; label: string }[];
    };
    expect(body.calls.vcenter?.['vc-2']?.backupJobCreate).toBe(1);
    expect(body.calls.vcenter?.['vc-3']?.backupJobCreate).toBe(1);
    expect(body.calls.vcenter?.['vc-1']).toBeUndefined();
    expect(body.jobs.map((j) => j.appliance).sort()).toEqual(['vc-2', 'vc-3']);
    expect(body.jobs[0]?.label).toBe('cli test');
    await dispatcher.close();
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('arms faults from a YAML file and rejects a bad one naming the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'faults-'));
    const good = join(dir, 'faults.yaml');
    await writeFile(
      good,
      '- product: vcenter\n  appliance: vc-1\n  operation: backupJobCreate\n  count: 2\n  action: { kind: error, error: FEATURE_IN_USE }\n',
    );
    const { child, info } = await startCli(['--http', '--faults', good]);
    children.push(child);
    expect(info.caFile).toBeUndefined();
    expect(info.vcenter[0]!.url).toMatch(/^http:\/\//);
    const faults = await json(`${info.admin}/faults`);
    expect(faults.body).toEqual([expect.objectContaining({ operation: 'backupJobCreate', remaining: 2 })]);
    child.kill('SIGTERM');
    await once(child, 'exit');

    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, '- operation: backupJobCreate\n  action: { kind: explode }\n');
    await expect(startCli(['--http', '--faults', bad])).rejects.toThrow(
      /entry 0: fault\.action\.kind: one of error, status/,
    );
    await expect(startCli(['--http', '--vcenters', 'two'])).rejects.toThrow(/--vcenters must be a whole number/);
  });
});

describe('vmware-dr simulator: fixed credentials and certificate names', () => {
  const children: { kill: (s: NodeJS.Signals) => boolean }[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  it('--credentials FILE and --password keep the same passwords across a restart; --cert-name reaches the certificate', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-creds-'));
    const file = join(dir, 'credentials.yaml');
    await writeFile(file, 'appliances:\n  vcenter/vc-2: "Second-Pw2!"\n');
    const args = ['--vcenters', '2', '--password', 'First-Pw1!', '--credentials', file, '--cert-name', 'vcenter-sim'];
    const passwords: string[][] = [];
    for (let run = 0; run < 2; run++) {
      const { child, info } = await startCli(args);
      children.push(child);
      passwords.push(info.vcenter.map((v) => v.password));
      const ca = await readFile(info.caFile!, 'utf8');
      const authorized = await new Promise<boolean>((resolve, reject) => {
        const socket = tlsConnect(
          { host: '127.0.0.1', port: Number(new URL(info.admin).port), servername: 'vcenter-sim', ca },
          () => {
            resolve(socket.authorized);
            socket.end();
          },
        );
        socket.once('error', reject);
      });
      expect(authorized).toBe(true);
      const client = new VcenterClient({
        url: info.vcenter[1]!.url,
        dispatcher: createDispatcher({ tls: { caFile: info.caFile } }),
        apiForm: 'api',
        credentials: async () => ({ username: info.vcenter[1]!.username, password: new Secret('Second-Pw2!') }),
      });
      await expect(client.backupJobList()).resolves.toEqual([]);
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    expect(passwords).toEqual([
      ['First-Pw1!', 'Second-Pw2!'],
      ['First-Pw1!', 'Second-Pw2!'],
    ]);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ appliances: { 'vcenter/vc-9': 'x' } }));
    await expect(startCli(['--credentials', bad])).rejects.toThrow(
      /credentials\.appliances\["vcenter\/vc-9"\]: no such appliance/,
    );
    await writeFile(bad, JSON.stringify({ pasword: 'x' }));
    await expect(startCli(['--credentials', bad])).rejects.toThrow(/unknown field\(s\) pasword/);
  });
});

describe('simulator admin endpoint', () => {
  it('arms, lists and clears faults; resets counters; rejects bad input with the field named', async () => {
    const sim = await startSimulator({ http: true, vcenters: 2 });
    try {
      const vc = sim.info.vcenter[1]!;
      const client = new VcenterClient({
        url: vc.url,
        apiForm: 'api',
        credentials: async () => ({ username: vc.username, password: new Secret(vc.password) }),
      });
      const armed = await json(`${sim.info.admin}/faults`, {
        method: 'POST',
        body: { appliance: 'vc-2', operation: 'backupJobList', count: 1, action: { kind: 'status', status: 503 } },
      });
      expect(armed.status).toBe(201);
      await expect(client.backupJobList()).rejects.toMatchObject({ name: 'ServiceUnavailable', httpStatus: 503 });
      await expect(client.backupJobList()).resolves.toEqual([]);
      const bad = await json(`${sim.info.admin}/faults`, {
        method: 'POST',
        body: { operation: 'x', action: { kind: 'error' } },
      });
      expect(bad).toEqual({ status: 400, body: { error: expect.stringContaining('fault.action.error') } });
      expect((await json(`${sim.info.admin}/counters`)).body).toMatchObject({
        calls: { vcenter: { 'vc-2': { backupJobList: 2, sessionCreate: 1 } } },
      });
      expect((await json(`${sim.info.admin}/counters`, { method: 'DELETE' })).status).toBe(204);
      expect((await json(`${sim.info.admin}/counters`)).body).toEqual({ calls: {}, jobs: [] });
      await json(`${sim.info.admin}/faults`, { method: 'POST', body: [{ operation: '*', action: { kind: 'reset' } }] });
      expect((await json(`${sim.info.admin}/faults`, { method: 'DELETE' })).status).toBe(204);
      expect((await json(`${sim.info.admin}/faults`)).body).toEqual([]);
      expect((await json(`${sim.info.admin}/appliances/vcenter/vc-9`, { method: 'POST', body: {} })).status).toBe(404);
      expect(
        await json(`${sim.info.admin}/appliances/vcenter/vc-2`, { method: 'POST', body: { stage: 'restore' } }),
      ).toEqual({ status: 200, body: { stage: 'restore', restartingServices: false } });
      expect(
        await json(`${sim.info.admin}/appliances/vcenter/vc-2`, { method: 'POST', body: { stage: 'sideways' } }),
      ).toEqual({ status: 400, body: { error: 'stage must be "restore" or "running"' } });
      // A fault on a legacy /rest route answers the legacy error body.
      sim.faults.add({
        appliance: 'vc-1',
        operation: 'sessionCreate',
        action: { kind: 'error', error: 'SERVICE_UNAVAILABLE' },
      });
      expect(await json(`${sim.info.vcenter[0]!.url}/rest/com/vmware/cis/session`, { method: 'POST' })).toMatchObject({
        status: 503,
        body: {
          type: 'com.vmware.vapi.std.errors.service_unavailable',
          value: { messages: [expect.objectContaining({ default_message: 'injected SERVICE_UNAVAILABLE' })] },
        },
      });
      expect((await json(`${sim.url}/vcenter/vc-9/api/session`, { method: 'POST' })).status).toBe(404);
    } finally {
      await sim.close();
    }
  });
});

/** A raw HTTP request: resolves with the status (and body) as soon as the server answers, even mid-upload. */
function rawRequest(
  url: string,
  opts: { method: string; headers?: Record<string, string | number>; write?: (req: ClientRequest) => void },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: opts.method, headers: opts.headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // The server closes the connection after a 413; a write still under way may fail after the answer.
    req.on('error', reject);
    if (opts.write) opts.write(req);
    else req.flushHeaders();
  });
}

describe('simulator hardening', () => {
  it('answers 413 to a body over 1 MiB before authentication, whether declared or streamed', async () => {
    const sim = await startSimulator({ http: true });
    try {
      const login = `${sim.info.vcenter[0]!.url}/api/session`;
      // Declared: answered from the headers alone (the body is never sent).
      const declared = await rawRequest(login, {
        method: 'POST',
        headers: { 'content-length': MAX_BODY_BYTES + 1, 'content-type': 'application/json' },
      });
      expect(declared.status).toBe(413);
      // Streamed without a length: counted while it arrives.
      const streamed = await rawRequest(login, {
        method: 'POST',
        headers: { 'transfer-encoding': 'chunked' },
        write: (req) => {
          const chunk = Buffer.alloc(64 * 1024, 0x61);
          let sent = 0;
          const pump = (): void => {
            while (sent <= MAX_BODY_BYTES + chunk.length && !req.destroyed) {
              sent += chunk.length;
              if (!req.write(chunk)) return void req.once('drain', pump);
            }
          };
          pump();
        },
      });
      expect(streamed.status).toBe(413);
      const admin = await rawRequest(`${sim.info.admin}/faults`, {
        method: 'POST',
        headers: { 'content-length': 2 * MAX_BODY_BYTES },
      });
      expect(admin.status).toBe(413);
      expect(sim.counters().calls).toEqual({});
      // A body under the bound still reaches the route (401: no credentials).
      expect((await json(login, { method: 'POST', body: { pad: 'x'.repeat(1000) } })).status).toBe(401);
    } finally {
      await sim.close();
    }
  });

  it('answers 400, not 500, to malformed percent-encoding in the path or the query', async () => {
    const sim = await startSimulator({ http: true });
    try {
      const vc = sim.info.vcenter[0]!.url;
      for (const target of [
        `${vc}/api/appliance/recovery/backup/job/%zz`,
        `${vc}/api/appliance/recovery/backup/job?x=%E0%A4%A`,
        `${vc}/api/session?%`,
        `${sim.info.admin}/faults%`,
      ]) {
        const res = await rawRequest(target, { method: 'GET' });
        expect(res.status, target).toBe(400);
        expect(res.body, target).toContain('malformed percent-encoding');
      }
      // Well-formed encoding still routes.
      expect((await rawRequest(`${vc}/api/appliance/recovery/backup/job/a%20b`, { method: 'GET' })).status).toBe(401);
    } finally {
      await sim.close();
    }
  });

  it('rejects admin fault rules with a bad status, delay or count, naming the field', async () => {
    const sim = await startSimulator({ http: true });
    try {
      const cases: [unknown, string][] = [
        [{ operation: '*', action: { kind: 'status', status: 42 } }, 'fault.action.status'],
        [{ operation: '*', action: { kind: 'status', status: 600 } }, 'fault.action.status'],
        [{ operation: '*', action: { kind: 'status', status: '503' } }, 'fault.action.status'],
        [{ operation: '*', action: { kind: 'error', error: 'X', status: 1000 } }, 'fault.action.status'],
        [{ operation: '*', action: { kind: 'delay', ms: -1 } }, 'fault.action.ms'],
        [{ operation: '*', action: { kind: 'delay', ms: '10' } }, 'fault.action.ms'],
        [{ operation: '*', count: 0, action: { kind: 'reset' } }, 'fault.count'],
        [{ operation: '*', count: 1.5, action: { kind: 'reset' } }, 'fault.count'],
        [{ operation: '*', count: '2', action: { kind: 'reset' } }, 'fault.count'],
      ];
      for (const [rule, field] of cases) {
        const res = await json(`${sim.info.admin}/faults`, { method: 'POST', body: rule });
        expect(res, JSON.stringify(rule)).toEqual({ status: 400, body: { error: expect.stringContaining(field) } });
      }
      expect((await json(`${sim.info.admin}/faults`)).body).toEqual([]);
      const ok = await json(`${sim.info.admin}/faults`, {
        method: 'POST',
        body: { operation: '*', count: 3, action: { kind: 'delay', ms: 0 } },
      });
      expect(ok.status).toBe(201);
    } finally {
      await sim.close();
    }
  });

  it('keeps fixed credentials: one password for all, or one per appliance; a key naming no appliance is refused', async () => {
    const sim = await startSimulator({
      http: true,
      vcenters: 2,
      vcdas: 1,
      credentials: { password: 'Fixed-Pw1!', appliances: { 'vcenter/vc-2': 'Other-Pw2!' } },
    });
    try {
      expect(sim.info.vcenter.map((v) => v.password)).toEqual(['Fixed-Pw1!', 'Other-Pw2!']);
      expect(sim.info.vcda[0]!.password).toBe('Fixed-Pw1!');
      for (const vc of sim.info.vcenter) {
        const client = new VcenterClient({
          url: vc.url,
          apiForm: 'api',
          credentials: async () => ({ username: vc.username, password: new Secret(vc.password) }),
        });
        await expect(client.backupJobList()).resolves.toEqual([]);
      }
      const wrong = new VcenterClient({
        url: sim.info.vcenter[1]!.url,
        apiForm: 'api',
        credentials: async () => ({ username: 'administrator@vsphere.local', password: new Secret('Fixed-Pw1!') }),
      });
      await expect(wrong.backupJobList()).rejects.toMatchObject({ name: 'AuthenticationFailed' });
    } finally {
      await sim.close();
    }
    await expect(startSimulator({ http: true, credentials: { appliances: { 'vcenter/vc-7': 'x' } } })).rejects.toThrow(
      /credentials\.appliances\["vcenter\/vc-7"\]: no such appliance/,
    );
    await expect(startSimulator({ http: true, credentials: { password: '' } })).rejects.toThrow(
      /credentials\.password/,
    );
  });
});

describe('simulator certificate', () => {
  it('covers loopback, the --host name and every extra name; a client trusting only the printed caFile accepts it under those names', async () => {
    const sim = await startSimulator({ host: '127.0.0.1', certNames: ['vcenter-sim', 'sim.example.test', '10.9.8.7'] });
    try {
      const ca = await readFile(sim.info.caFile!, 'utf8');
      const port = Number(new URL(sim.url).port);
      const peer = await new Promise<{ authorized: boolean; error?: Error; cert: PeerCertificate }>(
        (resolve, reject) => {
          const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'vcenter-sim', ca }, () => {
            resolve({
              authorized: socket.authorized,
              error: socket.authorizationError,
              cert: socket.getPeerCertificate(),
            });
            socket.end();
          });
          socket.once('error', reject);
        },
      );
      expect(peer.authorized, String(peer.error)).toBe(true);
      const leaf = new X509Certificate(peer.cert.raw);
      for (const name of ['vcenter-sim', 'sim.example.test', 'localhost'])
        expect(leaf.checkHost(name), name).toBe(name);
      for (const ip of ['127.0.0.1', '::1', '10.9.8.7']) expect(leaf.checkIP(ip), ip).toBe(ip);
      expect(leaf.checkHost('other-sim')).toBeUndefined();
      // A name the certificate does not cover is refused by the same client.
      const refused = await new Promise<string>((resolve) => {
        const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'other-sim', ca }, () => resolve('connected'));
        socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      });
      expect(refused).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    } finally {
      await sim.close();
    }
  });
});
