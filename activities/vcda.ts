import { Context } from '@temporalio/activity';
import type { VcdaEndpoint } from '../src/contract/endpoints';
import { RemoteJobFailed } from '../src/core/errors';
import type { SecretRef } from '../src/core/secrets';
import { type ApiTask, normaliseTaskState } from '../src/vcda/schemas';
import type { ClientPool } from './clients';
import type { ResolvedActivitiesOptions } from './options';
import { pollRemoteJob } from './poll';
import { type StepRef, asActivity, startOnce } from './step';

export interface StartVcdaBackupInput {
  endpoint: VcdaEndpoint;
  /** Reference to the password that encrypts the appliance backup. Default: VCDA's own. */
  backupPasswordRef?: SecretRef;
  /** This step's identity: sent as `operationID`, and used to find the task again on retry. */
  step: StepRef;
}

export interface VcdaTaskRef {
  taskId: string;
  state: string;
  attached: boolean;
}

export interface PollVcdaTaskInput {
  endpoint: VcdaEndpoint;
  taskId: string;
  pollIntervalMs?: number;
}

export interface VcdaBackupResult {
  taskId: string;
  state: 'SUCCEEDED';
  /** The backup the task produced (id, generatedOn, SHA-512 hash), when it reports one. */
  backup?: { id: string; generatedOn: number; hash: string };
  startTime?: number;
  endTime?: number;
}

export function createVcdaActivities(pool: ClientPool, opts: ResolvedActivitiesOptions) {
  return {
    /** One POST: starts a VCDA appliance backup, or attaches to the one this step already started. */
    async startVcdaBackup(input: StartVcdaBackupInput): Promise<VcdaTaskRef> {
      return asActivity(
        opts,
        async () => {
          const ctx = Context.current();
          if (input.backupPasswordRef !== undefined)
            opts.policy?.checkSecret(
              'vcda',
              input.endpoint,
              'encryption',
              input.backupPasswordRef,
              'backupPasswordRef',
            );
          const client = pool.vcda(input.endpoint);
          const signal = ctx.cancellationSignal;
          const password = input.backupPasswordRef
            ? await opts.secrets.resolve(input.backupPasswordRef, 'backupPasswordRef')
            : undefined;
          const { job, attached } = await startOnce<Pick<ApiTask, 'id' | 'state' | 'startTime'>>({
            step: input.step,
            // Backup tasks: result type BackupInfo once done, none while running [uncertain: VCDA
            // does not echo operationID in its public task model].
            recent: async (since) =>
              (await client.listTasks({ since, signal })).items.filter(
                (t) => t.resultType === 'BackupInfo' || t.resultType == null,
              ),
            id: (t) => t.id,
            createdAt: (t) => t.startTime ?? undefined,
            attachable: (t) => normaliseTaskState(t.state) !== 'FAILED',
            start: () => client.startBackup({ password, operationId: input.step.id, signal }),
          });
          ctx.log.info(attached ? 'attached to the VCDA backup task this step started' : 'VCDA backup task started', {
            appliance: client.http.appliance,
            taskId: job.id,
          });
          return { taskId: job.id, state: normaliseTaskState(job.state), attached };
        },
        input.step,
      );
    },

    /** Polls a VCDA task to its end (`endTime` -1 while running); FAILED is a non-retryable failure. */
    async pollVcdaTask(input: PollVcdaTaskInput): Promise<VcdaBackupResult> {
      return asActivity(opts, async () => {
        const client = pool.vcda(input.endpoint);
        return pollRemoteJob({
          label: `VCDA ${client.http.appliance} task ${input.taskId}`,
          intervalMs: input.pollIntervalMs ?? opts.pollIntervalMs,
          poll: async (signal) => {
            const t = await client.getBackupTask(input.taskId, { signal });
            return { task: t, state: normaliseTaskState(t.state) };
          },
          outcome: (s) =>
            s.state === 'SUCCEEDED'
              ? 'succeeded'
              : s.state === 'FAILED' || s.state === 'CANCELED'
                ? 'failed'
                : 'running',
          details: (s) => ({ taskId: input.taskId, state: s.state, progress: s.task.progress ?? 0 }),
          failure: (s) =>
            new RemoteJobFailed(
              `task ${input.taskId} ended ${s.state}`,
              client.http.context('taskGet', {
                messages: s.task.error ? [`${s.task.error.code}: ${s.task.error.msg ?? ''}`] : [],
              }),
            ),
          result: (s) => {
            const r = s.task.result;
            return {
              taskId: input.taskId,
              state: 'SUCCEEDED',
              ...(r && { backup: { id: r.id, generatedOn: r.generatedOn, hash: r.hash } }),
              ...(s.task.startTime != null && { startTime: s.task.startTime }),
              ...(s.task.endTime != null && s.task.endTime !== -1 && { endTime: s.task.endTime }),
            };
          },
        });
      });
    },
  };
}
