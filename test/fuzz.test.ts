/**
 * Property-based bad input (fast-check): runbook documents (valid ones mutated, wrong types, huge
 * strings, deep nesting, random JSON) always end in `ok` or a list of problems, never a throw,
 * in bounded time; and every product client, fed any answer (random, truncated, wrong-typed, huge,
 * deep JSON, any status) through an in-process undici MockAgent, returns a correct result or
 * rejects with a typed VmwareApiError, never another exception and never a hang. The number of
 * cases run is printed (and written as JSON to VMWARE_DR_FUZZ_OUT when set).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { MockAgent } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { UnknownRemoteState, VmwareApiError } from '../src/core/errors';
import type { Product } from '../src/contract/names';
import { errorFromResponse } from '../activities/classify';
import { retryDecision } from '../src/core/retry';
import type { ParsedErrorBody } from '../src/core/http';
import { Runbook } from '../src/contract/runbook/document';
import { Secret } from '../src/core/secrets';
import { SddcManagerClient } from '../src/sddc-manager/client';
import { parseSddcError } from '../src/sddc-manager/errors';
import { TASK_STATUSES, normaliseTaskStatus } from '../src/sddc-manager/schemas';
import { VcdaClient } from '../src/vcda/client';
import { parseVcdaError } from '../src/vcda/errors';
import { TASK_STATES, normaliseTaskState } from '../src/vcda/schemas';
import { VcenterClient } from '../src/vcenter/client';
import { parseVcenterError } from '../src/vcenter/errors';
import { checkInput } from '../src/contract/inputs';

/**
 * Cases per property. The bounded CI form runs ≥ 10 000 in total; FUZZ_SCALE multiplies them
 * (e.g. FUZZ_SCALE=10 for a long run outside CI).
 */
const SCALE = Math.max(1, Number(process.env.FUZZ_SCALE ?? 1) || 1);
const RUNBOOK_RUNS = 1_500 * SCALE;
const RESPONSE_RUNS = 1_000 * SCALE;
const PURE_RUNS = 1_000 * SCALE;
/** One case may take this long at most (a "hang" fails the property). */
const CASE_BOUND_MS = 2_000;
/** fast-check's seed, printed so a failure can be replayed with FUZZ_SEED. */
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);

const counts: Record<string, number> = {};
const count = (what: string) => {
  counts[what] = (counts[what] ?? 0) + 1;
};

afterAll(() => {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  console.log(`fuzz: ${total} cases (seed ${SEED}): ${JSON.stringify(counts)}`);
  if (process.env.VMWARE_DR_FUZZ_OUT)
    writeFileSync(process.env.VMWARE_DR_FUZZ_OUT, `${JSON.stringify({ total, seed: SEED, counts }, null, 2)}\n`);
});

// ---------------------------------------------------------------------------------------------
// Shared arbitraries

/** Nested arrays/objects `depth` levels deep, around `leaf`. */
function nest(depth: number, leaf: unknown, asObject: boolean): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asObject ? { a: v } : [v];
  return v;
}

/**
 * Values of the wrong type anywhere: scalars, huge strings, nesting up to `maxDepth` levels,
 * random JSON. (Past a few thousand levels `JSON.stringify` itself overflows the stack.)
 */
const badValues = (maxDepth: number): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.constantFrom(null, true, 0, -1, 1.5, Number.MAX_SAFE_INTEGER, '', ' ', '\u0000') },
    { weight: 1, arbitrary: fc.integer({ min: 10_000, max: 100_000 }).map((n) => 'x'.repeat(n)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 50, max: maxDepth }), fc.boolean())
        .map(([depth, asObject]) => nest(depth, 'leaf', asObject)),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  );
/** Bad values that still serialise (bodies are sent as text). */
const badValue = badValues(1_000);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** All paths (keys/indexes) in a JSON value. */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

/** A copy of `doc` with the value at `path` replaced (or removed, when `value` is `REMOVE`). */
const REMOVE = Symbol('remove');
function mutate(doc: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value === REMOVE ? undefined : value;
  const copy = Array.isArray(doc) ? [...doc] : { ...(doc as Record<string, unknown>) };
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  const next = mutate((copy as Record<string | number, unknown>)[head], rest, value);
  if (next === undefined && rest.length === 0 && value === REMOVE) {
    if (Array.isArray(copy)) copy.splice(head as number, 1);
    else delete (copy as Record<string, unknown>)[head as string];
  } else (copy as Record<string | number, unknown>)[head] = next;
  return copy;
}

