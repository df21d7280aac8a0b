/** The multi-appliance simulator: one HTTP(S) port, per-appliance routes, faults, counters, admin endpoint. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNsxManagerAppliance } from './nsx-manager/appliance';
import { createSddcManagerAppliance } from './sddc-manager/appliance';
import { createVcdaAppliance } from './vcda';
import { VcenterAppliance, createVcenterAppliance } from './vcenter/appliance';
import { PRODUCT_PATH, type SimulatorApplianceSpec, checkApplianceSpecs, prepareVcenter } from './appliance-specs';
import { generatePki } from './cert';
import { FaultBook } from './faults';
import type {
  FaultRule,
  SimAppliance,
  SimProduct,
  SimRequest,
  SimResponse,
  SimRoute,
  SimulatorContext,
  StartedJob,
} from './types';

/** A factory per product: builds appliance number `index` (1-based). */
export type ApplianceFactory = (index: number, ctx: SimulatorContext) => SimAppliance;

export interface SimulatorOptions {
  /** Port on 127.0.0.1. Default 0 (a free port). */
  port?: number;
  host?: string;
  /** Serve plain HTTP instead of HTTPS with a fresh CA. Default false. */
  http?: boolean;
  vcenters?: number;
  sddcManagers?: number;
  vcdas?: number;
  /** Simulated NSX Managers. @default 0 */
  nsxManagers?: number;
  /**
   * Appliances with names (served at `/<product>/<name>`), after the numbered ones. When given,
   * `vcenters` defaults to 0 instead of 1.
   * @default []
   */
  appliances?: SimulatorApplianceSpec[];
  /** Seconds a job or task takes. Default 5. */
  jobSeconds?: number;
  /** vCenter session idle timeout in seconds. Default 1800 (30 min, as vCenter). */
  sessionIdleSeconds?: number;
  /** SDDC Manager access token lifetime in seconds. Default 3600. */
  tokenTtlSeconds?: number;
  /** Faults armed from the start. */
  faults?: FaultRule[];
  /** Product factories; default: the three real simulators. */
  factories?: Partial<Record<SimProduct, ApplianceFactory>>;
  /**
   * Fixed appliance passwords, so a worker configured from one run keeps working after a restart.
   * @default a fresh random password per appliance
   */
  credentials?: SimulatorCredentials;
  /**
   * Extra DNS names or IP addresses the HTTPS certificate is valid for (e.g. a compose service
   * name). The certificate always covers `host`, `127.0.0.1`, `::1` and `localhost`.
   * @default []
   */
  certNames?: string[];
}

/** Fixed passwords for the simulated appliances (usernames are fixed per product). */
export interface SimulatorCredentials {
  /** Password of every appliance not named in `appliances`. */
  password?: string;
  /** Password per appliance, keyed `<product>/<name>` as in its URL, e.g. `vcenter/vc-1`. */
  appliances?: Record<string, string>;
}

/** Request bodies above this many bytes are answered 413 before they are read. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface ApplianceInfo {
  url: string;
  username: string;
  password: string;
  caFile?: string;
}

/** The one JSON line `vmware-dr simulator` prints. */
export interface SimulatorInfo {
  vcenter: ApplianceInfo[];
  sddcManager: ApplianceInfo[];
  vcda: ApplianceInfo[];
  /** Only when the simulator serves NSX Managers (absent otherwise, so the line is unchanged without them). */
  nsxManager?: ApplianceInfo[];
  admin: string;
  caFile?: string;
}

export interface Counters {
  /** calls[product][appliance][operation] */
  calls: Record<string, Record<string, Record<string, number>>>;
  jobs: StartedJob[];
}

export interface Simulator {
  readonly info: SimulatorInfo;
  readonly url: string;
  readonly faults: FaultBook;
  counters(): Counters;
  resetCounters(): void;
  appliance(product: SimProduct, name: string): SimAppliance | undefined;
  close(): Promise<void>;
}

interface CompiledRoute extends SimRoute {
  segments: string[];
  queryMatch?: [string, string];
}

function compile(route: SimRoute): CompiledRoute {
  const [path, query] = route.pattern.split('?') as [string, string | undefined];
  const queryMatch = query ? (query.split('=') as [string, string]) : undefined;
  return { ...route, segments: path.split('/').filter(Boolean), queryMatch };
}

