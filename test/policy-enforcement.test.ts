/**
 * The worker credential policy end to end: a worker (the package's activities with a policy,
 * the prebuilt workflow bundle and the Nexus handler) on the run's real Temporal server, the
 * simulator over HTTPS, and a "trap": a TCP listener on 127.0.0.1 that the policy does not list,
 * standing for an attacker's host. Marker secrets sit in environment variables and files.
 *
 * For each product and each kind of secret (login, backup encryption, SDDC Manager passphrase,
 * SSO administrator, location password, webhook URL), a step workflow started directly that
 * points the secret at the trap, or at an appliance or location it is not bound to, fails with
 * `NotPermitted`, non-retryable, after one attempt; the trap accepts no connection and the
 * simulator receives no request at all; the error names the field and the rule and carries no
 * secret; refused `env:`/`file:` references are never read (a recording resolver behind the
 * policy's guard, a recording environment). Then the same refusals through `drRunbook` (also a
 * dry run), a Temporal Schedule and the Nexus operation; the activities without a workflow
 * (schedule, SDDC Manager backup configuration, `checkRunbookPolicy`); and an allowed runbook and
 * restore that work unchanged with the policy in place.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ActivitiesOptions, type RunbookPolicyCheck, createActivities } from '../activities';
import type { CredentialPolicy } from '../src/core/policy/index';
import type { RunbookDocument, RunbookEndpoint } from '../src/contract/runbook/document';
import type { RunbookReport } from '../src/contract/runbook/report';
import { createRunbookSchedule } from '../src/client/schedules';
import { type SecretResolver, createSecretResolver } from '../src/core/secrets';
import { runbookNexusServiceHandler } from '../worker/nexus';
import type { runbookViaNexus } from './fixtures/workflows/nexus-caller';
import { historyText } from './support/history';
import { type Harness, createHarness } from './support/harness';
import { parsedPolicy, simulatorPolicy } from './support/policy';

const nonce = randomBytes(4).toString('hex');
/** Every secret value here contains it: a hit in an error, a log or a history is a leak. */
const MARKER = `Zz-POLICY-${nonce}`;

/** A TCP listener standing for an attacker's host: counts every connection it accepts. */
async function startTrap(): Promise<{ port: number; sockets: () => number; close(): Promise<void> }> {
  let sockets = 0;
  const server: Server = createServer((socket) => {
    sockets++;
    socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    sockets: () => sockets,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** The deepest ApplicationFailure in an error's cause chain. */
function applicationFailure(err: unknown): ApplicationFailure | undefined {
  let found: ApplicationFailure | undefined;
  for (let e: unknown = err, depth = 0; e && depth < 10; depth++) {
    if (e instanceof ApplicationFailure) found = e;
    e = (e as { cause?: unknown }).cause;
  }
  return found;
}

/** Each activity's attempts in a workflow's history (from its started events). */
async function activityAttempts(handle: WorkflowHandle): Promise<Record<string, number[]>> {
  const events = (await handle.fetchHistory()).events ?? [];
  const typeOf = new Map<string, string>();
  const attempts: Record<string, number[]> = {};
  for (const e of events) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) typeOf.set(String(e.eventId), scheduled.activityType?.name ?? '?');
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const type = typeOf.get(String(started.scheduledEventId)) ?? '?';
      (attempts[type] ??= []).push(started.attempt ?? 1);
    }
  }
  return attempts;
}

