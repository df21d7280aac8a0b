/**
 * NsxManagerClient against the simulated NSX Manager over real HTTPS: no mocks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthenticationFailed,
  InvalidArgument,
  NetworkError,
  ProtocolError,
  RequestTimeout,
  ResourceBusy,
  SchemaMismatch,
  ServiceUnavailable,
  type VmwareApiError,
  WrongState,
} from '../src/core/errors';
import { retryDecision } from '../src/core/retry';
import { Secret } from '../src/core/secrets';
import { createDispatcher } from '../src/core/tls';
import { NsxManagerClient, type NsxManagerClientOptions } from '../src/nsx-manager/client';
import { parseNsxError } from '../src/nsx-manager/errors';
import { ClusterRestoreStatus, NsxApiError, type BackupConfigurationSpec } from '../src/nsx-manager/schemas';
import { type Simulator, startSimulator } from '../src/simulator/server';
import type { FaultAction } from '../src/simulator/types';

const FIXTURES = join(__dirname, 'fixtures', 'nsx-manager');
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));
const PASSPHRASE = 'VMw@re1!VMw@re1!';
const SFTP_PASSWORD = 'Sftp-S3cret!';
const SFTP = 'sftp.sim.local';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rejection(p: Promise<unknown>): Promise<VmwareApiError> {
  try {
    await p;
  } catch (err) {
    return err as VmwareApiError;
  }
  throw new Error('expected the call to fail');
}

let sim: Simulator;
let dispatcher: Agent;

function client(name = 'nsx-1', extra: Partial<NsxManagerClientOptions> = {}): NsxManagerClient {
  const a = sim.info.nsxManager?.find((x) => x.url.endsWith(`/${name}`));
  if (!a) throw new Error(`no appliance ${name}`);
  return new NsxManagerClient({
    url: a.url,
    appliance: name,
    credentials: async () => ({ username: a.username, password: new Secret(a.password) }),
    dispatcher,
    ...extra,
  });
}

async function admin(name: string, command: Record<string, unknown>): Promise<unknown> {
  const res = await request(`${sim.info.admin}/appliances/nsx-manager/${name}`, {
    method: 'POST',
    body: JSON.stringify(command),
    headers: { 'content-type': 'application/json' },
    dispatcher,
  });
  expect(res.statusCode).toBe(200);
  return res.body.json();
}

function fault(name: string, operation: string, action: FaultAction): void {
  sim.faults.add({ product: 'nsx-manager', appliance: name, operation, action });
}

async function configure(c: NsxManagerClient, secrets = true) {
  const { ssh_fingerprint } = await c.retrieveSshFingerprint({ server: SFTP });
  const spec: BackupConfigurationSpec = {
    backup_enabled: true,
    backup_schedule: { resource_type: 'IntervalBackupSchedule', seconds_between_backups: 3600 },
    remote_file_server: {
      server: SFTP,
      port: 22,
      directory_path: '/backups/nsx',
      protocol: {
        protocol_name: 'sftp',
        ssh_fingerprint,
        authentication_scheme: {
          scheme_name: 'PASSWORD',
          username: 'svc-backup',
          ...(secrets ? { password: SFTP_PASSWORD } : {}),
        },
      },
    },
    ...(secrets ? { passphrase: PASSPHRASE } : {}),
  };
  return c.setBackupConfiguration(spec);
}

/** Backs up now and waits until it is over; returns its backup id. */
async function backup(c: NsxManagerClient): Promise<{ id: string; steps: Set<string> }> {
  await c.startBackup();
  const steps = new Set<string>();
  let id: string | undefined;
  for (let i = 0; i < 200; i++) {
    const s = await c.getBackupStatus();
    if (s.operation_type === 'NONE') break;
    id = s.backup_id ?? undefined;
    if (s.current_step) steps.add(s.current_step);
    await sleep(20);
  }
  if (!id) throw new Error('never saw the backup running');
  return { id, steps };
}

