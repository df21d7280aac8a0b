import { Context } from '@temporalio/activity';
import type { SddcManagerEndpoint, VcdaEndpoint, VcenterEndpoint } from '../src/config';
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

/** Read-only activities a runbook needs besides the product steps: finding archives, checking endpoints. */
export function createRunbookActivities(pool: ClientPool, opts: ResolvedActivitiesOptions) {
  return {
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
