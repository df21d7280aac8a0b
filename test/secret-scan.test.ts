/**
 * The secret scan: runbooks (a full-site backup with a webhook, a restore that waits for and gets
 * an approval, a dry run, a failing run, a cancelled run) run on the real dev server against the
 * simulator with marker secrets (`Zz-MARKER-<random>`: appliance, location, backup-encryption and
 * wrong passwords, and a webhook URL with a token) in environment variables the documents
 * reference. Then every place a secret could leak is scanned for the markers: the full history of
 * every workflow of the task queue (runbooks, step children, appliance leases), their search
 * attributes and memos, every worker log entry, the CLI's output (`status --json`, `report
 * --format json`, `cancel --json`, `list --json`) and the reports. Payload encryption is off here
 * on purpose, so the scan reads plaintext: encryption must not be what hides a leak. The worker
 * enforces a credential policy, and one more runbook tries to send the marker secrets where the
 * policy does not allow (an appliance, a backup location and a webhook at a trap listener): its
 * refusals (errors, reports, the worker's log entries of them) are scanned too.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { inspect } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { main } from '../src/cli/index';
import type { RunbookDocument } from '../src/contract/runbook/document';
import type { RunbookReport } from '../src/contract/runbook/report';
import { approveUpdate, progressQuery } from '../src/contract/messages';
import { simulatedEndpoint } from './support/endpoints';
import { type Harness, createHarness } from './support/harness';
import { historyText } from './support/history';
import { parsedPolicy, simulatorPolicy } from './support/policy';
import type { CredentialPolicy } from '../src/core/policy/index';

const nonce = randomBytes(4).toString('hex');
/** Every secret value of this file starts with this; a hit anywhere is a leak. */
const MARKER = `Zz-MARKER-${nonce}`;
const SECRETS = {
  SCAN_APPLIANCE_PASSWORD: `${MARKER}-appliance`,
  SCAN_SFTP_PASSWORD: `${MARKER}-sftp`,
  // vCenter's backup-password policy: 8–20 characters with upper, lower, digit and special.
  SCAN_BACKUP_PASSWORD: `Zz-MARKER-${nonce.slice(0, 6)}9#`,
  SCAN_WRONG_PASSWORD: `${MARKER}-wrong`,
};
const MARKER_PATTERN = /Zz-MARKER-[0-9a-f]{6}/;

/** A Temporal logger that records every entry (all levels, metadata and errors with their stacks). */
class RecordingLogger implements Logger {
  readonly lines: string[] = [];
  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    this.lines.push(`${level} ${message} ${inspect(meta ?? {}, { depth: 8, breakLength: Infinity })}`);
  }
  trace = (m: string, meta?: LogMetadata) => this.log('TRACE', m, meta);
  debug = (m: string, meta?: LogMetadata) => this.log('DEBUG', m, meta);
  info = (m: string, meta?: LogMetadata) => this.log('INFO', m, meta);
  warn = (m: string, meta?: LogMetadata) => this.log('WARN', m, meta);
  error = (m: string, meta?: LogMetadata) => this.log('ERROR', m, meta);
}

interface Webhook {
  url: string;
  /** Request paths (the marker token is in the path) and JSON bodies received. */
  paths: string[];
  bodies: unknown[];
  close(): Promise<void>;
}

