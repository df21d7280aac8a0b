/**
 * The rules of a worker credential policy, as refusals: for an endpoint (appliance, http, TLS), a
 * secret reference and its purpose, a backup location and its password, a webhook reference and
 * the URL it holds, and where a reference may be read from, each check returns what it refuses
 * (the input field, the policy rule, what and the fix) or nothing. `CredentialPolicy` turns a
 * refusal into a `NotPermitted` error (activities) or a runbook problem. Pure.
 */
import type { TlsSettings } from '../../contract/endpoints';
import type { Product } from '../../contract/names';
import {
  type PolicyAppliance,
  type PolicyLocation,
  SECRET_PURPOSES,
  type SecretPurpose,
  type WorkerPolicyDocument,
  withinSecretSources,
} from './format';
import {
  type UrlAuthority,
  hostMatches,
  locationCovers,
  normalisePath,
  parseAuthority,
  parseHostPattern,
} from './match';

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

/** What a rule refuses, before it becomes an error or a problem. */
export interface Refusal {
  /** The input field refused. */
  field: string;
  /** The policy rule that refuses it. */
  rule: string;
  /** What is refused (starts with the field; never a secret's value). */
  summary: string;
  /** What to add to the policy (or change in the input). */
  fix: string;
}

const PURPOSE_WORDS: Record<SecretPurpose, string> = {
  login: 'login (passwordRef)',
  encryption: 'backup encryption',
  passphrase: 'backup passphrase',
  ssoAdmin: 'SSO administrator password',
};

type Purpose = SecretPurpose;

export class PolicyRules {
  readonly appliances: ApplianceRule[];

  constructor(
    readonly document: WorkerPolicyDocument,
    /** The policy file, named in refusals. */
    readonly source: string,
  ) {
    this.appliances = document.appliances.map((a, index) => ({ ...a, index, label: a.name ?? `appliances[${index}]` }));
  }

  /** The first appliance entry of `product` whose hosts match the URL's host:port; a problem when the URL cannot be read. */
  matchAppliance(
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

  /** The entry that allows the endpoint, or the refusal: no entry, plain http, `tls.insecure` or an unlisted `tls.caFile`. */
  endpointRule(
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

  /** A reference not bound to the appliance entry for `purpose`. */
  secretRefusal(rule: ApplianceRule, purpose: Purpose, ref: string, field: string): Refusal | undefined {
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

  /** A location the entry may not use (no allowed `locations` entry covers it), or a password that location does not list. */
  locationRefusal(
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

  /** A webhook URL reference no `webhooks` entry lists. */
  webhookRefRefusal(urlRef: string, field: string): Refusal | undefined {
    if (this.document.webhooks.some((w) => w.urlRefs.includes(urlRef))) return undefined;
    return {
      field,
      rule: 'webhooks',
      summary: `${field}: ${urlRef} is not the URL reference of a webhook in ${this.source}; it was not read and nothing was sent`,
      fix: `if runbooks may notify it, add a webhooks entry with urlRefs: [${urlRef}] and its hosts to ${this.source}`,
    };
  }

  /** An `env:` name or `file:` path outside `secretSources` (lexically; `CredentialPolicy.checkReadable` adds the real path). */
  sourceRefusal(ref: string, field: string): Refusal | undefined {
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

  /**
   * The resolved webhook URL of `urlRef`: a host:port (and scheme) its webhook entry allows. The
   * refusal never repeats the URL or its host: the URL is a secret.
   */
  webhookUrlRefusal(urlRef: string, url: string, field: string): Refusal | undefined {
    const listed = this.webhookRefRefusal(urlRef, field);
    if (listed) return listed;
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
    if (ok) return undefined;
    const first = hooks[0]!;
    const label = `webhooks[${first.i}] (${first.w.name})`;
    return {
      field,
      rule: `webhooks[${first.i}].hosts`,
      summary: `${field}: the URL that ${urlRef} holds is ${parsed === undefined ? 'not a valid URL' : scheme !== 'https' && scheme !== 'http' ? 'not http(s)' : scheme === 'http' && !first.w.allowHttp ? 'plain http://, which ' + label + ' does not allow' : `on a host ${label} does not list`} (the URL and its host are not repeated: the URL is a secret); nothing was sent`,
      fix: `if the webhook's host is right, add its host[:port] to webhooks[${first.i}].hosts in ${this.source}${scheme === 'http' ? ` (and allowHttp: true, knowingly)` : ''}; otherwise correct the value of ${urlRef}`,
    };
  }
}
