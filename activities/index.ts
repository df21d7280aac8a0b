import { ClientPool } from './clients';
import { type ActivitiesOptions, resolveOptions } from './options';
import { createSddcManagerActivities } from './sddc-manager';
import { createVcdaActivities } from './vcda';
import { createVcenterActivities } from './vcenter';
import { createLeaseActivities } from './lease';
import { createRunbookActivities } from './runbook';
import { createFreshnessActivities } from './freshness';
import { createCompensationActivities } from './compensate';

export type { ActivitiesOptions } from './options';
export type * from './vcenter';
export type * from './vcda';
export type * from './sddc-manager';
export type { StepRef } from './step';
export type { RequestApplianceLeaseInput } from './lease';
export type * from './runbook';
export type { ReadLastBackupInput } from './freshness';
export type { CompensateStepInput, CompensateStepResult } from './compensate';

/**
 * Builds every activity of this package. Register the result on your worker:
 * `Worker.create({ activities: createActivities({ ... }), workflowsPath })`.
 */
export function createActivities(options: ActivitiesOptions = {}) {
  const opts = resolveOptions(options);
  const pool = new ClientPool(opts);
  return {
    ...createVcenterActivities(pool, opts),
    ...createSddcManagerActivities(pool, opts),
    ...createVcdaActivities(pool, opts),
    ...createLeaseActivities(),
    ...createRunbookActivities(pool, opts),
    ...createFreshnessActivities(pool, opts),
    ...createCompensationActivities(pool, opts),
  };
}

/** The activity functions' types, for `proxyActivities<Activities>()` in workflows. */
export type Activities = ReturnType<typeof createActivities>;
