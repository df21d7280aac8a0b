/**
 * Payload encryption: the AES-256-GCM codec (round trip, rotation, unknown key, tampering), key
 * loading (errors name the variable, never the key), a worker and client with the encrypting
 * data converter running vcenterBackup on the real dev server (raw history: no plaintext payload,
 * failure messages encoded), the codec server decoding those payloads for the UI (CORS, token),
 * and the CLI with and without keys (an encrypted run is marked, never failing the others).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, WorkflowFailedError } from '@temporalio/client';
import { type ActivityFailure, ApplicationFailure, type Payload, defaultPayloadConverter } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createActivities } from '../activities';
import { main } from '../src/cli/index';
import { rehearse } from '../src/rehearsal/index';
import {
  AesGcmCodec,
  CODEC_KEYS_VARIABLE,
  CODEC_KEY_FILE_VARIABLE,
  CodecKeyError,
  CodecKeyring,
  ENCRYPTED_ENCODING,
  PayloadDecryptionError,
  encryptingDataConverter,
  loadCodecKeys,
  parseCodecKeys,
  startCodecServer,
} from '../src/codec';
import type { VcenterBackupInput } from '../workflows';
import { buildWorkflowBundle, chooseWorkflowSource, encodedFailuresBundlePath } from '../worker/bundle';
import { WorkerConfigError, loadWorkerConfig } from '../worker/config';
import { type Harness, createHarness } from './support/harness';
import { payloadsOf } from './support/history';

const key = () => randomBytes(32);
const b64 = (b: Buffer) => b.toString('base64');
const keyring = (...ids: string[]) => new CodecKeyring(ids.map((id) => [id, key()]));
const utf8 = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');
const plain = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);

describe('AesGcmCodec', () => {
  const secretish = { url: 'https://vc01.example.com', username: 'administrator@vsphere.local' };

  it('round-trips payloads; the encrypted form names the key and holds no plaintext', async () => {
    const codec = new AesGcmCodec(keyring('k1'));
    const input = [plain(secretish), plain('second'), { metadata: {}, data: new Uint8Array() }];
    const encoded = await codec.encode(input);
    expect(encoded).toHaveLength(3);
    for (const p of encoded) {
      expect(utf8(p.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
      expect(utf8(p.metadata?.['encryption-key-id'])).toBe('k1');
      expect(utf8(p.data)).not.toContain('vc01.example.com');
      expect(utf8(p.data)).not.toContain('json/plain');
    }
    // A fresh IV each time: the same payload never encrypts to the same bytes.
    const again = await codec.encode([input[0]!]);
    expect(Buffer.from(again[0]!.data!).equals(Buffer.from(encoded[0]!.data!))).toBe(false);
    const decoded = await codec.decode(encoded);
    expect(defaultPayloadConverter.fromPayload(decoded[0]!)).toEqual(secretish);
    expect(defaultPayloadConverter.fromPayload(decoded[1]!)).toBe('second');
    expect(utf8(decoded[0]!.metadata?.encoding)).toBe('json/plain');
    // Payloads that are not encrypted pass through (histories from before encryption was on).
    expect(await codec.decode([input[1]!])).toEqual([input[1]]);
  });

  it('rotates: a payload encrypted with the old key decodes after a new key is put first, and new ones use it', async () => {
    const oldKey = key();
    const before = new AesGcmCodec(new CodecKeyring([['2025-01', oldKey]]));
    const old = await before.encode([plain(secretish)]);
    const rotated = new AesGcmCodec(
      parseCodecKeys(`2026-01:${b64(key())},2025-01:${b64(oldKey)}`, CODEC_KEYS_VARIABLE),
    );
    expect(defaultPayloadConverter.fromPayload((await rotated.decode(old))[0]!)).toEqual(secretish);
    const fresh = await rotated.encode([plain('x')]);
    expect(utf8(fresh[0]!.metadata?.['encryption-key-id'])).toBe('2026-01');
  });

  it('an unknown key id is a clear error naming the id and the keys it has', async () => {
    const old = await new AesGcmCodec(keyring('2025-01')).encode([plain('x')]);
    const err = await new AesGcmCodec(parseCodecKeys(`2026-01:${b64(key())}`, CODEC_KEYS_VARIABLE))
      .decode(old)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadDecryptionError);
    expect((err as PayloadDecryptionError).keyId).toBe('2025-01');
    expect((err as Error).message).toMatch(
      /key id "2025-01", which VMWARE_DR_CODEC_KEYS does not have \(it has: 2026-01\); add that key/,
    );
  });

  it('a wrong key under the same id, or altered data, fails authentication instead of returning garbage', async () => {
    const enc = await new AesGcmCodec(keyring('k1')).encode([plain('x')]);
    await expect(new AesGcmCodec(keyring('k1')).decode(enc)).rejects.toThrow(/key id "k1" does not decrypt/);
    const codec = new AesGcmCodec(keyring('k1'));
    const good = await codec.encode([plain('x')]);
    const data = Buffer.from(good[0]!.data!);
    data[20]! ^= 1;
    await expect(codec.decode([{ ...good[0]!, data }])).rejects.toThrow(/was altered/);
    // Relabelling to another key id is caught too (the id is authenticated data).
    const two = new CodecKeyring([
      ['a', key()],
      ['b', key()],
    ]);
    const a = await new AesGcmCodec(two).encode([plain('x')]);
    const relabelled = { ...a[0]!, metadata: { ...a[0]!.metadata, 'encryption-key-id': Buffer.from('b') } };
    await expect(new AesGcmCodec(two).decode([relabelled])).rejects.toThrow(PayloadDecryptionError);
  });
});

describe('codec keys from the environment', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmware-dr-codec-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('unset: no encryption; inline or file: the first key encrypts', async () => {
    expect(loadCodecKeys({})).toBeUndefined();
    const k1 = b64(key());
    const k2 = b64(key());
    expect(loadCodecKeys({ [CODEC_KEYS_VARIABLE]: `new:${k1}, old:${k2}` })?.ids).toEqual(['new', 'old']);
    const file = join(dir, 'keys');
    await writeFile(file, `# rotated 2026-01\nnew:${k1}\nold:${k2}\n`);
    const fromFile = loadCodecKeys({ [CODEC_KEY_FILE_VARIABLE]: file })!;
    expect(fromFile.encryptKeyId).toBe('new');
    expect(fromFile.ids).toEqual(['new', 'old']);
    // Printing or serialising the keyring shows ids only.
    expect(JSON.stringify(fromFile)).not.toContain(k1);
    expect(String(fromFile)).toBe('CodecKeyring(new, old)');
  });

  it('bad keys: every problem names the variable and the key id, never the key material', async () => {
    const short = b64(randomBytes(16));
    const good = b64(key());
    const bad = (value: string): string[] => {
      try {
        loadCodecKeys({ [CODEC_KEYS_VARIABLE]: value });
      } catch (err) {
        expect(err).toBeInstanceOf(CodecKeyError);
        expect((err as Error).message).not.toContain(short);
        expect((err as Error).message).not.toContain(good);
        return (err as CodecKeyError).problems;
      }
      throw new Error('expected a CodecKeyError');
    };
    expect(bad(`a:${short}`)).toEqual(['VMWARE_DR_CODEC_KEYS: key "a" is 16 bytes; AES-256 needs 32']);
    expect(bad(`a:${good},a:${good}`)).toEqual([
      'VMWARE_DR_CODEC_KEYS: entry 2: key id "a" appears twice; ids must be unique',
    ]);
    expect(bad(good)[0]).toMatch(/^VMWARE_DR_CODEC_KEYS: entry 1 is not id:base64key/);
    expect(bad('a:not base64!')[0]).toMatch(/^VMWARE_DR_CODEC_KEYS: key "a" is not base64/);
    expect(bad(' , ')[0]).toMatch(/^VMWARE_DR_CODEC_KEYS: no keys/);
    expect(() => loadCodecKeys({ [CODEC_KEYS_VARIABLE]: `a:${good}`, [CODEC_KEY_FILE_VARIABLE]: '/x' })).toThrow(
      /both set: set one of them/,
    );
    expect(() => loadCodecKeys({ [CODEC_KEY_FILE_VARIABLE]: join(dir, 'missing') })).toThrow(
      /VMWARE_DR_CODEC_KEY_FILE: cannot read .*missing.* \(ENOENT\)/,
    );
  });

  it('the worker configuration reports bad keys with its other problems, without the key', () => {
    const short = b64(randomBytes(8));
    let err: unknown;
    try {
      loadWorkerConfig({ [CODEC_KEYS_VARIABLE]: `k:${short}`, VMWARE_DR_MAX_CONCURRENT_ACTIVITIES: 'many' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WorkerConfigError);
    const problems = (err as WorkerConfigError).problems;
    expect(problems).toContain('VMWARE_DR_CODEC_KEYS: key "k" is 8 bytes; AES-256 needs 32');
    expect(problems.some((p) => p.startsWith('VMWARE_DR_MAX_CONCURRENT_ACTIVITIES'))).toBe(true);
    expect((err as Error).message).not.toContain(short);
    const ok = loadWorkerConfig({ [CODEC_KEYS_VARIABLE]: `k:${b64(key())}` });
    expect(ok.codecKeys?.ids).toEqual(['k']);
    expect(ok.unknownVariables).toEqual([]);
  });

  it('vmware-dr codec-server without keys, or with bad flags, exits 2 naming what to set', async () => {
    const out: string[] = [];
    const io = { stdout: (s: string) => void out.push(s), stderr: (s: string) => void out.push(s) };
    const saved = { keys: process.env[CODEC_KEYS_VARIABLE], file: process.env[CODEC_KEY_FILE_VARIABLE] };
    delete process.env[CODEC_KEYS_VARIABLE];
    delete process.env[CODEC_KEY_FILE_VARIABLE];
    try {
      expect(await main(['codec-server', '--port', '0'], io), out.join('')).toBe(2);
      expect(out.join('')).toMatch(
        /no payload encryption keys: set VMWARE_DR_CODEC_KEYS .* or VMWARE_DR_CODEC_KEY_FILE/,
      );
      out.length = 0;
      expect(await main(['codec-server', '--cors-origin', 'localhost:8080/x'], io)).toBe(2);
      expect(out.join('')).toContain('--cors-origin must be an origin such as http://localhost:8080');
      out.length = 0;
      expect(await main(['codec-server', '--help'], io)).toBe(0);
      expect(out.join('')).toMatch(/VMWARE_DR_CODEC_AUTH_TOKEN\s+reference/);
    } finally {
      if (saved.keys !== undefined) process.env[CODEC_KEYS_VARIABLE] = saved.keys;
      if (saved.file !== undefined) process.env[CODEC_KEY_FILE_VARIABLE] = saved.file;
    }
  });
});

describe('encrypted payloads on the real dev server', () => {
  let h: Harness;
  let input: VcenterBackupInput;
  let codec: AesGcmCodec;
  let client: Client;
  let vcUrl: string;
  const dataConverter = () => encryptingDataConverter(codec.keys);

  beforeAll(async () => {
    h = await createHarness({ vcenters: 1 });
    codec = new AesGcmCodec(keyring('e2e-1'));
    client = new Client({
      connection: h.env.connection,
      namespace: inject('temporalNamespace'),
      dataConverter: dataConverter(),
    });
    const vc = h.sim.info.vcenter[0]!;
    vcUrl = vc.url;
    process.env.CODEC_VC_PASSWORD = vc.password;
    process.env.CODEC_BACKUP_PASSWORD = 'Good#Pass1';
    process.env.CODEC_BAD_BACKUP_PASSWORD = 'alllowercase1!';
    input = {
      endpoint: {
        name: 'vc-1',
        url: vc.url,
        username: vc.username,
        passwordRef: 'env:CODEC_VC_PASSWORD',
        tls: { caFile: vc.caFile },
      },
      backup: {
        locationType: 'SFTP',
        location: 'sftp://codec-backup.example.com/vc-1',
        backupPasswordRef: 'env:CODEC_BACKUP_PASSWORD',
        comment: 'codec test',
      },
      pollIntervalMs: 100,
    };
  });
  afterAll(async () => {
    for (const v of ['CODEC_VC_PASSWORD', 'CODEC_BACKUP_PASSWORD', 'CODEC_BAD_BACKUP_PASSWORD']) delete process.env[v];
    await h?.close();
  });

  const withEncryptingWorker = async <T>(fn: () => Promise<T>): Promise<T> => {
    const worker = await Worker.create({
      connection: h.env.nativeConnection,
      namespace: inject('temporalNamespace'),
      taskQueue: h.taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      activities: createActivities({ pollIntervalMs: 100, busyRetryDelayMs: 100 }),
      maxHeartbeatThrottleInterval: '1 second',
      dataConverter: dataConverter(),
    });
    return worker.runUntil(fn);
  };
  let okId: string;
  let failedId: string;

  it('a vcenterBackup runs; its raw history holds only encrypted payloads (no URL, user or location)', async () => {
    okId = `codec-ok-${Date.now()}`;
    const result = await withEncryptingWorker(() =>
      client.workflow.execute('vcenterBackup', { taskQueue: h.taskQueue, workflowId: okId, args: [input] }),
    );
    expect(result.state).toBe('SUCCEEDED');
    const history = await client.workflow.getHandle(okId).fetchHistory();
    const payloads = payloadsOf(history);
    // Input, activity inputs and results, the workflow result (and any summaries): all encrypted.
    // Except the details of `patched()` markers, which the SDK's core writes itself (the patch id,
    // no user data; https://docs.temporal.io/develop/typescript/versioning#patching).
    const patchMarkers = payloads.filter(({ path }) =>
      /markerRecordedEventAttributes\.details\.patch-data\./.test(path),
    );
    for (const { payload } of patchMarkers)
      expect(defaultPayloadConverter.fromPayload(payload)).toMatchObject({ id: expect.any(String) });
    const userPayloads = payloads.filter((p) => !patchMarkers.includes(p));
    expect(userPayloads.length).toBeGreaterThanOrEqual(5);
    for (const { path, payload } of userPayloads) {
      expect(utf8(payload.metadata?.encoding), path).toBe(ENCRYPTED_ENCODING);
      expect(utf8(payload.metadata?.['encryption-key-id']), path).toBe('e2e-1');
    }
    const raw = JSON.stringify(history, (_k, v: unknown) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
    );
    for (const plaintext of [vcUrl, input.endpoint.username, input.backup.location, result.jobId, 'codec test'])
      expect(raw, plaintext).not.toContain(plaintext);
    // The same history, decoded by the codec: the input is there.
    const startedInput = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads!;
    const decoded = await codec.decode(startedInput as Payload[]);
    expect(defaultPayloadConverter.fromPayload<VcenterBackupInput>(decoded[0]!).endpoint.url).toBe(vcUrl);
  });

  it('a failing activity: its message and stack trace are encoded; the client still reads them', async () => {
    failedId = `codec-fail-${Date.now()}`;
    const bad = { ...input, backup: { ...input.backup, backupPasswordRef: 'env:CODEC_BAD_BACKUP_PASSWORD' } };
    const err = await withEncryptingWorker(() =>
      client.workflow.execute('vcenterBackup', { taskQueue: h.taskQueue, workflowId: failedId, args: [bad] }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const app = ((err as WorkflowFailedError).cause as ActivityFailure).cause as ApplicationFailure;
    expect(app).toBeInstanceOf(ApplicationFailure);
    expect(app.message).toContain('at least 1 uppercase letter');
    const history = await client.workflow.getHandle(failedId).fetchHistory();
    const failed = history.events!.find((e) => e.activityTaskFailedEventAttributes)!.activityTaskFailedEventAttributes!;
    expect(failed.failure?.message).toBe('Encoded failure');
    expect(failed.failure?.stackTrace).toBe('');
    expect(utf8(failed.failure?.encodedAttributes?.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
    const raw = JSON.stringify(history, (_k, v: unknown) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
    );
    expect(raw).not.toContain('uppercase letter');
    expect(raw).not.toContain(vcUrl);
  });

  it('a failure raised by workflow code: plaintext with the plain bundle, encoded with the encoded-failures bundle', async () => {
    // A field the schema does not know: the workflow itself raises InvalidInput, naming it.
    const bad = { ...input, bogusFieldName: 1 };
    const dir = await mkdtemp(join(tmpdir(), 'vmware-dr-bundle-'));
    try {
      const plainBundle = inject('workflowBundlePath');
      const encodedBundle = join(dir, 'workflow-bundle-encoded-failures.js');
      await buildWorkflowBundle(encodedBundle, { encodeFailures: true });
      const runWith = async (codePath: string, workflowId: string) => {
        const worker = await Worker.create({
          connection: h.env.nativeConnection,
          namespace: inject('temporalNamespace'),
          taskQueue: h.taskQueue,
          workflowBundle: { codePath },
          activities: createActivities({ pollIntervalMs: 100 }),
          dataConverter: dataConverter(),
        });
        const err = await worker
          .runUntil(() => client.workflow.execute('vcenterBackup', { taskQueue: h.taskQueue, workflowId, args: [bad] }))
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WorkflowFailedError);
        // The client decodes it either way.
        const app = (err as WorkflowFailedError).cause as ApplicationFailure;
        expect(app.type).toBe('InvalidInput');
        expect(app.message).toContain('bogusFieldName');
        const history = await client.workflow.getHandle(workflowId).fetchHistory();
        const failed = history.events!.find((e) => e.workflowExecutionFailedEventAttributes)!
          .workflowExecutionFailedEventAttributes!.failure!;
        const raw = JSON.stringify(history, (_k, v: unknown) =>
          v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
        );
        return { failed, raw };
      };
      const before = await runWith(plainBundle, `codec-wf-plain-${Date.now()}`);
      expect(before.failed.message).toContain('bogusFieldName');
      const after = await runWith(encodedBundle, `codec-wf-encoded-${Date.now()}`);
      expect(after.failed.message).toBe('Encoded failure');
      expect(after.failed.stackTrace).toBe('');
      expect(utf8(after.failed.encodedAttributes?.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
      expect(after.raw).not.toContain('bogusFieldName');
      // The production worker picks that bundle when encryption is on (from source it bundles itself).
      expect(chooseWorkflowSource(undefined, { encodeFailures: true }).kind).toBe('workflowsPath');
      expect(encodedFailuresBundlePath('/x/workflow-bundle.js')).toBe('/x/workflow-bundle-encoded-failures.js');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('the codec server decodes those payloads for the UI: CORS preflight, /decode, /encode, bearer token', async () => {
    const server = await startCodecServer({
      codec,
      port: 0,
      corsOrigins: ['http://localhost:8080'],
      authToken: 'codec-token-1',
    });
    try {
      const history = await client.workflow.getHandle(okId).fetchHistory();
      const encrypted = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads!;
      const body = JSON.stringify({
        payloads: encrypted.map((p) => ({
          metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(Buffer.from(v))])),
          data: b64(Buffer.from(p.data!)),
        })),
      });
      const ui = { Origin: 'http://localhost:8080', 'X-Namespace': 'default', 'Content-Type': 'application/json' };

      const preflight = await fetch(`${server.url}/decode`, {
        method: 'OPTIONS',
        headers: {
          Origin: 'http://localhost:8080',
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'content-type,x-namespace,authorization',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:8080');
      expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
      expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-namespace');
      const otherOrigin = await fetch(`${server.url}/decode`, {
        method: 'OPTIONS',
        headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' },
      });
      expect(otherOrigin.status).toBe(403);
      expect(otherOrigin.headers.get('access-control-allow-origin')).toBeNull();

      const noToken = await fetch(`${server.url}/decode`, { method: 'POST', headers: ui, body });
      expect(noToken.status).toBe(401);
      const auth = { ...ui, Authorization: 'Bearer codec-token-1' };
      const decoded = await fetch(`${server.url}/decode`, { method: 'POST', headers: auth, body });
      expect(decoded.status).toBe(200);
      expect(decoded.headers.get('access-control-allow-origin')).toBe('http://localhost:8080');
      const json = (await decoded.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
      expect(Buffer.from(json.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
      const value = JSON.parse(Buffer.from(json.payloads[0]!.data, 'base64').toString()) as VcenterBackupInput;
      expect(value.endpoint.url).toBe(vcUrl);
      expect(value.endpoint.passwordRef).toBe('env:CODEC_VC_PASSWORD');

      // The failure's encoded attributes decode to the message (what the UI shows for a failure).
      const failedHistory = await client.workflow.getHandle(failedId).fetchHistory();
      const attrs = failedHistory.events!.find((e) => e.activityTaskFailedEventAttributes)!
        .activityTaskFailedEventAttributes!.failure!.encodedAttributes!;
      const failure = await fetch(`${server.url}/decode`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({
          payloads: [
            {
              metadata: Object.fromEntries(Object.entries(attrs.metadata!).map(([k, v]) => [k, b64(Buffer.from(v))])),
              data: b64(Buffer.from(attrs.data!)),
            },
          ],
        }),
      });
      const failureJson = (await failure.json()) as { payloads: { data: string }[] };
      const message = JSON.parse(Buffer.from(failureJson.payloads[0]!.data, 'base64').toString()) as {
        message: string;
        stack_trace: string;
      };
      expect(message.message).toContain('at least 1 uppercase letter');
      expect(message.stack_trace.length).toBeGreaterThan(0);

      // /encode then /decode round trip; bad bodies are 400 with the shape expected.
      const plainBody = {
        payloads: [{ metadata: { encoding: b64(Buffer.from('json/plain')) }, data: b64(Buffer.from('"hi"')) }],
      };
      const enc = (await (
        await fetch(`${server.url}/encode`, { method: 'POST', headers: auth, body: JSON.stringify(plainBody) })
      ).json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
      expect(Buffer.from(enc.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
      const dec = (await (
        await fetch(`${server.url}/decode`, { method: 'POST', headers: auth, body: JSON.stringify(enc) })
      ).json()) as typeof enc;
      expect(Buffer.from(dec.payloads[0]!.data, 'base64').toString()).toBe('"hi"');
      // Under a namespace segment too (the temporal CLI's --codec-endpoint templating).
      const namespaced = await fetch(`${server.url}/default/decode`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify(enc),
      });
      expect(namespaced.status).toBe(200);
      expect((await fetch(`${server.url}/decode`, { headers: auth })).status).toBe(405);
      const badBody = await fetch(`${server.url}/decode`, { method: 'POST', headers: auth, body: '{"payload":[]}' });
      expect(badBody.status).toBe(400);
      expect(await badBody.text()).toContain('payloads');
      // A payload of a key this server lacks: 422 naming the key id.
      const other = await new AesGcmCodec(keyring('elsewhere')).encode([plain('x')]);
      const unknown = await fetch(`${server.url}/decode`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({
          payloads: other.map((p) => ({
            metadata: Object.fromEntries(Object.entries(p.metadata!).map(([k, v]) => [k, b64(Buffer.from(v))])),
            data: b64(Buffer.from(p.data!)),
          })),
        }),
      });
      expect(unknown.status).toBe(422);
      expect(await unknown.text()).toContain('key id \\"elsewhere\\"');
    } finally {
      await server.close();
    }
  });
});

describe('rehearsal and CLI with keys configured', () => {
  it('a rehearsal encrypts its payloads; report decrypts them with the keys; without them list marks that run and keeps the others, status shows what the server records (exit 2)', async () => {
    const keys = `rh-1:${b64(key())}`;
    const doc = {
      apiVersion: 'vmware-dr/v1',
      kind: 'Runbook',
      name: 'codec-rehearsal',
      endpoints: {
        'vc-a': { product: 'vcenter', url: 'https://vc-a.example.com', username: 'admin', passwordRef: 'env:VC_A' },
      },
      locations: { loc: { type: 'SFTP', url: 'sftp://codec.example.com/vcsa', passwordRef: 'env:LOC' } },
      stages: [{ name: 'vc', steps: [{ backup: 'vc-a', to: 'loc' }] }],
    };
    const address = inject('temporalAddress');
    const namespace = inject('temporalNamespace');
    const { report, rehearsal } = await rehearse(doc, {
      temporal: { address, namespace },
      workflowBundle: { codePath: inject('workflowBundlePath') },
      jobSeconds: 1,
      pollIntervalMs: 200,
      env: { [CODEC_KEYS_VARIABLE]: keys },
    });
    expect(report.outcome).toBe('succeeded');
    // The raw history (a client without the codec) holds the runbook only encrypted.
    const plainClient = new Client({
      connection: await (await import('@temporalio/client')).Connection.connect({ address }),
      namespace,
    });
    try {
      const history = await plainClient.workflow.getHandle(rehearsal.workflowId).fetchHistory();
      const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
      expect(utf8(input.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
      expect(utf8(input.metadata?.['encryption-key-id'])).toBe('rh-1');
      expect(
        JSON.stringify(history, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v)),
      ).not.toContain('codec.example.com');
    } finally {
      await plainClient.connection.close();
    }
    // The CLI reads the report with the keys from its environment…
    const out: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void out.push(t) };
    const argv = ['report', rehearsal.workflowId, '--format', 'json', '--address', address, '--namespace', namespace];
    const saved = process.env[CODEC_KEYS_VARIABLE];
    try {
      process.env[CODEC_KEYS_VARIABLE] = keys;
      expect(await main(argv, io), out.join('')).toBe(0);
      expect(JSON.parse(out.join(''))).toMatchObject({ runbook: 'codec-rehearsal', outcome: 'succeeded' });
      // …not without them (the payload stays encrypted), and a bad key list is exit 2 naming the variable.
      out.length = 0;
      delete process.env[CODEC_KEYS_VARIABLE];
      expect(await main(argv, io)).toBe(2);
      expect(out.join('')).toContain(
        'payloads are encrypted: set VMWARE_DR_CODEC_KEYS or VMWARE_DR_CODEC_KEY_FILE to the keys the worker uses',
      );
      process.env[CODEC_KEYS_VARIABLE] = 'rh-1:short';
      out.length = 0;
      expect(await main(argv, io)).toBe(2);
      expect(out.join('')).toContain('VMWARE_DR_CODEC_KEYS: key "rh-1" is not base64');
    } finally {
      if (saved === undefined) delete process.env[CODEC_KEYS_VARIABLE];
      else process.env[CODEC_KEYS_VARIABLE] = saved;
    }

    // The same runbook rehearsed without keys: one run encrypted, one not.
    const plain = await rehearse(doc, {
      temporal: { address, namespace },
      workflowBundle: { codePath: inject('workflowBundlePath') },
      jobSeconds: 1,
      pollIntervalMs: 200,
      env: {},
    });
    const encryptedId = rehearsal.workflowId;
    const plainId = plain.rehearsal.workflowId;
    const run = async (args: string[], env: Record<string, string> = {}) => {
      const o: string[] = [];
      const e: string[] = [];
      const before = { ...process.env };
      delete process.env[CODEC_KEYS_VARIABLE];
      Object.assign(process.env, env);
      try {
        const code = await main([...args, '--address', address, '--namespace', namespace], {
          stdout: (t) => void o.push(t),
          stderr: (t) => void e.push(t),
        });
        return { code, out: o.join(''), err: e.join('') };
      } finally {
        for (const k of Object.keys(process.env)) if (!(k in before)) delete process.env[k];
        Object.assign(process.env, before);
      }
    };
    // list without keys: both runs, the encrypted one marked (not a failure of the whole list).
    const query = ['list', '--query', `WorkflowId = '${encryptedId}' OR WorkflowId = '${plainId}'`];
    let rows: { workflowId: string; outcome: string; unreadable: string | null }[] = [];
    for (let i = 0; i < 50 && rows.length < 2; i++) {
      if (i) await new Promise((r) => setTimeout(r, 200));
      const listed = await run([...query, '--json']);
      expect(listed.code, listed.err).toBe(0);
      rows = JSON.parse(listed.out) as typeof rows;
    }
    const byId = new Map(rows.map((r) => [r.workflowId, r]));
    expect(byId.get(plainId)).toMatchObject({ outcome: 'succeeded', unreadable: null });
    expect(byId.get(encryptedId)).toMatchObject({
      outcome: 'succeeded',
      unreadable: expect.stringContaining('set VMWARE_DR_CODEC_KEYS or VMWARE_DR_CODEC_KEY_FILE'),
    });
    const table = await run(query);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/Note/);
    expect(table.out).toMatch(new RegExp(`${encryptedId}.*unreadable \\(1\\)`));
    expect(table.out).toContain("(1) the run's payloads are encrypted: set VMWARE_DR_CODEC_KEYS");
    // With the keys: nothing to mark (the plain run passes through the codec).
    const withKeys = await run([...query, '--json'], { [CODEC_KEYS_VARIABLE]: keys });
    expect((JSON.parse(withKeys.out) as typeof rows).map((r) => r.unreadable)).toEqual([null, null]);
    // status without keys: the plain run in full; the encrypted one from what the server records, exit 2.
    expect((await run(['status', plainId])).code).toBe(0);
    const status = await run(['status', encryptedId]);
    expect(status.code).toBe(2);
    expect(status.out).toContain('Runbook codec-rehearsal');
    expect(status.out).toContain('Status: COMPLETED, outcome: succeeded');
    expect(status.out).toContain("Steps: not readable here (the run's payloads are encrypted");
    expect(status.err).toContain(`vmware-dr: run ${encryptedId}: the run's payloads are encrypted`);
    const json = await run(['status', encryptedId, '--json']);
    expect(JSON.parse(json.out)).toMatchObject({
      workflowId: encryptedId,
      runbook: 'codec-rehearsal',
      status: 'COMPLETED',
      outcome: 'succeeded',
      steps: null,
      unreadable: expect.stringContaining('encrypted'),
    });
    // A key this client has, but not the one the run used: marked with the key id it needs.
    const wrong = await run(['status', encryptedId], { [CODEC_KEYS_VARIABLE]: `other:${b64(key())}` });
    expect(wrong.code).toBe(2);
    expect(wrong.out).toMatch(/cannot be decrypted: .*key id "rh-1"/);
  });
});
