/**
 * The worker credential policy's format: one zod schema, every field described, with the
 * load-time checks across entries (every bound reference readable under `secretSources`, known
 * location and appliance names, unique names), all problems at once. Reading a file with line
 * numbers is ./file.ts. Pure (zod).
 */
import { z } from 'zod';
import { MAX_URL_LENGTH, Name, looksLikeSecretRef } from '../../contract/endpoints';
import { ENV_PATTERN, envMatches, normalisePath, parseAuthority, parseHostPattern, pathInside } from './match';
import { closest } from '../../contract/closest';
import { PRODUCTS, type Product } from '../../contract/names';

export const POLICY_API_VERSION = 'vmware-dr/v1';
export const POLICY_KIND = 'WorkerPolicy';

/** The products a policy names: the products runbooks name. */
export const POLICY_PRODUCTS = PRODUCTS;
export type PolicyProduct = Product;

/** What each kind of secret of an appliance is used for. */
export const SECRET_PURPOSES = ['login', 'encryption', 'passphrase', 'ssoAdmin'] as const;
export type SecretPurpose = (typeof SECRET_PURPOSES)[number];

/** The runbook actions an approval rule names. */
export const POLICY_ACTIONS = ['backup', 'restore'] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

const AbsolutePath = z
  .string()
  .max(MAX_URL_LENGTH)
  .superRefine((v, ctx) => {
    const n = normalisePath(v);
    if ('problem' in n)
      ctx.addIssue({
        code: 'custom',
        message: `${JSON.stringify(v)} ${n.problem}. Fix: write an absolute path without "." or "..", e.g. /run/secrets`,
      });
  });

const EnvPattern = z
  .string()
  .max(256)
  .superRefine((v, ctx) => {
    if (v === '*' || !ENV_PATTERN.test(v))
      ctx.addIssue({
        code: 'custom',
        message:
          v === '*'
            ? '"*" would let runbooks read every variable of the worker. Fix: list the variables, or a prefix such as VMWARE_DR_SECRET_*'
            : `${JSON.stringify(v)} is not a variable name. Fix: write NAME or a prefix NAME_* (letters, digits, _; a trailing * only)`,
      });
  });

const SecretRefEntry = z
  .string()
  .max(MAX_URL_LENGTH)
  .superRefine((v, ctx) => {
    if (!looksLikeSecretRef(v)) {
      ctx.addIssue({
        code: 'custom',
        message: `${JSON.stringify(v)} is not a secret reference. Fix: write the exact reference runbooks use, e.g. env:VC_PASSWORD or file:/run/secrets/vc-password`,
      });
      return;
    }
    if (v.startsWith('file:')) {
      const n = normalisePath(v.slice(5));
      if ('problem' in n || n.path !== v.slice(5))
        ctx.addIssue({
          code: 'custom',
          message: `${JSON.stringify(v)}: the path ${'problem' in n ? n.problem : 'is not in its plain form (repeated or trailing slashes)'}. Fix: write file:/absolute/path as the file's plain path`,
        });
    }
  });

const HostEntry = z
  .string()
  .max(300)
  .superRefine((v, ctx) => {
    const p = parseHostPattern(v);
    if (typeof p === 'string')
      ctx.addIssue({
        code: 'custom',
        message: `${JSON.stringify(v)} ${p}. Fix: write a DNS name, an IPv4 address or an [IPv6] address, optionally with :port, or *.domain for any subdomain (e.g. vc01.example.com, *.mgmt.example.com:8443, [fd00::1]:443)`,
      });
  });

const LocationUrl = z
  .string()
  .max(MAX_URL_LENGTH)
  .superRefine((v, ctx) => {
    const a = parseAuthority(v);
    if (typeof a === 'string')
      ctx.addIssue({
        code: 'custom',
        message: `${JSON.stringify(v)} ${a}. Fix: write the backup server as scheme://host[:port]/path, e.g. sftp://backup.example.com/vcsa`,
      });
  });

