/**
 * Records the histories of real runs of every workflow (dev server + simulator + worker) into
 * test/fixtures/histories/<workflow-id>.json, for the replay test. Run `npm run record-history`
 * after a workflow change, keep the histories of the shape before it (renamed, e.g.
 * `vcenter-backup-before-lease.json`) so they keep replaying through `patched()`, and commit both.
 * `npm run record-history -- <workflow-id>…` records only those runs (e.g. a new workflow's);
 * `--out DIR` writes them elsewhere (e.g. to compare with the committed ones before replacing them).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { NativeConnection } from '@temporalio/worker';
import { Command } from 'commander';
import { startSimulator } from '../../src/simulator/server';
import { startDevServer } from '../../src/temporal/dev-server';
import { resolveTemporalServer } from '../../src/temporal/resolve-cli';
import { createWorker } from '../../worker';
import type {
  SddcManagerBackupInput,
  SddcManagerBackupStepInput,
  SddcManagerRestoreStepInput,
  VcdaBackupInput,
  VcdaBackupStepInput,
  VcenterBackupInput,
  VcenterBackupStepInput,
  VcenterRestoreStepInput,
} from '../../workflows';
import { simulatedEndpoint } from './endpoints';
import { configureSddcBackupLocation } from './sddc-manager';
import type { VcenterAppliance } from '../../src/simulator/vcenter/appliance';
import type { RunbookReport } from '../../src/contract/runbook/report';
import { approveUpdate, progressQuery } from '../../src/contract/messages';
import { LEASE_WORKFLOW_ID_PREFIX, leaseCloseSignal } from '../../workflows/lease';
import { applianceKey } from '../../src/contract/endpoints';

/** The wait after a "busy" answer in the recordings (the step's timer; real runs wait 30 s). */
const RECORD_BUSY_RETRY_DELAY_MS = 500;

function parseArgs(argv: string[]): { only: string[]; out: string } {
  const program = new Command('record-history')
    .description('Records the replay test histories from real runs (dev server, simulator, worker).')
    .argument('[workflow-id...]', 'record only these runs (default: all)')
    .option('--out <dir>', 'where to write <workflow-id>.json', join(__dirname, '..', 'fixtures', 'histories'))
    .parse(argv, { from: 'node' });
  return { only: program.args, out: program.opts<{ out: string }>().out };
}

