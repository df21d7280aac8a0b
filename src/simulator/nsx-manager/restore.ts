/**
 * The simulated NSX Manager's restore: a state machine over VMware's ClusterRestoreStatus (global
 * status INITIAL, RUNNING, SUSPENDED_BY_USER, SUSPENDED_FOR_USER_ACTION, SUCCESS, FAILED, ABORTED;
 * per-step status likewise) that walks its steps over `jobSeconds`, stops twice for the user
 * (confirm fabric nodes, confirm compute managers: `instructions[]` with fields, actions and listed
 * resources) and goes on when an advance answers them. The reference's rules, each a 409 otherwise:
 * start only when no restore is in progress; advance only a suspended restore (answering exactly
 * the current instructions); suspend only while RUNNING; cancel only while suspended; retry only
 * after FAILED. A FAILED restore still counts as in progress (the reference's retry is for "any
 * currently in-progress, failed restore operation").
 *
 * Invented [uncertain]: the step values and descriptions, the instruction names and actions, the
 * resources listed, and that a start on a Manager that is not freshly deployed is refused 409.
 */
import { randomUUID } from 'node:crypto';
import {
  AdvanceClusterRestoreRequest,
  type GlobalRestoreStatus,
  InitiateClusterRestoreRequest,
} from '../../nsx-manager/schemas';
import type { SimRequest, SimulatorContext } from '../types';
import type { StoredBackup } from './backups';
import { NsxFault, SIM_CODES, badBody } from './errors';

interface Resource {
  id: string;
  display_name: string;
  ip_address?: string;
  resource_type: string;
}

interface StepSpec {
  value: string;
  description: string;
  /** A step that stops for the user with this instruction. */
  instruction?: { name: string; fields: string[]; actions: string[]; resources: () => Resource[] };
}

const FABRIC_NODES = (): Resource[] =>
  [1, 2, 3].map((i) => ({
    id: randomUUID(),
    display_name: `esx-0${i}.sim.local`,
    ip_address: `10.0.0.1${i}`,
    resource_type: 'TransportNode',
  }));
const COMPUTE_MANAGERS = (): Resource[] => [
  { id: randomUUID(), display_name: 'vc-mgmt.sim.local', ip_address: '10.0.0.5', resource_type: 'ComputeManager' },
];

/** The restore's steps, in order. */
export const RESTORE_STEPS: readonly StepSpec[] = [
  { value: 'RESTORE_VALIDATE_BACKUP', description: 'Validating the backup' },
  { value: 'RESTORE_MANAGEMENT_PLANE', description: 'Restoring the management plane database' },
  {
    value: 'CONFIRM_FABRIC_NODES',
    description: 'Waiting for the user to confirm the fabric nodes',
    instruction: {
      name: 'Confirm fabric nodes',
      fields: ['display_name', 'ip_address', 'resource_type'],
      actions: ['Check that these fabric nodes are still in the fabric; remove any added after the backup'],
      resources: FABRIC_NODES,
    },
  },
  { value: 'RESTORE_FABRIC', description: 'Reconciling the fabric nodes' },
  {
    value: 'CONFIRM_COMPUTE_MANAGERS',
    description: 'Waiting for the user to confirm the compute managers',
    instruction: {
      name: 'Confirm compute managers',
      fields: ['display_name', 'ip_address', 'resource_type'],
      actions: ['Check that these compute managers are registered and reachable'],
      resources: COMPUTE_MANAGERS,
    },
  },
  { value: 'RESTORE_FINALIZE', description: 'Finishing the restore' },
];
const RUN_STEPS = RESTORE_STEPS.filter((s) => !s.instruction).length;

const IN_PROGRESS: readonly GlobalRestoreStatus[] = [
  'RUNNING',
  'SUSPENDED_BY_USER',
  'SUSPENDED_FOR_USER_ACTION',
  'FAILED',
];

interface Run {
  id: string;
  backupTimestamp: number;
  startMs: number;
  endMs?: number;
  index: number;
  stepStartMs: number;
  status: GlobalRestoreStatus;
  /** Elapsed time of the step when suspended by the user. */
  elapsedMs?: number;
  /** The current step's instruction (id and its resources), while SUSPENDED_FOR_USER_ACTION. */
  instruction?: { id: string; resources: Resource[] };
  failure?: string;
}

