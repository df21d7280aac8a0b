import type { IncomingHttpHeaders } from 'node:http';
import type { Product } from '../contract/names';

/**
 * A simulated appliance's product: a runbook {@link Product}, or one simulated before runbooks
 * name it (`nsx-manager`; it joins `PRODUCTS` when its activities and steps do).
 */
export type SimProduct = Product | 'nsx-manager';

/** A request as an appliance route sees it (path relative to the appliance's base URL). */
export interface SimRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body; `undefined` when empty; the raw text when it is not JSON. */
  body: unknown;
  params: Record<string, string>;
}

/** What a route answers. `body` is JSON-encoded unless `raw` is set. */
export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  raw?: string | Buffer;
}

export type SimHandler = (req: SimRequest) => SimResponse | Promise<SimResponse>;

export interface SimRoute {
  method: string;
  /** Pattern with `:param` segments; an optional `?key=value` suffix must match the query too. */
  pattern: string;
  /** Operation name: what counters count and faults target. */
  operation: string;
  /**
   * The operation of one request when a route serves several (vAPI JSON-RPC: one `POST /api` for
   * every service), read from its body; `operation` when it answers undefined.
   */
  operationOf?: (body: unknown) => string | undefined;
  handler: SimHandler;
}

/** A product's error model, as {@link route} needs it. */
export interface SimFaults<F extends Error> {
  /** The product's error class: what a route handler throws to answer an error. */
  fault: abstract new (...args: never[]) => F;
  /** The product's answer to that error, thrown while handling `req`. */
  answer(err: F, req: SimRequest): SimResponse;
}

/**
 * The one route wrapper of the product simulators: `handle` answers the call; a product error it
 * throws (an instance of `faults.fault`) is answered with `faults.answer`; any other error
 * propagates, and the server answers it 500 "simulator bug".
 */
export function route<F extends Error>(
  method: string,
  pattern: string,
  operation: string,
  faults: SimFaults<F>,
  handle: (req: SimRequest) => SimResponse,
): SimRoute {
  return {
    method,
    pattern,
    operation,
    handler: (req) => {
      try {
        return handle(req);
      } catch (err) {
        if (err instanceof faults.fault) return faults.answer(err, req);
        throw err;
      }
    },
  };
}

/** One remote job/task the simulator started, as `GET <admin>/counters` lists it. */
export interface StartedJob {
  product: SimProduct;
  appliance: string;
  kind: string;
  id: string;
  /** vCenter job comment, or VCDA operationID, or SDDC Manager task name. */
  label?: string;
  startedAt: string;
}

/** What a fault does to the call it hits. */
export type FaultAction =
  /** Answer this product error (e.g. `FEATURE_IN_USE`, `RESOURCE_LOCKED`, `NotAuthenticated`) with its HTTP status. */
  | { kind: 'error'; error: string; status?: number; message?: string }
  /** Answer this bare HTTP status (e.g. 503) with the product's error body for it. */
  | { kind: 'status'; status: number; message?: string }
  /** Wait before handling the call normally. */
  | { kind: 'delay'; ms: number }
  /** Destroy the connection without answering. */
  | { kind: 'reset' }
  /** Handle the call but answer a body that is not JSON. */
  | { kind: 'malformed' }
  /** Handle the call but answer JSON that breaks the schema. */
  | { kind: 'schema' }
  /** Handle the call, and the job/task it creates ends FAILED. */
  | { kind: 'jobFailed'; message?: string }
  /** Handle the call and its effect, then drop the connection (the answer is lost). */
  | { kind: 'lostResponse' };

export interface FaultRule {
  /** Product; unset matches every product. */
  product?: SimProduct;
  /** Appliance name (e.g. `vc-1`); unset matches every appliance. */
  appliance?: string;
  /** Operation name (see each product's routes); `*` matches every operation. */
  operation: string;
  /** How many matching calls it hits. Default 1. */
  count?: number;
  action: FaultAction;
}

/** The admin surface every product simulator is given. */
export interface SimulatorContext {
  /** Seconds a simulated job/task takes from start to end. */
  jobSeconds: number;
  /** Seconds of inactivity after which a vCenter session expires. */
  sessionIdleSeconds: number;
  /** Seconds an SDDC Manager access token lives. */
  tokenTtlSeconds: number;
  recordJob(job: Omit<StartedJob, 'startedAt'>): void;
  /** The current time (ms); tests may move it. */
  now(): number;
}

/** A simulated appliance: its routes and its error body. */
export interface SimAppliance {
  readonly product: SimProduct;
  readonly name: string;
  readonly username: string;
  readonly password: string;
  routes(): SimRoute[];
  /** The product's error body for a named error (or a bare status), for a call to `path`. */
  errorResponse(error: string | undefined, status: number | undefined, message: string, path?: string): SimResponse;
  /** Called when a `jobFailed` fault hits a creating operation: the next job this call creates must fail. */
  failNextJob(message: string): void;
  /** Breaks the schema of a normal answer (for `schema` faults). */
  corrupt(res: SimResponse): SimResponse;
  /**
   * Appliance-specific test knobs, from `POST <admin>/appliances/<product>/<name>` (e.g.
   * `{"stage": "restore"}` for a vCenter). Returns the appliance's new admin state; throws on a
   * command it does not know.
   */
  admin?(command: Record<string, unknown>): unknown;
}
