/**
 * vAPI JSON-RPC at `POST /api`: what VMware's vSphere Automation SDKs speak by default
 * (`{"jsonrpc": "2.0", "method": "invoke", "params": {serviceId, operationId, input, ctx}}`).
 * Each served operation is the `/api` route of the same operation in `routes.ts`, called with
 * the request that route would get (path parameters, body, query): the same handler, outage,
 * session check and errors. The security context (`ctx.securityCtx`: user/password or session
 * id) becomes the headers the route reads, and its answer is encoded back in vAPI's typed JSON
 * (`vapi-encoding.ts`): `{"result": {"output": …}}`, or `{"result": {"error": …}}` for a vAPI
 * error.
 *
 * Counters and fault rules see the operation of the route that serves the call (`backupJobCreate`
 * for `...backup.job#create`), so a faults file targets REST and JSON-RPC calls alike; an injected
 * error is answered as the HTTP error of that operation, not as a JSON-RPC error envelope. A call
 * this table does not serve counts as `jsonRpcInvoke`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { SimRequest, SimResponse, SimRoute } from '../types';
import { decodeVapi, encodeVapi, encodeVapiError } from './vapi-encoding';

type Input = Record<string, unknown>;

interface Call {
  /** The operation of the `/api` route that serves it. */
  operation: string;
  /** vAPI type of the output (see `vapi-encoding.ts`). */
  output: string;
  /** The route's request parts from the operation's input. */
  request?: (input: Input) => { params?: Record<string, string>; body?: unknown; query?: URLSearchParams };
}

const B = 'com.vmware.appliance.recovery.backup';
const RS = 'com.vmware.appliance.recovery.restore';
const STATUS = `${B}.job.backup_job_status`;
const str = (v: unknown) => (typeof v === 'string' ? v : '');
const id = (i: Input) => ({ params: { id: str(i.id) } });
const piece = (i: Input) => ({ body: i.piece });
const schedule = (i: Input) => ({ params: { schedule: str(i.schedule) } });

/** `serviceId#operationId` → the route that serves it. */
const CALLS: Record<string, Call> = {
  'com.vmware.cis.session#create': { operation: 'sessionCreate', output: 'secret' },
  'com.vmware.cis.session#get': { operation: 'sessionGet', output: 'com.vmware.cis.session.info' },
  'com.vmware.cis.session#delete': { operation: 'sessionDelete', output: 'void' },
  [`${B}.job#create`]: { operation: 'backupJobCreate', output: STATUS, request: piece },
  [`${B}.job#get`]: { operation: 'backupJobGet', output: STATUS, request: id },
  [`${B}.job#list`]: { operation: 'backupJobList', output: '[string]' },
  [`${B}.job#cancel`]: { operation: 'backupJobCancel', output: `${B}.job.return_result`, request: id },
  [`${B}.job.details#list`]: {
    operation: 'backupJobDetails',
    output: `{${B}.job.details.info}`,
    request: (i) => {
      const jobs = ((i.filter as Input | undefined)?.jobs as string[] | undefined) ?? [];
      return { query: new URLSearchParams(jobs.map((j): [string, string] => ['jobs', j])) };
    },
  },
  [`${B}.system_name#list`]: {
    operation: 'systemNameList',
    output: '[string]',
    request: (i) => ({ body: i.loc_spec }),
  },
  [`${B}.system_name.archive#list`]: {
    operation: 'archiveList',
    output: `[${B}.system_name.archive.summary]`,
    request: (i) => ({
      params: { system_name: str(i.system_name) },
      body: { loc_spec: i.loc_spec, filter_spec: i.filter_spec ?? {} },
    }),
  },
  [`${B}.system_name.archive#get`]: {
    operation: 'archiveGet',
    output: `${B}.system_name.archive.info`,
    request: (i) => ({ params: { system_name: str(i.system_name), archive: str(i.archive) }, body: i.spec }),
  },
  [`${B}.schedules#list`]: { operation: 'scheduleList', output: `{${B}.schedules.info}` },
  [`${B}.schedules#get`]: { operation: 'scheduleGet', output: `${B}.schedules.info`, request: schedule },
  [`${B}.schedules#create`]: {
    operation: 'scheduleCreate',
    output: 'void',
    request: (i) => ({ body: { schedule: i.schedule, spec: i.spec } }),
  },
  [`${B}.schedules#update`]: {
    operation: 'scheduleUpdate',
    output: 'void',
    request: (i) => ({ ...schedule(i), body: i.spec }),
  },
  [`${B}.schedules#delete`]: { operation: 'scheduleDelete', output: 'void', request: schedule },
  [`${B}.schedules#run`]: {
    operation: 'scheduleRun',
    output: STATUS,
    request: (i) => ({ ...schedule(i), body: i.comment === undefined ? {} : { comment: i.comment } }),
  },
  [`${RS}#validate`]: { operation: 'restoreValidate', output: `${RS}.metadata`, request: piece },
  [`${RS}.job#create`]: { operation: 'restoreJobCreate', output: `${RS}.job.restore_job_status`, request: piece },
  [`${RS}.job#get`]: { operation: 'restoreJobGet', output: `${RS}.job.restore_job_status` },
  [`${RS}.job#cancel`]: { operation: 'restoreJobCancel', output: `${RS}.job.return_result` },
};

