/**
 * Every problem of a runbook under a credential policy at once (`vmware-dr validate --policy`,
 * the `checkRunbookPolicy` activity): endpoints (appliance, http, TLS, login reference), the
 * locations each vCenter step uses (URL, password, encryption password), SDDC Manager restore
 * passphrases, webhooks, where each reference may be read from, and approvals the policy requires
 * that a step turns off; each with the runbook path, the steps it stops and the rule. References
 * are checked lexically (the activities also check real paths). Pure.
 */
import type { ApplianceRule, PolicyRules, Refusal } from './rules';
import type { RunbookDocument, RunbookEndpoint, RunbookLocation } from '../../contract/runbook/document';

/** One thing a runbook asks for that the policy refuses. */
export interface PolicyProblem {
  /** The runbook field, e.g. `endpoints.vc-mgmt.passwordRef` or `locations.sftp-a.url`. */
  path: string;
  /**
   * Ids of the steps it stops (`${stageIndex + 1}.${stepIndex + 1}`). Empty for a problem of no
   * single step: a `notify` webhook (its notifications would be refused when sent).
   */
  steps: string[];
  /** The policy rule that refuses it, e.g. `appliances[0].secrets.login`, `secretSources.env`. */
  rule: string;
  /** What is refused and what to add to the policy (`… Fix: …`). Never a secret's value. */
  message: string;
}

export function runbookProblems(rules: PolicyRules, doc: RunbookDocument): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const add = (r: Refusal, steps: string[]) => {
    // The path is the problem's own field: the message does not repeat it.
    const summary = r.summary.startsWith(r.field) ? r.summary.slice(r.field.length).replace(/^:?\s*/, '') : r.summary;
    const message = `${summary}. Fix: ${r.fix}`;
    const existing = problems.find((p) => p.path === r.field && p.rule === r.rule && p.message === message);
    if (!existing) problems.push({ path: r.field, steps: [...steps], rule: r.rule, message });
    else for (const s of steps) if (!existing.steps.includes(s)) existing.steps.push(s);
  };
  const source = (ref: string | undefined, field: string, steps: string[]) => {
    if (ref === undefined) return;
    const r = rules.sourceRefusal(ref, field);
    if (r) add(r, steps);
  };

  // Which steps use each endpoint, and each (endpoint, location) pair.
  const stepsOf = new Map<string, string[]>();
  const uses: { key: string; step: string; location?: string; passphraseRef?: string; stepPath: string }[] = [];
  doc.stages.forEach((stage, s) =>
    stage.steps.forEach((step, i) => {
      const id = `${s + 1}.${i + 1}`;
      const key = 'backup' in step ? step.backup : step.restore;
      stepsOf.set(key, [...(stepsOf.get(key) ?? []), id]);
      uses.push({
        key,
        step: id,
        stepPath: `stages[${s}].steps[${i}]`,
        ...('backup' in step ? { location: step.to } : { location: step.from }),
        ...('restore' in step && step.passphraseRef !== undefined && { passphraseRef: step.passphraseRef }),
      });
      const action = 'backup' in step ? 'backup' : 'restore';
      const approval = step.approval ?? doc.defaults?.approval ?? (action === 'restore' ? 'required' : 'none');
      if (approval === 'none' && rules.document.approvals.required.includes(action))
        add(
          {
            field: step.approval !== undefined ? `stages[${s}].steps[${i}].approval` : 'defaults.approval',
            rule: 'approvals.required',
            summary: `step ${id} (${action} ${key}) sets approval: none, but ${rules.source} requires an approval for every ${action}`,
            fix: `remove approval: none (the step then waits for vmware-dr approve); the operator decides approvals.required`,
          },
          [id],
        );
    }),
  );

  const ruleOf = new Map<string, ApplianceRule>();
  for (const [key, endpoint] of Object.entries(doc.endpoints)) {
    const field = `endpoints.${key}`;
    const steps = stepsOf.get(key) ?? [];
    const r = rules.endpointRule(endpoint.product, { ...endpoint, name: key }, field);
    source(endpoint.passwordRef, `${field}.passwordRef`, steps);
    if ('refusal' in r) {
      add(r.refusal, steps);
      continue;
    }
    ruleOf.set(key, r.rule);
    const login = rules.secretRefusal(r.rule, 'login', endpoint.passwordRef, `${field}.passwordRef`);
    if (login) add(login, steps);
  }

  for (const use of uses) {
    const endpoint = doc.endpoints[use.key] as RunbookEndpoint | undefined;
    const rule = ruleOf.get(use.key);
    if (use.passphraseRef !== undefined) {
      const field = `${use.stepPath}.passphraseRef`;
      source(use.passphraseRef, field, [use.step]);
      if (rule) {
        const r = rules.secretRefusal(rule, 'passphrase', use.passphraseRef, field);
        if (r) add(r, [use.step]);
      }
    }
    if (endpoint?.product !== 'vcenter' || use.location === undefined) continue;
    const loc = doc.locations?.[use.location] as RunbookLocation | undefined;
    if (!loc) continue;
    const field = `locations.${use.location}`;
    source(loc.passwordRef, `${field}.passwordRef`, [use.step]);
    source(loc.encryptionPasswordRef, `${field}.encryptionPasswordRef`, [use.step]);
    if (!rule) continue;
    const l = rules.locationRefusal(rule, loc.url, loc.passwordRef, `${field}.url`, `${field}.passwordRef`);
    if (l) add(l, [use.step]);
    if (loc.encryptionPasswordRef !== undefined) {
      const e = rules.secretRefusal(rule, 'encryption', loc.encryptionPasswordRef, `${field}.encryptionPasswordRef`);
      if (e) add(e, [use.step]);
    }
  }

  (doc.notify ?? []).forEach((n, i) => {
    const field = `notify[${i}].urlRef`;
    source(n.urlRef, field, []);
    const r = rules.webhookRefRefusal(n.urlRef, field);
    if (r) add(r, []);
  });
  return problems;
}
