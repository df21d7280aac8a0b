/**
 * Restore of the simulated vCenter: validation of a backup against this appliance, the restore
 * job (allowed only in the `'restore'` stage, after deployment and before firstboot), its status
 * and cancel. The job's progress, service restart and stage change are in `job-states.ts`.
 */
import type {
  LocalizableMessage,
  RestoreJobStatus,
  RestoreMetadata,
  RestoreRequest,
  RestoreValidateRequest,
  ReturnResult,
} from '../../vcenter/schemas';
import type { Archives } from './archives';
import { VapiFault } from './errors';
import { checkIdle, currentStage, restoreJobStatus } from './job-states';
import { type Archive, type RestoreJob, VCENTER_VERSION, type VcenterState, jobId, msg, sameLocation } from './model';

export class Restore {
  constructor(
    private readonly state: VcenterState,
    private readonly archives: Archives,
  ) {}

  /** The restore job's status; state NONE before any restore. */
  status(): RestoreJobStatus {
    const job = this.state.restoreJob;
    return job ? restoreJobStatus(this.state, job) : { state: 'NONE', messages: [], progress: 0 };
  }

  /** The archive a restore location points at (the archive folder, or a location with one archive). */
  private source(location: string): Archive | undefined {
    const all = this.archives.all();
    return (
      all.find((a) => sameLocation(a.archiveLocation, location)) ?? all.find((a) => sameLocation(a.location, location))
    );
  }

  /** Validation warnings of a restore onto this appliance [simulator convention: always one]. */
  private warnings(a: Archive): LocalizableMessage[] {
    return [
      msg(
        'com.vmware.applmgmt.restore.validate.reconcile',
        `The backup of ${a.systemName} may be part of an Enhanced Linked Mode domain: run the reconciliation job after the restore.`,
        [a.systemName],
      ),
    ];
  }

  validate(body: RestoreValidateRequest): RestoreMetadata {
    const a = this.source(body.location);
    if (!a)
      throw new VapiFault(
        'NOT_FOUND',
        `No backup found at ${body.location}.`,
        'com.vmware.applmgmt.err_backup_not_found',
      );
    if (a.backupPassword !== undefined && body.backup_password !== a.backupPassword) {
      throw new VapiFault(
        'INVALID_ARGUMENT',
        'The backup password does not decrypt this backup.',
        'com.vmware.applmgmt.err_backup_password',
      );
    }
    const messages = this.warnings(a);
    const stage = currentStage(this.state);
    if (stage !== 'restore')
      messages.push(
        msg(
          'com.vmware.applmgmt.restore.validate.stage',
          'Restore is allowed only after deployment and before firstboot.',
        ),
      );
    return {
      timestamp: new Date(a.timestampMs).toISOString(),
      parts: a.parts,
      version: VCENTER_VERSION,
      boxname: a.systemName,
      sso_login_required: true,
      comment: a.comment,
      applicable: stage === 'restore',
      messages,
    };
  }

  create(body: RestoreRequest): RestoreJobStatus {
    if (currentStage(this.state) !== 'restore') {
      throw new VapiFault(
        'NOT_ALLOWED_IN_CURRENT_STATE',
        'Restore is allowed only after deployment and before firstboot.',
        'com.vmware.applmgmt.err_restore_not_allowed',
      );
    }
    checkIdle(this.state);
    const start = this.state.ctx.now();
    const job: RestoreJob = { startMs: start, notes: [] };
    const a = this.source(body.location);
    const failNow = (reason: string) => {
      job.fail = reason;
      job.endMs = start;
    };
    if (!a) failNow(`No backup found at ${body.location}.`);
    else if (a.backupPassword !== undefined && body.backup_password !== a.backupPassword)
      failNow('The backup password does not decrypt this backup.');
    else {
      job.notes = this.warnings(a);
      if (!body.ignore_warnings)
        failNow('Restore validation reported warnings; set ignore_warnings to restore anyway.');
      else job.fail = this.state.takeJobFailure();
    }
    this.state.restoreJob = job;
    this.state.reconciliation = undefined;
    this.state.ctx.recordJob({
      product: 'vcenter',
      appliance: this.state.self.name,
      kind: 'restore',
      id: `restore-${jobId(start)}`,
      label: body.location,
    });
    return restoreJobStatus(this.state, job);
  }

  cancel(): ReturnResult {
    const job = this.state.restoreJob;
    if (!job || restoreJobStatus(this.state, job).state !== 'INPROGRESS') {
      return {
        status: 'FAIL',
        messages: [msg('com.vmware.applmgmt.restore.job.cancel.not_running', 'No restore is running.')],
      };
    }
    job.cancelled = true;
    job.endMs = this.state.ctx.now();
    return { status: 'OK', messages: [msg('com.vmware.applmgmt.restore.job.cancel.ok', 'Cancel requested.')] };
  }
}
