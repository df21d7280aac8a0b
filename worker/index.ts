import { dirname, join } from 'node:path';
import { NativeConnection, type NativeConnectionOptions, Worker, type WorkerOptions } from '@temporalio/worker';
import { type ActivitiesOptions, createActivities } from '../activities';
import { runbookNexusServiceHandler } from './nexus';

import { DEFAULT_TASK_QUEUE } from '../src/contract/names';

export { DEFAULT_TASK_QUEUE };

/**
 * Path of the workflows entry, for `Worker.create({ workflowsPath })` or `bundleWorkflowCode`. The
 * folder when the entry cannot be resolved (a loader without TypeScript resolution, e.g. vitest's):
 * the bundler resolves a folder's index itself.
 */
export const workflowsPath = ((): string => {
  try {
    return require.resolve('../workflows');
  } catch {
    return join(dirname(__filename), '..', 'workflows');
  }
})();

/** Options of {@link createWorker}; every field has a documented default. */
export interface CreateWorkerOptions {
  /**
   * The connection to Temporal.
   * @default NativeConnection.connect(connectionOptions)
   */
  connection?: NativeConnection;
  /**
   * Used when `connection` is not given.
   * @default {} (the SDK's: localhost:7233)
   */
  connectionOptions?: NativeConnectionOptions;
  /** @default 'default' */
  namespace?: string;
  /** @default DEFAULT_TASK_QUEUE (`vmware-dr`) */
  taskQueue?: string;
  /**
   * Options of the activities ({@link ActivitiesOptions}, each with its own default).
   * @default {}
   */
  activities?: ActivitiesOptions;
  /**
   * A prebuilt workflow bundle.
   * @default none: bundle `workflowsPath` at start
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /**
   * Payload codecs and failure converter, e.g. `encryptingDataConverter(keys)` of `src/codec`.
   * With `workflowsPath` its `failureConverterPath` is bundled into the sandbox too; a prebuilt
   * `workflowBundle` keeps the failure converter it was built with.
   * @default the SDK's
   */
  dataConverter?: WorkerOptions['dataConverter'];
  /**
   * Anything else Worker.create takes (concurrency limits, interceptors, ...).
   * @default {}
   */
  worker?: Partial<WorkerOptions>;
}

/**
 * Heartbeats reach the server at most this far apart (the SDK's default is up to 60 s). Short,
 * so progress shows in `describe()` and a cancel reaches a polling activity within seconds.
 * Heartbeats never add history events.
 */
export const DEFAULT_MAX_HEARTBEAT_THROTTLE_INTERVAL = '5 seconds';

/** A worker hosting every workflow and activity of this package. */
export async function createWorker(opts: CreateWorkerOptions = {}): Promise<Worker> {
  const connection = opts.connection ?? (await NativeConnection.connect(opts.connectionOptions ?? {}));
  return Worker.create({
    connection,
    namespace: opts.namespace ?? 'default',
    taskQueue: opts.taskQueue ?? DEFAULT_TASK_QUEUE,
    activities: createActivities(opts.activities),
    maxHeartbeatThrottleInterval: DEFAULT_MAX_HEARTBEAT_THROTTLE_INTERVAL,
    nexusServices: [runbookNexusServiceHandler()],
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath }),
    ...(opts.dataConverter && { dataConverter: opts.dataConverter }),
    ...opts.worker,
  });
}
