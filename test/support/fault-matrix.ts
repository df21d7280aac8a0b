/**
 * The fault matrix as data: every fault × product the simulator injects, where it hits, and the
 * behaviour the design promises (retry, re-login, attach, or a non-retryable failure of a given
 * type). test/fault-matrix.test.ts runs it; `src/simulator/fault-table.ts` renders it.
 */
import type { Product } from '../../src/contract/names';
import type { FaultTableRow } from '../../src/simulator/fault-table';
import { createSddcManagerAppliance } from '../../src/simulator/sddc-manager/appliance';
import type { ApplianceFactory } from '../../src/simulator/server';
import type { FaultAction, SimAppliance, SimResponse } from '../../src/simulator/types';
import { createVcdaAppliance } from '../../src/simulator/vcda';
import { createVcenterAppliance } from '../../src/simulator/vcenter/appliance';

/** What the run must show. */
export type Expectation =
  /** Succeeds after the fault was retried; exactly one remote job, not attached. */
  | { outcome: 'retry' }
  /** Succeeds after a fresh login; exactly one remote job. */
  | { outcome: 'relogin' }
  /** Succeeds by attaching to the job its unanswered start created; exactly one remote job. */
  | { outcome: 'attach' }
  /** Fails for good: an ApplicationFailure of this type, non-retryable, with a `Fix:` hint. */
  | { outcome: 'fail'; type: string }
  /**
   * The step is cancelled mid-job and its compensation (the cancel request) gets through after the
   * fault: the step ends cancelled, its one remote job was asked to cancel exactly once more than
   * the fault's count.
   */
  | { outcome: 'compensate'; relogin?: boolean };

/** How the fault gets in. */
export type Injection =
  /** A simulator fault rule on this appliance's operation. */
  | { via: 'fault'; operation: string; action: FaultAction; count?: number }
  /**
   * The appliance forgets every session/token as soon as the job's start has reached it: the
   * job runs on, and its polls (or, at the latest, the start itself) meet an expired session.
   */
  | { via: 'expire'; afterOperation: string }
  /** The endpoint's TLS settings: none (the simulator's CA is unknown) or a pin of another certificate. */
  | { via: 'tls'; tls: 'default' | 'wrong-pin' }
  /**
   * A simulator fault rule on the product's cancel operation, then the step is cancelled once its
   * job runs: the fault hits the compensation.
   */
  | { via: 'cancel'; action: FaultAction; count?: number };

export type StepAction = 'backup' | 'restore';

export interface FaultCase {
  /** Unique id, also the appliance's name in the simulator (so cases run side by side). */
  id: string;
  /** The fault's row in the table. */
  fault: string;
  product: Product;
  action: StepAction;
  inject: Injection;
  expect: Expectation;
  /** Needs the worker whose requests time out quickly. */
  slowWorker?: boolean;
}

/** Seconds a simulated job takes in the matrix run. */
export const JOB_SECONDS = 1;
/** Seconds a job takes in the compensation cases (long enough to be cancelled mid-run). */
export const CANCEL_JOB_SECONDS = 60;

/** Per product: the operations (simulator names) a step calls, and its product-specific errors. */
export interface ProductOps {
  short: string;
  start: string;
  poll: string;
  /** Operations that log in (their calls count logins). */
  login: string[];
  /** The product's "busy" error. */
  busy: FaultAction;
  /** The restore start and the answer that says a restore is not allowed now (no restore: unset). */
  restore?: { start: string; notAllowed: FaultAction; type: string };
  /** The admin command that drops every session or token. */
  expire: Record<string, unknown>;
  /** The operation that cancels a running backup (unset: the product has no cancel API). */
  cancel?: string;
}

