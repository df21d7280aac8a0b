/**
 * Throw-away PKI for the simulator: a fresh CA and a server certificate signed by it.
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
import { X509Certificate, KeyObject, randomBytes, webcrypto } from 'node:crypto';
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

/**
 * A fresh CA (basicConstraints CA:true, pathLen 0; keyCertSign + cRLSign) and a server
 * certificate signed by it (SAN for every host, serverAuth), both starting five minutes in
 * the past. Works with `https.createServer({ cert: certPem, key: keyPem })` and a client that
 * trusts only `caCertPem` (or pins `fingerprint256`).
 */
export async function generatePki(opts: GeneratePkiOptions = {}): Promise<GeneratedPki> {
  const hosts = opts.hosts ?? DEFAULT_HOSTS;
  const days = opts.days ?? 30;
  if (hosts.length === 0) throw new Error('generatePki: hosts must name at least one host');
  if (!(days > 0)) throw new Error(`generatePki: days must be positive, got ${days}`);
  const sans = altNames(hosts);
  const commonName = opts.commonName ?? hosts[0] ?? 'localhost';
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

  const [caKeys, leafKeys] = await Promise.all([
    crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']),
    crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']),
  ]);
  const now = Date.now();
  const notBefore = new Date(now - BACKDATE_MS);
  const leafNotAfter = new Date(now + days * DAY_MS);
  const caNotAfter = new Date(leafNotAfter.getTime() + DAY_MS);
  const caName: Name = [{ O: [ORGANIZATION] }, { CN: [`vmware-dr simulator CA ${randomBytes(4).toString('hex')}`] }];

  const ca = await X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialNumber(),
      name: caName,
      notBefore,
      notAfter: caNotAfter,
      keys: caKeys,
      signingAlgorithm: ALGORITHM,
      extensions: [
        new BasicConstraintsExtension(true, 0, true),
        new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
        await SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );

  const leaf = await X509CertificateGenerator.create(
    {
      serialNumber: serialNumber(),
      subject: [{ O: [ORGANIZATION] }, { CN: [commonName] }] satisfies Name,
      issuer: ca.subjectName,
      notBefore,
      notAfter: leafNotAfter,
      publicKey: leafKeys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: ALGORITHM,
      extensions: [
        new BasicConstraintsExtension(false, undefined, true),
        new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
        new ExtendedKeyUsageExtension([ExtendedKeyUsage.serverAuth]),
        new SubjectAlternativeNameExtension(sans),
        await SubjectKeyIdentifierExtension.create(leafKeys.publicKey, false, crypto),
        await AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );

  const caCert = new X509Certificate(Buffer.from(ca.rawData));
  const leafCert = new X509Certificate(Buffer.from(leaf.rawData));
  if (!leafCert.checkIssued(caCert) || !leafCert.verify(caCert.publicKey)) {
    throw new Error('generatePki: internal error, leaf certificate does not verify against the CA');
  }

  return {
    caCertPem: caCert.toString(),
    certPem: leafCert.toString(),
    keyPem: KeyObject.from(leafKeys.privateKey as unknown as webcrypto.CryptoKey)
      .export({ type: 'pkcs8', format: 'pem' })
      .toString(),
    fingerprint256: leafCert.fingerprint256,
  };
}
