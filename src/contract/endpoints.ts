/**
 * Endpoint configuration: what workflow inputs carry to reach an appliance. No secret values:
 * passwords are references (`env:NAME`, `file:/path`) resolved inside activities.
 */
import { z } from 'zod';
import { MAX_NAME_LENGTH } from './names';

/** The backup location protocols, as vCenter's appliance-recovery API names them (`LocationType`). */
export const LOCATION_TYPES = ['FTP', 'HTTP', 'FTPS', 'HTTPS', 'SCP', 'SFTP', 'NFS', 'SMB'] as const;

/** Longest URL, path or free text field of an input. */
export const MAX_URL_LENGTH = 2048;
/** Default bound of one step, busy waits included (6 h). */
export const DEFAULT_STEP_TIMEOUT_MS = 6 * 60 * 60 * 1000;
/** Shortest and longest step deadline an input may ask for (1 s, 7 days). */
export const MIN_STEP_TIMEOUT_MS = 1_000;
export const MAX_STEP_TIMEOUT_MS = 7 * 24 * 60 * 60 * 1000;
/**
 * Longest wait between polls: below vCenter's default 30-minute session idle timeout, so a poll
 * keeps the session alive instead of meeting a 401 every time.
 */
export const MAX_POLL_INTERVAL_MS = 25 * 60_000;

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** An appliance (or other) name: 1–64 letters, digits, `.`, `_`, `-`. */
export const Name = z
  .string()
  .max(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`)
  .regex(NAME_PATTERN, 'must be 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit');

/**
 * Schemes a reference may use without a resolver registered in the workflow: `env:NAME` and
 * `file:/absolute/path`. Other schemes (`vault:…`) pass the shape check here and are checked
 * against the worker's registered resolvers when resolved.
 */
const REF_SHAPES: readonly RegExp[] = [
  /^env:[A-Za-z_][A-Za-z0-9_]*$/,
  /^file:\/[^\0\r\n]*$/,
  /^[a-z][a-z0-9+.-]{1,31}:[^\s]+$/,
];
/** URL schemes that are addresses, never secret stores: `https://…` in a password field is a mistake. */
const NOT_SECRET_SCHEMES = /^(https?|s?ftps?|ssh|scp|nfs|smb|cifs|ldaps?|mailto|data|javascript):/i;

/** Whether `value` has the shape of a secret reference (it does not resolve it). Pure. */
export function looksLikeSecretRef(value: string): boolean {
  return value.length <= MAX_URL_LENGTH && !NOT_SECRET_SCHEMES.test(value) && REF_SHAPES.some((re) => re.test(value));
}

/**
 * The message for a secret field holding something that is not a reference. Never repeats the
 * value, and says nothing of where the value now is: `checkInput` adds that, as it knows (a run's
 * history, a file, or nowhere yet).
 */
export function literalSecretMessage(field?: string): string {
  return (
    `${field ? `${field} ` : ''}must be a secret reference (env:NAME, file:/absolute/path, or a scheme your worker registers), ` +
    'never the secret itself'
  );
}

/** The zod `params` key that marks the issue of a literal secret (see `checkInput`). */
export const LITERAL_SECRET_PARAM = 'literalSecret';

/** A field holding a reference to a secret, never the secret. */
export const secretRef = () =>
  z.string().refine((v) => looksLikeSecretRef(v), {
    message: literalSecretMessage(),
    params: { [LITERAL_SECRET_PARAM]: true },
  });

/** SHA-256 thumbprint: 64 hex digits, with or without `:` between pairs. */
const SHA256_THUMBPRINT = /^(?:[0-9a-fA-F]{64}|[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){31})$/;
const SHA1_THUMBPRINT = /^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){19})$/;

