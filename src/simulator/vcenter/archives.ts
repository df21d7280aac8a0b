/**
 * Backup archives of the simulated vCenters. Backup servers are shared: a freshly deployed
 * appliance lists and restores the archives another appliance wrote, so every appliance of one
 * simulator registers its state here, and the archives at a location are those of all of them
 * (one per SUCCEEDED backup job, plus what a redeployed appliance left behind).
 */
import type { SimulatorContext } from '../types';
import type { ArchiveFilterSpec, ArchiveInfo, ArchiveSummary, LocationSpec } from '../../vcenter/schemas';
import { VapiFault } from './errors';
import { backupJobStatus } from './job-states';
import { type Archive, VCENTER_VERSION, type VcenterState, sameLocation, stamp } from './model';

/** One registry per simulator (keyed by its context). */
const REGISTRIES = new WeakMap<SimulatorContext, Set<VcenterState>>();

/** One appliance's archives: one per SUCCEEDED backup job. */
export function ownArchives(state: VcenterState): Archive[] {
  const out: Archive[] = [];
  const systemName = state.self.systemName;
  for (const job of state.jobs.values()) {
    if (backupJobStatus(state, job).state !== 'SUCCEEDED') continue;
    // Real folder names look like `M_<version>_<YYYYMMDD-HHMMSS>_` (S_ for scheduled) [uncertain].
    const id = `${job.type === 'MANUAL' ? 'M' : 'S'}_${VCENTER_VERSION}_${stamp(job.startMs)}_`;
    out.push({
      id,
      systemName,
      location: job.location,
      archiveLocation: `${job.location.replace(/\/+$/, '')}/vCenter/sn_${systemName}/${id}`,
      timestampMs: job.startMs,
      comment: job.comment ?? '',
      parts: job.parts,
      backupPassword: job.backupPassword,
    });
  }
  return out;
}

/** The archives every appliance of the simulator sees, and the archive calls of one appliance. */
export class Archives {
  constructor(private readonly state: VcenterState) {
    let registry = REGISTRIES.get(state.ctx);
    if (!registry) REGISTRIES.set(state.ctx, (registry = new Set()));
    registry.add(state);
  }

  private registry(): VcenterState[] {
    return [...(REGISTRIES.get(this.state.ctx) ?? [])];
  }

  /** Every archive on every backup server, newest first. */
  all(): Archive[] {
    const seen = new Set<string>();
    const out: Archive[] = [];
    for (const a of [
      ...this.registry().flatMap((vc) => ownArchives(vc)),
      ...this.registry().flatMap((vc) => vc.kept),
    ]) {
      if (seen.has(a.archiveLocation)) continue;
      seen.add(a.archiveLocation);
      out.push(a);
    }
    return out.sort((a, b) => b.timestampMs - a.timestampMs);
  }

  at(location: string): Archive[] {
    return this.all().filter((a) => sameLocation(a.location, location));
  }

  /** A location is known once a backup or a schedule targeted it; others do not exist (NOT_FOUND). */
  private checkLocation(location: string): void {
    const known = this.registry().some(
      (vc) =>
        [...vc.jobs.values()].some((j) => sameLocation(j.location, location)) ||
        [...vc.schedules.values()].some((s) => sameLocation(s.info.location, location)),
    );
    if (!known && this.at(location).length === 0) {
      throw new VapiFault(
        'NOT_FOUND',
        `Backup location ${location} does not exist or is not accessible.`,
        'com.vmware.applmgmt.err_location_not_found',
      );
    }
  }

  systemNames(loc: LocationSpec): string[] {
    this.checkLocation(loc.location);
    return [...new Set(this.at(loc.location).map((a) => a.systemName))];
  }

  list(systemName: string, loc: LocationSpec, filter: ArchiveFilterSpec): ArchiveSummary[] {
    this.checkLocation(loc.location);
    const archives = this.at(loc.location).filter((a) => a.systemName === systemName);
    if (archives.length === 0)
      throw new VapiFault(
        'NOT_FOUND',
        `No backups of system ${systemName} at ${loc.location}.`,
        'com.vmware.applmgmt.err_system_name_not_found',
      );
    const from = filter.start_timestamp ? Date.parse(filter.start_timestamp) : -Infinity;
    const to = filter.end_timestamp ? Date.parse(filter.end_timestamp) : Infinity;
    if (filter.max_results !== undefined && filter.max_results < 0)
      throw new VapiFault('INVALID_ARGUMENT', 'filter_spec.max_results must not be negative.');
    const hits = archives.filter(
      (a) =>
        a.timestampMs >= from &&
        a.timestampMs <= to &&
        (filter.comment_substring === undefined || a.comment.includes(filter.comment_substring)),
    );
    return hits.slice(0, filter.max_results ?? hits.length).map((a) => ({
      archive: a.id,
      timestamp: new Date(a.timestampMs).toISOString(),
      version: VCENTER_VERSION,
      comment: a.comment,
    }));
  }

  get(systemName: string, archive: string, loc: LocationSpec): ArchiveInfo {
    this.checkLocation(loc.location);
    const a = this.at(loc.location).find((x) => x.systemName === systemName && x.id === archive);
    if (!a)
      throw new VapiFault(
        'NOT_FOUND',
        `Backup archive ${archive} of ${systemName} not found at ${loc.location}.`,
        'com.vmware.applmgmt.err_archive_not_found',
      );
    return {
      timestamp: new Date(a.timestampMs).toISOString(),
      location: a.archiveLocation,
      parts: a.parts,
      version: VCENTER_VERSION,
      system_name: a.systemName,
      comment: a.comment,
    };
  }
}
