/**
 * The simulated SDDC Manager's backup configuration, as pure functions over the stored state:
 * the default configuration, `GET /v1/system/backup-configuration`, the spec a PUT/PATCH or a
 * validation asks for, `POST /v1/system/backup-configuration/validations` (`Validation` of the
 * bindings) and `GET /v1/system/backup-configuration/backup-locations` (SSH fingerprint lookup).
 * The appliance (`simulator.ts`) owns the state and the routes.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type BackupLocationSpec, type BackupSchedule, BackupConfigurationSpec } from '../../sddc-manager/schemas';
import { DOCS_URL, SddcFault, sddcErrorBody, zodMessage } from './errors';

/** The encryption passphrase of the default backup configuration (a restore needs it). */
export const SIM_BACKUP_PASSPHRASE = 'Sim-Backup-Passphrase-1!';
/** The SFTP server of the default backup configuration. */
export const SIM_SFTP_SERVER = 'sftp.vcf.sim.local';

export interface StoredConfiguration {
  backupLocations: BackupLocationSpec[];
  backupSchedules: BackupSchedule[];
  passphrase?: string;
}

/** The simulated SSH host key fingerprint of an SFTP server: `SHA256:<base64, unpadded>`. */
export function simSshFingerprint(server: string, port = 22): string {
  return `SHA256:${createHash('sha256').update(`${server.toLowerCase()}:${port}`).digest('base64').replace(/=+$/, '')}`;
}

/** The configuration a fresh appliance comes up with: one SFTP location, the passphrase, no schedule. */
export function defaultBackupConfiguration(fqdn: string): StoredConfiguration {
  return {
    backupLocations: [
      {
        server: SIM_SFTP_SERVER,
        port: 22,
        protocol: 'SFTP',
        username: 'svc-vcf-backup',
        password: randomBytes(9).toString('base64'),
        directoryPath: `/backups/${fqdn}`,
        sshFingerprint: simSshFingerprint(SIM_SFTP_SERVER, 22),
      },
    ],
    backupSchedules: [],
    passphrase: SIM_BACKUP_PASSPHRASE,
  };
}

/** `isConfigured`: "configuration status of both FTP server and passphrase" (bindings). */
export function isBackupConfigured(c: StoredConfiguration | undefined): boolean {
  return !!c && c.backupLocations.length > 0 && !!c.passphrase;
}

/** The `GET /v1/system/backup-configuration` body: no passwords, no passphrase. */
export function renderBackupConfiguration(c: StoredConfiguration | undefined) {
  return {
    backupLocations: (c?.backupLocations ?? []).map(({ password: _password, ...rest }) => rest),
    backupSchedules: c?.backupSchedules ?? [],
    isConfigured: isBackupConfigured(c),
  };
}

/** The configuration a spec asks for: PUT replaces, PATCH and validation merge over the current one. */
export function proposedBackupConfiguration(
  body: unknown,
  current: StoredConfiguration | undefined,
  replace: boolean,
): StoredConfiguration {
  const parsed = BackupConfigurationSpec.safeParse(body);
  if (!parsed.success)
    throw new SddcFault(400, 'VALIDATION_FAILED', zodMessage(parsed.error), 'Correct the backup configuration.');
  const spec = parsed.data;
  const base: StoredConfiguration = replace
    ? { backupLocations: [], backupSchedules: [] }
    : structuredClone(current ?? { backupLocations: [], backupSchedules: [] });
  return {
    backupLocations: spec.backupLocations ?? base.backupLocations,
    backupSchedules: spec.backupSchedules ?? base.backupSchedules,
    passphrase: spec.encryption?.passphrase ?? base.passphrase,
  };
}

/**
 * What a PUT/PATCH refuses outright (400). The fingerprint is not checked here (tests send
 * placeholders); the validation endpoint checks it.
 */
export function checkBackupConfiguration(next: StoredConfiguration): void {
  if (!next.backupLocations.length || !next.passphrase) {
    throw new SddcFault(
      400,
      'VALIDATION_FAILED',
      'Invalid parameter: a backup location and an encryption passphrase are required.',
      'Send backupLocations and encryption.passphrase.',
    );
  }
  for (const [i, loc] of next.backupLocations.entries()) {
    if (loc.protocol.toUpperCase() !== 'SFTP')
      throw new SddcFault(
        400,
        'VALIDATION_FAILED',
        `Invalid parameter backupLocations.${i}.protocol: only SFTP is supported.`,
      );
    if (!loc.password)
      throw new SddcFault(400, 'VALIDATION_FAILED', `Invalid parameter backupLocations.${i}.password: required.`);
  }
}

/**
 * The `Validation` body of `POST /v1/system/backup-configuration/validations`: finished at once
 * (executionStatus COMPLETED; resultStatus SUCCEEDED, WARNING or FAILED) with one check per
 * concern; a failed check carries an `errorResponse` (the Error model).
 */
