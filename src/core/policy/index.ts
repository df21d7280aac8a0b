/**
 * The worker credential policy: what the worker's operator allows runbooks to do with the
 * worker's secrets. Which appliances it may connect to (product, host:port, TLS, http), which
 * secret references each appliance may be sent and for what, which backup locations an appliance
 * may send backups and their passwords to, which webhooks may be called, and from where `env:` and
 * `file:` references may be read at all. The runbook author is not trusted; the operator is.
 * Activities call the `check…` methods where they resolve a secret or open a connection, so a
 * refusal (`NotPermitted`) comes before any secret is read or any connection opened. The file
 * format is in ./format.ts (read with lines by ./file.ts), the matching in
 * ./match.ts, the rules in ./rules.ts, whole runbooks in ./runbook.ts, the
 * generator of a starting policy in ./generate.ts.
 */
import { createHash } from 'node:crypto';
import { readFile, realpath } from 'node:fs/promises';
import { endpointName } from '../../contract/endpoints';
import { NotPermitted } from '../errors';
import type { Product } from '../../contract/names';
import { parsePolicyText } from './file';
import type { PolicyAction, SecretPurpose, WorkerPolicyDocument } from './format';
import { normalisePath, pathInside } from './match';
import { type ApplianceRule, type PolicyEndpoint, PolicyRules, type Refusal } from './rules';
import { type PolicyProblem, runbookProblems } from './runbook';
import type { RunbookDocument } from '../../contract/runbook/document';
import { SecretReferenceError } from '../secrets';

export {
  POLICY_API_VERSION,
  POLICY_KIND,
  POLICY_ACTIONS,
  SECRET_PURPOSES,
  WorkerPolicy,
  type PolicyAction,
  type PolicyAppliance,
  type PolicyLocation,
  type PolicyWebhook,
  type SecretPurpose,
  type WorkerPolicyDocument,
} from './format';
export { PolicyFileError, policyFieldReference } from './file';
export { policyForRunbooks, type PolicyForRunbooksOptions, type GeneratedPolicy } from './generate';
export type { ApplianceRule, PolicyEndpoint } from './rules';
export type { PolicyProblem } from './runbook';

/** What the policy says about approving one step (the workflow's own type: it checks approvals). */
import type { ApprovalRule } from '../../contract/runbook/approvals';
export type { ApprovalRule };

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
  private readonly rules: PolicyRules;

  private constructor(
    /** The checked document, defaults applied. */
    readonly document: WorkerPolicyDocument,
    /** The policy file's path (or what the text came from). */
    readonly source: string,
    bytes: Buffer,
  ) {
    this.sha256 = createHash('sha256').update(bytes).digest('hex');
    this.rules = new PolicyRules(document, source);
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
    const r = this.rules.endpointRule(product, endpoint, field);
    if ('refusal' in r) throw this.error(r.refusal, product, endpoint);
    return r.rule;
  }

  /** A secret reference of `purpose` may be sent to this endpoint's appliance. Throws `NotPermitted`. */
  checkSecret(product: Product, endpoint: PolicyEndpoint, purpose: SecretPurpose, ref: string, field: string): void {
    const rule = this.checkEndpoint(product, endpoint, endpointField(field));
    const refusal = this.rules.secretRefusal(rule, purpose, ref, field);
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
    const refusal = this.rules.locationRefusal(rule, locationUrl, passwordRef, field, passwordField);
    if (refusal) throw this.error(refusal, product, endpoint);
  }

  /** A webhook URL reference is one the policy lists. Throws `NotPermitted`. */
  checkWebhookRef(urlRef: string, field: string): void {
    const refusal = this.rules.webhookRefRefusal(urlRef, field);
    if (refusal) throw this.error(refusal);
  }

  /**
   * The resolved webhook URL of `urlRef` has a host:port (and scheme) its webhook entry allows.
   * The error never repeats the URL or its host: the URL is a secret. Throws `NotPermitted`.
   */
  checkWebhookUrl(urlRef: string, url: string, field: string): void {
    const refusal = this.rules.webhookUrlRefusal(urlRef, url, field);
    if (refusal) throw this.error(refusal);
  }

  /**
   * An `env:` or `file:` reference may be read at all: the variable is listed in
   * `secretSources.env`; the file's real path (symlinks and `..` followed) is inside a directory of
   * `secretSources.files`. Nothing outside is read, stat'ed or resolved. Other schemes pass (they
   * are the worker's own resolvers). Throws `NotPermitted`.
   */
  async checkReadable(ref: string, field: string): Promise<void> {
    const lexical = this.rules.sourceRefusal(ref, field);
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
    const match = this.rules.matchAppliance(product, endpoint.url);
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
    return runbookProblems(this.rules, doc);
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
