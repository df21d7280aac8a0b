/**
 * Authentication of the simulated SDDC Manager: `POST /v1/tokens` (a signed JWT access token and
 * a refresh token), refresh and logout, the bearer check of every other call, and HTTP Basic for
 * the restore endpoints (see the comment of `appliance.ts` for the users and lifetimes).
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { SimRequest, SimResponse, SimulatorContext } from '../types';
import { SddcFault } from './errors';

const REFRESH_TOKEN_TTL_MS = 24 * 3600 * 1000;
const LOGIN_USERS = ['administrator@vsphere.local', 'admin@local'];
const BASIC_USER = 'admin';

function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** The appliance's password and name, read on every call (the server may fix the password after construction). */
export interface SddcIdentity {
  readonly password: string;
  readonly fqdn: string;
}

/** The access and refresh tokens of one appliance, and the calls that issue, check and drop them. */
export class SddcTokens {
  private readonly signingKey = randomBytes(32);
  /** jti → user of access tokens not revoked. */
  private readonly accessTokens = new Map<string, string>();
  private readonly refreshTokens = new Map<string, { user: string; expiresMs: number }>();

  constructor(
    private readonly ctx: SimulatorContext,
    private readonly appliance: SddcIdentity,
  ) {}

  /** Revokes every access token issued so far (refresh tokens stay valid). */
  expireAccessTokens(): void {
    this.accessTokens.clear();
  }

  /** Revokes every refresh token: the next refresh fails and the client must log in. */
  revokeRefreshTokens(): void {
    this.refreshTokens.clear();
  }

  private issueAccessToken(user: string): string {
    const nowS = Math.floor(this.ctx.now() / 1000);
    const jti = randomUUID();
    const header = b64json({ alg: 'HS256', typ: 'JWT' });
    const payload = b64json({
      sub: user,
      iss: this.appliance.fqdn,
      iat: nowS,
      exp: nowS + this.ctx.tokenTtlSeconds,
      jti,
    });
    const signature = createHmac('sha256', this.signingKey).update(`${header}.${payload}`).digest('base64url');
    this.accessTokens.set(jti, user);
    return `${header}.${payload}.${signature}`;
  }

  private unauthorized(message: string): SddcFault {
    return new SddcFault(
      401,
      'Unauthorized',
      message,
      'Get a new access token (PATCH /v1/tokens/access-token/refresh or POST /v1/tokens).',
    );
  }

  private verifyBearer(token: string): string {
    const [header, payload, signature] = token.split('.');
    if (!header || !payload || !signature) throw this.unauthorized('The access token is malformed.');
    const expected = createHmac('sha256', this.signingKey).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw this.unauthorized('The access token signature is invalid.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      exp: number;
      jti: string;
      sub: string;
    };
    if (!this.accessTokens.has(claims.jti)) throw this.unauthorized('The access token has been revoked.');
    if (claims.exp * 1000 <= this.ctx.now()) {
      this.accessTokens.delete(claims.jti);
      throw this.unauthorized('The access token has expired.');
    }
    return claims.sub;
  }

  private checkPassword(user: string, password: string): boolean {
    const a = Buffer.from(password);
    const b = Buffer.from(this.appliance.password);
    return LOGIN_USERS.includes(user) && a.length === b.length && timingSafeEqual(a, b);
  }

  authenticate(req: SimRequest, basicAllowed: boolean): string {
    const header = String(req.headers.authorization ?? '');
    if (header.startsWith('Bearer ')) return this.verifyBearer(header.slice(7).trim());
    if (basicAllowed && header.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
      const sep = decoded.indexOf(':');
      const user = decoded.slice(0, sep);
      const a = Buffer.from(decoded.slice(sep + 1));
      const b = Buffer.from(this.appliance.password);
      if (sep > 0 && user === BASIC_USER && a.length === b.length && timingSafeEqual(a, b)) return user;
      throw this.unauthorized('Invalid basic authentication credentials.');
    }
    throw this.unauthorized('Authentication required: send an access token (Authorization: Bearer ...).');
  }

  login(req: SimRequest): SimResponse {
    const body = req.body as { username?: unknown; password?: unknown } | undefined;
    if (!body || typeof body !== 'object' || typeof body.username !== 'string' || typeof body.password !== 'string') {
      throw new SddcFault(400, 'VALIDATION_FAILED', 'Invalid parameter: username and password are required.');
    }
    if (!this.checkPassword(body.username, body.password)) {
      throw new SddcFault(401, 'Unauthorized', 'Invalid username or password.', 'Check the user name and password.');
    }
    const refreshId = randomUUID();
    this.refreshTokens.set(refreshId, { user: body.username, expiresMs: this.ctx.now() + REFRESH_TOKEN_TTL_MS });
    // 201 "Created" (bindings `Tokens.create_token`); the VCF doc pages say 200.
    return {
      status: 201,
      body: { accessToken: this.issueAccessToken(body.username), refreshToken: { id: refreshId } },
    };
  }

  /**
   * The refresh-token id of a refresh or logout body: a JSON string (`"id"`), a bare id (PowerVCF)
   * or `{id}`; a body without one is answered 400.
   */
  private refreshIdOf(body: unknown): string {
    const id =
      typeof body === 'string'
        ? body.trim().replace(/^"|"$/g, '')
        : body && typeof body === 'object'
          ? (body as { id?: unknown }).id
          : undefined;
    if (typeof id === 'string' && id) return id;
    throw new SddcFault(
      400,
      'VALIDATION_FAILED',
      'Invalid parameter: the refresh token id is required.',
      'Send the refresh token id as a JSON string.',
    );
  }

  /**
   * `PATCH /v1/tokens/access-token/refresh` → 200 with the access token as a JSON string. An
   * unknown, revoked or expired refresh token answers 404 (the bindings declare 400/404/500 and
   * no 401 here; the errorCode is the simulator's).
   */
  refresh(req: SimRequest): SimResponse {
    const id = this.refreshIdOf(req.body);
    const entry = this.refreshTokens.get(id);
    if (!entry || entry.expiresMs <= this.ctx.now()) {
      this.refreshTokens.delete(id);
      throw new SddcFault(
        404,
        'REFRESH_TOKEN_NOT_FOUND',
        'The refresh token is invalid or has expired.',
        'Log in again with POST /v1/tokens.',
      );
    }
    return { status: 200, body: this.issueAccessToken(entry.user) };
  }

  /**
   * `DELETE /v1/tokens/refresh-token` → 204 (bindings `invalidate_refresh_token`, no errors
   * declared): an unknown id is answered 204 too (the token is invalid either way).
   */
  logout(req: SimRequest): SimResponse {
    const id = this.refreshIdOf(req.body);
    this.refreshTokens.delete(id);
    return { status: 204 };
  }
}
