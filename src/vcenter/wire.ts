/**
 * vCenter's two wire forms and its session: `/api` (7.0U2+) and legacy `/rest`, detected at login;
 * one operation described once for both forms ({@link FormCall}); and {@link VcenterSession}, which
 * logs in (Basic auth, one login shared by concurrent calls), sends a call in the form in use with
 * the session header, and logs in again once on a 401. {@link VcenterClient} composes it.
 */
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { NotFound } from '../core/errors';
import { type HttpRequest, HttpTransport } from '../core/http';
import { SessionCore } from '../core/http-session';
import type { Secret } from '../core/secrets';
import { parseVcenterError } from './errors';
import { SessionInfo, SessionToken, restMap, restValue } from './schemas';

/** Which vCenter REST wire form to speak. */
export type VcenterApiForm = 'api' | 'rest';

export interface VcenterCredentials {
  username: string;
  password: Secret;
}

export interface VcenterClientOptions {
  /** Base URL, e.g. `https://vc01.example.com`. */
  url: string;
  /** Name used in errors. Default: the URL. */
  appliance?: string;
  /** Called at each login; resolve secrets here, never earlier. */
  credentials: () => Promise<VcenterCredentials>;
  /** `api` (7.0U2+), `rest` (legacy), or `auto`: try `/api`, fall back to `/rest` on 404. Default `auto`. */
  apiForm?: VcenterApiForm | 'auto';
  dispatcher?: Dispatcher;
  /**
   * Per-request timeout.
   * @default DEFAULT_REQUEST_TIMEOUT_MS (60 000 ms)
   */
  timeoutMs?: number;
  /**
   * How long one login (shared by concurrent calls) may take.
   * @default LOGIN_TIMEOUT_REQUESTS × timeoutMs
   */
  loginTimeoutMs?: number;
}

/** Where one operation goes in one wire form. */
export interface FormTarget {
  path: string;
  query?: HttpRequest['query'];
  /** Overrides {@link FormCall.method} (legacy `PUT .../update/{id}`, `GET` with flattened query). */
  method?: Dispatcher.HttpMethod;
  /** This form's own body, sent as is; when the key is present the shared body is not used (even if undefined). */
  body?: unknown;
}

/** How one operation looks in each wire form. */
export interface FormCall {
  operation: string;
  method: Dispatcher.HttpMethod;
  api: FormTarget;
  rest: FormTarget;
  /** Request body, wrapped in `{piece}`/`{spec}` for `/rest`. */
  body?: unknown;
  restWrap?: 'piece' | 'spec';
  signal?: AbortSignal;
}

/** The result schema, the same for both forms or one per form (maps: object vs key/value array). */
export type ResultSchema<T> = z.ZodType<T> | { api: z.ZodType<T>; rest: z.ZodType<T> };

/** Operations that answer no body: `/api` 204, `/rest` 200 with nothing (never wrapped in `{value}`). */
export const NO_CONTENT = z.undefined();

/** A vAPI map in both forms: `/api` JSON object, `/rest` `[{key, value}]`; both become a record. */
export function vapiMap<T extends z.ZodType>(
  inner: T,
): { api: z.ZodType<Record<string, z.output<T>>>; rest: z.ZodType<Record<string, z.output<T>>> } {
  return { api: z.record(z.string(), inner) as z.ZodType<Record<string, z.output<T>>>, rest: restMap(inner) };
}

/** `/rest` flattens a structure parameter into `prefix.field` query parameters. */
export function flatten(
  prefix: string,
  value: object | undefined,
): Record<string, string | number | boolean | undefined> {
  const out: Record<string, string | number | boolean | undefined> = {};
  for (const [k, v] of Object.entries(value ?? {})) {
    if (v !== undefined) out[`${prefix}.${k}`] = v as string | number | boolean;
  }
  return out;
}

function isSchema<T>(s: ResultSchema<T>): s is z.ZodType<T> {
  return typeof (s as { safeParse?: unknown }).safeParse === 'function';
}

export const RECOVERY = '/appliance/recovery';
export const enc = encodeURIComponent;

/** One vCenter session over the transport: login, logout and calls in the form in use. */
export class VcenterSession {
  readonly http: HttpTransport;
  private readonly opts: VcenterClientOptions;
  private readonly session: SessionCore<string>;
  private form?: VcenterApiForm;