export function validateBackupConfiguration(next: StoredConfiguration) {
  type Check = {
    description: string;
    severity: 'ERROR' | 'WARNING';
    ok: boolean;
    code: string;
    message: string;
    remediation: string;
  };
  const checks: Check[] = [];
  const loc = next.backupLocations[0];
  checks.push({
    description: 'Backup location is set',
    severity: 'ERROR',
    ok: !!loc,
    code: 'BACKUP_LOCATION_MISSING',
    message: 'No backup location is configured.',
    remediation: 'Add an SFTP backup location.',
  });
  if (loc) {
    const port = loc.port ?? 22;
    const reachable = !loc.server.toLowerCase().endsWith('.invalid');
    checks.push({
      description: `SFTP server ${loc.server}:${port} is reachable`,
      severity: 'ERROR',
      ok: reachable,
      code: 'SSH_CONNECTION_FAILED',
      message: `Unable to connect to ${loc.server}:${port}.`,
      remediation: 'Check the server name, port and firewall.',
    });
    if (reachable) {
      const expected = simSshFingerprint(loc.server, port);
      const given = loc.sshFingerprint;
      checks.push({
        description: 'SSH fingerprint matches the server host key',
        severity: given ? 'ERROR' : 'WARNING',
        ok: given === expected,
        code: given ? 'SSH_FINGERPRINT_MISMATCH' : 'SSH_FINGERPRINT_MISSING',
        message: given
          ? `The SSH fingerprint ${given} does not match the server's ${expected}.`
          : 'No SSH fingerprint was given.',
        remediation:
          'Look the fingerprint up with GET /v1/system/backup-configuration/backup-locations and send it as sshFingerprint.',
      });
    }
    checks.push({
      description: 'Protocol is SFTP',
      severity: 'ERROR',
      ok: loc.protocol.toUpperCase() === 'SFTP',
      code: 'UNSUPPORTED_PROTOCOL',
      message: `Protocol ${loc.protocol} is not supported.`,
      remediation: 'Use SFTP.',
    });
    checks.push({
      description: 'Directory path is absolute',
      severity: 'ERROR',
      ok: loc.directoryPath.startsWith('/'),
      code: 'INVALID_DIRECTORY_PATH',
      message: `Directory path ${loc.directoryPath} is not absolute.`,
      remediation: 'Give a full directory path on the SFTP server.',
    });
  }
  checks.push({
    description: 'Encryption passphrase is set',
    severity: 'ERROR',
    ok: !!next.passphrase,
    code: 'PASSPHRASE_MISSING',
    message: 'No encryption passphrase is configured.',
    remediation: 'Send encryption.passphrase.',
  });
  const failed = checks.some((c) => !c.ok && c.severity === 'ERROR');
  const warned = checks.some((c) => !c.ok);
  return {
    id: randomUUID(),
    description: 'Validate backup configuration',
    executionStatus: 'COMPLETED',
    resultStatus: failed ? 'FAILED' : warned ? 'WARNING' : 'SUCCEEDED',
    validationChecks: checks.map((c) => ({
      description: c.description,
      severity: c.severity,
      resultStatus: c.ok ? 'SUCCEEDED' : c.severity === 'ERROR' ? 'FAILED' : 'WARNING',
      acknowledge: false,
      ...(c.ok
        ? {}
        : {
            errorResponse: sddcErrorBody(c.code, c.message, {
              remediationMessage: c.remediation,
              remediationUrl: DOCS_URL,
            }),
          }),
      nestedValidationChecks: [],
    })),
  };
}

/**
 * The `BackupLocation` body of `GET /v1/system/backup-configuration/backup-locations` for the
 * query `serverIp` and `port` (default 22): 400 without a server, with a bad port, or for a
 * server under `.invalid` (unreachable).
 */
export function lookupBackupLocation(query: URLSearchParams) {
  const server = query.get('serverIp')?.trim();
  if (!server)
    throw new SddcFault(
      400,
      'VALIDATION_FAILED',
      'Invalid parameter serverIp: required.',
      'Send the SFTP server as the serverIp query parameter.',
    );
  const rawPort = query.get('port');
  const port = rawPort === null || rawPort === '' ? 22 : Number(rawPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new SddcFault(
      400,
      'VALIDATION_FAILED',
      `Invalid parameter port: ${rawPort}.`,
      'Send a TCP port between 1 and 65535.',
    );
  if (server.toLowerCase().endsWith('.invalid')) {
    throw new SddcFault(
      400,
      'SSH_CONNECTION_FAILED',
      `Unable to connect to ${server}:${port}.`,
      'Check the server name, port and firewall.',
      [{ type: 'java.net.UnknownHostException', message: server }],
      { remediationUrl: DOCS_URL },
    );
  }
  return { server, port, protocol: 'SFTP', sshFingerprint: simSshFingerprint(server, port) };
}
