/**
 * A starting credential policy from runbooks (`vmware-dr policy init`, and the simulated sites of
 * `rehearse` and `demo`): one appliance entry per appliance (product and host:port; endpoints of
 * several runbooks that reach the same appliance share it), its references by purpose, its
 * locations and TLS settings; one location entry per runbook location; the secret sources the
 * references need; webhooks from `notify`; the approval defaults. Settings that weaken a check
 * (`tls.insecure`, `allowHttp`) are carried over with a comment asking the operator to review
 * them. Pure: webhook hosts come from a resolver the caller passes.
 */
import { Document, type Node, YAMLMap, isMap, isScalar, isSeq } from 'yaml';
import { MAX_NAME_LENGTH } from '../../contract/names';
import { POLICY_API_VERSION, POLICY_KIND, type PolicyProduct } from './format';
import { parseAuthority } from './match';
import type { RunbookDocument } from '../../contract/runbook/document';

export interface PolicyForRunbooksOptions {
  /**
   * The value of a webhook `urlRef`, when the caller can resolve it (e.g. `policy init` in its
   * own environment): only its host[:port] is written. Undefined leaves the hosts empty, with a
   * comment. @default none: every webhook's hosts are left empty
   */
  resolveWebhookUrl?: (urlRef: string) => string | undefined;
  /** Where the runbooks came from, for the header comment. @default none */
  sources?: string[];
}

/** A generated policy: the text to write (YAML with review comments) and its document. */
export interface GeneratedPolicy {
  text: string;
  document: Record<string, unknown>;
}

interface ApplianceDraft {
  name: string;
  product: PolicyProduct;
  host: string;
  secrets: { login: Set<string>; encryption: Set<string>; passphrase: Set<string>; ssoAdmin: Set<string> };
  locations: Set<string>;
  insecure: boolean;
  caFiles: Set<string>;
  allowHttp: boolean;
}

/** `host` or `host:port` (port only when it is not the scheme's default). */
function hostOf(url: string): string | undefined {
  const a = parseAuthority(url);
  if (typeof a === 'string') return undefined;
  return a.port === a.defaultPort ? a.host : `${a.host}:${a.port}`;
}

/** A unique policy name from `wanted`. */
function uniqueName(wanted: string, taken: Set<string>): string {
  const base =
    wanted
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[^a-z0-9]+/, '')
      .slice(0, MAX_NAME_LENGTH - 4) || 'entry';
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
  taken.add(name);
  return name;
}

const sorted = (s: Iterable<string>) => [...new Set(s)].sort();

/**
 * The starting policy of `docs` (checked runbook documents). Every reference they bind is bound
 * to the appliance or location that uses it for what it uses it for, and readable under
 * `secretSources`; nothing else is allowed.
 */
