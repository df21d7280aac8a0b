import { ClientPool } from './clients';
import { type ActivitiesOptions, resolveOptions } from './options';
import { createSddcManagerActivities } from './sddc-manager';
import { createVcdaActivities } from './vcda';
import { createVcenterActivities } from './vcenter';
import { createVcenterRestoreActivities } from './vcenter-restore';
import { createLeaseActivities } from './lease';
import { createRunbookActivities } from './runbook';
import { createFreshnessActivities } from './freshness';
import { createCompensationActivities } from './compensate';
import { createPolicyActivities } from './policy';

export type { ActivitiesOptions } from './options';
export type * from './vcenter';
export type * from './vcda';
export type * from './sddc-manager';
export type { StepRef } from './step';
export type { RequestApplianceLeaseInput } from './lease';
export type * from './runbook';
export type { ReadLastBackupInput } from './freshness';
export type { CompensateStepInput, CompensateStepResult } from './compensate';
export type { CheckRunbookPolicyInput, RunbookPolicyCheck, ApprovalRule, PolicyProblem } from './policy';

/** The warning of activities built without a credential policy (library use). */
export const NO_POLICY_WARNING =
  'vmware-dr: no credential policy is enforced (createActivities without policy): anyone who can start a workflow on this task queue can make these activities send any secret the worker can read to any host. Pass policy: await CredentialPolicy.load(file) (the production worker requires VMWARE_DR_POLICY).';

/**
 * Builds every activity of this package. Register the result on your worker:
 * `Worker.create({ activities: createActivities({ ... }), workflowsPath })`.
 */
export function createActivities(options: ActivitiesOptions = {}) {
  const opts = resolveOptions(options);
  if (!opts.policy) opts.warn(NO_POLICY_WARNING);
  const pool = new ClientPool(opts);
  return {
    ...createVcenterActivities(pool, opts),
    ...createVcenterRestoreActivities(pool, opts),
    ...createSddcManagerActivities(pool, opts),
    ...createVcdaActivities(pool, opts),
    ...createLeaseActivities(opts),
    ...createRunbookActivities(pool, opts),
    ...createFreshnessActivities(pool, opts),
    ...createCompensationActivities(pool, opts),
    ...createPolicyActivities(opts),
  };
}

/** The activity functions' types, for `proxyActivities<Activities>()` in workflows. */
export type Activities = ReturnType<typeof createActivities>;
