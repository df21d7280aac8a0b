import { type Dispatcher, request } from 'undici';
import type { z } from 'zod';
import {
  type ErrorContext,
  type Product,
  ProtocolError,
  SchemaMismatch,
  type VmwareApiError,
  errorFromResponse,
  errorFromTransport,
  isAbortError,
} from './errors';

/** What a product makes of an error body: its own code, messages and hint. */
export interface ParsedErrorBody {
  vmwareCode?: string;
  messages?: string[];
  remediation?: string;
}

export interface HttpTransportOptions {
  product: Product;
  /** Base URL of the appliance, e.g. `https://vc01.example.com` (a path prefix is kept). */
  baseUrl: string;
  /** Name shown in errors and logs. Default: the base URL. */
  appliance?: string;
  /** Connection pool with the endpoint's TLS policy (see `createDispatcher`). */
  dispatcher?: Dispatcher;
  /** Reads the product's error body. */
  parseError: (body: unknown) => ParsedErrorBody;
  /** Per-request header/body timeout. Default 60 000 ms. */
  timeoutMs?: number;
}

export interface HttpRequest {
  /** Operation name for errors and counters, e.g. `backupJobCreate`. */
  operation: string;
  method: Dispatcher.HttpMethod;
  path: string;
  query?: Record<string, string | number | boolean | readonly (string | number)[] | undefined>;
  headers?: Record<string, string>;
  /** JSON body (serialised here). */
  json?: unknown;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, or undefined when empty. */
  body: unknown;
}

/** Builds a query string; arrays repeat the key (`jobs=a&jobs=b`), as vAPI expects. */
export function queryString(query: HttpRequest['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) params.append(key, String(v));
    else params.append(key, String(value));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** One appliance's HTTP(S) endpoint: sends JSON, classifies every failure through `errors.ts`. */
export class HttpTransport {
  readonly product: Product;
  readonly appliance: string;
  private readonly base: string;
  private readonly dispatcher?: Dispatcher;
  private readonly parseError: (body: unknown) => ParsedErrorBody;
  private readonly timeoutMs: number;

  constructor(opts: HttpTransportOptions) {
    this.product = opts.product;
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.appliance = opts.appliance ?? this.base;
    this.dispatcher = opts.dispatcher;
    this.parseError = opts.parseError;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
  }

  context(operation: string, extra: Partial<ErrorContext> = {}): ErrorContext {
    return { product: this.product, operation, appliance: this.appliance, ...extra };
  }

  /** Sends the request; resolves for 2xx/304, throws a classified {@link VmwareApiError} otherwise. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    let body: string | undefined;
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['content-type'] ??= 'application/json';
    }
    let res: Dispatcher.ResponseData;
    let text: string;
    try {
      res = await request(`${this.base}${req.path}${queryString(req.query)}`, {
        method: req.method,
        headers,
        body,
        signal: req.signal,
        dispatcher: this.dispatcher,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      text = await res.body.text();
    } catch (err) {
      if (isAbortError(err) || req.signal?.aborted) throw err;
      throw errorFromTransport(err, this.context(req.operation));
    }
    const parsed = this.parseJson(text, req.operation, res.statusCode);
    if (res.statusCode >= 200 && res.statusCode < 300) {
      return { status: res.statusCode, headers: res.headers, body: parsed };
    }
    if (res.statusCode === 304) return { status: 304, headers: res.headers, body: parsed };
    throw this.errorFor(req.operation, res.statusCode, parsed);
  }

  /** Sends and validates the body with `schema`. */
  async sendParsed<S extends z.ZodType>(req: HttpRequest, schema: S): Promise<{ res: HttpResponse; data: z.output<S> }> {
    const res = await this.send(req);
    return { res, data: this.parse(schema, res.body, req.operation, res.status) };
  }

  /** Validates `value` with `schema`; a mismatch is a {@link SchemaMismatch} quoting the field path. */
  parse<S extends z.ZodType>(schema: S, value: unknown, operation: string, httpStatus?: number): z.output<S> {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    const issues = result.error.issues.slice(0, 5).map((i) => `$${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${i.message}`);
    throw new SchemaMismatch('response body does not match the expected schema', this.context(operation, { httpStatus, messages: issues }));
  }

  private parseJson(text: string, operation: string, status: number): unknown {
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text);
    } catch {
      if (status >= 400) return text; // some error pages are HTML/text; classified by status
      throw new ProtocolError('response body is not JSON', this.context(operation, { httpStatus: status, messages: [snippet(text)] }));
    }
  }

  private errorFor(operation: string, status: number, body: unknown): VmwareApiError {
    let parsed: ParsedErrorBody = {};
    try {
      parsed = body === undefined || typeof body === 'string' ? {} : this.parseError(body);
    } catch {
      parsed = {};
    }
    const messages = parsed.messages?.length ? parsed.messages : typeof body === 'string' && body ? [snippet(body)] : [];
    return errorFromResponse({ ...this.context(operation), httpStatus: status, vmwareCode: parsed.vmwareCode, messages, remediation: parsed.remediation });
  }
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}
