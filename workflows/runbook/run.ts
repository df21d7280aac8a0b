/**
 * The state of one `drRunbook` run and what changes it: the report, the approvals (./approvals.ts),
 * pause and resume, the steps' progress, the policy's and the recovery points' refusals, and each
 * step's run (restore checks, approval, child step workflow, compensation on cancel) and the end.
 * `drRunbook` (./index.ts) builds one, wires its message handlers to it and runs the stages.
 */
import {
  CancellationScope,
  ChildWorkflowCancellationType,
  ParentClosePolicy,
  isCancellation,
  workflowInfo,
} from '@temporalio/workflow';
import type { RunbookPolicyCheck } from '../../activities';
import type { NotifyEvent, RunbookDocument } from '../../src/contract/runbook/document';
import { type RunbookReport, overallOutcome } from '../../src/contract/runbook/report';
import { RUNBOOK_STEP_MEMO, type StepProgress, pauseSignal, resumeSignal } from '../../src/contract/messages';
import { notifyHooks } from '../notify';
import { type ApprovalSettings, RunbookApprovals } from './approvals';
import { dryRunStep } from './dry-run';
import { stepError } from './failure';
import {
  type PlannedStage,
  type PlannedStep,
  type VcenterRestore,
  childFor,
  executeStep,
  isVcenterRestore,
  vcenterRestoreChild,
} from './plan';
import { validateVcenterRestore } from './proxies';
import { type RecoveryPointBackups, findArchive, resolveRecoveryPoints } from './recovery-point';
import { type AttributePair, type AttributeWriter, RunWaits, SA } from './visibility';
import { RESTORE_WARNINGS_TYPE, START_WINDOW_MISSED_TYPE, type ErrorType } from '../../src/core/errors';

/** How a run goes, from its options and the patches its history has. */
export interface RunSettings extends ApprovalSettings {
  dryRun: boolean;
  /** The run has quiet history (QUIET_HISTORY_PATCH): what it waits for goes to its memo. */
  quiet: boolean;
}

/** One run of a runbook: its report and everything that changes it. */
export class RunbookRun {
  readonly all: PlannedStep[];
  readonly report: RunbookReport;
  readonly waits: RunWaits;
  /** The search attributes written before the registered ones are known (they go out with the first write). */
  held: AttributePair[] = [];
  /** Writes the run's search attributes; until `drRunbook` sets the real writer, it holds them. */
  setAttributes: AttributeWriter = (pairs) => {
    this.held = [...this.held.filter((h) => !pairs.some((p) => p.key.name === h.key.name)), ...pairs];
  };
  /** The approval decisions (Updates `approve` and `reject`) and the steps' waits for them. */
  readonly approvals: RunbookApprovals = new RunbookApprovals(this);
  /** Paused: the next stage waits for a resume. */
  paused = false;
  /** Restore steps that take their archive from a recovery point: the backup of the set they restore. */
  private readonly fromRecoveryPoint: RecoveryPointBackups = new Map();
  /** Steps whose child workflow was started: only those have anything to compensate. */
  private readonly launched = new Set<string>();

  constructor(
    readonly doc: RunbookDocument,
    readonly stages: PlannedStage[],
    readonly settings: RunSettings,
  ) {
    this.all = stages.flatMap((s) => s.steps);
    this.report = {
      runbook: doc.name,
      ...(doc.site !== undefined && { site: doc.site }),
      workflowId: workflowInfo().workflowId,
      // Never an outcome the run has not reached: `running` until it ends.
      outcome: 'running',
      dryRun: settings.dryRun,
      startedAt: new Date().toISOString(),
      steps: this.all.map((p) => p.report),
      compensations: [],
      approvals: [],
    };
    this.waits = new RunWaits({ record: settings.quiet, setAttributes: () => this.setAttributes });
  }

  audit(entry: NonNullable<RunbookReport['audit']>[number]): void {
    if (this.settings.trusted) (this.report.audit ??= []).push(entry);
  }

