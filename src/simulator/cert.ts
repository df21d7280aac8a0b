/**
 * Throw-away PKI for the simulator: a fresh CA and a server certificate signed by it.
 *
 * Hand-written minimal DER encoder on top of node:crypto, on purpose: `@peculiar/x509` needs
 * `tsyringe`, which throws at import time unless a `Reflect.getMetadata` polyfill
 * (`reflect-metadata`) is loaded first, and that package is not a dependency.
 *
 * Keys are ECDSA P-256, signatures ecdsa-with-SHA256. Certificates are X.509 v3 and are
 * parsed back with `crypto.X509Certificate` (and the leaf checked against the CA) before
 * they are returned, so a malformed encoding fails here and not in a TLS handshake.
 */
import { X509Certificate, createHash, generateKeyPair, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

export interface GeneratedPki {
  caCertPem: string;
  certPem: string;
  keyPem: string;
  /** leaf SHA-256 fingerprint in Node's 'AB:CD:..' form */
  fingerprint256: string;
}

export interface GeneratePkiOptions {
  /** Names and IP addresses the leaf is valid for. Default `['127.0.0.1', 'localhost', '::1']`. */
  hosts?: string[];
  /** Validity of the leaf in days (the CA lasts one day longer). Default 30. */
  days?: number;
  /** Leaf subject CN. Default: the first host. */
  commonName?: string;
}

const DEFAULT_HOSTS = ['127.0.0.1', 'localhost', '::1'];
/** Certificates start this long in the past, to tolerate clock skew between processes/hosts. */
const BACKDATE_MS = 5 * 60_000;
const DAY_MS = 24 * 60 * 60_000;

// ---------------------------------------------------------------------------------------------
// DER
// ---------------------------------------------------------------------------------------------

function tlv(tag: number, content: Buffer): Buffer {
  const len = content.length;
  let header: Buffer;
  if (len < 0x80) {
    header = Buffer.from([tag, len]);
  } else {
    const lenBytes: number[] = [];
    for (let n = len; n > 0; n = Math.floor(n / 256)) lenBytes.unshift(n & 0xff);
    header = Buffer.from([tag, 0x80 | lenBytes.length, ...lenBytes]);
  }
  return Buffer.concat([header, content]);
}

const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const octetString = (b: Buffer): Buffer => tlv(0x04, b);
const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
const utf8String = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
/** Context-specific, constructed ([n] EXPLICIT). */
const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 | n, inner);

/** Non-negative INTEGER from big-endian magnitude bytes (minimal encoding). */
function uintBytes(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  let body = b.subarray(i);
  if (body.length === 0) body = Buffer.from([0]);
  if ((body[0] ?? 0) & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return tlv(0x02, body);
}
const int = (n: number): Buffer => {
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return uintBytes(Buffer.from(bytes));
};

function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => Number(a));
  const [a0, a1, ...rest] = arcs;
  if (a0 === undefined || a1 === undefined) throw new Error(`bad OID ${dotted}`);
  const out: number[] = [a0 * 40 + a1];
  for (const arc of rest) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** BIT STRING of named bits (bit 0 = most significant bit of the first byte), DER-minimal. */
function namedBits(bits: number[]): Buffer {
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) | (0x80 >> (bit & 7));
  const unused = 7 - (highest % 8);
  return tlv(0x03, Buffer.concat([Buffer.from([unused]), bytes]));
}

