import { Context } from '@temporalio/activity';
import type { SddcManagerEndpoint, VcdaEndpoint, VcenterEndpoint } from '../src/config';
import { request } from 'undici';
import { ApplicationFailure } from '@temporalio/common';
import { NotFound } from '../src/errors';
import type { SecretRef } from '../src/secrets';
import type { ClientPool } from './clients';
import type { ResolvedActivitiesOptions } from './options';
import { asActivity } from './step';

export interface FindVcenterArchiveInput {
  /** Any reachable vCenter (the freshly deployed one to restore works: archives are on the backup server). */
  endpoint: VcenterEndpoint;
  location: { url: string; username?: string; passwordRef?: SecretRef };
  /** `latest` or an archive id. */
  archive: string;
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
      const { client, info } = Context.current();
      const res = await client.connection.operatorService.listSearchAttributes({ namespace: info.workflowNamespace });
      return Object.keys(res.customAttributes ?? {});
    },

    /** POSTs a notification (JSON with a one-line `text`) to a webhook whose URL is a secret reference. */
    async sendNotification(input: NotifyInput): Promise<{ status: number }> {
      return asActivity(opts, async () => {
        const url = (await opts.secrets.resolve(input.urlRef, 'notify.urlRef')).reveal();
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
            'NotificationFailed',
          );
        });
        await res.body.dump();
        if (res.statusCode >= 300) {
          throw ApplicationFailure.retryable(`webhook answered HTTP ${res.statusCode}`, 'NotificationFailed');
        }
        return { status: res.statusCode };
      });
    },

    /** Resolves `latest` (or an archive id) to the archive folder a vCenter restore points at. Read only. */
    async findVcenterArchive(input: FindVcenterArchiveInput): Promise<VcenterArchiveRef> {
      return asActivity(opts, async () => {
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
