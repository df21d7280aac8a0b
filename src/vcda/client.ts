import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { BackupHashMismatch, InvalidArgument, NotFound, ProtocolError } from '../core/errors';
import { type HttpRequest, type HttpResponse, HttpTransport } from '../core/http';
import { SessionCore } from '../core/http-session';
import { parseVcdaError } from './errors';
import type { Secret } from '../core/secrets';
import {
  ApiTask,
  ApiTaskOfBackupInfo,
  type BackupInfo,
  BackupList,
  DEFAULT_VCDA_API_VERSION,
  type NewBackupRequest,
  SessionDetails,
  type SessionRequest,
  TaskList,
  VCDA_AUTH_HEADER,
  VCDA_OPERATION_ID_HEADER,
  type VcdaAuthType,
  formatVcdaHash,
  h4MediaType,
  sha512HexOf,
} from './schemas';

export interface VcdaCredentials {
  username: string;
  password: Secret;
}

export interface VcdaClientOptions {
  /** Base URL, e.g. `https://vcda01.example.com` (a path prefix is kept). */
  url: string;
  /** Name used in errors. Default: the URL. */
  appliance?: string;
  /** Called at each login; resolve secrets here, never earlier. */
  credentials: () => Promise<VcdaCredentials>;
  /** `POST /sessions` body type. Default `localUser` (the appliance's root account). */
  authType?: Extract<VcdaAuthType, 'localUser' | 'ssoCredentials' | 'vcdCredentials'>;
  /** h4 API version in the `Accept` media type, e.g. `4.5`, `4.7`, `4`. Default `4.5`. */
  apiVersion?: string;
  dispatcher?: Dispatcher;
  /**
   * Per-request header/body (idle) timeout.
   * @default DEFAULT_REQUEST_TIMEOUT_MS (60 000 ms)
   */
  timeoutMs?: number;
  /**
   * How long one login (shared by concurrent calls) may take.
   * @default LOGIN_TIMEOUT_REQUESTS × timeoutMs
   */
  loginTimeoutMs?: number;
}

/** Per-call options. */
export interface VcdaCallOptions {
  /** Sent as the `operationID` header, which VCDA uses to correlate logs across its services. */
  operationId?: string;
  signal?: AbortSignal;
}

export interface DownloadBackupOptions extends VcdaCallOptions {
  /**
   * The backup's hash (`SHA-512:AA:BB:…` as in BackupInfo, or plain hex). Default: looked up
   * with `GET /backups`.
   */
  expectedHash?: string;
}

export interface DownloadedBackup {
  path: string;
  bytes: number;
  /** SHA-512 of the file, lowercase hex. */
  sha512: string;
  /** The same digest in VCDA's `SHA-512:AA:BB:…` form. */
  hash: string;
}

/** The downloaded archive's SHA-512 is not the one the appliance published. */
export { BackupHashMismatch };

type Call = Omit<HttpRequest, 'headers' | 'signal'> & VcdaCallOptions;

/** A VCDA session: its `X-VCAV-Auth` token and who it is. */
interface VcdaSession {
  token: string;
  details: SessionDetails;
}

/**
 * Typed client for VCDA appliance backups. Logs in lazily (`POST /sessions`, token in
 * `X-VCAV-Auth`), shares one in-flight login between concurrent calls (see
 * {@link SessionCore}), and logs in again once when a call answers 401 (idle timeout, restart),
 * then repeats that call once.
 */
export class VcdaClient {
  readonly http: HttpTransport;
  readonly apiVersion: string;
  /** The media type every request accepts. */
  readonly mediaType: string;
  private readonly opts: VcdaClientOptions;
  private readonly session: SessionCore<VcdaSession>;

  constructor(opts: VcdaClientOptions) {
    this.opts = opts;
    this.apiVersion = opts.apiVersion ?? DEFAULT_VCDA_API_VERSION;
    this.mediaType = h4MediaType(this.apiVersion);
    this.http = new HttpTransport({
      product: 'vcda',
      baseUrl: opts.url,
      appliance: opts.appliance,
      dispatcher: opts.dispatcher,
      timeoutMs: opts.timeoutMs,
      parseError: parseVcdaError,
    });
    this.session = new SessionCore({
      context: this.http.context('sessionCreate'),
      login: (signal) => this.createSession(signal),
      loginTimeoutMs: opts.loginTimeoutMs,
      requestTimeoutMs: opts.timeoutMs,
    });
  }

  /**
   * Creates a session and keeps its token (private). Concurrent callers share one login;
   * `signal` only stops this caller waiting for it.
   */
  async login(signal?: AbortSignal): Promise<SessionDetails> {
    return (await this.session.login(signal)).value.details;
  }

