import { describe, expect, it } from 'vitest';
import {
  AuthenticationFailed,
  BackupHashMismatch,
  ERROR_CLASSES,
  ERROR_TYPES,
  StartOutcomeUnknown,
  InvalidArgument,
  NON_RETRYABLE_ERROR_TYPES,
  NetworkError,
  NotFound,
  NotPermitted,
  PermissionDenied,
  ProtocolError,
  RemoteJobFailed,
  RequestTimeout,
  ResourceBusy,
  SchemaMismatch,
  ServerError,
  ServiceUnavailable,
  TlsError,
  UnknownRemoteState,
  VmwareApiError,
  WrongState,
} from '../src/core/errors';
import { errorFromResponse } from '../activities/classify';
import { errorFromTransport } from '../src/core/classify';
import { retryDecision } from '../src/core/retry';

const vc = { product: 'vcenter' as const, operation: 'backupJobCreate', appliance: 'vc-1' };

describe('error taxonomy (reference §5)', () => {
  it.each([
    ['FEATURE_IN_USE', 400, ResourceBusy],
    ['RESOURCE_BUSY', 400, ResourceBusy],
    ['CONCURRENT_CHANGE', 409, ResourceBusy],
    ['com.vmware.vapi.std.errors.feature_in_use', 400, ResourceBusy],
    ['UNAUTHENTICATED', 401, AuthenticationFailed],
    ['UNAUTHORIZED', 403, PermissionDenied],
    ['NOT_FOUND', 404, NotFound],
    ['OPERATION_NOT_FOUND', 404, NotFound],
    ['INVALID_ARGUMENT', 400, InvalidArgument],
    ['UNSUPPORTED', 400, InvalidArgument],
    ['ALREADY_EXISTS', 400, InvalidArgument],
    ['NOT_ALLOWED_IN_CURRENT_STATE', 400, WrongState],
    ['com.vmware.vapi.std.errors.not_allowed_in_current_state', 400, WrongState],
    ['SERVICE_UNAVAILABLE', 503, ServiceUnavailable],
    ['TIMED_OUT', 504, RequestTimeout],
    ['INTERNAL_SERVER_ERROR', 500, ServerError],
  ])('vAPI %s (HTTP %i) → %s', (code, status, cls) => {
    const err = errorFromResponse({ ...vc, httpStatus: status, vmwareCode: code, messages: ['m'] });
    expect(err).toBeInstanceOf(cls);
  });

  it.each([
    [401, AuthenticationFailed],
    [403, PermissionDenied],
    [404, NotFound],
    [408, RequestTimeout],
    [409, ResourceBusy],
    [423, ResourceBusy],
    [429, ServiceUnavailable],
    [502, ServiceUnavailable],
    [503, ServiceUnavailable],
    [504, RequestTimeout],
    [500, ServerError],
    [418, InvalidArgument],
  ])('bare HTTP %i → %s', (status, cls) => {
    expect(errorFromResponse({ product: 'vcda', operation: 'x', httpStatus: status })).toBeInstanceOf(cls);
  });

  it('SDDC Manager and VCDA codes', () => {
    expect(
      errorFromResponse({ product: 'vcda', operation: 'x', httpStatus: 401, vmwareCode: 'NotAuthenticated' }),
    ).toBeInstanceOf(AuthenticationFailed);
    expect(
      errorFromResponse({ product: 'vcda', operation: 'x', httpStatus: 403, vmwareCode: 'Forbidden' }),
    ).toBeInstanceOf(PermissionDenied);
    expect(
      errorFromResponse({ product: 'vcda', operation: 'x', httpStatus: 500, vmwareCode: 'GeneralServerFailure' }),
    ).toBeInstanceOf(ServerError);
    expect(
      errorFromResponse({ product: 'sddc-manager', operation: 'x', httpStatus: 401, vmwareCode: 'Unauthorized' }),
    ).toBeInstanceOf(AuthenticationFailed);
  });

  it('a 401 is an authentication failure whatever the body says', () => {
    expect(errorFromResponse({ ...vc, httpStatus: 401, vmwareCode: 'NOT_FOUND' })).toBeInstanceOf(AuthenticationFailed);
  });

  it('transport failures by undici/Node code, also nested in causes', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(errorFromTransport(reset, vc)).toBeInstanceOf(NetworkError);
    expect(errorFromTransport(new Error('fetch failed', { cause: reset }), vc)).toBeInstanceOf(NetworkError);
    expect(errorFromTransport(Object.assign(new Error('t'), { code: 'UND_ERR_HEADERS_TIMEOUT' }), vc)).toBeInstanceOf(
      RequestTimeout,
    );
    expect(
      errorFromTransport(Object.assign(new Error('pin'), { code: 'VMWARE_DR_TLS_PIN_MISMATCH' }), vc),
    ).toBeInstanceOf(TlsError);
    expect(
      errorFromTransport(Object.assign(new Error('ca'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }), vc),
    ).toBeInstanceOf(TlsError);
  });

  it('decides retryability in one place', () => {
    const ctx = { ...vc };
    expect(retryDecision(new ResourceBusy('busy', ctx), 1, { busyRetryDelayMs: 1234 })).toEqual({
      retryable: true,
      nextRetryDelayMs: 1234,
    });
    expect(retryDecision(new ResourceBusy('busy', ctx)).nextRetryDelayMs).toBe(30_000);
    for (const cls of [ServiceUnavailable, RequestTimeout, NetworkError])
      expect(retryDecision(new cls('x', ctx))).toEqual({ retryable: true });
    for (const cls of [
      AuthenticationFailed,
      PermissionDenied,
      NotFound,
      InvalidArgument,
      WrongState,
      TlsError,
      SchemaMismatch,
      UnknownRemoteState,
      RemoteJobFailed,
    ]) {
      expect(retryDecision(new cls('x', ctx)).retryable).toBe(false);
    }
    expect(retryDecision(new ServerError('x', ctx), 1).retryable).toBe(true);
    expect(retryDecision(new ServerError('x', ctx), 5).retryable).toBe(false);
    expect(retryDecision(new ProtocolError('x', ctx), 2, { ambiguousMaxAttempts: 2 }).retryable).toBe(false);
    expect(retryDecision(new Error('bug')).retryable).toBe(false);
  });

  it('lists every class once, and the non-retryable list agrees with retryDecision', () => {
    const ctx = { ...vc };
    const classes = {
      BackupHashMismatch,
      ResourceBusy,
      AuthenticationFailed,
      PermissionDenied,
      NotFound,
      InvalidArgument,
      WrongState,
      ServerError,
      ServiceUnavailable,
      RequestTimeout,
      NetworkError,
      TlsError,
      ProtocolError,
      SchemaMismatch,
      UnknownRemoteState,
      RemoteJobFailed,
      StartOutcomeUnknown,
      NotPermitted,
    };
    expect(Object.keys(classes).sort()).toEqual([...ERROR_TYPES].sort());
    for (const [name, cls] of Object.entries(classes)) {
      const err = new cls('x', ctx);
      expect(err.name).toBe(name);
      expect(err).toBeInstanceOf(VmwareApiError);
      expect(NON_RETRYABLE_ERROR_TYPES.includes(name as never)).toBe(!retryDecision(err, 1).retryable);
    }
  });

  it('the message names product, appliance, operation, VMware id, messages and the fix', () => {
    const err = errorFromResponse({
      ...vc,
      httpStatus: 400,
      vmwareCode: 'FEATURE_IN_USE',
      messages: ['A backup or restore is already in progress.'],
    });
    expect(err.message).toBe(
      'vcenter vc-1 backupJobCreate: appliance answered HTTP 400 (HTTP 400 FEATURE_IN_USE): A backup or restore is already in progress. Fix: wait for the running backup/restore/task to finish; the step retries by itself',
    );
    expect(err.code).toBe('VMWARE_DR_RESOURCE_BUSY');
    expect(new InvalidArgument('bad', { ...vc, remediation: 'do X' }).remediation).toBe('do X');
  });
});

