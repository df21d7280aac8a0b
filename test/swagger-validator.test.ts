import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SwaggerSpec, isDateTime, validateSchema } from './support/swagger';

const SPEC_DIR = path.join(__dirname, 'fixtures', 'spec');
const FILES = [
  path.join(SPEC_DIR, 'vcenter-7.0.2-appliance-recovery.swagger.json'),
  path.join(SPEC_DIR, 'vcenter-7.0.2-cis-session.swagger.json'),
];

const spec = SwaggerSpec.load(...FILES);

const JOB_ID = '20231031-123456-7.0.2.00000';

function backupJobStatus(): Record<string, unknown> {
  return {
    id: JOB_ID,
    state: 'INPROGRESS',
    messages: [{ id: 'com.vmware.applmgmt.backup.job.start', default_message: 'Backup started', args: [] }],
    progress: 42,
    start_time: '2023-10-31T12:34:56.789Z',
  };
}

describe('SwaggerSpec.load / operations()', () => {
  it('exposes every (path, method) pair of both files', () => {
    const methods = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch']);
    let expected = 0;
    for (const file of FILES) {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as { paths: Record<string, Record<string, unknown>> };
      for (const item of Object.values(doc.paths)) expected += Object.keys(item).filter((k) => methods.has(k)).length;
    }
    expect(expected).toBeGreaterThan(0);
    const ops = spec.operations();
    expect(ops).toHaveLength(expected);
    expect(new Set(ops.map((o) => `${o.method} ${o.pathTemplate}`)).size).toBe(expected);
  });

  it('records operation metadata from the spec', () => {
    const create = spec
      .operations()
      .find((o) => o.method === 'POST' && o.pathTemplate === '/rest/appliance/recovery/backup/job');
    expect(create?.operationId).toBe('create');
    expect(create?.bodySchema).toEqual({ $ref: '#/definitions/appliance.recovery.backup.job_create' });
    expect(Object.keys(create?.responses ?? {})).toEqual(['200', '400']);
  });

  it('refuses conflicting definitions between files', () => {
    const a = { swagger: '2.0', paths: {}, definitions: { X: { type: 'string' } } };
    const b = { swagger: '2.0', paths: {}, definitions: { X: { type: 'integer' } } };
    expect(() => SwaggerSpec.fromDocuments({ source: 'a', document: a }, { source: 'b', document: b })).toThrow(
      /definition 'X' conflicts/,
    );
  });
});

describe('findOperation', () => {
  const find = (method: string, url: string): string | undefined => {
    const op = spec.findOperation(method, url);
    return op && `${op.method} ${op.pathTemplate}`;
  };

  it('picks the ?action=cancel variant only when the query says so', () => {
    expect(find('POST', `/api/appliance/recovery/backup/job/${JOB_ID}?action=cancel`)).toBe(
      'POST /api/appliance/recovery/backup/job/{id}?action=cancel',
    );
    expect(find('GET', `/api/appliance/recovery/backup/job/${JOB_ID}`)).toBe(
      'GET /api/appliance/recovery/backup/job/{id}',
    );
    expect(find('POST', '/api/appliance/recovery/restore/job?action=cancel')).toBe(
      'POST /api/appliance/recovery/restore/job?action=cancel',
    );
    expect(find('POST', '/api/appliance/recovery/restore/job')).toBe('POST /api/appliance/recovery/restore/job');
    expect(find('post', '/rest/appliance/recovery/backup/schedules/daily?action=run')).toBe(
      'POST /rest/appliance/recovery/backup/schedules/{schedule}?action=run',
    );
    expect(find('POST', '/rest/appliance/recovery/backup/schedules/daily')).toBe(
      'POST /rest/appliance/recovery/backup/schedules/{schedule}',
    );
    expect(find('POST', '/rest/com/vmware/cis/session?~action=get')).toBe(
      'POST /rest/com/vmware/cis/session?~action=get',
    );
    expect(find('POST', '/rest/com/vmware/cis/session')).toBe('POST /rest/com/vmware/cis/session');
  });

  it('does not fall back to the plain operation for an unknown or misplaced action', () => {
    expect(find('POST', '/api/appliance/recovery/restore/job?action=bogus')).toBeUndefined();
    expect(find('POST', `/api/appliance/recovery/backup/job/${JOB_ID}`)).toBeUndefined(); // cancel needs ?action=cancel
    expect(find('GET', `/api/appliance/recovery/backup/job/${JOB_ID}?action=cancel`)).toBeUndefined();
  });

  it('prefers literal segments over path parameters and accepts absolute URLs', () => {
    expect(find('GET', '/api/appliance/recovery/backup/job/details?jobs=a&jobs=b')).toBe(
      'GET /api/appliance/recovery/backup/job/details',
    );
    expect(find('GET', 'https://vc.example.test/api/session')).toBe('GET /api/session');
    expect(find('GET', '/api/appliance/recovery/backup/job/')).toBeUndefined();
    expect(find('GET', '/api/nope')).toBeUndefined();
  });
});