function match(
  route: CompiledRoute,
  method: string,
  segments: string[],
  query: URLSearchParams,
): Record<string, string> | undefined {
  if (route.method !== method || route.segments.length !== segments.length) return undefined;
  if (route.queryMatch && query.get(route.queryMatch[0]) !== route.queryMatch[1]) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const want = route.segments[i] as string;
    const got = segments[i] as string;
    if (want.startsWith(':')) params[want.slice(1)] = decodeURIComponent(got);
    else if (want !== got) return undefined;
  }
  return params;
}

/** Routes with a query discriminator are tried first, then literal segments before parameters. */
function specificity(r: CompiledRoute): number {
  return (r.queryMatch ? 1000 : 0) + r.segments.filter((s) => !s.startsWith(':')).length;
}

/** Thrown by {@link readBody} when a body (without or despite its content-length) grows past the bound. */
class BodyTooLarge extends Error {}

/** A request whose path or query has a `%` not followed by two hex digits (or decoding to bad UTF-8). */
class MalformedUrl extends Error {}

/** Checks every percent-encoded piece of a raw request target decodes, so handlers never see a half-decoded value. */
function checkPercentEncoding(target: string): void {
  const q = target.indexOf('?');
  const parts: [string, string[]][] = [
    ['path', (q < 0 ? target : target.slice(0, q)).split('/')],
    ['query', q < 0 ? [] : target.slice(q + 1).split(/[&=]/)],
  ];
  for (const [where, pieces] of parts) {
    for (const piece of pieces) {
      try {
        decodeURIComponent(piece.replace(/\+/g, ' '));
      } catch {
        throw new MalformedUrl(`malformed percent-encoding in the ${where}: ${JSON.stringify(piece)}`);
      }
    }
  }
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const DEFAULT_FACTORIES: Record<SimProduct, ApplianceFactory> = {
  vcenter: createVcenterAppliance,
  'sddc-manager': createSddcManagerAppliance,
  vcda: createVcdaAppliance,
  'nsx-manager': createNsxManagerAppliance,
};

/** The names the HTTPS certificate covers: loopback, the listen address (unless a wildcard) and `extra`. */
function certificateHosts(host: string, extra: string[]): string[] {
  const wildcard = host === '0.0.0.0' || host === '::';
  return [...new Set(['127.0.0.1', '::1', 'localhost', ...(wildcard ? [] : [host]), ...extra])];
}

/** Rejects empty passwords and per-appliance entries that name no appliance (a typo would silently not apply). */
function checkCredentials(credentials: SimulatorCredentials | undefined, appliances: Map<string, unknown>): void {
  if (!credentials) return;
  if (credentials.password !== undefined && (typeof credentials.password !== 'string' || credentials.password === '')) {
    throw new Error('credentials.password: a non-empty string');
  }
  for (const [key, password] of Object.entries(credentials.appliances ?? {})) {
    if (!appliances.has(key))
      throw new Error(
        `credentials.appliances["${key}"]: no such appliance (known: ${[...appliances.keys()].join(', ')})`,
      );
    if (typeof password !== 'string' || password === '')
      throw new Error(`credentials.appliances["${key}"]: a non-empty string`);
  }
}

/** Starts one process-local simulator serving every requested appliance on one port. */
export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const host = opts.host ?? '127.0.0.1';
  const factories = { ...DEFAULT_FACTORIES, ...opts.factories };
  const faults = new FaultBook(opts.faults ?? []);
  let calls: Counters['calls'] = {};
  let jobs: StartedJob[] = [];
  const ctx: SimulatorContext = {
    jobSeconds: opts.jobSeconds ?? 5,
    sessionIdleSeconds: opts.sessionIdleSeconds ?? 1800,
    tokenTtlSeconds: opts.tokenTtlSeconds ?? 3600,
    recordJob: (job) => jobs.push({ ...job, startedAt: new Date(ctx.now()).toISOString() }),
    now: () => Date.now(),
  };

  const appliances = new Map<string, { appliance: SimAppliance; routes: CompiledRoute[] }>();
  const specs = checkApplianceSpecs(opts.appliances ?? []);
  const counts: [SimProduct, number][] = [
    ['vcenter', opts.vcenters ?? (specs.length ? 0 : 1)],
    ['sddc-manager', opts.sddcManagers ?? 0],
    ['vcda', opts.vcdas ?? 0],
    ['nsx-manager', opts.nsxManagers ?? 0],
  ];
  const serve = (appliance: SimAppliance): void => {
    const key = `${PRODUCT_PATH[appliance.product]}/${appliance.name}`;
    if (appliances.has(key)) throw new Error(`appliances: two appliances at /${key}; give each a unique name`);
    const password = opts.credentials?.appliances?.[key] ?? opts.credentials?.password;
    // Product simulators read `password` on every login, so replacing it here fixes their credentials.
    if (password !== undefined) Object.defineProperty(appliance, 'password', { value: password, enumerable: true });
    const routes = appliance
      .routes()
      .map(compile)
      .sort((a, b) => specificity(b) - specificity(a));
    appliances.set(key, { appliance, routes });
  };
  const built: Record<SimProduct, number> = { vcenter: 0, 'sddc-manager': 0, vcda: 0, 'nsx-manager': 0 };
  for (const [product, n] of counts) {
    for (let i = 1; i <= n; i++) serve(factories[product](++built[product], ctx));
  }
  for (const spec of specs) {
    const appliance = factories[spec.product](++built[spec.product], ctx);
    // Product simulators read `name` (and a vCenter its `systemName`) when they answer, so naming here renames them.
    Object.defineProperty(appliance, 'name', { value: spec.name, enumerable: true });
    if (appliance instanceof VcenterAppliance) prepareVcenter(appliance, spec, ctx);
    serve(appliance);
  }
  checkCredentials(opts.credentials, appliances);

  let tmp: string | undefined;
  let server: Server;
  let caFile: string | undefined;
  if (opts.http) {
    server = createHttpServer((req, res) => void handle(req, res));
  } else {
    const pki = await generatePki({ hosts: certificateHosts(host, opts.certNames ?? []) });
    tmp = await mkdtemp(join(tmpdir(), 'vmware-dr-sim-'));
    caFile = join(tmp, 'ca.pem');
    await writeFile(caFile, pki.caCertPem);
    server = createHttpsServer({ cert: pki.certPem, key: pki.keyPem }, (req, res) => void handle(req, res));
  }
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  function count(product: SimProduct, name: string, operation: string): void {
    const byAppliance = (calls[product] ??= {});
    const byOp = (byAppliance[name] ??= {});
    byOp[operation] = (byOp[operation] ?? 0) + 1;
  }

  function send(res: ServerResponse, out: SimResponse): void {
    const headers: Record<string, string> = { ...out.headers };
    let payload: string | Buffer | undefined = out.raw;
    if (payload === undefined && out.body !== undefined) {
      payload = JSON.stringify(out.body);
      headers['content-type'] ??= 'application/json';
    }
    res.writeHead(out.status, headers);
    res.end(payload);
  }

  /** Answers 413 and closes the connection without reading the rest of the body. */
  function tooLarge(res: ServerResponse): void {
    res.shouldKeepAlive = false;
    send(res, {
      status: 413,
      headers: { connection: 'close' },
      body: { error: `request body over ${MAX_BODY_BYTES} bytes` },
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let entry: { appliance: SimAppliance } | undefined;
    try {
      // Before routing, authentication or any buffering.
      const declared = Number(req.headers['content-length']);
      if (declared > MAX_BODY_BYTES) return tooLarge(res);
      const url = new URL(req.url ?? '/', 'http://sim');
      const parts = url.pathname.split('/').filter(Boolean);
      entry = appliances.get(`${parts[0]}/${parts[1]}`);
      checkPercentEncoding(req.url ?? '/');
      if (parts[0] === '_admin') return send(res, await admin(req, parts.slice(1)));
      if (!entry) return send(res, { status: 404, body: { error: `no appliance at /${parts.slice(0, 2).join('/')}` } });
      const { appliance, routes } = entry as { appliance: SimAppliance; routes: CompiledRoute[] };
      const segments = parts.slice(2);
      const method = req.method ?? 'GET';
      const body = await readBody(req);
      let found: { route: CompiledRoute; params: Record<string, string> } | undefined;
      for (const route of routes) {
        const params = match(route, method, segments, url.searchParams);
        if (params) {
          found = { route, params };
          break;
        }
      }
      if (!found) {
        count(appliance.product, appliance.name, 'unknown');
        return send(
          res,
          appliance.errorResponse(
            'NOT_FOUND',
            404,
            `no route for ${method} /${segments.join('/')}`,
            `/${segments.join('/')}`,
          ),
        );
      }
      const operation = found.route.operationOf?.(body) ?? found.route.operation;
      count(appliance.product, appliance.name, operation);
      const fault = faults.take(appliance.product, appliance.name, operation);
      if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
      if (fault?.kind === 'reset') return void req.socket.destroy();
      if (fault?.kind === 'error' || fault?.kind === 'status') {
        const message = fault.message ?? `injected ${fault.kind === 'error' ? fault.error : fault.status}`;
        return send(
          res,
          appliance.errorResponse(
            fault.kind === 'error' ? fault.error : undefined,
            fault.status,
            message,
            `/${segments.join('/')}`,
          ),
        );
      }
      if (fault?.kind === 'jobFailed') appliance.failNextJob(fault.message ?? 'injected job failure');
      const simReq: SimRequest = {
        method,
        path: `/${segments.join('/')}`,
        query: url.searchParams,
        headers: req.headers,
        body,
        params: found.params,
      };
      let out = await found.route.handler(simReq);
      if (fault?.kind === 'lostResponse') return void req.socket.destroy();
      if (fault?.kind === 'malformed')
        out = { ...out, body: undefined, raw: '{"truncated": ', headers: { 'content-type': 'application/json' } };
      if (fault?.kind === 'schema') out = appliance.corrupt(out);
      send(res, out);
    } catch (err) {
      if (err instanceof BodyTooLarge) return tooLarge(res);
      if (err instanceof MalformedUrl) {
        return send(
          res,
          entry
            ? entry.appliance.errorResponse(undefined, 400, err.message)
            : { status: 400, body: { error: err.message } },
        );
      }
      send(res, { status: 500, body: { error: `simulator bug: ${(err as Error).message}` } });
    }
  }

  async function admin(req: IncomingMessage, parts: string[]): Promise<SimResponse> {
    const route = `${req.method} ${parts.join('/')}`;
    const body = await readBody(req);
    switch (route) {
      case 'GET counters':
        return { status: 200, body: { calls, jobs } };
      case 'DELETE counters':
        calls = {};
        jobs = [];
        return { status: 204 };
      case 'GET faults':
        return { status: 200, body: faults.list() };
      case 'POST faults':
        try {
          faults.add(...(Array.isArray(body) ? body : [body]).map((r) => FaultBook.validate(r)));
        } catch (err) {
          return { status: 400, body: { error: (err as Error).message } };
        }
        return { status: 201, body: faults.list() };
      case 'DELETE faults':
        faults.clear();
        return { status: 204 };
      default: {
        const [kind, product, name] = parts;
        if (req.method === 'POST' && kind === 'appliances' && product && name) {
          const entry = appliances.get(`${product}/${name}`);
          if (!entry) return { status: 404, body: { error: `no appliance ${product}/${name}` } };
          if (!entry.appliance.admin)
            return { status: 400, body: { error: `${product} appliances take no admin commands` } };
          try {
            return { status: 200, body: entry.appliance.admin((body ?? {}) as Record<string, unknown>) ?? {} };
          } catch (err) {
            return { status: 400, body: { error: (err as Error).message } };
          }
        }
        return { status: 404, body: { error: `unknown admin route ${route}` } };
      }
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const scheme = opts.http ? 'http' : 'https';
  const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const list = (product: SimProduct): ApplianceInfo[] =>
    [...appliances.values()]
      .filter((e) => e.appliance.product === product)
      .map(({ appliance: a }) => ({
        url: `${url}/${PRODUCT_PATH[product]}/${a.name}`,
        username: a.username,
        password: a.password,
        ...(caFile ? { caFile } : {}),
      }));
  const nsxManager = list('nsx-manager');
  const info: SimulatorInfo = {
    vcenter: list('vcenter'),
    sddcManager: list('sddc-manager'),
    vcda: list('vcda'),
    ...(nsxManager.length ? { nsxManager } : {}),
    admin: `${url}/_admin`,
    ...(caFile ? { caFile } : {}),
  };

  let closed = false;
  return {
    info,
    url,
    faults,
    counters: () => structuredClone({ calls, jobs }),
    resetCounters: () => {
      calls = {};
      jobs = [];
    },
    appliance: (product, name) => appliances.get(`${PRODUCT_PATH[product]}/${name}`)?.appliance,
    async close() {
      if (closed) return;
      closed = true;
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await done;
      if (tmp) await rm(tmp, { recursive: true, force: true });
    },
  };
}
