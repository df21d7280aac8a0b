/**
 * The approvals of a run: who may decide on a step that waits (the validators of Updates `approve`
 * and `reject`: a verified second person the policy and the runbook allow, who accepts any restore
 * warnings; anyone may reject), the decisions, and a step's wait for one, with its timeout.
 */
import { condition } from '@temporalio/workflow';
import type { NotifyEvent, RunbookDocument } from '../../src/contract/runbook/document';
import type { RunbookReport } from '../../src/contract/runbook/report';
import {
  type ApprovalRule,
  DEFAULT_APPROVAL_RULE,
  approvalRefusal,
  approveCommandText,
} from '../../src/contract/runbook/approvals';
import type { ApproveRequest, RejectRequest } from '../../src/contract/messages';
import type { CallerIdentities } from '../caller-identity';
import type { PlannedStep } from './plan';
import type { RunWaits } from './visibility';
import { APPROVAL_TIMEOUT_TYPE } from '../../src/core/errors';

/** How a run decides on approvals, from its options and the patches its history has. */
export interface ApprovalSettings {
  approvalTimeoutMs: number;
  /** The approval timeout as the options gave it (for the step's error), if they did. */
  approvalTimeout?: string;
  /** The run has the trust boundary (TRUST_BOUNDARY_PATCH): policy check, verified approvals, audit. */
  trusted: boolean;
  /** Who sent each message, as the server recorded it. */
  identities: CallerIdentities;
}

/** What the approvals need of their run (a `RunbookRun`). */
export interface ApprovalHost {
  readonly doc: RunbookDocument;
  readonly all: PlannedStep[];
  readonly report: RunbookReport;
  readonly waits: RunWaits;
  readonly settings: ApprovalSettings;
  audit(entry: NonNullable<RunbookReport['audit']>[number]): void;
  notify(event: NotifyEvent, text: string, extra?: Record<string, unknown>): Promise<void>;
}

/** An approval decision on a step, as its Update brought it. */
interface Decision {
  decision: 'approved' | 'rejected';
  by: string;
  identity?: string;
  comment?: string;
  acceptWarnings?: boolean;
}

function checkBy(by: unknown): void {
  if (typeof by !== 'string' || by.trim() === '' || by.length > 128)
    throw new Error('by: who decides (1–128 characters) is required');
}

/** The approval decisions of one run, their validators, and the waits for them. */
export class RunbookApprovals {
  private readonly decisions = new Map<string, Decision>();
  /** Who started the run and each step's approval rule: from `checkRunbookPolicy`, before any step. */
  private startedBy: string | undefined;
  private rules: Record<string, ApprovalRule> = {};

  constructor(private readonly run: ApprovalHost) {}

  /** The credential policy's word: who started the run, and each step's approval rule. */
  usePolicy(startedBy: string | undefined, rules: Record<string, ApprovalRule>): void {
    this.startedBy = startedBy;
    this.rules = rules;
  }

  /** The step `stepId`, if it waits for a decision (else why not, thrown for a validator). */
  private waiting(stepId: string): PlannedStep {
    const p = this.run.all.find((x) => x.report.id === stepId);
    if (!p) throw new Error(`no step ${stepId}: steps are ${this.run.all.map((x) => x.report.id).join(', ')}`);
    if (p.report.state !== 'waiting-approval')
      throw new Error(`step ${stepId} is ${p.report.state}, not waiting for approval`);
    // Two decisions arriving together: the first accepted one wins, the other is refused.
    const decided = this.decisions.get(stepId);
    if (decided) throw new Error(`step ${stepId} was already ${decided.decision} by ${decided.by}`);
    return p;
  }

  private decide(step: string, d: Omit<Decision, 'identity'>) {
    const identity = this.run.settings.identities.currentUpdate();
    this.decisions.set(step, { ...d, ...(identity !== undefined && { identity }) });
    return { step, state: d.decision };
  }

  /** Update `approve`. */
  approve({ step, by, comment, acceptWarnings }: ApproveRequest) {
    return this.decide(step, {
      decision: 'approved',
      by,
      ...(comment !== undefined && { comment }),
      ...(acceptWarnings === true && { acceptWarnings }),
    });
  }