  /** Forgets the session token (VCDA has no documented session delete). */
  forgetSession(): void {
    this.session.clear();
  }

  /** One login; `signal` is the session core's own (login timeout), never a caller's. */
  private async createSession(signal: AbortSignal): Promise<VcdaSession> {
    const { username, password } = await this.opts.credentials();
    const body = this.sessionBody(username, password);
    const { res, data } = await this.http.sendParsed(
      { operation: 'sessionCreate', method: 'POST', path: '/sessions', headers: this.headers(), json: body, signal },
      SessionDetails,
    );
    const header = res.headers[VCDA_AUTH_HEADER.toLowerCase()];
    const token = Array.isArray(header) ? header[0] : header;
    if (!token) {
      throw new ProtocolError(
        `session created but the ${VCDA_AUTH_HEADER} header is missing`,
        this.http.context('sessionCreate', { httpStatus: res.status }),
      );
    }
    return { token, details: data };
  }

  private sessionBody(username: string, password: Secret): SessionRequest {
    switch (this.opts.authType ?? 'localUser') {
      case 'localUser':
        return { type: 'localUser', localUser: username, localPassword: password.reveal() };
      case 'ssoCredentials':
        return { type: 'ssoCredentials', username, password: password.reveal(), principal: null };
      case 'vcdCredentials':
        return { type: 'vcdCredentials', vcdUser: username, vcdPassword: password.reveal() };
    }
  }

  /** Headers of every request: the versioned media type, JSON, the token and operationID when known. */
  private headers(token?: string, operationId?: string): Record<string, string> {
    // Lowercase keys: HttpTransport merges its own lowercase defaults, and a second spelling
    // of the same header would be sent twice.
    const h: Record<string, string> = { accept: this.mediaType, 'content-type': 'application/json' };
    if (token) h[VCDA_AUTH_HEADER] = token;
    if (operationId) h[VCDA_OPERATION_ID_HEADER] = operationId;
    return h;
  }

  /** One call with the session token; on 401 logs in again once (or picks up another call's login) and repeats once. */
  private call<S extends z.ZodType>(c: Call, schema: S): Promise<{ res: HttpResponse; data: z.output<S> }> {
    const { operationId, signal, ...req } = c;
    return this.session.run(
      (s) => this.http.sendParsed({ ...req, signal, headers: this.headers(s.token, operationId) }, schema),
      signal,
    );
  }

  /** `POST /backups` → 202 ApiTask_of_BackupInfo. Generating the backup needs administrator rights. */
  async startBackup(opts: VcdaCallOptions & { password?: Secret } = {}): Promise<z.output<typeof ApiTaskOfBackupInfo>> {
    const body: NewBackupRequest = opts.password ? { password: opts.password.reveal() } : {};
    const { data } = await this.call(
      {
        operation: 'backupCreate',
        method: 'POST',
        path: '/backups',
        json: body,
        operationId: opts.operationId,
        signal: opts.signal,
      },
      ApiTaskOfBackupInfo,
    );
    return data;
  }

  /** `GET /backups`: the backups available for download. */
  async listBackups(opts: VcdaCallOptions = {}): Promise<BackupInfo[]> {
    const { data } = await this.call({ operation: 'backupList', method: 'GET', path: '/backups', ...opts }, BackupList);
    return data;
  }

  /** `DELETE /backups/{id}` (answer code not documented; any 2xx is success). NotFound for an unknown id. */
  async deleteBackup(id: string, opts: VcdaCallOptions = {}): Promise<void> {
    await this.call(
      { operation: 'backupDelete', method: 'DELETE', path: `/backups/${encodeURIComponent(id)}`, ...opts },
      z.unknown(),
    );
  }

  /** `GET /tasks/{id}`. Read `state` through `normaliseTaskState`. */
  async getTask(id: string, opts: VcdaCallOptions = {}): Promise<ApiTask> {
    const { data } = await this.call(
      { operation: 'taskGet', method: 'GET', path: `/tasks/${encodeURIComponent(id)}`, ...opts },
      ApiTask,
    );
    return data;
  }

  /** `GET /tasks/{id}` of a backup task, with `result` read as BackupInfo. */
  async getBackupTask(id: string, opts: VcdaCallOptions = {}): Promise<z.output<typeof ApiTaskOfBackupInfo>> {
    const { data } = await this.call(
      { operation: 'taskGet', method: 'GET', path: `/tasks/${encodeURIComponent(id)}`, ...opts },
      ApiTaskOfBackupInfo,
    );
    return data;
  }

