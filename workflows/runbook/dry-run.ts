/**
 * A step of a dry run: nothing changes anywhere. Its endpoint is checked (login, API form,
 * version), a vCenter restore's archive found, and vCenter's own validation of the backup or
 * restore asked; the step ends `planned`, with what it would run and what was checked.
 */
import type { RunbookDocument, RunbookRestoreStep } from '../../src/contract/runbook/document';
import { type PlannedStep, type VcenterRestore, childFor, endpointCheck, isVcenterRestore } from './plan';
import { checkEndpoint, validateVcenterBackup, validateVcenterRestore } from './proxies';

/** What a dry-run step needs of its run. */
export interface DryRunContext {
  doc: RunbookDocument;
  /** The run has the trust boundary: restore warnings are reported as the approver would see them. */
  trusted: boolean;
  findArchive: (p: VcenterRestore) => Promise<{ location: string; note: string }>;
}

/** Plans one step of a dry run (read-only checks only): its report says what would run. */
export async function dryRunStep(p: PlannedStep, run: DryRunContext): Promise<void> {
  const r = p.report;
  const check = await checkEndpoint(endpointCheck(p.endpoint));
  const notes = [...check.checks];
  let archiveLocation: string | undefined;
  if (isVcenterRestore(p)) {
    const archive = await run.findArchive(p);
    archiveLocation = archive.location;
    notes.push(archive.note);
  }
  const child = childFor(p, run.doc, archiveLocation);
  if (child.workflow === 'vcenterRestoreStep') {
    const v = await validateVcenterRestore({ endpoint: child.input.endpoint, restore: child.input.restore });
    notes.push(
      `restore validation: ${v.applicable ? 'applicable' : 'not applicable'}${v.messages.length ? ` (${v.messages.join('; ')})` : ''}`,
    );
    if (run.trusted && v.applicable && v.messages.length) {
      r.warnings = v.messages;
      if ((p.step as RunbookRestoreStep).ignoreWarnings !== true)
        notes.push(
          p.needsApproval
            ? 'the approver must accept the warnings (vmware-dr approve --accept-warnings)'
            : 'the restore would be refused: set ignoreWarnings: true or approval: required',
        );
    }
  }
  if (child.workflow === 'vcenterBackupStep') {
    const v = await validateVcenterBackup({ endpoint: child.input.endpoint, backup: child.input.backup });
    notes.push(`backup validation ${v.status}${v.messages.length ? `: ${v.messages.join('; ')}` : ''}`);
  }
  r.state = 'planned';
  r.plan = `${child.workflow} on ${r.endpoint}${p.needsApproval ? ' after approval' : ''}; checked: ${notes.join(', ')}`;
}
