/**
 * The entries of a runbook document, each a schema of its own: the endpoint of each product, a
 * backup location, a backup step and a restore step with the options every step may set, and the
 * bounded durations they use. `Runbook` (document.ts) parses every entry with its schema and
 * reports its problems at its place in the document. Pure (zod only).
 */
import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from '../duration';
import {
  ENDPOINT_FIELDS,
  LOCATION_TYPES,
  MAX_POLL_INTERVAL_MS,
  MAX_STEP_TIMEOUT_MS,
  MAX_URL_LENGTH,
  MIN_STEP_TIMEOUT_MS,
  Name,
  endpointSchema,
  secretRef,
} from '../endpoints';
import { PollMode } from '../inputs';

/**
 * A duration written with units, bounded, with the runbook's own messages (the other settings use
 * `durationText` of ../duration.ts, whose messages differ).
 */
export const Duration = (min: number, max: number) =>
  z
    .string()
    .regex(DURATION_PATTERN, 'must be a duration such as 30s, 5m, 6h or 1h30m')
    .refine((v) => !DURATION_PATTERN.test(v) || (parseDuration(v) >= min && parseDuration(v) <= max), {
      message: `must be between ${min} ms and ${max / 3_600_000} h`,
    });

const Timeout = Duration(MIN_STEP_TIMEOUT_MS, MAX_STEP_TIMEOUT_MS);
const PollInterval = Duration(1, MAX_POLL_INTERVAL_MS);

/** Options every step may set; the document's `defaults` set them for all steps. */
export const stepOptionFields = {
  /** Longest the step may take, busy waits included. Default 6h. */
  timeout: Timeout.optional().describe('Longest the step may take, busy waits included. Default: 6h.'),
  /** Wait between status polls. Default: the worker's (15s). */
  pollInterval: PollInterval.optional().describe(
    "Wait between status polls of the remote job (at most 25m). Default: the worker's (15s).",
  ),
  /** How the remote job is polled: `heartbeat` (default) or `retry`. */
  pollMode: PollMode.optional().describe(
    'How the remote job is polled: `heartbeat` (default: one activity reads it every pollInterval until it ends, holding a worker slot) or `retry` (one read per activity attempt, retried by the Temporal server every pollInterval, default 15s; no worker slot held between reads: for very long jobs on busy workers).',
  ),
  /** Wait for an `approve` before the step starts. Default: `required` for restores, `none` for backups. */
  approval: z
    .enum(['required', 'none'])
    .optional()
    .describe(
      'Wait for an `approve` (vmware-dr approve) before the step starts. Default: `required` for restores, `none` for backups.',
    ),
  /**
   * Who may approve the step: client identities as the Temporal server records them (`*` = any
   * characters), e.g. `alice@example.com` or `*@ops.example.com`. Narrows the worker's policy, never
   * widens it. Default: anyone the policy allows, except who started the run.
   */
  approvers: z
    .array(z.string().min(1).max(256))
    .min(1)
    .max(50)
    .optional()
    .describe(
      'Who may approve the step: client identities as the Temporal server records them (`*` = any characters), e.g. `*@ops.example.com`. Narrows the worker policy, never widens it. Default: anyone the policy allows, except who started the run.',
    ),
  /** A failure of this step does not stop the later stages. Default false. */
  continueOnFailure: z
    .boolean()
    .optional()
    .describe('A failure of this step does not stop the later stages. Default: false.'),
};

/** `{ backup: ENDPOINT, to?: LOCATION, …step options }`. */
export const BackupStep = z
  .object({
    /** The endpoint (key of `endpoints`) to back up. */
    backup: Name.describe('The endpoint (a key of `endpoints`) to back up.'),
    /** Where to (key of `locations`): required for vCenter; SDDC Manager and VCDA use their own configured targets. */
    to: Name.optional().describe(
      'Where to (a key of `locations`): required for vCenter; SDDC Manager and VCDA back up to their own configured targets.',
    ),
    ...stepOptionFields,
  })
  .strict();

/** The workflow id of a run (e.g. a schedule's `<scheduleId>-<time>`): printable, no spaces. */
export const WorkflowIdRef = z
  .string()
  .regex(
    /^[A-Za-z0-9._:/@+=-]{1,255}$/,
    'must be the workflow id of a drRunbook backup run (1–255 characters, no spaces)',
  );

