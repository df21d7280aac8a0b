import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { SddcManagerEndpoint, VcdaEndpoint, VcenterEndpoint } from '../src/contract/endpoints';
import { request } from 'undici';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { NOTIFICATION_FAILED_TYPE, NotFound, RECOVERY_POINT_UNUSABLE_TYPE } from '../src/core/errors';
import type { RunbookReport } from '../src/contract/runbook/report';
import type { SecretRef } from '../src/core/secrets';
import type { ClientPool } from './clients';
import type { ResolvedActivitiesOptions } from './options';
import { asActivity } from './step';
import { registeredSearchAttributes } from './policy';
import { stepMarker } from './vcenter';

export interface FindVcenterArchiveInput {
  /** Any reachable vCenter (the freshly deployed one to restore works: archives are on the backup server). */
  endpoint: VcenterEndpoint;
  location: { url: string; username?: string; passwordRef?: SecretRef };
  /** `latest` or an archive id (ignored when `commentContains` is given). */
  archive: string;
  /**
   * The archive whose comment contains this text (a step's marker, see `readRecoveryPoint`),
   * searched among every system's backups at the location (or `systemName`'s): exactly one must match.
   */
  commentContains?: string;
  /** Whose backups; default: the only system at the location, else the endpoint URL's host. */
  systemName?: string;
}

export interface VcenterArchiveRef {
  systemName: string;
  archive: string;
  /** The archive folder: what a restore request points at. */
  location: string;
  timestamp: string;
}

export interface ReadRecoveryPointInput {
  /** The workflow id of a `drRunbook` backup run. */
  workflowId: string;
}

/** One backup of a recovery point, with what finds its archive again. */
export interface RecoveryPointBackup {
  /** The endpoint's name in the backup runbook. */
  endpoint: string;
  product: string;
  /** The backup step's id in that run (`2.1`). */
  step: string;
  /** The job or task id. */
  remoteId: string;
  /** Where the backup went (vCenter: the location URL). */
  location?: string;
  /** vCenter: text every archive of that step carries in its comment (the job marker of the step). */
  marker?: string;
}

export interface RecoveryPointSet {
  workflowId: string;
  runbook: string;
  takenAt: string;
  backups: RecoveryPointBackup[];
}

export type CheckEndpointInput =
  | { product: 'vcenter'; endpoint: VcenterEndpoint }
  | { product: 'sddc-manager'; endpoint: SddcManagerEndpoint }
  | { product: 'vcda'; endpoint: VcdaEndpoint };

export interface EndpointCheck {
  appliance: string;
  /** What was checked, in words (login, API form, version). */
  checks: string[];
}

export interface NotifyInput {
  /** Secret reference to the webhook URL (hook URLs carry tokens). */
  urlRef: SecretRef;
  /** The JSON body; `text` is the one line chat tools show. */
  body: { text: string; event: string; [key: string]: unknown };
}

