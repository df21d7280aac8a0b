/**
 * The vCenter restore activities: start a restore on a freshly deployed appliance (after the
 * policy's approval check), poll it through the service restarts, and validate a backup against
 * the appliance. Their inputs and results are declared with the backup side in vcenter.ts.
 */
import { Context } from '@temporalio/activity';
import { RemoteJobFailed, ResourceBusy } from '../src/core/errors';
import type { ClientPool } from './clients';
import type { ResolvedActivitiesOptions } from './options';
import { assertRestoreApproved } from './approval-guard';
import { pollRemoteJob } from './poll';
import { asActivity } from './step';
import {
  type PollVcenterRestoreInput,
  type StartVcenterRestoreInput,
  type ValidateVcenterRestoreInput,
  type VcenterRestoreRef,
  type VcenterRestoreResult,
  type VcenterRestoreSpec,
  type VcenterRestoreValidation,
  checkState,
  checkVcenterRequest,
  optionalSecret,
} from './vcenter';

async function restoreRequest(opts: ResolvedActivitiesOptions, restore: VcenterRestoreSpec) {
  const [locationPassword, backupPassword, ssoPassword] = await Promise.all([
    optionalSecret(opts, restore.locationPasswordRef, 'restore.locationPasswordRef'),
    optionalSecret(opts, restore.backupPasswordRef, 'restore.backupPasswordRef'),
    optionalSecret(opts, restore.ssoAdminPasswordRef, 'restore.ssoAdminPasswordRef'),
  ]);
  return {
    location_type: restore.locationType,
    location: restore.location,
    ...(restore.locationUser !== undefined && { location_user: restore.locationUser }),
    ...(locationPassword && { location_password: locationPassword.reveal() }),
    ...(backupPassword && { backup_password: backupPassword.reveal() }),
    ...(restore.ssoAdminUserName !== undefined && { sso_admin_user_name: restore.ssoAdminUserName }),
    ...(ssoPassword && { sso_admin_user_password: ssoPassword.reveal() }),
  };
}

/** The vCenter restore activities (see the file's first comment). */
export function createVcenterRestoreActivities(pool: ClientPool, opts: ResolvedActivitiesOptions) {
  return {
    /**
     * One POST: starts a restore on a freshly deployed vCenter (restore stage), or attaches to the
     * restore already running there (one restore per appliance).
     */
    async startVcenterRestore(input: StartVcenterRestoreInput): Promise<VcenterRestoreRef> {
      return asActivity(
        opts,
        async () => {
          const ctx = Context.current();
          checkVcenterRequest(opts, input.endpoint, 'restore', input.restore);
          await assertRestoreApproved(opts, 'vcenter', input.endpoint);
          const client = pool.vcenter(input.endpoint);
          const signal = ctx.cancellationSignal;
          const running = async (): Promise<VcenterRestoreRef | undefined> => {
            const job = await client.restoreJobGet(signal);
            checkState(client, 'restoreJobGet', job.state);
            return job.state === 'INPROGRESS' || job.state === 'SUCCEEDED'
              ? { state: job.state, progress: job.progress, attached: true }
              : undefined;
          };
          if (ctx.info.attempt > 1) {
            const ours = await running();
            if (ours) return ours;
          }
          const request = {
            ...(await restoreRequest(opts, input.restore)),
            ...(input.restore.ignoreWarnings !== undefined && { ignore_warnings: input.restore.ignoreWarnings }),
          };
          try {
            const job = await client.restoreJobCreate(request, signal);
            ctx.log.info('vCenter restore job started', { appliance: client.http.appliance });
            return { state: job.state, progress: job.progress, attached: false };
          } catch (err) {
            if (err instanceof ResourceBusy) {
              const ours = await running();
              if (ours) return ours;
            }
            throw err;
          }
        },
        input.step,
      );
    },

    /**
     * Polls the restore to its end. The appliance restarts services meanwhile: 503s, dropped
     * connections and lost sessions fail the attempt, and the retry resumes from the heartbeat.
     */
    async pollVcenterRestore(input: PollVcenterRestoreInput): Promise<VcenterRestoreResult> {
      return asActivity(opts, async () => {
        const client = pool.vcenter(input.endpoint);
        return pollRemoteJob({
          label: `vCenter ${client.http.appliance} restore job`,
          intervalMs: input.pollIntervalMs ?? opts.pollIntervalMs,
          poll: async (signal) => {
            const s = await client.restoreJobGet(signal);
            checkState(client, 'restoreJobGet', s.state);
            return s;
          },
          outcome: (s) => (s.state === 'SUCCEEDED' ? 'succeeded' : s.state === 'FAILED' ? 'failed' : 'running'),
          details: (s) => ({ state: s.state, progress: s.progress }),
          failure: (s) =>
            new RemoteJobFailed(
              'restore job ended FAILED',
              client.http.context('restoreJobGet', { messages: s.messages.map((m) => m.default_message) }),
            ),
          result: (s) => ({
            state: 'SUCCEEDED',
            progress: s.progress,
            messages: s.messages.map((m) => m.default_message),
          }),
        });
      });
    },

    /** Checks that a backup can be restored onto this appliance. */
    async validateVcenterRestore(input: ValidateVcenterRestoreInput): Promise<VcenterRestoreValidation> {
      return asActivity(opts, async () => {
        checkVcenterRequest(opts, input.endpoint, 'restore', input.restore);
        const client = pool.vcenter(input.endpoint);
        const m = await client.restoreValidate(
          await restoreRequest(opts, input.restore),
          Context.current().cancellationSignal,
        );
        return {
          applicable: m.applicable,
          version: m.version,
          boxname: m.boxname,
          timestamp: m.timestamp,
          parts: m.parts,
          messages: m.messages.map((x) => x.default_message),
        };
      });
    },
  };
}