/** A webhook receiver on 127.0.0.1 that records what it is sent (the runbook's `notify`). */
async function startWebhook(): Promise<Webhook> {
  const paths: string[] = [];
  const bodies: unknown[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      paths.push(req.url ?? '');
      bodies.push(JSON.parse(data) as unknown);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    paths,
    bodies,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A TCP listener no policy lists (an attacker's host): counts the connections it accepts. */
async function startTrap(): Promise<{ port: number; sockets: () => number; close(): Promise<void> }> {
  let sockets = 0;
  const server = createTcpServer((socket) => {
    sockets++;
    socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    sockets: () => sockets,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('secret scan: marker secrets appear nowhere', () => {
  let h: Harness;
  let hook: Webhook;
  let trap: Awaited<ReturnType<typeof startTrap>>;
  let policy: CredentialPolicy;
  const saved = new Map<string, string | undefined>();
  const logs = new RecordingLogger();
  const runtime = Runtime.instance() as unknown as { logger: Logger };
  const originalLogger = runtime.logger;
  const cliOutput: string[] = [];
  const reports: RunbookReport[] = [];
  const runIds: string[] = [];
  let backup: RunbookDocument;

  beforeAll(async () => {
    hook = await startWebhook();
    trap = await startTrap();
    for (const [k, v] of Object.entries({
      ...SECRETS,
      SCAN_HOOK_URL: `${hook.url}/hook/${MARKER}-token`,
      SCAN_TRAP_HOOK_URL: `https://127.0.0.1:${trap.port}/hook/${MARKER}-trap`,
    })) {
      saved.set(k, process.env[k]);
      process.env[k] = v;
    }
    h = await createHarness({
      vcenters: 1,
      sddcManagers: 1,
      vcdas: 1,
      jobSeconds: 1,
      credentials: { password: SECRETS.SCAN_APPLIANCE_PASSWORD },
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
              backupPassword: SECRETS.SCAN_BACKUP_PASSWORD,
            },
          ],
        },
      ],
    });
    const { vcenter, sddcManager, vcda } = h.sim.info;
    const ref = 'env:SCAN_APPLIANCE_PASSWORD';
    const vc = (name: string) =>
      simulatedEndpoint(
        'vcenter',
        vcenter.find((v) => v.url.endsWith(`/${name}`))!,
        ref,
      );
    backup = {
      apiVersion: 'vmware-dr/v1',
      kind: 'Runbook',
      name: 'scan-site',
      site: 'scan',
      defaults: { pollInterval: '100ms' },
      notify: [{ urlRef: 'env:SCAN_HOOK_URL', on: ['approval-needed', 'failed', 'succeeded'] }],
      endpoints: {
        'sddc-a': simulatedEndpoint('sddc-manager', sddcManager[0]!, ref),
        'vc-1': vc('vc-1'),
        'vc-new': vc('vc-new'),
        'vcda-a': simulatedEndpoint('vcda', vcda[0]!, ref),
      },
      locations: {
        'sftp-a': {
          type: 'SFTP',
          url: 'sftp://backup.example.com/vcsa',
          username: 'backup',
          passwordRef: 'env:SCAN_SFTP_PASSWORD',
          encryptionPasswordRef: 'env:SCAN_BACKUP_PASSWORD',
        },
      },
      stages: [
        { name: 'sddc-manager', steps: [{ backup: 'sddc-a' }] },
        { name: 'vcenters', steps: [{ backup: 'vc-1', to: 'sftp-a' }] },
        { name: 'vcda', steps: [{ backup: 'vcda-a' }] },
      ],
    } as RunbookDocument;
    // The worker's credential policy: the simulated site, its references, the location, the webhook.
    policy = parsedPolicy(
      simulatorPolicy({
        url: h.sim.url,
        caFile: h.sim.info.caFile,
        login: ['env:SCAN_APPLIANCE_PASSWORD', 'env:SCAN_WRONG_PASSWORD'],
        encryption: ['env:SCAN_BACKUP_PASSWORD'],
        locations: [{ name: 'sftp-a', url: 'sftp://backup.example.com/vcsa', passwords: ['env:SCAN_SFTP_PASSWORD'] }],
        webhooks: [
          { name: 'scan', urlRefs: ['env:SCAN_HOOK_URL'], hosts: [new URL(hook.url).host], allowHttp: true },
          { name: 'chat', urlRefs: ['env:SCAN_TRAP_HOOK_URL'], hosts: ['hooks.example.com'] },
        ],
      }),
      'scan-policy.yaml',
    );
    // The worker takes the runtime's logger when it is created: record everything it logs.
    runtime.logger = logs;
  });

  afterAll(async () => {
    runtime.logger = originalLogger;
    // Appliance lease workflows idle a while after their last step: end them with the test.
    if (h) {
      for await (const w of h.env.client.workflow.list({
        query: `TaskQueue = "${h.taskQueue}" AND ExecutionStatus = "Running"`,
      }))
        await h.env.client.workflow
          .getHandle(w.workflowId, w.runId)
          .terminate('secret scan ended')
          .catch(() => undefined);
      await h.close();
    }
    await hook?.close();
    await trap?.close();
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  const start = (doc: unknown, options: unknown, kind: string) => {
    const workflowId = `scan-${kind}-${nonce}`;
    runIds.push(workflowId);
    return h.env.client.workflow.start<(d: unknown, o: unknown) => Promise<RunbookReport>>('drRunbook', {
      taskQueue: h.taskQueue,
      workflowId,
      args: [doc, options],
    });
  };
  /** Resolves once `predicate` holds for the run's progress report. */
  const waitFor = async (handle: WorkflowHandle, predicate: (r: RunbookReport) => boolean): Promise<RunbookReport> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = (await handle.query(progressQuery).catch(() => undefined)) as RunbookReport | undefined;
      if (r && predicate(r)) return r;
      if (Date.now() > deadline) throw new Error(`timed out waiting on ${handle.workflowId}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  };
  const cli = async (argv: string[]): Promise<number> => {
    const flags = ['--address', inject('temporalAddress'), '--namespace', inject('temporalNamespace')];
    const write = (s: string) => void cliOutput.push(s);
    return main([...argv, ...flags], { stdout: write, stderr: write });
  };

  it('runs backup, restore with approval, dry run, a failing run, a cancelled run and a refused run with marker secrets', async () => {
    await h.withWorker(
      async () => {
        // 1. The full-site backup (notifies the webhook whose URL holds a token).
        reports.push(await (await start(backup, {}, 'backup')).result());
        // 2. A vCenter restore that waits for approval; approved through the Update.
        const restoreDoc = {
          ...backup,
          name: 'scan-restore',
          stages: [
            {
              name: 'restore',
              steps: [
                {
                  restore: 'vc-new',
                  from: 'sftp-a',
                  archive: 'latest',
                  systemName: 'vc-1.sim.local',
                  ignoreWarnings: true,
                },
              ],
            },
          ],
        };
        const restore = await start(restoreDoc, {}, 'restore');
        const waiting = await waitFor(restore, (r) => r.steps.some((s) => s.state === 'waiting-approval'));
        // Approved by another person than the starter (four eyes): a client with its own identity.
        await h
          .as('alice@scan.test')
          .workflow.getHandle(restore.workflowId)
          .executeUpdate(approveUpdate, {
            args: [{ step: waiting.steps[0]!.id, by: 'alice', comment: 'scan approval' }],
          });
        reports.push(await restore.result());
        // 3. A dry run of the backup.
        reports.push(await (await start(backup, { dryRun: true }, 'dryrun')).result());
        // 4. A failing run: vc-1 with a wrong password (the appliance refuses the login).
        const failing = {
          ...backup,
          name: 'scan-failing',
          endpoints: {
            ...backup.endpoints,
            'vc-1': { ...backup.endpoints['vc-1']!, passwordRef: 'env:SCAN_WRONG_PASSWORD' },
          },
          stages: [{ name: 'vcenters', steps: [{ backup: 'vc-1', to: 'sftp-a' }] }],
        };
        reports.push(await (await start(failing, {}, 'failing')).result());
        // 5. A cancelled run: cancelled by the CLI while its first step runs on the appliance.
        const cancelled = await start(backup, {}, 'cancelled');
        await waitFor(cancelled, (r) => r.steps.some((s) => s.state === 'running'));
        expect(await cli(['cancel', cancelled.workflowId, '--json'])).toBe(0); // 0: the run ended cancelled
        reports.push(await cancelled.result());
        // 6. A run the credential policy refuses: the marker secrets pointed at the trap (an
        // appliance, a backup location, a webhook), every step and the notification refused.
        const trapUrl = `https://127.0.0.1:${trap.port}`;
        const refused = {
          ...backup,
          name: 'scan-refused',
          notify: [{ urlRef: 'env:SCAN_TRAP_HOOK_URL', on: ['failed'] }],
          endpoints: {
            ...backup.endpoints,
            'vc-trap': { ...backup.endpoints['vc-1']!, url: `${trapUrl}/vcenter/vc-1` },
          },
          locations: {
            ...backup.locations,
            loot: { ...backup.locations!['sftp-a']!, url: `sftp://127.0.0.1:${trap.port}/loot` },
          },
          stages: [
            {
              name: 'steal',
              steps: [
                { backup: 'vc-trap', to: 'sftp-a', continueOnFailure: true },
                { backup: 'vc-1', to: 'loot', continueOnFailure: true },
              ],
            },
          ],
        };
        reports.push(await (await start(refused, {}, 'refused')).result());
      },
      { policy },
    );
    expect(reports.map((r) => r.outcome)).toEqual([
      'succeeded',
      'succeeded',
      'dry-run',
      'failed',
      'cancelled',
      'failed',
    ]);
    expect(reports[5]!.steps.map((st) => st.error?.type)).toEqual(['NotPermitted', 'NotPermitted']);
    expect(trap.sockets()).toBe(0);
    // The failing run failed on the login, as intended (so its error message was a candidate leak).
    expect(reports[3]!.steps[0]!.error?.type).toBe('AuthenticationFailed');
    // The secrets were really used: the appliances accepted the marker password (the backups and
    // the restore succeeded) and the webhook was called at its marker URL.
    expect(reports[0]!.steps.every((st) => st.state === 'succeeded')).toBe(true);
    expect(hook.paths.length).toBeGreaterThan(0);
    for (const path of hook.paths) expect(path).toBe(`/hook/${MARKER}-token`);
  });

  it('scans every history, search attribute, memo, log entry, CLI output and report: 0 hits', async () => {
    // CLI output for each run.
    for (const id of runIds) {
      await cli(['status', id, '--json']);
      await cli(['report', id, '--format', 'json']);
      await cli(['report', id, '--format', 'md']);
    }
    await cli(['list', '--json']);

    // Every workflow of the task queue: runbooks, step children, lease workflows.
    const client = h.env.client;
    const executions: { workflowId: string; runId: string; type: string }[] = [];
    for await (const w of client.workflow.list({ query: `TaskQueue = "${h.taskQueue}"` }))
      executions.push({ workflowId: w.workflowId, runId: w.runId, type: w.type });
    for (const id of runIds) expect(executions.map((e) => e.workflowId)).toContain(id);
    const children = executions.filter((e) => runIds.some((id) => e.workflowId.startsWith(`${id}/`)));
    expect(children.length).toBeGreaterThanOrEqual(5);
    expect(executions.some((e) => !runIds.includes(e.workflowId) && !children.includes(e))).toBe(true); // leases

    const places: { where: string; text: string }[] = [];
    let events = 0;
    for (const e of executions) {
      const handle = client.workflow.getHandle(e.workflowId, e.runId);
      const history = await handle.fetchHistory();
      events += history.events?.length ?? 0;
      places.push({ where: `history ${e.workflowId}`, text: historyText(history) });
      const d = await handle.describe();
      places.push({
        where: `search attributes ${e.workflowId}`,
        text:
          JSON.stringify(d.typedSearchAttributes.getAll()) + historyText(d.raw.workflowExecutionInfo?.searchAttributes),
      });
      places.push({
        where: `memo ${e.workflowId}`,
        text: JSON.stringify(d.memo ?? {}) + historyText(d.raw.workflowExecutionInfo?.memo),
      });
      places.push({ where: `describe ${e.workflowId}`, text: historyText(d.raw) });
    }
    logs.lines.forEach((line, i) => places.push({ where: `worker log entry ${i}`, text: line }));
    cliOutput.forEach((out, i) => places.push({ where: `CLI output ${i}`, text: out }));
    reports.forEach((r, i) => places.push({ where: `report ${i}`, text: JSON.stringify(r) }));
    hook.bodies.forEach((b, i) => places.push({ where: `webhook body ${i}`, text: JSON.stringify(b) }));

    // The scan can see: the references (variable names) are there, and a planted marker would be found.
    const all = places.map((p) => p.text).join('\n');
    expect(all).toContain('env:SCAN_APPLIANCE_PASSWORD');
    expect(all).toContain('env:SCAN_WRONG_PASSWORD');
    // The refusals were there to scan: in the histories and reports, and logged by the worker.
    expect(all).toContain('credential policy');
    expect(logs.lines.some((line) => line.includes('NotPermitted'))).toBe(true);
    expect(logs.lines.length).toBeGreaterThan(10);
    expect(cliOutput.join('')).toContain('"outcome"');
    expect(MARKER_PATTERN.test(`x ${SECRETS.SCAN_BACKUP_PASSWORD} x`)).toBe(true);

    const hits = places.filter((p) => MARKER_PATTERN.test(p.text) || p.text.includes(MARKER)).map((p) => p.where);
    const bytes = places.reduce((n, p) => n + p.text.length, 0);
    console.log(
      `secret scan: ${hits.length} hits in ${places.length} places (${executions.length} workflows, ${events} history events, ${logs.lines.length} worker log entries, ${cliOutput.length} CLI outputs, ${reports.length} reports, ${hook.bodies.length} webhook bodies; ${(bytes / 1024).toFixed(0)} KiB)`,
    );
    if (process.env.VMWARE_DR_SECRET_SCAN_OUT)
      writeFileSync(
        process.env.VMWARE_DR_SECRET_SCAN_OUT,
        `${JSON.stringify({ hits: hits.length, places: places.length, workflows: executions.length, historyEvents: events, logEntries: logs.lines.length, cliOutputs: cliOutput.length, reports: reports.length, webhookBodies: hook.bodies.length, kib: Math.round(bytes / 1024) }, null, 2)}\n`,
      );
    expect(hits).toEqual([]);
  });
});
