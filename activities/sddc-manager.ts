import { Context } from '@temporalio/activity';
import type { SddcManagerEndpoint } from '../src/contract/endpoints';
import { RemoteJobFailed, WrongState } from '../src/core/errors';
import type { SddcManagerClient, SddcTask } from '../src/sddc-manager/client';
import { type SubTask, type TaskStatus, isTerminal, normaliseTaskStatus } from '../src/sddc-manager/schemas';
import type { SecretRef } from '../src/core/secrets';
import type { ClientPool } from './clients';
import type { ResolvedActivitiesOptions } from './options';
import { assertRestoreApproved } from './approval-guard';
import { pollRemoteJob } from './poll';
import { type StepRef, asActivity, startOnce } from './step';

/** Task type of SDDC Manager backups in `GET /v1/tasks`. */
export const SDDC_BACKUP_TASK_TYPE = 'SDDCMANAGER_BACKUP';
/** Task type of SDDC Manager restores [uncertain: not in public docs; the simulator's choice]. */
export const SDDC_RESTORE_TASK_TYPE = 'SDDCMANAGER_RESTORE';

export interface StartSddcManagerBackupInput {
  endpoint: SddcManagerEndpoint;
  step: StepRef;
}

export interface SddcTaskRef {
  taskId: string;
  status: TaskStatus;
  attached: boolean;
}

export interface StartSddcManagerRestoreInput {
  endpoint: SddcManagerEndpoint;
  restore: {
    /** Path of the backup tarball on the (freshly deployed) SDDC Manager, e.g. `/tmp/vcf-backup-….tar.gz`. */
    backupFile: string;
    /** Reference to the backup encryption passphrase. */
    passphraseRef: SecretRef;
  };
  step: StepRef;
}

export interface PollSddcTaskInput {
  endpoint: SddcManagerEndpoint;
  taskId: string;
  pollIntervalMs?: number;
}

export interface SddcTaskResult {
  taskId: string;
  status: 'SUCCESSFUL' | 'COMPLETED_WITH_WARNING' | 'SKIPPED';
  name?: string;
  type?: string;
  creationTimestamp?: string;
  completionTimestamp?: string;
}

export interface VerifySddcTaskInput {
  endpoint: SddcManagerEndpoint;
  taskId: string;
  /** Read it through the restore task API (`GET /v1/restores/tasks/{id}`). Default false. */
  restore?: boolean;
}

/** What one read of a finished task says, and the checks that passed. */
export interface SddcTaskVerification {
  taskId: string;
  status: 'SUCCESSFUL';
  creationTimestamp?: string;
  completionTimestamp?: string;
  /** Subtasks checked, nested ones included. */
  subTasks: number;
  checks: string[];
}

export interface SddcTaskActionInput {
  endpoint: SddcManagerEndpoint;
  taskId: string;
}

export interface CancelSddcTaskResult {
  taskId: string;
  /** False when SDDC Manager says the task cannot be cancelled (`isCancellable: false`) or it already ended. */
  cancelled: boolean;
  status: TaskStatus;
}

export interface SddcBackupConfigurationSpec {
  /** The external SFTP server backups go to. */
  location: {
    server: string;
    port?: number;
    username: string;
    passwordRef: SecretRef;
    directoryPath: string;
    /** SSH host key fingerprint of the SFTP server (VCF 9 requires an ECDSA key). */
    sshFingerprint?: string;
  };
  /** Reference to the backup encryption passphrase. */
  passphraseRef: SecretRef;
  /** Optional schedule; unset leaves scheduling as it is. */
  schedule?: {
    frequency: 'HOURLY' | 'WEEKLY';
    daysOfWeek?: string[];
    hourOfDay?: number;
    minuteOfHour?: number;
    takeBackupOnStateChange?: boolean;
    keepMostRecent: number;
  };
}

export interface SetSddcBackupConfigurationInput {
  endpoint: SddcManagerEndpoint;
  configuration: SddcBackupConfigurationSpec;
}

/**
 * The backup location of an SDDC Manager backup configuration as a URL, for the credential
 * policy's `locations`: `sftp://server[:port]/directoryPath` (an IPv6 server in brackets).
 */
