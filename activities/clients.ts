import type { Dispatcher } from 'undici';
import {
  type SddcManagerEndpoint,
  type TlsSettings,
  type VcdaEndpoint,
  type VcenterEndpoint,
  endpointName,
} from '../src/contract/endpoints';
import type { Product } from '../src/contract/names';
import type { Secret } from '../src/core/secrets';
import { SddcManagerClient } from '../src/sddc-manager/client';
import { createDispatcher } from '../src/core/tls';
import { VcdaClient } from '../src/vcda/client';
import { VcenterClient } from '../src/vcenter/client';
import type { ResolvedActivitiesOptions } from './options';

/** What every product client is built from. */
interface CommonClientOptions {
  url: string;
  appliance: string;
  timeoutMs: number;
  dispatcher: Dispatcher;
  credentials: () => Promise<{ username: string; password: Secret }>;
}

interface AnyEndpoint {
  name?: string;
  url: string;
  allowHttp?: boolean;
  username: string;
  passwordRef: string;
  tls?: TlsSettings;
}

/**
 * One client per endpoint per worker, so sessions and tokens are reused across activities and
 * refreshed in one place. Keyed by everything that identifies the endpoint (a secret's
 * reference, never its value). With a credential policy, every endpoint is checked before its
 * client is taken or built (`NotPermitted`).
 */
export class ClientPool {
  private readonly clients = new Map<string, unknown>();

  constructor(private readonly opts: ResolvedActivitiesOptions) {}

  private cached<C>(
    product: Product,
    endpoint: AnyEndpoint,
    extraKey: unknown[],
    build: (common: CommonClientOptions) => C,
  ): C {
    const key = JSON.stringify([
      product,
      endpoint.url,
      endpoint.username,
      endpoint.passwordRef,
      endpoint.tls ?? {},
      ...extraKey,
    ]);
    // The credential policy, before a client (and so a connection) exists: the appliance, its
    // http/TLS settings and its login reference. A refused endpoint gets no TCP connection at all.
    const policy = this.opts.policy;
    policy?.checkEndpoint(product, endpoint, 'endpoint');
    policy?.checkSecret(product, endpoint, 'login', endpoint.passwordRef, 'endpoint.passwordRef');
    let client = this.clients.get(key) as C | undefined;
    if (!client) {
      const appliance = endpointName(endpoint);
      client = build({
        url: endpoint.url,
        appliance,
        timeoutMs: this.opts.requestTimeoutMs,
        dispatcher: createDispatcher({ tls: endpoint.tls, label: `${product} ${appliance}`, warn: this.opts.warn }),
        // Resolved at each login, inside the activity: the secret never travels further.
        credentials: async () => {
          policy?.checkSecret(product, endpoint, 'login', endpoint.passwordRef, 'endpoint.passwordRef');
          return {
            username: endpoint.username,
            password: await this.opts.secrets.resolve(endpoint.passwordRef, `${product} ${appliance} passwordRef`),
          };
        },
      });
      this.clients.set(key, client);
    }
    return client;
  }

  vcenter(endpoint: VcenterEndpoint): VcenterClient {
    return this.cached(
      'vcenter',
      endpoint,
      [endpoint.apiForm ?? 'auto'],
      (c) => new VcenterClient({ ...c, apiForm: endpoint.apiForm }),
    );
  }

  sddcManager(endpoint: SddcManagerEndpoint): SddcManagerClient {
    return this.cached(
      'sddc-manager',
      endpoint,
      [endpoint.restoreAuth ?? 'bearer'],
      (c) => new SddcManagerClient({ ...c, restoreAuth: endpoint.restoreAuth }),
    );
  }

  vcda(endpoint: VcdaEndpoint): VcdaClient {
    return this.cached(
      'vcda',
      endpoint,
      [endpoint.authType ?? 'localUser', endpoint.apiVersion ?? ''],
      (c) => new VcdaClient({ ...c, authType: endpoint.authType, apiVersion: endpoint.apiVersion }),
    );
  }
}
