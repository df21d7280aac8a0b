/** `vmware-dr validate` and `vmware-dr schema`: runbook files checked without a server, with positions. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/index';
import { checkRunbookFile } from '../src/cli/runbook-file';

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
});