  /** The validator of `approve`: a verified second person the policy and runbook allow, who accepts any warnings. */
  validateApprove(req: ApproveRequest): void {
    checkBy(req?.by);
    const p = this.waiting(String(req?.step));
    if (req.acceptWarnings !== undefined && typeof req.acceptWarnings !== 'boolean')
      throw new Error('acceptWarnings: true or false (vmware-dr approve --accept-warnings)');
    const { identities, trusted } = this.run.settings;
    if (!trusted) {
      // A run from before verified approvals: its starter is unknown, so nobody can be the second person.
      throw new Error(
        approvalRefusal({
          step: p.report.id,
          identity: identities.currentUpdate() ?? '(unknown)',
          startedBy: undefined,
          rule: DEFAULT_APPROVAL_RULE,
        }),
      );
    }
    const refusal = approvalRefusal({
      step: p.report.id,
      identity: identities.currentUpdate(),
      startedBy: this.startedBy,
      rule: this.rules[p.report.id] ?? DEFAULT_APPROVAL_RULE,
      ...(p.approvers !== undefined && { runbookApprovers: p.approvers }),
    });
    if (refusal) throw new Error(refusal);
    if (p.report.acceptWarnings && req.acceptWarnings !== true)
      throw new Error(
        `step ${p.report.id} (restore ${p.report.endpoint}) has restore validation warnings nobody accepted: ${(p.report.warnings ?? []).join('; ')}. The restore would fail on them: approve with --accept-warnings (acceptWarnings: true) to restore despite them, or reject the step`,
      );
  }

  /** Update `reject`. */
  reject({ step, by, reason }: RejectRequest) {
    return this.decide(step, { decision: 'rejected', by, comment: reason });
  }

  /** The validator of `reject`: anyone may reject (it stops a change), with a reason. */
  validateReject(req: RejectRequest): void {
    checkBy(req?.by);
    if (typeof req?.reason !== 'string' || req.reason.trim() === '')
      throw new Error('reason: why the step is rejected is required');
    this.waiting(String(req?.step));
  }

  /** Waits for a decision on a step; false when it did not get an approval (rejected or timed out). */
  async awaitApproval(p: PlannedStep): Promise<boolean> {
    const { report, doc, waits } = this.run;
    const { trusted } = this.run.settings;
    const r = p.report;
    r.state = 'waiting-approval';
    const command = approveCommandText(report.workflowId, r.id, r.acceptWarnings === true);
    const rule = this.rules[r.id] ?? DEFAULT_APPROVAL_RULE;
    const who = [
      rule.fourEyes && this.startedBy ? `someone other than ${this.startedBy}` : 'a person',
      ...(rule.approvers ? [`allowed by the policy: ${rule.approvers.join(', ')}`] : []),
      ...(p.approvers ? [`allowed by the runbook: ${p.approvers.join(', ')}`] : []),
    ];
    const warnings = r.warnings?.length
      ? `; ${r.warnings.length} restore warning${r.warnings.length === 1 ? '' : 's'}${r.acceptWarnings ? ' to accept' : ' (accepted by the runbook: ignoreWarnings)'}: ${r.warnings.join('; ')}`
      : '';
    if (trusted) {
      r.waiting = `approval by ${who.join('; ')}${warnings}: ${command}`;
      waits.approval(r, who.join('; '), warnings, command);
    }
    await this.run.notify(
      'approval-needed',
      trusted
        ? `${doc.name}: step ${r.id} (${r.action} ${r.endpoint}) waits for approval by ${who.join('; ')}${warnings}: ${command}`
        : `${doc.name}: step ${r.id} (${r.action} ${r.endpoint}) waits for approval: ${approveCommandText(report.workflowId, r.id)}`,
      { step: r.id, ...(r.warnings && { warnings: r.warnings }) },
    );
    const decided = await condition(() => this.decisions.has(r.id), this.run.settings.approvalTimeoutMs, {
      summary: `approval timeout of step ${r.id} (${r.action} ${r.endpoint})`,
    });
    delete r.waiting;
    delete r.acceptWarnings;
    waits.clear(r.id);
    const d = this.decisions.get(r.id);
    if (!decided || !d) {
      r.state = 'failed';
      r.error = {
        type: APPROVAL_TIMEOUT_TYPE,
        message: `no approval within ${this.run.settings.approvalTimeout ?? '24h'}: the step did not start`,
      };
      return false;
    }
    const at = new Date().toISOString();
    const accepted = d.acceptWarnings && r.warnings ? { acceptedWarnings: r.warnings } : {};
    const identity = d.identity !== undefined ? { identity: d.identity } : {};
    r.approval = {
      by: d.by,
      ...identity,
      at,
      decision: d.decision,
      ...(d.comment !== undefined && { comment: d.comment }),
      ...accepted,
    };
    report.approvals.push({ step: r.id, ...r.approval });
    this.run.audit({
      at,
      event: d.decision,
      step: r.id,
      by: d.by,
      ...identity,
      ...((d.comment !== undefined || accepted.acceptedWarnings) && {
        detail: [d.comment, accepted.acceptedWarnings && `accepted warnings: ${accepted.acceptedWarnings.join('; ')}`]
          .filter(Boolean)
          .join('; '),
      }),
    });
    if (d.decision === 'rejected') {
      r.state = 'rejected';
      return false;
    }
    return true;
  }
}
