import type { Readable } from 'node:stream';
import { type Dispatcher, request } from 'undici';
import type { z } from 'zod';
import { classifyResponse, errorFromTransport, isAbortError } from './classify';
import {
  type ErrorContext,
  type ErrorProduct,
  type ErrorType,
  ProtocolError,
  SchemaMismatch,
  type VmwareApiError,
} from './errors';

/** Per-request header/body (idle) timeout when a client sets none. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/** What a product makes of an error body: its own code, the error type it maps that code to, messages and hint. */
export interface ParsedErrorBody {
  vmwareCode?: string;
  /** From the product's own code map (`src/<product>/errors.ts`); unset: the HTTP status decides. */
  errorType?: ErrorType;
  messages?: string[];
  remediation?: string;
}

export interface HttpTransportOptions {
  product: ErrorProduct;
  /** Base URL of the appliance, e.g. `https://vc01.example.com` (a path prefix is kept). */
  baseUrl: string;
  /** Name shown in errors and logs. Default: the base URL. */
  appliance?: string;
  /** Connection pool with the endpoint's TLS policy (see `createDispatcher`). */
  dispatcher?: Dispatcher;
  /** Reads the product's error body. */
  parseError: (body: unknown) => ParsedErrorBody;
  /**
   * Per-request header/body timeout.
   * @default DEFAULT_REQUEST_TIMEOUT_MS (60 000 ms)
   */
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

/** A 2xx answer whose body is read as a stream (see {@link HttpTransport.stream}). */
export interface HttpStreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The answer's bytes; read it once, to the end (or let `stream` discard it). */
  body: Readable;
}

export interface HttpStreamOptions {
  /**
   * Whether a failure of `consume` is the consumer's own (e.g. a full disk) rather than the
   * answer's: such errors leave as they are instead of being classified as transport failures.
   * @default isLocalFileError
   */
  isLocalError?: (err: unknown) => boolean;
}

/** Whether `err` is a local file-system failure (it names a syscall and a path), not the network's. */
export function isLocalFileError(err: unknown): boolean {
  const e = err as { syscall?: unknown; path?: unknown } | null;
  return !!e && typeof e.syscall === 'string' && typeof e.path === 'string';
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
  readonly product: ErrorProduct;
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
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  context(operation: string, extra: Partial<ErrorContext> = {}): ErrorContext {
    return { product: this.product, operation, appliance: this.appliance, ...extra };
  }

  /** Sends the request; resolves for 2xx/304, throws a classified {@link VmwareApiError} otherwise. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    let res: Dispatcher.ResponseData;
    let text: string;
    try {
      res = await this.dispatch(req);
      text = await res.body.text();
    } catch (err) {
      throw this.failure(err, req);
    }
    const parsed = this.parseJson(text, req.operation, res.statusCode);
    if (res.statusCode >= 200 && res.statusCode < 300) {
      return { status: res.statusCode, headers: res.headers, body: parsed };
    }
    if (res.statusCode === 304) return { status: 304, headers: res.headers, body: parsed };
    throw this.errorFor(req.operation, res.statusCode, parsed);
  }

  /**
   * Sends the request and hands a 2xx answer to `consume` with its body as a stream (never held
   * in memory), under the same timeouts, abort handling and error classification as
   * {@link send}. Any other status is a classified {@link VmwareApiError} (its body read for
   * detail). A failure while consuming is classified as a transport failure (the answer broke
   * off), unless it is an abort or `isLocalError` says it is the consumer's own. The body is
   * discarded if `consume` leaves it unread.
   */
  async stream<T>(
    req: HttpRequest,
    consume: (res: HttpStreamResponse) => Promise<T>,
    opts: HttpStreamOptions = {},
  ): Promise<T> {
    let res: Dispatcher.ResponseData;
    try {
      res = await this.dispatch(req);
    } catch (err) {
      throw this.failure(err, req);
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      let text = '';
      try {
        text = await res.body.text();
      } catch {
        // the status decides the class; the body only adds detail
      }
      throw this.errorFor(req.operation, res.statusCode, lenientJson(text));
    }
    try {
      return await consume({ status: res.statusCode, headers: res.headers, body: res.body });
    } catch (err) {
      if ((opts.isLocalError ?? isLocalFileError)(err)) throw err;
      throw this.failure(err, req);
    } finally {
      if (!res.body.readableEnded) {
        // Discard the unread rest; undici reports that as an abort nobody listens for any more.
        res.body.on('error', () => {});
        res.body.destroy();
      }
    }
  }

  /** One undici request with this endpoint's dispatcher and timeouts; JSON bodies serialised. */
  private dispatch(req: HttpRequest): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    let body: string | undefined;
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['content-type'] ??= 'application/json';
    }
    return request(`${this.base}${req.path}${queryString(req.query)}`, {
      method: req.method,
      headers,
      body,
      signal: req.signal,
      dispatcher: this.dispatcher,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
  }

  /** A failure with no (complete) answer: an abort leaves as it is, anything else is classified. */
  private failure(err: unknown, req: HttpRequest): unknown {
    if (isAbortError(err) || req.signal?.aborted) return err;
    return errorFromTransport(err, this.context(req.operation));
  }

  /** Sends and validates the body with `schema`. */
  async sendParsed<S extends z.ZodType>(
    req: HttpRequest,
    schema: S,
  ): Promise<{ res: HttpResponse; data: z.output<S> }> {
    const res = await this.send(req);
    return { res, data: this.parse(schema, res.body, req.operation, res.status) };
  }

  /** Validates `value` with `schema`; a mismatch is a {@link SchemaMismatch} quoting the field path. */
  parse<S extends z.ZodType>(schema: S, value: unknown, operation: string, httpStatus?: number): z.output<S> {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    const issues = result.error.issues
      .slice(0, 5)
      .map((i) => `$${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${i.message}`);
    throw new SchemaMismatch(
      'response body does not match the expected schema',
      this.context(operation, { httpStatus, messages: issues }),
    );
  }

  private parseJson(text: string, operation: string, status: number): unknown {
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text);
    } catch {
      if (status >= 400) return text; // some error pages are HTML/text; classified by status
      throw new ProtocolError(
        'response body is not JSON',
        this.context(operation, { httpStatus: status, messages: [snippet(text)] }),
      );
    }
  }

  private errorFor(operation: string, status: number, body: unknown): VmwareApiError {
    let parsed: ParsedErrorBody = {};
    try {
      parsed = body === undefined || typeof body === 'string' ? {} : this.parseError(body);
    } catch {
      parsed = {};
    }
    const messages = parsed.messages?.length
      ? parsed.messages
      : typeof body === 'string' && body
        ? [snippet(body)]
        : [];
    return classifyResponse({
      ...this.context(operation),
      httpStatus: status,
      vmwareCode: parsed.vmwareCode,
      errorType: parsed.errorType,
      messages,
      remediation: parsed.remediation,
    });
  }
}

/** The parsed JSON of an error answer, or its text when it is not JSON (classified by status). */
function lenientJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}