async function main(): Promise<void> {
  const { only, out: outDir } = parseArgs(process.argv);
  const source = await resolveTemporalServer({ env: { ...process.env, TEMPORAL_ADDRESS: '' } });
  if (source.kind !== 'binary')
    throw new Error('recording needs the temporal CLI binary (it writes the canonical history JSON)');
  const server = await startDevServer({ source, log: (l) => console.error(l) });
  const sim = await startSimulator({ vcenters: 2, sddcManagers: 1, vcdas: 1, jobSeconds: 2 });
  try {
    const vc = sim.info.vcenter[0]!;
    const vc2 = sim.info.vcenter[1]!;
    const sddc = sim.info.sddcManager[0]!;
    const vcda = sim.info.vcda[0]!;
    process.env.RECORD_VC_PASSWORD = vc.password;
    process.env.RECORD_VC2_PASSWORD = vc2.password;
    process.env.RECORD_PASSPHRASE = 'passphrase-for-recording';
    process.env.RECORD_SDDC_PASSWORD = sddc.password;
    process.env.RECORD_VCDA_PASSWORD = vcda.password;
    const tls = { caFile: sim.info.caFile! };
    await configureSddcBackupLocation(sddc, tls, 'passphrase-for-recording');
    const native = await NativeConnection.connect({ address: server.address });
    const taskQueue = 'record-history';
    const worker = await createWorker({
      connection: native,
      namespace: server.namespace,
      taskQueue,
      activities: { pollIntervalMs: 200, busyRetryDelayMs: RECORD_BUSY_RETRY_DELAY_MS },
    });
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: server.namespace });
    const vcEndpoint = { name: 'vc-1', url: vc.url, username: vc.username, passwordRef: 'env:RECORD_VC_PASSWORD', tls };
    const sddcEndpoint = {
      name: 'sddc-1',
      url: sddc.url,
      username: sddc.username,
      passwordRef: 'env:RECORD_SDDC_PASSWORD',
      tls,
    };
    const vcdaEndpoint = {
      name: 'vcda-1',
      url: vcda.url,
      username: vcda.username,
      passwordRef: 'env:RECORD_VCDA_PASSWORD',
      tls,
    };
    const restoreFrom = 'sftp://backup.example.com/vc-1-to-restore';
    /** Before the vCenter restore: a backup of vc-1 to restore from (not recorded), and vc-2 in its restore stage. */
    const beforeVcenterRestore = async () => {
      await client.workflow.execute('vcenterBackup', {
        taskQueue,
        workflowId: 'vcenter-restore-step-source',
        args: [
          {
            endpoint: vcEndpoint,
            backup: { locationType: 'SFTP', location: restoreFrom },
            pollIntervalMs: 200,
          } satisfies VcenterBackupInput,
        ],
      });
      (sim.appliance('vcenter', 'vc-2') as VcenterAppliance).setStage('restore');
    };
    const site = {
      apiVersion: 'vmware-dr/v1',
      kind: 'Runbook',
      name: 'recorded-site',
      site: 'site-a',
      defaults: { pollInterval: '200ms' },
      endpoints: {
        'sddc-1': simulatedEndpoint('sddc-manager', sddc, 'env:RECORD_SDDC_PASSWORD'),
        'vc-1': simulatedEndpoint('vcenter', vc, 'env:RECORD_VC_PASSWORD'),
        'vcda-1': simulatedEndpoint('vcda', vcda, 'env:RECORD_VCDA_PASSWORD'),
      },
      locations: { 'sftp-a': { type: 'SFTP', url: 'sftp://backup.example.com/recorded' } },
      stages: [
        { name: 'sddc-manager', steps: [{ backup: 'sddc-1' }] },
        { name: 'vcenters', startWithin: '5m', steps: [{ backup: 'vc-1', to: 'sftp-a' }] },
        { name: 'vcda', steps: [{ backup: 'vcda-1' }] },
      ],
    };
    /** Before the freshness check: a backup of every endpoint of the site (not recorded). */
    const beforeFreshness = async () => {
      await client.workflow.execute('drRunbook', { taskQueue, workflowId: 'freshness-source', args: [site] });
    };
    /** vc-1 answers the next two backup POSTs "busy" (HTTP 400 FEATURE_IN_USE): the step waits twice. */
    const busyTwice = async () => {
      sim.faults.add({
        product: 'vcenter',
        appliance: 'vc-1',
        operation: 'backupJobCreate',
        count: 2,
        action: { kind: 'error', error: 'FEATURE_IN_USE' },
      });
    };
    /** A one-endpoint runbook on the site's location (no `site`, as the recorded ones). */
    const runbook = (name: string, endpoints: object, stages: object[]) => ({
      apiVersion: 'vmware-dr/v1',
      kind: 'Runbook',
      name,
      defaults: { pollInterval: '200ms' },
      endpoints,
      locations: site.locations,
      stages,
    });
    const busy = runbook('recorded-busy', { 'vc-1': simulatedEndpoint('vcenter', vc, 'env:RECORD_VC_PASSWORD') }, [
      { name: 'vcenters', steps: [{ backup: 'vc-1', to: 'sftp-a' }] },
    ]);
    const recoveryPointSource = 'dr-runbook-recovery-point-source';
    /** Before the recovery-point restore: the backup run it names (not recorded), and vc-2 in its restore stage. */
    const beforeRecoveryPoint = async () => {
      await client.workflow.execute('drRunbook', { taskQueue, workflowId: recoveryPointSource, args: [busy] });
      (sim.appliance('vcenter', 'vc-2') as VcenterAppliance).setStage('restore');
    };
    const restoreRecoveryPoint = runbook(
      'recorded-restore-recovery-point',
      { 'vc-new': simulatedEndpoint('vcenter', vc2, 'env:RECORD_VC2_PASSWORD') },
      [
        {
          name: 'restore',
          steps: [
            {
              restore: 'vc-new',
              from: 'sftp-a',
              archive: { recoveryPoint: recoveryPointSource, endpoint: 'vc-1' },
              approval: 'none',
              ignoreWarnings: true,
            },
          ],
        },
      ],
    );
    /** A vCenter restore whose validation warns (the simulator always does), approved with the warnings accepted. */
    const approvedRestore = runbook(
      'recorded-approved-restore',
      { 'vc-new': simulatedEndpoint('vcenter', vc2, 'env:RECORD_VC2_PASSWORD') },
      [{ name: 'restore', steps: [{ restore: 'vc-new', from: 'sftp-a', systemName: 'vc-1.sim.local' }] }],
    );
    /** Before the approved restore: a backup of vc-1 on the site's location, and vc-2 in its restore stage. */
    const beforeApprovedRestore = async () => {
      await client.workflow.execute('drRunbook', {
        taskQueue,
        workflowId: 'dr-runbook-approved-restore-source',
        args: [busy],
      });
      (sim.appliance('vcenter', 'vc-2') as VcenterAppliance).setStage('restore');
    };
    /** Approves step 1.1 once it waits, as another person than the recorder (four eyes), accepting its warnings. */
    const approveAsAnother = async (workflowId: string) => {
      const approver = new Client({ connection, namespace: server.namespace, identity: 'approver@record-history' });
      const handle = approver.workflow.getHandle(workflowId);
      while (((await handle.query(progressQuery)) as RunbookReport).steps[0]?.state !== 'waiting-approval')
        await new Promise((r) => setTimeout(r, 100));
      await handle.executeUpdate(approveUpdate, {
        args: [{ step: '1.1', by: 'approver', comment: 'recorded', acceptWarnings: true }],
      });
    };
    const runs: [
      workflow: string,
      workflowId: string,
      input: unknown,
      before?: () => Promise<void>,
      during?: (workflowId: string) => Promise<void>,
    ][] = [
      [
        'vcenterBackup',
        'vcenter-backup',
        {
          endpoint: vcEndpoint,
          backup: { locationType: 'SFTP', location: 'sftp://backup.example.com/vc-1', comment: 'recorded' },
          pollIntervalMs: 200,
        } satisfies VcenterBackupInput,
      ],
      [
        'sddcManagerBackup',
        'sddc-manager-backup',
        {
          endpoint: sddcEndpoint,
          pollIntervalMs: 200,
        } satisfies SddcManagerBackupInput,
      ],
      [
        'vcdaBackup',
        'vcda-backup',
        {
          endpoint: vcdaEndpoint,
          pollIntervalMs: 200,
        } satisfies VcdaBackupInput,
      ],
      [
        'vcenterBackupStep',
        'vcenter-backup-step',
        {
          endpoint: vcEndpoint,
          backup: { locationType: 'SFTP', location: 'sftp://backup.example.com/vc-1-step' },
          pollIntervalMs: 200,
          stepId: 'recorded/0',
        } satisfies VcenterBackupStepInput,
      ],
      [
        'vcenterBackupStep',
        'vcenter-backup-step-busy',
        {
          endpoint: vcEndpoint,
          backup: { locationType: 'SFTP', location: 'sftp://backup.example.com/vc-1-step' },
          pollIntervalMs: 200,
          stepId: 'recorded/busy',
        } satisfies VcenterBackupStepInput,
        busyTwice,
      ],
      [
        'vcenterRestoreStep',
        'vcenter-restore-step',
        {
          endpoint: { name: 'vc-2', url: vc2.url, username: vc2.username, passwordRef: 'env:RECORD_VC2_PASSWORD', tls },
          restore: { locationType: 'SFTP', location: restoreFrom, ignoreWarnings: true },
          pollIntervalMs: 200,
        } satisfies VcenterRestoreStepInput,
        beforeVcenterRestore,
      ],
      [
        'sddcManagerBackupStep',
        'sddc-manager-backup-step',
        { endpoint: sddcEndpoint, pollIntervalMs: 200, stepId: 'recorded/1' } satisfies SddcManagerBackupStepInput,
      ],
      [
        'sddcManagerRestoreStep',
        'sddc-manager-restore-step',
        {
          endpoint: sddcEndpoint,
          restore: {
            backupFile: '/tmp/vcf-backup-sddc-1-2026-12-01-00-00-00.tar.gz',
            passphraseRef: 'env:RECORD_PASSPHRASE',
          },
          pollIntervalMs: 200,
        } satisfies SddcManagerRestoreStepInput,
      ],
      [
        'vcdaBackupStep',
        'vcda-backup-step',
        { endpoint: vcdaEndpoint, pollIntervalMs: 200 } satisfies VcdaBackupStepInput,
      ],
      ['drRunbook', 'dr-runbook', site],
      ['drRunbook', 'dr-runbook-busy', busy, busyTwice],
      ['drRunbook', 'dr-runbook-recovery-point', restoreRecoveryPoint, beforeRecoveryPoint],
      ['drRunbook', 'dr-runbook-approved-restore', approvedRestore, beforeApprovedRestore, approveAsAnother],
      ['freshness', 'freshness', site, beforeFreshness],
    ];
    /** The lease workflow of vc-1, recorded after a step held it, asked to close (it ends COMPLETED). */
    const LEASE_RECORDING = 'appliance-lease';
    const unknown = only.filter((id) => id !== LEASE_RECORDING && !runs.some(([, workflowId]) => workflowId === id));
    if (unknown.length) throw new Error(`no recorded run has the id ${unknown.join(', ')}`);
    await mkdir(outDir, { recursive: true });
    // The CLI writes the canonical proto3 JSON that `historyFromJSON` and the UI read.
    const show = async (workflowId: string, file: string) => {
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
      const out = join(outDir, `${file}.json`);
      await writeFile(out, `${JSON.stringify(history, null, 2)}\n`);
      console.error(`wrote ${out} (${history.events.length} events)`);
    };
    await worker.runUntil(async () => {
      for (const [workflow, workflowId, input, before, during] of runs) {
        if (only.length && !only.includes(workflowId)) continue;
        await before?.();
        const handle = await client.workflow.start(workflow, { taskQueue, workflowId, args: [input] });
        await during?.(workflowId);
        await handle.result();
        await show(workflowId, workflowId);
      }
      if (!only.length || only.includes(LEASE_RECORDING)) {
        // A step holds vc-1's lease (not recorded), then the lease is asked to close.
        await client.workflow.execute('vcenterBackupStep', {
          taskQueue,
          workflowId: `${LEASE_RECORDING}-source`,
          args: [
            {
              endpoint: vcEndpoint,
              backup: { locationType: 'SFTP', location: 'sftp://backup.example.com/vc-1-lease' },
              pollIntervalMs: 200,
            } satisfies VcenterBackupStepInput,
          ],
        });
        const lease = client.workflow.getHandle(`${LEASE_WORKFLOW_ID_PREFIX}${applianceKey('vcenter', vcEndpoint)}`);
        await lease.signal(leaseCloseSignal);
        await lease.result();
        await show(lease.workflowId, LEASE_RECORDING);
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
