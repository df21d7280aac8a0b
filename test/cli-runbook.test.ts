/**
 * `vmware-dr validate` and `vmware-dr schema`: runbook files checked without a server, with
 * positions; unknown fields with "did you mean"; what a message says of a secret typed into a file
 * (never that it is in a run's history: nothing ran); a missing file is invalid input (exit 2).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/index';
import { checkRunbookFile } from '../src/cli/runbook-file';
import { closestField, editDistance } from '../src/contract/closest';
import { VcenterBackupInput, checkInput } from '../src/contract/inputs';

const dir = mkdtempSync(join(tmpdir(), 'vmware-dr-validate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const example = join(__dirname, 'fixtures', 'runbooks', 'site-a-nightly.yaml');

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const log = vi.spyOn(console, 'log').mockImplementation((s: unknown) => void (out += `${String(s)}\n`));
  const error = vi.spyOn(console, 'error').mockImplementation((s: unknown) => void (err += `${String(s)}\n`));
  try {
    const code = await main(args, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
    return { code, out, err };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe('vmware-dr validate / schema', () => {
  it('a valid runbook: exit 0', async () => {
    const r = await cli(['validate', example]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('valid');
  });

  it('every problem with file, line, column and field path: exit 2', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      readFileSync(example, 'utf8')
        .replace('backup: vc-wld01, to: sftp-a', 'backup: vc-wld02, to: sftp-a')
        .replace('startWithin: 5m', 'startWithin: 5 minutes'),
    );
    const r = await cli(['validate', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${bad}:20:18: stages[1].startWithin: must be a duration`);
    expect(r.err).toMatch(
      new RegExp(`${bad}:21:\\d+: stages\\[1\\]\\.steps\\[1\\]\\.backup: unknown endpoint "vc-wld02"`),
    );
    const json = await cli(['validate', bad, '--json']);
    expect(JSON.parse(json.out)).toMatchObject({ ok: false, problems: [{ line: 20, column: 18 }, { line: 21 }] });
  });

  it('a YAML syntax error is reported with its position', () => {
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'apiVersion: vmware-dr/v1\nkind: [Runbook\n');
    const r = checkRunbookFile(broken);
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.problems[0]).toMatchObject({ path: '(file)', line: expect.any(Number) });
  });

  it('schema prints the JSON Schema of the document', async () => {
    const r = await cli(['schema']);
    const schema = JSON.parse(r.out) as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['apiVersion', 'kind', 'name', 'endpoints', 'locations', 'stages', 'notify']),
    );
    expect(schema.required).toEqual(expect.arrayContaining(['apiVersion', 'kind', 'name', 'endpoints', 'stages']));
  });

  /** The example with its first endpoint's lines changed by `edit`. */
  const variant = (name: string, edit: (text: string) => string): string => {
    const file = join(dir, name);
    writeFileSync(file, edit(readFileSync(example, 'utf8')));
    return file;
  };

  it('password: instead of passwordRef: one line that says "did you mean passwordRef", no raw zod line, no history', async () => {
    const file = variant('password.yaml', (t) =>
      t.replace('passwordRef: env:SDDC_A_PASSWORD', 'password: Hunter2-secret'),
    );
    const r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    const lines = r.err.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/password: unknown field "password": did you mean "passwordRef"\? /);
    expect(lines[0]).toContain('delete it from the file');
    expect(r.err).not.toMatch(/Invalid input|expected string|is required|history/);
    expect(r.err).not.toContain('Hunter2-secret');
  });

  it('a literal secret in passwordRef: says to delete it from the file, not that a run recorded it', async () => {
    const file = variant('literal.yaml', (t) =>
      t.replace('passwordRef: env:SDDC_A_PASSWORD', 'passwordRef: Hunter2-secret'),
    );
    const r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /passwordRef: must be a secret reference .*never the secret itself\. If this is a real secret/,
    );
    expect(r.err).not.toContain('history');
    expect(r.err).not.toContain('Hunter2-secret');
  });

  it('the workflow boundary (the default) still says the secret is in the run history', () => {
    const input = {
      endpoint: { name: 'vc', url: 'https://vc.example.com', username: 'u', passwordRef: 'Hunter2-secret' },
      backup: { locationType: 'SFTP', location: 'sftp://b.example.com/x', backupPassword: 'x' },
    };
    const check = checkInput('vcenterBackup', VcenterBackupInput, input);
    expect(check.ok).toBe(false);
    const message = check.ok ? '' : check.message;
    expect(message).toContain("If you typed the secret here it is now in this run's history: rotate it");
    expect(message).toMatch(
      /backup\.backupPassword: unknown field "backupPassword": did you mean "backupPasswordRef"\?/,
    );
    expect(message).toContain("If this held a secret it is now in this run's history: rotate it");
    const call = checkInput('vcenterBackup', VcenterBackupInput, input, { origin: 'call' });
    expect(call.ok ? '' : call.message).not.toContain('history');
  });

  it('unknown fields anywhere: "did you mean" the closest field there, else the fields there', async () => {
    const file = variant('typos.yaml', (t) =>
      t
        .replace(/^stages:/m, 'stagez: 1\nstages:')
        .replace('tls: { caFile', 'tlss: { caFile')
        .replace('backup: vc-wld01, to: sftp-a', 'backup: vc-wld01, ot: sftp-a, bogus: 1'),
    );
    const r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('stagez: unknown field "stagez": did you mean "stages"?');
    expect(r.err).toMatch(/\.tlss: unknown field "tlss": did you mean "tls"\?/);
    expect(r.err).toMatch(/\.ot: unknown field "ot": did you mean "to"\?/);
    expect(r.err).toMatch(/\.bogus: unknown field "bogus": remove it; the fields here are backup, to, /);
    // The "to" the misspelt field was meant to be is not reported missing as well.
    expect(r.err).not.toContain('needs to:');
    expect(closestField('form', ['restore', 'from'])).toBe('from');
    expect(closestField('passwrd', ['url', 'passwordRef'])).toBe('passwordRef');
    expect(closestField('zzz', ['url'])).toBeUndefined();
    expect([editDistance('form', 'from'), editDistance('kitten', 'sitting'), editDistance('', 'ab')]).toEqual([
      1, 3, 2,
    ]);
  });

  it('a missing file is invalid input (exit 2) for validate, run and rehearse, naming the file', async () => {
    const missing = join(dir, 'missing.yaml');
    for (const args of [
      ['validate', missing],
      ['run', missing],
      ['rehearse', missing],
      ['validate', dir],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/cannot read it: (no such file \(ENOENT\)|it is a directory \(EISDIR\))/);
      expect(r.err).not.toMatch(/ENOENT: no such file or directory, open/);
    }
    const json = await cli(['validate', missing, '--json']);
    expect(JSON.parse(json.out)).toEqual({
      ok: false,
      problems: [{ file: missing, path: '(file)', message: 'cannot read it: no such file (ENOENT)' }],
    });
  });
});
