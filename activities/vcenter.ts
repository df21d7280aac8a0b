import { Context } from '@temporalio/activity';
import type { VcenterEndpoint } from '../src/config';
import { RemoteJobFailed, UnknownRemoteState } from '../src/errors';
import type { Secret, SecretRef } from '../src/secrets';
import type { VcenterClient } from '../src/vcenter/client';
import type { BackupJobStatus, BackupRequest, LocationType } from '../src/vcenter/schemas';
import type { ClientPool } from './clients';
import { toApplicationFailure } from './failure';
import type { ResolvedActivitiesOptions } from './options';
import { pollUntilDone, previousDetails } from './poll';

/** Where and how to back up a vCenter. Secrets are references. */
export interface VcenterBackupSpec {
  locationType: LocationType;
  /** Target URL or path, e.g. `sftp://backup.example.com/vcsa`. */
  location: string;
  locationUser?: string;
  /** Reference to the backup server password. */
  locationPasswordRef?: SecretRef;
  /** Reference to the password that encrypts the backup (8–20 chars, upper, lower, digit, special). */
  backupPasswordRef?: SecretRef;
  /** Optional parts, e.g. `['seat']`. Default: none (the mandatory `common` part is always included). */
  parts?: string[];
  comment?: string;
  fastBackup?: boolean;
}

export interface StartVcenterBackupInput {
  endpoint: VcenterEndpoint;
  backup: VcenterBackupSpec;
  /** Stable id of this step, stamped into the job comment so a retry can find its own job. */
  stepId: string;
}

export interface VcenterJobRef {
  jobId: string;
  state: BackupJobStatus['state'];
  startTime: string;
}

export interface PollVcenterBackupInput {
  endpoint: VcenterEndpoint;
  jobId: string;
  /** Wait between polls. Default: the worker's `pollIntervalMs` (15 s). */
  pollIntervalMs?: number;
}

export interface VcenterBackupJobResult {
  jobId: string;
  state: 'SUCCEEDED';
  progress: number;
  startTime: string;
  endTime?: string;
  messages: string[];
}

/** Heartbeat details of a poll: no secrets, small. */
export interface VcenterPollDetails {
  jobId: string;
  state: string;
  progress: number;
  polls: number;
}

/** The comment marker that identifies the job a step started. */
export function stepMarker(stepId: string): string {
  return `[vmware-dr:${stepId}]`;
}

const KNOWN_STATES = new Set(['NONE', 'INPROGRESS', 'SUCCEEDED', 'FAILED']);

/** Runs `fn`, converting failures with the one taxonomy. */
export async function asActivity<T>(tuning: ResolvedActivitiesOptions, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toApplicationFailure(err, Context.current().info.attempt, tuning);
  }
}

async function optionalSecret(opts: ResolvedActivitiesOptions, ref: SecretRef | undefined, field: string): Promise<Secret | undefined> {
  return ref === undefined ? undefined : opts.secrets.resolve(ref, field);
}

export function createVcenterActivities(pool: ClientPool, opts: ResolvedActivitiesOptions) {
  return {
    /** One POST: starts a vCenter file-based backup job. */
    async startVcenterBackup(input: StartVcenterBackupInput): Promise<VcenterJobRef> {
      return asActivity(opts, async () => {
        const client = pool.vcenter(input.endpoint);
        const { backup } = input;
        const [locationPassword, backupPassword] = await Promise.all([
          optionalSecret(opts, backup.locationPasswordRef, 'backup.locationPasswordRef'),
          optionalSecret(opts, backup.backupPasswordRef, 'backup.backupPasswordRef'),
        ]);
        const request: BackupRequest = {
          parts: backup.parts ?? [],
          location_type: backup.locationType,
          location: backup.location,
          comment: [backup.comment, stepMarker(input.stepId)].filter(Boolean).join(' '),
          ...(backup.locationUser !== undefined && { location_user: backup.locationUser }),
          ...(locationPassword && { location_password: locationPassword.reveal() }),
          ...(backupPassword && { backup_password: backupPassword.reveal() }),
          ...(backup.fastBackup !== undefined && { fast_backup: backup.fastBackup }),
        };
        const job = await client.backupJobCreate(request, Context.current().cancellationSignal);
        Context.current().log.info('vCenter backup job started', { appliance: client.http.appliance, jobId: job.id });
        return { jobId: job.id, state: job.state, startTime: job.start_time };
      });
    },

    /** One status poll loop: returns when the job ends; FAILED is a non-retryable failure. */
    async pollVcenterBackup(input: PollVcenterBackupInput): Promise<VcenterBackupJobResult> {
      return asActivity(opts, async () => {
        const client = pool.vcenter(input.endpoint);
        const resumed = previousDetails<VcenterPollDetails>();
        let polls = resumed?.polls ?? 0;
        if (resumed) Context.current().log.info('resuming vCenter backup poll', { jobId: resumed.jobId, state: resumed.state, progress: resumed.progress });
        let status: BackupJobStatus;
        try {
          status = await pollUntilDone({
            intervalMs: input.pollIntervalMs ?? opts.pollIntervalMs,
            poll: async (signal) => {
              const s = await client.backupJobGet(input.jobId, signal);
              polls += 1;
              if (!KNOWN_STATES.has(s.state)) {
                throw new UnknownRemoteState(`unknown backup job state ${JSON.stringify(s.state)}`, client.http.context('backupJobGet'));
              }
              return s;
            },
            isDone: (s) => s.state === 'SUCCEEDED' || s.state === 'FAILED',
            details: (s): VcenterPollDetails => ({ jobId: s.id, state: s.state, progress: s.progress, polls }),
          });
        } catch (err) {
          // Only a cancel the workflow asked for stops the remote job; a worker shutdown or a
          // heartbeat timeout leaves it running for the next attempt to resume.
          if (Context.current().cancellationDetails?.cancelRequested) await cancelRemote(client, input.jobId);
          throw err;
        }
        const messages = status.messages.map((m) => m.default_message);
        if (status.state === 'FAILED') {
          throw new RemoteJobFailed(`backup job ${status.id} ended FAILED`, client.http.context('backupJobGet', { messages }));
        }
        return { jobId: status.id, state: 'SUCCEEDED', progress: status.progress, startTime: status.start_time, endTime: status.end_time, messages };
      });
    },
  };
}

/** Best effort: ask vCenter to cancel the job after our activity was cancelled. */
async function cancelRemote(client: VcenterClient, jobId: string): Promise<void> {
  try {
    const result = await client.backupJobCancel(jobId, AbortSignal.timeout(30_000));
    Context.current().log.info('vCenter backup job cancel requested', { jobId, status: result.status });
  } catch (err) {
    Context.current().log.warn('vCenter backup job cancel failed', { jobId, error: (err as Error).message });
  }
}
