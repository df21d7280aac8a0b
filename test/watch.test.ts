/** Plain progress lines of a watched run (a pipe or a file): one per step state, each naming its step. Pure. */
import { describe, expect, it } from 'vitest';
import { plainProgress } from '../src/cli/watch';
import type { RunbookReport, StepReport } from '../src/contract/runbook/report';

const step = (over: Partial<StepReport>): StepReport => ({
  id: '1.1',
  stage: 'vcenters',
  action: 'backup',
  endpoint: 'vc-1',
  product: 'vcenter',
  state: 'pending',
  ...over,
});

const report = (steps: StepReport[]): RunbookReport => ({
  runbook: 'r',
  workflowId: 'wf-1',
  outcome: 'succeeded',
  dryRun: false,
  startedAt: '2026-01-01T00:00:00Z',
  steps,
  compensations: [],
  approvals: [],
});

describe('plainProgress', () => {
  it('writes one line per step state and one per new detail, each starting with the step id; never a repeat', () => {
    const lines: string[] = [];
    const show = plainProgress((t) => void lines.push(t));
    const snap = (steps: StepReport[], activities = new Map()) => show({ report: report(steps), activities });
    const other = step({ id: '2.1', endpoint: 'vc-2', stage: 'after' });
    snap([step({}), other]);
    snap([step({}), other]); // nothing changed
    snap([step({ state: 'running' }), other]);
    snap([step({ state: 'running', percent: 40 }), other]);
    snap([step({ state: 'running', percent: 40 }), other]); // the same again
    snap([step({ state: 'running', waiting: 'appliance busy (attempt 1)' }), other]);
    snap([step({ state: 'succeeded', remoteId: 'job-7' }), other]);
    snap([step({ state: 'succeeded', remoteId: 'job-7' }), step({ ...other, state: 'skipped' })]);
    expect(lines).toEqual([
      '1.1 backup vc-1 (vcenter, stage vcenters): pending\n',
      '2.1 backup vc-2 (vcenter, stage after): pending\n',
      '1.1 backup vc-1 (vcenter, stage vcenters): running\n',
      '1.1 40 %\n',
      '1.1 waiting: appliance busy (attempt 1)\n',
      '1.1 backup vc-1 (vcenter, stage vcenters): succeeded; remote job-7\n',
      '2.1 backup vc-2 (vcenter, stage after): skipped\n',
    ]);
  });

  it('a step waiting for approval says the command on its state line', () => {
    const lines: string[] = [];
    plainProgress((t) => void lines.push(t))({
      report: report([step({ action: 'restore', state: 'waiting-approval' })]),
      activities: new Map(),
    });
    expect(lines).toEqual([
      '1.1 restore vc-1 (vcenter, stage vcenters): waiting-approval; waiting for approval: vmware-dr approve wf-1 --step 1.1 --by <you> (or vmware-dr reject wf-1 --step 1.1 --by <you> --reason <why>)\n',
    ]);
  });
});