/** A restore's archive taken from a recovery point: the set of backups one backup runbook run made. */
export const RecoveryPointArchive = z
  .object({
    /** The workflow id of the `drRunbook` run whose report's recovery point holds the backup. */
    recoveryPoint: WorkflowIdRef.describe(
      'The workflow id of the `drRunbook` backup run whose report holds the recovery point.',
    ),
    /** The endpoint's name in that backup runbook. Default: this restore step's endpoint name. */
    endpoint: Name.optional().describe("The endpoint's name in that backup runbook. Default: this step's endpoint."),
  })
  .strict();

/** `{ restore: ENDPOINT, from?, archive?, …product fields, …step options }`. */
export const RestoreStep = z
  .object({
    /** The endpoint (key of `endpoints`) to restore: a freshly deployed appliance. */
    restore: Name.describe('The endpoint (a key of `endpoints`) to restore: a freshly deployed appliance.'),
    /** vCenter: the location (key of `locations`) that holds the backups. */
    from: Name.optional().describe('vCenter: the location (a key of `locations`) that holds the backups.'),
    /**
     * vCenter: `latest`, an archive id (a folder name such as `20261201-020000`), or
     * `{ recoveryPoint: WORKFLOW_ID, endpoint? }`: the archive the backup runbook run WORKFLOW_ID
     * made of `endpoint` (its endpoint name there; default: this step's endpoint name), one of the
     * backups that belong together. Default `latest`.
     */
    archive: z
      .union([
        z.string().regex(/^(latest|[A-Za-z0-9._-]{1,128})$/, 'must be latest or an archive id such as 20261201-020000'),
        RecoveryPointArchive,
      ])
      .optional()
      .describe(
        "vCenter: `latest`, an archive id (a folder name such as `20261201-020000`), or `{ recoveryPoint: <backup run workflow id>, endpoint? }`: the archive that run made of that endpoint (default: this step's endpoint name). Default: `latest`.",
      ),
    /** vCenter: whose backups to restore (the system name of the original appliance). Default: the endpoint URL's host. */
    systemName: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,253}$/, 'must be a host name')
      .optional()
      .describe(
        "vCenter: whose backups to restore (the system name of the original appliance). Default: the endpoint URL's host.",
      ),
    /** vCenter: restore despite validation warnings (e.g. an Enhanced Linked Mode domain). Default false. */
    ignoreWarnings: z
      .boolean()
      .optional()
      .describe('vCenter: restore despite validation warnings (e.g. an Enhanced Linked Mode domain). Default: false.'),
    /** SDDC Manager: the backup file on the freshly deployed appliance, e.g. /tmp/vcf-backup-….tar.gz. */
    backupFile: z
      .string()
      .regex(/^\/[^\0\r\n]{0,1023}$/, 'must be an absolute path on the appliance')
      .optional()
      .describe('SDDC Manager: the backup file on the freshly deployed appliance, e.g. /tmp/vcf-backup-….tar.gz.'),
    /** SDDC Manager: reference to the backup's encryption passphrase. */
    passphraseRef: secretRef()
      .optional()
      .describe("SDDC Manager: reference (env:NAME, file:/path) to the backup's encryption passphrase."),
    ...stepOptionFields,
  })
  .strict();

/** A vCenter backup location: where a backup goes (`to`) and a restore reads from (`from`). */
export const Location = z
  .object({
    /** The protocol, as vCenter names it. */
    type: z.enum(LOCATION_TYPES).describe('The protocol, as vCenter names it.'),
    /** e.g. `sftp://backup.example.com/vcsa`: no user info (use username and passwordRef). */
    url: z
      .string()
      .min(1)
      .max(MAX_URL_LENGTH)
      .regex(
        /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#@\s]+(\/[^\s?#]*)?$/,
        'must be scheme://host/path without user info, e.g. sftp://backup.example.com/vcsa',
      )
      .describe('e.g. `sftp://backup.example.com/vcsa`: no user info (use username and passwordRef).'),
    username: z.string().min(1).max(256).optional().describe('User of the backup server.'),
    passwordRef: secretRef().optional().describe("Reference (env:NAME, file:/path) to the backup server's password."),
    /** Reference to the password that encrypts (and decrypts) the backups. */
    encryptionPasswordRef: secretRef()
      .optional()
      .describe('Reference to the password that encrypts (and decrypts) the backups. Default: not encrypted.'),
  })
  .strict();

/** The endpoint schema of each product: its fields plus `product`, the key that picks the schema. */
export const EndpointSchemas = {
  vcenter: endpointSchema({ ...ENDPOINT_FIELDS.vcenter, product: z.literal('vcenter') }),
  'sddc-manager': endpointSchema({ ...ENDPOINT_FIELDS['sddc-manager'], product: z.literal('sddc-manager') }),
  vcda: endpointSchema({ ...ENDPOINT_FIELDS.vcda, product: z.literal('vcda') }),
};
