/**
 * Worker credential policies for tests: the policy of a simulated site (every product at the
 * simulator's host:port, its CA file, the references a test binds), written to a temporary
 * directory that `cleanup` removes (never into the tree), for the production worker's
 * `VMWARE_DR_POLICY`, or parsed for an in-process worker's `policy` option.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CredentialPolicy } from '../../src/core/policy/index';

/** What a simulated site's policy allows; every list defaults to empty. */
export interface SimulatorPolicyOptions {
  /** The simulator's base URL (`sim.url`): every product is allowed at its host:port. */
  url: string;
  /** The simulator's CA file (`sim.info.caFile`), allowed as tls.caFile. */
  caFile?: string;
  /** References per purpose, bound to every product's entry. */
  login?: string[];
  encryption?: string[];
  passphrase?: string[];
  ssoAdmin?: string[];
  /** Backup locations every appliance may use. */
  locations?: { name: string; url: string; passwords?: string[] }[];
  webhooks?: { name: string; urlRefs: string[]; hosts: string[]; allowHttp?: boolean }[];
  /** Secret sources; default: the env names of every env: reference above. */
  env?: string[];
  files?: string[];
  allowHttp?: boolean;
  allowInsecure?: boolean;
  /** The policy's `approvals` section. @default none: the defaults (four eyes, restores need approval) */
  approvals?: Record<string, unknown>;
}

/** The policy document of a simulated site. */
export function simulatorPolicy(o: SimulatorPolicyOptions): Record<string, unknown> {
  const host = new URL(o.url).host;
  const refs = [
    ...(o.login ?? []),
    ...(o.encryption ?? []),
    ...(o.passphrase ?? []),
    ...(o.ssoAdmin ?? []),
    ...(o.locations ?? []).flatMap((l) => l.passwords ?? []),
    ...(o.webhooks ?? []).flatMap((w) => w.urlRefs),
  ];
  const env = o.env ?? [...new Set(refs.filter((r) => r.startsWith('env:')).map((r) => r.slice(4)))];
  return {
    apiVersion: 'vmware-dr/v1',
    kind: 'WorkerPolicy',
    secretSources: { files: o.files ?? [], env },
    appliances: (['vcenter', 'sddc-manager', 'vcda'] as const).map((product) => ({
      name: `sim-${product}`,
      product,
      hosts: [host],
      secrets: {
        login: o.login ?? [],
        encryption: o.encryption ?? [],
        passphrase: o.passphrase ?? [],
        ssoAdmin: o.ssoAdmin ?? [],
      },
      locations: (o.locations ?? []).map((l) => l.name),
      tls: { allowInsecure: o.allowInsecure ?? false, caFiles: o.caFile ? [o.caFile] : [] },
      allowHttp: o.allowHttp ?? false,
    })),
    locations: (o.locations ?? []).map((l) => ({ name: l.name, url: l.url, passwords: l.passwords ?? [] })),
    webhooks: o.webhooks ?? [],
    ...(o.approvals && { approvals: o.approvals }),
  };
}

/** A parsed policy (for `createActivities({ policy })`). */
export function parsedPolicy(policy: Record<string, unknown> | string, source = 'test-policy.yaml'): CredentialPolicy {
  return CredentialPolicy.parse(typeof policy === 'string' ? policy : stringify(policy), source);
}

export interface TempPolicy {
  /** The policy file's path (for VMWARE_DR_POLICY). */
  file: string;
  dir: string;
  cleanup(): Promise<void>;
}

/** Writes a policy (document or text) to a new temporary directory. */
export async function writeTempPolicy(policy: Record<string, unknown> | string): Promise<TempPolicy> {
  const dir = await mkdtemp(join(tmpdir(), 'vmware-dr-policy-'));
  const file = join(dir, 'policy.yaml');
  await writeFile(file, typeof policy === 'string' ? policy : stringify(policy));
  return { file, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
