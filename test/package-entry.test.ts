/**
 * Hosting this package in your own worker: everything comes from the published entry
 * (`require('vmware-dr-temporal')`, i.e. the built `dist/`), no deep imports.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type * as TemporalClient from '@temporalio/client';
import type * as TemporalWorker from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type * as Entry from '../src/index';

const root = join(__dirname, '..');
type Pkg = typeof Entry;

describe('the published entry', () => {
  let pkg: Pkg;
  let sim: Awaited<ReturnType<Pkg['startSimulator']>>;

  beforeAll(async () => {
    // Build exactly what `npm publish` would ship.
    await promisify(execFile)(
      process.execPath,
      [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')],
      { cwd: root },
    );
    const req = createRequire(join(root, 'package.json'));
    expect(req.resolve('vmware-dr-temporal')).toBe(join(root, 'dist', 'src', 'index.js'));
    pkg = req('vmware-dr-temporal') as Pkg;
    sim = await pkg.startSimulator({ vcenters: 1, jobSeconds: 1 });
  }, 180_000);
  afterAll(async () => sim?.close());

  it('exports the activity factory, worker helpers, workflows path, schemas and error classes', () => {
    expect(typeof pkg.createActivities).toBe('function');
    expect(typeof pkg.createWorker).toBe('function');
    expect(pkg.workflowsPath).toBe(join(root, 'dist', 'workflows', 'index.js'));
    expect(pkg.DEFAULT_TASK_QUEUE).toBe('vmware-dr');
    expect(new pkg.ResourceBusy('x', { product: 'vcenter', operation: 'o' })).toBeInstanceOf(pkg.VmwareApiError);
    expect(pkg.ERROR_TYPES).toContain('RemoteJobFailed');
    expect(Object.keys(pkg.createActivities({}))).toEqual(
      expect.arrayContaining([
        'startVcenterBackup',
        'pollVcenterBackup',
        'startSddcManagerBackup',
        'pollSddcManagerTask',
        'startVcdaBackup',
        'pollVcdaTask',
      ]),
    );
    expect(() => pkg.VcenterEndpoint.parse({ url: 'https://vc', username: 'u', passwordRef: 'Hunter2' })).toThrow(
      /must be a secret reference/,
    );
    // Clients validate a workflow input with the workflow's own schema before they start it.
    const check = pkg.checkInput('vcenterBackup', pkg.VcenterBackupInput, {
      endpoint: { url: 'vc01', username: 'u', passwordRef: 'env:X' },
      backup: {},
    });
    expect(check.ok).toBe(false);
    expect(check.ok ? [] : check.problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(['endpoint.url', 'backup.locationType', 'backup.location']),
    );
  });

  it('a worker built from the entry alone runs a vCenter backup', async () => {
    const req = createRequire(join(root, 'package.json'));
    const { NativeConnection } = req('@temporalio/worker') as typeof TemporalWorker;
    const { Client, Connection } = req('@temporalio/client') as typeof TemporalClient;
    const address = inject('temporalAddress');
    const namespace = inject('temporalNamespace');
    const connection = await NativeConnection.connect({ address });
    const clientConnection = await Connection.connect({ address });
    try {
      const taskQueue = `entry-${Date.now()}`;
      const worker = await pkg.createWorker({ connection, namespace, taskQueue, activities: { pollIntervalMs: 100 } });
      const vc = sim.info.vcenter[0]!;
      process.env.ENTRY_VC_PASSWORD = vc.password;
      const client = new Client({ connection: clientConnection, namespace });
      const result = await worker.runUntil(
        client.workflow.execute('vcenterBackup', {
          taskQueue,
          workflowId: `entry-${Date.now()}`,
          args: [
            {
              endpoint: {
                url: vc.url,
                username: vc.username,
                passwordRef: 'env:ENTRY_VC_PASSWORD',
                tls: { caFile: vc.caFile },
              },
              backup: { locationType: 'NFS', location: 'nfs://n/x' },
              pollIntervalMs: 100,
            },
          ],
        }),
      );
      expect(result).toMatchObject({ state: 'SUCCEEDED' });
      expect(sim.counters().jobs).toHaveLength(1);
    } finally {
      await clientConnection.close();
      await connection.close();
    }
  }, 120_000);
});
