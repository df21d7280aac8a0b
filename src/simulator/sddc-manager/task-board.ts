/**
 * The tasks of one simulated SDDC Manager: their creation (a `jobFailed` fault makes the next one
 * fail), their progress over time, the resource locks a running backup or restore holds, their
 * rendering as the bindings' `Task` (status spellings, subtasks and stages, errors), and the
 * generic task API (`GET /v1/tasks[/{id}]`, retry, cancel). The steps and the list query are in
 * `tasks.ts`.
 */
import { randomUUID } from 'node:crypto';
import type { SimRequest, SimResponse, SimulatorContext } from '../types';
import type { TaskStatus } from '../../sddc-manager/schemas';
import { DOCS_URL, SddcFault, sddcErrorBody } from './errors';
import { type SimTask, type Step, backupFileName, parseTaskListQuery, selectTasks, titleCase } from './tasks';

export class TaskBoard {
  readonly tasks = new Map<string, SimTask>();
  private seq = 0;
  /** Set by a `jobFailed` fault: the next task started or retried fails with this message. */
  nextJobFails?: string;

  constructor(
    private readonly ctx: SimulatorContext,
    private readonly fqdn: string,
    private readonly resourceId: string,
  ) {}

  /** Adds a task starting now, or at `startMs` (a task from before: no armed failure applies to it). */
  add(t: Pick<SimTask, 'kind' | 'type' | 'name' | 'steps' | 'durationMs'> & { startMs?: number }): SimTask {
    const { startMs, ...rest } = t;
    const start = startMs ?? this.ctx.now();
    const task: SimTask = {
      ...rest,
      id: randomUUID(),
      seq: ++this.seq,
      createdMs: start,
      startMs: start,
      retries: 0,
      unavailablePolls: 0,
    };
    if (startMs === undefined) {
      task.fail = this.nextJobFails;
      this.nextJobFails = undefined;
    }
    this.tasks.set(task.id, task);
    return task;
  }

  /** A task's status now, and when it ended. */
  private state(t: SimTask): { status: TaskStatus; endMs?: number } {
    if (t.cancelledMs !== undefined) return { status: 'CANCELLED', endMs: t.cancelledMs };
    const end = t.startMs + t.durationMs;
    if (this.ctx.now() < end) return { status: 'IN_PROGRESS' };
    return { status: t.fail ? 'FAILED' : 'SUCCESSFUL', endMs: end };
  }

  /** A backup or restore task holding the resource locks. */
  private lockHolder(): SimTask | undefined {
    for (const t of this.tasks.values())
      if (t.kind !== 'configuration' && this.state(t).status === 'IN_PROGRESS') return t;
    return undefined;
  }

  /** 400 `RESOURCE_LOCKED` while a backup/restore runs (the bindings declare only 400/500 for the starts). */
  checkLocks(what: string): void {
    const holder = this.lockHolder();
    if (holder) {
      throw new SddcFault(
        400,
        'RESOURCE_LOCKED',
        `Unable to ${what}: the resources are locked by task ${holder.name} (${holder.id}).`,
        'Wait for the running task to finish and try again.',
        [],
        {
          context: { lockedBy: holder.id },
          args: [holder.id],
        },
      );
    }
  }

  private taskError(t: SimTask, message: string) {
    const code =
      t.kind === 'backup'
        ? 'SDDCMANAGER_BACKUP_FAILED'
        : t.kind === 'restore'
          ? 'SDDCMANAGER_RESTORE_FAILED'
          : 'BACKUP_CONFIGURATION_FAILED';
    return {
      ...sddcErrorBody(code, message, {
        remediationMessage: 'Fix the cause, then retry the task (PATCH /v1/tasks/{id}).',
        remediationUrl: DOCS_URL,
        causes: [{ type: 'com.vmware.evo.sddc.orchestrator.exceptions.OrchProcessingException', message }],
        context: { taskId: t.id },
        args: [t.id],
      }),
      label:
        t.kind === 'restore' ? 'Restore failed' : t.kind === 'backup' ? 'Backup failed' : 'Backup configuration failed',
    };
  }

  private resources() {
    return [{ resourceId: this.resourceId, fqdn: this.fqdn, type: 'SDDC_MANAGER', name: this.fqdn, sans: [this.fqdn] }];
  }

  private renderStatus(t: SimTask, status: TaskStatus, mode: 'create' | 'read'): string {
    if (mode === 'create') return status;
    if (t.kind === 'restore') return status.replace(/_/g, ' ');
    return t.seq % 2 === 0 ? titleCase(status) : status;
  }

  private subTasks(t: SimTask, status: TaskStatus, endMs: number | undefined) {
    const k = t.steps.length;
    const window = t.durationMs / k;
    const at = endMs ?? this.ctx.now();
    const current = Math.min(k - 1, Math.floor((at - t.startMs) / window));
    return t.steps.map((step, i) => {
      const startMs = Math.round(t.startMs + i * window);
      const stepEnd = i === k - 1 ? t.startMs + t.durationMs : Math.round(t.startMs + (i + 1) * window);
      let st: TaskStatus;
      if (status === 'SUCCESSFUL') st = 'SUCCESSFUL';
      else if (status === 'FAILED') st = i < k - 1 ? 'SUCCESSFUL' : 'FAILED';
      else if (i < current) st = 'SUCCESSFUL';
      else if (i === current) st = status === 'CANCELLED' ? 'CANCELLED' : 'IN_PROGRESS';
      else st = 'PENDING';
      const started = st !== 'PENDING';
      const done = st !== 'PENDING' && st !== 'IN_PROGRESS';
      const doneMs = st === 'CANCELLED' ? (endMs ?? stepEnd) : stepEnd;
      const errors = st === 'FAILED' && t.fail ? [this.taskError(t, t.fail)] : [];
      let description = step.description;
      if (t.kind === 'backup' && i === k - 1 && st === 'SUCCESSFUL' && t.backupFile)
        description = `Backup file ${t.backupFile} transferred`;
      const times = {
        ...(started ? { creationTimestamp: new Date(startMs).toISOString() } : {}),
        ...(done ? { completionTimestamp: new Date(doneMs).toISOString() } : {}),
      };
      return {
        name: step.name,
        description,
        type: step.type,
        status: st,
        ...times,
        errors,
        resources: this.resources(),
        stages: [{ name: step.name, description, type: step.type, status: st, ...times, errors }],
        subTasks: (step.children ?? []).map((child, j, all) => this.childSubTask(child, st, j, all.length, times)),
        ...(st === 'FAILED'
          ? { documentationLink: { url: DOCS_URL, label: 'Troubleshooting backup and restore' } }
          : {}),
      };
    });
  }