const IdentityPattern = z
  .string()
  .min(1, 'is empty. Fix: write an identity such as alice@example.com, or a pattern such as *@ops.example.com')
  .max(256)
  .regex(/^[^\s\0]+$/, 'has spaces or control characters. Fix: write an identity such as alice@example.com');

const refs = (what: string) =>
  z
    .array(SecretRefEntry)
    .max(100)
    .default([])
    .describe(`${what} Exact references (env:NAME, file:/path). Default: none.`);

const Secrets = z
  .object({
    login: refs("The endpoint's passwordRef: the password this worker logs in to the appliance with."),
    encryption: refs(
      'Backup encryption passwords: vCenter backupPasswordRef / a location’s encryptionPasswordRef, VCDA backupPasswordRef.',
    ),
    passphrase: refs(
      'SDDC Manager backup passphrases: a restore’s passphraseRef, the backup configuration’s passphraseRef.',
    ),
    ssoAdmin: refs('vCenter restore: the SSO administrator password (ssoAdminPasswordRef).'),
  })
  .strict()
  .default({ login: [], encryption: [], passphrase: [], ssoAdmin: [] })
  .describe('Which secret references this appliance may be sent, by what they are for. Default: none.');

const Tls = z
  .object({
    allowInsecure: z
      .boolean()
      .default(false)
      .describe('Whether an endpoint may set tls.insecure: true (no certificate check). Default: false.'),
    caFiles: z
      .array(AbsolutePath)
      .max(20)
      .default([])
      .describe('The tls.caFile paths an endpoint may name (the worker reads them). Default: none.'),
  })
  .strict()
  .default({ allowInsecure: false, caFiles: [] })
  .describe(
    'Which TLS settings endpoints of this appliance may use. Default: certificate checks, system CAs or a pin.',
  );

const Appliance = z
  .object({
    name: Name.optional().describe('A label for errors and approvers. Default: "appliances[<index>]".'),
    product: z.enum(POLICY_PRODUCTS).describe('The product: vcenter, sddc-manager or vcda.'),
    hosts: z
      .array(HostEntry)
      .min(1, 'is empty. Fix: list the host[:port] of the appliance, e.g. [vc01.example.com]')
      .max(100)
      .describe(
        'host[:port] of the appliance; no port = the scheme’s default (443 for https); "*." = any subdomain; case-insensitive; IPv6 in [brackets].',
      ),
    secrets: Secrets,
    locations: z
      .array(Name)
      .max(100)
      .default([])
      .describe('Names of `locations` entries it may back up to, restore from or be configured with. Default: none.'),
    tls: Tls,
    allowHttp: z.boolean().default(false).describe('Whether a plain http:// URL is allowed. Default: false.'),
  })
  .strict();

const Location = z
  .object({
    name: Name.describe('The name appliances[].locations refers to.'),
    url: LocationUrl.describe(
      'A prefix: a backup location must have the same scheme, host and port, and its path equal or below (on a / boundary).',
    ),
    passwords: refs('The location passwordRefs allowed for it.'),
  })
  .strict();

const Webhook = z
  .object({
    name: Name.describe('A label for errors.'),
    urlRefs: z
      .array(SecretRefEntry)
      .min(1, 'is empty. Fix: list the notify urlRef the runbooks use, e.g. [env:CHAT_HOOK_URL]')
      .max(20)
      .describe('The notify urlRefs of this webhook (the URL is a secret: it carries a token).'),
    hosts: z
      .array(HostEntry)
      .max(20)
      .default([])
      .describe(
        'host[:port] the resolved URL must have (https only unless allowHttp). Default: none (nothing is sent).',
      ),
    allowHttp: z.boolean().default(false).describe('Whether the resolved URL may be plain http://. Default: false.'),
  })
  .strict();

