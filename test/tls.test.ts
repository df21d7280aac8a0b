/**
 * TLS policy against real HTTPS servers on 127.0.0.1 with freshly generated PKIs, and end to end
 * through the three product clients against the simulator's HTTPS. No mocks.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { type AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, type Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TlsSettings } from '../src/contract/endpoints';
import { TlsError } from '../src/core/errors';
import { retryDecision } from '../src/core/retry';
import { Secret } from '../src/core/secrets';
import { SddcManagerClient } from '../src/sddc-manager/client';
import { generatePki, type GeneratedPki } from '../src/simulator/cert';
import { type Simulator, startSimulator } from '../src/simulator/server';
import { VcdaClient } from '../src/vcda/client';
import { VcenterClient } from '../src/vcenter/client';
import {
  CertificatePinMismatchError,
  TlsConfigError,
  createDispatcher,
  normaliseThumbprint,
  type DispatcherOptions,
} from '../src/core/tls';

interface TestServer {
  server: Server;
  url: string;
  /** TLS connections accepted (handshake completed). */
  connections: number;
  /** HTTP requests that reached the handler. */
  requests: number;
}

async function startServer(pki: GeneratedPki): Promise<TestServer> {
  const state = { connections: 0, requests: 0 } as TestServer;
  const server = createServer({ cert: pki.certPem, key: pki.keyPem }, (_req, res) => {
    state.requests++;
    res.setHeader('content-type', 'text/plain');
    res.end('hello');
  });
  server.on('secureConnection', () => {
    state.connections++;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  state.server = server;
  state.url = `https://127.0.0.1:${port}/`;
  return state;
}

function stopServer(s: TestServer | undefined): Promise<void> {
  if (!s) return Promise.resolve();
  s.server.closeAllConnections();
  return new Promise((resolve) => s.server.close(() => resolve()));
}

let tmp: string;
let pki: GeneratedPki;
let otherPki: GeneratedPki;
let wrongHostPki: GeneratedPki;
let srv: TestServer;
let wrongHostSrv: TestServer;
let caFile: string;
let otherCaFile: string;
const dispatchers: Agent[] = [];

/** Tracks dispatchers so afterAll closes them even when a test fails. */
function dispatcher(opts?: DispatcherOptions): Agent {
  const d = createDispatcher(opts);
  dispatchers.push(d);
  return d;
}

async function get(url: string, d: Agent, reset = false): Promise<{ status: number; body: string }> {
  const res = await request(url, { dispatcher: d, reset });
  return { status: res.statusCode, body: await res.body.text() };
}

/** The request's rejection, failing the test if it resolved. */
async function failure(url: string, d: Agent): Promise<Error & { code?: string }> {
  try {
    const res = await request(url, { dispatcher: d });
    await res.body.dump();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error(`expected the request to ${url} to fail, but it succeeded`);
}

const CHAIN_ERRORS = ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT'];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'vmware-dr-tls-'));
  [pki, otherPki, wrongHostPki] = await Promise.all([
    generatePki(),
    generatePki(),
    generatePki({ hosts: ['vc.example.invalid'] }),
  ]);
  caFile = join(tmp, 'ca.pem');
  otherCaFile = join(tmp, 'other-ca.pem');
  writeFileSync(caFile, pki.caCertPem);
  writeFileSync(otherCaFile, otherPki.caCertPem);
  [srv, wrongHostSrv] = await Promise.all([startServer(pki), startServer(wrongHostPki)]);
});

afterAll(async () => {
  await Promise.all(dispatchers.map((d) => d.close()));
  await Promise.all([stopServer(srv), stopServer(wrongHostSrv)]);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('generatePki', () => {
  it('issues a CA and a serverAuth leaf for every host, signed by that CA', () => {
    const ca = new X509Certificate(pki.caCertPem);
    const leaf = new X509Certificate(pki.certPem);
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.verify(new X509Certificate(otherPki.caCertPem).publicKey)).toBe(false);
    expect(leaf.fingerprint256).toBe(pki.fingerprint256);
    expect(pki.fingerprint256).toMatch(/^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/);
    expect(leaf.subjectAltName).toBe('IP Address:127.0.0.1, DNS:localhost, IP Address:0:0:0:0:0:0:0:1');
    expect(leaf.checkHost('localhost')).toBe('localhost');
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leaf.checkIP('::1')).toBe('::1');
    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // extendedKeyUsage serverAuth
    expect(leaf.checkPrivateKey(createPrivateKey(pki.keyPem))).toBe(true);
    const notBefore = Date.parse(leaf.validFrom);
    expect(notBefore).toBeLessThan(Date.now() - 60_000);
    expect(Date.parse(leaf.validTo) - Date.now()).toBeGreaterThan(29 * 24 * 3600_000);
    expect(Date.parse(leaf.validTo) - Date.now()).toBeLessThan(31 * 24 * 3600_000);
    expect(wrongHostPki.fingerprint256).not.toBe(pki.fingerprint256);
  });

  it('honours commonName and days', async () => {
    const p = await generatePki({ hosts: ['a.example', '10.1.2.3'], commonName: 'sim', days: 2 });
    const leaf = new X509Certificate(p.certPem);
    expect(leaf.subject).toContain('CN=sim');
    expect(leaf.subjectAltName).toBe('DNS:a.example, IP Address:10.1.2.3');
    expect(Date.parse(leaf.validTo) - Date.now()).toBeLessThan(2 * 24 * 3600_000 + 60_000);
  });
});

describe('createDispatcher: caFile', () => {
  it('trusts the simulator CA from the bundle file', async () => {
    const before = srv.requests;
    expect(await get(srv.url, dispatcher({ tls: { caFile } }))).toEqual({ status: 200, body: 'hello' });
    expect(srv.requests).toBe(before + 1);
  });

  it('rejects a server whose certificate is from a different CA', async () => {
    const err = await failure(srv.url, dispatcher({ tls: { caFile: otherCaFile } }));
    expect(err).not.toBeInstanceOf(CertificatePinMismatchError);
    expect(CHAIN_ERRORS).toContain(err.code);
  });

  it('still checks the hostname: right CA, certificate for another host', async () => {
    const otherCa = join(tmp, 'wrong-host-ca.pem');
    writeFileSync(otherCa, wrongHostPki.caCertPem);
    const err = await failure(wrongHostSrv.url, dispatcher({ tls: { caFile: otherCa } }));
    expect(err.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });
});

describe('createDispatcher: default', () => {
  it('verifies against Node default CAs, so the self-signed simulator fails', async () => {
    const err = await failure(srv.url, dispatcher());
    expect(CHAIN_ERRORS).toContain(err.code);
    expect(err.message).toMatch(/self[- ]signed|unable to verify/i);
  });
});

describe('createDispatcher: thumbprint', () => {
  it('accepts the pinned leaf in Node form', async () => {
    expect(await get(srv.url, dispatcher({ tls: { thumbprint: pki.fingerprint256 } }))).toEqual({
      status: 200,
      body: 'hello',
    });
  });

  it('accepts the pin in lowercase without colons', async () => {
    const tp = pki.fingerprint256.replaceAll(':', '').toLowerCase();
    expect(tp).toMatch(/^[0-9a-f]{64}$/);
    expect((await get(srv.url, dispatcher({ tls: { thumbprint: tp } }))).status).toBe(200);
  });

  it('checks the pin on every new connection (no TLS session resumption skipping the check)', async () => {
    const d = dispatcher({ tls: { thumbprint: pki.fingerprint256 } });
    const before = srv.connections;
    for (let i = 0; i < 3; i++) expect((await get(srv.url, d, true)).status).toBe(200);
    expect(srv.connections).toBe(before + 3);
  });

  it('does not check chain or hostname: pin works for a certificate naming another host', async () => {
    const d = dispatcher({ tls: { thumbprint: wrongHostPki.fingerprint256 } });
    expect((await get(wrongHostSrv.url, d)).status).toBe(200);
  });

  it('rejects a different leaf with CertificatePinMismatchError before sending the request', async () => {
    const before = srv.requests;
    const err = await failure(
      srv.url,
      dispatcher({ tls: { thumbprint: otherPki.fingerprint256 }, label: 'vcenter vc-1' }),
    );
    expect(err).toBeInstanceOf(CertificatePinMismatchError);
    expect(err.code).toBe('VMWARE_DR_TLS_PIN_MISMATCH');
    const pinErr = err as CertificatePinMismatchError;
    expect(pinErr.expected).toBe(otherPki.fingerprint256);
    expect(pinErr.actual).toBe(pki.fingerprint256);
    expect(err.message).toContain(otherPki.fingerprint256);
    expect(err.message).toContain(pki.fingerprint256);
    expect(err.message).toContain('tls.thumbprint');
    expect(err.message).toContain('vcenter vc-1');
    expect(srv.requests).toBe(before);
  });
});

describe('createDispatcher: insecure', () => {
  it('connects without verification and warns on every new connection', async () => {
    const warnings: string[] = [];
    const d = dispatcher({ tls: { insecure: true }, warn: (m) => warnings.push(m), label: 'vcda sim' });
    const before = srv.connections;
    expect(await get(srv.url, d, true)).toEqual({ status: 200, body: 'hello' });
    expect(await get(srv.url, d, true)).toEqual({ status: 200, body: 'hello' });
    expect(srv.connections - before).toBe(2);
    expect(warnings).toHaveLength(2);
    for (const w of warnings) {
      expect(w).toContain('vcda sim');
      expect(w).toMatch(/verification is DISABLED/);
    }
  });

  it('does not warn again for a reused keep-alive connection', async () => {
    const warnings: string[] = [];
    const d = dispatcher({ tls: { insecure: true }, warn: (m) => warnings.push(m) });
    const before = srv.connections;
    expect((await get(srv.url, d)).status).toBe(200);
    // undici marks the connection idle just after the body ends; without this tick the pool
    // opens a second connection for the next request.
    await new Promise((resolve) => setImmediate(resolve));
    expect((await get(srv.url, d)).status).toBe(200);
    expect(srv.connections - before).toBe(1);
    expect(warnings).toHaveLength(1);
  });

  it('insecure: false is the default policy, not a bypass', async () => {
    const err = await failure(srv.url, dispatcher({ tls: { insecure: false } }));
    expect(CHAIN_ERRORS).toContain(err.code);
  });
});

describe('configuration errors', () => {
  function configError(opts: DispatcherOptions): TlsConfigError {
    try {
      dispatcher(opts);
    } catch (err) {
      expect(err).toBeInstanceOf(TlsConfigError);
      expect((err as TlsConfigError).code).toBe('VMWARE_DR_TLS_CONFIG');
      return err as TlsConfigError;
    }
    throw new Error(`expected TlsConfigError for ${JSON.stringify(opts)}`);
  }

  it('missing caFile names the field and the path', () => {
    const missing = join(tmp, 'nope.pem');
    const err = configError({ tls: { caFile: missing } });
    expect(err.message).toContain('tls.caFile');
    expect(err.message).toContain(missing);
  });

  it('caFile without a PEM certificate', () => {
    const notPem = join(tmp, 'not-pem.txt');
    writeFileSync(notPem, 'hello\n');
    expect(configError({ tls: { caFile: notPem } }).message).toMatch(/tls\.caFile.*not-pem\.txt.*no PEM certificate/);
  });

  it('caFile with a corrupt PEM block', () => {
    const bad = join(tmp, 'bad.pem');
    writeFileSync(bad, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    expect(configError({ tls: { caFile: bad } }).message).toContain('tls.caFile');
  });

  it('caFile that is a private key only', () => {
    const keyOnly = join(tmp, 'key.pem');
    writeFileSync(keyOnly, pki.keyPem);
    expect(configError({ tls: { caFile: keyOnly } }).message).toContain('no PEM certificate');
  });

  it('caFile and thumbprint together', () => {
    const err = configError({ tls: { caFile, thumbprint: pki.fingerprint256 } });
    expect(err.message).toContain('tls.caFile');
    expect(err.message).toContain('tls.thumbprint');
    expect(err.message).toMatch(/remove/);
  });

  it('insecure with caFile or thumbprint', () => {
    const a = configError({ tls: { insecure: true, caFile } });
    expect(a.message).toContain('tls.insecure');
    expect(a.message).toContain('tls.caFile');
    expect(a.message).not.toContain('tls.thumbprint');
    const b = configError({ tls: { insecure: true, thumbprint: pki.fingerprint256 } });
    expect(b.message).toContain('tls.insecure');
    expect(b.message).toContain('tls.thumbprint');
    expect(b.message).toMatch(/remove/);
  });

  it.each([
    ['', /empty/],
    ['zz'.repeat(32), /non-hex/],
    ['AB:CD', /4 hex digits/],
    ['a'.repeat(40), /SHA-1/],
    ['A'.repeat(65), /65 hex digits/],
    ['ABC:D' + ':00'.repeat(30), /hex pairs/],
  ])('bad thumbprint %j', (thumbprint, why) => {
    const err = configError({ tls: { thumbprint } });
    expect(err.message).toContain('tls.thumbprint');
    expect(err.message).toMatch(why);
    expect(err.message).toMatch(/64 hex digits/);
  });
});

describe('normaliseThumbprint', () => {
  it('returns the uppercase colon form of Node fingerprint256', () => {
    const fp = pki.fingerprint256;
    expect(normaliseThumbprint(fp)).toBe(fp);
    expect(normaliseThumbprint(fp.toLowerCase())).toBe(fp);
    expect(normaliseThumbprint(fp.replaceAll(':', ''))).toBe(fp);
    expect(normaliseThumbprint(`  ${fp.replaceAll(':', '').toLowerCase()}\n`)).toBe(fp);
  });

  it('throws TlsConfigError naming tls.thumbprint', () => {
    expect(() => normaliseThumbprint('nope')).toThrow(TlsConfigError);
    expect(() => normaliseThumbprint('nope')).toThrow(/tls\.thumbprint/);
  });
});

describe("the product clients against the simulator's HTTPS (policy end to end)", () => {
  const PASSWORD = 'Tls#Simulator-1';
  let sim: Simulator;
  let simPin: string;
  const products = ['vcenter', 'sddc-manager', 'vcda'] as const;

  beforeAll(async () => {
    sim = await startSimulator({ vcenters: 1, sddcManagers: 1, vcdas: 1, credentials: { password: PASSWORD } });
    // What an operator reads out of band (openssl s_client … | openssl x509 -fingerprint -sha256).
    const { port, hostname } = new URL(sim.url);
    simPin = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
        resolve(socket.getPeerCertificate().fingerprint256);
        socket.end();
      });
      socket.once('error', reject);
    });
  });
  afterAll(async () => sim?.close());

  /** Logs in to the product's simulated appliance with this TLS policy (a fresh pool each time). */
  async function login(product: (typeof products)[number], opts: DispatcherOptions): Promise<void> {
    const info = { vcenter: sim.info.vcenter, 'sddc-manager': sim.info.sddcManager, vcda: sim.info.vcda }[product][0]!;
    const common = {
      url: info.url,
      dispatcher: dispatcher(opts),
      credentials: async () => ({ username: info.username, password: new Secret(PASSWORD) }),
    };
    if (product === 'vcenter') await new VcenterClient(common).login();
    else if (product === 'sddc-manager') await new SddcManagerClient(common).login();
    else await new VcdaClient(common).login();
  }

  const refused = async (product: (typeof products)[number], opts: DispatcherOptions): Promise<TlsError> => {
    sim.resetCounters();
    const err = await login(product, opts).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TlsError);
    const tlsErr = err as TlsError;
    expect(tlsErr.product).toBe(product);
    expect(retryDecision(tlsErr).retryable).toBe(false);
    expect(tlsErr.message).toMatch(
      /Fix: trust the appliance certificate: set the endpoint's tls\.caFile or tls\.thumbprint/,
    );
    expect(sim.counters().calls, 'no request reached the appliance').toEqual({});
    return tlsErr;
  };

  it.each(products)(
    '%s: refused by default (the simulator CA is not a Node default CA), non-retryable TlsError',
    async (p) => {
      await refused(p, {});
    },
  );

  it.each(products)('%s: accepted with the CA file', async (p) => {
    await expect(login(p, { tls: { caFile: sim.info.caFile! } })).resolves.toBeUndefined();
  });

  it.each(products)('%s: accepted with the right SHA-256 pin, refused with a wrong one', async (p) => {
    await expect(login(p, { tls: { thumbprint: simPin } })).resolves.toBeUndefined();
    const err = await refused(p, { tls: { thumbprint: pki.fingerprint256 } });
    expect(err.message).toContain(simPin);
  });

  it.each(products)('%s: insecure connects only when set to true, and warns', async (p) => {
    const warnings: string[] = [];
    await refused(p, { tls: { insecure: false }, warn: (m) => warnings.push(m) });
    expect(warnings).toEqual([]);
    await expect(
      login(p, { tls: { insecure: true }, warn: (m) => warnings.push(m), label: `${p} sim` }),
    ).resolves.toBeUndefined();
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings[0]).toMatch(/verification is DISABLED/);
  });

  it('the endpoint schema takes insecure only as an explicit boolean, never with a CA file or pin', () => {
    expect(TlsSettings.safeParse({}).data).toEqual({});
    expect(TlsSettings.safeParse({ insecure: 'yes' }).success).toBe(false);
    expect(TlsSettings.safeParse({ insecure: 1 }).success).toBe(false);
    expect(TlsSettings.safeParse({ insecure: true, thumbprint: simPin }).success).toBe(false);
    expect(TlsSettings.safeParse({ insecure: true }).success).toBe(true);
  });
});
