/**
 * The pure parts of approvals: who may approve a step (src/contract/runbook/approvals.ts) and how the report
 * shows identities, accepted warnings, the audit trail and the policy's refusals (report.ts).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_APPROVAL_RULE, approvalRefusal, identityMatches } from '../src/contract/runbook/approvals';
import { type RunbookReport, renderReportMarkdown } from '../src/contract/runbook/report';

describe('identityMatches', () => {
  it('matches whole identities, case-insensitively, with * for any run of characters', () => {
    expect(identityMatches('alice@example.com', 'alice@example.com')).toBe(true);
    expect(identityMatches('Alice@Example.com', 'alice@example.com')).toBe(true);
    expect(identityMatches('alice@ops.example.com', '*@ops.example.com')).toBe(true);
    expect(identityMatches('alice@ops.example.com.evil', '*@ops.example.com')).toBe(false);
    expect(identityMatches('xalice@example.com', 'alice@example.com')).toBe(false);
    // Regular-expression characters in a pattern are literal.
    expect(identityMatches('aliceXexample.com', 'alice@example.com')).toBe(false);
    expect(identityMatches('a+b@x', 'a+b@x')).toBe(true);
    expect(identityMatches('anything', '*')).toBe(true);
  });
});

describe('approvalRefusal', () => {
  const base = { step: '1.1', startedBy: 'alice@site', rule: DEFAULT_APPROVAL_RULE };

  it('another identity than the starter may approve; the starter may not (four eyes)', () => {
    expect(approvalRefusal({ ...base, identity: 'bob@site' })).toBeUndefined();
    expect(approvalRefusal({ ...base, identity: 'alice@site' })).toMatch(
      /alice@site started this run and may not approve its own step 1\.1 \(four eyes\)/,
    );
    expect(approvalRefusal({ ...base, identity: 'ALICE@SITE' })).toMatch(/four eyes/);
  });

  it('fails closed: no identity, or an unknown starter under four eyes, is refused', () => {
    expect(approvalRefusal({ ...base, identity: undefined })).toMatch(/no client identity/);
    expect(approvalRefusal({ ...base, identity: '' })).toMatch(/no client identity/);
    expect(approvalRefusal({ ...base, startedBy: undefined, identity: 'bob@site' })).toMatch(
      /who started this run is unknown/,
    );
    // Without four eyes the starter does not matter.
    expect(
      approvalRefusal({
        ...base,
        startedBy: undefined,
        identity: 'alice@site',
        rule: { required: true, fourEyes: false },
      }),
    ).toBeUndefined();
  });

  it("the policy's approvers, then the runbook's: both must allow; an empty list allows nobody", () => {
    const rule = { required: true, fourEyes: true, approvers: ['*@ops.example.com'] };
    expect(approvalRefusal({ ...base, rule, identity: 'bob@ops.example.com' })).toBeUndefined();
    expect(approvalRefusal({ ...base, rule, identity: 'bob@site' })).toMatch(
      /bob@site may not approve step 1\.1: the worker's credential policy lets \*@ops\.example\.com approve it/,
    );
    expect(approvalRefusal({ ...base, rule, identity: 'bob@ops.example.com', runbookApprovers: ['carol@*'] })).toMatch(
      /the runbook lets carol@\* approve it/,
    );
    // The runbook cannot widen the policy.
    expect(approvalRefusal({ ...base, rule, identity: 'carol@site', runbookApprovers: ['carol@*'] })).toMatch(
      /credential policy/,
    );
    expect(approvalRefusal({ ...base, rule: { ...rule, approvers: [] }, identity: 'bob@ops.example.com' })).toMatch(
      /lets nobody approve it/,
    );
  });
});

describe('the report: approvals with identities, warnings, audit trail, refusals', () => {
  const report: RunbookReport = {
    runbook: 'restore-vc',
    workflowId: 'wf-1',
    outcome: 'succeeded',
    dryRun: false,
    startedAt: '2026-12-07T10:00:00.000Z',
    endedAt: '2026-12-07T10:05:00.000Z',
    startedBy: 'alice@site',
    policy: { source: '/etc/vmware-dr/policy.yaml', sha256: 'ab'.repeat(32) },
    steps: [
      {
        id: '1.1',
        stage: 'restore',
        action: 'restore',
        endpoint: 'vc-1',
        product: 'vcenter',
        state: 'succeeded',
        remoteId: 'restore',
        warnings: ['linked mode: reconcile after the restore'],
        approval: {
          by: 'bob',
          identity: 'bob@site',
          at: '2026-12-07T10:01:00.000Z',
          decision: 'approved',
          acceptedWarnings: ['linked mode: reconcile after the restore'],
        },
      },
    ],
    compensations: [],
    approvals: [
      {
        step: '1.1',
        by: 'bob',
        identity: 'bob@site',
        at: '2026-12-07T10:01:00.000Z',
        decision: 'approved',
        acceptedWarnings: ['linked mode: reconcile after the restore'],
      },
    ],
    audit: [
      { at: '2026-12-07T10:00:00.000Z', event: 'started', identity: 'alice@site' },
      { at: '2026-12-07T10:01:00.000Z', event: 'approved', step: '1.1', by: 'bob', identity: 'bob@site' },
    ],
  };

  it('renders identities, the accepted warnings, the audit trail and the policy', () => {
    const md = renderReportMarkdown(report);
    expect(md).toContain('| Step | Decision | By | Identity | At | Comment | Warnings accepted |');
    expect(md).toContain('| 1.1 | approved | bob | bob@site |');
    expect(md).toContain('## Restore validation warnings');
    expect(md).toContain('- Step 1.1 (vc-1), accepted by bob:');
    expect(md).toContain('## Audit trail');
    expect(md).toContain('Started by alice@site.');
    expect(md).toContain(`Credential policy: /etc/vmware-dr/policy.yaml (sha256 ${'ab'.repeat(6)}).`);
    expect(md).toContain('| 2026-12-07T10:01:00.000Z | approved | 1.1 | bob | bob@site |  |');
  });

  it('warnings of a restore that started without an approver are the runbook’s to accept; refusals are listed', () => {
    const md = renderReportMarkdown({
      ...report,
      outcome: 'failed',
      approvals: [],
      steps: [{ ...report.steps[0]!, approval: undefined }],
      refused: [{ path: 'endpoints.vc-9.url', steps: ['1.2'], rule: 'appliances', message: 'not listed. Fix: add it' }],
    });
    expect(md).toContain('- Step 1.1 (vc-1), accepted by the runbook (ignoreWarnings):');
    expect(md).toContain('## Refused by the credential policy');
    expect(md).toContain('| endpoints.vc-9.url | 1.2 | appliances | not listed. Fix: add it |');
  });
});
