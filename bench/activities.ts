/** The benchmark's own activity: one status read of a vCenter backup job (for the naive loop). */
import { ClientPool } from '../activities/clients';
import { resolveOptions } from '../activities/options';
import type { VcenterEndpoint } from '../src/contract/endpoints';

export function createBenchActivities() {
  const pool = new ClientPool(resolveOptions({}));
  return {
    /** One read of `GET /api/appliance/recovery/backup/job/{id}`: state and progress. */
    async readVcenterBackupState(input: {
      endpoint: VcenterEndpoint;
      jobId: string;
    }): Promise<{ state: string; progress?: number }> {
      const s = await pool.vcenter(input.endpoint).backupJobGet(input.jobId);
      return { state: s.state, progress: s.progress };
    },
  };
}

export type BenchActivities = ReturnType<typeof createBenchActivities>;
