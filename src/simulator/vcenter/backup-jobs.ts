/**
 * Backup jobs of the simulated vCenter: start (one backup or restore at a time, FEATURE_IN_USE
 * otherwise), status, cancel, the job details the CIS tasks view shows, and the validation of a
 * backup request.
 */
import type { BackupJobStatus, BackupRequest, DetailsInfo, ReturnResult } from '../../vcenter/schemas';
import type { Archives } from './archives';
import { VapiFault, checkParts, checkPassword } from './errors';
import { backupJobStatus, checkConfigured, checkIdle } from './job-states';
import { type Job, PARTS, VCENTER_BUILD, VCENTER_VERSION, type VcenterState, jobId, msg, schemeType } from './model';

export class BackupJobs {
  constructor(
    private readonly state: VcenterState,
    private readonly archives: Archives,
  ) {}

  status(job: Job): BackupJobStatus {
    return backupJobStatus(this.state, job);
  }

  start(body: BackupRequest, type: Job['type'], user: string): BackupJobStatus {
    checkPassword(body.backup_password);
    checkParts(body.parts);
    checkIdle(this.state);
    checkConfigured(this.state);
    const { ctx, jobs } = this.state;
    let start = ctx.now();
    while (jobs.has(jobId(start))) start += 1000;
    const job: Job = {
      id: jobId(start),
      comment: body.comment,
      parts: ['common', ...body.parts.filter((p) => p !== 'common')],
      location: body.location,
      locationType: body.location_type,
      locationUser: body.location_user,
      backupPassword: body.backup_password,
      type,
      user,
      startMs: start,
      fail: this.state.takeJobFailure(),
    };
    jobs.set(job.id, job);
    ctx.recordJob({
      product: 'vcenter',
      appliance: this.state.self.name,
      kind: 'backup',
      id: job.id,
      label: body.comment,
    });
    return this.status(job);
  }

  job(id: string | undefined): Job {
    const job = id ? this.state.jobs.get(id) : undefined;
    if (!job) throw new VapiFault('NOT_FOUND', `Backup job ${id} not found.`, 'com.vmware.applmgmt.err_job_not_found');
    return job;
  }

  cancel(id: string | undefined): ReturnResult {
    const job = this.job(id);
    if (this.status(job).state !== 'INPROGRESS') {
      return {
        status: 'FAIL',
        messages: [
          msg('com.vmware.applmgmt.backup.job.cancel.not_running', 'The job is not running and cannot be canceled.'),
        ],
      };
    }
    job.cancelled = true;
    job.endMs = this.state.ctx.now();
    return { status: 'OK', messages: [msg('com.vmware.applmgmt.backup.job.cancel.ok', 'Cancel requested.')] };
  }

  /** Job details. Convention of this simulator [uncertain]: `description.default_message` carries the job's comment. */
  details(job: Job): DetailsInfo {
    const s = this.status(job);
    const status = s.state === 'INPROGRESS' ? 'RUNNING' : s.state === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED';
    const end = s.end_time ? Date.parse(s.end_time) : this.state.ctx.now();
    const totalBytes =
      job.parts.reduce((sum, id) => sum + (PARTS.find((p) => p.id === id)?.sizeMb ?? 0), 0) * 1024 * 1024;
    const comment = job.comment ?? '';
    const failure = s.state === 'FAILED' ? s.messages[s.messages.length - 1]?.default_message : undefined;
    return {
      location: job.location,
      location_user: job.locationUser ?? '',
      type: job.type,
      messages: s.messages,
      description: msg(
        'com.vmware.applmgmt.backup.job.description',
        comment
          ? `${job.type === 'MANUAL' ? 'Manual' : 'Scheduled'} backup job: ${comment}`
          : `${job.type === 'MANUAL' ? 'Manual' : 'Scheduled'} backup job`,
        [comment],
      ),
      service: 'com.vmware.applmgmt.backup_job',
      operation: 'backup',
      status,
      cancelable: s.state === 'INPROGRESS',
      start_time: s.start_time,
      ...(s.end_time && { end_time: s.end_time }),
      duration: Math.max(0, Math.floor((end - job.startMs) / 1000)),
      size: Math.floor((totalBytes * s.progress) / 100),
      progress: {
        total: 100,
        completed: s.progress,
        message: msg('com.vmware.applmgmt.backup.job.progress', `Backup ${s.progress}% complete.`, [
          String(s.progress),
        ]),
      },
      build: { version_name: '7.0.3', version: VCENTER_VERSION, build_number: VCENTER_BUILD },
      user: job.user,
      ...(failure && { error: failure }),
    };
  }

  validate(body: BackupRequest): ReturnResult {
    checkPassword(body.backup_password);
    checkParts(body.parts);
    checkIdle(this.state);
    checkConfigured(this.state);
    const scheme = schemeType(body.location);
    if (scheme && scheme !== body.location_type) {
      return {
        status: 'FAIL',
        messages: [
          msg(
            'com.vmware.applmgmt.backup.validate.location_type',
            `Location type ${body.location_type} does not match location scheme ${scheme}.`,
            [body.location_type, scheme],
          ),
        ],
      };
    }
    const existing = this.archives.at(body.location).filter((a) => a.systemName === this.state.self.systemName).length;
    if (existing > 0) {
      return {
        status: 'WARNING',
        messages: [
          msg(
            'com.vmware.applmgmt.backup.validate.existing',
            `The location already holds ${existing} backup(s) of this appliance.`,
            [String(existing)],
          ),
        ],
      };
    }
    return { status: 'OK', messages: [msg('com.vmware.applmgmt.backup.validate.ok', 'Backup request is valid.')] };
  }
}