describe('busy retries are bounded by the step deadline', () => {
  it('stops retrying busy when the next retry would land past the deadline', () => {
    const err = new ResourceBusy('busy', vc);
    expect(retryDecision(err, 1, { busyRetryDelayMs: 1000 }, { nowMs: 0, deadlineMs: 5000 })).toEqual({
      retryable: true,
      nextRetryDelayMs: 1000,
    });
    expect(retryDecision(err, 1, { busyRetryDelayMs: 1000 }, { nowMs: 4500, deadlineMs: 5000 })).toEqual({
      retryable: false,
    });
  });

  it('bounds every retryable failure by the deadline, network errors and ambiguous answers included', () => {
    for (const err of [
      new NetworkError('x', vc),
      new RequestTimeout('x', vc),
      new ServiceUnavailable('x', vc),
      new ServerError('x', vc),
      new StartOutcomeUnknown('x', vc),
    ]) {
      expect(retryDecision(err, 1, {}, { nowMs: 4999, deadlineMs: 5000 }).retryable).toBe(true);
      expect(retryDecision(err, 1, {}, { nowMs: 5000, deadlineMs: 5000 })).toEqual({ retryable: false });
    }
  });

  it('gives every class a literal name that survives minification', () => {
    for (const [name, cls] of Object.entries(ERROR_CLASSES)) {
      expect(Object.getOwnPropertyDescriptor(new cls('x', vc), 'name')?.value).toBe(name);
    }
  });
});
