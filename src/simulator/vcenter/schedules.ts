/**
 * Backup schedules of the simulated vCenter: one schedule at most (as the appliance allows),
 * create, update (merged with what is stored, passwords kept), delete, and run now (a SCHEDULED
 * backup job with the schedule's settings).
 */
import { z } from 'zod';
import type { BackupJobStatus, ScheduleCreateSpec, ScheduleUpdateSpec } from '../../vcenter/schemas';
import type { BackupJobs } from './backup-jobs';
import { VapiFault, checkParts, checkPassword, parseArg } from './errors';
import { checkConfigured } from './job-states';
import { PARTS, SCHEME_TYPES, type Schedule, type VcenterState, schemeType } from './model';

/** `/api` body of ApplianceRecoveryBackupSchedulesRun. */
const ScheduleRunBody = z.object({ comment: z.string().optional() });

export class Schedules {
  constructor(
    private readonly state: VcenterState,
    private readonly backups: BackupJobs,
  ) {}

  get(id: string | undefined): Schedule {
    const s = id ? this.state.schedules.get(id) : undefined;
    if (!s)
      throw new VapiFault(
        'NOT_FOUND',
        `Backup schedule ${id} not found.`,
        'com.vmware.applmgmt.err_schedule_not_found',
      );
    return s;
  }

  private checkSpec(spec: ScheduleCreateSpec): void {
    if (!schemeType(spec.location))
      throw new VapiFault(
        'INVALID_ARGUMENT',
        `Schedule location must be a URL with one of the schemes ${Object.keys(SCHEME_TYPES).join(', ')}.`,
      );
    checkPassword(spec.backup_password);
    checkParts(spec.parts ?? []);
    const r = spec.recurrence_info;
    if (r && (r.hour < 0 || r.hour > 23 || r.minute < 0 || r.minute > 59)) {
      throw new VapiFault('INVALID_ARGUMENT', 'recurrence_info.hour must be 0-23 and recurrence_info.minute 0-59.');
    }
    if (spec.retention_info && spec.retention_info.max_count < 1)
      throw new VapiFault('INVALID_ARGUMENT', 'retention_info.max_count must be at least 1.');
  }

  create(id: string, spec: ScheduleCreateSpec): void {
    checkConfigured(this.state);
    const { schedules } = this.state;
    if (schedules.size > 0) {
      const existing = [...schedules.keys()][0];
      throw new VapiFault(
        'ALREADY_EXISTS',
        existing === id
          ? `Backup schedule ${id} already exists.`
          : `Only one backup schedule is supported; ${existing} already exists.`,
        'com.vmware.applmgmt.err_schedule_exists',
      );
    }
    this.checkSpec(spec);
    schedules.set(id, {
      info: {
        // CreateSpec.parts unset = every optional part (per the API docs).
        parts: spec.parts ?? PARTS.filter((p) => p.optional).map((p) => p.id),
        location: spec.location,
        ...(spec.location_user !== undefined && { location_user: spec.location_user }),
        enable: spec.enable ?? true,
        ...(spec.recurrence_info && { recurrence_info: spec.recurrence_info }),
        ...(spec.retention_info && { retention_info: spec.retention_info }),
      },
      backupPassword: spec.backup_password,
      locationPassword: spec.location_password,
    });
  }

  update(id: string | undefined, spec: ScheduleUpdateSpec): void {
    const s = this.get(id);
    const merged: ScheduleCreateSpec = {
      ...s.info,
      ...(s.backupPassword !== undefined && { backup_password: s.backupPassword }),
      ...Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)),
    };
    this.checkSpec(merged);
    s.info = {
      parts: merged.parts ?? s.info.parts,
      location: merged.location,
      ...(merged.location_user !== undefined && { location_user: merged.location_user }),
      enable: merged.enable ?? s.info.enable,
      ...(merged.recurrence_info && { recurrence_info: merged.recurrence_info }),
      ...(merged.retention_info && { retention_info: merged.retention_info }),
    };
    s.backupPassword = merged.backup_password;
    if (spec.location_password !== undefined) s.locationPassword = spec.location_password;
  }

  delete(id: string | undefined): void {
    this.get(id);
    this.state.schedules.delete(id ?? '');
  }

  run(id: string | undefined, body: unknown, user: string): BackupJobStatus {
    const s = this.get(id);
    const { comment } = parseArg(ScheduleRunBody, body ?? {}, '');
    return this.backups.start(
      {
        parts: s.info.parts,
        location_type: schemeType(s.info.location) ?? 'SFTP',
        location: s.info.location,
        ...(s.info.location_user !== undefined && { location_user: s.info.location_user }),
        ...(s.locationPassword !== undefined && { location_password: s.locationPassword }),
        ...(s.backupPassword !== undefined && { backup_password: s.backupPassword }),
        ...(comment !== undefined && { comment }),
      },
      'SCHEDULED',
      user,
    );
  }
}