/** A mutation of `seed`: one to three paths replaced by bad values, removed, or given an unknown key. */
function mutations(seed: unknown): fc.Arbitrary<unknown> {
  const all = paths(seed);
  const one = fc.tuple(
    fc.constantFrom(...all),
    fc.oneof(
      { weight: 3, arbitrary: badValue },
      { weight: 1, arbitrary: fc.constant(REMOVE as unknown) },
      { weight: 1, arbitrary: fc.record({ unknownField: fc.string() }) },
    ),
  );
  return fc.array(one, { minLength: 1, maxLength: 3 }).map((edits) => {
    let doc = seed;
    for (const [path, value] of edits) doc = mutate(doc, path, value) ?? null;
    return doc;
  });
}

async function bounded<T>(what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: no answer within ${CASE_BOUND_MS} ms (a hang)`)),
      CASE_BOUND_MS,
    );
  });
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Runbook documents

const runbookSeeds = ['site-a-nightly.yaml', 'restore-vc-mgmt.yaml'].map(
  (name) => parseYaml(readFileSync(join(__dirname, 'fixtures', 'runbooks', name), 'utf8')) as Json,
);

/** checkInput's contract: ok with a value, or problems (each a path and a message) and one message. */
function checkRunbook(doc: unknown): boolean {
  count('runbook');
  const started = performance.now();
  const check = checkInput('runbook', Runbook, doc);
  const ms = performance.now() - started;
  expect(ms, 'checkInput took too long').toBeLessThan(CASE_BOUND_MS);
  if (check.ok) {
    expect(check.value).toBeTypeOf('object');
    return true;
  }
  expect(check.problems.length).toBeGreaterThan(0);
  for (const p of check.problems) {
    expect(p.path).toBeTypeOf('string');
    expect(p.message).toBeTypeOf('string');
  }
  expect(check.message).toMatch(/^runbook input is invalid \(\d+ problems?\); nothing was started: /);
  return false;
}

describe('runbook documents (fast-check)', () => {
  it('the seed documents are valid (so mutations start from a good document)', () => {
    for (const seed of runbookSeeds) expect(checkRunbook(seed)).toBe(true);
  });

  it('mutated valid documents: ok or problems, never a throw, bounded time', () => {
    const arb = fc.constantFrom(...runbookSeeds).chain(mutations);
    fc.assert(
      fc.property(arb, (doc) => {
        checkRunbook(doc);
      }),
      { numRuns: RUNBOOK_RUNS, seed: SEED },
    );
  });

  it('any JSON, huge strings and deep nesting: ok or problems, never a throw, bounded time', () => {
    fc.assert(
      fc.property(badValues(20_000), (doc) => {
        expect(checkRunbook(doc)).toBe(false);
      }),
      { numRuns: Math.round(RUNBOOK_RUNS / 3), seed: SEED },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Response bodies, through the real clients over an in-process dispatcher

interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/** The answers of one case, in request order; the last repeats. */
let script: { answers: Answer[]; i: number } = { answers: [], i: 0 };
const ORIGIN = 'https://fuzz.appliance.invalid';
const agent = new MockAgent();
agent.disableNetConnect();
agent
  .get(ORIGIN)
  .intercept({ path: () => true, method: () => true })
  .reply(() => {
    const a = script.answers[Math.min(script.i++, script.answers.length - 1)]!;
    return { statusCode: a.status, data: a.body, responseOptions: { headers: a.headers ?? {} } };
  })
  .persist();
afterAll(() => agent.close());

const credentials = async () => ({ username: 'fuzz', password: new Secret('fuzz-password') });
const GUID = '3f1b7a9e-2c4d-4e8f-9a0b-1c2d3e4f5a6b';
const NOW = '2026-12-02T01:01:01.000Z';

interface Operation {
  name: string;
  /** A valid 2xx answer, as JSON. */
  seed: Json;
  seedStatus: number;
  call: () => Promise<unknown>;
}

interface ProductFuzz {
  product: Product;
  /** A valid error body of the product, and its parser. */
  errorSeed: Json;
  parseError: (body: unknown) => ParsedErrorBody;
  /** A valid login answer (one answer; a case may replace it by a fuzzed one). */
  login: Answer;
  /** A fresh client (no session yet) and its operations. */
  operations: () => Operation[];
}

const PRODUCTS: ProductFuzz[] = [
  {
    product: 'vcenter',
    errorSeed: {
      error_type: 'FEATURE_IN_USE',
      messages: [{ id: 'com.vmware.applmgmt.err_backup_restore_in_progress', default_message: 'busy', args: [] }],
    },
    parseError: parseVcenterError,
    login: { status: 201, body: '"fuzz-session-token"' },
    operations: () => {
      const c = new VcenterClient({ url: ORIGIN, dispatcher: agent, apiForm: 'api', credentials, timeoutMs: 1_000 });
      const job = { id: '20261202-010101-21560480', state: 'INPROGRESS', messages: [], progress: 50, start_time: NOW };
      return [
        { name: 'backupJobGet', seed: job, seedStatus: 200, call: () => c.backupJobGet(job.id) },
        {
          name: 'backupJobCreate',
          seed: job,
          seedStatus: 201,
          call: () => c.backupJobCreate({ parts: [], location_type: 'SFTP', location: 'sftp://b/x' }),
        },
        { name: 'backupJobList', seed: [job.id], seedStatus: 200, call: () => c.backupJobList() },
        {
          name: 'backupJobCancel',
          seed: { status: 'OK', messages: [] },
          seedStatus: 200,
          call: () => c.backupJobCancel(job.id),
        },
      ];
    },
  },
  {
    product: 'sddc-manager',
    errorSeed: {
      errorCode: 'RESOURCE_LOCKED',
      message: 'locked',
      remediationMessage: 'wait',
      causes: [{ type: 'x', message: 'cause' }],
      nestedErrors: [{ errorCode: 'INNER', message: 'inner', nestedErrors: [{ message: 'deeper' }] }],
    },
    parseError: parseSddcError,
    login: { status: 200, body: JSON.stringify({ accessToken: 'a.b.c', refreshToken: { id: 'r-1' } }) },
    operations: () => {
      const c = new SddcManagerClient({ url: ORIGIN, dispatcher: agent, credentials, timeoutMs: 1_000 });
      const task = { id: 't-1', name: 'SDDC Manager Backup', status: 'IN_PROGRESS', creationTimestamp: NOW };
      return [
        { name: 'getTask', seed: task, seedStatus: 200, call: () => c.getTask(task.id) },
        { name: 'startBackup', seed: task, seedStatus: 202, call: () => c.startBackup() },
        {
          name: 'listTasks',
          seed: { elements: [task], pageMetadata: { pageNumber: 0, pageSize: 1, totalElements: 1, totalPages: 1 } },
          seedStatus: 200,
          call: () => c.listTasks({ type: 'SDDCMANAGER_BACKUP' }),
        },
      ];
    },
  },
  {
    product: 'vcda',
    errorSeed: { code: 'BackupInProgress', msg: 'busy', args: ['a'], stacktrace: null },
    parseError: parseVcdaError,
    login: {
      status: 200,
      body: JSON.stringify({ roles: ['ADMINISTRATORS'], user: 'root', authenticatedSites: [{ site: 's1' }] }),
      headers: { 'x-vcav-auth': 'fuzz-token' },
    },
    operations: () => {
      const c = new VcdaClient({ url: ORIGIN, dispatcher: agent, credentials, timeoutMs: 1_000 });
      const task = { id: GUID, state: 'RUNNING', progress: 10, startTime: 1_764_637_261_000, result: null };
      return [
        { name: 'getTask', seed: task, seedStatus: 200, call: () => c.getTask(GUID) },
        { name: 'startBackup', seed: task, seedStatus: 202, call: () => c.startBackup() },
        { name: 'listBackups', seed: [], seedStatus: 200, call: () => c.listBackups() },
      ];
    },
  },
];

const STATUSES = [200, 201, 202, 204, 301, 304, 400, 401, 403, 404, 408, 409, 423, 429, 500, 502, 503, 504];

/** A body: the seed, the seed mutated, truncated, random JSON or text, huge, or deeply nested. */
function bodies(seed: Json, errorSeed: Json): fc.Arbitrary<string> {
  const text = JSON.stringify(seed);
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(text) },
    { weight: 5, arbitrary: mutations(seed).map((v) => JSON.stringify(v) ?? '') },
    { weight: 2, arbitrary: mutations(errorSeed).map((v) => JSON.stringify(v) ?? '') },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: Math.max(0, text.length - 1) }).map((n) => text.slice(0, n)) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
    { weight: 1, arbitrary: fc.integer({ min: 100_000, max: 200_000 }).map((n) => `"${'y'.repeat(n)}"`) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 1_000, max: 50_000 }).map((n) => `${'['.repeat(n)}1${']'.repeat(n)}`),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 100, max: 50_000 }).map((n) => `${'{"a":'.repeat(n)}${text}${'}'.repeat(n)}`),
    },
  );
}

const answer = (seed: Json, seedStatus: number, errorSeed: Json): fc.Arbitrary<Answer> =>
  fc.record({
    status: fc.oneof(
      { weight: 3, arbitrary: fc.constant(seedStatus) },
      { weight: 3, arbitrary: fc.constantFrom(...STATUSES) },
      { weight: 1, arbitrary: fc.integer({ min: 200, max: 599 }) },
    ),
    body: bodies(seed, errorSeed),
  });

describe.each(PRODUCTS)('$product client answers (fast-check over an in-process dispatcher)', (p) => {
  it('a valid login and a valid answer give the correct result', async () => {
    for (let i = 0; i < p.operations().length; i++) {
      const op = p.operations()[i]!; // a fresh client, so the first answer goes to its login
      script = { answers: [p.login, { status: op.seedStatus, body: JSON.stringify(op.seed) }], i: 0 };
      const result = await bounded(op.name, op.call());
      count(`${p.product} answers`);
      if (op.seed && typeof op.seed === 'object' && !Array.isArray(op.seed) && 'id' in op.seed)
        expect(result).toMatchObject({ id: op.seed.id });
      else if (Array.isArray(op.seed)) expect(result).toEqual(op.seed);
    }
  });

  it('any answer to any call: a correct result or a typed VmwareApiError, never another exception or a hang', async () => {
    const ops = p.operations().map((o) => o.name);
    const arb = fc.integer({ min: 0, max: ops.length - 1 }).chain((index) => {
      const op = p.operations()[index]!;
      return fc.record({
        index: fc.constant(index),
        login: fc.oneof(
          { weight: 4, arbitrary: fc.constant(p.login) },
          { weight: 1, arbitrary: answer(op.seed, 200, p.errorSeed) },
        ),
        answers: fc.array(answer(op.seed, op.seedStatus, p.errorSeed), { minLength: 1, maxLength: 3 }),
      });
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ index, login, answers }) => {
        count(`${p.product} answers`);
        const op = p.operations()[index]!; // a fresh client: no session from the previous case
        script = { answers: [login, ...answers], i: 0 };
        try {
          await bounded(op.name, op.call());
        } catch (err) {
          if (!(err instanceof VmwareApiError))
            throw new Error(`${p.product} ${op.name} threw ${(err as Error)?.name}: ${(err as Error)?.message}`, {
              cause: err,
            });
          expect(err.product).toBe(p.product);
          expect(err.message).toMatch(/Fix: \S/);
        }
      }),
      { numRuns: RESPONSE_RUNS, seed: SEED },
    );
  }, 60_000);
});

describe.each(PRODUCTS)('$product error bodies and statuses (fast-check, pure)', (p) => {
  const anyBody = fc.oneof(mutations(p.errorSeed), fc.jsonValue({ maxDepth: 4 }), badValue);

  it('the error parser never throws and yields a code and messages as strings', () => {
    fc.assert(
      fc.property(anyBody, (body) => {
        count(`${p.product} error bodies`);
        const parsed = p.parseError(body);
        if (parsed.vmwareCode !== undefined) expect(parsed.vmwareCode).toBeTypeOf('string');
        for (const m of parsed.messages ?? []) expect(m).toBeTypeOf('string');
      }),
      { numRuns: PURE_RUNS, seed: SEED },
    );
  });

  it('any status with any parsed body is one typed error with a retry decision and a hint', () => {
    fc.assert(
      fc.property(anyBody, fc.integer({ min: 100, max: 599 }), fc.integer({ min: 1, max: 10 }), (body, status, n) => {
        count(`${p.product} error bodies`);
        const err = errorFromResponse({
          product: p.product,
          operation: 'fuzz',
          httpStatus: status,
          ...p.parseError(body),
        });
        expect(err).toBeInstanceOf(VmwareApiError);
        if (status === 401) expect(err.name).toBe('AuthenticationFailed');
        expect(retryDecision(err, n).retryable).toBeTypeOf('boolean');
        expect(err.message).toMatch(/Fix: \S/);
      }),
      { numRuns: PURE_RUNS, seed: SEED },
    );
  });
});

describe('task states (fast-check, pure): a known state, or UnknownRemoteState, never "still running" by default', () => {
  const spelled = (known: readonly string[]) =>
    fc.oneof(
      fc
        .constantFrom(...known)
        .chain((s) => fc.constantFrom(s, s.toLowerCase(), ` ${s} `, s.replace(/_/g, ' '), s.replace(/_/g, '-'))),
      fc.string({ maxLength: 30 }),
      fc.string({ unit: 'grapheme', maxLength: 30 }),
    );

  it('SDDC Manager task status', () => {
    fc.assert(
      fc.property(spelled(TASK_STATUSES), (raw) => {
        count('task states');
        try {
          expect(TASK_STATUSES).toContain(normaliseTaskStatus(raw));
        } catch (err) {
          expect(err).toBeInstanceOf(UnknownRemoteState);
          expect((err as Error).message).toContain(JSON.stringify(raw));
        }
      }),
      { numRuns: PURE_RUNS, seed: SEED },
    );
  });

  it('VCDA task state (any JSON value)', () => {
    fc.assert(
      fc.property(fc.oneof(spelled(TASK_STATES), fc.jsonValue({ maxDepth: 2 })), (raw) => {
        count('task states');
        try {
          expect(TASK_STATES).toContain(normaliseTaskState(raw));
        } catch (err) {
          expect(err).toBeInstanceOf(UnknownRemoteState);
        }
      }),
      { numRuns: PURE_RUNS, seed: SEED },
    );
  });
});

describe('vCenter job states outside the spec enum', () => {
  it.each(['api', 'rest'] as const)(
    '%s: backupJobGet and restoreJobGet name an unknown state (UnknownRemoteState), a known one passes',
    async (apiForm) => {
      const c = new VcenterClient({ url: ORIGIN, dispatcher: agent, apiForm, credentials, timeoutMs: 1_000 });
      const wrap = (v: Json) => JSON.stringify(apiForm === 'rest' ? { value: v } : v);
      const login = { status: 200, body: wrap('fuzz-session-token') };
      const job = { id: 'j-1', state: 'QUIESCED', messages: [], progress: 5, start_time: NOW };
      const restore = { state: 'QUIESCED', messages: [], progress: 5 };
      script = { answers: [login, { status: 200, body: wrap(job) }], i: 0 };
      const e1 = await c.backupJobGet('j-1').catch((e: unknown) => e);
      expect(e1).toBeInstanceOf(UnknownRemoteState);
      expect((e1 as UnknownRemoteState).operation).toBe('backupJobGet');
      expect((e1 as Error).message).toContain('"QUIESCED" is not one of FAILED, INPROGRESS, NONE, SUCCEEDED');
      script = { answers: [{ status: 200, body: wrap(restore) }], i: 0 };
      const e2 = await c.restoreJobGet().catch((e: unknown) => e);
      expect(e2).toBeInstanceOf(UnknownRemoteState);
      expect((e2 as UnknownRemoteState).operation).toBe('restoreJobGet');
      script = { answers: [{ status: 200, body: wrap({ ...restore, state: 'SUCCEEDED' }) }], i: 0 };
      await expect(c.restoreJobGet()).resolves.toEqual({ ...restore, state: 'SUCCEEDED' });
      script = { answers: [{ status: 200, body: wrap({ ...job, state: 42 }) }], i: 0 };
      await expect(c.backupJobGet('j-1')).rejects.toMatchObject({ name: 'SchemaMismatch' });
    },
  );
});
