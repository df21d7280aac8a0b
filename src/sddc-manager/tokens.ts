/**
 * SDDC Manager's tokens: a login (`POST /v1/tokens`) gives an access token (a JWT whose `exp`
 * says when to refresh) and a refresh token; the access token is refreshed before it expires
 * (and, failing that, a full login runs), all through the core's {@link SessionCore} so that
 * concurrent calls share one login or refresh. Also the HTTP Basic authorization some restore
 * calls take. {@link SddcManagerClient} composes it.
 */
import { z } from 'zod';
import { isAbortError } from '../core/classify';
import type { HttpTransport } from '../core/http';
import { SessionCore } from '../core/http-session';
import type { Secret } from '../core/secrets';
import { AccessToken, TokenPair } from './schemas';

export interface SddcManagerCredentials {
  username: string;
  password: Secret;
}

export const DEFAULT_REFRESH_BEFORE_EXPIRY_SECONDS = 120;

/** What the tokens need of the client's options (`SddcManagerClientOptions`). */
export interface SddcManagerTokenOptions {
  credentials: () => Promise<SddcManagerCredentials>;
  timeoutMs?: number;
  loginTimeoutMs?: number;
  /** @default DEFAULT_REFRESH_BEFORE_EXPIRY_SECONDS (120, as PowerVCF) */
  refreshBeforeExpirySeconds?: number;
}

/** The `exp` claim (seconds) of a JWT, or undefined for an opaque or unreadable token. No signature check. */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' && Number.isFinite(claims.exp) ? claims.exp : undefined;
  } catch {
    return undefined;
  }
}

export interface Tokens {
  access: string;
  /** `exp` of the access token in ms, when it is a readable JWT. */
  expiresAtMs?: number;
  refreshId?: string;
}

/** The token session of one SDDC Manager (see the file's first comment). */
export class SddcManagerTokens {
  readonly session: SessionCore<Tokens>;
  private readonly refreshBeforeMs: number;

  constructor(
    private readonly http: HttpTransport,
    private readonly opts: SddcManagerTokenOptions,
  ) {
    this.refreshBeforeMs = (opts.refreshBeforeExpirySeconds ?? DEFAULT_REFRESH_BEFORE_EXPIRY_SECONDS) * 1000;
    this.session = new SessionCore<Tokens>({
      context: http.context('tokenCreate'),
      login: (signal) => this.createTokens(signal),
      renew: (current, signal) => this.renewTokens(current, signal),
      isStale: (t) => t.expiresAtMs !== undefined && t.expiresAtMs - Date.now() < this.refreshBeforeMs,
      loginTimeoutMs: opts.loginTimeoutMs,
      requestTimeoutMs: opts.timeoutMs,
    });
  }

  /**
   * The session core's renewal: the refresh token first, and a full login on any failure of it.
   * `signal` is the core's own (login timeout), never a caller's: one caller's abort never fails
   * the others sharing the renewal.
   */
  private async renewTokens(current: Tokens, signal: AbortSignal): Promise<Tokens> {
    if (current.refreshId) {
      try {
        return await this.refresh(current.refreshId, signal);
      } catch (err) {
        if (isAbortError(err) || signal.aborted) throw err;
        // Refresh token expired/revoked or the refresh endpoint failed: full login.
      }
    }
    return this.createTokens(signal);
  }

  private tokensOf(access: string, refreshId: string | undefined): Tokens {
    const exp = jwtExpiry(access);
    return { access, expiresAtMs: exp === undefined ? undefined : exp * 1000, refreshId };
  }

  private async createTokens(signal: AbortSignal): Promise<Tokens> {
    const { username, password } = await this.opts.credentials();
    const { data } = await this.http.sendParsed(
      {
        operation: 'tokenCreate',
        method: 'POST',
        path: '/v1/tokens',
        json: { username, password: password.reveal() },
        signal,
      },
      TokenPair,
    );
    return this.tokensOf(data.accessToken, data.refreshToken.id);
  }

  /**
   * `PATCH /v1/tokens/access-token/refresh` with the refresh-token id as a JSON string. The
   * docs say it returns the new access token as a string; a token pair is accepted too, in case
   * a release answers like `POST /v1/tokens` [uncertain].
   */
  private async refresh(refreshId: string, signal: AbortSignal): Promise<Tokens> {
    const { data } = await this.http.sendParsed(
      { operation: 'tokenRefresh', method: 'PATCH', path: '/v1/tokens/access-token/refresh', json: refreshId, signal },
      z.union([AccessToken, TokenPair]),
    );
    if (typeof data === 'string') return this.tokensOf(data, refreshId);
    return this.tokensOf(data.accessToken, data.refreshToken.id);
  }

  /** `Basic` with the credentials, read now. */
  async basicAuthorization(): Promise<string> {
    const { username, password } = await this.opts.credentials();
    return `Basic ${Buffer.from(`${username}:${password.reveal()}`).toString('base64')}`;
  }
}