describe('validateResponse', () => {
  const GET_JOB = `/api/appliance/recovery/backup/job/${JOB_ID}`;

  it('accepts a valid /api BackupJobStatus', () => {
    expect(spec.validateResponse('GET', GET_JOB, 200, backupJobStatus())).toEqual([]);
    expect(
      spec.validateResponse('GET', GET_JOB, 200, {
        ...backupJobStatus(),
        state: 'SUCCEEDED',
        end_time: '2023-10-31T12:40:00Z',
        extra: 1,
      }),
    ).toEqual([]);
  });

  it("rejects state 'RUNNING' and names the JSON path", () => {
    const errors = spec.validateResponse('GET', GET_JOB, 200, { ...backupJobStatus(), state: 'RUNNING' });
    expect(errors).toEqual(["$.state: expected one of FAILED,INPROGRESS,NONE,SUCCEEDED, got 'RUNNING'"]);
    const legacy = spec.validateResponse('GET', `/rest/appliance/recovery/backup/job/${JOB_ID}`, 200, {
      value: { ...backupJobStatus(), state: 'RUNNING' },
    });
    expect(legacy).toEqual(["$.value.state: expected one of FAILED,INPROGRESS,NONE,SUCCEEDED, got 'RUNNING'"]);
  });

  it('rejects a missing required field, wrong types and bad nested items', () => {
    const { progress: _progress, ...noProgress } = backupJobStatus();
    expect(spec.validateResponse('GET', GET_JOB, 200, noProgress)).toEqual(['$.progress: required property missing']);
    expect(spec.validateResponse('GET', GET_JOB, 200, { ...backupJobStatus(), progress: '42' })).toEqual([
      "$.progress: expected integer, got string '42'",
    ]);
    expect(spec.validateResponse('GET', GET_JOB, 200, { ...backupJobStatus(), progress: 4.2 })).toEqual([
      '$.progress: expected integer, got number 4.2',
    ]);
    expect(spec.validateResponse('GET', GET_JOB, 200, { ...backupJobStatus(), end_time: null })).toEqual([
      '$.end_time: expected string, got null',
    ]);
    expect(
      spec.validateResponse('GET', GET_JOB, 200, {
        ...backupJobStatus(),
        messages: [{ id: 'x', default_message: 'y' }],
      }),
    ).toEqual(['$.messages[0].args: required property missing']);
    expect(spec.validateResponse('GET', GET_JOB, 200, [backupJobStatus()])).toEqual([
      expect.stringMatching(/^\$: expected object, got array/),
    ]);
  });

  it('checks date-time values', () => {
    for (const bad of [
      '2023-10-31',
      '2023-10-31 12:34:56Z',
      '2023-02-30T00:00:00Z',
      '2023-10-31T24:00:00Z',
      'yesterday',
    ]) {
      const errors = spec.validateResponse('GET', GET_JOB, 200, { ...backupJobStatus(), start_time: bad });
      expect(errors, bad).toEqual([`$.start_time: expected an RFC 3339 date-time, got '${bad}'`]);
    }
    expect(isDateTime('2023-10-31T12:34:56+05:30')).toBe(true);
    expect(isDateTime('2024-02-29T00:00:00.1z')).toBe(true);
  });

  it('POST /api/session 201 is a bare string token', () => {
    expect(spec.validateResponse('POST', '/api/session', 201, 'b00a6f5d2b3c4e1f')).toEqual([]);
    expect(spec.validateResponse('POST', '/api/session', 201, { value: 'b00a6f5d2b3c4e1f' })).toEqual([
      expect.stringMatching(/^\$: expected string, got object/),
    ]);
    // the legacy endpoint wraps the token
    expect(spec.validateResponse('POST', '/rest/com/vmware/cis/session', 200, { value: 'b00a6f5d2b3c4e1f' })).toEqual(
      [],
    );
    expect(spec.validateResponse('POST', '/rest/com/vmware/cis/session', 200, 'b00a6f5d2b3c4e1f')).not.toEqual([]);
  });

  it('legacy POST /rest/appliance/recovery/backup/job 200 wraps the status in {value}', () => {
    expect(
      spec.validateResponse('POST', '/rest/appliance/recovery/backup/job', 200, { value: backupJobStatus() }),
    ).toEqual([]);
    expect(spec.validateResponse('POST', '/rest/appliance/recovery/backup/job', 200, backupJobStatus())).toEqual([
      '$.value: required property missing',
    ]);
  });

  it('/api maps are objects (additionalProperties), /rest maps are key/value arrays', () => {
    const info = { parts: ['common'], location: 'sftp://backup.example.test/vc', enable: true };
    expect(spec.validateResponse('GET', '/api/appliance/recovery/backup/schedules', 200, { daily: info })).toEqual([]);
    expect(
      spec.validateResponse('GET', '/api/appliance/recovery/backup/schedules', 200, {
        daily: { ...info, enable: 'yes' },
      }),
    ).toEqual(["$.daily.enable: expected boolean, got string 'yes'"]);
    expect(
      spec.validateResponse('GET', '/rest/appliance/recovery/backup/schedules', 200, {
        value: [{ key: 'daily', value: info }],
      }),
    ).toEqual([]);
    expect(
      spec.validateResponse('GET', '/rest/appliance/recovery/backup/schedules', 200, { value: { daily: info } }),
    ).toEqual([expect.stringMatching(/^\$\.value: expected array, got object/)]);
  });

  it('rejects undeclared statuses and bodies on schema-less responses', () => {
    expect(
      spec.validateResponse('POST', `/api/appliance/recovery/backup/job/${JOB_ID}?action=cancel`, 418, {}),
    ).toEqual([
      'status 418 not declared for POST /api/appliance/recovery/backup/job/{id}?action=cancel (declared: 200, 404, 500)',
    ]);
    expect(spec.validateResponse('POST', '/api/session', 200, 'token')[0]).toMatch(
      /^status 200 not declared for POST \/api\/session/,
    );
    expect(spec.validateResponse('DELETE', '/api/session', 204, undefined)).toEqual([]);
    expect(spec.validateResponse('DELETE', '/api/session', 204, '')).toEqual([]);
    expect(spec.validateResponse('DELETE', '/api/session', 204, { ok: true })).toEqual([
      expect.stringMatching(/declares no body/),
    ]);
    expect(spec.validateResponse('DELETE', '/rest/com/vmware/cis/session', 200, undefined)).toEqual([]);
    expect(spec.validateResponse('GET', '/api/nope', 200, {})).toEqual([
      'no operation in the spec matches GET /api/nope',
    ]);
  });

  it('validates error bodies too', () => {
    const notFound = {
      error_type: 'NOT_FOUND',
      messages: [{ id: 'x', default_message: 'no such job', args: [JOB_ID] }],
    };
    expect(spec.validateResponse('GET', GET_JOB, 404, notFound)).toEqual([]);
    expect(spec.validateResponse('GET', GET_JOB, 404, { ...notFound, error_type: 'MISSING' })).toEqual([
      expect.stringMatching(/^\$\.error_type: expected one of ERROR,/),
    ]);
    expect(
      spec.validateResponse('GET', `/rest/appliance/recovery/backup/job/${JOB_ID}`, 404, {
        type: 'com.vmware.vapi.std.errors.not_found',
        value: notFound,
      }),
    ).toEqual([]);
  });
});