const Approver = z
  .object({
    identities: z
      .array(IdentityPattern)
      .min(1, 'is empty. Fix: list who may approve, e.g. [alice@example.com]')
      .max(100)
      .describe('Temporal client identities; * = any characters; case-insensitive.'),
    appliances: z
      .array(Name)
      .max(100)
      .optional()
      .describe('Names of `appliances` entries they may approve for. Default: all.'),
    actions: z
      .array(z.enum(POLICY_ACTIONS))
      .max(2)
      .optional()
      .describe('The actions they may approve: backup, restore. Default: all.'),
  })
  .strict();

const Approvals = z
  .object({
    fourEyes: z.boolean().default(true).describe('Who started a run may not approve its steps. Default: true.'),
    required: z
      .array(z.enum(POLICY_ACTIONS))
      .max(2)
      .default(['restore'])
      .describe(
        'Actions that always wait for an approval (a runbook may not set approval: none on them). Default: [restore].',
      ),
    approvers: z
      .array(Approver)
      .max(100)
      .optional()
      .describe('Who may approve what. Default: anyone (but the starter, under fourEyes).'),
  })
  .strict()
  .default({ fourEyes: true, required: ['restore'] })
  .describe('Approval rules: parsed and checked here, enforced by drRunbook. Default: fourEyes, restores required.');

const SecretSources = z
  .object({
    files: z
      .array(
        AbsolutePath.refine((v) => v.replace(/\/+$/, '') !== '', {
          message:
            '"/" would let runbooks read every file of the worker. Fix: list the directories that hold secrets, e.g. /run/secrets',
        }),
      )
      .max(100)
      .default([])
      .describe(
        'Absolute directories (or files): a file: reference must resolve (symlinks and .. followed) to a file inside one. Default: none.',
      ),
    env: z
      .array(EnvPattern)
      .max(200)
      .default([])
      .describe('Environment variable names an env: reference may read; a trailing * is a prefix. Default: none.'),
  })
  .strict()
  .default({ files: [], env: [] })
  .describe('Where env: and file: references may be read from at all. Default: nothing.');

/** The document's shape (without the checks across entries). */
export const PolicyShape = z
  .object({
    apiVersion: z.literal(POLICY_API_VERSION).describe('The document version: vmware-dr/v1.'),
    kind: z.literal(POLICY_KIND).describe('The document kind: WorkerPolicy.'),
    secretSources: SecretSources,
    appliances: z
      .array(Appliance)
      .max(1000)
      .default([])
      .describe(
        'The appliances this worker may connect to at all; the first entry that matches product and host:port decides (like firewall rules). Default: none.',
      ),
    locations: z
      .array(Location)
      .max(1000)
      .default([])
      .describe('Backup servers appliances may send backups (and their passwords) to. Default: none.'),
    webhooks: z.array(Webhook).max(100).default([]).describe('Notification webhooks runbooks may call. Default: none.'),
    approvals: Approvals,
  })
  .strict();

/** The checked policy document, defaults applied. */
export type WorkerPolicyDocument = z.output<typeof PolicyShape>;
export type PolicyAppliance = WorkerPolicyDocument['appliances'][number];
export type PolicyLocation = WorkerPolicyDocument['locations'][number];
export type PolicyWebhook = WorkerPolicyDocument['webhooks'][number];

type Ctx = z.core.$RefinementCtx;
const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const strings = (v: unknown): string[] => list(v).filter((x): x is string => typeof x === 'string');

/** Whether `ref` (env: or file:) lies within the secret sources; refs of other schemes always do. */
export function withinSecretSources(
  sources: { files: readonly string[]; env: readonly string[] },
  ref: string,
): boolean {
  if (ref.startsWith('env:')) return sources.env.some((p) => envMatches(p, ref.slice(4)));
  if (ref.startsWith('file:')) {
    const n = normalisePath(ref.slice(5));
    return (
      'path' in n &&
      sources.files.some((f) => {
        const root = normalisePath(f);
        return 'path' in root && pathInside(root.path, n.path);
      })
    );
  }
  return true;
}

