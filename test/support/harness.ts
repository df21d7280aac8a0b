/**
 * Shared test wiring: the run's Temporal server (from globalSetup), a simulator, and a worker
 * hosting this package's activities and the pre-built workflow bundle on a unique task queue.
 */
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { type ActivitiesOptions, createActivities } from '../../activities';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../src/simulator/server';

export interface Harness {
  env: TestWorkflowEnvironment;
  sim: Simulator;
  taskQueue: string;
  /** Runs `fn` while a worker polls the task queue. */
  withWorker<T>(fn: () => Promise<T>, activities?: ActivitiesOptions): Promise<T>;
  close(): Promise<void>;
}

export async function createHarness(simOptions: SimulatorOptions = {}): Promise<Harness> {
  const env = await TestWorkflowEnvironment.createFromExistingServer({
    address: inject('temporalAddress'),
    namespace: inject('temporalNamespace'),
  });
  const sim = await startSimulator({ jobSeconds: 1, ...simOptions });
  const taskQueue = `test-${randomUUID()}`;
  return {
    env,
    sim,
    taskQueue,
    async withWorker(fn, activities = {}) {
      const worker = await Worker.create({
        connection: env.nativeConnection,
        namespace: inject('temporalNamespace'),
        taskQueue,
        workflowBundle: { codePath: inject('workflowBundlePath') },
        activities: createActivities({ pollIntervalMs: 100, busyRetryDelayMs: 100, ...activities }),
      });
      return worker.runUntil(fn);
    },
    async close() {
      await sim.close();
      await env.teardown();
    },
  };
}