  /**
   * Tasks started at or after `since` (epoch ms), or all tasks.
   *
   * The listing endpoint, its paging and its filter names are NOT in the public docs
   * [uncertain]. This sends `GET /tasks?startedAfter=<since - 1>` (so that an inclusive and an
   * exclusive server reading both include `since`) and expects `{items, total}`; then it filters
   * again here on `startTime >= since`, so a server that ignores or misnames the parameter still
   * gives the right answer. Tasks without a `startTime` are kept (they cannot be ruled out).
   */
  async listTasks(opts: VcdaCallOptions & { since?: number } = {}): Promise<TaskList> {
    const { since, ...rest } = opts;
    const { data } = await this.call(
      {
        operation: 'taskList',
        method: 'GET',
        path: '/tasks',
        query: { startedAfter: since === undefined ? undefined : since - 1 },
        ...rest,
      },
      TaskList,
    );
    if (since === undefined) return data;
    return {
      ...data,
      items: data.items.filter((t) => t.startTime === null || t.startTime === undefined || t.startTime >= since),
    };
  }

  /**
   * `GET /backups/{id}`: streams the archive to `filePath` (never held in memory), computing its
   * SHA-512 on the way, and checks it against the published hash (`expectedHash`, or the
   * backup's `BackupInfo.hash` from `GET /backups`). The bytes go to a temporary file next to
   * `filePath` that is renamed only once the hash matches; on a mismatch or any failure the
   * partial file is deleted. A mismatch throws {@link BackupHashMismatch} naming both hashes.
   */
  async downloadBackup(id: string, filePath: string, opts: DownloadBackupOptions = {}): Promise<DownloadedBackup> {
    const operation = 'backupDownload';
    let expected = opts.expectedHash;
    if (expected === undefined) {
      const info = (await this.listBackups({ operationId: opts.operationId, signal: opts.signal })).find(
        (b) => b.id === id,
      );
      if (!info) {
        throw new NotFound(
          `backup ${id} is not listed by GET /backups`,
          this.http.context(operation, { remediation: 'check the backup id; deleted backups cannot be downloaded' }),
        );
      }
      expected = info.hash;
    }
    const want = sha512HexOf(expected);
    if (!want) {
      throw new InvalidArgument(
        'expectedHash is not a SHA-512 digest',
        this.http.context(operation, { messages: ['expected "SHA-512:AA:BB:…" (64 hex pairs) or 128 hex digits'] }),
      );
    }
    const got = await this.session.run((s) => this.streamToFile(id, filePath, s.token, opts), opts.signal);
    if (got.sha512 !== want) {
      await rm(got.partial, { force: true });
      throw new BackupHashMismatch(
        `SHA-512 of the downloaded backup ${id} does not match`,
        this.http.context(operation, {
          messages: [`expected ${formatVcdaHash(want)}`, `received ${got.hash} (${got.bytes} bytes)`],
        }),
      );
    }
    try {
      await rename(got.partial, filePath);
    } catch (err) {
      await rm(got.partial, { force: true });
      throw err;
    }
    return { path: filePath, bytes: got.bytes, sha512: got.sha512, hash: got.hash };
  }

  /**
   * One download attempt into a fresh temporary file, through the shared transport (timeouts,
   * aborts, error classes); resolves with its digest, or deletes the file and throws.
   */
  private streamToFile(
    id: string,
    filePath: string,
    token: string,
    opts: VcdaCallOptions,
  ): Promise<Omit<DownloadedBackup, 'path'> & { partial: string }> {
    // The h4 media type as everywhere (a strict server negotiating content may want the binary
    // type listed too: both are sent, the h4 one first, so the version is still named).
    const headers = { ...this.headers(token, opts.operationId), accept: `${this.mediaType}, application/octet-stream` };
    const request = {
      operation: 'backupDownload',
      method: 'GET',
      path: `/backups/${encodeURIComponent(id)}`,
      headers,
      signal: opts.signal,
    } as const;
    return this.http.stream(request, async ({ body }) => {
      const partial = join(dirname(filePath), `.${basename(filePath)}.${randomBytes(6).toString('hex')}.part`);
      const digest = createHash('sha512');
      let bytes = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          digest.update(chunk);
          bytes += chunk.length;
          callback(null, chunk);
        },
      });
      try {
        // Local file system failures (no space, permissions) stay the worker's: the transport
        // classifies only failures of the answer itself.
        await pipeline(body, meter, createWriteStream(partial, { flags: 'wx', mode: 0o600 }));
      } catch (err) {
        await rm(partial, { force: true });
        throw err;
      }
      const sha512 = digest.digest('hex');
      return { partial, bytes, sha512, hash: formatVcdaHash(sha512) };
    });
  }
}