  /** Signal `stepProgress`: a running step's start attempts and busy waits (or, from older workers, its percent). */
  stepProgress({ step, attempts, waiting, percent }: StepProgress): void {
    const r = this.all.find((x) => x.report.id === step)?.report;
    if (!r || r.state !== 'running') return;
    if (typeof percent === 'number') {
      // From the poll activity: the job runs, so the step no longer waits.
      if (Number.isFinite(percent)) r.percent = Math.max(0, Math.min(100, Math.round(percent)));
      delete r.waiting;
      this.waits.clear(r.id);
      return;
    }
    if (typeof attempts === 'number' && Number.isInteger(attempts) && attempts > 0) r.attempts = attempts;
    if (typeof waiting === 'string') {
      r.waiting = waiting.slice(0, 200);
      this.waits.busy(r, r.waiting);
    } else {
      delete r.waiting;
      this.waits.clear(r.id);
    }
  }

  /** Signals `pause` and `resume`. */
  pauseOrResume(event: 'paused' | 'resumed', req: { by?: string } | undefined): void {
    this.paused = event === 'paused';
    const identity = this.settings.identities.takeSignal(event === 'paused' ? pauseSignal.name : resumeSignal.name);
    const by = typeof req?.by === 'string' ? req.by.slice(0, 128) : undefined;
    if (this.paused) this.waits.paused(by ?? identity);
    else this.waits.clear('');
    this.audit({
      at: new Date().toISOString(),
      event,
      ...(by !== undefined && { by }),
      ...(identity !== undefined && { identity }),
    });
  }

  /** A cancel was requested: the audit trail says when and why (who is in the history). */
  cancelRequested(): void {
    const reason = this.settings.identities.cancelReason();
    this.audit({ at: new Date().toISOString(), event: 'cancel-requested', ...(reason && { detail: reason }) });
  }

  /** Tells the document's webhooks about an event; never fails the run. */
  async notify(event: NotifyEvent, text: string, extra: Record<string, unknown> = {}): Promise<void> {
    if (!this.settings.dryRun)
      await notifyHooks(this.doc, event, text, { workflowId: this.report.workflowId, ...extra });
  }

  /**
   * The worker's credential policy (read only, with who started the run): what it refuses fails
   * those steps; the policy may require approvals the runbook did not ask for.
   */
  applyPolicy(gate: RunbookPolicyCheck): void {
    const report = this.report;
    const { startedBy, approvals } = gate;
    this.approvals.usePolicy(startedBy, approvals);
    if (gate.policy) report.policy = gate.policy;
    if (startedBy !== undefined) report.startedBy = startedBy;
    (report.audit ??= []).unshift({
      at: report.startedAt,
      event: 'started',
      ...(startedBy !== undefined && { identity: startedBy }),
    });
    // The policy may require an approval the runbook did not ask for (it refuses `approval: none` too).
    for (const p of this.all) if (approvals[p.report.id]?.required) p.needsApproval = true;
    if (gate.problems.length) {
      report.refused = gate.problems;
      for (const problem of gate.problems)
        for (const id of problem.steps) {
          const r = this.all.find((p) => p.report.id === id)?.report;
          if (!r) continue;
          r.state = 'failed';
          const message = `${problem.path}: ${problem.message}`;
          r.error = {
            type: 'NotPermitted' satisfies ErrorType,
            message: r.error ? `${r.error.message}; ${message}` : message,
          };
        }
    }
  }

  /**
   * The recovery points the restore steps name (unless the policy refused the run already): a set
   * that is unknown, failed or lacks a backup a step restores fails those steps. True when the
   * run stops before its first stage.
   */
  async checkRecoveryPoints(): Promise<boolean> {
    const report = this.report;
    const refused = report.refused?.length
      ? new Map()
      : await resolveRecoveryPoints(this.all, this.doc, this.fromRecoveryPoint);
    for (const [id, error] of refused) {
      const r = this.all.find((p) => p.report.id === id)!.report;
      Object.assign(r, { state: 'failed', error });
    }
    return refused.size > 0 || (report.refused?.length ?? 0) > 0;
  }

