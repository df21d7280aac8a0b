/**
 * The simulated SDDC Manager's tasks: their kinds and steps, status spelling helpers, the backup
 * file name, and the `GET /v1/tasks` query (the filters, order and paging VMware's bindings
 * declare for `Tasks.get_tasks`) as pure functions over task rows. The task board
 * (`task-board.ts`) owns the tasks, their progress and their rendering.
 */
import { MAX_TASK_PAGE_SIZE, type TaskStatus, normaliseTaskStatus } from '../../sddc-manager/schemas';
import { SddcFault } from './errors';

export function titleCase(status: string): string {
  return status
    .split('_')
    .map((w) => w.charAt(0) + w.slice(1).toLowerCase())
    .join(' ');
}

export type TaskKind = 'backup' | 'restore' | 'configuration';

export interface Step {
  name: string;
  description: string;
  type: string;
  /** Nested subtasks (`SubTask.subTasks`). */
  children?: readonly Step[];
}

export interface SimTask {
  id: string;
  seq: number;
  kind: TaskKind;
  type: string;
  name: string;
  createdMs: number;
  startMs: number;
  durationMs: number;
  steps: readonly Step[];
  /** Failure message: the task ends FAILED. */
  fail?: string;
  cancelledMs?: number;
  retries: number;
  /** Polls of `GET /v1/restores/tasks/{id}` still to answer 503. */
  unavailablePolls: number;
  backupFile?: string;
}

export const BACKUP_STEPS: readonly Step[] = [
  {
    name: 'Validate backup configuration',
    description: 'Validate the backup location and encryption settings',
    type: 'SDDCMANAGER_BACKUP_VALIDATE',
  },
  {
    name: 'Back up SDDC Manager database',
    description: 'Dump the SDDC Manager database',
    type: 'SDDCMANAGER_BACKUP_DATABASE',
  },
  {
    name: 'Back up SDDC Manager configuration',
    description: 'Archive the SDDC Manager configuration',
    type: 'SDDCMANAGER_BACKUP_CONFIGURATION',
  },
  {
    name: 'Transfer backup',
    description: 'Encrypt the backup and upload it to the SFTP server',
    type: 'SDDCMANAGER_BACKUP_TRANSFER',
    children: [
      {
        name: 'Encrypt backup',
        description: 'Encrypt the backup archive with the passphrase',
        type: 'SDDCMANAGER_BACKUP_ENCRYPT',
      },
      {
        name: 'Upload backup',
        description: 'Upload the encrypted archive to the SFTP server',
        type: 'SDDCMANAGER_BACKUP_UPLOAD',
      },
    ],
  },
];
/** The restore steps of the progress file VMware's instance-recovery module reads (`reference-files/new_restore_status.json`). */
export const RESTORE_STEPS: readonly Step[] = [
  'ExtractSDDCManagerBackup',
  'StopSDDCManagerServices',
  'RestoreSDDCManagerConfiguration',
  'RestoreSDDCManagerDatabase',
  'StartSDDCManagerServices',
  'RestoreSDDCSystemConfiguration',
  'PostRestoreRemediation',
  'UnquiesceSystem',
].map((name) => ({
  name,
  description: name.replace(/([a-z])([A-Z])/g, '$1 $2').replace('SDDCManager', 'SDDC Manager '),
  type: `SDDCMANAGER_RESTORE_${name.toUpperCase()}`,
}));
export const CONFIGURATION_STEPS: readonly Step[] = [
  {
    name: 'Validate backup location',
    description: 'Connect to the SFTP server and check the directory is writable',
    type: 'BACKUP_CONFIGURATION_VALIDATE',
  },
  {
    name: 'Save backup configuration',
    description: 'Store the backup configuration',
    type: 'BACKUP_CONFIGURATION_SAVE',
  },
];

/** `vcf-backup-<fqdn-with-dashes>-YYYY-MM-DD-HH-MM-SS.tar.gz`, the name in VMware's restore examples. */
export function backupFileName(fqdn: string, ms: number): string {
  const stamp = new Date(ms).toISOString().slice(0, 19).replace(/[T:]/g, '-');
  return `vcf-backup-${fqdn.replace(/\./g, '-')}-${stamp}.tar.gz`;
}

/** A task with its current state, as the list query sees it. */
export interface TaskRow {
  t: SimTask;
  status: TaskStatus;
  endMs?: number;
}

/** `GET /v1/tasks` query parameters, read and checked. */
export interface TaskListQuery {
  limit?: number;
  completedAfter?: number;
  pageNumber: number;
  pageSize?: number;
  orderBy: 'creationTimestamp' | 'completionTimestamp' | 'name';
  direction: 'ASC' | 'DESC';
  status?: TaskStatus;
  type?: string;
  resourceId?: string;
  resourceType?: string;
  /** Lower case. */
  name?: string;
}