  constructor(opts: VcenterClientOptions) {
    this.opts = opts;
    this.http = new HttpTransport({
      product: 'vcenter',
      baseUrl: opts.url,
      appliance: opts.appliance,
      dispatcher: opts.dispatcher,
      timeoutMs: opts.timeoutMs,
      parseError: parseVcenterError,
    });
    if (opts.apiForm && opts.apiForm !== 'auto') this.form = opts.apiForm;
    this.session = new SessionCore({
      context: this.http.context('sessionCreate'),
      login: (signal) => this.createSession(signal),
      loginTimeoutMs: opts.loginTimeoutMs,
      requestTimeoutMs: opts.timeoutMs,
    });
  }

  /** The wire form in use (after detection). */
  get apiForm(): VcenterApiForm | undefined {
    return this.form;
  }

  /**
   * Creates a session (Basic auth) and keeps its token. Returns nothing: the token is private.
   * Concurrent callers share one login; `signal` only stops this caller waiting for it.
   */
  async login(signal?: AbortSignal): Promise<void> {
    await this.session.login(signal);
  }

  /** One login; `signal` is the session core's own (login timeout), never a caller's. */
  private async createSession(signal: AbortSignal): Promise<string> {
    const { username, password } = await this.opts.credentials();
    const authorization = `Basic ${Buffer.from(`${username}:${password.reveal()}`).toString('base64')}`;
    const tryForm = async (form: VcenterApiForm): Promise<string> => {
      const path = form === 'api' ? '/api/session' : '/rest/com/vmware/cis/session';
      const { data } = await this.http.sendParsed(
        { operation: 'sessionCreate', method: 'POST', path, headers: { authorization }, signal },
        form === 'api' ? SessionToken : restValue(SessionToken).transform((v) => v.value),
      );
      return data;
    };
    let token: string;
    if (this.form) {
      token = await tryForm(this.form);
    } else {
      try {
        token = await tryForm('api');
        this.form = 'api';
      } catch (err) {
        if (!(err instanceof NotFound)) throw err;
        token = await tryForm('rest');
        this.form = 'rest';
      }
    }
    return token;
  }

  /** Deletes the session, if any. */
  async logout(signal?: AbortSignal): Promise<void> {
    const token = this.session.current?.value;
    if (!token || !this.form) return;
    const path = this.form === 'api' ? '/api/session' : '/rest/com/vmware/cis/session';
    try {
      await this.http.send({
        operation: 'sessionDelete',
        method: 'DELETE',
        path,
        headers: { 'vmware-api-session-id': token },
        signal,
      });
    } finally {
      this.session.clear();
    }
  }

  /** Current session's user and times. */
  async sessionInfo(signal?: AbortSignal): Promise<SessionInfo> {
    return this.call(
      {
        operation: 'sessionGet',
        method: 'GET',
        api: { path: '/api/session' },
        rest: { path: '/rest/com/vmware/cis/session', query: { '~action': 'get' }, method: 'POST' },
        signal,
      },
      SessionInfo,
    );
  }

  /**
   * One call in the current form, with the session header; on 401 logs in again once and
   * repeats the call. `/rest` results are unwrapped from `{value}`; a mismatch quotes the wire
   * path (e.g. `$.value.state`).
   */
  call<T>(c: FormCall, schema: ResultSchema<T>): Promise<T> {
    return this.session.run(async (token) => {
      const form = this.form as VcenterApiForm;
      const target = form === 'api' ? c.api : c.rest;
      const json = Object.hasOwn(target, 'body')
        ? target.body
        : c.body === undefined
          ? undefined
          : form === 'rest' && c.restWrap
            ? { [c.restWrap]: c.body }
            : c.body;
      const res = await this.http.send({
        operation: c.operation,
        method: target.method ?? c.method,
        path: target.path,
        query: target.query,
        json,
        headers: { 'vmware-api-session-id': token },
        signal: c.signal,
      });
      const inner = isSchema(schema) ? schema : schema[form];
      const wire =
        form === 'rest' && (inner as z.ZodType) !== NO_CONTENT
          ? (restValue(inner).transform((v) => v.value) as z.ZodType<T>)
          : inner;
      return this.http.parse(wire, res.body, c.operation, res.status);
    }, c.signal);
  }
}
