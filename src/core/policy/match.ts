/**
 * The matching rules of the worker credential policy, pure string work: host[:port] patterns
 * (wildcard subdomains, default ports, IPv6), backup location prefixes (same scheme, host and
 * port; path equal or below on a `/` boundary), environment variable name patterns, file paths
 * inside allowed directories (lexically; src/core/policy/index.ts adds the realpath check) and approver
 * identity patterns. Every parser refuses what it cannot read unambiguously, so what is allowed
 * is exactly what the operator wrote.
 */

/** Default port of each URL scheme a location or an appliance may use (no port written = this one). */
export const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  https: 443,
  http: 80,
  sftp: 22,
  scp: 22,
  ftp: 21,
  ftps: 990,
  nfs: 2049,
  smb: 445,
  cifs: 445,
};

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const DNS_OR_IPV4 = `${LABEL}(?:\\.${LABEL})*`;
const IPV6 = '\\[[0-9A-Fa-f:.]+\\]';
const HOST_PATTERN = new RegExp(`^(\\*\\.)?(${IPV6}|${DNS_OR_IPV4})(?::(\\d{1,5}))?$`);
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** A parsed `hosts` entry. */
export interface HostPattern {
  /** `*.example.com`: any subdomain of `host` (not `host` itself). */
  wildcard: boolean;
  /** Lower case; IPv4 dotted; IPv6 in brackets, in its canonical short form. */
  host: string;
  /** Unset: the default port of the scheme of what is matched. */
  port?: number;
}

/** The canonical form of a host name or address (lower case, IPv6 compressed in brackets), or undefined. */
export function canonicalHost(host: string): string | undefined {
  try {
    const h = new URL(`https://${host}`).hostname;
    return h === '' ? undefined : h;
  } catch {
    return undefined;
  }
}

/** Parses a `host[:port]` pattern (`*.` for any subdomain; IPv6 in brackets); a string says what is wrong. */
export function parseHostPattern(text: string): HostPattern | string {
  const m = HOST_PATTERN.exec(text);
  if (!m) return 'is not a host[:port]';
  const wildcard = m[1] !== undefined;
  const host = canonicalHost(m[2]!);
  if (host === undefined) return `has a host that is not a valid name or address`;
  if (wildcard && (host.startsWith('[') || IPV4.test(host)))
    return 'uses "*." with an address ("*." matches subdomains of a DNS name only)';
  if (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 65_535)) return 'has a port outside 1–65535';
  return { wildcard, host, ...(m[3] !== undefined && { port: Number(m[3]) }) };
}

/** Whether `pattern` matches `host` (canonical) on `port` of a URL whose scheme's default port is `defaultPort`. */
export function hostMatches(
  pattern: HostPattern,
  host: string,
  port: number,
  defaultPort: number | undefined,
): boolean {
  if ((pattern.port ?? defaultPort) !== port) return false;
  if (!pattern.wildcard) return pattern.host === host;
  return !host.startsWith('[') && !IPV4.test(host) && host.endsWith(`.${pattern.host}`);
}

/** A URL's scheme, canonical host and effective port (the scheme's default when none is written). */
export interface UrlAuthority {
  scheme: string;
  host: string;
  port: number;
  /** The scheme's default port, when it has one. */
  defaultPort?: number;
  /** The path without trailing slashes (`''` for none). */
  path: string;
}

const URL_SHAPE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(\/[^?#\s]*)?$/;

/**
 * Reads `scheme://host[:port][/path]` strictly: no user info, query, fragment or percent-escapes
 * in the host, no `.`/`..` path segments or escaped dots and slashes (which an appliance could
 * read differently from this check). A string says what is wrong (never repeating the URL).
 */
export function parseAuthority(url: string): UrlAuthority | string {
  const m = URL_SHAPE.exec(url);
  if (!m) {
    if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*@/.test(url)) return 'carries user info (user@host)';
    if (/[?#]/.test(url)) return 'has a query or fragment';
    return 'is not scheme://host[:port]/path with a plain host name or address';
  }
  const scheme = m[1]!.toLowerCase();
  const host = canonicalHost(m[2]!);
  if (host === undefined) return 'has a host that is not a valid name or address';
  const defaultPort = DEFAULT_PORTS[scheme];
  const port = m[3] !== undefined ? Number(m[3]) : defaultPort;
  if (port === undefined) return `has no port and ${scheme}: has no default port known to the policy: write the port`;
  if (port < 1 || port > 65_535) return 'has a port outside 1–65535';
  const rawPath = m[4] ?? '';
  if (/%(2e|2f|5c)/i.test(rawPath) || rawPath.includes('\\'))
    return 'has an escaped dot, slash or a backslash in its path';
  if (rawPath.split('/').some((seg) => seg === '.' || seg === '..')) return 'has a "." or ".." segment in its path';
  return { scheme, host, port, ...(defaultPort !== undefined && { defaultPort }), path: rawPath.replace(/\/+$/, '') };
}

/**
 * Whether the location `url` is `prefix` or below it: same scheme, host and port, and the path
 * equal or under the prefix's path on a `/` boundary (`/vcsa` covers `/vcsa/vc01`, not `/vcsa-evil`).
 */
export function locationCovers(prefix: UrlAuthority, url: UrlAuthority): boolean {
  if (prefix.scheme !== url.scheme || prefix.host !== url.host || prefix.port !== url.port) return false;
  return prefix.path === '' || url.path === prefix.path || url.path.startsWith(`${prefix.path}/`);
}

/** An environment variable name pattern: `NAME` or a prefix `NAME_*` (at least one character before `*`). */
export const ENV_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*\*?$/;

/** Whether variable `name` matches `pattern` (exact, or a prefix when the pattern ends in `*`; case-sensitive). */
export function envMatches(pattern: string, name: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}

/**
 * An absolute path without `.`/`..` segments, repeated slashes collapsed and the trailing slash
 * dropped; or what is wrong with it.
 */
export function normalisePath(path: string): { path: string } | { problem: string } {
  if (!path.startsWith('/')) return { problem: 'is not an absolute path' };
  if (/[\0\r\n]/.test(path)) return { problem: 'has a control character' };
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) return { problem: 'has a "." or ".." segment' };
  return { path: `/${segments.join('/')}` };
}

/** Whether `path` is `root` itself or below it (both normalised absolute paths). */
export function pathInside(root: string, path: string): boolean {
  return root === '/' || path === root || path.startsWith(`${root}/`);
}
