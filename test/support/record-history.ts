/**
 * Records the history of one real `vcenterBackup` run (dev server + simulator + worker) into
 * test/fixtures/histories/, for the replay test. Run `npm run record-history` after a workflow
 * change that is meant to be incompatible, and commit the result with the change.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { NativeConnection } from '@temporalio/worker';
import { startSimulator } from '../../src/simulator/server';
import { startDevServer } from '../../src/temporal/dev-server';
import { resolveTemporalServer } from '../../src/temporal/resolve-cli';
import { createWorker } from '../../worker';
import type { VcenterBackupInput } from '../../workflows';

async function main(): Promise<void> {
  const source = await resolveTemporalServer({ env: { ...process.env, TEMPORAL_ADDRESS: '' } });
  if (source.kind !== 'binary') throw new Error('recording needs the temporal CLI binary (it writes the canonical history JSON)');
  const server = await startDevServer({ source, log: (l) => console.error(l) });
  const sim = await startSimulator({ vcenters: 1, jobSeconds: 2 });
  try {
    const vc = sim.info.vcenter[0]!;
    process.env.RECORD_VC_PASSWORD = vc.password;
    const native = await NativeConnection.connect({ address: server.address });
    const taskQueue = 'record-history';
    const worker = await createWorker({ connection: native, namespace: server.namespace, taskQueue, activities: { pollIntervalMs: 200 } });
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: server.namespace });
    const input: VcenterBackupInput = {
      endpoint: { name: 'vc-1', url: vc.url, username: vc.username, passwordRef: 'env:RECORD_VC_PASSWORD', tls: { caFile: vc.caFile } },
      backup: { locationType: 'SFTP', location: 'sftp://backup.example.com/vc-1', comment: 'recorded' },
      pollIntervalMs: 200,
    };
    const workflowId = 'recorded-vcenter-backup';
    await worker.runUntil(async () => {
      const handle = await client.workflow.start('vcenterBackup', { taskQueue, workflowId, args: [input] });
      await handle.result();
      // The CLI writes the canonical proto3 JSON that `historyFromJSON` and the UI read.
      const { stdout } = await promisify(execFile)(source.path, ['workflow', 'show', '--address', server.address, '--namespace', server.namespace, '--workflow-id', workflowId, '--output', 'json'], { maxBuffer: 64 * 1024 * 1024 });
      const history = JSON.parse(stdout) as { events: unknown[] };
      const out = join(__dirname, '..', 'fixtures', 'histories', 'vcenter-backup.json');
      await writeFile(out, `${JSON.stringify(history, null, 2)}\n`);
      console.error(`wrote ${out} (${history.events.length} events)`);
    });
    await connection.close();
    await native.close();
  } finally {
    await sim.close();
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
