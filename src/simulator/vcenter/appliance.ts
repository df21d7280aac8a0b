/**
 * Simulated vCenter appliance recovery (backup, restore, schedules, archives, reconciliation) in
 * both wire forms (`/api` and legacy `/rest`), checked against VMware's 7.0.2 Swagger by
 * `test/vcenter-contract.test.ts`.
 *
 * Status codes follow the spec per operation: when the natural HTTP status of a vAPI error
 * (reference §1.6) is not declared for the operation, the error keeps its type but answers the
 * status the operation does declare for generic errors (`/api` 500, `/rest` 400). Clients
 * classify by the error type first, so NotFound stays NotFound. Two exceptions, as on a real
 * appliance: 401 UNAUTHENTICATED on any call, and 503/dropped connections while a restore
 * restarts the services.
 *
 * This file holds the appliance (stage, sessions, the outage of a restore) and composes the
 * areas, each given the shared {@link VcenterState} (`model.ts`): `backup-jobs.ts`,
 * `archives.ts`, `restore.ts`, `schedules.ts`, `reconciliation.ts`; the job state machines are in
 * `job-states.ts`, vAPI errors in `errors.ts`, the HTTP table in `routes.ts` and the wrapper of
 * its routes in `vapi-route.ts`.
 */
import { randomBytes } from 'node:crypto';
import type { SimAppliance, SimRequest, SimResponse, SimRoute, SimulatorContext } from '../types';
import { Archives, ownArchives } from './archives';
import { BackupJobs } from './backup-jobs';
import { STATUS_VAPI, VapiFault, vapiErrorResponse } from './errors';
import { currentStage, restartWindow, tick } from './job-states';
import { type Job, type VcenterForm, type VcenterStage, VcenterState } from './model';
import { Reconciliation } from './reconciliation';
import { Restore } from './restore';
import { vcenterRoutes } from './routes';
import { Schedules } from './schedules';

export interface VcenterApplianceOptions {
  /** Wire forms served. Default both; `['rest']` is a 6.5/6.7 appliance (no `/api`: auto-detection falls back). */
  forms?: readonly VcenterForm[];
  /**
   * Also serve vAPI JSON-RPC at `POST /api` (`jsonrpc.ts`), as a real vCenter does (VMware's SDKs
   * speak it by default). Counters and faults see each call as the operation it invokes.
   * @default true (wherever `/api` is served)
   */
  jsonRpc?: boolean;
}

/**
 * One simulated vCenter: sessions with an idle timeout, one backup or restore at a time
 * (FEATURE_IN_USE), jobs that progress over `jobSeconds`, both `/api` and `/rest` forms.
 *
 * Knobs for tests: {@link setStage} (`'restore'` = freshly deployed, before firstboot),
 * {@link expireSessions}, {@link failNextJob}, and the `jobSeconds`/`sessionIdleSeconds` of the
 * simulator. A restore restarts the services during the middle third of `jobSeconds`: calls then
 * answer 503 SERVICE_UNAVAILABLE and drop the connection, alternately, and every session is lost.
 */
export class VcenterAppliance implements SimAppliance {
  readonly product = 'vcenter' as const;
  readonly name: string;
  /** FQDN/PNID-like name: the backup "system name". */
  readonly systemName: string;
  readonly username = 'administrator@vsphere.local';
  readonly password: string;
  readonly forms: readonly VcenterForm[];
  private readonly jsonRpc: boolean;
  private readonly ctx: SimulatorContext;
  private readonly state: VcenterState;
  /** The backup jobs this appliance ran, by id (what its archives are made from). */
  readonly jobs: Map<string, Job>;
  private readonly backups: BackupJobs;
  private readonly archives: Archives;
  private readonly restore: Restore;
  private readonly schedules: Schedules;
  private readonly reconciliation: Reconciliation;
  private outageCalls = 0;

  constructor(index: number, ctx: SimulatorContext, opts: VcenterApplianceOptions = {}) {
    this.name = `vc-${index}`;
    this.systemName = `${this.name}.sim.local`;
    this.ctx = ctx;
    this.forms = opts.forms ?? ['api', 'rest'];
    this.jsonRpc = opts.jsonRpc ?? true;
    this.password = `Sim-${randomBytes(6).toString('hex')}!${index}`;
    this.state = new VcenterState(ctx, this);
    this.jobs = this.state.jobs;
    this.archives = new Archives(this.state);
    this.backups = new BackupJobs(this.state, this.archives);
    this.restore = new Restore(this.state, this.archives);
    this.schedules = new Schedules(this.state, this.backups);
    this.reconciliation = new Reconciliation(this.state);
  }

  // -------------------------------------------------------------------------------------------
  // Knobs

  /** The appliance's stage (a finished restore moves it to `'running'`). */
  get stage(): VcenterStage {
    return currentStage(this.state);
  }

  /**
   * `'restore'`: the appliance is freshly deployed and waits for a restore (no jobs, schedules or
   * sessions of its own; archives on backup servers remain). `'running'`: normal operation, where
   * a restore answers NOT_ALLOWED_IN_CURRENT_STATE.
   */
  setStage(stage: VcenterStage): void {
    const s = this.state;
    if (stage === 'restore') {
      // A redeployed appliance: its backups stay on the backup servers.
      s.kept.push(...ownArchives(s));
      s.jobs.clear();
      s.schedules.clear();
      s.sessions.clear();
      s.restoreJob = undefined;
      s.reconciliation = undefined;
      s.restoredAtMs = undefined;
    }
    s.stage = stage;
  }