/** The checks across entries (all at once, on whatever has the shape to be checked). */
function checkAcross(doc: Record<string, unknown>, ctx: Ctx): void {
  const sourcesRaw = isObject(doc.secretSources) ? doc.secretSources : {};
  // Only the valid entries count (an invalid one is reported by itself).
  const sources = {
    files: strings(sourcesRaw.files).filter((f) => 'path' in normalisePath(f) && f.replace(/\/+$/, '') !== ''),
    env: strings(sourcesRaw.env).filter((e) => e !== '*' && ENV_PATTERN.test(e)),
  };
  const checkRef = (ref: unknown, path: PropertyKey[]) => {
    if (typeof ref !== 'string' || !looksLikeSecretRef(ref)) return;
    if (withinSecretSources(sources, ref)) return;
    const env = ref.startsWith('env:');
    ctx.addIssue({
      code: 'custom',
      path,
      message: env
        ? `${ref} is bound here but secretSources.env does not list ${ref.slice(4)}, so the worker would never read it. Fix: add ${ref.slice(4)} (or a prefix such as ${ref.slice(4).split('_')[0]}_*) to secretSources.env, or remove the reference`
        : `${ref} is bound here but is not inside a directory of secretSources.files, so the worker would never read it. Fix: add its directory (${ref.slice(5).replace(/\/[^/]*$/, '') || '/'}) to secretSources.files, or remove the reference`,
    });
  };
  const names = (key: 'appliances' | 'locations' | 'webhooks') => {
    const seen = new Map<string, number>();
    list(doc[key]).forEach((entry, i) => {
      const name = isObject(entry) ? entry.name : undefined;
      if (typeof name !== 'string') return;
      if (seen.has(name))
        ctx.addIssue({
          code: 'custom',
          path: [key, i, 'name'],
          message: `duplicate name ${JSON.stringify(name)} (also ${key}[${seen.get(name)}]). Fix: give each ${key} entry its own name`,
        });
      else seen.set(name, i);
    });
    return [...seen.keys()];
  };
  const applianceNames = names('appliances');
  const locationNames = names('locations');
  names('webhooks');

  list(doc.appliances).forEach((a, i) => {
    if (!isObject(a)) return;
    const secrets = isObject(a.secrets) ? a.secrets : {};
    for (const purpose of SECRET_PURPOSES)
      list(secrets[purpose]).forEach((ref, j) => checkRef(ref, ['appliances', i, 'secrets', purpose, j]));
    list(a.locations).forEach((name, j) => {
      if (typeof name !== 'string' || locationNames.includes(name)) return;
      const hint = closest(name, locationNames);
      ctx.addIssue({
        code: 'custom',
        path: ['appliances', i, 'locations', j],
        message: `unknown location ${JSON.stringify(name)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}. Fix: name a locations entry (${locationNames.join(', ') || 'there are none'}) or add one named ${name}`,
      });
    });
  });
  list(doc.locations).forEach((l, i) => {
    if (isObject(l)) list(l.passwords).forEach((ref, j) => checkRef(ref, ['locations', i, 'passwords', j]));
  });
  list(doc.webhooks).forEach((w, i) => {
    if (isObject(w)) list(w.urlRefs).forEach((ref, j) => checkRef(ref, ['webhooks', i, 'urlRefs', j]));
  });
  const approvals = isObject(doc.approvals) ? doc.approvals : {};
  list(approvals.approvers).forEach((ap, i) => {
    if (!isObject(ap)) return;
    list(ap.appliances).forEach((name, j) => {
      if (typeof name !== 'string' || applianceNames.includes(name)) return;
      const hint = closest(name, applianceNames);
      ctx.addIssue({
        code: 'custom',
        path: ['approvals', 'approvers', i, 'appliances', j],
        message: `unknown appliance ${JSON.stringify(name)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}. Fix: name an appliances entry by its name (${applianceNames.join(', ') || 'none has a name'})`,
      });
    });
  });
}

/** The policy schema: the shape, then the checks across entries (also when other fields have problems). */
export const WorkerPolicy = PolicyShape.superRefine((doc, ctx) => checkAcross(doc as Record<string, unknown>, ctx), {
  when: ({ value }) => isObject(value),
});
