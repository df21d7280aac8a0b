import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { AuthenticationFailed, NotFound } from '../errors';
import { type HttpRequest, HttpTransport, type ParsedErrorBody } from '../http';
import type { Secret } from '../secrets';
import {
  ApiErrorBody,
  BackupJobStatus,
  type BackupRequest,
  RestErrorBody,
  ReturnResult,
  SessionInfo,
  SessionToken,
  restValue,
} from './schemas';

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
  /** Per-request timeout. Default 60 000 ms. */
  timeoutMs?: number;
}

/** Reads both error body forms into the taxonomy's terms. */
export function parseVcenterError(body: unknown): ParsedErrorBody {
  const api = ApiErrorBody.safeParse(body);
  if (api.success && (api.data.error_type || api.data.messages.length)) {
    return { vmwareCode: api.data.error_type, messages: api.data.messages.map((m) => m.default_message) };
  }
  const rest = RestErrorBody.safeParse(body);
  if (rest.success) {
    return { vmwareCode: rest.data.type, messages: (rest.data.value?.messages ?? []).map((m) => m.default_message) };
  }
  return {};
}

/** How one operation looks in each wire form. */
interface FormCall {
  operation: string;
  method: Dispatcher.HttpMethod;
  api: { path: string; query?: HttpRequest['query'] };
  rest: { path: string; query?: HttpRequest['query'] };
  /** Request body, wrapped in `{piece}`/`{spec}` for `/rest`. */
  body?: unknown;
  restWrap?: 'piece' | 'spec';
  signal?: AbortSignal;
}

/**
 * Typed client for vCenter appliance recovery. Keeps one session, logs in lazily, and logs in
 * again once when a call answers 401 (idle timeout, restarts).
 */
export class VcenterClient {
  readonly http: HttpTransport;
  private readonly opts: VcenterClientOptions;
  private form?: VcenterApiForm;
  private token?: string;
  private loggingIn?: Promise<string>;

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
  }

  /** The wire form in use (after detection). */
  get apiForm(): VcenterApiForm | undefined {
    return this.form;
  }

  /** Creates a session (Basic auth) and keeps its token. Returns nothing: the token is private. */
  async login(signal?: AbortSignal): Promise<void> {
    await this.freshToken(signal);
  }

  private freshToken(signal?: AbortSignal): Promise<string> {
    this.loggingIn ??= this.createSession(signal).finally(() => (this.loggingIn = undefined));
    return this.loggingIn;
  }

  private async createSession(signal?: AbortSignal): Promise<string> {
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
    this.token = token;
    return token;
  }

  /** Deletes the session, if any. */
  async logout(signal?: AbortSignal): Promise<void> {
    if (!this.token || !this.form) return;
    const path = this.form === 'api' ? '/api/session' : '/rest/com/vmware/cis/session';
    try {
      await this.http.send({ operation: 'sessionDelete', method: 'DELETE', path, headers: { 'vmware-api-session-id': this.token }, signal });
    } finally {
      this.token = undefined;
    }
  }

  /** Current session's user and times. */
  async sessionInfo(signal?: AbortSignal): Promise<SessionInfo> {
    return this.call(
      {
        operation: 'sessionGet',
        method: 'GET',
        api: { path: '/api/session' },
        rest: { path: '/rest/com/vmware/cis/session', query: { '~action': 'get' } },
        signal,
      },
      SessionInfo,
    );
  }

  /**
   * One call in the current form, with the session header; on 401 logs in again once and
   * repeats the call. `/rest` results are unwrapped from `{value}`.
   */
  protected async call<S extends z.ZodType>(c: FormCall, schema: S): Promise<z.output<S>> {
    let token = this.token ?? (await this.freshToken(c.signal));
    for (let attempt = 0; ; attempt++) {
      const form = this.form as VcenterApiForm;
      const target = form === 'api' ? c.api : c.rest;
      // Legacy session get is a POST with ~action=get.
      const method = form === 'rest' && c.operation === 'sessionGet' ? 'POST' : c.method;
      const json = c.body === undefined ? undefined : form === 'rest' && c.restWrap ? { [c.restWrap]: c.body } : c.body;
      try {
        const { res } = await this.http.sendParsed(
          { operation: c.operation, method, path: target.path, query: target.query, json, headers: { 'vmware-api-session-id': token }, signal: c.signal },
          z.unknown(),
        );
        const value = form === 'rest' ? this.http.parse(restValue(z.unknown()), res.body ?? { value: undefined }, c.operation, res.status).value : res.body;
        return this.http.parse(schema, value, c.operation, res.status);
      } catch (err) {
        if (err instanceof AuthenticationFailed && attempt === 0) {
          this.token = undefined;
          token = await this.freshToken(c.signal);
          continue;
        }
        throw err;
      }
    }
  }

  /** Starts a backup job. `/api` answers 201, `/rest` 200; both give the job status. */
  backupJobCreate(request: BackupRequest, signal?: AbortSignal): Promise<BackupJobStatus> {
    return this.call(
      {
        operation: 'backupJobCreate',
        method: 'POST',
        api: { path: '/api/appliance/recovery/backup/job' },
        rest: { path: '/rest/appliance/recovery/backup/job' },
        body: request,
        restWrap: 'piece',
        signal,
      },
      BackupJobStatus,
    );
  }

  /** Status of one backup job; NotFound for an unknown id. */
  backupJobGet(id: string, signal?: AbortSignal): Promise<BackupJobStatus> {
    const path = `/appliance/recovery/backup/job/${encodeURIComponent(id)}`;
    return this.call(
      { operation: 'backupJobGet', method: 'GET', api: { path: `/api${path}` }, rest: { path: `/rest${path}` }, signal },
      BackupJobStatus,
    );
  }

  /** Ids of current and past backup jobs. */
  backupJobList(signal?: AbortSignal): Promise<string[]> {
    return this.call(
      {
        operation: 'backupJobList',
        method: 'GET',
        api: { path: '/api/appliance/recovery/backup/job' },
        rest: { path: '/rest/appliance/recovery/backup/job' },
        signal,
      },
      z.array(z.string()),
    );
  }

  /** Cancels a backup job; answers OK/WARNING/FAIL rather than failing when it cannot. */
  backupJobCancel(id: string, signal?: AbortSignal): Promise<ReturnResult> {
    const path = `/appliance/recovery/backup/job/${encodeURIComponent(id)}`;
    return this.call(
      {
        operation: 'backupJobCancel',
        method: 'POST',
        api: { path: `/api${path}`, query: { action: 'cancel' } },
        rest: { path: `/rest${path}/cancel` },
        signal,
      },
      ReturnResult,
    );
  }
}
