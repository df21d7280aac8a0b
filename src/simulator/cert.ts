/**
 * PKI for the simulator: a CA and a server certificate signed by it. Fresh per call, or kept in a
 * directory (`keepPkiIn`, `vmware-dr simulator --cert-dir`): the CA survives restarts so a worker
 * in another container can trust it from a shared file, and the server certificate is reissued
 * only when it no longer covers the requested names or is about to expire.
 *
 * Built with `@peculiar/x509` on Node's WebCrypto. That library resolves its ASN.1 serializers
 * through `tsyringe`, which needs the `reflect-metadata` polyfill loaded first; both are loaded
 * lazily here, so importing the package (or the simulator) does not touch the global `Reflect`
 * until a certificate is generated.
 *
 * Keys are ECDSA P-256, signatures ecdsa-with-SHA256. The leaf is checked against the CA with
 * `crypto.X509Certificate` before it is returned, so a bad certificate fails here and not in a
 * TLS handshake.
 */
import { X509Certificate, KeyObject, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isIP } from 'node:net';
import type * as X509Module from '@peculiar/x509';

export interface GeneratedPki {
  caCertPem: string;
  certPem: string;
  keyPem: string;
  /** leaf SHA-256 fingerprint in Node's 'AB:CD:..' form */
  fingerprint256: string;
}

export interface GeneratePkiOptions {
  /**
   * DNS names and IP addresses the leaf is valid for (a bracketed IPv6 address is accepted).
   * @default ['127.0.0.1', 'localhost', '::1']
   */
  hosts?: string[];
  /**
   * Validity of the leaf in days (the CA lasts one day longer).
   * @default 30
   */
  days?: number;
  /**
   * Leaf subject CN.
   * @default the first host
   */
  commonName?: string;
}

const DEFAULT_HOSTS = ['127.0.0.1', 'localhost', '::1'];
/** Certificates start this long in the past, to tolerate clock skew between processes/hosts. */
const BACKDATE_MS = 5 * 60_000;
const DAY_MS = 24 * 60 * 60_000;
const ORGANIZATION = 'vmware-dr simulator';
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DNS_NAME = /^[A-Za-z0-9*]([A-Za-z0-9.*-]*[A-Za-z0-9])?$/;

type X509 = typeof X509Module;
/** The WebCrypto type `@peculiar/x509` expects (Node's `webcrypto` under the DOM name). */
type WebCrypto = NonNullable<Parameters<X509['X509CertificateGenerator']['create']>[1]>;
type Name = Record<string, string[]>[];
/** A WebCrypto key as `@peculiar/x509` takes it. */
type SigningKey = Awaited<ReturnType<WebCrypto['subtle']['importKey']>>;
let x509: Promise<X509> | undefined;

/** `@peculiar/x509`, after the `reflect-metadata` polyfill it needs. */
function loadX509(): Promise<X509> {
  x509 ??= import('reflect-metadata').then(() => import('@peculiar/x509'));
  return x509;
}

/** One SAN entry per host: IP addresses as iPAddress, the rest as dNSName. */
function altNames(hosts: string[]): { type: 'ip' | 'dns'; value: string }[] {
  return hosts.map((raw) => {
    const host = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
    if (isIP(host)) return { type: 'ip', value: host };
    if (!DNS_NAME.test(host))
      throw new Error(`generatePki: hosts entry ${JSON.stringify(raw)} is neither an IP address nor an ASCII DNS name`);
    return { type: 'dns', value: host };
  });
}

/** A random positive 128-bit serial number, as hex. */
function serialNumber(): string {
  const b = randomBytes(16);
  b[0] = ((b[0] ?? 0) & 0x7f) | 0x40;
  return b.toString('hex');
}

/** What a CA needs to sign: its certificate (for the issuer name and checks) and private key. */
interface SigningCa {
  cert: X509Certificate;
  name: string;
  privateKey: SigningKey;
  publicKey: SigningKey;
}