const ORDER_BY = ['creationTimestamp', 'completionTimestamp', 'name'] as const;

/** A non-negative integer query parameter, or undefined; 400 for anything else. */
function intParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new SddcFault(
      400,
      'VALIDATION_FAILED',
      `Invalid parameter ${name}: ${raw}.`,
      `Send ${name} as a non-negative integer.`,
    );
  return n;
}

/** Reads the query; 400 `VALIDATION_FAILED` for a bad value (pageSize above 100 included). */
export function parseTaskListQuery(q: URLSearchParams): TaskListQuery {
  const pageSize = intParam(q, 'pageSize');
  if (pageSize !== undefined && (pageSize < 1 || pageSize > MAX_TASK_PAGE_SIZE)) {
    throw new SddcFault(
      400,
      'VALIDATION_FAILED',
      `Invalid parameter pageSize: ${pageSize}. Max page size allowed is ${MAX_TASK_PAGE_SIZE}.`,
      `Send a pageSize between 1 and ${MAX_TASK_PAGE_SIZE}.`,
    );
  }
  const orderBy = q.get('orderBy') || 'creationTimestamp';
  if (!(ORDER_BY as readonly string[]).includes(orderBy)) {
    throw new SddcFault(
      400,
      'VALIDATION_FAILED',
      `Invalid parameter orderBy: ${orderBy}.`,
      'Order by creationTimestamp, completionTimestamp or name.',
    );
  }
  const direction = (q.get('orderDirection') || 'DESC').toUpperCase();
  if (direction !== 'ASC' && direction !== 'DESC')
    throw new SddcFault(
      400,
      'VALIDATION_FAILED',
      `Invalid parameter orderDirection: ${direction}.`,
      'Send ASC or DESC.',
    );
  let status: TaskStatus | undefined;
  const rawStatus = q.get('taskStatus');
  if (rawStatus) {
    try {
      status = normaliseTaskStatus(rawStatus);
    } catch {
      throw new SddcFault(
        400,
        'VALIDATION_FAILED',
        `Invalid parameter taskStatus: ${rawStatus}.`,
        'Send a task status such as IN_PROGRESS or FAILED.',
      );
    }
  }
  return {
    limit: intParam(q, 'limit'),
    completedAfter: intParam(q, 'completedAfter'),
    pageNumber: intParam(q, 'pageNumber') ?? 0,
    pageSize,
    orderBy: orderBy as TaskListQuery['orderBy'],
    direction,
    status,
    type: q.get('taskType') || undefined,
    resourceId: q.get('resourceId') || undefined,
    resourceType: q.get('resourceType') || undefined,
    name: q.get('taskName')?.toLowerCase() || undefined,
  };
}

/**
 * Filters, orders and pages the rows. `resources` are the resources every task touches (one
 * SDDC Manager here). completedAfter keeps SUCCESSFUL or FAILED tasks that ended after it (the
 * bindings: "A task is completed if its status is 'Successful' or 'Failed'").
 */
export function selectTasks(all: TaskRow[], q: TaskListQuery, resources: { resourceId: string; type: string }[]) {
  const rows = all
    .filter(({ t }) => !q.type || t.type === q.type)
    .filter(({ status }) => !q.status || status === q.status)
    .filter(() => !q.resourceId || resources.some((r) => r.resourceId === q.resourceId))
    .filter(() => !q.resourceType || resources.some((r) => r.type === q.resourceType))
    .filter(({ t }) => !q.name || t.name.toLowerCase().includes(q.name))
    .filter(
      ({ status, endMs }) =>
        q.completedAfter === undefined ||
        ((status === 'SUCCESSFUL' || status === 'FAILED') && endMs !== undefined && endMs > q.completedAfter),
    );
  const key = (r: TaskRow): number | string =>
    q.orderBy === 'name'
      ? r.t.name
      : q.orderBy === 'completionTimestamp'
        ? (r.endMs ?? Number.MAX_SAFE_INTEGER)
        : r.t.createdMs;
  rows.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    const c = ka < kb ? -1 : ka > kb ? 1 : a.t.seq - b.t.seq;
    return q.direction === 'ASC' ? c : -c;
  });
  const size = q.pageSize ?? Math.max(1, rows.length);
  let page = rows.slice(q.pageNumber * size, (q.pageNumber + 1) * size);
  if (q.limit !== undefined) page = page.slice(0, q.limit);
  return {
    page,
    pageMetadata: {
      pageNumber: q.pageNumber,
      pageSize: size,
      totalElements: rows.length,
      totalPages: Math.ceil(rows.length / size),
    },
  };
}
