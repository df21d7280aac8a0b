/**
 * `vmware-dr simulator --nsx-managers N`: the Managers in the JSON line as `nsxManager`, absent
 * without the flag; the redeployed-Manager admin command over the CLI's server.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { Secret } from '../src/core/secrets';
import { createDispatcher } from '../src/core/tls';
import { NsxManagerClient } from '../src/nsx-manager/client';
import type { SimulatorInfo } from '../src/simulator/server';

const root = join(__dirname, '..');

async function startCli(
  args: string[],
): Promise<{ child: ChildProcessByStdio<null, Readable, Readable>; info: SimulatorInfo; line: string }> {
  const child = spawn(
    process.execPath,
    ['--require', 'tsx/cjs', join(root, 'src', 'cli', 'index.ts'), 'simulator', ...args],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const lines = createInterface({ input: child.stdout });
  const line = await Promise.race([
    once(lines, 'line').then(([l]) => l as string),
    once(child, 'exit').then(([code]) => {
      throw new Error(`simulator exited ${code}: ${err}`);
    }),
  ]);
  return { child, info: JSON.parse(line) as SimulatorInfo, line };
}

describe('vmware-dr simulator --nsx-managers', () => {
  const children: { kill: (s: NodeJS.Signals) => boolean }[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  it('lists N Managers as nsxManager and serves them; without the flag the key is absent', async () => {
    const { child, info } = await startCli(['--vcenters', '0', '--nsx-managers', '2', '--password', 'Sim-Pass-1!']);
    children.push(child);
    expect(Object.keys(info)).toEqual(['vcenter', 'sddcManager', 'vcda', 'nsxManager', 'admin', 'caFile']);
    expect(info.nsxManager?.map((a) => a.url)).toEqual([
      expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+\/nsx-manager\/nsx-1$/),
      expect.stringMatching(/\/nsx-manager\/nsx-2$/),
    ]);
    const nsx = info.nsxManager![0]!;
    expect(Object.keys(nsx).sort()).toEqual(['caFile', 'password', 'url', 'username']);
    const dispatcher = createDispatcher({ tls: { caFile: info.caFile } });
    const c = new NsxManagerClient({
      url: nsx.url,
      dispatcher,
      credentials: async () => ({ username: nsx.username, password: new Secret(nsx.password) }),
    });
    expect((await c.getBackupStatus()).operation_type).toBe('NONE');
    const res = await request(`${info.admin}/appliances/nsx-manager/nsx-1`, {
      method: 'POST',
      body: JSON.stringify({ stage: 'restore' }),
      headers: { 'content-type': 'application/json' },
      dispatcher,
    });
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({ stage: 'restore' });
    expect((await c.getRestoreStatus()).allowed_actions).toEqual(['start']);
    await dispatcher.close();
    child.kill('SIGTERM');
    expect((await once(child, 'exit'))[0]).toBe(0);

    const plain = await startCli(['--vcenters', '1']);
    children.push(plain.child);
    expect(Object.keys(plain.info)).toEqual(['vcenter', 'sddcManager', 'vcda', 'admin', 'caFile']);
    expect(plain.line).not.toContain('nsx');
    plain.child.kill('SIGTERM');
    await once(plain.child, 'exit');
  });

  it('rejects a bad --nsx-managers count with exit code 1 and the flag named', async () => {
    const child = spawn(
      process.execPath,
      ['--require', 'tsx/cjs', join(root, 'src', 'cli', 'index.ts'), 'simulator', '--nsx-managers', 'two'],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = await once(child, 'exit');
    expect(err).toContain('--nsx-managers must be a whole number ≥ 0, got "two"');
    expect(code).not.toBe(0);
  });
});