  private findArchive(p: VcenterRestore) {
    return findArchive(p, this.doc, this.fromRecoveryPoint);
  }

  /** Runs one step; never throws: its outcome goes into its report (a cancel included). */
  async runStep(p: PlannedStep, stageStart: number, startWithinMs: number | undefined): Promise<void> {
    try {
      await this.runStepBody(p, stageStart, startWithinMs);
      delete p.report.waiting;
      this.waits.clear(p.report.id);
    } catch (err) {
      const r = p.report;
      delete r.waiting;
      this.waits.clear(r.id);
      r.endedAt = new Date().toISOString();
      const action = `cancel the ${r.product} ${r.action} on ${r.endpoint}`;
      if (isCancellation(err)) {
        // A child in flight was cancelled on its appliance (the poll activity asks the appliance
        // to cancel the job, and the child waits for that): the compensation of a started step.
        // VCDA's API cannot cancel a backup task: said as it is, never as a compensation done.
        if (this.launched.has(r.id))
          this.report.compensations.push(
            r.product === 'vcda'
              ? {
                  step: r.id,
                  action: `none possible: VCDA has no API to cancel a backup task; the backup on ${r.endpoint} runs to its end`,
                  outcome: 'not-needed',
                }
              : { step: r.id, action, outcome: 'done' },
          );
        r.state = 'cancelled';
        return;
      }
      r.state = 'failed';
      r.error = stepError(err);
      // Cancelled, but the child could not stop its job: say so, the job may still run.
      if (CancellationScope.current().consideredCancelled && this.launched.has(r.id)) {
        this.report.compensations.push({ step: r.id, action, outcome: 'failed', error: r.error });
      }
    }
  }

  /**
   * A restore's checks before its approval (runs with the trust boundary): the vCenter archive is
   * found once and pinned (the approver approves that archive, not whatever is latest later) and
   * the restore validated; not applicable fails the step, warnings are shown and must be accepted.
   * SDDC Manager has no restore validation API: its restore is checked by the appliance's task.
   */
  private async preflightRestore(p: PlannedStep): Promise<{ archiveLocation?: string } | undefined> {
    const r = p.report;
    if (!isVcenterRestore(p)) return {};
    const archive = await this.findArchive(p);
    r.location = archive.location;
    const { input } = vcenterRestoreChild(p, this.doc, archive.location);
    const v = await validateVcenterRestore({ endpoint: input.endpoint, restore: input.restore });
    if (!v.applicable) {
      r.state = 'failed';
      r.error = {
        type: 'InvalidArgument' satisfies ErrorType,
        message: `the backup cannot be restored onto ${r.endpoint} (restore validation: not applicable${v.messages.length ? `: ${v.messages.join('; ')}` : ''})`,
        hint: 'restore onto a freshly deployed vCenter in the restore stage (before firstboot) with a backup of a matching version',
      };
      return undefined;
    }
    if (v.messages.length) r.warnings = v.messages;
    const ignoreWarnings = p.step.ignoreWarnings === true;
    if (r.warnings && !ignoreWarnings) {
      if (p.needsApproval) r.acceptWarnings = true;
      else {
        r.state = 'failed';
        r.error = {
          type: RESTORE_WARNINGS_TYPE,
          message: `restore validation of ${r.endpoint} reported ${r.warnings.length} warning${r.warnings.length === 1 ? '' : 's'}: ${r.warnings.join('; ')}. The restore would fail on them, so it was not started`,
          hint: `set ignoreWarnings: true on step ${r.id} to restore despite them, or approval: required so that the approver can accept them (vmware-dr approve --accept-warnings)`,
        };
        return undefined;
      }
    }
    return { archiveLocation: archive.location };
  }