describe('worker credential policy, end to end (real server, simulator, a trap listener)', () => {
  let h: Harness;
  let trap: Awaited<ReturnType<typeof startTrap>>;
  let hook: { port: number; paths: string[]; close(): Promise<void> };
  let dir: string;
  let outside: string;
  let policy: CredentialPolicy;
  let worker: Worker;
  let callerWorker: Worker;
  let running: Promise<void>[] = [];
  let caller: Client;
  let nexusEndpoint: { id: string; version: temporal.api.nexus.v1.IEndpoint['version']; name: string } | undefined;
  const saved = new Map<string, string | undefined>();
  /** Every reference the resolver behind the policy's guard was asked for, and every variable it read. */
  const asked: string[] = [];
  const envRead: string[] = [];
  const suffix = randomUUID().slice(0, 8);
  const callerNamespace = `policy-caller-${suffix}`;
  const callerTaskQueue = `policy-caller-${suffix}`;
  const secrets: Record<string, string> = {};
  let files: { sso: string; linkOut: string; stolen: string };

  beforeAll(async () => {
    trap = await startTrap();
    const paths: string[] = [];
    const server = createHttpServer((req, res) => {
      paths.push(req.url ?? '');
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    hook = {
      port: (server.address() as AddressInfo).port,
      paths,
      close: () => new Promise((r) => server.close(() => r())),
    };
    Object.assign(secrets, {
      POL_APPLIANCE_PASSWORD: `${MARKER}-appliance`,
      POL_SFTP_PASSWORD: `${MARKER}-sftp`,
      // vCenter's backup-password policy: 8–20 characters, upper, lower, digit and special.
      POL_BACKUP_PASSWORD: `Zz-POLICY-${nonce.slice(0, 4)}9#`,
      POL_PASSPHRASE: `${MARKER}-passphrase`,
      POL_OTHER_PASSWORD: `${MARKER}-other`,
      POL_UNLISTED: `${MARKER}-unlisted`,
      POL_OK_HOOK_URL: `http://127.0.0.1:${hook.port}/hook/${MARKER}-ok`,
      POL_EVIL_HOOK_URL: `https://127.0.0.1:${trap.port}/hook/${MARKER}-evil`,
    });
    for (const [k, v] of Object.entries(secrets)) {
      saved.set(k, process.env[k]);
      process.env[k] = v;
    }
    // Secret files: one allowed (the SSO password), a link inside the allowed directory that leads out.
    dir = await mkdtemp(path.join(tmpdir(), 'vmware-dr-policy-e2e-'));
    outside = await mkdtemp(path.join(tmpdir(), 'vmware-dr-policy-outside-'));
    await mkdir(path.join(dir, 'secrets'));
    files = {
      sso: path.join(dir, 'secrets', 'sso'),
      linkOut: path.join(dir, 'secrets', 'link-out'),
      stolen: path.join(outside, 'stolen'),
    };
    await writeFile(files.sso, `${MARKER}-sso\n`);
    await writeFile(files.stolen, `${MARKER}-stolen\n`);
    await symlink(files.stolen, files.linkOut);

    h = await createHarness({
      vcenters: 1,
      sddcManagers: 1,
      vcdas: 1,
      jobSeconds: 1,
      credentials: { password: secrets.POL_APPLIANCE_PASSWORD },
      appliances: [
        {
          product: 'vcenter',
          name: 'vc-new',
          stage: 'restore',
          systemName: 'vc-1.sim.local',
          backups: [
            {
              location: 'sftp://backup.example.com/vcsa',
              locationType: 'SFTP',
              backupPassword: secrets.POL_BACKUP_PASSWORD,
            },
          ],
        },
      ],
    });
    policy = parsedPolicy(
      simulatorPolicy({
        url: h.sim.url,
        caFile: h.sim.info.caFile,
        login: ['env:POL_APPLIANCE_PASSWORD'],
        encryption: ['env:POL_BACKUP_PASSWORD', `file:${files.linkOut}`],
        passphrase: ['env:POL_PASSPHRASE'],
        ssoAdmin: [`file:${files.sso}`],
        locations: [{ name: 'sftp-ok', url: 'sftp://backup.example.com/vcsa', passwords: ['env:POL_SFTP_PASSWORD'] }],
        webhooks: [
          { name: 'ok', urlRefs: ['env:POL_OK_HOOK_URL'], hosts: [`127.0.0.1:${hook.port}`], allowHttp: true },
          { name: 'chat', urlRefs: ['env:POL_EVIL_HOOK_URL'], hosts: ['hooks.example.com'] },
        ],
        env: [
          'POL_APPLIANCE_PASSWORD',
          'POL_SFTP_PASSWORD',
          'POL_BACKUP_PASSWORD',
          'POL_PASSPHRASE',
          'POL_OTHER_PASSWORD',
          'POL_OK_HOOK_URL',
          'POL_EVIL_HOOK_URL',
        ],
        files: [path.join(dir, 'secrets')],
        // Restore step workflows are started directly here (to send every secret kind of a restore,
        // the SSO password too); a policy that requires approvals for restores refuses that
        // (test/approvals.test.ts), so this one does not.
        approvals: { required: [] },
      }),
      'e2e-policy.yaml',
    );
    // The resolver behind the policy's guard records what it is asked; its environment records reads.
    const env = new Proxy(process.env, {
      get(target, name, receiver) {
        if (typeof name === 'string') envRead.push(name);
        return Reflect.get(target, name, receiver) as unknown;
      },
    });
    const inner = createSecretResolver({ env });
    const recording: SecretResolver = {
      resolve(ref, field) {
        asked.push(ref);
        return inner.resolve(ref, field);
      },
    };
    const options: ActivitiesOptions = { pollIntervalMs: 100, busyRetryDelayMs: 100, policy, secrets: recording };
    worker = await Worker.create({
      connection: h.env.nativeConnection,
      namespace: inject('temporalNamespace'),
      taskQueue: h.taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      activities: createActivities(options),
      nexusServices: [runbookNexusServiceHandler()],
      maxHeartbeatThrottleInterval: '1 second',
    });

    // Nexus: a caller namespace, an endpoint targeting this worker's task queue, a caller worker.
    const connection = h.env.connection;
    await connection.workflowService.registerNamespace({
      namespace: callerNamespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    for (let i = 0; ; i++) {
      try {
        await connection.workflowService.describeNamespace({ namespace: callerNamespace });
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const name = `vmware-dr-policy-${suffix}`;
    const created = await connection.operatorService.createNexusEndpoint({
      spec: { name, target: { worker: { namespace: inject('temporalNamespace'), taskQueue: h.taskQueue } } },
    });
    nexusEndpoint = { id: created.endpoint!.id!, version: created.endpoint!.version, name };
    const { code } = await bundleWorkflowCode({
      workflowsPath: path.resolve(__dirname, 'fixtures/workflows/nexus-caller.ts'),
      logger: new DefaultLogger('WARN'),
    });
    callerWorker = await Worker.create({
      connection: h.env.nativeConnection,
      namespace: callerNamespace,
      taskQueue: callerTaskQueue,
      workflowBundle: { code },
    });
    running = [worker.run(), callerWorker.run()];
    caller = new Client({ connection, namespace: callerNamespace });
  }, 120_000);

  afterAll(async () => {
    for (const w of [worker, callerWorker]) if (w?.getState() === 'RUNNING') w.shutdown();
    await Promise.all(running);
    if (nexusEndpoint)
      await h.env.connection.operatorService
        .deleteNexusEndpoint({ id: nexusEndpoint.id, version: nexusEndpoint.version })
        .catch(() => undefined);
    await h?.close();
    await trap?.close();
    await hook?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    if (outside) await rm(outside, { recursive: true, force: true });
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  /** Calls the simulator received since the counters were reset, all appliances together. */
  const simCalls = () =>
    Object.values(h.sim.counters().calls)
      .flatMap((byAppliance) => Object.values(byAppliance))
      .flatMap((byOperation) => Object.values(byOperation))
      .reduce((a, b) => a + b, 0);
  const info = (product: 'vcenter' | 'sddcManager' | 'vcda', name: string) =>
    h.sim.info[product].find((a) => a.url.endsWith(`/${name}`))!;
  /** An endpoint of a simulated appliance, by the references the policy binds. */
  const sim = (product: 'vcenter' | 'sddcManager' | 'vcda', name: string, over: Record<string, unknown> = {}) => ({
    name,
    url: info(product, name).url,
    username: info(product, name).username,
    passwordRef: 'env:POL_APPLIANCE_PASSWORD',
    tls: { caFile: h.sim.info.caFile! },
    ...over,
  });
  /** The trap as an appliance: the real password reference, the simulator's (allowed) CA file. */
  const trapEndpoint = (name: string) => ({
    name,
    url: `https://127.0.0.1:${trap.port}/api`,
    username: 'administrator@vsphere.local',
    passwordRef: 'env:POL_APPLIANCE_PASSWORD',
    tls: { caFile: h.sim.info.caFile! },
  });
  const trapLocation = () => `sftp://127.0.0.1:${trap.port}/loot`;
  const okBackup = {
    locationType: 'SFTP',
    location: 'sftp://backup.example.com/vcsa',
    locationPasswordRef: 'env:POL_SFTP_PASSWORD',
    backupPasswordRef: 'env:POL_BACKUP_PASSWORD',
  };
  const restoreSpec = () => ({
    locationType: 'SFTP',
    location: 'sftp://backup.example.com/vcsa',
    locationPasswordRef: 'env:POL_SFTP_PASSWORD',
    backupPasswordRef: 'env:POL_BACKUP_PASSWORD',
    ssoAdminUserName: 'administrator@vsphere.local',
    ssoAdminPasswordRef: `file:${files.sso}`,
    ignoreWarnings: true,
  });

  interface Case {
    what: string;
    workflow: string;
    input: () => Record<string, unknown>;
    activity: string;
    rule: string;
    field: string;
    /** References that must never reach the resolver (nor their variables be read). */
    neverRead?: () => string[];
  }

  const cases: Case[] = [
    // vCenter
    {
      what: 'vCenter login password to an unlisted appliance (the trap)',
      workflow: 'vcenterBackupStep',
      input: () => ({ endpoint: trapEndpoint('evil-vc'), backup: okBackup }),
      activity: 'startVcenterBackup',
      rule: 'appliances',
      field: 'endpoint.url',
    },
    {
      what: 'vCenter login: a reference bound to nothing',
      workflow: 'vcenterBackupStep',
      input: () => ({ endpoint: sim('vcenter', 'vc-1', { passwordRef: 'env:POL_OTHER_PASSWORD' }), backup: okBackup }),
      activity: 'startVcenterBackup',
      rule: 'appliances[0].secrets.login',
      field: 'endpoint.passwordRef',
      neverRead: () => ['env:POL_OTHER_PASSWORD'],
    },
    {
      what: 'vCenter backup encryption: a password bound to the location, not for encryption',
      workflow: 'vcenterBackupStep',
      input: () => ({
        endpoint: sim('vcenter', 'vc-1'),
        backup: { ...okBackup, backupPasswordRef: 'env:POL_SFTP_PASSWORD' },
      }),
      activity: 'startVcenterBackup',
      rule: 'appliances[0].secrets.encryption',
      field: 'backup.backupPasswordRef',
    },
    {
      what: 'vCenter backup to an unlisted location (the trap) with the real SFTP password',
      workflow: 'vcenterBackupStep',
      input: () => ({ endpoint: sim('vcenter', 'vc-1'), backup: { ...okBackup, location: trapLocation() } }),
      activity: 'startVcenterBackup',
      rule: 'appliances[0].locations',
      field: 'backup.location',
    },
    {
      what: "vCenter backup: the appliance's password as the location password",
      workflow: 'vcenterBackupStep',
      input: () => ({
        endpoint: sim('vcenter', 'vc-1'),
        backup: { ...okBackup, locationPasswordRef: 'env:POL_APPLIANCE_PASSWORD' },
      }),
      activity: 'startVcenterBackup',
      rule: 'locations[0].passwords',
      field: 'backup.locationPasswordRef',
    },
    {
      what: 'vCenter tls.insecure where the policy does not allow it',
      workflow: 'vcenterBackupStep',
      input: () => ({ endpoint: sim('vcenter', 'vc-1', { tls: { insecure: true } }), backup: okBackup }),
      activity: 'startVcenterBackup',
      rule: 'appliances[0].tls.allowInsecure',
      field: 'endpoint.tls.insecure',
    },
    {
      what: 'vCenter tls.caFile naming a file the policy does not list',
      workflow: 'vcenterBackupStep',
      input: () => ({ endpoint: sim('vcenter', 'vc-1', { tls: { caFile: files.stolen } }), backup: okBackup }),
      activity: 'startVcenterBackup',
      rule: 'appliances[0].tls.caFiles',
      field: 'endpoint.tls.caFile',
    },
    {
      what: 'vCenter over plain http',
      workflow: 'vcenterBackupStep',
      input: () => ({
        endpoint: sim('vcenter', 'vc-1', {
          url: info('vcenter', 'vc-1').url.replace('https:', 'http:'),
          allowHttp: true,
          tls: undefined,
        }),
        backup: okBackup,
      }),
      activity: 'startVcenterBackup',
      rule: 'appliances[0].allowHttp',
      field: 'endpoint.url',
    },
    {
      what: 'vCenter restore: the SSO administrator password to the trap',
      workflow: 'vcenterRestoreStep',
      input: () => ({ endpoint: trapEndpoint('evil-vc'), restore: restoreSpec() }),
      activity: 'validateVcenterRestore',
      rule: 'appliances',
      field: 'endpoint.url',
    },
    {
      what: 'vCenter restore: the appliance password as the SSO administrator password',
      workflow: 'vcenterRestoreStep',
      input: () => ({
        endpoint: sim('vcenter', 'vc-new'),
        restore: { ...restoreSpec(), ssoAdminPasswordRef: 'env:POL_APPLIANCE_PASSWORD' },
      }),
      activity: 'validateVcenterRestore',
      rule: 'appliances[0].secrets.ssoAdmin',
      field: 'restore.ssoAdminPasswordRef',
    },
    {
      what: 'env: a variable the policy does not list',
      workflow: 'vcenterBackupStep',
      input: () => ({ endpoint: sim('vcenter', 'vc-1', { passwordRef: 'env:POL_UNLISTED' }), backup: okBackup }),
      activity: 'startVcenterBackup',
      rule: 'appliances[0].secrets.login',
      field: 'endpoint.passwordRef',
      neverRead: () => ['env:POL_UNLISTED'],
    },
    {
      what: 'file: a bound file that is a link out of the allowed directory',
      workflow: 'vcenterBackupStep',
      input: () => ({
        endpoint: sim('vcenter', 'vc-1'),
        backup: { ...okBackup, backupPasswordRef: `file:${files.linkOut}` },
      }),
      activity: 'startVcenterBackup',
      rule: 'secretSources.files',
      field: 'backup.backupPasswordRef',
      neverRead: () => [`file:${files.linkOut}`],
    },
    {
      what: 'file: a file outside the allowed directories',
      workflow: 'vcenterBackupStep',
      input: () => ({
        endpoint: sim('vcenter', 'vc-1'),
        backup: { ...okBackup, backupPasswordRef: `file:${files.stolen}` },
      }),
      activity: 'startVcenterBackup',
      rule: 'appliances[0].secrets.encryption',
      field: 'backup.backupPasswordRef',
      neverRead: () => [`file:${files.stolen}`],
    },
    // SDDC Manager
    {
      what: 'SDDC Manager login password to the trap',
      workflow: 'sddcManagerBackupStep',
      input: () => ({ endpoint: trapEndpoint('evil-sddc') }),
      activity: 'startSddcManagerBackup',
      rule: 'appliances',
      field: 'endpoint.url',
    },
    {
      what: 'SDDC Manager restore: the passphrase to the trap',
      workflow: 'sddcManagerRestoreStep',
      input: () => ({
        endpoint: trapEndpoint('evil-sddc'),
        restore: { backupFile: '/tmp/vcf-backup.tar.gz', passphraseRef: 'env:POL_PASSPHRASE' },
      }),
      activity: 'startSddcManagerRestore',
      rule: 'appliances',
      field: 'endpoint.url',
    },
    {
      what: 'SDDC Manager restore: the appliance password as the passphrase',
      workflow: 'sddcManagerRestoreStep',
      input: () => ({
        endpoint: sim('sddcManager', 'sddc-1'),
        restore: { backupFile: '/tmp/vcf-backup.tar.gz', passphraseRef: 'env:POL_APPLIANCE_PASSWORD' },
      }),
      activity: 'startSddcManagerRestore',
      rule: 'appliances[1].secrets.passphrase',
      field: 'restore.passphraseRef',
    },
    // VCDA
    {
      what: 'VCDA login password to the trap',
      workflow: 'vcdaBackupStep',
      input: () => ({ endpoint: trapEndpoint('evil-vcda') }),
      activity: 'startVcdaBackup',
      rule: 'appliances',
      field: 'endpoint.url',
    },
    {
      what: 'VCDA backup encryption password to the trap',
      workflow: 'vcdaBackupStep',
      input: () => ({ endpoint: trapEndpoint('evil-vcda'), backupPasswordRef: 'env:POL_BACKUP_PASSWORD' }),
      activity: 'startVcdaBackup',
      rule: 'appliances',
      field: 'endpoint.url',
    },
    {
      what: 'VCDA backup encryption: the SFTP password, not bound for encryption',
      workflow: 'vcdaBackupStep',
      input: () => ({ endpoint: sim('vcda', 'vcda-1'), backupPasswordRef: 'env:POL_SFTP_PASSWORD' }),
      activity: 'startVcdaBackup',
      rule: 'appliances[2].secrets.encryption',
      field: 'backupPasswordRef',
    },
  ];

  /** Checks a refusal: NotPermitted, non-retryable, naming field and rule, no secret in it. */
  const expectRefusal = (
    failure:
      { type?: string | null; nonRetryable?: boolean | null; message: string; details?: unknown[] | null } | undefined,
    c: { rule: string; field: string; what: string },
  ) => {
    expect(failure?.type, c.what).toBe('NotPermitted');
    expect(failure?.nonRetryable, c.what).toBe(true);
    expect(failure!.message, c.what).toContain('credential policy');
    expect(failure!.message, c.what).toContain(c.field);
    expect(failure!.message, c.what).toMatch(/Fix: /);
    expect(failure!.message, c.what).not.toContain(MARKER);
    expect(failure!.message, c.what).toContain(c.rule);
    expect(failure!.details?.[0], c.what).toMatchObject({
      code: 'VMWARE_DR_NOT_PERMITTED',
      rule: c.rule,
      field: c.field,
    });
  };

  it('step workflows started directly: every product and secret kind refused, one attempt, no connection, nothing read', async () => {
    h.sim.resetCounters();
    const askedBefore = asked.length;
    const readBefore = envRead.length;
    const outcomes = await Promise.all(
      cases.map(async (c, i) => {
        const handle = await h.env.client.workflow.start(c.workflow, {
          taskQueue: h.taskQueue,
          workflowId: `policy-step-${i}-${nonce}`,
          args: [{ ...c.input(), pollIntervalMs: 100 }],
        });
        const err = await handle.result().then(
          () => undefined,
          (e: unknown) => e,
        );
        return { c, handle, err };
      }),
    );
    for (const { c, handle, err } of outcomes) {
      expect(err, c.what).toBeInstanceOf(WorkflowFailedError);
      const failure = applicationFailure(err);
      expectRefusal(failure, c);
      // One attempt of the refusing activity, and no activity retried.
      const attempts = await activityAttempts(handle);
      expect(attempts[c.activity], c.what).toEqual([1]);
      for (const [type, list] of Object.entries(attempts))
        expect(
          list.every((a) => a === 1),
          `${c.what}: ${type}`,
        ).toBe(true);
      // The history carries the references, never a value.
      expect(historyText(await handle.fetchHistory())).not.toContain(MARKER);
    }
    // The trap never saw a connection; the simulator never saw a request (not even a login).
    expect(trap.sockets()).toBe(0);
    expect(simCalls()).toBe(0);
    // Refused references never reached the resolver; their variables were never read.
    const newlyAsked = asked.slice(askedBefore);
    const newlyRead = envRead.slice(readBefore);
    for (const c of cases)
      for (const ref of c.neverRead?.() ?? []) {
        expect(newlyAsked, `${c.what}: ${ref}`).not.toContain(ref);
        if (ref.startsWith('env:')) expect(newlyRead, `${c.what}: ${ref}`).not.toContain(ref.slice(4));
      }
    expect(newlyRead).not.toContain('POL_UNLISTED');
  }, 120_000);

  /** A runbook that tries every exfiltration at once: an unlisted vCenter, a location at the trap, a webhook whose URL leads there. */
  const attack = (): RunbookDocument => ({
    apiVersion: 'vmware-dr/v1',
    kind: 'Runbook',
    name: 'policy-attack',
    defaults: { pollInterval: '100ms' },
    notify: [{ urlRef: 'env:POL_EVIL_HOOK_URL', on: ['failed', 'succeeded'] }],
    endpoints: {
      'evil-vc': { product: 'vcenter', ...trapEndpoint('evil-vc') } as RunbookEndpoint,
      'vc-1': { product: 'vcenter', ...sim('vcenter', 'vc-1') } as RunbookEndpoint,
      'evil-vcda': { product: 'vcda', ...trapEndpoint('evil-vcda') } as RunbookEndpoint,
    },
    locations: {
      'sftp-ok': { type: 'SFTP', url: 'sftp://backup.example.com/vcsa', passwordRef: 'env:POL_SFTP_PASSWORD' },
      loot: {
        type: 'SFTP',
        url: trapLocation(),
        username: 'x',
        passwordRef: 'env:POL_SFTP_PASSWORD',
        encryptionPasswordRef: 'env:POL_BACKUP_PASSWORD',
      },
    },
    stages: [
      {
        name: 'steal',
        steps: [
          { backup: 'evil-vc', to: 'sftp-ok', continueOnFailure: true },
          { backup: 'vc-1', to: 'loot', continueOnFailure: true },
          { backup: 'evil-vcda', continueOnFailure: true },
        ],
      },
    ],
  });

  /** The refused runbook's report: every step failed NotPermitted, no secret in it. */
  const expectRefusedReport = (report: RunbookReport) => {
    expect(report.outcome).toBe('failed');
    expect(report.steps.map((s) => [s.endpoint, s.state, s.error?.type])).toEqual([
      ['evil-vc', 'failed', 'NotPermitted'],
      ['vc-1', 'failed', 'NotPermitted'],
      ['evil-vcda', 'failed', 'NotPermitted'],
    ]);
    expect(report.steps[1]!.error?.message).toContain(`${trapLocation()} is not at or below a location`);
    expect(JSON.stringify(report)).not.toContain(MARKER);
  };

  it('drRunbook (and its dry run): the policy check refuses every step before anything runs; the webhook to the trap is never called', async () => {
    h.sim.resetCounters();
    const handle = await h.env.client.workflow.start('drRunbook', {
      taskQueue: h.taskQueue,
      workflowId: `policy-runbook-${nonce}`,
      args: [attack(), {}],
    });
    const report = (await handle.result()) as RunbookReport;
    expectRefusedReport(report);
    // The notification was refused by the policy (one attempt, non-retryable), not sent.
    expect((await activityAttempts(handle)).sendNotification).toEqual([1]);
    const text = historyText(await handle.fetchHistory());
    expect(text).toContain('NotPermitted');
    expect(text).toContain('the URL that env:POL_EVIL_HOOK_URL holds is on a host webhooks[1] (chat) does not list');
    expect(text).not.toContain(MARKER);
    expect(simCalls()).toBe(0);
    const dry = (await h.env.client.workflow.execute('drRunbook', {
      taskQueue: h.taskQueue,
      workflowId: `policy-runbook-dry-${nonce}`,
      args: [attack(), { dryRun: true }],
    })) as RunbookReport;
    expect(dry.steps.map((s) => s.error?.type)).toEqual(['NotPermitted', 'NotPermitted', 'NotPermitted']);
    // The run checked the whole runbook against the policy first (checkRunbookPolicy) and stopped
    // there, the dry run too: every refusal listed, nothing reached the trap or the simulator.
    for (const r of [report, dry])
      expect(r.refused?.map((p) => p.path)).toEqual([
        'endpoints.evil-vc.url',
        'endpoints.evil-vcda.url',
        'locations.loot.url',
      ]);
    expect(trap.sockets()).toBe(0);
    expect(simCalls()).toBe(0);
  }, 60_000);

  it('a Temporal Schedule of the runbook: the scheduled run is refused the same way', async () => {
    const scheduleId = `policy-schedule-${nonce}`;
    const s = await createRunbookSchedule(h.env.client, {
      scheduleId,
      document: attack(),
      every: '24h',
      taskQueue: h.taskQueue,
    });
    try {
      await s.trigger();
      let runs = (await s.describe()).recentRuns;
      for (let i = 0; runs.length === 0 && i < 150; i++) {
        await new Promise((r) => setTimeout(r, 200));
        runs = (await s.describe()).recentRuns;
      }
      const run = runs[0]!;
      expectRefusedReport((await h.env.client.workflow.getHandle(run.workflowId, run.runId).result()) as RunbookReport);
    } finally {
      await s.delete();
    }
    expect(trap.sockets()).toBe(0);
  }, 60_000);

  it('the Nexus operation from another namespace: the run it starts is refused the same way', async () => {
    const handle = await caller.workflow.start<typeof runbookViaNexus>('runbookViaNexus', {
      taskQueue: callerTaskQueue,
      workflowId: `policy-nexus-${nonce}`,
      args: [nexusEndpoint!.name, { document: attack() }],
    });
    const { namespace, report } = await handle.result();
    expect(namespace).toBe(callerNamespace);
    expectRefusedReport(report);
    expect(historyText(await handle.fetchHistory())).not.toContain(MARKER);
    expect(trap.sockets()).toBe(0);
  }, 60_000);

  it('activities no workflow calls: a vCenter schedule and an SDDC Manager backup configuration to the trap are refused', async () => {
    h.sim.resetCounters();
    const act = createActivities({ policy, secrets: { env: process.env } });
    const run = <T>(fn: () => Promise<T>) =>
      new MockActivityEnvironment().run(fn).then(
        () => undefined,
        (e: unknown) => e as ApplicationFailure,
      );
    const schedule = await run(() =>
      act.setVcenterSchedule({
        endpoint: sim('vcenter', 'vc-1') as never,
        schedule: {
          location: trapLocation(),
          locationPasswordRef: 'env:POL_SFTP_PASSWORD',
          backupPasswordRef: 'env:POL_BACKUP_PASSWORD',
        },
      }),
    );
    expectRefusal(schedule, { what: 'schedule', rule: 'appliances[0].locations', field: 'schedule.location' });
    const configuration = await run(() =>
      act.setSddcManagerBackupConfiguration({
        endpoint: sim('sddcManager', 'sddc-1') as never,
        configuration: {
          location: {
            server: '127.0.0.1',
            port: trap.port,
            username: 'x',
            passwordRef: 'env:POL_SFTP_PASSWORD',
            directoryPath: '/loot',
          },
          passphraseRef: 'env:POL_PASSPHRASE',
        },
      }),
    );
    expectRefusal(configuration, {
      what: 'backup configuration',
      rule: 'appliances[1].locations',
      field: 'configuration.location',
    });
    expect(configuration!.message).toContain(`sftp://127.0.0.1:${trap.port}/loot is not at or below a location`);
    const hookCall = await run(() =>
      act.sendNotification({ urlRef: 'env:POL_UNLISTED', body: { text: 'x', event: 'failed' } }),
    );
    expectRefusal(hookCall, { what: 'webhook', rule: 'webhooks', field: 'notify.urlRef' });
    expect(trap.sockets()).toBe(0);
    expect(simCalls()).toBe(0);
  });

  it('checkRunbookPolicy: the problems of a whole runbook with the steps they stop, and each step’s approval rule', async () => {
    const act = createActivities({ policy });
    const check = (await new MockActivityEnvironment().run(() =>
      act.checkRunbookPolicy({ document: attack() }),
    )) as RunbookPolicyCheck;
    expect(check.policy).toEqual({ source: 'e2e-policy.yaml', sha256: policy.sha256 });
    expect(check.problems.map((p) => [p.path, p.steps, p.rule])).toEqual([
      ['endpoints.evil-vc.url', ['1.1'], 'appliances'],
      ['endpoints.evil-vcda.url', ['1.3'], 'appliances'],
      ['locations.loot.url', ['1.2'], 'appliances[0].locations'],
    ]);
    for (const p of check.problems) expect(p.message).not.toContain(MARKER);
    expect(check.approvals).toEqual({
      '1.1': { required: false, fourEyes: true },
      '1.2': { required: false, fourEyes: true },
      '1.3': { required: false, fourEyes: true },
    });
    const none = createActivities({});
    const open = await new MockActivityEnvironment().run(() => none.checkRunbookPolicy({ document: attack() }));
    expect(open).toEqual({
      problems: [],
      approvals: {
        '1.1': { required: false, fourEyes: true },
        '1.2': { required: false, fourEyes: true },
        '1.3': { required: false, fourEyes: true },
      },
    });
  });

  it('what the policy allows works unchanged: a full-site backup runbook with its webhook, and a restore with the SSO password', async () => {
    h.sim.resetCounters();
    const allowed: RunbookDocument = {
      apiVersion: 'vmware-dr/v1',
      kind: 'Runbook',
      name: 'policy-allowed',
      defaults: { pollInterval: '100ms' },
      notify: [{ urlRef: 'env:POL_OK_HOOK_URL', on: ['succeeded'] }],
      endpoints: {
        'sddc-1': { product: 'sddc-manager', ...sim('sddcManager', 'sddc-1') } as RunbookEndpoint,
        'vc-1': { product: 'vcenter', ...sim('vcenter', 'vc-1') } as RunbookEndpoint,
        'vcda-1': { product: 'vcda', ...sim('vcda', 'vcda-1') } as RunbookEndpoint,
      },
      locations: {
        'sftp-ok': {
          type: 'SFTP',
          url: 'sftp://backup.example.com/vcsa',
          passwordRef: 'env:POL_SFTP_PASSWORD',
          encryptionPasswordRef: 'env:POL_BACKUP_PASSWORD',
        },
      },
      stages: [
        { name: 'sddc', steps: [{ backup: 'sddc-1' }] },
        { name: 'vc', steps: [{ backup: 'vc-1', to: 'sftp-ok' }] },
        { name: 'vcda', steps: [{ backup: 'vcda-1' }] },
      ],
    };
    expect(policy.runbookProblems(allowed)).toEqual([]);
    const report = (await h.env.client.workflow.execute('drRunbook', {
      taskQueue: h.taskQueue,
      workflowId: `policy-allowed-${nonce}`,
      args: [allowed, {}],
    })) as RunbookReport;
    expect(report.outcome).toBe('succeeded');
    expect(report.steps.map((s) => [s.endpoint, s.state])).toEqual([
      ['sddc-1', 'succeeded'],
      ['vc-1', 'succeeded'],
      ['vcda-1', 'succeeded'],
    ]);
    expect(h.sim.counters().jobs.filter((j) => j.kind === 'backup')).toHaveLength(3);
    expect(hook.paths).toEqual([`/hook/${MARKER}-ok`]);
    // A restore with every secret kind of a vCenter restore, the SSO password from an allowed file.
    const restored = await h.env.client.workflow.execute('vcenterRestoreStep', {
      taskQueue: h.taskQueue,
      workflowId: `policy-restore-${nonce}`,
      args: [{ endpoint: sim('vcenter', 'vc-new'), restore: restoreSpec(), pollIntervalMs: 100 }],
    });
    expect(restored).toMatchObject({ product: 'vcenter', action: 'restore', outcome: 'succeeded' });
    expect(asked).toContain(`file:${files.sso}`);
    expect(trap.sockets()).toBe(0);
  }, 90_000);
});
