/**
 * What every area of one simulated vCenter shares: the job, schedule, archive and session
 * records, the state object that holds them ({@link VcenterState}, passed to each area), the part
 * catalogue and the small helpers they all use (messages, job ids, location schemes).
 */
import type { SimulatorContext } from '../types';
import type { LocalizableMessage, LocationType, Part, ScheduleInfo } from '../../vcenter/schemas';

export const VCENTER_BUILD = '21560480';
/** Version string of the simulated appliance and its archives [uncertain: any real-looking value]. */
export const VCENTER_VERSION = '7.0.3.01400';

export type VcenterForm = 'api' | 'rest';

/** Where a vCenter is in its life: normal operation, or freshly deployed waiting for a restore (stage 2, before firstboot). */
export type VcenterStage = 'running' | 'restore';

export function msg(id: string, text: string, args: string[] = []): LocalizableMessage {
  return { id, default_message: text, args };
}

/** The part catalogue: `common` is mandatory, `seat` (stats, events, tasks) optional. Sizes in MB. */
export const PARTS: readonly (Part & { sizeMb: number })[] = [
  {
    id: 'common',
    name: msg('com.vmware.applmgmt.backup.parts.common', 'Common'),
    description: msg('com.vmware.applmgmt.backup.parts.common.description', 'Inventory and configuration'),
    selected_by_default: true,
    optional: false,
    sizeMb: 1536,
  },
  {
    id: 'seat',
    name: msg('com.vmware.applmgmt.backup.parts.seat', 'Stats, Events, and Tasks'),
    description: msg('com.vmware.applmgmt.backup.parts.seat.description', 'Historical statistics, events and tasks'),
    selected_by_default: true,
    optional: true,
    sizeMb: 4096,
  },
];

/** Location URL scheme → location type (schedules carry only a URL). */
export const SCHEME_TYPES: Record<string, LocationType> = {
  ftp: 'FTP',
  http: 'HTTP',
  ftps: 'FTPS',
  https: 'HTTPS',
  scp: 'SCP',
  sftp: 'SFTP',
  nfs: 'NFS',
  smb: 'SMB',
};

export function schemeType(location: string): LocationType | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(location)?.[1]?.toLowerCase();
  return scheme ? SCHEME_TYPES[scheme] : undefined;
}

export function sameLocation(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

/** Timestamp-based job id as real appliances emit: `YYYYMMDD-HHMMSS-<build>`. */
export function stamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}
export function jobId(ms: number): string {
  return `${stamp(ms)}-${VCENTER_BUILD}`;
}

export interface Job {
  id: string;
  comment?: string;
  parts: string[];
  location: string;
  locationType: string;
  locationUser?: string;
  /** The backup password, so a restore can check it (a simulator may keep it; nothing echoes it). */
  backupPassword?: string;
  type: 'MANUAL' | 'SCHEDULED';
  user: string;
  startMs: number;
  fail?: string;
  cancelled?: boolean;
  endMs?: number;
}

export interface RestoreJob {
  startMs: number;
  /** Set when the job ended early (cancelled, or failed its prechecks): no service restart then. */
  endMs?: number;
  cancelled?: boolean;
  /** Failure reason; with `endMs` unset the job fails at the end of its run. */
  fail?: string;
  /** Messages of the prechecks (warnings). */
  notes: LocalizableMessage[];
  sessionsDropped?: boolean;
}

export interface ReconciliationJob {
  startMs: number;
  fail?: string;
}

export interface Schedule {
  info: ScheduleInfo;
  backupPassword?: string;
  locationPassword?: string;
}

/** One backup archive on a backup server, as every appliance of the simulator sees it. */
export interface Archive {
  id: string;
  systemName: string;
  /** The location the backup was written to (what list/get take). */
  location: string;
  /** The archive folder: what a restore request points at. */
  archiveLocation: string;
  timestampMs: number;
  comment: string;
  parts: string[];
  backupPassword?: string;
}

export interface Session {
  user: string;
  created: number;
  lastAccess: number;
}

/**
 * The appliance's name and credentials. Areas read them through this object on every call: the
 * server renames a named appliance (and may fix its password) after building it.
 */
export interface VcenterIdentity {
  readonly name: string;
  /** FQDN/PNID-like name: the backup "system name". */
  readonly systemName: string;
  readonly username: string;
  readonly password: string;
}

/** The state of one simulated vCenter, shared by its areas (each gets it passed in). */
export class VcenterState {
  /** token → session */
  readonly sessions = new Map<string, Session>();
  readonly jobs = new Map<string, Job>();
  readonly schedules = new Map<string, Schedule>();
  /** Archives this appliance wrote before it was redeployed (they stay on the backup servers). */
  readonly kept: Archive[] = [];
  restoreJob?: RestoreJob;
  reconciliation?: ReconciliationJob;
  /** When the last restore completed: reconciliation is possible from then on. */
  restoredAtMs?: number;
  /** The stage as last applied; read it through `currentStage` (job-states.ts), which applies what time did first. */
  stage: VcenterStage = 'running';
  nextJobFails?: string;

  constructor(
    readonly ctx: SimulatorContext,
    readonly self: VcenterIdentity,
  ) {}

  /** The failure a `jobFailed` fault armed for the next job, consumed. */
  takeJobFailure(): string | undefined {
    const fail = this.nextJobFails;
    this.nextJobFails = undefined;
    return fail;
  }

  /** How long a job runs (ms). */
  total(): number {
    return Math.max(1, this.ctx.jobSeconds * 1000);
  }
}