export function policyForRunbooks(
  docs: readonly RunbookDocument[],
  options: PolicyForRunbooksOptions = {},
): GeneratedPolicy {
  const appliances = new Map<string, ApplianceDraft>();
  const applianceNames = new Set<string>();
  const locations = new Map<string, { name: string; url: string; passwords: Set<string> }>();
  const locationNames = new Set<string>();
  const webhooks = new Map<string, { name: string; hosts: string[]; allowHttp: boolean; resolved: boolean }>();
  const webhookNames = new Set<string>();
  const refs = new Set<string>();

  for (const doc of docs) {
    // Locations: one entry per (name, url); the same key with another URL gets its own name.
    const locationName = new Map<string, string>();
    for (const [key, l] of Object.entries(doc.locations ?? {})) {
      const id = `${key}\u0000${l.url}`;
      let entry = locations.get(id);
      if (!entry) {
        entry = { name: uniqueName(key, locationNames), url: l.url, passwords: new Set() };
        locations.set(id, entry);
      }
      if (l.passwordRef !== undefined) {
        entry.passwords.add(l.passwordRef);
        refs.add(l.passwordRef);
      }
      locationName.set(key, entry.name);
    }
    // Appliances: keyed by product and host:port, named after the first endpoint key that reaches it.
    const applianceOf = new Map<string, ApplianceDraft>();
    for (const [key, e] of Object.entries(doc.endpoints)) {
      const host = hostOf(e.url) ?? e.url;
      const id = `${e.product}\u0000${host}`;
      let a = appliances.get(id);
      if (!a) {
        a = {
          name: uniqueName(key, applianceNames),
          product: e.product,
          host,
          secrets: { login: new Set(), encryption: new Set(), passphrase: new Set(), ssoAdmin: new Set() },
          locations: new Set(),
          insecure: false,
          caFiles: new Set(),
          allowHttp: false,
        };
        appliances.set(id, a);
      }
      a.secrets.login.add(e.passwordRef);
      refs.add(e.passwordRef);
      if (e.tls?.insecure === true) a.insecure = true;
      if (e.tls?.caFile !== undefined) a.caFiles.add(e.tls.caFile);
      if (e.allowHttp === true && /^http:/i.test(e.url)) a.allowHttp = true;
      applianceOf.set(key, a);
    }
    for (const stage of doc.stages)
      for (const step of stage.steps) {
        const key = 'backup' in step ? step.backup : step.restore;
        const a = applianceOf.get(key);
        if (!a) continue;
        const locKey = 'backup' in step ? step.to : step.from;
        const loc = locKey !== undefined ? doc.locations?.[locKey] : undefined;
        if (a.product === 'vcenter' && locKey !== undefined && loc) {
          a.locations.add(locationName.get(locKey)!);
          if (loc.encryptionPasswordRef !== undefined) {
            a.secrets.encryption.add(loc.encryptionPasswordRef);
            refs.add(loc.encryptionPasswordRef);
          }
        }
        if ('restore' in step && step.passphraseRef !== undefined) {
          a.secrets.passphrase.add(step.passphraseRef);
          refs.add(step.passphraseRef);
        }
      }
    for (const n of doc.notify ?? []) {
      if (webhooks.has(n.urlRef)) continue;
      refs.add(n.urlRef);
      const value = options.resolveWebhookUrl?.(n.urlRef);
      let hosts: string[] = [];
      let allowHttp = false;
      if (value !== undefined) {
        try {
          const u = new URL(value);
          if (u.protocol === 'https:' || u.protocol === 'http:') {
            hosts = [u.port === '' ? u.hostname : `${u.hostname}:${u.port}`];
            allowHttp = u.protocol === 'http:';
          }
        } catch {
          // Not a URL: left empty, with the comment.
        }
      }
      const wanted = n.urlRef.replace(/^[a-z]+:/i, '').replace(/^.*\//, '');
      webhooks.set(n.urlRef, {
        name: uniqueName(wanted, webhookNames),
        hosts,
        allowHttp,
        resolved: hosts.length > 0,
      });
    }
  }

  const env = sorted([...refs].filter((r) => r.startsWith('env:')).map((r) => r.slice(4)));
  const files = sorted(
    [...refs].filter((r) => r.startsWith('file:')).map((r) => r.slice(5).replace(/\/[^/]*$/, '') || '/'),
  );
  const applianceList = [...appliances.values()];
  const webhookList = [...webhooks.entries()];
  const document = {
    apiVersion: POLICY_API_VERSION,
    kind: POLICY_KIND,
    secretSources: { files, env },
    appliances: applianceList.map((a) => ({
      name: a.name,
      product: a.product,
      hosts: [a.host],
      secrets: {
        login: sorted(a.secrets.login),
        encryption: sorted(a.secrets.encryption),
        passphrase: sorted(a.secrets.passphrase),
        ssoAdmin: sorted(a.secrets.ssoAdmin),
      },
      locations: sorted(a.locations),
      tls: { allowInsecure: a.insecure, caFiles: sorted(a.caFiles) },
      allowHttp: a.allowHttp,
    })),
    locations: [...locations.values()].map((l) => ({ name: l.name, url: l.url, passwords: sorted(l.passwords) })),
    webhooks: webhookList.map(([urlRef, w]) => ({
      name: w.name,
      urlRefs: [urlRef],
      hosts: w.hosts,
      ...(w.allowHttp && { allowHttp: true }),
    })),
    approvals: { fourEyes: true, required: ['restore'] },
  };

  const yaml = new Document(document);
  yaml.commentBefore = [
    ` Worker credential policy (VMWARE_DR_POLICY), generated by vmware-dr policy init${options.sources?.length ? ` from ${options.sources.join(', ')}` : ''}.`,
    ' Review it: it allows exactly what these runbooks use, nothing else. Then `vmware-dr policy check FILE`.',
  ].join('\n');
  // Short lists of strings on one line.
  const flowLists = (node: unknown): void => {
    if (isSeq(node)) {
      if (node.items.every((i) => isScalar(i))) node.flow = true;
      else node.items.forEach(flowLists);
    } else if (isMap(node)) for (const p of node.items) flowLists(p.value);
  };
  flowLists(yaml.contents);
  const keyOf = (path: (string | number)[], key: string): Node | undefined => {
    const map = yaml.getIn(path, true);
    if (!(map instanceof YAMLMap)) return undefined;
    const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
    return pair?.key as Node | undefined;
  };
  applianceList.forEach((a, i) => {
    if (a.insecure) {
      const k = keyOf(['appliances', i, 'tls'], 'allowInsecure');
      if (k)
        k.commentBefore =
          ' REVIEW: a runbook endpoint sets tls.insecure: true (no certificate check). Prefer tls.caFile or tls.thumbprint, then set false.';
    }
    if (a.allowHttp) {
      const k = keyOf(['appliances', i], 'allowHttp');
      if (k)
        k.commentBefore = ' REVIEW: a runbook endpoint uses plain http:// (the password crosses the network in clear).';
    }
  });
  webhookList.forEach(([urlRef, w], i) => {
    const k = keyOf(['webhooks', i], 'hosts');
    if (!k) return;
    if (!w.resolved)
      k.commentBefore = ` REVIEW: fill in the host[:port] of the URL ${urlRef} holds (it did not resolve here); empty = nothing is sent.`;
    else if (w.allowHttp) k.commentBefore = ' REVIEW: the webhook URL is plain http://.';
  });
  const approvals = keyOf([], 'approvals');
  if (approvals)
    approvals.commentBefore =
      ' Approvals are enforced by drRunbook. Add approvers: [{ identities: [...], appliances: [...], actions: [...] }] to limit who may approve.';
  return { text: yaml.toString({ lineWidth: 0, flowCollectionPadding: false }), document };
}
