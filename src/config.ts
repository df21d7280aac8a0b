/**
 * Endpoint configuration: what workflow inputs carry to reach an appliance. No secret values:
 * passwords are references (`env:NAME`, `file:/path`) resolved inside activities.
 */
import { z } from 'zod';

const secretRef = (field: string) =>
  z
    .string()
    .regex(/^[a-z][a-z0-9+.-]*:.+$/i, `${field} must be a secret reference such as env:NAME or file:/path, never the secret itself`);

export const TlsSettings = z
  .object({
    /** PEM CA bundle trusted for this endpoint. */
    caFile: z.string().min(1).optional(),
    /** SHA-256 thumbprint of the appliance certificate (hex, with or without colons). */
    thumbprint: z.string().min(1).optional(),
    /** Skip verification. Explicit only; every connect logs a warning. */
    insecure: z.boolean().optional(),
  })
  .strict();
export type TlsSettings = z.infer<typeof TlsSettings>;

const endpointBase = {
  /** Name used in logs, errors and search attributes. Default: the URL's host. */
  name: z.string().min(1).optional(),
  /** Base URL, e.g. `https://vc01.example.com`. */
  url: z.url(),
  username: z.string().min(1),
  /** Secret reference for the password. */
  passwordRef: secretRef('passwordRef'),
  tls: TlsSettings.optional(),
};

export const VcenterEndpoint = z
  .object({
    ...endpointBase,
    /** `api` (7.0U2+), `rest` (legacy) or `auto` (try /api, fall back to /rest). Default `auto`. */
    apiForm: z.enum(['api', 'rest', 'auto']).optional(),
  })
  .strict();
export type VcenterEndpoint = z.infer<typeof VcenterEndpoint>;

export const SddcManagerEndpoint = z
  .object({
    ...endpointBase,
    /** How restore calls authenticate: `bearer` token (VCF 4.5+) or HTTP `basic` (the appliance's basic-auth user). Default `bearer`. */
    restoreAuth: z.enum(['bearer', 'basic']).optional(),
  })
  .strict();
export type SddcManagerEndpoint = z.infer<typeof SddcManagerEndpoint>;

export const VcdaEndpoint = z
  .object({
    ...endpointBase,
    /** Session type: `localUser` (appliance root), `ssoCredentials` or `vcdCredentials`. Default `localUser`. */
    authType: z.enum(['localUser', 'ssoCredentials', 'vcdCredentials']).optional(),
    /** API version in the `Accept` media type. Default `4.5`. */
    apiVersion: z.string().regex(/^\d+(\.\d+)?$/).optional(),
  })
  .strict();
export type VcdaEndpoint = z.infer<typeof VcdaEndpoint>;

/** The name of an endpoint for logs and errors. */
export function endpointName(e: { name?: string; url: string }): string {
  if (e.name) return e.name;
  try {
    return new URL(e.url).host;
  } catch {
    return e.url;
  }
}

export { secretRef };