/** Polls the restore until it leaves RUNNING. */
async function settle(c: NsxManagerClient): Promise<ClusterRestoreStatus> {
  for (let i = 0; i < 300; i++) {
    const s = await c.getRestoreStatus();
    if (s.status.value !== 'RUNNING') return s;
    await sleep(10);
  }
  throw new Error('restore stayed RUNNING');
}

/** Answers every instruction with all its listed resources until the restore is over. */
async function answerAll(c: NsxManagerClient): Promise<{ status: ClusterRestoreStatus; answered: string[] }> {
  const answered: string[] = [];
  let s = await settle(c);
  while (s.status.value === 'SUSPENDED_FOR_USER_ACTION') {
    const instruction = s.instructions?.[0];
    if (!instruction) throw new Error('suspended without instructions');
    expect(instruction.fields?.length).toBeGreaterThan(0);
    const { results } = await c.listInstructionResources(instruction.id);
    expect(results.length).toBeGreaterThan(0);
    answered.push(instruction.name ?? '');
    await c.advanceRestore({
      data: [{ id: instruction.id, resources: results.map((r) => ({ target_id: r.id ?? '' })) }],
    });
    s = await settle(c);
  }
  return { status: s, answered };
}

/** Redeploys `name` (waiting for restore), configures the backup server again, returns the newest backup. */
async function redeploy(name: string) {
  await admin(name, { stage: 'restore' });
  const c = client(name);
  await configure(c);
  const { results } = await c.listBackupTimestamps();
  return { c, newest: results[0]! };
}

beforeAll(async () => {
  sim = await startSimulator({ nsxManagers: 3, vcenters: 0, jobSeconds: 1 });
  dispatcher = createDispatcher({ tls: { caFile: sim.info.caFile } });
});
afterAll(async () => {
  await sim.close();
  await dispatcher.close();
});

