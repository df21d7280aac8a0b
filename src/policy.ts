/**
 * The worker credential policy: what the worker's operator allows runbooks to do with the
 * worker's secrets. Which appliances it may connect to (product, host:port, TLS, http), which
 * secret references each appliance may be sent and for what, which backup locations an appliance
 * may send backups and their passwords to, which webhooks may be called, and from where `env:` and
 * `file:` references may be read at all. The runbook author is not trusted; the operator is.
 * Activities call the `check…` methods where they resolve a secret or open a connection, so a
 * refusal (`NotPermitted`) comes before any secret is read or any connection opened. The file
 * format is in ./policy-format.ts, the matching rules in ./policy-match.ts, the generator of a
 * starting policy in ./policy-generate.ts.
 */
import { createHash } from 'node:crypto';
import { readFile, realpath } from 'node:fs/promises';
import { type TlsSettings, endpointName } from './config';
import { NotPermitted, type Product } from './errors';
import {
  type PolicyAction,
  type PolicyAppliance,
  type PolicyLocation,
  type SecretPurpose,
  SECRET_PURPOSES,
  type WorkerPolicyDocument,
  parsePolicyText,
  withinSecretSources,
} from './policy-format';
import {
  type UrlAuthority,
  hostMatches,
  identityMatches,
  locationCovers,
  normalisePath,
  parseAuthority,
  parseHostPattern,
  pathInside,
} from './policy-match';
import type { RunbookDocument, RunbookEndpoint, RunbookLocation } from './runbook/document';
import { SecretReferenceError } from './secrets';

export {
  POLICY_API_VERSION,
  POLICY_KIND,
  POLICY_ACTIONS,
  SECRET_PURPOSES,
  PolicyFileError,
  WorkerPolicy,
  policyFieldReference,
  type PolicyAction,
  type PolicyAppliance,
  type PolicyLocation,
  type PolicyWebhook,
  type SecretPurpose,
  type WorkerPolicyDocument,
} from './policy-format';
export { policyForRunbooks, type PolicyForRunbooksOptions, type GeneratedPolicy } from './policy-generate';

/** The appliance entry that matched an endpoint (the first of its product whose hosts match). */
export interface ApplianceRule extends PolicyAppliance {
  /** Its index in `appliances`. */
  index: number;
  /** Its `name`, else `appliances[<index>]`. */
  label: string;
}

/** An endpoint as the policy sees it: where it is and how it is reached. */
export interface PolicyEndpoint {
  name?: string;
  url: string;
  allowHttp?: boolean;
  tls?: TlsSettings;
}

/** One thing a runbook asks for that the policy refuses. */
export interface PolicyProblem {
  /** The runbook field, e.g. `endpoints.vc-mgmt.passwordRef` or `locations.sftp-a.url`. */
  path: string;
  /**
   * Ids of the steps it stops (`${stageIndex + 1}.${stepIndex + 1}`). Empty for a problem of no
   * single step: a `notify` webhook (its notifications would be refused when sent).
   */
  steps: string[];
  /** The policy rule that refuses it, e.g. `appliances[0].secrets.login`, `secretSources.env`. */
  rule: string;
  /** What is refused and what to add to the policy (`… Fix: …`). Never a secret's value. */
  message: string;
}

/** What the policy says about approving one step. */
export interface ApprovalRule {
  /** The step always waits for an approval (the runbook cannot turn it off). */
  required: boolean;
  /** Who started the run may not approve it. */
  fourEyes: boolean;
  /** Identity patterns allowed to approve (`*` any characters, case-insensitive); unset = anyone. */
  approvers?: string[];
}

/** A refusal before it becomes an error or a problem. */
interface Refusal {
  field: string;
  rule: string;
  summary: string;
  fix: string;
}

type Purpose = SecretPurpose;

const PURPOSE_WORDS: Record<Purpose, string> = {
  login: 'login (passwordRef)',
  encryption: 'backup encryption',
  passphrase: 'backup passphrase',
  ssoAdmin: 'SSO administrator password',
};

/**
 * Where `path` really is (symlinks and `..` resolved) relative to `roots`: `inside` one of them
 * (each root resolved too, when it exists), `outside` all, or the error that stopped the lookup.
 */
export async function realpathInside(
  path: string,
  roots: readonly string[],
): Promise<'inside' | 'outside' | NodeJS.ErrnoException> {
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
  for (const root of roots) {
    const resolved = await realpath(root).catch(() => root);
    const n = normalisePath(resolved);
    if ('path' in n && pathInside(n.path, real)) return 'inside';
  }
  return 'outside';
}