  /** Whether a restore is restarting the services right now (calls answer 503 or drop). */
  get restartingServices(): boolean {
    const window = this.state.restoreJob && restartWindow(this.state, this.state.restoreJob);
    const now = this.ctx.now();
    return !!window && now >= window[0] && now < window[1];
  }

  /** Expires every session now (as an appliance restart or the idle timeout would). */
  expireSessions(): void {
    this.state.sessions.clear();
  }

  failNextJob(message: string): void {
    this.state.nextJobFails = message;
  }

  errorResponse(error: string | undefined, status: number | undefined, message: string, path?: string): SimResponse {
    const type = error ?? (status ? STATUS_VAPI[status] : undefined) ?? 'ERROR';
    return vapiErrorResponse(path?.startsWith('/rest/') ? 'rest' : 'api', type, message, undefined, status);
  }

  /** Admin knobs: `{"stage": "restore" | "running"}`, `{"expireSessions": true}`. */
  admin(command: Record<string, unknown>): unknown {
    const { stage, expireSessions, ...rest } = command;
    if (Object.keys(rest).length)
      throw new Error(`unknown vCenter admin command ${Object.keys(rest).join(', ')}; use stage or expireSessions`);
    if (stage !== undefined) {
      if (stage !== 'restore' && stage !== 'running') throw new Error('stage must be "restore" or "running"');
      this.setStage(stage);
    }
    if (expireSessions === true) this.expireSessions();
    return { stage: this.stage, restartingServices: this.restartingServices };
  }

  corrupt(res: SimResponse): SimResponse {
    if (res.body && typeof res.body === 'object' && !Array.isArray(res.body)) {
      const body = { ...(res.body as Record<string, unknown>) };
      if ('value' in body && body.value && typeof body.value === 'object')
        body.value = { ...(body.value as object), state: 42 };
      else body.state = 42;
      return { ...res, body };
    }
    return { ...res, body: { unexpected: true } };
  }

  // -------------------------------------------------------------------------------------------
  // Outage, sessions

  /** While services restart: 503 and dropped connections, alternately. */
  private outage(form: VcenterForm): SimResponse | undefined {
    if (!this.restartingServices) return undefined;
    if (this.outageCalls++ % 2 === 0) {
      return vapiErrorResponse(
        form,
        'SERVICE_UNAVAILABLE',
        'The appliance services are restarting.',
        'com.vmware.vapi.endpoint.service_unavailable',
        503,
      );
    }
    // No way to reset a socket from a route: announce a body and close before sending it, so the
    // client sees the connection drop mid-answer.
    return {
      status: 503,
      headers: { connection: 'close', 'content-length': '64', 'content-type': 'application/json' },
      raw: '',
    };
  }

  private authenticate(req: SimRequest): string {
    const header = req.headers['vmware-api-session-id'];
    const cookie = /vmware-api-session-id=([^;]+)/.exec(String(req.headers.cookie ?? ''))?.[1];
    const token = (Array.isArray(header) ? header[0] : header) ?? cookie;
    const session = token ? this.state.sessions.get(token) : undefined;
    const now = this.ctx.now();
    if (!token || !session || now - session.lastAccess > this.ctx.sessionIdleSeconds * 1000) {
      if (token) this.state.sessions.delete(token);
      throw new VapiFault(
        'UNAUTHENTICATED',
        'This method requires authentication.',
        'com.vmware.vapi.endpoint.method.authentication.required',
      );
    }
    session.lastAccess = now;
    return token;
  }

  private sessionUser(req: SimRequest): string {
    const header = req.headers['vmware-api-session-id'];
    const token = Array.isArray(header) ? header[0] : header;
    return (token && this.state.sessions.get(token)?.user) ?? `VSPHERE.LOCAL\\${this.username.split('@')[0]}`;
  }

  private login(req: SimRequest): string {
    const auth = String(req.headers.authorization ?? '');
    const decoded = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8') : '';
    const sep = decoded.indexOf(':');
    if (sep < 0 || decoded.slice(0, sep) !== this.username || decoded.slice(sep + 1) !== this.password) {
      throw new VapiFault(
        'UNAUTHENTICATED',
        'Authentication required.',
        'com.vmware.vapi.endpoint.method.authentication.required',
      );
    }
    const token = randomBytes(16).toString('hex');
    const now = this.ctx.now();
    this.state.sessions.set(token, {
      user: `VSPHERE.LOCAL\\${this.username.split('@')[0]}`,
      created: now,
      lastAccess: now,
    });
    return token;
  }

  // -------------------------------------------------------------------------------------------

  routes(): SimRoute[] {
    return vcenterRoutes({
      forms: this.forms,
      jsonRpc: this.jsonRpc,
      state: this.state,
      backups: this.backups,
      archives: this.archives,
      restore: this.restore,
      schedules: this.schedules,
      reconciliation: this.reconciliation,
      outage: (form) => {
        tick(this.state);
        return this.outage(form);
      },
      authenticate: (req) => this.authenticate(req),
      login: (req) => this.login(req),
      sessionUser: (req) => this.sessionUser(req),
    });
  }
}

export function createVcenterAppliance(index: number, ctx: SimulatorContext): VcenterAppliance {
  return new VcenterAppliance(index, ctx);
}

/** A 6.5/6.7-style vCenter that serves only the legacy `/rest` form (for API-form detection). */
export function createLegacyVcenterAppliance(index: number, ctx: SimulatorContext): VcenterAppliance {
  return new VcenterAppliance(index, ctx, { forms: ['rest'] });
}