export const TlsSettings = z
  .object({
    /** PEM CA bundle trusted for this endpoint (an absolute path on the worker). */
    caFile: z
      .string()
      .max(MAX_URL_LENGTH)
      .regex(/^\/[^\0\r\n]*$/, 'must be an absolute path on the worker, e.g. /etc/vmware-dr/ca.pem')
      .optional()
      .describe('PEM CA bundle trusted for this endpoint: an absolute path on the worker.'),
    /** SHA-256 thumbprint of the appliance certificate (hex, with or without colons). */
    thumbprint: z
      .string()
      .max(200)
      .superRefine((v, ctx) => {
        const t = v.trim();
        if (SHA256_THUMBPRINT.test(t)) return;
        ctx.addIssue({
          code: 'custom',
          message: SHA1_THUMBPRINT.test(t)
            ? 'is a SHA-1 thumbprint (40 hex digits): give the SHA-256 one (64 hex digits), e.g. openssl x509 -noout -fingerprint -sha256'
            : 'must be a SHA-256 thumbprint: 64 hex digits, optionally as AB:CD:… pairs',
        });
      })
      .optional()
      .describe('SHA-256 thumbprint of the appliance certificate (hex, with or without colons): pins it.'),
    /** Skip verification. Explicit only (true or false); every connect logs a warning. */
    insecure: z
      .boolean()
      .optional()
      .describe('Skip certificate verification. Explicit only; every connection logs a warning. Default: false.'),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.insecure === true && (t.caFile !== undefined || t.thumbprint !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['insecure'],
        message: 'insecure: true cannot be combined with caFile or thumbprint: keep one of them',
      });
    }
    if (t.caFile !== undefined && t.thumbprint !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['thumbprint'],
        message:
          'caFile and thumbprint are mutually exclusive: verify the chain (caFile) or pin the certificate (thumbprint)',
      });
    }
  });
export type TlsSettings = z.infer<typeof TlsSettings>;

/**
 * `scheme://host[:port][/path]`, nothing else: no user info (credentials belong in references),
 * no query, no fragment. Hosts: a DNS name, IPv4, or [IPv6].
 */