/** A self-signed CA (basicConstraints CA:true, pathLen 0; keyCertSign + cRLSign) valid until `notAfter`. */
async function createCa(notAfter: Date): Promise<{ ca: SigningCa; keyPem: string }> {
  const crypto = webcrypto as unknown as WebCrypto;
  const {
    BasicConstraintsExtension,
    KeyUsageFlags,
    KeyUsagesExtension,
    SubjectKeyIdentifierExtension,
    X509CertificateGenerator,
  } = await loadX509();
  const keys = await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const caName: Name = [{ O: [ORGANIZATION] }, { CN: [`vmware-dr simulator CA ${randomBytes(4).toString('hex')}`] }];
  const ca = await X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialNumber(),
      name: caName,
      notBefore: new Date(Date.now() - BACKDATE_MS),
      notAfter,
      keys,
      signingAlgorithm: ALGORITHM,
      extensions: [
        new BasicConstraintsExtension(true, 0, true),
        new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
        await SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return {
    ca: {
      cert: new X509Certificate(Buffer.from(ca.rawData)),
      name: ca.subject,
      privateKey: keys.privateKey,
      publicKey: keys.publicKey,
    },
    keyPem: KeyObject.from(keys.privateKey as unknown as webcrypto.CryptoKey)
      .export({ type: 'pkcs8', format: 'pem' })
      .toString(),
  };
}

/** A server certificate for `hosts` (SAN for each, serverAuth) signed by `ca`, checked against it. */
async function issueLeaf(
  ca: SigningCa,
  hosts: string[],
  commonName: string,
  notAfter: Date,
): Promise<{ certPem: string; keyPem: string; fingerprint256: string }> {
  const sans = altNames(hosts);
  const crypto = webcrypto as unknown as WebCrypto;
  const {
    AuthorityKeyIdentifierExtension,
    BasicConstraintsExtension,
    ExtendedKeyUsage,
    ExtendedKeyUsageExtension,
    KeyUsageFlags,
    KeyUsagesExtension,
    SubjectAlternativeNameExtension,
    SubjectKeyIdentifierExtension,
    X509CertificateGenerator,
  } = await loadX509();
  const leafKeys = await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const leaf = await X509CertificateGenerator.create(
    {
      serialNumber: serialNumber(),
      subject: [{ O: [ORGANIZATION] }, { CN: [commonName] }] satisfies Name,
      issuer: ca.name,
      notBefore: new Date(Date.now() - BACKDATE_MS),
      notAfter,
      publicKey: leafKeys.publicKey,
      signingKey: ca.privateKey,
      signingAlgorithm: ALGORITHM,
      extensions: [
        new BasicConstraintsExtension(false, undefined, true),
        new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
        new ExtendedKeyUsageExtension([ExtendedKeyUsage.serverAuth]),
        new SubjectAlternativeNameExtension(sans),
        await SubjectKeyIdentifierExtension.create(leafKeys.publicKey, false, crypto),
        await AuthorityKeyIdentifierExtension.create(ca.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const leafCert = new X509Certificate(Buffer.from(leaf.rawData));
  if (!leafCert.checkIssued(ca.cert) || !leafCert.verify(ca.cert.publicKey)) {
    throw new Error('generatePki: internal error, leaf certificate does not verify against the CA');
  }
  return {
    certPem: leafCert.toString(),
    keyPem: KeyObject.from(leafKeys.privateKey as unknown as webcrypto.CryptoKey)
      .export({ type: 'pkcs8', format: 'pem' })
      .toString(),
    fingerprint256: leafCert.fingerprint256,
  };
}

/**
 * A fresh CA and a server certificate signed by it (SAN for every host, serverAuth), both
 * starting five minutes in the past. Works with `https.createServer({ cert: certPem, key: keyPem })`
 * and a client that trusts only `caCertPem` (or pins `fingerprint256`). After `keepPkiIn(dir)`,
 * the CA and certificate come from (and go to) that directory instead; see `loadOrCreatePki`.
 */
export async function generatePki(opts: GeneratePkiOptions = {}): Promise<GeneratedPki> {
  const hosts = opts.hosts ?? DEFAULT_HOSTS;
  const days = opts.days ?? 30;
  if (hosts.length === 0) throw new Error('generatePki: hosts must name at least one host');
  if (!(days > 0)) throw new Error(`generatePki: days must be positive, got ${days}`);
  altNames(hosts);
  if (keptDir !== undefined) return loadOrCreatePki(keptDir, opts);
  const leafNotAfter = new Date(Date.now() + days * DAY_MS);
  const { ca } = await createCa(new Date(leafNotAfter.getTime() + DAY_MS));
  const leaf = await issueLeaf(ca, hosts, opts.commonName ?? hosts[0] ?? 'localhost', leafNotAfter);
  return { caCertPem: ca.cert.toString(), ...leaf };
}

/** Files of a kept PKI directory. Keys are written mode 0600. */
export const PKI_FILES = {
  caCert: 'ca.pem',
  caKey: 'ca-key.pem',
  cert: 'server.pem',
  key: 'server-key.pem',
} as const;

/** Validity of a kept CA: long, since other machines trust its file (10 years). */
export const KEPT_CA_DAYS = 3650;
/** A kept certificate expiring sooner than this is replaced. */
const RENEW_BEFORE_MS = DAY_MS;

let keptDir: string | undefined;

/**
 * From now on in this process, `generatePki` keeps its CA and server certificate in `dir`
 * (undefined: back to fresh ones per call). How `vmware-dr simulator --cert-dir` makes the
 * simulator's CA a stable file that other containers mount.
 */
export function keepPkiIn(dir: string | undefined): void {
  keptDir = dir;
}

/** Whether `cert` names every host (DNS via checkHost, IPs via checkIP). */
function covers(cert: X509Certificate, hosts: string[]): boolean {
  return hosts.every((raw) => {
    const host = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
    return isIP(host) ? cert.checkIP(host) !== undefined : cert.checkHost(host, { wildcards: false }) !== undefined;
  });
}

const stillValid = (cert: X509Certificate) => Date.parse(cert.validTo) - Date.now() > RENEW_BEFORE_MS;

/** The kept CA in `dir`, when both files are there, it is a CA, and it is not about to expire. */
async function readKeptCa(dir: string): Promise<SigningCa | undefined> {
  const certFile = join(dir, PKI_FILES.caCert);
  const keyFile = join(dir, PKI_FILES.caKey);
  if (!existsSync(certFile) || !existsSync(keyFile)) return undefined;
  const cert = new X509Certificate(await readFile(certFile));
  if (!cert.ca || !stillValid(cert)) return undefined;
  const crypto = webcrypto as unknown as WebCrypto;
  const keyDer = createPrivateKey(await readFile(keyFile)).export({ type: 'pkcs8', format: 'der' });
  const privateKey = await crypto.subtle.importKey('pkcs8', keyDer, ALGORITHM, true, ['sign']);
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  const publicKey = await crypto.subtle.importKey('spki', spki, ALGORITHM, true, ['verify']);
  const { X509Certificate: PeculiarCertificate } = await loadX509();
  return { cert, name: new PeculiarCertificate(cert.raw).subject, privateKey, publicKey };
}

/**
 * The PKI kept in `dir` (created if missing): the CA in `ca.pem`/`ca-key.pem` is reused while
 * valid (a new one is made, 10 years, when missing or expiring); the server certificate in
 * `server.pem`/`server-key.pem` is reused when that CA issued it, it covers every host and it is
 * valid for more than a day, else reissued.
 */
export async function loadOrCreatePki(dir: string, opts: GeneratePkiOptions = {}): Promise<GeneratedPki> {
  const hosts = opts.hosts ?? DEFAULT_HOSTS;
  const days = opts.days ?? 30;
  await mkdir(dir, { recursive: true });
  let ca = await readKeptCa(dir);
  if (!ca) {
    const created = await createCa(new Date(Date.now() + KEPT_CA_DAYS * DAY_MS));
    ca = created.ca;
    await writeFile(join(dir, PKI_FILES.caKey), created.keyPem, { mode: 0o600 });
    await chmod(join(dir, PKI_FILES.caKey), 0o600);
    await writeFile(join(dir, PKI_FILES.caCert), ca.cert.toString());
  }
  const certFile = join(dir, PKI_FILES.cert);
  const keyFile = join(dir, PKI_FILES.key);
  if (existsSync(certFile) && existsSync(keyFile)) {
    const cert = new X509Certificate(await readFile(certFile));
    if (cert.checkIssued(ca.cert) && cert.verify(ca.cert.publicKey) && covers(cert, hosts) && stillValid(cert)) {
      return {
        caCertPem: ca.cert.toString(),
        certPem: cert.toString(),
        keyPem: await readFile(keyFile, 'utf8'),
        fingerprint256: cert.fingerprint256,
      };
    }
  }
  const leaf = await issueLeaf(
    ca,
    hosts,
    opts.commonName ?? hosts[0] ?? 'localhost',
    new Date(Date.now() + days * DAY_MS),
  );
  await writeFile(keyFile, leaf.keyPem, { mode: 0o600 });
  await chmod(keyFile, 0o600);
  await writeFile(certFile, leaf.certPem);
  return { caCertPem: ca.cert.toString(), ...leaf };
}
