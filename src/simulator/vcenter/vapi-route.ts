/**
 * The wrapper every route of the simulated vCenter goes through: the outage while a restore
 * restarts the services, the session check, the `/rest` body unwrapping, the form's success
 * answer (`/api` bare, `/rest` under `value`), and vAPI errors rendered with the status the
 * operation declares (see the comment of `appliance.ts`); plus the `/rest` parameter and map
 * spellings the handlers use.
 */
import { normaliseVapiErrorType } from '../../vcenter/errors';
import { type SimRequest, type SimResponse, type SimRoute, route } from '../types';
import { VAPI_STATUS, VapiFault, vapiErrorResponse } from './errors';
import type { VcenterForm } from './model';

type Form = VcenterForm;

/** What the wrapper asks of the appliance. */
export interface VapiRouteHooks {
  /** Applies what time did; then, while a restore restarts the services, the answer a call gets instead. */
  outage(form: Form): SimResponse | undefined;
  /** The session token of an authenticated call; UNAUTHENTICATED otherwise. */
  authenticate(req: SimRequest): string;
}

/** `/rest` flattened structure parameter: `prefix.field=...` query parameters → object. */
export function unflatten(
  query: URLSearchParams,
  prefix: string,
  integers: readonly string[] = [],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of query) {
    if (!key.startsWith(`${prefix}.`)) continue;
    const field = key.slice(prefix.length + 1);
    out[field] = integers.includes(field) && /^-?\d+$/.test(value) ? Number(value) : value;
  }
  return out;
}

/**
 * A `/rest` GET structure parameter: flattened in the query (`prefix.field=...`), or a field of a
 * JSON body, as VMware's SDKs send GET inputs in their REST mode. The query wins when it has any.
 */
export function restParam(req: SimRequest, prefix: string, integers: readonly string[] = []): unknown {
  const fromQuery = unflatten(req.query, prefix, integers);
  if (Object.keys(fromQuery).length) return fromQuery;
  const body = req.body;
  if (body && typeof body === 'object' && !Array.isArray(body) && prefix in body)
    return (body as Record<string, unknown>)[prefix];
  return fromQuery;
}

/** The `/rest` job details filter: `filter.jobs` query parameters, or `{"filter": {"jobs": [...]}}` in a body. */
export function restJobIds(req: SimRequest): string[] {
  const fromQuery = req.query.getAll('filter.jobs');
  if (fromQuery.length) return fromQuery;
  const jobs = (restParam(req, 'filter') as { jobs?: unknown }).jobs;
  return Array.isArray(jobs) ? jobs.filter((j): j is string => typeof j === 'string') : [];
}

/** A vAPI map in the request's form: `/api` object, `/rest` `[{key, value}]`. */
export function mapOut<T>(form: Form, record: Record<string, T>): unknown {
  return form === 'api' ? record : Object.entries(record).map(([key, value]) => ({ key, value }));
}

export interface RouteOptions {
  /** Whether the route needs a session. Default true. */
  auth?: boolean;
  /** `/api` success status. Default 200 (204 when the handler returns nothing). */
  status?: number;
  /** `/rest` body wrapper to remove. */
  unwrap?: 'piece' | 'spec';
  /** Error statuses the spec declares for this operation in this form. */
  errors: readonly number[];
}

/** Wraps a handler with the outage, form rendering, session checks and vAPI error rendering. */
export function vapiRoute(
  vc: VapiRouteHooks,
  form: Form,
  method: string,
  pattern: string,
  operation: string,
  handler: (req: SimRequest, form: Form) => unknown,
  opts: RouteOptions,
): SimRoute {
  const faults = {
    fault: VapiFault,
    answer: (err: VapiFault) => {
      const type = normaliseVapiErrorType(err.errorType);
      const natural = VAPI_STATUS[type] ?? 400;
      const status = natural === 401 || opts.errors.includes(natural) ? natural : form === 'api' ? 500 : 400;
      return vapiErrorResponse(form, type, err.message, err.messageId, status);
    },
  };
  return route(method, pattern, operation, faults, (req) => {
    const down = vc.outage(form);
    if (down) return down;
    if (opts.auth !== false) vc.authenticate(req);
    if (form === 'rest' && opts.unwrap) {
      const body = req.body as Record<string, unknown> | undefined;
      if (!body || typeof body !== 'object' || !(opts.unwrap in body)) {
        throw new VapiFault(
          'INVALID_ARGUMENT',
          `Request body must be wrapped as {"${opts.unwrap}": ...}.`,
          'vapi.bindings.typeconverter.invalid.struct',
        );
      }
      req = { ...req, body: body[opts.unwrap] };
    }
    const result = handler(req, form);
    if (result === undefined) return { status: form === 'api' ? (opts.status ?? 204) : 200 };
    const status = form === 'api' ? (opts.status ?? 200) : 200;
    return { status, body: form === 'api' ? result : { value: result } };
  });
}