const URL_PATTERN =
  /^(https?):\/\/((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?(\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$/;

/** What is wrong with an appliance URL, or undefined. Never repeats the URL (it may hold a password). */
export function urlProblem(url: string, allowHttp: boolean): string | undefined {
  if (url.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return 'must be an absolute URL such as https://vc01.example.com (the scheme is missing)';
  if (scheme !== 'https' && scheme !== 'http')
    return `must use https:// (got ${scheme}:), e.g. https://vc01.example.com`;
  const rest = url.slice(scheme.length + 3);
  if (!url.slice(scheme.length).startsWith('://')) return 'must be an absolute URL such as https://vc01.example.com';
  if (/^[^/?#]*@/.test(rest))
    return 'must not carry a user name or password (user@host): put the user in username and the password in passwordRef';
  if (/[?#]/.test(rest)) return 'must not have a query (?…) or fragment (#…)';
  const m = URL_PATTERN.exec(url);
  if (!m) return 'must be https://host[:port][/path] with a valid host name or address';
  if (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 65535)) return 'has a port outside 1–65535';
  if (scheme === 'http' && !allowHttp)
    return 'uses plain http://, which sends the password unencrypted: use https://, or set allowHttp: true knowingly';
  return undefined;
}

const endpointBase = {
  /** Name used in logs, errors, step ids and search attributes. Default: the URL's host. */
  name: Name.optional().describe("Name used in logs, errors and search attributes. Default: the URL's host."),
  /** Base URL, e.g. `https://vc01.example.com`: https, no user info, no query or fragment. */
  url: z.string().describe('Base URL, e.g. https://vc01.example.com: https, no user info, no query or fragment.'),
  /** Accept a plain `http://` URL. Default false: the password would cross the network in clear. */
  allowHttp: z
    .boolean()
    .optional()
    .describe('Accept a plain http:// URL (the password would cross the network in clear). Default: false.'),
  username: z.string().min(1).max(256).describe('The user the appliance API logs in as.'),
  /** Secret reference for the password. */
  passwordRef: secretRef().describe(
    'Secret reference for the password: env:NAME or file:/path, resolved on the worker.',
  ),
  tls: TlsSettings.optional().describe('How the appliance certificate is trusted. Default: the system CAs.'),
};

/** The URL check, on the endpoint object (it needs `allowHttp`). */
function checkEndpointUrl(e: { url: string; allowHttp?: boolean }, ctx: z.core.$RefinementCtx): void {
  const problem = urlProblem(e.url, e.allowHttp === true);
  if (problem) ctx.addIssue({ code: 'custom', path: ['url'], message: problem });
}

/** The fields of each product's endpoint (for documents that add their own, such as a runbook's `product`). */
export const ENDPOINT_FIELDS = {
  vcenter: {
    ...endpointBase,
    /** `api` (7.0U2+), `rest` (legacy) or `auto` (try /api, fall back to /rest). Default `auto`. */
    apiForm: z
      .enum(['api', 'rest', 'auto'])
      .optional()
      .describe('vCenter API form: api (7.0U2+), rest (legacy) or auto (try /api, fall back to /rest). Default: auto.'),
  },
  'sddc-manager': {
    ...endpointBase,
    /** How restore calls authenticate: `bearer` token (VCF 4.5+) or HTTP `basic` (the appliance's basic-auth user). Default `bearer`. */
    restoreAuth: z
      .enum(['bearer', 'basic'])
      .optional()
      .describe('How SDDC Manager restore calls authenticate: bearer token (VCF 4.5+) or HTTP basic. Default: bearer.'),
  },
  vcda: {
    ...endpointBase,
    /** Session type: `localUser` (appliance root), `ssoCredentials` or `vcdCredentials`. Default `localUser`. */
    authType: z
      .enum(['localUser', 'ssoCredentials', 'vcdCredentials'])
      .optional()
      .describe('VCDA session type: localUser (appliance root), ssoCredentials or vcdCredentials. Default: localUser.'),
    /** API version in the `Accept` media type. Default `4.5`. */
    apiVersion: z
      .string()
      .regex(/^\d+(\.\d+)?$/, 'must be a version such as 4.5')
      .optional()
      .describe('VCDA API version in the Accept media type. Default: 4.5.'),
  },
} as const;

/** An endpoint object from its fields: strict (unknown fields named), URL checked. */
export function endpointSchema<F extends z.core.$ZodShape & typeof endpointBase>(
  fields: F,
): z.ZodObject<F, z.core.$strict> {
  return z
    .object(fields)
    .strict()
    .superRefine((e, ctx) => checkEndpointUrl(e as { url: string; allowHttp?: boolean }, ctx));
}

export const VcenterEndpoint = endpointSchema(ENDPOINT_FIELDS.vcenter);
export type VcenterEndpoint = z.infer<typeof VcenterEndpoint>;

export const SddcManagerEndpoint = endpointSchema(ENDPOINT_FIELDS['sddc-manager']);
export type SddcManagerEndpoint = z.infer<typeof SddcManagerEndpoint>;

export const VcdaEndpoint = endpointSchema(ENDPOINT_FIELDS.vcda);
export type VcdaEndpoint = z.infer<typeof VcdaEndpoint>;

/**
 * The one name of an appliance, everywhere (workflow results, step ids, logs, search attributes):
 * its `name`, else the URL's host[:port]. Pure string work, so workflows can call it too; never
 * includes user info, path or query.
 */
export function endpointName(e: { name?: string; url: string }): string {
  if (e.name) return e.name;
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^/?#@]*@)?([^/?#]+)/.exec(e.url);
  return (m?.[1] ?? 'appliance').toLowerCase();
}

/** The identity of the appliance itself (product and host:port), whatever a runbook names it. */
export function applianceKey(product: string, e: { url: string }): string {
  return `${product}/${endpointName({ url: e.url })}`;
}
