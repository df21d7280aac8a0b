/**
 * The worker credential policy file: its format (one zod schema, every field described), and the
 * reading of a policy file (YAML or JSON) into a checked document, every problem at once, each
 * with the file, the line, the field and the fix. The load-time checks across entries are here
 * too: every bound reference readable under `secretSources`, known location and appliance names,
 * unique names. Pure (zod and yaml).
 */
import { LineCounter, type Document, isMap, isNode, isScalar, parseDocument } from 'yaml';
import { z } from 'zod';
import { MAX_URL_LENGTH, Name, looksLikeSecretRef } from './config';
import {
  ENV_PATTERN,
  closest,
  envMatches,
  normalisePath,
  parseAuthority,
  parseHostPattern,
  pathInside,
} from './policy-match';

export const POLICY_API_VERSION = 'vmware-dr/v1';
export const POLICY_KIND = 'WorkerPolicy';

/** The products a policy names (as runbooks do). */
export const POLICY_PRODUCTS = ['vcenter', 'sddc-manager', 'vcda'] as const;
export type PolicyProduct = (typeof POLICY_PRODUCTS)[number];

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
      .array(AbsolutePath)
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

const PolicyShape = z
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
    files: strings(sourcesRaw.files).filter((f) => 'path' in normalisePath(f)),
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

/** A policy file that cannot be used: every problem, each `file:line: field: what. Fix: how`. */
export class PolicyFileError extends Error {
  override readonly name = 'PolicyFileError';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(
      `${source} is not a valid worker credential policy (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${problems.join('\n  ')}`,
    );
  }
}

function pathText(path: readonly PropertyKey[]): string {
  return path.length === 0
    ? '(document)'
    : path
        .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
        .join('.')
        .replace(/\.\[/g, '[');
}

/** The schema of the value at `path` (through optional, default, array and object wrappers). */
function schemaAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  let s: z.ZodType | undefined = schema;
  const unwrap = (x: z.ZodType): z.ZodType => {
    let cur = x;
    for (let i = 0; i < 10; i++) {
      const def = cur._zod.def as { type: string; innerType?: z.ZodType; in?: z.ZodType };
      if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable') && def.innerType)
        cur = def.innerType;
      else if (def.type === 'pipe' && def.in) cur = def.in;
      else break;
    }
    return cur;
  };
  for (const key of path) {
    if (!s) return undefined;
    const def = unwrap(s)._zod.def as { type: string; shape?: Record<string, z.ZodType>; element?: z.ZodType };
    if (def.type === 'object' && typeof key === 'string') s = def.shape?.[key];
    else if (def.type === 'array' && typeof key === 'number') s = def.element;
    else return undefined;
  }
  return s;
}

function knownKeys(path: readonly PropertyKey[]): string[] {
  const s = schemaAt(WorkerPolicy, path);
  if (!s) return [];
  let cur = s;
  for (let i = 0; i < 10; i++) {
    const def = cur._zod.def as { type: string; innerType?: z.ZodType; in?: z.ZodType; shape?: object };
    if (def.type === 'object') return Object.keys(def.shape ?? {});
    const next = def.innerType ?? def.in;
    if (!next) break;
    cur = next;
  }
  return [];
}

/** The 1-based line of the node at `path` (the key of an unknown field), else of its nearest parent. */
function lineOf(doc: Document, lc: LineCounter, path: readonly PropertyKey[], key?: string): number | undefined {
  if (key !== undefined) {
    const map = doc.getIn(path as PropertyKey[], true);
    if (isMap(map)) {
      const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
      if (pair && isNode(pair.key) && pair.key.range) return lc.linePos(pair.key.range[0]).line;
    }
  }
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as PropertyKey[], true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}

/** A zod issue as `what. Fix: how` (the schema's own messages carry their fix; others get the field's description). */
function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.message.includes('Fix:')) return issue.message;
  const description = schemaAt(WorkerPolicy, issue.path)?.description;
  const about = description ? ` (${description.replace(/\.$/, '')})` : '';
  if (issue.code === 'invalid_value') {
    const values = issue.values.map(String);
    const hint = typeof issue.input === 'string' ? closest(issue.input, values) : undefined;
    return `is ${JSON.stringify(issue.input)}, not one of ${values.join(', ')}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}. Fix: write one of them${about}`;
  }
  if (issue.code === 'invalid_type')
    return issue.input === undefined
      ? `is required. Fix: add it${about}`
      : `must be ${issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}, not ${Array.isArray(issue.input) ? 'a list' : typeof issue.input}. Fix: write it as documented${about}`;
  return `${issue.message}. Fix: write it as documented${about}`;
}

/**
 * Reads policy text (YAML or JSON; `source` names it in messages): the checked document, or a
 * {@link PolicyFileError} with every problem, each naming the line and the field.
 */
export function parsePolicyText(text: string, source: string): WorkerPolicyDocument {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length)
    throw new PolicyFileError(
      source,
      doc.errors.map(
        (e) =>
          `${source}:${lc.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}. Fix: correct the YAML (or JSON) syntax there`,
      ),
    );
  const value = doc.toJS() as unknown;
  if (!isObject(value))
    throw new PolicyFileError(source, [
      `${source}:1: (document): is ${value == null ? 'empty' : 'not a mapping'}. Fix: write a policy (apiVersion: ${POLICY_API_VERSION}, kind: ${POLICY_KIND}, ...); vmware-dr policy init RUNBOOK... writes a starting one`,
    ]);
  const result = WorkerPolicy.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const problems: { line: number; text: string }[] = [];
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(issue.path);
      for (const key of issue.keys) {
        const hint = closest(key, known);
        problems.push({
          line: lineOf(doc, lc, issue.path, key) ?? 1,
          text: `${pathText([...issue.path, key])}: unknown field${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}. Fix: remove it${known.length ? `; the fields here are ${known.join(', ')}` : ''}`,
        });
      }
      continue;
    }
    problems.push({ line: lineOf(doc, lc, issue.path) ?? 1, text: `${pathText(issue.path)}: ${describeIssue(issue)}` });
  }
  problems.sort((a, b) => a.line - b.line);
  throw new PolicyFileError(
    source,
    problems.map((p) => `${source}:${p.line}: ${p.text}`),
  );
}

/** Every field of the policy format with its description (the README's field table is checked against it). */
export function policyFieldReference(): { field: string; description: string }[] {
  const schema = z.toJSONSchema(PolicyShape, { io: 'input', unrepresentable: 'any' }) as JsonNode;
  const out: { field: string; description: string }[] = [];
  const walk = (node: JsonNode | undefined, prefix: string): void => {
    for (const [key, child] of Object.entries(node?.properties ?? {})) {
      out.push({ field: `${prefix}${key}`, description: child.description ?? '' });
      walk(child, `${prefix}${key}.`);
      walk(child.items, `${prefix}${key}[].`);
    }
  };
  walk(schema, '');
  return out;
}

interface JsonNode {
  description?: string;
  properties?: Record<string, JsonNode>;
  items?: JsonNode;
}