describe('validateRequestBody', () => {
  const request = {
    parts: ['common'],
    location_type: 'SFTP',
    location: 'sftp://backup.example.test/vc',
    location_user: 'u',
    location_password: 'p',
  };

  it('validates /api and legacy /rest bodies against the `in: body` schema', () => {
    expect(spec.validateRequestBody('POST', '/api/appliance/recovery/backup/job', request)).toEqual([]);
    expect(
      spec.validateRequestBody('POST', '/api/appliance/recovery/backup/job', { ...request, location_type: 'S3' }),
    ).toEqual(["$.location_type: expected one of FTP,HTTP,FTPS,HTTPS,SCP,SFTP,NFS,SMB, got 'S3'"]);
    expect(spec.validateRequestBody('POST', '/rest/appliance/recovery/backup/job', { piece: request })).toEqual([]);
    expect(spec.validateRequestBody('POST', '/rest/appliance/recovery/backup/job', request)).toEqual([
      '$.piece: required property missing',
    ]);
    expect(spec.validateRequestBody('POST', '/rest/appliance/recovery/backup/job', undefined)).toEqual([
      '$: request body is required for POST /rest/appliance/recovery/backup/job',
    ]);
  });

  it('rejects a body on an operation that takes none', () => {
    expect(spec.validateRequestBody('POST', '/api/session', undefined)).toEqual([]);
    expect(spec.validateRequestBody('POST', '/api/session', { user: 'x' })).toEqual([
      expect.stringMatching(/takes no request body/),
    ]);
  });

  it('checks required and typed query parameters', () => {
    const url = '/rest/appliance/recovery/backup/system-name/vc01/archives';
    expect(spec.validateRequestBody('GET', url, undefined)).toEqual([
      `query parameter 'loc_spec.location' is required for GET /rest/appliance/recovery/backup/system-name/{system_name}/archives`,
    ]);
    expect(
      spec.validateRequestBody(
        'GET',
        `${url}?loc_spec.location=sftp%3A%2F%2Fh%2Fp&filter_spec.max_results=10`,
        undefined,
      ),
    ).toEqual([]);
    expect(
      spec.validateRequestBody('GET', `${url}?loc_spec.location=x&filter_spec.max_results=ten`, undefined),
    ).toEqual(["query.filter_spec.max_results: expected integer, got string 'ten'"]);
  });
});

