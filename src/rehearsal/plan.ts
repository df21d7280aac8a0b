/**
 * What a rehearsal runs: the runbook document checked, the faults checked against its endpoints,
 * and the plan: the simulated appliances of its topology (one per endpoint, named after its key;
 * a vCenter restored in its first step freshly deployed, with the backup to restore), the
 * secrets the worker reads by reference, and the document rewritten to the simulator. Pure but
 * for the random passwords.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { Runbook, type RunbookDocument, type RunbookEndpoint, type RunbookStep } from '../contract/runbook/document';
import { checkInput } from '../contract/inputs';
import { FaultBook } from '../simulator/faults';
import type { SimulatorApplianceSpec } from '../simulator/appliance-specs';
import type { ApplianceInfo, Simulator } from '../simulator/server';
import type { FaultRule } from '../simulator/types';

/** Prefix of the variables that carry the simulator's secrets to the worker. */
export const REHEARSAL_ENV_PREFIX = 'VMWARE_DR_REHEARSAL_';

/** The document or the options cannot be rehearsed (exit 2). */
export class RehearsalInputError extends Error {
  override readonly name = 'RehearsalInputError';
  constructor(
    message: string,
    readonly problems: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** `vc-mgmt` → `VC_MGMT` (the part of an environment variable name). */
function envPart(key: string): string {
  return key.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** A password that meets vCenter's backup-password policy (8–20 characters, upper, lower, digit, special). */
function backupPassword(): string {
  return `Re-${randomBytes(5).toString('hex')}#A1`;
}

/** Parses runbook text (YAML or JSON) and checks it; every problem named. */
export function parseRunbook(input: string | unknown): RunbookDocument {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = parseYaml(input);
    } catch (err) {
      throw new RehearsalInputError(`the runbook is not YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const check = checkInput('runbook', Runbook, value, { origin: 'call' });
  if (!check.ok)
    throw new RehearsalInputError(
      `the runbook is invalid: ${check.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      check.problems,
    );
  return check.value as RunbookDocument;
}

/** Faults must name endpoints of this runbook (and their product), or they would silently hit nothing. */
export function checkFaults(doc: RunbookDocument, faults: FaultRule[]): FaultRule[] {
  const keys = Object.keys(doc.endpoints);
  return faults.map((raw, i) => {
    let f: FaultRule;
    try {
      f = FaultBook.validate(raw);
    } catch (err) {
      throw new RehearsalInputError(`faults[${i}]: ${(err as Error).message}`);
    }
    if (f.appliance !== undefined) {
      const e = doc.endpoints[f.appliance];
      if (!e)
        throw new RehearsalInputError(
          `faults[${i}].appliance: "${f.appliance}" is not an endpoint of runbook ${doc.name} (endpoints: ${keys.join(', ')})`,
        );
      if (f.product !== undefined && f.product !== e.product)
        throw new RehearsalInputError(
          `faults[${i}].product: endpoint ${f.appliance} is a ${e.product}, not a ${f.product}; fix or drop product`,
        );
    }
    return f;
  });
}

/** The first step of each endpoint, in stage order. */
function firstUse(doc: RunbookDocument): Map<string, RunbookStep> {
  const first = new Map<string, RunbookStep>();
  for (const stage of doc.stages)
    for (const step of stage.steps) {
      const key = 'backup' in step ? step.backup : step.restore;
      if (!first.has(key)) first.set(key, step);
    }
  return first;
}

/** The host of an appliance URL (the default system name of its vCenter backups). */
function urlHost(url: string): string {
  return /^[a-z]+:\/\/\[?([^/:?#\]]+)/i.exec(url)?.[1]?.toLowerCase() ?? 'vcenter.sim.local';
}

export interface RehearsalPlan {
  specs: SimulatorApplianceSpec[];
  /** Variable name → value, set for the worker while the rehearsal runs. */
  secrets: Map<string, string>;
  notes: string[];
  /** Builds the rehearsed document once the simulator runs. */
  document: (sim: Simulator) => RunbookDocument;
}

/** What the simulator must serve and how the document is rewritten to it. */
export function planRehearsal(doc: RunbookDocument): RehearsalPlan {
  const secrets = new Map<string, string>();
  const notes: string[] = [];
  const variable = (name: string, value: string): string => {
    let full = `${REHEARSAL_ENV_PREFIX}${name}`;
    for (let n = 2; secrets.has(full); n++) full = `${REHEARSAL_ENV_PREFIX}${name}_${n}`;
    secrets.set(full, value);
    return `env:${full}`;
  };

  // Locations: their secrets become the rehearsal's; a vCenter backup is encrypted with the location's password.
  const locations: Record<string, NonNullable<RunbookDocument['locations']>[string]> = {};
  const encryption = new Map<string, string>();
  for (const [key, l] of Object.entries(doc.locations ?? {})) {
    const loc = { ...l };
    if (l.passwordRef !== undefined) loc.passwordRef = variable(`LOCATION_${envPart(key)}_PASSWORD`, randomUUID());
    if (l.encryptionPasswordRef !== undefined) {
      const pw = backupPassword();
      encryption.set(key, pw);
      loc.encryptionPasswordRef = variable(`LOCATION_${envPart(key)}_ENCRYPTION`, pw);
    }
    locations[key] = loc;
  }

  // Appliances: a vCenter whose first step is a restore is freshly deployed, with the backup to restore.
  const first = firstUse(doc);
  const systemNames = new Map<string, string>();
  const specs: SimulatorApplianceSpec[] = Object.entries(doc.endpoints).map(([key, e]) => {
    const step = first.get(key);
    if (e.product !== 'vcenter' || !step || !('restore' in step)) return { product: e.product, name: key };
    const systemName = step.systemName ?? urlHost(e.url);
    systemNames.set(key, systemName);
    const from = step.from !== undefined ? doc.locations?.[step.from] : undefined;
    return {
      product: 'vcenter',
      name: key,
      stage: 'restore',
      systemName,
      backups: from
        ? [
            {
              location: from.url,
              locationType: from.type,
              ...(encryption.has(step.from!) && { backupPassword: encryption.get(step.from!) }),
            },
          ]
        : [],
    };
  });

  // Steps: restores name their system (the URL changes to the simulator's); a fixed archive id cannot exist there.
  const stages = doc.stages.map((stage) => ({
    ...stage,
    steps: stage.steps.map((step) => {
      const { pollInterval: _pollInterval, ...rest } = step;
      if (!('restore' in rest)) return rest;
      const out = { ...rest };
      const endpoint = doc.endpoints[rest.restore]!;
      if (endpoint.product === 'vcenter') {
        out.systemName ??= systemNames.get(rest.restore) ?? urlHost(endpoint.url);
        if (rest.archive !== undefined && rest.archive !== 'latest') {
          notes.push(
            `step ${rest.restore}: archive ${rest.archive} cannot exist on a simulated backup server; rehearsed with the latest archive`,
          );
          out.archive = 'latest';
        }
      }
      if (rest.passphraseRef !== undefined)
        out.passphraseRef = variable(`${envPart(rest.restore)}_PASSPHRASE`, randomUUID());
      return out;
    }),
  }));
  const hadPollInterval =
    doc.defaults?.pollInterval !== undefined ||
    doc.stages.some((s) => s.steps.some((st) => st.pollInterval !== undefined));
  if (hadPollInterval)
    notes.push('pollInterval: the document’s intervals are for real appliances; rehearsed with short polls');
  if (doc.notify?.length) notes.push(`notify: ${doc.notify.length} webhook(s) not called during a rehearsal`);

  return {
    specs,
    secrets,
    notes,
    document: (sim) => {
      const endpoints: Record<string, RunbookEndpoint> = {};
      for (const [key, e] of Object.entries(doc.endpoints)) {
        const product = e.product === 'sddc-manager' ? 'sddcManager' : e.product;
        const info = sim.info[product].find((a) => a.url.endsWith(`/${key}`)) as ApplianceInfo;
        const { allowHttp: _allowHttp, tls: _tls, ...rest } = e;
        endpoints[key] = {
          ...rest,
          url: info.url,
          username: info.username,
          passwordRef: variable(envPart(key), info.password),
          tls: { caFile: sim.info.caFile! },
        } as RunbookEndpoint;
      }
      const { notify: _notify, ...base } = doc;
      return {
        ...base,
        defaults: { ...doc.defaults, pollInterval: undefined },
        endpoints,
        ...(doc.locations && { locations }),
        stages,
      } as RunbookDocument;
    },
  };
}

/** A fault rule in a line: `vc-mgmt backupJobCreate → error FEATURE_IN_USE (×1)`. */
export function faultText(f: FaultRule): string {
  const what =
    'error' in f.action
      ? `${f.action.kind} ${f.action.error}`
      : 'status' in f.action
        ? `${f.action.kind} ${f.action.status}`
        : f.action.kind;
  return `${f.appliance ?? `every ${f.product ?? 'appliance'}`} ${f.operation === '*' ? 'every call' : f.operation} → ${what} (×${f.count ?? 1})`;
}
