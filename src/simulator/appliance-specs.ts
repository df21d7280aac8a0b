/**
 * Appliances served under names of your choosing (`SimulatorOptions.appliances`): the spec, its
 * checks (errors name the entry and the fix), and what a spec asks of a named vCenter (its system
 * name, finished backups from before, its stage).
 */
import type { LocationType } from '../vcenter/schemas';
import type { SimProduct, SimulatorContext } from './types';
import type { VcenterAppliance } from './vcenter/appliance';
import { type Job, SCHEME_TYPES, VCENTER_BUILD, type VcenterStage } from './vcenter/model';

/**
 * One appliance served under a name of your choosing, at `/<product>/<name>` (e.g.
 * `/vcenter/vc-mgmt`): faults, counters and credentials use that name too.
 */
export interface SimulatorApplianceSpec {
  product: SimProduct;
  /** 1–64 letters, digits, `.`, `_`, `-` (a URL path segment); unique per product. */
  name: string;
  /**
   * vCenter only. `'restore'`: freshly deployed and waiting for a restore (stage 2, before
   * firstboot), the only state in which `POST /api/appliance/recovery/restore/job` is allowed.
   * @default 'running'
   */
  stage?: VcenterStage;
  /**
   * vCenter only: the system name (FQDN/PNID) its backups are filed under. A redeployed vCenter
   * keeps the FQDN of the one it replaces, so this is also whose backups a restore finds.
   * @default `<name>.sim.local`
   */
  systemName?: string;
  /** vCenter only: backups of this appliance already on backup servers, taken before (e.g. what a restore needs). */
  backups?: SeededVcenterBackup[];
}

/** A finished vCenter backup that exists before the simulator starts (a backup server's content). */
export interface SeededVcenterBackup {
  /** The backup location, e.g. `sftp://backup.example.com/vcsa` (the archive lands in `<location>/vCenter/sn_<systemName>/…`). */
  location: string;
  /** @default from the location's scheme (`sftp://` → `SFTP`), else `SFTP` */
  locationType?: LocationType;
  /** The password the backup was encrypted with; a restore must give the same one. @default none (not encrypted) */
  backupPassword?: string;
  /**
   * How long ago it was taken (at least the simulator's job time, so it has finished).
   * @default 86400 (one day)
   */
  ageSeconds?: number;
}

/** URL path segment of each product's appliances. */
export const PRODUCT_PATH: Record<SimProduct, string> = {
  vcenter: 'vcenter',
  'sddc-manager': 'sddc-manager',
  vcda: 'vcda',
  'nsx-manager': 'nsx-manager',
};

const APPLIANCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const VCENTER_ONLY = ['stage', 'systemName', 'backups'] as const;

/** Checks `appliances` (names, product, vCenter-only fields); errors name the entry and the fix. */
export function checkApplianceSpecs(specs: SimulatorApplianceSpec[]): SimulatorApplianceSpec[] {
  if (!Array.isArray(specs)) throw new Error('appliances: a list of {product, name}');
  specs.forEach((spec, i) => {
    const at = `appliances[${i}]`;
    if (!spec || !(spec.product in PRODUCT_PATH))
      throw new Error(`${at}.product: one of ${Object.keys(PRODUCT_PATH).join(', ')}`);
    if (typeof spec.name !== 'string' || !APPLIANCE_NAME.test(spec.name))
      throw new Error(`${at}.name: 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
    if (spec.product !== 'vcenter') {
      const extra = VCENTER_ONLY.filter((f) => spec[f] !== undefined);
      if (extra.length) throw new Error(`${at}: ${extra.join(', ')} apply to vCenter appliances only; remove them`);
    }
    if (spec.stage !== undefined && spec.stage !== 'running' && spec.stage !== 'restore')
      throw new Error(`${at}.stage: "running" or "restore"`);
    if (spec.systemName !== undefined && !/^[A-Za-z0-9._-]{1,253}$/.test(spec.systemName))
      throw new Error(`${at}.systemName: a host name such as vc-mgmt.example.com`);
    (spec.backups ?? []).forEach((b, j) => {
      if (typeof b?.location !== 'string' || !/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(b.location))
        throw new Error(`${at}.backups[${j}].location: a URL such as sftp://backup.example.com/vcsa`);
      if (b.ageSeconds !== undefined && !(Number.isFinite(b.ageSeconds) && b.ageSeconds >= 0))
        throw new Error(`${at}.backups[${j}].ageSeconds: seconds ≥ 0`);
    });
  });
  return specs;
}

/** `YYYYMMDD-HHMMSS` in UTC, as vCenter job ids start. */
function utcStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace('T', '-').replace(/\..*$/, '');
}

/**
 * Puts a named vCenter in the state asked for: its system name, finished backups from before
 * (entries in its job table, which is what the appliance lists archives from), then its stage. A
 * vCenter moved to `'restore'` keeps those archives on the backup servers, as a redeployed one does.
 * `spec` has passed {@link checkApplianceSpecs}.
 */
export function prepareVcenter(vc: VcenterAppliance, spec: SimulatorApplianceSpec, ctx: SimulatorContext): void {
  Object.defineProperty(vc, 'systemName', { value: spec.systemName ?? `${spec.name}.sim.local`, enumerable: true });
  const jobMs = Math.max(1, ctx.jobSeconds * 1000);
  for (const backup of spec.backups ?? []) {
    let startMs = ctx.now() - Math.max((backup.ageSeconds ?? 86_400) * 1000, jobMs + 1000);
    while (vc.jobs.has(`${utcStamp(startMs)}-${VCENTER_BUILD}`)) startMs -= 1000;
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(backup.location)?.[1]?.toLowerCase() ?? '';
    const job: Job = {
      id: `${utcStamp(startMs)}-${VCENTER_BUILD}`,
      comment: 'backup taken before this appliance was redeployed',
      parts: ['common'],
      location: backup.location,
      locationType: backup.locationType ?? SCHEME_TYPES[scheme] ?? 'SFTP',
      backupPassword: backup.backupPassword,
      type: 'MANUAL',
      user: 'VSPHERE.LOCAL\\Administrator',
      startMs,
    };
    vc.jobs.set(job.id, job);
  }
  if (spec.stage === 'restore') vc.setStage('restore');
}
