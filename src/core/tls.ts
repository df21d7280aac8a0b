/**
 * TLS policy for HTTPS connections to the appliances (vCenter, SDDC Manager, VCDA).
 *
 * All three ship self-signed certificates, so each endpoint chooses exactly one of:
 *  - nothing: normal verification against Node's default CAs (chain + hostname);
 *  - `caFile`: verification against ONLY the CAs in that PEM bundle (chain + hostname);
 *  - `thumbprint`: SHA-256 pin of the leaf certificate; chain and hostname are not checked,
 *    the presented leaf must match the pin;
 *  - `insecure: true`: no verification at all; warns on every new connection.
 *
 * The pin is checked in a wrapper around undici's connector, after the handshake and before
 * the connection is handed to undici (so before any request byte is written). It cannot live
 * in `checkServerIdentity`: Node only calls that when chain verification has succeeded, and
 * with `rejectUnauthorized: false` a failed chain skips it entirely.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { Agent, buildConnector } from 'undici';

export interface TlsOptions {
  /** Path to a PEM CA bundle trusted for this endpoint (in addition to nothing else: when set, only these CAs). */
  caFile?: string;
  /** SHA-256 thumbprint of the server's leaf certificate: hex, upper/lower case, with or without ':' separators. When set, the chain is NOT checked; the leaf must match. */
  thumbprint?: string;
  /** Skip all verification. Must be explicit; every connect logs a warning. */
  insecure?: boolean;
}

export interface DispatcherOptions {
  tls?: TlsOptions;
  /** who to warn; default console.warn */
  warn?: (msg: string) => void;
  /** label for messages, e.g. 'vcenter vc-1 (https://...)' */
  label?: string;
  /** TCP + TLS handshake timeout. Default: undici's (10 s). */
  connectTimeoutMs?: number;
  /** Idle keep-alive socket timeout. Default: undici's (4 s). */
  keepAliveTimeoutMs?: number;
}

/** Invalid `tls` settings. Raised by {@link createDispatcher} / {@link normaliseThumbprint}, never at request time. */
export class TlsConfigError extends Error {
  readonly code = 'VMWARE_DR_TLS_CONFIG';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TlsConfigError';
  }
}

/** The server presented a leaf certificate whose SHA-256 fingerprint is not the configured pin. */
export class CertificatePinMismatchError extends Error {
  readonly code = 'VMWARE_DR_TLS_PIN_MISMATCH';
  /** Configured pin, 'AB:CD:..' form. */
  readonly expected: string;
  /** Fingerprint of the certificate the server presented, 'AB:CD:..' form ('(none)' if it sent none). */
  readonly actual: string;
  constructor(expected: string, actual: string, label?: string) {
    super(
      `TLS certificate pin mismatch${label ? ` for ${label}` : ''}: expected SHA-256 thumbprint ${expected}, ` +
        `but the server presented ${actual}. The connection was closed before any request was sent. ` +
        `If the appliance's certificate was legitimately replaced, verify the new thumbprint out of band ` +
        `and update tls.thumbprint${/^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/.test(actual) ? ` to ${actual}` : ''}; ` +
        'otherwise treat this as a possible interception.',
    );
    this.name = 'CertificatePinMismatchError';
    this.expected = expected;
    this.actual = actual;
  }
}

const THUMBPRINT_FORM =
  "64 hex digits (SHA-256), upper or lower case, optionally ':'-separated in pairs, e.g. 'AB:CD:…' as shown by `openssl x509 -noout -fingerprint -sha256`";

/**
 * Normalises a SHA-256 thumbprint to Node's `cert.fingerprint256` form: uppercase hex pairs
 * joined by ':'. Throws {@link TlsConfigError} naming `tls.thumbprint` on anything else.
 */
export function normaliseThumbprint(tp: string): string {
  const bad = (why: string): TlsConfigError => new TlsConfigError(`tls.thumbprint ${why}; expected ${THUMBPRINT_FORM}`);
  if (typeof tp !== 'string') throw bad(`must be a string, got ${typeof tp}`);
  const trimmed = tp.trim();
  if (trimmed === '') throw bad('is empty');
  let hex: string;
  if (trimmed.includes(':')) {
    const pairs = trimmed.split(':');
    if (!pairs.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) {
      throw bad(`${JSON.stringify(tp)} is not a sequence of ':'-separated hex pairs`);
    }
    hex = pairs.join('');
  } else {
    if (!/^[0-9a-fA-F]+$/.test(trimmed)) throw bad(`${JSON.stringify(tp)} contains non-hex characters`);
    hex = trimmed;
  }
  if (hex.length === 40) {
    throw bad(`${JSON.stringify(tp)} has 40 hex digits, which is a SHA-1 thumbprint; a SHA-256 thumbprint is required`);
  }
  if (hex.length !== 64) throw bad(`${JSON.stringify(tp)} has ${hex.length} hex digits`);
  return hex.toUpperCase().match(/../g)!.join(':');
}

type Mode = { kind: 'default' } | { kind: 'ca'; ca: string } | { kind: 'pin'; pin: string } | { kind: 'insecure' };

