/**
 * The benchmark's retry-as-poll worker: a workflow inbound interceptor that runs every step
 * workflow with `pollMode: 'retry'` (as a runbook-level `pollMode: retry` would pass it down),
 * so the real `drRunbook` and step workflows are measured in that mode. Bundled only into the
 * retry-as-poll worker's bundle. Workflow interceptors:
 * https://docs.temporal.io/develop/typescript/interceptors
 */
import { type WorkflowInterceptorsFactory, workflowInfo } from '@temporalio/workflow';

const STEP_WORKFLOWS = new Set([
  'vcenterBackupStep',
  'vcenterRestoreStep',
  'sddcManagerBackupStep',
  'sddcManagerRestoreStep',
  'vcdaBackupStep',
]);

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      execute: (input, next) => {
        const [first, ...rest] = input.args;
        if (!STEP_WORKFLOWS.has(workflowInfo().workflowType) || !first || typeof first !== 'object') return next(input);
        return next({ ...input, args: [{ ...(first as object), pollMode: 'retry' }, ...rest] });
      },
    },
  ],
});
