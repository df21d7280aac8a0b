/**
 * Reconciliation of the simulated vCenter after a restore: the job that reconciles a restored
 * appliance with its Enhanced Linked Mode domain. Possible only once a restore completed; it runs
 * over `jobSeconds` like the other jobs, and fails when the SSO credentials it is given are wrong.
 */
import type { ReconciliationCreateSpec, ReconciliationJobInfo } from '../../vcenter/schemas';
import { VapiFault } from './errors';
import { currentStage } from './job-states';
import { type VcenterState, jobId, msg } from './model';

export class Reconciliation {
  constructor(private readonly state: VcenterState) {}

  info(): ReconciliationJobInfo {
    if (this.state.restoredAtMs === undefined) {
      throw new VapiFault(
        'NOT_FOUND',
        'No reconciliation job: this appliance was not restored.',
        'com.vmware.applmgmt.err_reconciliation_not_found',
      );
    }
    const base = {
      description: msg(
        'com.vmware.applmgmt.reconciliation.job.description',
        'Reconcile the restored appliance with its domain.',
      ),
      service: 'com.vmware.applmgmt.reconciliation_job',
      operation: 'create',
      cancelable: false,
    };
    const job = this.state.reconciliation;
    if (!job) return { ...base, status: 'NONE', messages: [], progress: 0 };
    const total = this.state.total();
    const elapsed = this.state.ctx.now() - job.startMs;
    const started = msg('com.vmware.applmgmt.reconciliation.job.started', 'Reconciliation started.');
    const common = { ...base, start_time: new Date(job.startMs).toISOString() };
    if (elapsed < total)
      return { ...common, status: 'RUNNING', progress: Math.floor((100 * elapsed) / total), messages: [started] };
    const end_time = new Date(job.startMs + total).toISOString();
    if (job.fail)
      return {
        ...common,
        status: 'FAILED',
        progress: 100,
        end_time,
        error: job.fail,
        messages: [started, msg('com.vmware.applmgmt.reconciliation.job.failed', job.fail)],
      };
    return {
      ...common,
      status: 'SUCCEEDED',
      progress: 100,
      end_time,
      messages: [
        started,
        msg('com.vmware.applmgmt.reconciliation.job.succeeded', 'Reconciliation completed successfully.'),
      ],
    };
  }

  create(spec: ReconciliationCreateSpec): ReconciliationJobInfo {
    const { state } = this;
    if (currentStage(state) !== 'running' || state.restoredAtMs === undefined) {
      throw new VapiFault(
        'NOT_ALLOWED_IN_CURRENT_STATE',
        'Reconciliation runs only on an appliance that completed a restore.',
        'com.vmware.applmgmt.err_reconciliation_not_allowed',
      );
    }
    if (state.reconciliation && this.info().status === 'RUNNING') {
      throw new VapiFault(
        'FEATURE_IN_USE',
        'A reconciliation is already in progress.',
        'com.vmware.applmgmt.err_reconciliation_in_progress',
      );
    }
    if ((spec.sso_admin_user_name === undefined) !== (spec.sso_admin_user_password === undefined)) {
      throw new VapiFault('INVALID_ARGUMENT', 'sso_admin_user_name and sso_admin_user_password go together.');
    }
    const wrongSso =
      spec.sso_admin_user_name !== undefined &&
      (spec.sso_admin_user_name !== state.self.username || spec.sso_admin_user_password !== state.self.password);
    const start = state.ctx.now();
    state.reconciliation = {
      startMs: start,
      fail: wrongSso ? 'SSO authentication failed for the administrator.' : state.takeJobFailure(),
    };
    state.ctx.recordJob({
      product: 'vcenter',
      appliance: state.self.name,
      kind: 'reconciliation',
      id: `reconciliation-${jobId(start)}`,
    });
    return this.info();
  }
}