export const PRODUCT_OPS: Record<Product, ProductOps> = {
  vcenter: {
    short: 'vc',
    start: 'backupJobCreate',
    poll: 'backupJobGet',
    login: ['sessionCreate'],
    busy: { kind: 'error', error: 'FEATURE_IN_USE' },
    restore: {
      start: 'restoreJobCreate',
      notAllowed: { kind: 'error', error: 'NOT_ALLOWED_IN_CURRENT_STATE' },
      type: 'WrongState',
    },
    expire: { expireSessions: true },
    cancel: 'backupJobCancel',
  },
  'sddc-manager': {
    short: 'sddc',
    start: 'startBackup',
    poll: 'getTask',
    login: ['tokenCreate', 'tokenRefresh'],
    busy: { kind: 'error', error: 'RESOURCE_LOCKED' },
    // [uncertain] the errorCode SDDC Manager answers for a restore it refuses in its current
    // state is not in the public API reference; its restore start declares only 400 and 500.
    restore: {
      start: 'startRestore',
      notAllowed: { kind: 'error', error: 'RESTORE_NOT_ALLOWED', status: 400 },
      type: 'InvalidArgument',
    },
    expire: { expireAccessTokens: true },
    cancel: 'cancelTask',
  },
  vcda: {
    short: 'vcda',
    start: 'backupCreate',
    poll: 'taskGet',
    login: ['sessionCreate'],
    busy: { kind: 'error', error: 'BackupInProgress' },
    expire: { expireSessions: true },
  },
};

export const PRODUCTS: readonly Product[] = ['vcenter', 'sddc-manager', 'vcda'];

/** Appliances whose `schema` faults write an unknown state string instead of a wrong type. */
export const UNKNOWN_STATUS_PREFIX = 'unknown-status-';
/** The state no product documents. */
export const UNKNOWN_STATUS = 'QUIESCED';

/** The request timeout of the slow worker, and the delay that outlasts it. */
export const SLOW_REQUEST_TIMEOUT_MS = 1_000;
export const SLOW_DELAY_MS = 2_000;

function cases(product: Product): FaultCase[] {
  const ops = PRODUCT_OPS[product];
  const at = (operation: string, action: FaultAction, count?: number): Injection => ({
    via: 'fault',
    operation,
    action,
    ...(count !== undefined && { count }),
  });
  const retry: Expectation = { outcome: 'retry' };
  const attach: Expectation = { outcome: 'attach' };
  const fail = (type: string): Expectation => ({ outcome: 'fail', type });
  const rows: Omit<FaultCase, 'id' | 'product' | 'action'>[] = [
    { fault: 'busy / lock on the start (twice)', inject: at(ops.start, ops.busy, 2), expect: retry },
    {
      fault: 'HTTP 401 mid-job (poll)',
      inject: at(ops.poll, { kind: 'status', status: 401 }),
      expect: { outcome: 'relogin' },
    },
    {
      fault: 'session / token expiry mid-job',
      inject: { via: 'expire', afterOperation: ops.start },
      expect: { outcome: 'relogin' },
    },
    { fault: 'HTTP 500 on the start', inject: at(ops.start, { kind: 'status', status: 500 }), expect: retry },
    { fault: 'HTTP 502 on the start', inject: at(ops.start, { kind: 'status', status: 502 }), expect: retry },
    { fault: 'HTTP 503 on the poll', inject: at(ops.poll, { kind: 'status', status: 503 }), expect: retry },
    { fault: 'HTTP 504 on the start', inject: at(ops.start, { kind: 'status', status: 504 }), expect: retry },
    { fault: 'connection reset on the start', inject: at(ops.start, { kind: 'reset' }), expect: retry },
    { fault: 'connection reset on the poll', inject: at(ops.poll, { kind: 'reset' }), expect: retry },
    {
      fault: 'answer slower than the request timeout (poll)',
      inject: at(ops.poll, { kind: 'delay', ms: SLOW_DELAY_MS }),
      expect: retry,
      slowWorker: true,
    },
    {
      fault: 'answer slower than the request timeout (start)',
      inject: at(ops.start, { kind: 'delay', ms: SLOW_DELAY_MS }),
      expect: attach,
      slowWorker: true,
    },
    { fault: 'answer lost after the start', inject: at(ops.start, { kind: 'lostResponse' }), expect: attach },
    { fault: 'malformed JSON on the poll', inject: at(ops.poll, { kind: 'malformed' }), expect: retry },
    { fault: 'malformed JSON on the start', inject: at(ops.start, { kind: 'malformed' }), expect: attach },
    {
      fault: 'schema-breaking body on the poll',
      inject: at(ops.poll, { kind: 'schema' }),
      expect: fail('SchemaMismatch'),
    },
    { fault: 'schema-breaking body on the start', inject: at(ops.start, { kind: 'schema' }), expect: attach },
    {
      fault: 'unknown job status',
      inject: at(ops.poll, { kind: 'schema' }),
      expect: fail('UnknownRemoteState'),
    },
    { fault: 'job ends FAILED', inject: at(ops.start, { kind: 'jobFailed' }), expect: fail('RemoteJobFailed') },
    { fault: 'TLS: unknown CA (no tls settings)', inject: { via: 'tls', tls: 'default' }, expect: fail('TlsError') },
    { fault: 'TLS: wrong SHA-256 pin', inject: { via: 'tls', tls: 'wrong-pin' }, expect: fail('TlsError') },
  ];
  if (ops.cancel) {
    const cancel = (action: FaultAction, count?: number): Injection => ({
      via: 'cancel',
      action,
      ...(count !== undefined && { count }),
    });
    const compensate: Expectation = { outcome: 'compensate' };
    rows.push(
      {
        fault: 'compensation: HTTP 500 on the cancel',
        inject: cancel({ kind: 'status', status: 500 }),
        expect: compensate,
      },
      {
        fault: 'compensation: HTTP 503 on the cancel (twice)',
        inject: cancel({ kind: 'status', status: 503 }, 2),
        expect: compensate,
      },
      { fault: 'compensation: connection reset on the cancel', inject: cancel({ kind: 'reset' }), expect: compensate },
      {
        fault: 'compensation: HTTP 401 on the cancel',
        inject: cancel({ kind: 'status', status: 401 }),
        expect: { outcome: 'compensate', relogin: true },
      },
      {
        fault: 'compensation: cancel refused (HTTP 403)',
        inject: cancel({ kind: 'status', status: 403 }, 5),
        expect: fail('CompensationFailed'),
      },
    );
  }
  const out: FaultCase[] = rows.map((r, i) => ({
    ...r,
    id: `${r.fault === 'unknown job status' ? UNKNOWN_STATUS_PREFIX : ''}${ops.short}-${i}`,
    product,
    action: 'backup',
  }));
  if (ops.restore) {
    out.push({
      id: `${ops.short}-restore`,
      fault: 'restore not allowed in the current state',
      product,
      action: 'restore',
      inject: at(ops.restore.start, ops.restore.notAllowed),
      expect: fail(ops.restore.type),
    });
  }
  return out;
}

