/**
 * The one session core of the three product clients: a single-flight login shared by
 * concurrent calls, renewal before use when a session goes stale, and one re-login per 401.
 *
 * The shared login never runs under a caller's AbortSignal: it has its own timeout, and each
 * caller may stop waiting for it on its own signal without failing it for the others. Products
 * say how to log in (and, optionally, how to renew: SDDC Manager refreshes its access token
 * first and logs in only when that fails); this module knows no product.
 */
import { AuthenticationFailed, type ErrorContext, RequestTimeout } from './errors';
import { DEFAULT_REQUEST_TIMEOUT_MS } from './http';

/**
 * Requests one shared login may take (vCenter `/api` then `/rest`; SDDC Manager refresh then
 * login): its default timeout is this many request timeouts.
 */
export const LOGIN_TIMEOUT_REQUESTS = 2;

/** A session and the generation it belongs to (1 for the first login, +1 at each renewal). */
export interface SessionLease<S> {
  readonly value: S;
  readonly generation: number;
}

export interface SessionCoreOptions<S> {
  /** Where a login happens, for the error a login timeout becomes (e.g. operation `sessionCreate`). */
  context: ErrorContext;
  /**
   * Creates a new session. `signal` is the core's own (it aborts only at the login timeout),
   * never a caller's: pass it to every request the login makes.
   */
  login: (signal: AbortSignal) => Promise<S>;
  /**
   * Renews `current` (stale, or rejected with a 401), e.g. with a refresh token, falling back
   * to a login itself when that fails. Same `signal` contract as {@link login}.
   * @default a full login
   */
  renew?: (current: S, signal: AbortSignal) => Promise<S>;
  /**
   * Whether a session must be renewed before its next use (e.g. its token expires soon).
   * @default never
   */
  isStale?: (session: S) => boolean;
  /**
   * Whether a call's failure means its session was rejected (so renew once and repeat once).
   * @default an {@link AuthenticationFailed} with HTTP status 401
   */
  isRejection?: (err: unknown) => boolean;
  /**
   * How long one shared login (or renewal) may take before it fails as {@link RequestTimeout}.
   * @default LOGIN_TIMEOUT_REQUESTS × requestTimeoutMs
   */
  loginTimeoutMs?: number;
  /**
   * The client's per-request timeout, from which the login timeout defaults.
   * @default DEFAULT_REQUEST_TIMEOUT_MS
   */
  requestTimeoutMs?: number;
}

/** The default rejection test: the appliance answered 401. */
export function isSessionRejection(err: unknown): boolean {
  return err instanceof AuthenticationFailed && err.httpStatus === 401;
}

/** The error a caller's abort leaves with (the signal's reason, as undici does). */
function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/**
 * Waits for `shared` until it settles or `signal` aborts, whichever is first. Leaving early
 * does not cancel `shared`: other callers may still be waiting for it.
 */
export function waitUnlessAborted<T>(shared: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return shared;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    shared.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/**
 * One appliance session shared by every call of one client. Use {@link run} around each
 * authenticated request; {@link login} to log in eagerly; {@link clear} after a logout.
 */
export class SessionCore<S> {
  private readonly opts: SessionCoreOptions<S>;
  private readonly loginTimeoutMs: number;
  private lease?: SessionLease<S>;
  /** Generation of a lease the appliance rejected (renew before using it again). */
  private rejectedGeneration?: number;
  private generations = 0;
  private inFlight?: Promise<SessionLease<S>>;

  constructor(opts: SessionCoreOptions<S>) {
    this.opts = opts;
    this.loginTimeoutMs =
      opts.loginTimeoutMs ?? LOGIN_TIMEOUT_REQUESTS * (opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
  }

  /** The current session, if any (it may be stale or rejected). */
  get current(): SessionLease<S> | undefined {
    return this.lease;
  }

  /** Forgets the session (after a logout); the next call logs in. */
  clear(): void {
    this.lease = undefined;
    this.rejectedGeneration = undefined;
  }

  /** Logs in now, sharing a login already under way. */
  login(signal?: AbortSignal): Promise<SessionLease<S>> {
    return this.join('login', signal);
  }

  /** A session to use: the current one, a renewed one when it is stale or was rejected, or a new login. */
  acquire(signal?: AbortSignal): Promise<SessionLease<S>> {
    const lease = this.lease;
    if (!lease) return this.login(signal);
    if (lease.generation === this.rejectedGeneration || this.opts.isStale?.(lease.value)) {
      return this.join('renew', signal);
    }
    return Promise.resolve(lease);
  }

  /**
   * The session to repeat a call with after `stale` was rejected: a newer one when another call
   * renewed meanwhile, otherwise one renewal shared with every call rejected alongside.
   */
  afterRejection(stale: SessionLease<S>, signal?: AbortSignal): Promise<SessionLease<S>> {
    const lease = this.lease;
    if (lease && lease.generation > stale.generation && lease.generation !== this.rejectedGeneration)
      return Promise.resolve(lease);
    if (lease && lease.generation === stale.generation) this.rejectedGeneration = stale.generation;
    return this.join('renew', signal);
  }

  /**
   * Runs `attempt` with a session; when the appliance rejects it (401), renews once (or picks
   * up another call's renewal) and repeats `attempt` once. A second rejection leaves as it is.
   * `signal` only bounds this caller's wait for a shared login.
   */
  async run<T>(attempt: (session: S) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const isRejection = this.opts.isRejection ?? isSessionRejection;
    let lease = await this.acquire(signal);
    try {
      return await attempt(lease.value);
    } catch (err) {
      if (!isRejection(err)) throw err;
      lease = await this.afterRejection(lease, signal);
    }
    return attempt(lease.value);
  }

  /** Waits for the shared login/renewal; a caller already cancelled starts none. */
  private join(kind: 'login' | 'renew', signal?: AbortSignal): Promise<SessionLease<S>> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return waitUnlessAborted(this.shared(kind), signal);
  }

  /** The login/renewal under way, or a new one; no caller's signal reaches it. */
  private shared(kind: 'login' | 'renew'): Promise<SessionLease<S>> {
    if (this.inFlight) return this.inFlight;
    const current = this.lease?.value;
    const p = this.authenticate((signal) =>
      kind === 'renew' && current !== undefined && this.opts.renew
        ? this.opts.renew(current, signal)
        : this.opts.login(signal),
    );
    this.inFlight = p;
    const settle = () => {
      if (this.inFlight === p) this.inFlight = undefined;
    };
    // Nobody may be waiting any more (every caller aborted): the outcome is still handled here.
    p.then(settle, settle);
    return p;
  }

  private async authenticate(step: (signal: AbortSignal) => Promise<S>): Promise<SessionLease<S>> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.loginTimeoutMs);
    timer.unref?.();
    try {
      const value = await step(controller.signal);
      this.lease = { value, generation: ++this.generations };
      this.rejectedGeneration = undefined;
      return this.lease;
    } catch (err) {
      if (controller.signal.aborted) {
        throw new RequestTimeout(`login did not finish within ${this.loginTimeoutMs} ms`, {
          ...this.opts.context,
          cause: err,
        });
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}
