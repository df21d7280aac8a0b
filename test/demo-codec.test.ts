/**
 * `vmware-dr demo --codec` as a user runs it (a child process, without --keep), against the test
 * run's Temporal server (TEMPORAL_ADDRESS), so its histories outlive it: it exits 0, every payload
 * its rehearsals wrote is encrypted with its throwaway key, and its codec server and key file are
 * gone after it. The UI side (a dev server wired to the codec server, read in a browser) is in
 * browser.test.ts.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { describe, expect, inject, it } from 'vitest';
import { CODEC_KEYS_VARIABLE, CODEC_KEY_FILE_VARIABLE, ENCRYPTED_ENCODING } from '../src/codec';
import { payloadsOf } from './support/history';

const root = join(__dirname, '..');

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });

describe('vmware-dr demo --codec', () => {
  it('exits 0; the histories it wrote hold only payloads encrypted with its key; its codec server and key file are gone', async () => {
    const address = inject('temporalAddress');
    const namespace = inject('temporalNamespace');
    const child = spawn(
      process.execPath,
      ['--require', 'tsx/cjs', join(root, 'src', 'cli', 'index.ts'), 'demo', '--codec'],
      {
        cwd: root,
        env: {
          ...process.env,
          VMWARE_DR_DEMO_JOB_SECONDS: '1',
          TEMPORAL_ADDRESS: address,
          TEMPORAL_NAMESPACE: namespace,
          // Keys of the caller's environment do not leak into the demo: it uses its throwaway key.
          [CODEC_KEYS_VARIABLE]: 'not-a-key',
          [CODEC_KEY_FILE_VARIABLE]: '',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const [code] = await once(child, 'exit');
      expect(code, out).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    const keyId = /with the throwaway key (demo-[a-z0-9]+) \((\S+), deleted at exit\)/.exec(out);
    expect(keyId, out).not.toBeNull();
    expect(existsSync(keyId![2]!), 'the key file is deleted').toBe(false);
    // A server of TEMPORAL_ADDRESS has a UI of its own: the demo says how to point it at the codec server.
    const codecPort = Number(/Codec server: http:\/\/127\.0\.0\.1:(\d+); point the Web UI of /.exec(out)?.[1]);
    expect(codecPort, out).toBeGreaterThan(0);
    expect(await refused(codecPort), 'the codec server is stopped').toBe(true);
    expect(out).toContain('# Runbook site-a-nightly: Succeeded');
    expect(out).toContain('# Runbook restore-vc-mgmt: Succeeded');
    // The by-hand approve command carries the key file (the CLI needs the key to read the run).
    expect(out).toContain(
      `(by hand: ${CODEC_KEY_FILE_VARIABLE}=${keyId![2]} vmware-dr approve rehearsal-restore-vc-mgmt-`,
    );

    const ids = [...out.matchAll(/Started (rehearsal-[\w-]+)/g)].map((m) => m[1]!);
    expect(ids).toHaveLength(2);
    const connection = await Connection.connect({ address });
    try {
      const raw = new Client({ connection, namespace });
      for (const id of ids) {
        const history = await raw.workflow.getHandle(id).fetchHistory();
        // Except what the SDK's core writes itself into markers: a `patched()` marker's patch id, and a
        // local activity marker's `data` (its sequence number, attempt and type); a local activity's
        // `result` is the worker's payload and is checked like every other.
        const payloads = payloadsOf(history).filter(
          ({ path }) => !/markerRecordedEventAttributes\.details\.(patch-data|data)\./.test(path),
        );
        expect(payloads.length, id).toBeGreaterThanOrEqual(5);
        // The local activity's result (the policy check, with who started the run) is among them.
        expect(
          payloads.some(({ path }) => /markerRecordedEventAttributes\.details\.result\./.test(path)),
          id,
        ).toBe(true);
        for (const { path, payload } of payloads) {
          expect(Buffer.from(payload.metadata?.encoding ?? []).toString(), `${id} ${path}`).toBe(ENCRYPTED_ENCODING);
          expect(Buffer.from(payload.metadata?.['encryption-key-id'] ?? []).toString(), `${id} ${path}`).toBe(
            keyId![1],
          );
        }
        const text = JSON.stringify(history, (_k, v: unknown) =>
          v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
        );
        for (const plaintext of ['rehearsal of runbook', 'administrator@vsphere.local', 'sftp://'])
          expect(text, `${id}: ${plaintext}`).not.toContain(plaintext);
      }
    } finally {
      await connection.close();
    }
  }, 150_000);
});