/** UTCTime until 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
function time(d: Date): Buffer {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  const year = d.getUTCFullYear();
  if (year < 2050) return tlv(0x17, Buffer.from(`${p(year % 100)}${rest}`, 'ascii'));
  return tlv(0x18, Buffer.from(`${p(year, 4)}${rest}`, 'ascii'));
}

// ---------------------------------------------------------------------------------------------
// X.509 pieces
// ---------------------------------------------------------------------------------------------

const OID = {
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

function name(cn: string): Buffer {
  return seq(
    set(seq(oid(OID.organizationName), utf8String('vmware-dr simulator'))),
    set(seq(oid(OID.commonName), utf8String(cn))),
  );
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), bool(true), octetString(value)) : seq(oid(id), octetString(value));
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING value. */
function keyIdentifier(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (!jwk.x || !jwk.y) throw new Error('expected an EC public key');
  const point = Buffer.concat([Buffer.from([0x04]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
  return createHash('sha1').update(point).digest();
}

function serialNumber(): Buffer {
  const b = randomBytes(16);
  b[0] = ((b[0] ?? 0) & 0x7f) | 0x40; // positive, 16 significant bytes
  return uintBytes(b);
}

/** IPv4 → 4 bytes, IPv6 (optionally with an embedded IPv4 tail) → 16 bytes. */
function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map((o) => Number(o)));
  let text = ip;
  const groups: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  let v4Tail: number[] = [];
  if (tail.includes('.')) {
    const o = tail.split('.').map((x) => Number(x));
    v4Tail = [((o[0] ?? 0) << 8) | (o[1] ?? 0), ((o[2] ?? 0) << 8) | (o[3] ?? 0)];
    text = text.slice(0, lastColon + 1) + '0'; // placeholder, replaced below
  }
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const dbl = text.indexOf('::');
  if (dbl >= 0) {
    const head = parse(text.slice(0, dbl));
    const rest = parse(text.slice(dbl + 2));
    if (v4Tail.length) rest.pop();
    const fill = 8 - head.length - rest.length - v4Tail.length;
    groups.push(...head, ...new Array<number>(fill).fill(0), ...rest, ...v4Tail);
  } else {
    const all = parse(text);
    if (v4Tail.length) all.pop();
    groups.push(...all, ...v4Tail);
  }
  if (groups.length !== 8) throw new Error(`cannot encode IPv6 address ${ip}`);
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

function subjectAltName(hosts: string[]): Buffer {
  const names = hosts.map((raw) => {
    const host = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
    if (isIP(host)) return tlv(0x87, ipBytes(host)); // [7] iPAddress
    if (!/^[A-Za-z0-9*]([A-Za-z0-9.*-]*[A-Za-z0-9])?$/.test(host)) {
      throw new Error(`generatePki: hosts entry ${JSON.stringify(raw)} is neither an IP address nor an ASCII DNS name`);
    }
    return tlv(0x82, Buffer.from(host, 'ascii')); // [2] dNSName
  });
  return seq(...names);
}

interface CertSpec {
  subject: Buffer;
  issuer: Buffer;
  notBefore: Date;
  notAfter: Date;
  subjectPublicKey: KeyObject;
  signingKey: KeyObject;
  extensions: Buffer[];
}

function certificate(spec: CertSpec): X509Certificate {
  const sigAlg = seq(oid(OID.ecdsaWithSha256));
  const tbs = seq(
    explicit(0, int(2)), // v3
    serialNumber(),
    sigAlg,
    spec.issuer,
    seq(time(spec.notBefore), time(spec.notAfter)),
    spec.subject,
    spec.subjectPublicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...spec.extensions)),
  );
  const signature = sign('sha256', tbs, spec.signingKey); // DER ECDSA-Sig-Value
  const der = seq(tbs, sigAlg, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  return new X509Certificate(der);
}

function ecKeyPair(): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  return new Promise((resolve, reject) => {
    generateKeyPair('ec', { namedCurve: 'prime256v1' }, (err, publicKey, privateKey) => {
      if (err) reject(err);
      else resolve({ publicKey, privateKey });
    });
  });
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
  const commonName = opts.commonName ?? hosts[0] ?? 'localhost';

  const [caKeys, leafKeys] = await Promise.all([ecKeyPair(), ecKeyPair()]);
  const now = Date.now();
  const notBefore = new Date(now - BACKDATE_MS);
  const leafNotAfter = new Date(now + days * DAY_MS);
  const caNotAfter = new Date(leafNotAfter.getTime() + DAY_MS);

  const caName = name(`vmware-dr simulator CA ${randomBytes(4).toString('hex')}`);
  const caKeyId = keyIdentifier(caKeys.publicKey);

  const ca = certificate({
    subject: caName,
    issuer: caName,
    notBefore,
    notAfter: caNotAfter,
    subjectPublicKey: caKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      extension(OID.basicConstraints, true, seq(bool(true), int(0))),
      extension(OID.keyUsage, true, namedBits([KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign])),
      extension(OID.subjectKeyIdentifier, false, octetString(caKeyId)),
    ],
  });

  const leaf = certificate({
    subject: name(commonName),
    issuer: caName,
    notBefore,
    notAfter: leafNotAfter,
    subjectPublicKey: leafKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      extension(OID.basicConstraints, true, seq()),
      extension(OID.keyUsage, true, namedBits([KEY_USAGE.digitalSignature])),
      extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))),
      extension(OID.subjectAltName, false, subjectAltName(hosts)),
      extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(leafKeys.publicKey))),
      extension(OID.authorityKeyIdentifier, false, seq(tlv(0x80, caKeyId))), // [0] keyIdentifier
    ],
  });

  if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) {
    throw new Error('generatePki: internal error, leaf certificate does not verify against the CA');
  }

  return {
    caCertPem: ca.toString(),
    certPem: leaf.toString(),
    keyPem: leafKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    fingerprint256: leaf.fingerprint256,
  };
}
