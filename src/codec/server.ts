/**
 * A Temporal codec server over `node:http`: `POST /encode` and `POST /decode` with
 * `{"payloads":[{"metadata":{"encoding":"<base64>"},"data":"<base64>"}]}` (the Payload protobuf's
 * JSON form), the `X-Namespace` header, CORS for the Temporal Web UI, and an optional bearer
 * token (https://docs.temporal.io/production-deployment/data-encryption#codec-server-setup).
 * The UI's browser calls it, so the UI can show decrypted payloads that the server never sees.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';

/** Default port (Temporal's samples and docs use 8888). */
export const DEFAULT_CODEC_SERVER_PORT = 8888;
/** Default address: loopback (the UI's browser on the same machine). */
export const DEFAULT_CODEC_SERVER_HOST = '127.0.0.1';
/** The Temporal UI of `docker compose` (the dev server's UI is http://localhost:8233). */
export const DEFAULT_CODEC_CORS_ORIGINS = ['http://localhost:8080'];
/** Largest request body accepted (Temporal's payload size limit is 2 MB per blob). */
export const MAX_CODEC_REQUEST_BYTES = 16 * 1024 * 1024;

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** @default 8888; 0 picks a free port */
  port?: number;
  /** @default 127.0.0.1 */
  host?: string;
  /** Origins allowed by CORS (exact match, or `*`). @default ['http://localhost:8080'] */
  corsOrigins?: string[];
  /** When set, requests must carry `Authorization: Bearer <token>`. @default none */
  authToken?: string;
  /** One line per request (method, path, namespace, status, payload count). @default none */
  log?: (entry: CodecServerLogEntry) => void;
}

export interface CodecServerLogEntry {
  method: string;
  path: string;
  namespace?: string;
  status: number;
  payloads?: number;
  error?: string;
}

export interface CodecServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const JsonPayload = z.strictObject({
  metadata: z.record(z.string(), z.string()).nullish(),
  data: z.string().nullish(),
  externalPayloads: z.array(z.unknown()).nullish(),
});
const Body = z.strictObject({ payloads: z.array(JsonPayload) });
type JsonPayload = z.infer<typeof JsonPayload>;

function fromJson({ metadata, data }: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(data ?? '', 'base64'),
  };
}

function toJson({ metadata, data }: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
    ),
    data: Buffer.from(data ?? new Uint8Array()).toString('base64'),
  };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_CODEC_REQUEST_BYTES) {
        reject(new HttpError(413, `request body over ${MAX_CODEC_REQUEST_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!m) return false;
  const a = Buffer.from(m[1]!.trim());
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Starts the codec server; resolves once it listens. */
export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const origins = options.corsOrigins ?? DEFAULT_CODEC_CORS_ORIGINS;
  const host = options.host ?? DEFAULT_CODEC_SERVER_HOST;
  const log = options.log ?? (() => undefined);

  const cors = (req: IncomingMessage, res: ServerResponse): boolean => {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    const allowed = origins.includes('*') || origins.includes(origin);
    if (!allowed) return false;
    res.setHeader('Access-Control-Allow-Origin', origins.includes('*') ? '*' : origin);
    res.setHeader('Vary', 'Origin');
    if (!origins.includes('*')) res.setHeader('Access-Control-Allow-Credentials', 'true');
    return true;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<CodecServerLogEntry> => {
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '') || '/';
    const namespaceHeader = req.headers['x-namespace'];
    const namespace =
      (Array.isArray(namespaceHeader) ? namespaceHeader[0] : namespaceHeader) ??
      /^\/([^/]+)\/(?:encode|decode)$/.exec(path)?.[1];
    const entry: CodecServerLogEntry = { method: req.method ?? '', path, ...(namespace && { namespace }), status: 200 };
    const send = (status: number, body: unknown): CodecServerLogEntry => {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      return { ...entry, status };
    };
    const originOk = cors(req, res);
    if (req.method === 'OPTIONS') {
      if (!originOk) return send(403, { error: `origin ${req.headers.origin} is not allowed (--cors-origin)` });
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
      res.setHeader('Access-Control-Max-Age', '600');
      res.writeHead(204).end();
      return { ...entry, status: 204 };
    }
    if (req.method === 'GET' && path === '/healthz') return send(200, { ok: true });
    // `/encode`, `/decode`, or under a namespace segment (`/<namespace>/decode`, the CLI's
    // `--codec-endpoint http://…/{namespace}` templating).
    const route = /^(?:\/([^/]+))?\/(encode|decode)$/.exec(path);
    if (!route) return send(404, { error: 'POST /encode or POST /decode' });
    const action = route[2] as 'encode' | 'decode';
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST, OPTIONS');
      return send(405, { error: `${path} takes POST` });
    }
    if (!originOk) return send(403, { error: `origin ${req.headers.origin} is not allowed (--cors-origin)` });
    if (options.authToken !== undefined && !tokenMatches(req.headers.authorization, options.authToken)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return send(401, { error: 'missing or wrong bearer token (Authorization: Bearer <token>)' });
    }
    let body: z.infer<typeof Body>;
    try {
      const parsed = Body.safeParse(JSON.parse(await readBody(req)));
      if (!parsed.success)
        throw new HttpError(
          400,
          `expected {"payloads":[{"metadata":{…},"data":"<base64>"}]}: ${parsed.error.issues
            .map((i) => `${i.path.join('.') || 'body'}: ${i.message}`)
            .join('; ')}`,
        );
      body = parsed.data;
    } catch (err) {
      if (err instanceof HttpError) return { ...send(err.status, { error: err.message }), error: err.message };
      return send(400, { error: `the body is not JSON: ${(err as Error).message}` });
    }
    try {
      const input = body.payloads.map(fromJson);
      const output = action === 'encode' ? await options.codec.encode(input) : await options.codec.decode(input);
      return { ...send(200, { payloads: output.map(toJson) }), payloads: input.length };
    } catch (err) {
      const message = (err as Error).message;
      return { ...send(422, { error: message }), payloads: body.payloads.length, error: message };
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).then(log, (err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: 'internal error' }));
      log({ method: req.method ?? '', path: req.url ?? '', status: 500, error: (err as Error).message });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_CODEC_SERVER_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${shown}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
