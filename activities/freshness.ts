/**
 * `readLastBackup`: the newest backup runs of one endpoint, read from the product's own history
 * (vCenter backup job details, SDDC Manager SDDCMANAGER_BACKUP tasks, VCDA backups and backup
 * tasks). Read only: GET requests after the login, nothing is started, changed or deleted.
 */
import { Context } from '@temporalio/activity';
import type { SddcManagerEndpoint, VcdaEndpoint, VcenterEndpoint } from '../src/contract/endpoints';
import {
  type BackupAttempt,
  type BackupOutcome,
  type LastBackupReading,
  summariseAttempts,
} from '../src/contract/freshness';
import type { TaskStatus } from '../src/sddc-manager/schemas';
import { normaliseTaskState } from '../src/vcda/schemas';
import type { ClientPool } from './clients';
import type { ResolvedActivitiesOptions } from './options';
import { SDDC_BACKUP_TASK_TYPE } from './sddc-manager';
import { CLOCK_SKEW_MS, asActivity } from './step';

export type ReadLastBackupInput = { endpointKey: string } & (
  | { product: 'vcenter'; endpoint: VcenterEndpoint }
  | { product: 'sddc-manager'; endpoint: SddcManagerEndpoint }
  | { product: 'vcda'; endpoint: VcdaEndpoint }
);

/** vCenter backup job types that are file-based backups to a location (not 9.0's LOCAL_BACKUP). */
const VCENTER_BACKUP_TYPES = new Set(['MANUAL', 'SCHEDULED']);
/** SDDC Manager page size: the bindings' maximum, newest first. */
const SDDC_PAGE_SIZE = 100;
/** How far back VCDA tasks are listed when the appliance has no backup at all. */
const VCDA_TASK_LOOKBACK_MS = 30 * 86_400_000;

const vcenterOutcome = (status: string): BackupOutcome =>
  status === 'SUCCEEDED' ? 'succeeded' : status === 'FAILED' ? 'failed' : 'running';

/** SUCCESSFUL and COMPLETED_WITH_WARNING produced a backup; CANCELLED and SKIPPED did neither. */
const sddcOutcome = (status: TaskStatus): BackupOutcome =>
  status === 'SUCCESSFUL' || status === 'COMPLETED_WITH_WARNING'
    ? 'succeeded'
    : status === 'FAILED'
      ? 'failed'
      : status === 'PENDING' || status === 'IN_PROGRESS'
        ? 'running'
        : 'other';

const vcdaOutcome = (state: string): BackupOutcome => {
  try {
    const s = normaliseTaskState(state);
    return s === 'SUCCEEDED' ? 'succeeded' : s === 'FAILED' ? 'failed' : s === 'CANCELED' ? 'other' : 'running';
  } catch {
    return 'other';
  }
};

const iso = (ms: number) => new Date(ms).toISOString();

export function createFreshnessActivities(pool: ClientPool, opts: ResolvedActivitiesOptions) {
  return {
    /** The newest successful and failed backup runs of one endpoint, and its newest run. Read only. */
    async readLastBackup(input: ReadLastBackupInput): Promise<LastBackupReading> {
      return asActivity(opts, async () => {
        const signal = Context.current().cancellationSignal;
        const base = { endpoint: input.endpointKey, product: input.product };
        switch (input.product) {
          case 'vcenter': {
            const client = pool.vcenter(input.endpoint);
            const details = Object.values(await client.backupJobDetails(undefined, signal)).filter((d) =>
              VCENTER_BACKUP_TYPES.has(d.type),
            );
            const attempts: BackupAttempt[] = details.flatMap((d) =>
              d.start_time ? [{ at: d.start_time, status: d.status, outcome: vcenterOutcome(d.status) }] : [],
            );
            return { ...base, ...summariseAttempts(attempts), source: `${details.length} backup jobs` };
          }
          case 'sddc-manager': {
            const client = pool.sddcManager(input.endpoint);
            // Newest first [uncertain: orderBy/orderDirection values are undeclared in the bindings;
            // sorted again here, so an appliance that ignores them can only hide tasks past one page].
            const tasks = await client.listTasks(
              {
                type: SDDC_BACKUP_TASK_TYPE,
                orderBy: 'creationTimestamp',
                orderDirection: 'DESC',
                pageSize: SDDC_PAGE_SIZE,
              },
              signal,
            );
            const attempts: BackupAttempt[] = tasks.flatMap((t) =>
              t.creationTimestamp
                ? [{ at: t.creationTimestamp, status: t.status, outcome: sddcOutcome(t.status) }]
                : [],
            );
            return {
              ...base,
              ...summariseAttempts(attempts),
              source: `${tasks.length} ${SDDC_BACKUP_TASK_TYPE} tasks`,
            };
          }
          case 'vcda': {
            const client = pool.vcda(input.endpoint);
            const backups = await client.listBackups({ signal });
            const newest = Math.max(...backups.map((b) => b.generatedOn), Number.NEGATIVE_INFINITY);
            const since = Number.isFinite(newest) ? newest - CLOCK_SKEW_MS : Date.now() - VCDA_TASK_LOOKBACK_MS;
            // Backup tasks: result type BackupInfo once done, none otherwise [uncertain, as in
            // startVcdaBackup: VCDA's public task model names no task kind, so a failed task of
            // another kind started after the newest backup reads as a failed backup run].
            const tasks = (await client.listTasks({ since, signal })).items.filter(
              (t) => t.resultType === 'BackupInfo' || t.resultType == null,
            );
            const taskAttempts: BackupAttempt[] = tasks.flatMap((t) =>
              t.startTime != null ? [{ at: iso(t.startTime), status: t.state, outcome: vcdaOutcome(t.state) }] : [],
            );
            const all = summariseAttempts([
              ...backups.map((b) => ({ at: iso(b.generatedOn), status: 'AVAILABLE', outcome: 'succeeded' as const })),
              ...taskAttempts,
            ]);
            // The newest run is the newest task; a listed backup stands in only when no task is listed.
            const lastAttempt = summariseAttempts(taskAttempts).lastAttempt ?? all.lastAttempt;
            return {
              ...base,
              ...all,
              ...(lastAttempt && { lastAttempt }),
              source: `${backups.length} backups, ${tasks.length} backup tasks since the newest`,
            };
          }
        }
      });
    },
  };
}
