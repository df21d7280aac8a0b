/**
 * What time does to a simulated vCenter: the backup and restore job state machines (they run
 * over `jobSeconds`), the window in which a restore restarts the services, the sessions lost then
 * and the stage change a finished restore brings, and the checks that need them (one backup or
 * restore at a time).
 */
import type { BackupJobStatus, RestoreJobStatus } from '../../vcenter/schemas';
import { VapiFault } from './errors';
import { type Job, type RestoreJob, type VcenterStage, type VcenterState, msg } from './model';

const BUSY = 'A backup or restore is already in progress.';

export function backupJobStatus(state: VcenterState, job: Job): BackupJobStatus {
  const now = state.ctx.now();
  const total = state.total();
  const elapsed = now - job.startMs;
  const base = { id: job.id, start_time: new Date(job.startMs).toISOString() };
  const startMsg = msg('com.vmware.applmgmt.backup.job.started', 'Backup job started.');
  if (job.cancelled && job.endMs !== undefined) {
    return {
      ...base,
      state: 'FAILED',
      progress: Math.min(99, Math.floor((100 * (job.endMs - job.startMs)) / total)),
      messages: [startMsg, msg('com.vmware.applmgmt.backup.job.canceled', 'Backup job was canceled by the user.')],
      end_time: new Date(job.endMs).toISOString(),
    };
  }
  if (elapsed < total) {
    return { ...base, state: 'INPROGRESS', progress: Math.floor((100 * elapsed) / total), messages: [startMsg] };
  }
  const end = new Date(job.startMs + total).toISOString();
  if (job.fail) {
    return {
      ...base,
      state: 'FAILED',
      progress: 100,
      messages: [startMsg, msg('com.vmware.applmgmt.backup.job.failed', job.fail)],
      end_time: end,
    };
  }
  return {
    ...base,
    state: 'SUCCEEDED',
    progress: 100,
    messages: [startMsg, msg('com.vmware.applmgmt.backup.job.succeeded', 'Backup job completed successfully.')],
    end_time: end,
  };
}

export function restoreJobStatus(state: VcenterState, job: RestoreJob): RestoreJobStatus {
  const total = state.total();
  const now = state.ctx.now();
  const started = msg('com.vmware.applmgmt.restore.job.started', 'Restore job started.');
  if (job.endMs !== undefined) {
    const last = job.cancelled
      ? msg('com.vmware.applmgmt.restore.job.canceled', 'Restore job was canceled by the user.')
      : msg('com.vmware.applmgmt.restore.job.failed', job.fail ?? 'Restore failed.');
    return {
      state: 'FAILED',
      progress: Math.min(99, Math.floor((100 * (job.endMs - job.startMs)) / total)),
      messages: [started, ...job.notes, last],
    };
  }
  const elapsed = now - job.startMs;
  const messages = [started, ...job.notes];
  if (elapsed >= Math.floor(total / 3))
    messages.push(msg('com.vmware.applmgmt.restore.job.restarting', 'Restarting appliance services.'));
  if (elapsed >= Math.floor((2 * total) / 3))
    messages.push(msg('com.vmware.applmgmt.restore.job.restarted', 'Appliance services restarted.'));
  if (elapsed < total) return { state: 'INPROGRESS', progress: Math.floor((100 * elapsed) / total), messages };
  if (job.fail)
    return {
      state: 'FAILED',
      progress: 100,
      messages: [...messages, msg('com.vmware.applmgmt.restore.job.failed', job.fail)],
    };
  return {
    state: 'SUCCEEDED',
    progress: 100,
    messages: [...messages, msg('com.vmware.applmgmt.restore.job.succeeded', 'Restore completed successfully.')],
  };
}

/** The service-restart window of the running restore, if it has one. */
export function restartWindow(state: VcenterState, job: RestoreJob): [number, number] | undefined {
  if (job.endMs !== undefined) return undefined;
  const t = state.total();
  return [job.startMs + Math.floor(t / 3), job.startMs + Math.floor((2 * t) / 3)];
}

/** Applies what time did: sessions lost at the restart, stage change at the end of a restore. */
export function tick(state: VcenterState): void {
  const job = state.restoreJob;
  if (!job) return;
  const now = state.ctx.now();
  const window = restartWindow(state, job);
  if (window && now >= window[0] && !job.sessionsDropped) {
    for (const [token, s] of state.sessions) if (s.created < window[0]) state.sessions.delete(token);
    job.sessionsDropped = true;
  }
  if (state.stage === 'restore' && restoreJobStatus(state, job).state === 'SUCCEEDED') {
    state.stage = 'running';
    state.restoredAtMs = job.startMs + state.total();
  }
}

/** The appliance's stage now (a finished restore moves it to `'running'`). */
export function currentStage(state: VcenterState): VcenterStage {
  tick(state);
  return state.stage;
}

/** The backup job currently running, if any. */
export function runningJob(state: VcenterState): Job | undefined {
  for (const job of state.jobs.values()) if (backupJobStatus(state, job).state === 'INPROGRESS') return job;
  return undefined;
}

function restoreRunning(state: VcenterState): boolean {
  return !!state.restoreJob && restoreJobStatus(state, state.restoreJob).state === 'INPROGRESS';
}

/** FEATURE_IN_USE when a backup or a restore runs. */
export function checkIdle(state: VcenterState): void {
  if (runningJob(state) || restoreRunning(state))
    throw new VapiFault('FEATURE_IN_USE', BUSY, 'com.vmware.applmgmt.err_backup_restore_in_progress');
}

/** Backups need a configured appliance [uncertain: the error a real one answers before firstboot]. */
export function checkConfigured(state: VcenterState): void {
  if (state.stage === 'restore') {
    throw new VapiFault(
      'NOT_ALLOWED_IN_CURRENT_STATE',
      'The appliance is waiting for a restore; backups run only after firstboot.',
      'com.vmware.applmgmt.err_not_configured',
    );
  }
}
