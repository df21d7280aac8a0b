import { type VcenterEndpoint, endpointName } from '../src/config';
import { createDispatcher } from '../src/tls';
import { VcenterClient } from '../src/vcenter/client';
import type { ResolvedActivitiesOptions } from './options';

/**
 * One client per endpoint per worker, so sessions and tokens are reused across activities and
 * refreshed in one place. Keyed by everything that identifies the endpoint (never by a secret).
 */
export class ClientPool {
  private readonly vcenters = new Map<string, VcenterClient>();

  constructor(private readonly opts: ResolvedActivitiesOptions) {}

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
        credentials: async () => ({
          username: endpoint.username,
          password: await this.opts.secrets.resolve(endpoint.passwordRef, `vcenter ${appliance} passwordRef`),
        }),
      });
      this.vcenters.set(key, client);
    }
    return client;
  }
}