export class CredentialPolicy {
  /** SHA-256 (hex) of the policy file's bytes: the report records which policy allowed a run. */
  readonly sha256: string;
  private readonly appliances: ApplianceRule[];

  private constructor(
    /** The checked document, defaults applied. */
    readonly document: WorkerPolicyDocument,
    /** The policy file's path (or what the text came from). */
    readonly source: string,
    bytes: Buffer,
  ) {
    this.sha256 = createHash('sha256').update(bytes).digest('hex');
    this.appliances = document.appliances.map((a, index) => ({
      ...a,
      index,
      label: a.name ?? `appliances[${index}]`,
    }));
  }

  /** Reads policy text (YAML or JSON). Throws `PolicyFileError` with every problem, each with its line. */
  static parse(text: string, source: string): CredentialPolicy {
    return new CredentialPolicy(parsePolicyText(text, source), source, Buffer.from(text, 'utf8'));
  }

  /** Reads and checks a policy file. Throws `PolicyFileError` (or the read's own error). */
  static async load(path: string): Promise<CredentialPolicy> {
    const bytes = await readFile(path);
    return new CredentialPolicy(parsePolicyText(bytes.toString('utf8'), path), path, bytes);
  }

  /** The counts an operator checks at start (no reference values are secret, but none are listed here). */
  summary(): { source: string; sha256: string; appliances: number; locations: number; webhooks: number } {
    return {
      source: this.source,
      sha256: this.sha256,
      appliances: this.document.appliances.length,
      locations: this.document.locations.length,
      webhooks: this.document.webhooks.length,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Checks that throw NotPermitted (activities)

  /**
   * The appliance entry that allows this endpoint: product and host:port listed, http and
   * `tls.insecure` only where allowed, `tls.caFile` only a listed path. `field` names the endpoint
   * in the input (`endpoint`, `endpoints.vc-mgmt`). Throws `NotPermitted`.
   */
  checkEndpoint(product: Product, endpoint: PolicyEndpoint, field: string): ApplianceRule {
    const r = this.endpointRule(product, endpoint, field);
    if ('refusal' in r) throw this.error(r.refusal, product, endpoint);
    return r.rule;
  }

  /** A secret reference of `purpose` may be sent to this endpoint's appliance. Throws `NotPermitted`. */
  checkSecret(product: Product, endpoint: PolicyEndpoint, purpose: Purpose, ref: string, field: string): void {
    const rule = this.checkEndpoint(product, endpoint, endpointField(field));
    const refusal = this.secretRefusal(rule, purpose, ref, field);
    if (refusal) throw this.error(refusal, product, endpoint);
  }

  /**
   * The appliance may send a backup to (or read one from) `locationUrl`, with the location password
   * `passwordRef`. `field` names the location URL in the input, `passwordField` the password
   * reference (default: `field`). Throws `NotPermitted`.
   */
  checkLocation(
    product: Product,
    endpoint: PolicyEndpoint,
    locationUrl: string,
    passwordRef: string | undefined,
    field: string,
    passwordField: string = field,
  ): void {
    const rule = this.checkEndpoint(product, endpoint, endpointField(field));
    const refusal = this.locationRefusal(rule, locationUrl, passwordRef, field, passwordField);
    if (refusal) throw this.error(refusal, product, endpoint);
  }

  /** A webhook URL reference is one the policy lists. Throws `NotPermitted`. */
  checkWebhookRef(urlRef: string, field: string): void {
    const refusal = this.webhookRefRefusal(urlRef, field);
    if (refusal) throw this.error(refusal);
  }

  /**
   * The resolved webhook URL of `urlRef` has a host:port (and scheme) its webhook entry allows.
   * The error never repeats the URL or its host: the URL is a secret. Throws `NotPermitted`.
   */
  checkWebhookUrl(urlRef: string, url: string, field: string): void {
    this.checkWebhookRef(urlRef, field);
    const hooks = this.document.webhooks.map((w, i) => ({ w, i })).filter(({ w }) => w.urlRefs.includes(urlRef));
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    const scheme = parsed?.protocol.replace(/:$/, '');
    const host = parsed?.hostname;
    const defaultPort = scheme === 'https' ? 443 : scheme === 'http' ? 80 : undefined;
    const port = parsed && parsed.port !== '' ? Number(parsed.port) : defaultPort;
    const ok = hooks.some(
      ({ w }) =>
        parsed !== undefined &&
        host !== undefined &&
        port !== undefined &&
        (scheme === 'https' || (scheme === 'http' && w.allowHttp)) &&
        w.hosts.some((h) => {
          const p = parseHostPattern(h);
          return typeof p !== 'string' && hostMatches(p, host, port, defaultPort);
        }),
    );
    if (ok) return;
    const first = hooks[0]!;
    const label = `webhooks[${first.i}] (${first.w.name})`;
    throw this.error({
      field,
      rule: `webhooks[${first.i}].hosts`,
      summary: `${field}: the URL that ${urlRef} holds is ${parsed === undefined ? 'not a valid URL' : scheme !== 'https' && scheme !== 'http' ? 'not http(s)' : scheme === 'http' && !first.w.allowHttp ? 'plain http://, which ' + label + ' does not allow' : `on a host ${label} does not list`} (the URL and its host are not repeated: the URL is a secret); nothing was sent`,
      fix: `if the webhook's host is right, add its host[:port] to webhooks[${first.i}].hosts in ${this.source}${scheme === 'http' ? ` (and allowHttp: true, knowingly)` : ''}; otherwise correct the value of ${urlRef}`,
    });
  }

  /**
   * An `env:` or `file:` reference may be read at all: the variable is listed in
   * `secretSources.env`; the file's real path (symlinks and `..` followed) is inside a directory of
   * `secretSources.files`. Nothing outside is read, stat'ed or resolved. Other schemes pass (they
   * are the worker's own resolvers). Throws `NotPermitted`.
   */
  async checkReadable(ref: string, field: string): Promise<void> {
    const lexical = this.sourceRefusal(ref, field);
    if (lexical) throw this.error(lexical);
    if (!ref.startsWith('file:')) return;
    const path = ref.slice(5);
    const where = await realpathInside(path, this.document.secretSources.files);
    if (where === 'inside') return;
    if (where === 'outside')
      throw this.error({
        field,
        rule: 'secretSources.files',
        summary: `${field}: ${ref} resolves (through a symbolic link) to a file outside every directory of secretSources.files; it was not read`,
        fix: `point the reference at the file itself inside an allowed directory, or replace the link in ${path.replace(/\/[^/]*$/, '') || '/'} with the file`,
      });
    throw new SecretReferenceError(`${field} (file:…): cannot read file ${path}: ${where.code ?? 'error'}`);
  }

  /**
   * What the policy says about approving `action` on this endpoint's appliance: required, four
   * eyes, and the identity patterns of the approver entries that cover the appliance entry and the
   * action (`approvers` unset = anyone; an empty list = nobody).
   */
  approvalFor(product: Product, endpoint: { url: string }, action: PolicyAction): ApprovalRule {
    const a = this.document.approvals;
    const match = this.matchAppliance(product, endpoint.url);
    const name = match && 'rule' in match ? match.rule.name : undefined;
    const approvers =
      a.approvers === undefined
        ? undefined
        : [
            ...new Set(
              a.approvers
                .filter(
                  (ap) =>
                    (ap.actions === undefined || ap.actions.includes(action)) &&
                    (ap.appliances === undefined || (name !== undefined && ap.appliances.includes(name))),
                )
                .flatMap((ap) => ap.identities),
            ),
          ];
    return { required: a.required.includes(action), fourEyes: a.fourEyes, ...(approvers && { approvers }) };
  }

  /** Whether `identity` matches one of `patterns` (`*` any characters, case-insensitive). */
  static identityAllowed(patterns: readonly string[], identity: string): boolean {
    return patterns.some((p) => identityMatches(p, identity));
  }

  // -------------------------------------------------------------------------------------------
  // A whole runbook at once (the CLI's validate --policy, the checkRunbookPolicy activity)

  /**
   * Every problem of a runbook under this policy at once: endpoints (appliance, http, TLS, login
   * reference), the locations each vCenter step uses (URL, password, encryption password), SDDC
   * Manager restore passphrases, webhooks, where each reference may be read from, and approvals
   * the policy requires that a step turns off. Each names the runbook path, the steps it stops and
   * the rule. Checks references lexically (the activity also checks real paths).
   */
  runbookProblems(doc: RunbookDocument): PolicyProblem[] {
    const problems: PolicyProblem[] = [];
    const add = (r: Refusal, steps: string[]) => {
      // The path is the problem's own field: the message does not repeat it.
      const summary = r.summary.startsWith(r.field) ? r.summary.slice(r.field.length).replace(/^:?\s*/, '') : r.summary;
      const message = `${summary}. Fix: ${r.fix}`;
      const existing = problems.find((p) => p.path === r.field && p.rule === r.rule && p.message === message);
      if (!existing) problems.push({ path: r.field, steps: [...steps], rule: r.rule, message });
      else for (const s of steps) if (!existing.steps.includes(s)) existing.steps.push(s);
    };
    const source = (ref: string | undefined, field: string, steps: string[]) => {
      if (ref === undefined) return;
      const r = this.sourceRefusal(ref, field);
      if (r) add(r, steps);
    };

    // Which steps use each endpoint, and each (endpoint, location) pair.
    const stepsOf = new Map<string, string[]>();
    const uses: { key: string; step: string; location?: string; passphraseRef?: string; stepPath: string }[] = [];
    doc.stages.forEach((stage, s) =>
      stage.steps.forEach((step, i) => {
        const id = `${s + 1}.${i + 1}`;
        const key = 'backup' in step ? step.backup : step.restore;
        stepsOf.set(key, [...(stepsOf.get(key) ?? []), id]);
        uses.push({
          key,
          step: id,
          stepPath: `stages[${s}].steps[${i}]`,
          ...('backup' in step ? { location: step.to } : { location: step.from }),
          ...('restore' in step && step.passphraseRef !== undefined && { passphraseRef: step.passphraseRef }),
        });
        const action = 'backup' in step ? 'backup' : 'restore';
        const approval = step.approval ?? doc.defaults?.approval ?? (action === 'restore' ? 'required' : 'none');
        if (approval === 'none' && this.document.approvals.required.includes(action))
          add(
            {
              field: step.approval !== undefined ? `stages[${s}].steps[${i}].approval` : 'defaults.approval',
              rule: 'approvals.required',
              summary: `step ${id} (${action} ${key}) sets approval: none, but ${this.source} requires an approval for every ${action}`,
              fix: `remove approval: none (the step then waits for vmware-dr approve); the operator decides approvals.required`,
            },
            [id],
          );
      }),
    );

    const rules = new Map<string, ApplianceRule>();
    for (const [key, endpoint] of Object.entries(doc.endpoints)) {
      const field = `endpoints.${key}`;
      const steps = stepsOf.get(key) ?? [];
      const r = this.endpointRule(endpoint.product, { ...endpoint, name: key }, field);
      source(endpoint.passwordRef, `${field}.passwordRef`, steps);
      if ('refusal' in r) {
        add(r.refusal, steps);
        continue;
      }
      rules.set(key, r.rule);
      const login = this.secretRefusal(r.rule, 'login', endpoint.passwordRef, `${field}.passwordRef`);
      if (login) add(login, steps);
    }

    for (const use of uses) {
      const endpoint = doc.endpoints[use.key] as RunbookEndpoint | undefined;
      const rule = rules.get(use.key);
      if (use.passphraseRef !== undefined) {
        const field = `${use.stepPath}.passphraseRef`;
        source(use.passphraseRef, field, [use.step]);
        if (rule) {
          const r = this.secretRefusal(rule, 'passphrase', use.passphraseRef, field);
          if (r) add(r, [use.step]);
        }
      }
      if (endpoint?.product !== 'vcenter' || use.location === undefined) continue;
      const loc = doc.locations?.[use.location] as RunbookLocation | undefined;
      if (!loc) continue;
      const field = `locations.${use.location}`;
      source(loc.passwordRef, `${field}.passwordRef`, [use.step]);
      source(loc.encryptionPasswordRef, `${field}.encryptionPasswordRef`, [use.step]);
      if (!rule) continue;
      const l = this.locationRefusal(rule, loc.url, loc.passwordRef, `${field}.url`, `${field}.passwordRef`);
      if (l) add(l, [use.step]);
      if (loc.encryptionPasswordRef !== undefined) {
        const e = this.secretRefusal(rule, 'encryption', loc.encryptionPasswordRef, `${field}.encryptionPasswordRef`);
        if (e) add(e, [use.step]);
      }
    }

    (doc.notify ?? []).forEach((n, i) => {
      const field = `notify[${i}].urlRef`;
      source(n.urlRef, field, []);
      const r = this.webhookRefRefusal(n.urlRef, field);
      if (r) add(r, []);
    });
    return problems;
  }

  // -------------------------------------------------------------------------------------------
  // The rules, as refusals

  private matchAppliance(
    product: Product,
    url: string,
  ): { rule: ApplianceRule; authority: UrlAuthority } | { problem: string } | undefined {
    const authority = parseAuthority(url);
    if (typeof authority === 'string') return { problem: authority };
    if (authority.scheme !== 'https' && authority.scheme !== 'http') return { problem: 'is not http(s)' };
    for (const rule of this.appliances) {
      if (rule.product !== product) continue;
      for (const h of rule.hosts) {
        const p = parseHostPattern(h);
        if (typeof p !== 'string' && hostMatches(p, authority.host, authority.port, authority.defaultPort))
          return { rule, authority };
      }
    }
    return undefined;
  }

  private endpointRule(
    product: Product,
    endpoint: PolicyEndpoint,
    field: string,
  ): { rule: ApplianceRule } | { refusal: Refusal } {
    const m = this.matchAppliance(product, endpoint.url);
    if (m === undefined || 'problem' in m) {
      const a = parseAuthority(endpoint.url);
      const hostPort = typeof a === 'string' ? undefined : a.port === a.defaultPort ? a.host : `${a.host}:${a.port}`;
      return {
        refusal: {
          field: `${field}.url`,
          rule: 'appliances',
          summary:
            m !== undefined && 'problem' in m
              ? `${field}.url ${m.problem}, so no appliance entry can allow it`
              : `${field}.url: no ${product} entry of appliances in ${this.source} lists ${hostPort}: this worker does not connect to it`,
          fix:
            hostPort === undefined
              ? 'write the endpoint URL as https://host[:port]'
              : `if this worker may manage that ${product}, add an appliances entry (product: ${product}, hosts: [${hostPort}]) to ${this.source}`,
        },
      };
    }
    const { rule, authority } = m;
    const at = `appliances[${rule.index}]`;
    const label = `${at}${rule.name ? ` (${rule.name})` : ''}`;
    if (authority.scheme === 'http' && !rule.allowHttp)
      return {
        refusal: {
          field: `${field}.url`,
          rule: `${at}.allowHttp`,
          summary: `${field}.url is plain http://, which ${label} does not allow (the password would cross the network in clear)`,
          fix: `use https://, or set ${at}.allowHttp: true in ${this.source}, knowingly`,
        },
      };
    if (endpoint.tls?.insecure === true && !rule.tls.allowInsecure)
      return {
        refusal: {
          field: `${field}.tls.insecure`,
          rule: `${at}.tls.allowInsecure`,
          summary: `${field}.tls.insecure: true (no certificate check) is not allowed by ${label}`,
          fix: `trust the appliance with tls.caFile or tls.thumbprint; or set ${at}.tls.allowInsecure: true in ${this.source}, knowingly`,
        },
      };
    const caFile = endpoint.tls?.caFile;
    if (caFile !== undefined && !rule.tls.caFiles.includes(caFile))
      return {
        refusal: {
          field: `${field}.tls.caFile`,
          rule: `${at}.tls.caFiles`,
          summary: `${field}.tls.caFile ${caFile} is not a CA file ${label} allows the worker to read`,
          fix: `if that is the appliance's CA bundle, add ${caFile} to ${at}.tls.caFiles in ${this.source}`,
        },
      };
    return { rule };
  }

  private secretRefusal(rule: ApplianceRule, purpose: Purpose, ref: string, field: string): Refusal | undefined {
    if (rule.secrets[purpose].includes(ref)) return undefined;
    const at = `appliances[${rule.index}]`;
    const elsewhere = SECRET_PURPOSES.filter((p) => p !== purpose && rule.secrets[p].includes(ref));
    return {
      field,
      rule: `${at}.secrets.${purpose}`,
      summary: `${field}: ${ref} is not bound to ${at}${rule.name ? ` (${rule.name})` : ''} for ${PURPOSE_WORDS[purpose]}${elsewhere.length ? ` (only for ${elsewhere.join(', ')})` : ''} in ${this.source}; it was not read or sent`,
      fix: `if this appliance may be sent that secret for ${PURPOSE_WORDS[purpose]}, add ${ref} to ${at}.secrets.${purpose} in ${this.source}`,
    };
  }

  private locationRefusal(
    rule: ApplianceRule,
    locationUrl: string,
    passwordRef: string | undefined,
    field: string,
    passwordField: string,
  ): Refusal | undefined {
    const at = `appliances[${rule.index}]`;
    const label = `${at}${rule.name ? ` (${rule.name})` : ''}`;
    const url = parseAuthority(locationUrl);
    if (typeof url === 'string')
      return {
        field,
        rule: `${at}.locations`,
        summary: `${field}: the backup location ${url}, so the policy cannot allow it`,
        fix: 'write the location as scheme://host[:port]/path without user info, query or ".." segments',
      };
    const entries = this.document.locations.map((l, i) => ({ l, i }));
    const covering = (list: { l: PolicyLocation; i: number }[]) =>
      list.filter(({ l }) => {
        const p = parseAuthority(l.url);
        return typeof p !== 'string' && locationCovers(p, url);
      });
    const allowed = covering(entries.filter(({ l }) => rule.locations.includes(l.name)));
    if (allowed.length === 0) {
      const other = covering(entries)[0];
      return {
        field,
        rule: `${at}.locations`,
        summary: `${field}: ${locationUrl} is not at or below a location ${label} may use (${rule.locations.join(', ') || 'it may use none'}); nothing was sent`,
        fix: other
          ? `if this appliance may send backups there, add ${other.l.name} to ${at}.locations in ${this.source}`
          : `if this appliance may send backups there, add a locations entry whose url covers it (with its passwords) and name it in ${at}.locations in ${this.source}`,
      };
    }
    if (passwordRef !== undefined && !allowed.some(({ l }) => l.passwords.includes(passwordRef))) {
      const first = allowed[0]!;
      return {
        field: passwordField,
        rule: `locations[${first.i}].passwords`,
        summary: `${passwordField}: ${passwordRef} is not a password of location ${first.l.name} (locations[${first.i}]) in ${this.source}; it was not read or sent`,
        fix: `if it is that backup server's password, add ${passwordRef} to locations[${first.i}].passwords in ${this.source}`,
      };
    }
    return undefined;
  }

  private webhookRefRefusal(urlRef: string, field: string): Refusal | undefined {
    if (this.document.webhooks.some((w) => w.urlRefs.includes(urlRef))) return undefined;
    return {
      field,
      rule: 'webhooks',
      summary: `${field}: ${urlRef} is not the URL reference of a webhook in ${this.source}; it was not read and nothing was sent`,
      fix: `if runbooks may notify it, add a webhooks entry with urlRefs: [${urlRef}] and its hosts to ${this.source}`,
    };
  }

  private sourceRefusal(ref: string, field: string): Refusal | undefined {
    const sources = this.document.secretSources;
    if (ref.startsWith('file:')) {
      const n = normalisePath(ref.slice(5));
      if ('problem' in n)
        return {
          field,
          rule: 'secretSources.files',
          summary: `${field}: the path of ${ref} ${n.problem}; it was not read`,
          fix: 'write file:/absolute/path to the file itself',
        };
    }
    if (withinSecretSources(sources, ref)) return undefined;
    if (ref.startsWith('env:'))
      return {
        field,
        rule: 'secretSources.env',
        summary: `${field}: ${ref} names a variable secretSources.env of ${this.source} does not list; it was not read`,
        fix: `if runbooks may use that variable, add ${ref.slice(4)} to secretSources.env (and bind the reference where it may be sent)`,
      };
    return {
      field,
      rule: 'secretSources.files',
      summary: `${field}: ${ref} is not inside a directory of secretSources.files of ${this.source}; it was not read`,
      fix: `keep secrets in a listed directory (${sources.files.join(', ') || 'none is listed'}), or add the file's directory to secretSources.files`,
    };
  }

  private error(r: Refusal, product?: Product, endpoint?: PolicyEndpoint): NotPermitted {
    return new NotPermitted(r.summary, {
      ...(product !== undefined && { product }),
      ...(endpoint !== undefined && { appliance: endpointName(endpoint) }),
      operation: 'credential policy',
      remediation: r.fix,
      rule: r.rule,
      field: r.field,
    });
  }
}

/** `backup.locationPasswordRef` → `endpoint`; `endpoints.vc.passwordRef` → `endpoints.vc`: the endpoint a field belongs to. */
function endpointField(field: string): string {
  return /^endpoints\.[^.]+/.exec(field)?.[0] ?? 'endpoint';
}
