/**
 * Restores from a recovery point (the set of backups one backup runbook run made): each restore
 * step that names one gets that run's backup of its vCenter, read once per set before any step
 * runs, and a vCenter restore's archive is found by id, as the latest, or by that backup.
 */
import { isCancellation } from '@temporalio/workflow';
import type { RecoveryPointBackup, RecoveryPointSet } from '../../activities';
import type { RunbookDocument, RunbookRestoreStep } from '../../src/contract/runbook/document';
import { stepError } from './failure';
import { type PlannedStep, type VcenterRestore, productEndpoint } from './plan';
import { findVcenterArchive, readRecoveryPoint } from './proxies';
import { RECOVERY_POINT_UNUSABLE_TYPE } from '../../src/core/errors';

/** Restore steps that take their archive from a recovery point: the backup of the set they restore, by step id. */
export type RecoveryPointBackups = Map<string, { set: string; backup: RecoveryPointBackup }>;

/**
 * Reads each recovery point the restore steps name (once per set) and picks each step's
 * backup: the vCenter backup of `archive.endpoint` (default: the step's endpoint name), which
 * must have gone to the step's `from` location; the picks go into `fromRecoveryPoint`. Returns
 * the refused steps with why.
 */
export async function resolveRecoveryPoints(
  all: PlannedStep[],
  doc: RunbookDocument,
  fromRecoveryPoint: RecoveryPointBackups,
): Promise<Map<string, { type: string; message: string }>> {
  const refused = new Map<string, { type: string; message: string }>();
  const wanted = all.flatMap((p) => {
    const archive = 'restore' in p.step ? p.step.archive : undefined;
    return typeof archive === 'object' ? [{ p, archive }] : [];
  });
  const sets = new Map<string, RecoveryPointSet | { type: string; message: string }>();
  for (const id of new Set(wanted.map((w) => w.archive.recoveryPoint))) {
    sets.set(
      id,
      await readRecoveryPoint({ workflowId: id }).catch((err: unknown) => {
        if (isCancellation(err)) throw err;
        return stepError(err);
      }),
    );
  }
  const trim = (url: string) => url.replace(/\/+$/, '');
  for (const { p, archive } of wanted) {
    const set = sets.get(archive.recoveryPoint)!;
    if (!('backups' in set)) {
      refused.set(p.report.id, set);
      continue;
    }
    const name = archive.endpoint ?? p.report.endpoint;
    const backup = set.backups.find((b) => b.endpoint === name && b.product === 'vcenter');
    const from = doc.locations?.[(p.step as RunbookRestoreStep).from as string]?.url ?? '';
    const problem = !backup?.marker
      ? `recovery point ${set.workflowId} (runbook ${set.runbook}) has no vCenter backup of ${name}; it holds ${set.backups.map((b) => `${b.endpoint} (${b.product})`).join(', ')}. Fix: set archive.endpoint to the vCenter's endpoint name in that runbook`
      : backup.location !== undefined && trim(backup.location) !== trim(from)
        ? `the backup of ${name} in recovery point ${set.workflowId} went to ${backup.location}, not to ${from} (location ${(p.step as RunbookRestoreStep).from}). Fix: restore from the location the backup went to`
        : undefined;
    if (problem !== undefined) refused.set(p.report.id, { type: RECOVERY_POINT_UNUSABLE_TYPE, message: problem });
    else fromRecoveryPoint.set(p.report.id, { set: set.workflowId, backup: backup! });
  }
  return refused;
}

/** The archive a vCenter restore step points at (read only): by id, the latest, or its recovery point's backup. */
export async function findArchive(p: VcenterRestore, doc: RunbookDocument, fromRecoveryPoint: RecoveryPointBackups) {
  const step = p.step;
  const l = doc.locations?.[step.from as string];
  const rp = fromRecoveryPoint.get(p.report.id);
  const found = await findVcenterArchive({
    endpoint: productEndpoint(p.endpoint),
    location: {
      url: l!.url,
      ...(l!.username !== undefined && { username: l!.username }),
      ...(l!.passwordRef !== undefined && { passwordRef: l!.passwordRef }),
    },
    archive: typeof step.archive === 'string' ? step.archive : 'latest',
    ...(rp?.backup.marker !== undefined && { commentContains: rp.backup.marker }),
    ...(step.systemName !== undefined && { systemName: step.systemName }),
  });
  return {
    ...found,
    note: rp
      ? `archive ${found.location} (recovery point ${rp.set}: backup ${rp.backup.remoteId} of ${rp.backup.endpoint})`
      : `archive ${found.location}`,
  };
}