/** The whole matrix, product by product. */
export const FAULT_MATRIX: readonly FaultCase[] = PRODUCTS.flatMap(cases);

/** The designed behaviour in words, for the table. */
export function describeExpectation(e: Expectation): string {
  switch (e.outcome) {
    case 'retry':
      return 'retried → succeeds, 1 job';
    case 'relogin':
      return 're-login → succeeds, 1 job';
    case 'attach':
      return 'attaches to its job → succeeds, 1 job';
    case 'fail':
      return e.type === 'CompensationFailed'
        ? 'step fails: CompensationFailed (the job may still run), with a fix'
        : `fails: ${e.type}, non-retryable, with a fix`;
    case 'compensate':
      return `${e.relogin ? 're-login, ' : ''}cancel asked again → job cancelled, step cancelled`;
  }
}

/** The matrix as table rows; `handled` per case id when a run has happened. */
export function faultTableRows(handled: ReadonlyMap<string, boolean> = new Map()): FaultTableRow[] {
  return FAULT_MATRIX.map((c) => ({
    fault: c.fault,
    product: c.product,
    expected: describeExpectation(c.expect),
    ...(handled.has(c.id) && { handled: handled.get(c.id) }),
  }));
}

/** Replaces the wrong-typed state/status a `schema` fault writes (the number 42) with an unknown string. */
function unknownStatus(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unknownStatus);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      (k === 'state' || k === 'status') && v === 42 ? UNKNOWN_STATUS : unknownStatus(v),
    ]),
  );
}

/** A product factory whose appliances named `unknown-status-…` answer an unknown state on `schema` faults. */
function withUnknownStatus(create: ApplianceFactory): ApplianceFactory {
  return (index, ctx) => {
    const appliance: SimAppliance = create(index, ctx);
    const corrupt = appliance.corrupt.bind(appliance);
    appliance.corrupt = (res: SimResponse): SimResponse => {
      const broken = corrupt(res);
      return appliance.name.startsWith(UNKNOWN_STATUS_PREFIX)
        ? { ...broken, body: unknownStatus(broken.body) }
        : broken;
    };
    return appliance;
  };
}

/** The simulator factories of the matrix run. */
export const FAULT_MATRIX_FACTORIES: Record<Product, ApplianceFactory> = {
  vcenter: withUnknownStatus(createVcenterAppliance),
  'sddc-manager': withUnknownStatus(createSddcManagerAppliance),
  vcda: withUnknownStatus(createVcdaAppliance),
};