export function sftpLocationUrl(location: { server: string; port?: number; directoryPath: string }): string {
  const host = location.server.includes(':') ? `[${location.server}]` : location.server;
  const path = location.directoryPath.startsWith('/') ? location.directoryPath : `/${location.directoryPath}`;
  return `sftp://${host}${location.port !== undefined ? `:${location.port}` : ''}${path}`;
}

const SUCCESS: readonly TaskStatus[] = ['SUCCESSFUL', 'COMPLETED_WITH_WARNING', 'SKIPPED'];

/** Every subtask of a task, nested ones included, depth first, with its path of names. */
function allSubTasks(subTasks: readonly SubTask[] | null | undefined, prefix = '', depth = 0): [string, SubTask][] {
  if (!subTasks || depth > 10) return [];
  return subTasks.flatMap((t, i) => {
    const path = `${prefix}${t.name ?? `#${i + 1}`}`;
    return [[path, t] as [string, SubTask], ...allSubTasks(t.subTasks, `${path} / `, depth + 1)];
  });
}

/**
 * One read of a finished task: it must be SUCCESSFUL, and so must every subtask, nested ones
 * included [uncertain: whether a real SDDC Manager marks some subtasks of a successful backup
 * SKIPPED; a task read from a real appliance would settle it]. Otherwise `RemoteJobFailed`.
 */
async function verifyTask(client: SddcManagerClient, input: VerifySddcTaskInput): Promise<SddcTaskVerification> {
  const operation = input.restore ? 'getRestoreTask' : 'getTask';
  const signal = Context.current().cancellationSignal;
  const t = input.restore
    ? await client.getRestoreTask(input.taskId, signal)
    : await client.getTask(input.taskId, signal);
  const failed = (summary: string, messages: string[] = []) =>
    new RemoteJobFailed(`task ${t.id} ${summary}`, client.http.context(operation, { messages }));
  if (t.status !== 'SUCCESSFUL') throw failed(`is ${t.status}, not SUCCESSFUL`);
  const subTasks = allSubTasks(t.subTasks);
  const notSuccessful = subTasks.filter(
    ([, st]) => normaliseTaskStatus(st.status ?? '', client.http.context(operation)) !== 'SUCCESSFUL',
  );
  if (notSuccessful.length)
    throw failed(
      `is SUCCESSFUL but ${notSuccessful.length} of its ${subTasks.length} subtasks are not`,
      notSuccessful.map(([path, st]) => `${path}: ${st.status ?? '(no status)'}`),
    );
  return {
    taskId: t.id,
    status: 'SUCCESSFUL',
    ...(t.creationTimestamp != null && { creationTimestamp: t.creationTimestamp }),
    ...(t.completionTimestamp != null && { completionTimestamp: t.completionTimestamp }),
    subTasks: subTasks.length,
    checks: [`task ${t.id} SUCCESSFUL`, `all ${subTasks.length} subtasks SUCCESSFUL`],
  };
}

/** Polls one task (generic task API or the restore task API) to its end. */
async function pollTask(
  client: SddcManagerClient,
  input: PollSddcTaskInput,
  opts: ResolvedActivitiesOptions,
  restore: boolean,
): Promise<SddcTaskResult> {
  const operation = restore ? 'getRestoreTask' : 'getTask';
  return pollRemoteJob({
    label: `SDDC Manager ${client.http.appliance} task ${input.taskId}`,
    intervalMs: input.pollIntervalMs ?? opts.pollIntervalMs,
    poll: (signal) => (restore ? client.getRestoreTask(input.taskId, signal) : client.getTask(input.taskId, signal)),
    outcome: (t) => (!isTerminal(t.status) ? 'running' : SUCCESS.includes(t.status) ? 'succeeded' : 'failed'),
    details: (t) => ({ taskId: t.id, status: t.status, rawStatus: t.rawStatus }),
    failure: (t) => {
      const messages = (t.errors ?? []).map((e) => e.message).filter((m): m is string => typeof m === 'string');
      return new RemoteJobFailed(
        `task ${t.id} ended ${t.status}`,
        client.http.context(operation, { messages, vmwareCode: t.errors?.[0]?.errorCode ?? undefined }),
      );
    },
    result: (t) => ({
      taskId: t.id,
      status: t.status as SddcTaskResult['status'],
      ...(t.name != null && { name: t.name }),
      ...(t.type != null && { type: t.type }),
      ...(t.creationTimestamp != null && { creationTimestamp: t.creationTimestamp }),
      ...(t.completionTimestamp != null && { completionTimestamp: t.completionTimestamp }),
    }),
  });
}