describe('validateSchema', () => {
  it('throws on unsupported keywords instead of passing silently', () => {
    expect(() => validateSchema({ type: 'string', pattern: '^a' }, 'a', {})).toThrow(
      /unsupported schema keyword 'pattern'/,
    );
    expect(() => validateSchema({ allOf: [{ type: 'string' }] }, 'a', {})).toThrow(
      /unsupported schema keyword 'allOf'/,
    );
    expect(() => validateSchema({ type: 'string', format: 'byte' }, 'a', {})).toThrow(/unsupported format/);
    expect(() => validateSchema({ type: 'file' }, 'a', {})).toThrow(/unsupported schema type/);
    expect(() => validateSchema({ $ref: '#/definitions/Missing' }, 'a', {})).toThrow(/unresolved \$ref/);
    // also when the keyword sits on a branch the value never reaches, at load time
    const doc = {
      swagger: '2.0',
      paths: { '/x': { get: { responses: { '200': { schema: { $ref: '#/definitions/X' } } } } } },
      definitions: { X: { type: 'object', properties: { rare: { type: 'integer', minimum: 0 } } } },
    };
    expect(() => SwaggerSpec.fromDocuments({ source: 'inline', document: doc })).toThrow(
      /unsupported schema keyword 'minimum'/,
    );
  });

  it('honours additionalProperties: false and int32/int64 ranges', () => {
    const schema = {
      type: 'object',
      properties: { a: { type: 'integer', format: 'int32' } },
      additionalProperties: false,
    };
    expect(validateSchema(schema, { a: 1 }, {})).toEqual([]);
    expect(validateSchema(schema, { a: 1, b: 2 }, {})).toEqual(['$.b: additional property not allowed']);
    expect(validateSchema(schema, { a: 2 ** 31 }, {}, '$.body')).toEqual([
      '$.body.a: expected an int32, got 2147483648',
    ]);
    expect(validateSchema({ type: 'integer', format: 'int64' }, 2 ** 53, {})).toEqual([]);
    expect(validateSchema({ type: 'string' }, 'x', {})).toEqual([]);
  });
});