/** Read-only activities a runbook needs besides the product steps, and its notifications. */
export function createRunbookActivities(pool: ClientPool, opts: ResolvedActivitiesOptions) {
  return {
    /** The custom search attributes the namespace has, so a run upserts only those (a namespace without them must not break a run). */
    async registeredSearchAttributes(): Promise<string[]> {
      const ctx = Context.current();
      return registeredSearchAttributes(opts.client(), ctx);
    },

    /** POSTs a notification (JSON with a one-line `text`) to a webhook whose URL is a secret reference. */
    async sendNotification(input: NotifyInput): Promise<{ status: number }> {
      return asActivity(opts, async () => {
        // The credential policy: a listed reference, and (after it is read) a listed host, before any request.
        opts.policy?.checkWebhookRef(input.urlRef, 'notify.urlRef');
        const url = (await opts.secrets.resolve(input.urlRef, 'notify.urlRef')).reveal();
        opts.policy?.checkWebhookUrl(input.urlRef, url, 'notify.urlRef');
        const res = await request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(input.body),
          signal: Context.current().cancellationSignal,
          headersTimeout: opts.requestTimeoutMs,
          bodyTimeout: opts.requestTimeoutMs,
        }).catch((err: unknown) => {
          // Never repeat the URL: it carries the hook's token.
          throw ApplicationFailure.retryable(
            `webhook request failed (${(err as { code?: string }).code ?? 'error'})`,
            NOTIFICATION_FAILED_TYPE,
          );
        });
        await res.body.dump();
        if (res.statusCode >= 300) {
          throw ApplicationFailure.retryable(`webhook answered HTTP ${res.statusCode}`, NOTIFICATION_FAILED_TYPE);
        }
        return { status: res.statusCode };
      });
    },

    /**
     * Reads the recovery point of a finished `drRunbook` backup run (its result, through the
     * Temporal client). Read only. Refuses, non-retryable (`RecoveryPointUnusable`), an id that is
     * no run, a run that is not a finished `drRunbook` (still running, failed, cancelled,
     * terminated), and one whose report is not `succeeded` or has no recovery point: a set with a
     * backup missing is no consistent point to restore to.
     */
    async readRecoveryPoint(input: ReadRecoveryPointInput): Promise<RecoveryPointSet> {
      const unusable = (why: string, fix: string) =>
        ApplicationFailure.create({
          type: RECOVERY_POINT_UNUSABLE_TYPE,
          message: `recovery point ${input.workflowId}: ${why}. Fix: ${fix}`,
          nonRetryable: true,
        });
      const ctx = Context.current();
      // Heartbeats while it reads (the workflow sets a heartbeat timeout on it, so a dead worker's
      // attempt is retried within seconds).
      const ticker = setInterval(() => ctx.heartbeat(), 3_000);
      try {
        return await readRecoveryPointOf(opts.client(), input, unusable);
      } finally {
        clearInterval(ticker);
      }
    },

    /** Resolves `latest` (or an archive id) to the archive folder a vCenter restore points at. Read only. */
    async findVcenterArchive(input: FindVcenterArchiveInput): Promise<VcenterArchiveRef> {
      return asActivity(opts, async () => {
        opts.policy?.checkEndpoint('vcenter', input.endpoint, 'endpoint');
        opts.policy?.checkLocation(
          'vcenter',
          input.endpoint,
          input.location.url,
          input.location.passwordRef,
          'location.url',
          'location.passwordRef',
        );
        const client = pool.vcenter(input.endpoint);
        const signal = Context.current().cancellationSignal;
        const password = input.location.passwordRef
          ? await opts.secrets.resolve(input.location.passwordRef, 'location.passwordRef')
          : undefined;
        const loc = {
          location: input.location.url,
          ...(input.location.username !== undefined && { location_user: input.location.username }),
          ...(password && { location_password: password.reveal() }),
        };
        const context = client.http.context('archiveList');
        const systems = await client.systemNames(loc, signal);
        if (input.commentContains !== undefined) {
          const marker = input.commentContains;
          const hits: { systemName: string; archive: string }[] = [];
          for (const system of input.systemName ? [input.systemName] : systems) {
            for (const a of await client.archives(system, loc, { comment_substring: marker }, signal))
              if (a.comment?.includes(marker)) hits.push({ systemName: system, archive: a.archive });
          }
          if (hits.length !== 1) {
            throw new NotFound(
              hits.length === 0
                ? `no archive at the location carries ${marker} (the backup of the recovery point)`
                : `${hits.length} archives at the location carry ${marker}: ${hits.map((h) => `${h.systemName}/${h.archive}`).join(', ')}`,
              {
                ...context,
                remediation:
                  "check that the restore step's from location is the one the backup went to and that the archive was not removed",
              },
            );
          }
          const { systemName, archive } = hits[0]!;
          const info = await client.archiveGet(systemName, archive, loc, signal);
          return { systemName, archive, location: info.location, timestamp: info.timestamp };
        }
        const host = /^[a-z]+:\/\/([^/:?#]+)/i.exec(input.endpoint.url)?.[1]?.toLowerCase();
        const systemName =
          input.systemName ?? (systems.length === 1 ? systems[0] : systems.find((s) => s.toLowerCase() === host));
        if (!systemName || !systems.includes(systemName)) {
          throw new NotFound(`no backups of ${input.systemName ?? host ?? 'this appliance'} at the location`, {
            ...context,
            messages: [`systems with backups there: ${systems.join(', ') || 'none'}`],
            remediation: 'set systemName on the restore step to one of the systems listed, or check the location',
          });
        }
        const archives = await client.archives(systemName, loc, {}, signal);
        const sorted = [...archives].sort((a, b) => Date.parse(b.timestamp) - Date.parse(a.timestamp));
        const chosen = input.archive === 'latest' ? sorted[0] : sorted.find((a) => a.archive === input.archive);
        if (!chosen) {
          throw new NotFound(`archive ${input.archive} of ${systemName} not found`, {
            ...context,
            remediation: 'use archive: latest or an id the location lists',
          });
        }
        const info = await client.archiveGet(systemName, chosen.archive, loc, signal);
        return { systemName, archive: chosen.archive, location: info.location, timestamp: info.timestamp };
      });
    },

    /** Logs in and reads one harmless thing: proves the URL, TLS, credentials and API form. Read only. */
    async checkEndpoint(input: CheckEndpointInput): Promise<EndpointCheck> {
      return asActivity(opts, async () => {
        const signal = Context.current().cancellationSignal;
        switch (input.product) {
          case 'vcenter': {
            const client = pool.vcenter(input.endpoint);
            const info = await client.recoveryInfo(signal);
            return {
              appliance: client.http.appliance,
              checks: ['login', `appliance recovery API (${JSON.stringify(info).slice(0, 80)})`],
            };
          }
          case 'sddc-manager': {
            const client = pool.sddcManager(input.endpoint);
            await client.login(signal);
            return { appliance: client.http.appliance, checks: ['login (token)'] };
          }
          case 'vcda': {
            const client = pool.vcda(input.endpoint);
            await client.login(signal);
            return { appliance: client.http.appliance, checks: ['login (session)'] };
          }
        }
      });
    },
  };
}

