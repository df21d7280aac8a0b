/**
 * Shared test wiring: the run's Temporal server (from globalSetup), a simulator, and a worker
 * hosting this package's activities and the pre-built workflow bundle on a unique task queue.
 * The worker's activities options go to `createActivities` as given, so a test enforces a
 * credential policy by passing `policy` (./policy.ts builds one for the simulated site).
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { type ActivitiesOptions, createActivities } from '../../activities';
import { endTaskQueueWorkflows } from '../../src/client/task-queue';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../src/simulator/server';

export interface Harness {
  env: TestWorkflowEnvironment;
  sim: Simulator;
  taskQueue: string;
  /** Runs `fn` while a worker polls the task queue. */
  withWorker<T>(fn: () => Promise<T>, activities?: ActivitiesOptions): Promise<T>;
  /** A worker for the task queue (heartbeats reach the server within 1 s). */
  worker(activities?: ActivitiesOptions): Promise<Worker>;
  /**
   * A client of the test server that sends `identity` with its requests (another person than
   * `env.client`, whose runs it may approve under four eyes).
   */
  as(identity: string): Client;
  close(): Promise<void>;
}

export async function createHarness(simOptions: SimulatorOptions = {}): Promise<Harness> {
  const env = await TestWorkflowEnvironment.createFromExistingServer({
    address: inject('temporalAddress'),
    namespace: inject('temporalNamespace'),
  });
  const sim = await startSimulator({ jobSeconds: 1, ...simOptions });
  const taskQueue = `test-${randomUUID()}`;
  const worker = (activities: ActivitiesOptions = {}) =>
    Worker.create({
      connection: env.nativeConnection,
      namespace: inject('temporalNamespace'),
      taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      activities: createActivities({ pollIntervalMs: 100, busyRetryDelayMs: 100, ...activities }),
      maxHeartbeatThrottleInterval: '1 second',
    });
  return {
    env,
    sim,
    taskQueue,
    worker,
    as: (identity) => new Client({ connection: env.connection, namespace: inject('temporalNamespace'), identity }),
    async withWorker(fn, activities = {}) {
      return (await worker(activities)).runUntil(fn);
    },
    async close() {
      // Appliance leases still idling end cleanly (COMPLETED): a worker runs their last task.
      const leases = env.client.workflow.list({
        query: `TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running" AND WorkflowType = "applianceLease"`,
      });
      let idling = false;
      for await (const _ of leases) {
        idling = true;
        break;
      }
      const end = (workerPolling: boolean) =>
        endTaskQueueWorkflows(env.client, taskQueue, 'the test that started it ended', { workerPolling });
      if (idling) await (await worker()).runUntil(() => end(true));
      else await end(false);
      await sim.close();
      await env.teardown();
    },
  };
}