/** The vAPI operations this endpoint serves (`serviceId#operationId`). */
export const JSON_RPC_OPERATIONS: readonly string[] = Object.keys(CALLS);

interface Envelope {
  id?: unknown;
  method?: unknown;
  params?: { serviceId?: unknown; operationId?: unknown; input?: unknown; ctx?: { securityCtx?: Input } };
}

/** The headers the REST routes read, from the call's security context. */
function securityHeaders(headers: IncomingHttpHeaders, sec: Input | undefined): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = { ...headers };
  if (sec?.schemeId === 'com.vmware.vapi.std.security.session_id') out['vmware-api-session-id'] = str(sec.sessionId);
  if (sec?.schemeId === 'com.vmware.vapi.std.security.user_pass') {
    const basic = Buffer.from(`${str(sec.userName)}:${str(sec.password)}`, 'utf8').toString('base64');
    out.authorization = `Basic ${basic}`;
  }
  return out;
}

const answer = (envelope: Envelope, result: unknown): SimResponse => ({
  status: 200,
  body: { jsonrpc: '2.0', id: envelope.id ?? null, result },
});
const rpcError = (envelope: Envelope, code: number, message: string): SimResponse => ({
  status: 200,
  body: { jsonrpc: '2.0', id: envelope.id ?? null, error: { code, message } },
});

/** The `POST /api` route, serving each operation of {@link CALLS} with its `/api` route in `routes`. */
export function jsonRpcRoute(routes: readonly SimRoute[]): SimRoute {
  const byOperation = new Map(routes.filter((r) => r.pattern.startsWith('/api')).map((r) => [r.operation, r]));
  return {
    method: 'POST',
    pattern: '/api',
    operation: 'jsonRpcInvoke',
    operationOf: (body) => {
      const p = body && typeof body === 'object' ? (body as Envelope).params : undefined;
      const call = p && typeof p === 'object' ? CALLS[`${str(p.serviceId)}#${str(p.operationId)}`] : undefined;
      return call && byOperation.has(call.operation) ? call.operation : undefined;
    },
    handler: async (req) => {
      const envelope = (req.body && typeof req.body === 'object' ? req.body : {}) as Envelope;
      const p = envelope.params;
      if (envelope.method !== 'invoke' || !p || typeof p !== 'object')
        return rpcError(envelope, -32600, 'Invalid Request.');
      const key = `${str(p.serviceId)}#${str(p.operationId)}`;
      const call = CALLS[key];
      const target = call && byOperation.get(call.operation);
      if (!call || !target) {
        const message = {
          id: 'vapi.method.input.invalid.interface',
          default_message: `Unknown operation ${key}.`,
          args: [],
        };
        return answer(envelope, { error: encodeVapiError('OPERATION_NOT_FOUND', [message]) });
      }
      let input: Input;
      try {
        input = (decodeVapi(p.input ?? null) ?? {}) as Input;
      } catch (err) {
        return rpcError(envelope, -32602, `Invalid params: ${(err as Error).message}`);
      }
      const parts = call.request?.(input) ?? {};
      const inner: SimRequest = {
        method: target.method,
        path: target.pattern.split('?')[0] ?? '/api',
        query: parts.query ?? new URLSearchParams(target.pattern.split('?')[1] ?? ''),
        headers: securityHeaders(req.headers, p.ctx?.securityCtx),
        body: parts.body,
        params: parts.params ?? {},
      };
      const res = await target.handler(inner);
      // A dropped connection (restarting services) stays one.
      if (res.raw !== undefined) return res;
      if (res.status >= 400) {
        const err = (res.body ?? {}) as { error_type?: string; messages?: unknown[] };
        return answer(envelope, { error: encodeVapiError(err.error_type ?? 'ERROR', err.messages ?? []) });
      }
      return answer(envelope, { output: encodeVapi(res.body, call.output) });
    },
  };
}