describe('NsxManagerClient against the simulated NSX Manager (HTTPS)', () => {
  it('lists the Managers as nsxManager in the info line, user admin, HTTPS', () => {
    expect(sim.info.nsxManager?.map((a) => a.url.replace(/^.*\/nsx-manager\//, ''))).toEqual([
      'nsx-1',
      'nsx-2',
      'nsx-3',
    ]);
    expect(sim.info.nsxManager?.[0]?.url).toMatch(/^https:/);
    expect(sim.info.nsxManager?.[0]?.username).toBe('admin');
  });

  it('configures backups: fingerprint, secrets never in an answer, kept when a PUT omits them', async () => {
    const c = client('nsx-1');
    const fp = await c.retrieveSshFingerprint({ server: SFTP });
    expect(fp.ssh_fingerprint).toMatch(/^SHA256:/);
    const set = await configure(c);
    const got = await c.getBackupConfiguration();
    for (const answer of [set, got]) {
      const text = JSON.stringify(answer);
      expect(text).not.toContain(PASSPHRASE);
      expect(text).not.toContain(SFTP_PASSWORD);
      expect(answer.passphrase).toBeUndefined();
      expect(answer.remote_file_server?.protocol.authentication_scheme.password).toBeUndefined();
    }
    expect(got.remote_file_server?.server).toBe(SFTP);
    expect(got.backup_schedule?.resource_type).toBe('IntervalBackupSchedule');
    const raw = await request(`${sim.info.nsxManager![0]!.url}/api/v1/cluster/backups/config`, {
      headers: {
        authorization: `Basic ${Buffer.from(`admin:${sim.info.nsxManager![0]!.password}`).toString('base64')}`,
      },
      dispatcher,
    });
    const text = await raw.body.text();
    expect(text).not.toContain(PASSPHRASE);
    expect(text).not.toContain(SFTP_PASSWORD);
    // A PUT without secrets keeps the old ones (the backup below still works with them).
    await configure(c, false);
    const weak = await rejection(c.setBackupConfiguration({ ...(await configureSpec(c)), passphrase: 'password' }));
    expect(weak).toBeInstanceOf(InvalidArgument);
    expect(weak.message).toMatch(/^nsx-manager nsx-1 setBackupConfiguration: .*HTTP 400 255/);
    const unreachable = await rejection(c.retrieveSshFingerprint({ server: 'nowhere.invalid' }));
    expect(unreachable).toBeInstanceOf(InvalidArgument);
    expect(unreachable.vmwareCode).toBe('29103');
  });

  it('backs up now: status shows the running steps, history has cluster, node and inventory success for it', async () => {
    const c = client('nsx-1');
    const before = await c.getBackupStatus();
    expect(before.operation_type).toBe('NONE');
    const { id, steps } = await backup(c);
    expect([...steps].every((s) => s.startsWith('BACKUP_CREATING_'))).toBe(true);
    const history = await c.getBackupHistory();
    expect(history.overall_backup_status).toBe('SUCCESS');
    for (const list of [
      history.cluster_backup_statuses,
      history.node_backup_statuses,
      history.inventory_backup_statuses,
    ]) {
      const mine = list?.find((s) => s.backup_id === id);
      expect(mine?.success).toBe(true);
      expect(mine?.end_time).toBeGreaterThanOrEqual(mine?.start_time ?? Infinity);
    }
    expect(sim.counters().jobs.some((j) => j.product === 'nsx-manager' && j.id === id)).toBe(true);
  });

  it('refuses a backup while one runs (ResourceBusy, retried) and one before configuration', async () => {
    const c = client('nsx-1');
    await c.startBackup();
    const busy = await rejection(c.startBackup());
    expect(busy).toBeInstanceOf(ResourceBusy);
    expect(busy.httpStatus).toBe(409);
    expect(retryDecision(busy).retryable).toBe(true);
    while ((await c.getBackupStatus()).operation_type !== 'NONE') await sleep(20);
    const unconfigured = await rejection(client('nsx-2').startBackup());
    expect(unconfigured).toBeInstanceOf(InvalidArgument);
    expect(unconfigured.vmwareCode).toBe('29101');
  });

  it('a jobFailed fault fails the node backup: history FAILED for that backup id', async () => {
    const c = client('nsx-3');
    await configure(c);
    fault('nsx-3', 'startBackup', { kind: 'jobFailed', message: 'disk full on the SFTP server' });
    const { id } = await backup(c);
    const history = await c.getBackupHistory();
    expect(history.overall_backup_status).toBe('FAILED');
    const node = history.node_backup_statuses?.find((s) => s.backup_id === id);
    expect(node).toMatchObject({ success: false, error_code: 'BACKUP_GENERIC_ERROR' });
    expect(history.cluster_backup_statuses?.find((s) => s.backup_id === id)?.success).toBe(true);
  });

  it('restores with two suspensions answered by advance, enforcing every 409 rule', async () => {
    const running = await rejection(client('nsx-1').startRestore({ node_id: 'x', timestamp: 1 }));
    expect(running).toBeInstanceOf(WrongState); // not a freshly deployed Manager
    const { c, newest } = await redeploy('nsx-1');
    expect(newest.restore_type).toEqual(['REGULAR_RESTORE']);
    expect((await c.getBackupHistory()).overall_backup_status).toBe('NOT_AVAILABLE');
    expect((await c.getRestoreStatus()).status.value).toBe('INITIAL');
    for (const action of ['suspend', 'cancel', 'retry'] as const) {
      expect(await rejection(c.controlRestore(action))).toBeInstanceOf(WrongState);
    }
    const started = await c.startRestore({ node_id: newest.node_id, timestamp: newest.timestamp });
    expect(started.status.value).toBe('RUNNING');
    expect(started.backup_timestamp).toBe(newest.timestamp);
    const again = await rejection(c.startRestore({ node_id: newest.node_id, timestamp: newest.timestamp }));
    expect(again).toBeInstanceOf(WrongState);
    expect(again.httpStatus).toBe(409);
    expect(retryDecision(again)).toEqual({ retryable: false });
    expect(again.message).toMatch(/^nsx-manager nsx-1 startRestore: /);
    expect(await rejection(c.advanceRestore({ data: [] }))).toBeInstanceOf(WrongState);
    expect(await rejection(c.cancelRestore())).toBeInstanceOf(WrongState);
    expect(await rejection(c.retryRestore())).toBeInstanceOf(WrongState);
    const suspended = await c.suspendRestore();
    expect(suspended.status.value).toBe('SUSPENDED_BY_USER');
    expect(suspended.allowed_actions).toEqual(['advance', 'cancel']);
    expect(await rejection(c.suspendRestore())).toBeInstanceOf(WrongState);
    expect((await c.advanceRestore({ data: [] })).status.value).toBe('RUNNING');
    const first = await settle(c);
    expect(first.status.value).toBe('SUSPENDED_FOR_USER_ACTION');
    expect(first.step?.status?.value).toBe('SUSPENDED_FOR_USER_ACTION');
    expect(first.endpoints?.map((e) => e.rel)).toEqual(['advance', 'cancel']);
    const wrong = await rejection(c.advanceRestore({ data: [{ id: 'not-the-instruction', resources: [] }] }));
    expect(wrong).toBeInstanceOf(WrongState);
    expect(await rejection(c.suspendRestore())).toBeInstanceOf(WrongState);
    const { status, answered } = await answerAll(c);
    expect(answered).toEqual(['Confirm fabric nodes', 'Confirm compute managers']);
    expect(status.status.value).toBe('SUCCESS');
    expect(status.restore_end_time).toBeGreaterThanOrEqual(status.restore_start_time ?? Infinity);
    expect(status.step?.step_number).toBe(status.total_steps);
    expect(await rejection(c.advanceRestore({ data: [] }))).toBeInstanceOf(WrongState);
  });

  it('a FAILED step is retried to SUCCESS; cancel works only while suspended', async () => {
    const { c, newest } = await redeploy('nsx-1');
    fault('nsx-1', 'startRestore', { kind: 'jobFailed', message: 'corosync did not start' });
    await c.startRestore({ node_id: newest.node_id, timestamp: newest.timestamp });
    const failed = await settle(c);
    expect(failed.status.value).toBe('FAILED');
    expect(failed.step?.status?.value).toBe('FAILED');
    expect(failed.status.description).toBe('corosync did not start');
    expect(failed.allowed_actions).toEqual(['retry']);
    expect(await rejection(c.advanceRestore({ data: [] }))).toBeInstanceOf(WrongState);
    expect(await rejection(c.cancelRestore())).toBeInstanceOf(WrongState);
    expect(await rejection(c.startRestore({ node_id: newest.node_id, timestamp: newest.timestamp }))).toBeInstanceOf(
      WrongState,
    );
    expect((await c.retryRestore()).status.value).toBe('RUNNING');
    expect((await answerAll(c)).status.status.value).toBe('SUCCESS');

    const again = await redeploy('nsx-1');
    await again.c.startRestore({ node_id: again.newest.node_id, timestamp: again.newest.timestamp });
    expect((await settle(again.c)).status.value).toBe('SUSPENDED_FOR_USER_ACTION');
    const cancelled = await again.c.cancelRestore();
    expect(cancelled.status.value).toBe('ABORTED');
    expect(cancelled.instructions).toEqual([]);
    // Over: a new restore may start.
    const restarted = await again.c.startRestore({ node_id: again.newest.node_id, timestamp: again.newest.timestamp });
    expect(restarted.status.value).toBe('RUNNING');
    await again.c.suspendRestore();
    await again.c.cancelRestore();
  });

  it('lists no backups before the backup server is configured, and refuses an unknown backup', async () => {
    await admin('nsx-3', { stage: 'restore' });
    const c = client('nsx-3');
    expect(await rejection(c.listBackupTimestamps())).toBeInstanceOf(InvalidArgument);
    await configure(c);
    const unknown = await rejection(c.startRestore({ node_id: 'nope', timestamp: 1 }));
    expect(unknown).toBeInstanceOf(InvalidArgument);
    expect(unknown.vmwareCode).toBe('29172');
    await admin('nsx-3', { stage: 'running' });
  });

  it('maps faults and error bodies to the taxonomy', async () => {
    const c = client('nsx-2');
    fault('nsx-2', 'startRestore', { kind: 'error', error: 'RESOURCE_BUSY' });
    const busy = await rejection(c.startRestore({ node_id: 'x', timestamp: 1 }));
    expect(busy).toBeInstanceOf(ResourceBusy);
    expect(retryDecision(busy).retryable).toBe(true);
    fault('nsx-2', 'getBackupStatus', { kind: 'status', status: 503 });
    expect(await rejection(c.getBackupStatus())).toBeInstanceOf(ServiceUnavailable);
    fault('nsx-2', 'getRestoreStatus', { kind: 'reset' });
    expect(await rejection(c.getRestoreStatus())).toBeInstanceOf(NetworkError);
    fault('nsx-2', 'getBackupHistory', { kind: 'malformed' });
    expect(await rejection(c.getBackupHistory())).toBeInstanceOf(ProtocolError);
    fault('nsx-2', 'getRestoreStatus', { kind: 'schema' });
    expect(await rejection(c.getRestoreStatus())).toBeInstanceOf(SchemaMismatch);
    fault('nsx-2', 'getBackupStatus', { kind: 'delay', ms: 3000 });
    expect(await rejection(client('nsx-2', { timeoutMs: 300 }).getBackupStatus())).toBeInstanceOf(RequestTimeout);
    const bad = await rejection(
      client('nsx-2', {
        credentials: async () => ({ username: 'admin', password: new Secret('wrong') }),
      }).getBackupStatus(),
    );
    expect(bad).toBeInstanceOf(AuthenticationFailed);
    expect(bad.message).toMatch(/^nsx-manager nsx-2 getBackupStatus: /);
    expect(sim.counters().calls['nsx-manager']?.['nsx-2']?.getBackupStatus).toBeGreaterThanOrEqual(3);
  });

  it('reads VMware ApiError bodies and restore statuses from the reference shapes', () => {
    const body = fixture('api-error.json');
    expect(NsxApiError.parse(body).error_code).toBe(255);
    expect(parseNsxError(body)).toEqual({
      vmwareCode: '255',
      messages: [
        'Field level validation errors: {passphrase: Passphrase does not meet the complexity requirements}',
        'Use at least 8 characters with upper- and lower-case letters, a digit and a special character.',
        'Backup is not configured.',
      ],
    });
    expect(parseNsxError({ error_code: 'RESOURCE_BUSY' }).errorType).toBe('ResourceBusy');
    expect(parseNsxError('not json')).toEqual({});
    const status = ClusterRestoreStatus.parse(fixture('restore-status-suspended.json'));
    expect(status.instructions?.[0]?.name).toBe('Confirm fabric nodes');
    expect(ClusterRestoreStatus.safeParse({ status: { value: 'DONE' } }).success).toBe(false);
  });
});

async function configureSpec(c: NsxManagerClient): Promise<BackupConfigurationSpec> {
  const { ssh_fingerprint } = await c.retrieveSshFingerprint({ server: SFTP });
  return {
    backup_enabled: true,
    remote_file_server: {
      server: SFTP,
      directory_path: '/backups/nsx',
      protocol: {
        protocol_name: 'sftp',
        ssh_fingerprint,
        authentication_scheme: { scheme_name: 'PASSWORD', username: 'svc-backup' },
      },
    },
  };
}
