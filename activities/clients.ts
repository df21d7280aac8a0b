import { type SddcManagerEndpoint, type VcdaEndpoint, type VcenterEndpoint, endpointName } from '../src/config';
import { SddcManagerClient } from '../src/sddc-manager/client';
import { createDispatcher } from '../src/tls';
import { VcdaClient } from '../src/vcda/client';
import { VcenterClient } from '../src/vcenter/client';
import type { ResolvedActivitiesOptions } from './options';

/**
 * One client per endpoint per worker, so sessions and tokens are reused across activities and
 * refreshed in one place. Keyed by everything that identifies the endpoint (never by a secret).
 */
export class ClientPool {
  private readonly vcenters = new Map<string, VcenterClient>();
  private readonly vcdas = new Map<string, VcdaClient>();
  private readonly sddcManagers = new Map<string, SddcManagerClient>();

  constructor(private readonly opts: ResolvedActivitiesOptions) {}

  private credentials(product: string, endpoint: { username: string; passwordRef: string }, appliance: string) {
    return async () => ({
      username: endpoint.username,
      password: await this.opts.secrets.resolve(endpoint.passwordRef, `${product} ${appliance} passwordRef`),
    });
  }

  sddcManager(endpoint: SddcManagerEndpoint): SddcManagerClient {
    const key = JSON.stringify([endpoint.url, endpoint.username, endpoint.passwordRef, endpoint.restoreAuth ?? 'bearer', endpoint.tls ?? {}]);
    let client = this.sddcManagers.get(key);
    if (!client) {
      const appliance = endpointName(endpoint);
      client = new SddcManagerClient({
        url: endpoint.url,
        appliance,
        restoreAuth: endpoint.restoreAuth,
        timeoutMs: this.opts.requestTimeoutMs,
        dispatcher: createDispatcher({ tls: endpoint.tls, label: `sddc-manager ${appliance}`, warn: this.opts.warn }),
        credentials: this.credentials('sddc-manager', endpoint, appliance),
      });
      this.sddcManagers.set(key, client);
    }
    return client;
  }

  vcda(endpoint: VcdaEndpoint): VcdaClient {
    const key = JSON.stringify([endpoint.url, endpoint.username, endpoint.passwordRef, endpoint.authType ?? 'localUser', endpoint.apiVersion ?? '', endpoint.tls ?? {}]);
    let client = this.vcdas.get(key);
    if (!client) {
      const appliance = endpointName(endpoint);
      client = new VcdaClient({
        url: endpoint.url,
        appliance,
        authType: endpoint.authType,
        apiVersion: endpoint.apiVersion,
        timeoutMs: this.opts.requestTimeoutMs,
        dispatcher: createDispatcher({ tls: endpoint.tls, label: `vcda ${appliance}`, warn: this.opts.warn }),
        credentials: this.credentials('vcda', endpoint, appliance),
      });
      this.vcdas.set(key, client);
    }
    return client;
  }

  vcenter(endpoint: VcenterEndpoint): VcenterClient {
    const key = JSON.stringify([endpoint.url, endpoint.username, endpoint.passwordRef, endpoint.apiForm ?? 'auto', endpoint.tls ?? {}]);
    let client = this.vcenters.get(key);
    if (!client) {
      const appliance = endpointName(endpoint);
      client = new VcenterClient({
        url: endpoint.url,
        appliance,
        apiForm: endpoint.apiForm,
        timeoutMs: this.opts.requestTimeoutMs,
        dispatcher: createDispatcher({ tls: endpoint.tls, label: `vcenter ${appliance}`, warn: this.opts.warn }),
        credentials: this.credentials('vcenter', endpoint, appliance),
      });
      this.vcenters.set(key, client);
    }
    return client;
  }
}