/** One Manager's restore. */
export class NsxRestore {
  private run?: Run;
  /** Set by a `jobFailed` fault: the next running step fails with this message. */
  failNext?: string;

  constructor(
    private readonly ctx: SimulatorContext,
    private readonly host: {
      applianceName(): string;
      /** Whether the Manager is freshly deployed and waiting for a restore. */
      waitingForRestore(): boolean;
      /** The backups on the configured server. */
      backups(): StoredBackup[];
      /** Called once when a restore succeeds. */
      restored(): void;
    },
  ) {}

  reset(): void {
    this.run = undefined;
  }

  private get stepMs(): number {
    return Math.max(1, (this.ctx.jobSeconds * 1000) / RUN_STEPS);
  }

  /** Walks the run forward to now. */
  private tick(): void {
    const run = this.run;
    while (run && run.status === 'RUNNING') {
      const step = RESTORE_STEPS[run.index] as StepSpec;
      if (step.instruction) {
        run.status = 'SUSPENDED_FOR_USER_ACTION';
        run.instruction = { id: randomUUID(), resources: step.instruction.resources() };
        return;
      }
      if (this.ctx.now() < run.stepStartMs + this.stepMs) return;
      if (this.failNext !== undefined) {
        run.status = 'FAILED';
        run.failure = this.failNext;
        this.failNext = undefined;
        return;
      }
      run.index += 1;
      run.stepStartMs += this.stepMs;
      if (run.index >= RESTORE_STEPS.length) {
        run.index = RESTORE_STEPS.length - 1;
        run.status = 'SUCCESS';
        run.endMs = this.ctx.now();
        this.host.restored();
      }
    }
  }

  private refuse(action: string, why: string): NsxFault {
    return new NsxFault(
      409,
      SIM_CODES.restoreWrongState,
      `Restore action ${action} is not allowed: ${why}.`,
      `Allowed now: ${this.allowed().join(', ') || 'none'}.`,
    );
  }

  private allowed(): string[] {
    switch (this.run?.status) {
      case 'RUNNING':
        return ['suspend'];
      case 'SUSPENDED_BY_USER':
      case 'SUSPENDED_FOR_USER_ACTION':
        return ['advance', 'cancel'];
      case 'FAILED':
        return ['retry'];
      default:
        return this.host.waitingForRestore() ? ['start'] : [];
    }
  }

  status() {
    this.tick();
    const run = this.run;
    const allowed = this.allowed();
    const base = {
      total_steps: RESTORE_STEPS.length,
      endpoints: allowed.map((a) => ({ rel: a, href: `/api/v1/cluster/restore?action=${a}`, action: 'POST' })),
      allowed_actions: allowed,
      not_allowed_actions: run && IN_PROGRESS.includes(run.status) ? ['VC_UPDATES'] : [],
    };
    if (!run) return { ...base, status: { value: 'INITIAL', description: 'No restore has been started' } };
    const step = RESTORE_STEPS[run.index] as StepSpec;
    const stepStatus = run.status === 'ABORTED' ? 'FAILED' : run.status;
    const instruction = run.status === 'SUSPENDED_FOR_USER_ACTION' && run.instruction && step.instruction;
    return {
      ...base,
      id: run.id,
      backup_timestamp: run.backupTimestamp,
      restore_start_time: run.startMs,
      ...(run.endMs !== undefined ? { restore_end_time: run.endMs } : {}),
      step: {
        step_number: run.index + 1,
        value: step.value,
        description: step.description,
        status: { value: stepStatus, description: run.failure ?? step.description },
      },
      status: { value: run.status, description: run.status === 'FAILED' ? run.failure : run.status },
      instructions:
        instruction && run.instruction
          ? [
              {
                id: run.instruction.id,
                name: instruction.name,
                fields: instruction.fields,
                actions: instruction.actions,
              },
            ]
          : [],
    };
  }

