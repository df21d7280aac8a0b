/**
 * Records the histories of real runs of every workflow (dev server + simulator + worker) into
 * test/fixtures/histories/<workflow-id>.json, for the replay test. Run `npm run record-history`
 * after a workflow change, keep the histories of the shape before it (renamed, e.g.
 * `vcenter-backup-before-lease.json`) so they keep replaying through `patched()`, and commit both.
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
import type { SddcManagerBackupInput, VcdaBackupInput, VcenterBackupInput } from '../../workflows';
import { Secret } from '../../src/secrets';
import { SddcManagerClient } from '../../src/sddc-manager/client';
import { createDispatcher } from '../../src/tls';

async function main(): Promise<void> {
  const source = await resolveTemporalServer({ env: { ...process.env, TEMPORAL_ADDRESS: '' } });
  if (source.kind !== 'binary')
    throw new Error('recording needs the temporal CLI binary (it writes the canonical history JSON)');
  const server = await startDevServer({ source, log: (l) => console.error(l) });
  const sim = await startSimulator({ vcenters: 1, sddcManagers: 1, vcdas: 1, jobSeconds: 2 });
  try {
    const vc = sim.info.vcenter[0]!;
    const sddc = sim.info.sddcManager[0]!;
    const vcda = sim.info.vcda[0]!;
    process.env.RECORD_VC_PASSWORD = vc.password;
    process.env.RECORD_SDDC_PASSWORD = sddc.password;
    process.env.RECORD_VCDA_PASSWORD = vcda.password;
    const tls = { caFile: sim.info.caFile! };
    await new SddcManagerClient({
      url: sddc.url,
      dispatcher: createDispatcher({ tls }),
      credentials: async () => ({ username: sddc.username, password: new Secret(sddc.password) }),
    }).setBackupConfiguration({
      backupLocations: [
        {
          server: 'sftp.example.com',
          port: 22,
          protocol: 'SFTP',
          username: 'backup',
          password: 'recorded',
          directoryPath: '/backups',
          sshFingerprint: 'SHA256:abc',
        },
      ],
      encryption: { passphrase: 'passphrase-for-recording' },
    });
    const native = await NativeConnection.connect({ address: server.address });
    const taskQueue = 'record-history';
    const worker = await createWorker({
      connection: native,
      namespace: server.namespace,
      taskQueue,
      activities: { pollIntervalMs: 200 },
    });
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: server.namespace });
    const runs: [workflow: string, workflowId: string, input: unknown][] = [
      [
        'vcenterBackup',
        'vcenter-backup',
        {
          endpoint: { name: 'vc-1', url: vc.url, username: vc.username, passwordRef: 'env:RECORD_VC_PASSWORD', tls },
          backup: { locationType: 'SFTP', location: 'sftp://backup.example.com/vc-1', comment: 'recorded' },
          pollIntervalMs: 200,
        } satisfies VcenterBackupInput,
      ],
      [
        'sddcManagerBackup',
        'sddc-manager-backup',
        {
          endpoint: {
            name: 'sddc-1',
            url: sddc.url,
            username: sddc.username,
            passwordRef: 'env:RECORD_SDDC_PASSWORD',
            tls,
          },
          pollIntervalMs: 200,
        } satisfies SddcManagerBackupInput,
      ],
      [
        'vcdaBackup',
        'vcda-backup',
        {
          endpoint: {
            name: 'vcda-1',
            url: vcda.url,
            username: vcda.username,
            passwordRef: 'env:RECORD_VCDA_PASSWORD',
            tls,
          },
          pollIntervalMs: 200,
        } satisfies VcdaBackupInput,
      ],
    ];
    await worker.runUntil(async () => {
      for (const [workflow, workflowId, input] of runs) {
        const handle = await client.workflow.start(workflow, { taskQueue, workflowId, args: [input] });
        await handle.result();
        // The CLI writes the canonical proto3 JSON that `historyFromJSON` and the UI read.
        const { stdout } = await promisify(execFile)(
          source.path,
          [
            'workflow',
            'show',
            '--address',
            server.address,
            '--namespace',
            server.namespace,
            '--workflow-id',
            workflowId,
            '--output',
            'json',
          ],
          { maxBuffer: 64 * 1024 * 1024 },
        );
        const history = JSON.parse(stdout) as { events: unknown[] };
        const out = join(__dirname, '..', 'fixtures', 'histories', `${workflowId}.json`);
        await writeFile(out, `${JSON.stringify(history, null, 2)}\n`);
        console.error(`wrote ${out} (${history.events.length} events)`);
      }
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