export function createSddcManagerActivities(pool: ClientPool, opts: ResolvedActivitiesOptions) {
  /**
   * Starts a task, or attaches to the one of `type` this step already started (see `startOnce`),
   * after `check` (the credential policy's checks of what the start sends).
   */
  async function startTask(
    endpoint: SddcManagerEndpoint,
    step: StepRef,
    type: string,
    check: () => void | Promise<void>,
    start: (client: SddcManagerClient, signal: AbortSignal) => Promise<SddcTask>,
  ): Promise<SddcTaskRef> {
    return asActivity(
      opts,
      async () => {
        const ctx = Context.current();
        // The credential policy's checks of what the start sends, before any request.
        await check();
        const client = pool.sddcManager(endpoint);
        const signal = ctx.cancellationSignal;
        const { job, attached } = await startOnce({
          step,
          recent: async (since) =>
            (await client.listTasks({ type }, signal)).filter(
              (t) => t.type === type && Date.parse(t.creationTimestamp ?? '') >= since,
            ),
          id: (t) => t.id,
          createdAt: (t) => t.creationTimestamp ?? undefined,
          attachable: (t) => t.status !== 'FAILED' && t.status !== 'CANCELLED',
          start: () => start(client, signal),
        });
        ctx.log.info(attached ? 'attached to the SDDC Manager task this step started' : 'SDDC Manager task started', {
          appliance: client.http.appliance,
          taskId: job.id,
          type,
        });
        return { taskId: job.id, status: job.status, attached };
      },
      step,
    );
  }

  return {
    /** One POST /v1/backups/tasks, or attach to the SDDCMANAGER_BACKUP task this step started. */
    async startSddcManagerBackup(input: StartSddcManagerBackupInput): Promise<SddcTaskRef> {
      return startTask(
        input.endpoint,
        input.step,
        SDDC_BACKUP_TASK_TYPE,
        () => undefined,
        (client, signal) => client.startBackup(signal),
      );
    },

    /** One POST /v1/restores/tasks on a freshly deployed SDDC Manager. */
    async startSddcManagerRestore(input: StartSddcManagerRestoreInput): Promise<SddcTaskRef> {
      const check = async () => {
        opts.policy?.checkSecret(
          'sddc-manager',
          input.endpoint,
          'passphrase',
          input.restore.passphraseRef,
          'restore.passphraseRef',
        );
        await assertRestoreApproved(opts, 'sddc-manager', input.endpoint);
      };
      return startTask(input.endpoint, input.step, SDDC_RESTORE_TASK_TYPE, check, async (client, signal) => {
        const passphrase = await opts.secrets.resolve(input.restore.passphraseRef, 'restore.passphraseRef');
        return client.startRestore(
          {
            backupFile: input.restore.backupFile,
            elements: [{ resourceType: 'SDDC_MANAGER' }],
            encryption: { passphrase: passphrase.reveal() },
          },
          signal,
        );
      });
    },

    /** Polls `GET /v1/tasks/{id}` to the end; FAILED/CANCELLED are non-retryable failures. */
    async pollSddcManagerTask(input: PollSddcTaskInput): Promise<SddcTaskResult> {
      return asActivity(opts, async () => pollTask(pool.sddcManager(input.endpoint), input, opts, false));
    },

    /** Polls `GET /v1/restores/tasks/{id}` to the end, through the restore's service restarts. */
    async pollSddcManagerRestoreTask(input: PollSddcTaskInput): Promise<SddcTaskResult> {
      return asActivity(opts, async () => pollTask(pool.sddcManager(input.endpoint), input, opts, true));
    },

    /** Reads a finished task once: SUCCESSFUL with every subtask SUCCESSFUL, else `RemoteJobFailed`. */
    async verifySddcManagerTask(input: VerifySddcTaskInput): Promise<SddcTaskVerification> {
      return asActivity(opts, async () => verifyTask(pool.sddcManager(input.endpoint), input));
    },

    /** Cancels a task when SDDC Manager allows it (`isCancellable`). */
    async cancelSddcManagerTask(input: SddcTaskActionInput): Promise<CancelSddcTaskResult> {
      return asActivity(opts, async () => {
        const client = pool.sddcManager(input.endpoint);
        const signal = Context.current().cancellationSignal;
        const task = await client.getTask(input.taskId, signal);
        if (!task.isCancellable || isTerminal(task.status))
          return { taskId: task.id, cancelled: false, status: task.status };
        try {
          await client.cancelTask(input.taskId, signal);
        } catch (err) {
          // 409 TASK_NOT_CANCELLABLE: the task ended (or stopped being cancellable) since the read.
          if (!(err instanceof WrongState)) throw err;
          const now = await client.getTask(input.taskId, signal);
          return { taskId: now.id, cancelled: false, status: now.status };
        }
        const after = await client.getTask(input.taskId, signal);
        return { taskId: after.id, cancelled: true, status: after.status };
      });
    },

    /** Retries a FAILED task (`PATCH /v1/tasks/{id}`); poll it again afterwards. */
    async retrySddcManagerTask(input: SddcTaskActionInput): Promise<SddcTaskRef> {
      return asActivity(opts, async () => {
        const task = await pool
          .sddcManager(input.endpoint)
          .retryTask(input.taskId, Context.current().cancellationSignal);
        return { taskId: task.id, status: task.status, attached: false };
      });
    },

    /** Sets the backup location, passphrase and schedule (PUT); returns the configuration task to poll. */
    async setSddcManagerBackupConfiguration(input: SetSddcBackupConfigurationInput): Promise<SddcTaskRef> {
      return asActivity(opts, async () => {
        const c = input.configuration;
        const policy = opts.policy;
        if (policy) {
          policy.checkEndpoint('sddc-manager', input.endpoint, 'endpoint');
          policy.checkLocation(
            'sddc-manager',
            input.endpoint,
            sftpLocationUrl(c.location),
            c.location.passwordRef,
            'configuration.location',
            'configuration.location.passwordRef',
          );
          policy.checkSecret(
            'sddc-manager',
            input.endpoint,
            'passphrase',
            c.passphraseRef,
            'configuration.passphraseRef',
          );
        }
        const client = pool.sddcManager(input.endpoint);
        const [password, passphrase] = await Promise.all([
          opts.secrets.resolve(c.location.passwordRef, 'configuration.location.passwordRef'),
          opts.secrets.resolve(c.passphraseRef, 'configuration.passphraseRef'),
        ]);
        const task = await client.setBackupConfiguration(
          {
            backupLocations: [
              {
                server: c.location.server,
                ...(c.location.port !== undefined && { port: c.location.port }),
                protocol: 'SFTP',
                username: c.location.username,
                password: password.reveal(),
                directoryPath: c.location.directoryPath,
                ...(c.location.sshFingerprint !== undefined && { sshFingerprint: c.location.sshFingerprint }),
              },
            ],
            encryption: { passphrase: passphrase.reveal() },
            ...(c.schedule && {
              backupSchedules: [
                {
                  resourceType: 'SDDC_MANAGER',
                  takeScheduledBackups: true,
                  frequency: c.schedule.frequency,
                  ...(c.schedule.daysOfWeek && { daysOfWeek: c.schedule.daysOfWeek }),
                  ...(c.schedule.hourOfDay !== undefined && { hourOfDay: c.schedule.hourOfDay }),
                  ...(c.schedule.minuteOfHour !== undefined && { minuteOfHour: c.schedule.minuteOfHour }),
                  ...(c.schedule.takeBackupOnStateChange !== undefined && {
                    takeBackupOnStateChange: c.schedule.takeBackupOnStateChange,
                  }),
                  retentionPolicy: { numberOfMostRecentBackups: c.schedule.keepMostRecent },
                },
              ],
            }),
          },
          Context.current().cancellationSignal,
        );
        return { taskId: task.id, status: task.status, attached: false };
      });
    },
  };
}