  private async runStepBody(p: PlannedStep, stageStart: number, startWithinMs: number | undefined): Promise<void> {
    const r = p.report;
    if (this.settings.dryRun) {
      await dryRunStep(p, { doc: this.doc, trusted: this.settings.trusted, findArchive: (s) => this.findArchive(s) });
      return;
    }
    /** Checked before the approval (trust boundary): the archive the approver saw, pinned. */
    let checked: { archiveLocation?: string } | undefined;
    if (this.settings.trusted && 'restore' in p.step) {
      checked = await this.preflightRestore(p);
      if (!checked) return;
    }
    if (p.needsApproval && !(await this.approvals.awaitApproval(p))) return;
    if (startWithinMs !== undefined && Date.now() - stageStart > startWithinMs) {
      r.state = 'failed';
      r.error = {
        type: START_WINDOW_MISSED_TYPE,
        message: `the stage's startWithin window passed before this step could start`,
      };
      return;
    }
    r.state = 'running';
    r.startedAt = new Date().toISOString();
    let archiveLocation: string | undefined = checked?.archiveLocation;
    if (!checked && isVcenterRestore(p)) {
      archiveLocation = (await this.findArchive(p)).location;
      r.location = archiveLocation;
    }
    const child = childFor(p, this.doc, archiveLocation, r.approval?.acceptedWarnings !== undefined);
    this.launched.add(r.id);
    const result = await executeStep(child, {
      workflowId: `${workflowInfo().workflowId}/${r.id}`,
      staticSummary: `${r.action} ${r.product} ${r.endpoint} (step ${r.id}, stage ${r.stage})`,
      cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      // The step tells this run its busy waits (signal stepProgress), by this step id.
      memo: { [RUNBOOK_STEP_MEMO]: r.id },
    });
    Object.assign(r, {
      state: 'succeeded',
      remoteId: result.remoteId,
      startedAt: result.startedAt,
      ...(result.endedAt !== undefined && { endedAt: result.endedAt }),
      ...(result.durationMs !== undefined && { durationMs: result.durationMs }),
      ...(result.location !== undefined && { location: result.location }),
      ...(result.sizeBytes !== undefined && { sizeBytes: result.sizeBytes }),
      ...(result.hash !== undefined && { hash: result.hash }),
      attached: result.attached,
    });
  }

  /**
   * The run ends (`cancelled`: it was): steps that never started are skipped, the outcome set, the
   * backups of this run recorded as one recovery point, the waits cleared and the webhooks told.
   */
  async end(cancelled: boolean): Promise<RunbookReport> {
    const { report, doc } = this;
    // Steps that never started are skipped, whether the run stopped after a failure or was cancelled.
    for (const p of this.all) if (p.report.state === 'pending') p.report.state = 'skipped';
    report.endedAt = new Date().toISOString();
    report.outcome = overallOutcome(report.steps, { cancelled, dryRun: this.settings.dryRun });
    // The backups of this run belong together: one consistent recovery point (SDDC Manager and the vCenters of its window).
    const backups = report.steps.filter(
      (st) => st.action === 'backup' && st.state === 'succeeded' && st.remoteId !== undefined,
    );
    if (backups.length) {
      report.recoveryPoint = {
        takenAt: backups
          .map((st) => st.endedAt ?? report.endedAt!)
          .sort()
          .at(-1)!,
        members: backups.map((st) => ({
          step: st.id,
          endpoint: st.endpoint,
          product: st.product,
          remoteId: st.remoteId!,
          ...(st.location !== undefined && { location: st.location }),
        })),
      };
    }
    this.waits.end(`ended ${report.outcome}`);
    this.setAttributes([{ key: SA.outcome, value: report.outcome }]);
    if (report.outcome === 'succeeded')
      await this.notify('succeeded', `${doc.name}: succeeded (${report.steps.length} steps)`, {
        outcome: report.outcome,
      });
    else if (report.outcome !== 'dry-run') {
      const failed = report.steps
        .filter((st) => st.state === 'failed')
        .map((st) => `${st.id} ${st.endpoint}: ${st.error?.type}`);
      await this.notify('failed', `${doc.name}: ${report.outcome}${failed.length ? ` (${failed.join('; ')})` : ''}`, {
        outcome: report.outcome,
      });
    }
    return report;
  }
}