  start(req: SimRequest) {
    this.tick();
    const parsed = InitiateClusterRestoreRequest.safeParse(req.body);
    if (!parsed.success) throw badBody(parsed.error);
    if (this.run && IN_PROGRESS.includes(this.run.status))
      throw this.refuse('start', `restore ${this.run.id} is in progress (${this.run.status})`);
    if (!this.host.waitingForRestore())
      throw this.refuse('start', 'this Manager is not freshly deployed; restore onto a newly deployed Manager');
    const { node_id, timestamp } = parsed.data;
    const backup = this.host.backups().find((b) => b.nodeId === node_id && b.timestamp === timestamp);
    if (!backup)
      throw new NsxFault(
        400,
        SIM_CODES.restoreNoBackup,
        `No backup of node ${node_id} at ${timestamp} on the configured backup server.`,
        'List them with GET /api/v1/cluster/restore/backuptimestamps.',
      );
    const now = this.ctx.now();
    this.run = {
      id: randomUUID(),
      backupTimestamp: timestamp,
      startMs: now,
      index: 0,
      stepStartMs: now,
      status: 'RUNNING',
    };
    this.ctx.recordJob({
      product: 'nsx-manager',
      appliance: this.host.applianceName(),
      kind: 'restore',
      id: this.run.id,
    });
    return this.status();
  }

  advance(req: SimRequest) {
    this.tick();
    const parsed = AdvanceClusterRestoreRequest.safeParse(req.body);
    if (!parsed.success) throw badBody(parsed.error);
    const run = this.run;
    if (!run || (run.status !== 'SUSPENDED_FOR_USER_ACTION' && run.status !== 'SUSPENDED_BY_USER'))
      throw this.refuse('advance', `the restore is ${run?.status ?? 'not started'}, not suspended`);
    const data = parsed.data.data;
    if (run.status === 'SUSPENDED_FOR_USER_ACTION' && run.instruction) {
      const current = run.instruction;
      const answered = data.map((d) => d.id);
      if (answered.length !== 1 || answered[0] !== current.id)
        throw this.refuse(
          'advance',
          `answer exactly the current instruction ${current.id} (got ${answered.join(', ') || 'none'})`,
        );
      const known = new Set(current.resources.map((r) => r.id));
      const stranger = (data[0]?.resources ?? []).find((r) => !known.has(r.target_id));
      if (stranger)
        throw new NsxFault(
          400,
          SIM_CODES.restoreBadInstruction,
          `Resource ${stranger.target_id} is not listed by instruction ${current.id}.`,
        );
      run.index += 1;
      run.stepStartMs = this.ctx.now();
      run.instruction = undefined;
    } else {
      if (data.length) throw this.refuse('advance', 'a restore suspended by the user has no instructions to answer');
      run.stepStartMs = this.ctx.now() - (run.elapsedMs ?? 0);
    }
    run.status = 'RUNNING';
    run.elapsedMs = undefined;
    return this.status();
  }

  suspend() {
    this.tick();
    const run = this.run;
    if (!run || run.status !== 'RUNNING')
      throw this.refuse('suspend', `the restore is ${run?.status ?? 'not started'}, not RUNNING`);
    run.status = 'SUSPENDED_BY_USER';
    run.elapsedMs = this.ctx.now() - run.stepStartMs;
    return this.status();
  }

  cancel() {
    this.tick();
    const run = this.run;
    if (!run || (run.status !== 'SUSPENDED_BY_USER' && run.status !== 'SUSPENDED_FOR_USER_ACTION'))
      throw this.refuse('cancel', `the restore is ${run?.status ?? 'not started'}, not suspended`);
    run.status = 'ABORTED';
    run.endMs = this.ctx.now();
    run.instruction = undefined;
    return this.status();
  }

  retry() {
    this.tick();
    const run = this.run;
    if (!run || run.status !== 'FAILED')
      throw this.refuse('retry', `the restore is ${run?.status ?? 'not started'}, not FAILED`);
    run.status = 'RUNNING';
    run.failure = undefined;
    run.stepStartMs = this.ctx.now();
    return this.status();
  }

  /** `instruction-resources`: the resources the current instruction lists. */
  resources(req: SimRequest) {
    this.tick();
    const id = req.query.get('instruction_id');
    const current = this.run?.instruction;
    if (!current || id !== current.id)
      throw new NsxFault(404, SIM_CODES.notFound, `Instruction ${id ?? '(none)'} is not pending.`);
    return { results: current.resources, result_count: current.resources.length };
  }
}