function resolveMode(tls: TlsOptions | undefined): Mode {
  if (!tls) return { kind: 'default' };
  const hasCa = tls.caFile !== undefined;
  const hasPin = tls.thumbprint !== undefined;
  if (tls.insecure !== undefined && typeof tls.insecure !== 'boolean') {
    throw new TlsConfigError(`tls.insecure must be true or false, got ${JSON.stringify(tls.insecure)}`);
  }
  if (tls.insecure === true && (hasCa || hasPin)) {
    const other = hasCa && hasPin ? 'tls.caFile and tls.thumbprint' : hasCa ? 'tls.caFile' : 'tls.thumbprint';
    throw new TlsConfigError(
      `tls.insecure: true cannot be combined with ${other}: remove tls.insecure to verify the server, ` +
        `or remove ${other} to deliberately skip verification`,
    );
  }
  if (hasCa && hasPin) {
    throw new TlsConfigError(
      'tls.caFile and tls.thumbprint are mutually exclusive: remove tls.thumbprint to verify the chain against the CA bundle, ' +
        'or remove tls.caFile to pin the leaf certificate',
    );
  }
  if (tls.insecure === true) return { kind: 'insecure' };
  if (hasPin) return { kind: 'pin', pin: normaliseThumbprint(tls.thumbprint as string) };
  if (hasCa) return { kind: 'ca', ca: readCaFile(tls.caFile as string) };
  return { kind: 'default' };
}

function readCaFile(path: string): string {
  if (typeof path !== 'string' || path.trim() === '') {
    throw new TlsConfigError(`tls.caFile must be a path to a PEM CA bundle, got ${JSON.stringify(path)}`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new TlsConfigError(`tls.caFile ${JSON.stringify(path)} cannot be read: ${detail}`, { cause: err });
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) {
    throw new TlsConfigError(
      `tls.caFile ${JSON.stringify(path)} contains no PEM certificate (expected one or more '-----BEGIN CERTIFICATE-----' blocks)`,
    );
  }
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new TlsConfigError(
        `tls.caFile ${JSON.stringify(path)}: certificate #${i + 1} is not valid PEM/X.509: ${detail}`,
        {
          cause: err,
        },
      );
    }
  });
  return blocks.join('\n') + '\n';
}

/**
 * An undici Agent enforcing the endpoint's TLS policy (see the module comment). Configuration
 * errors throw {@link TlsConfigError} here, synchronously; a pin mismatch fails the request with
 * {@link CertificatePinMismatchError}; chain/hostname failures surface as Node's TLS errors
 * (`code` e.g. `SELF_SIGNED_CERT_IN_CHAIN`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `ERR_TLS_CERT_ALTNAME_INVALID`).
 */
export function createDispatcher(opts: DispatcherOptions = {}): Agent {
  const mode = resolveMode(opts.tls);
  const warn = opts.warn ?? ((msg: string) => console.warn(msg));
  const label = opts.label ?? 'HTTPS endpoint';
  const timeout = opts.connectTimeoutMs;

  let connect: buildConnector.connector;
  switch (mode.kind) {
    case 'default':
      connect = buildConnector({ timeout, rejectUnauthorized: true });
      break;
    case 'ca':
      connect = buildConnector({ timeout, rejectUnauthorized: true, ca: mode.ca });
      break;
    case 'pin': {
      // No TLS session resumption: on a resumed session Node's getPeerCertificate() returns {}
      // (the certificate is not re-sent), so every connection must do a full handshake.
      const base = buildConnector({ timeout, rejectUnauthorized: false, maxCachedSessions: 0 });
      connect = (options, callback) => {
        if (options.protocol !== 'https:') {
          callback(
            new TlsConfigError(`tls.thumbprint is set for ${label} but the URL is ${options.protocol}, not https:`),
            null,
          );
          return;
        }
        base(options, (err, socket) => {
          if (err || !socket) {
            callback(err ?? new Error('TLS connect failed without a socket'), null);
            return;
          }
          const actual = peerFingerprint256(socket as TLSSocket);
          if (actual !== mode.pin) {
            socket.destroy();
            callback(new CertificatePinMismatchError(mode.pin, actual ?? '(none)', label), null);
            return;
          }
          callback(null, socket);
        });
      };
      break;
    }
    case 'insecure': {
      const base = buildConnector({ timeout, rejectUnauthorized: false });
      connect = (options, callback) => {
        warn(
          `TLS certificate verification is DISABLED for ${label} (tls.insecure: true): connecting to ` +
            `${options.hostname}:${options.port || 443} without checking its certificate. ` +
            'Set tls.caFile or tls.thumbprint instead.',
        );
        base(options, callback);
      };
      break;
    }
  }

  return new Agent({
    connect,
    ...(opts.keepAliveTimeoutMs !== undefined ? { keepAliveTimeout: opts.keepAliveTimeoutMs } : {}),
  });
}

function peerFingerprint256(socket: TLSSocket): string | undefined {
  if (typeof socket.getPeerCertificate !== 'function') return undefined; // not TLS (http: URL)
  const cert = socket.getPeerCertificate();
  // An empty object when the peer sent no certificate.
  return typeof cert?.fingerprint256 === 'string' && cert.fingerprint256 !== '' ? cert.fingerprint256 : undefined;
}
