import { ClientPool } from './clients';
import { type ActivitiesOptions, resolveOptions } from './options';
import { createVcenterActivities } from './vcenter';

export type { ActivitiesOptions } from './options';
export type * from './vcenter';

/**
 * Builds every activity of this package. Register the result on your worker:
 * `Worker.create({ activities: createActivities({ ... }), workflowsPath })`.
 */
export function createActivities(options: ActivitiesOptions = {}) {
  const opts = resolveOptions(options);
  const pool = new ClientPool(opts);
  return {
    ...createVcenterActivities(pool, opts),
  };
}

/** The activity functions' types, for `proxyActivities<Activities>()` in workflows. */
export type Activities = ReturnType<typeof createActivities>;