/** The reads of {@link createRunbookActivities}' `readRecoveryPoint`. */
async function readRecoveryPointOf(
  client: Client,
  input: ReadRecoveryPointInput,
  unusable: (why: string, fix: string) => ApplicationFailure,
): Promise<RecoveryPointSet> {
  const handle = client.workflow.getHandle(input.workflowId);
  const description = await handle.describe().catch((err: unknown) => {
    if (err instanceof WorkflowNotFoundError)
      throw unusable(
        'no workflow run has this id in this namespace',
        'name the workflow id of a drRunbook backup run (its report lists it as workflowId)',
      );
    throw err;
  });
  if (description.type !== 'drRunbook')
    throw unusable(
      `it is a ${description.type} run, not a drRunbook`,
      'name the workflow id of a drRunbook backup run',
    );
  if (description.status.name !== 'COMPLETED')
    throw unusable(
      `the run is ${description.status.name}, not completed`,
      'name a backup run that completed (or wait for this one to end)',
    );
  const report = (await handle.result()) as RunbookReport;
  if (report.outcome !== 'succeeded')
    throw unusable(
      `the backup run ended ${report.outcome}: its backups are not a complete set`,
      'name a backup run whose outcome is succeeded',
    );
  if (!report.recoveryPoint || report.recoveryPoint.members.length === 0)
    throw unusable('the run made no backups', 'name a drRunbook run that backed up the endpoints to restore');
  const backups = report.recoveryPoint.members.map((m): RecoveryPointBackup => {
    const step =
      m.step ??
      report.steps.find((st) => st.action === 'backup' && st.endpoint === m.endpoint && st.remoteId === m.remoteId)?.id;
    if (step === undefined)
      throw unusable(`its report does not say which step backed up ${m.endpoint}`, 'name another backup run');
    return {
      endpoint: m.endpoint,
      product: m.product,
      step,
      remoteId: m.remoteId,
      ...(m.location !== undefined && { location: m.location }),
      // The runbook's step child is `<run id>/<step id>` and its vCenter job comment carries the
      // marker of its step id `<child id>/…` (workflows/runbook/, activities/vcenter.ts).
      ...(m.product === 'vcenter' && { marker: stepMarker(`${input.workflowId}/${step}/`).slice(0, -1) }),
    };
  });
  return { workflowId: input.workflowId, runbook: report.runbook, takenAt: report.recoveryPoint.takenAt, backups };
}
