/**
 * `checkRunbookPolicy`: what the worker's credential policy says about a whole runbook, before
 * anything runs (read only): every step it refuses and why, the approval each step needs, which
 * policy file said so, and who started the run (for four eyes). The per-request checks themselves are in the activities that resolve
 * secrets and open connections (clients.ts, vcenter.ts, sddc-manager.ts, vcda.ts, runbook.ts).
 * A run with quiet history calls it as a local activity and also asks it which search attributes
 * the namespace has registered (one marker in its first workflow task instead of two activities).
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { ApprovalRule, PolicyProblem } from '../src/core/policy/index';
import { startedByOf } from './identity';
import type { RunbookDocument } from '../src/contract/runbook/document';
import type { ResolvedActivitiesOptions } from './options';
import { asActivity } from './step';

export type { ApprovalRule, PolicyProblem } from '../src/core/policy/index';

export interface CheckRunbookPolicyInput {
  /** The checked runbook document (as `drRunbook` validated it). */
  document: RunbookDocument;
  /**
   * Also answer which custom search attributes the namespace has registered (a run with quiet
   * history asks here instead of a second activity). @default false
   */
  searchAttributes?: boolean;
}

/** The policy's verdict on a runbook. */
export interface RunbookPolicyCheck {
  /** The policy file and the sha256 of its bytes; unset when the worker has no policy. */
  policy?: { source: string; sha256: string };
  /** Everything the policy refuses, each with the steps it stops; empty without a policy. */
  problems: PolicyProblem[];
  /** Each step's approval rule, by step id (`1.2`); without a policy: not required, four eyes. */
  approvals: Record<string, ApprovalRule>;
  /**
   * Who started the calling run, as the Temporal server recorded it (its first history event);
   * unset when the server recorded no identity. Four eyes compare approvers against it.
   */
  startedBy?: string;
  /**
   * With `searchAttributes: true`: the custom search attributes the run's namespace has registered
   * (empty when they cannot be read: the run then sets none, and runs all the same).
   */
  searchAttributes?: string[];
}

/** The activities' Temporal client, or undefined where there is none (a mock environment without one). */
function clientOf(opts: ResolvedActivitiesOptions): Client | undefined {
  try {
    return opts.client();
  } catch {
    return undefined;
  }
}

/** The custom search attributes of the calling run's namespace. */
export async function registeredSearchAttributes(client: Client, ctx: Context): Promise<string[]> {
  const res = await client.connection.operatorService.listSearchAttributes({
    namespace: ctx.info.workflowNamespace ?? client.options.namespace,
  });
  return Object.keys(res.customAttributes ?? {});
}

export function createPolicyActivities(opts: ResolvedActivitiesOptions) {
  return {
    /** The credential policy's problems and approval rules of a runbook. Read only; reads no secret. */
    async checkRunbookPolicy(input: CheckRunbookPolicyInput): Promise<RunbookPolicyCheck> {
      return asActivity(opts, async () => {
        const doc = input.document;
        const policy = opts.policy;
        const approvals: Record<string, ApprovalRule> = {};
        doc.stages.forEach((stage, s) =>
          stage.steps.forEach((step, i) => {
            const id = `${s + 1}.${i + 1}`;
            const action = 'backup' in step ? 'backup' : 'restore';
            const endpoint = doc.endpoints['backup' in step ? step.backup : step.restore];
            approvals[id] =
              policy && endpoint
                ? policy.approvalFor(endpoint.product, endpoint, action)
                : { required: false, fourEyes: true };
          }),
        );
        const ctx = Context.current();
        const run = ctx.info.workflowExecution;
        // Outside a worker (a MockActivityEnvironment without a client) there is no run to read.
        const client = clientOf(opts);
        const startedBy = run && client ? await startedByOf(client, run.workflowId, run.runId) : undefined;
        const starter = startedBy !== undefined ? { startedBy } : {};
        const attributes = input.searchAttributes
          ? { searchAttributes: client ? await registeredSearchAttributes(client, ctx).catch(() => []) : [] }
          : {};
        if (!policy) return { problems: [], approvals, ...starter, ...attributes };
        return {
          policy: { source: policy.source, sha256: policy.sha256 },
          problems: policy.runbookProblems(doc),
          approvals,
          ...starter,
          ...attributes,
        };
      });
    },
  };
}