  /** A nested subtask: the parent's status, spread over the children (first running, last failing). */
  private childSubTask(
    step: Step,
    parent: TaskStatus,
    j: number,
    n: number,
    times: { creationTimestamp?: string; completionTimestamp?: string },
  ) {
    let st: TaskStatus = parent;
    if (parent === 'IN_PROGRESS' || parent === 'CANCELLED') st = j === 0 ? parent : 'PENDING';
    else if (parent === 'FAILED') st = j === n - 1 ? 'FAILED' : 'SUCCESSFUL';
    const started = st !== 'PENDING';
    const done = started && st !== 'IN_PROGRESS';
    return {
      name: step.name,
      description: step.description,
      type: step.type,
      status: st,
      ...(started && times.creationTimestamp ? { creationTimestamp: times.creationTimestamp } : {}),
      ...(done && times.completionTimestamp ? { completionTimestamp: times.completionTimestamp } : {}),
      errors: [],
      resources: this.resources(),
      stages: [],
      subTasks: [],
    };
  }

  /** The full Task (bindings `model_client.Task`). */
  render(t: SimTask, mode: 'create' | 'read' = 'read') {
    const { status, endMs } = this.state(t);
    if (t.kind === 'backup' && status === 'SUCCESSFUL')
      t.backupFile ??= backupFileName(this.fqdn, t.startMs + t.durationMs);
    const resolutionStatus =
      status === 'FAILED' ? 'UNRESOLVED' : status === 'SUCCESSFUL' && t.retries > 0 ? 'RESOLVED' : undefined;
    return {
      id: t.id,
      name: t.name,
      localizableDescriptionPack: {
        component: 'com.vmware.vcf.backuprestore',
        messageKey: `${t.type.toLowerCase()}.task.name`,
        arguments: [this.fqdn],
        message: t.name,
        bundle: 'com.vmware.vcf.backuprestore.messages',
      },
      type: t.type,
      status: this.renderStatus(t, status, mode),
      creationTimestamp: new Date(t.createdMs).toISOString(),
      ...(endMs !== undefined ? { completionTimestamp: new Date(endMs).toISOString() } : {}),
      subTasks: this.subTasks(t, status, endMs),
      errors: status === 'FAILED' && t.fail ? [this.taskError(t, t.fail)] : [],
      resources: this.resources(),
      ...(resolutionStatus ? { resolutionStatus } : {}),
      isCancellable: t.kind === 'backup' && status === 'IN_PROGRESS',
      isRetryable: status === 'FAILED',
    };
  }

  get(id: string | undefined): SimTask {
    const t = id ? this.tasks.get(id) : undefined;
    if (!t) throw new SddcFault(404, 'TASK_NOT_FOUND', `Task not found: ${id}`, 'Check the task id.');
    return t;
  }

  /**
   * `PATCH /v1/tasks/{id}` → 200, no body (bindings `retry_task`: "Task was retried
   * successfully."); 409 "Only a failed Task can be retried". The task runs again from its first
   * subtask.
   */
  retry(req: SimRequest): SimResponse {
    const t = this.get(req.params.id);
    const { status } = this.state(t);
    if (status !== 'FAILED')
      throw new SddcFault(
        409,
        'TASK_NOT_RETRYABLE',
        `Task can not be retried. Only a failed Task can be retried. Task ${t.id} is ${status}.`,
        'Retry only failed tasks.',
      );
    if (t.kind !== 'configuration') this.checkLocks('retry the task');
    t.startMs = this.ctx.now();
    t.retries++;
    t.fail = this.nextJobFails;
    this.nextJobFails = undefined;
    return { status: 200 };
  }

  /** `DELETE /v1/tasks/{id}` → 200, no body; 409 "Only a IN_PROGRESS task can be cancelled" (bindings `cancel_task`). */
  cancel(req: SimRequest): SimResponse {
    const t = this.get(req.params.id);
    if (!this.render(t).isCancellable)
      throw new SddcFault(
        409,
        'TASK_NOT_CANCELLABLE',
        `Task can not be cancelled. Only a IN_PROGRESS task can be cancelled. Task ${t.id} is ${this.state(t).status}.`,
        'Only a running task whose isCancellable is true can be cancelled.',
      );
    t.cancelledMs = this.ctx.now();
    return { status: 200 };
  }

  /** `GET /v1/tasks` with the bindings' filters (see the file comment) → 200 PageOfTask. */
  list(req: SimRequest): SimResponse {
    const rows = [...this.tasks.values()].map((t) => ({ t, ...this.state(t) }));
    const { page, pageMetadata } = selectTasks(rows, parseTaskListQuery(req.query), this.resources());
    return { status: 200, body: { elements: page.map(({ t }) => this.render(t)), pageMetadata } };
  }
}
