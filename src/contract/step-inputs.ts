/**
 * The inputs of the step workflows (`vcenterBackupStep`, `vcenterRestoreStep`,
 * `sddcManagerBackupStep`, `sddcManagerRestoreStep`, `vcdaBackupStep`), as strict zod schemas in
 * the style of `workflow-inputs.ts`: validated whole, first, inside the workflow, and by clients
 * before they start one. Pure (zod only): safe to import from workflow code.
 */
import { z } from 'zod';
import { MAX_URL_LENGTH, SddcManagerEndpoint, VcenterEndpoint, secretRef } from './endpoints';
import {
  PollIntervalMs,
  PollMode,
  SddcManagerBackupInput,
  StepTimeoutMs,
  VcdaBackupInput,
  VcenterBackupInput,
  VcenterBackupSpec,
} from './inputs';

/**
 * A step's id within its caller (e.g. `<stage>/<index>` from a runbook): replaces the
 * kind/appliance part of the step's identity, so two steps on one appliance never collide.
 */
export const StepId = z
  .string()
  .regex(/^[A-Za-z0-9._/-]{1,200}$/, 'must be 1–200 letters, digits, ".", "_", "/" or "-", e.g. backup/0');

const stepFields = {
  pollIntervalMs: PollIntervalMs.optional(),
  /** How the job is polled: `heartbeat` (default) or `retry` (see {@link PollMode}). */
  pollMode: PollMode.optional(),
  /** Longest the step may take, busy waits included. Default 6 hours. */
  timeoutMs: StepTimeoutMs.optional(),
  /** The step's id within its caller. Default: `<kind>/<appliance>`. */
  stepId: StepId.optional(),
};

export const VcenterBackupStepInput = VcenterBackupInput.extend({ stepId: StepId.optional() }).strict();
export type VcenterBackupStepInput = z.input<typeof VcenterBackupStepInput>;

/** Which backup to restore onto a freshly deployed vCenter (restore stage), and with which credentials. */
export const VcenterRestoreStepSpec = VcenterBackupSpec.pick({
  locationType: true,
  /** The backup folder, e.g. `sftp://backup.example.com/vcsa/vc01/20261123-1010`. */
  location: true,
  locationUser: true,
  locationPasswordRef: true,
  /** Reference to the password the backup was encrypted with. */
  backupPasswordRef: true,
})
  .extend({
    ssoAdminUserName: z.string().min(1).max(256).optional(),
    ssoAdminPasswordRef: secretRef().optional(),
    /** Proceed despite validation warnings. Default false (warnings fail the restore). */
    ignoreWarnings: z.boolean().optional(),
  })
  .strict();

export const VcenterRestoreStepInput = z
  .object({
    /** The freshly deployed vCenter to restore onto. */
    endpoint: VcenterEndpoint,
    restore: VcenterRestoreStepSpec,
    ...stepFields,
  })
  .strict();
export type VcenterRestoreStepInput = z.input<typeof VcenterRestoreStepInput>;

export const SddcManagerBackupStepInput = SddcManagerBackupInput.extend({ stepId: StepId.optional() }).strict();
export type SddcManagerBackupStepInput = z.input<typeof SddcManagerBackupStepInput>;

export const SddcManagerRestoreStepInput = z
  .object({
    /** The freshly deployed SDDC Manager to restore onto. */
    endpoint: SddcManagerEndpoint,
    restore: z
      .object({
        /** Path of the backup tarball on the SDDC Manager, e.g. `/tmp/vcf-backup-….tar.gz`. */
        backupFile: z
          .string()
          .max(MAX_URL_LENGTH, `must be at most ${MAX_URL_LENGTH} characters`)
          .regex(/^\/[^\0\r\n]*$/, 'must be an absolute path on the SDDC Manager, e.g. /tmp/vcf-backup.tar.gz'),
        /** Reference to the backup encryption passphrase. */
        passphraseRef: secretRef(),
      })
      .strict(),
    ...stepFields,
  })
  .strict();
export type SddcManagerRestoreStepInput = z.input<typeof SddcManagerRestoreStepInput>;

export const VcdaBackupStepInput = VcdaBackupInput.extend({ stepId: StepId.optional() }).strict();
export type VcdaBackupStepInput = z.input<typeof VcdaBackupStepInput>;
