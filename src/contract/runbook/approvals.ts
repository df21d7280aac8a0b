/**
 * Who may approve a runbook step: the rules (from the worker's credential policy and the runbook)
 * and the one check the `approve` Update's validator makes with the identities the Temporal server
 * recorded. Pure (no I/O), shared by the workflow, the CLI and tests.
 */

/** The approval rule of one step, as the worker's credential policy sets it. */
export interface ApprovalRule {
  /** The policy makes this step wait for an approval, whatever the runbook says. */
  required: boolean;
  /** Who started the run may not approve its steps. */
  fourEyes: boolean;
  /** Identity patterns (`*` = any characters) allowed to approve; undefined: anyone. */
  approvers?: string[];
}

/** The rule of a step when the worker has no credential policy: approvals by a second person. */
export const DEFAULT_APPROVAL_RULE: ApprovalRule = { required: false, fourEyes: true };

/** Whether an identity matches a pattern: case-insensitive, `*` for any run of characters. */
export function identityMatches(identity: string, pattern: string): boolean {
  const re = pattern
    .toLowerCase()
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${re}$`).test(identity.toLowerCase());
}

export interface ApprovalCheck {
  /** The step id, e.g. `1.1`. */
  step: string;
  /** The approver's client identity as the server recorded it; undefined when unknown. */
  identity: string | undefined;
  /** The identity that started the run; undefined when unknown. */
  startedBy: string | undefined;
  rule: ApprovalRule;
  /** The runbook's own `approvers` of the step (it can narrow the policy, never widen it). */
  runbookApprovers?: string[];
}

/** Why this approval is refused, or undefined when it may go ahead. Never names a secret. */
export function approvalRefusal(c: ApprovalCheck): string | undefined {
  if (!c.identity)
    return (
      'the approver has no client identity the Temporal server recorded, so four eyes cannot be checked: ' +
      'approve with a client that sends one (vmware-dr approve sends user@host, or VMWARE_DR_IDENTITY)'
    );
  if (c.rule.fourEyes) {
    if (!c.startedBy)
      return (
        `who started this run is unknown (it began before approvals by a second person were checked), so step ${c.step} ` +
        'cannot be approved by a verified second person: cancel the run and start the runbook again'
      );
    if (c.identity.toLowerCase() === c.startedBy.toLowerCase())
      return `${c.identity} started this run and may not approve its own step ${c.step} (four eyes): another person approves it, with their own identity`;
  }
  if (c.rule.approvers && !c.rule.approvers.some((p) => identityMatches(c.identity!, p)))
    return `${c.identity} may not approve step ${c.step}: the worker's credential policy lets ${listOf(c.rule.approvers)} approve it (approvals.approvers)`;
  if (c.runbookApprovers && !c.runbookApprovers.some((p) => identityMatches(c.identity!, p)))
    return `${c.identity} may not approve step ${c.step}: the runbook lets ${listOf(c.runbookApprovers)} approve it (approvers)`;
  return undefined;
}

function listOf(patterns: string[]): string {
  return patterns.length === 0 ? 'nobody' : patterns.join(', ');
}

/**
 * The command a person types to approve a step, with `--accept-warnings` when the step has
 * restore validation warnings that nobody accepted yet.
 */
export function approveCommandText(workflowId: string, step: string, acceptWarnings = false, by = 'NAME'): string {
  return `vmware-dr approve ${workflowId} --step ${step} --by ${by}${acceptWarnings ? ' --accept-warnings' : ''}`;
}
