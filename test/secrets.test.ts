import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Secret, SecretReferenceError, createSecretResolver, isSecretRef } from '../src/core/secrets';

describe('secret references', () => {
  it('resolves env: and file: (trailing newline dropped)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'secrets-'));
    await writeFile(join(dir, 'pw'), 'from-file\n');
    const r = createSecretResolver({ env: { VC_PW: 'from-env' } });
    expect((await r.resolve('env:VC_PW', 'passwordRef')).reveal()).toBe('from-env');
    expect((await r.resolve(`file:${join(dir, 'pw')}`, 'passwordRef')).reveal()).toBe('from-file');
  });

  it('pluggable schemes', async () => {
    const r = createSecretResolver({ schemes: { vault: (path) => `vault(${path})` } });
    expect((await r.resolve('vault:kv/vc01#password', 'passwordRef')).reveal()).toBe('vault(kv/vc01#password)');
  });

  it('errors name the field and the reference, never a value', async () => {
    const r = createSecretResolver({ env: {} });
    await expect(r.resolve('env:MISSING', 'endpoint.passwordRef')).rejects.toThrow(
      /endpoint\.passwordRef.*MISSING is not set/,
    );
    await expect(r.resolve('file:/nonexistent/x', 'f')).rejects.toThrow(/cannot read file \/nonexistent\/x: ENOENT/);
    const literal = await r.resolve('Hunter2!', 'endpoint.passwordRef').catch((e: unknown) => e);
    expect(literal).toBeInstanceOf(SecretReferenceError);
    expect((literal as Error).message).toMatch(/endpoint\.passwordRef must be a secret reference/);
    expect((literal as Error).message).not.toContain('Hunter2');
    await expect(r.resolve('vault:x', 'f')).rejects.toThrow(/must be a secret reference \(env:…, file:…\)/);
  });

  it('a resolved secret never prints', () => {
    const s = new Secret('p@ss');
    expect(String(s)).toBe('[redacted]');
    expect(JSON.stringify({ s })).toBe('{"s":"[redacted]"}');
    expect(inspect({ s })).not.toContain('p@ss');
    expect(s.reveal()).toBe('p@ss');
  });

  it('isSecretRef', () => {
    expect(isSecretRef('env:X')).toBe(true);
    expect(isSecretRef('https://vc')).toBe(false);
    expect(isSecretRef('plain')).toBe(false);
  });
});
