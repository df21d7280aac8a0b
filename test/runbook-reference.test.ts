/**
 * The runbook reference: generated from the schema, every field listed with its type, default and
 * description, printed by `vmware-dr schema --format markdown`, and the README's block up to date.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/index';
import { runbookJsonSchema } from '../src/contract/runbook/document';
import {
  REFERENCE_END,
  REFERENCE_START,
  referenceBlockOf,
  renderRunbookReference,
  replaceReferenceBlock,
} from '../src/contract/runbook/reference';

/** Every object's field names in a JSON Schema, by object (`properties` keys). */
function fieldNames(schema: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) schema.forEach((s) => fieldNames(s, out));
  else if (schema && typeof schema === 'object') {
    for (const [k, v] of Object.entries(schema)) {
      if (k === 'properties' && v && typeof v === 'object') Object.keys(v).forEach((f) => out.add(f));
      fieldNames(v, out);
    }
  }
  return out;
}

/** The table rows of one section of the reference (heading text → rows split in cells). */
function sections(md: string): Map<string, string[][]> {
  const map = new Map<string, string[][]>();
  let current: string[][] | undefined;
  for (const line of md.split('\n')) {
    if (line.startsWith('### ')) map.set(line.slice(4), (current = []));
    else if (current && line.startsWith('| `'))
      current.push(
        line
          .slice(2, -2)
          .split(/(?<!\\) \| /)
          .map((c) => c.trim()),
      );
  }
  return map;
}

describe('runbook reference', () => {
  const md = renderRunbookReference();

  it('lists every field of the JSON Schema, and a section per object of the document', () => {
    for (const field of fieldNames(runbookJsonSchema())) expect(md, field).toContain(`| \`${field}\` |`);
    expect([...sections(md).keys()]).toEqual([
      '`runbook`',
      '`defaults`',
      '`notify[]`',
      '`endpoints.<key>` — `product: vcenter`',
      '`endpoints.<key>.tls`',
      '`endpoints.<key>` — `product: sddc-manager`',
      '`endpoints.<key>` — `product: vcda`',
      '`locations.<key>`',
      '`stages[]`',
      '`stages[].steps[]` — `{ backup: … }`',
      '`stages[].steps[]` — `{ restore: … }`',
      '`stages[].steps[].archive`',
    ]);
  });

  it('gives type, required, default and description per field', () => {
    const s = sections(md);
    const row = (section: string, field: string) => s.get(section)?.find((r) => r[0] === `\`${field}\``);
    expect(row('`runbook`', 'apiVersion')).toEqual([
      '`apiVersion`',
      '`vmware-dr/v1`',
      'yes',
      '',
      'The document version.',
    ]);
    expect(row('`defaults`', 'timeout')).toEqual([
      '`timeout`',
      'duration (`30s`, `5m`, `6h`, `1h30m`)',
      '',
      '6h',
      'Longest the step may take, busy waits included.',
    ]);
    expect(row('`stages[].steps[]` — `{ restore: … }`', 'archive')?.[3]).toBe('`latest`');
    expect(row('`notify[]`', 'on')?.[1]).toBe(
      'list of one of `approval-needed`, `failed`, `succeeded`, `stale` (1–4 items)',
    );
    expect(row('`runbook`', 'endpoints')?.[1]).toMatch(/^map of name .* → object: `product: vcenter` or/);
    // Every field of the document's own objects is described (the endpoint fields are shared with
    // the step workflows' inputs and explained by their section's introduction).
    for (const [title, rows] of s)
      if (!title.startsWith('`endpoints.'))
        for (const r of rows) expect(r[4], `${title} ${r[0]} has no description`).not.toBe('');
  });

  it('`vmware-dr schema --format markdown` prints it; the default format is still the JSON Schema', async () => {
    let out = '';
    const log = vi.spyOn(console, 'log').mockImplementation((s: unknown) => void (out += `${String(s)}\n`));
    try {
      expect(await main(['schema', '--format', 'markdown'], { stdout: (s) => void (out += s) })).toBe(0);
      expect(out).toBe(`${md}\n`);
      out = '';
      expect(await main(['schema'], { stdout: (s) => void (out += s) })).toBe(0);
      expect(JSON.parse(out)).toMatchObject({ title: 'vmware-dr runbook' });
    } finally {
      log.mockRestore();
    }
    expect(await main(['schema', '--format', 'html'], { stdout: () => undefined, stderr: () => undefined })).toBe(2);
  });

  it('replaces only the block between the markers, idempotently; refuses a README without them', () => {
    const readme = `# x\n\nbefore\n${REFERENCE_START}\nold\n${REFERENCE_END}\nafter\n`;
    const once = replaceReferenceBlock(readme, 'NEW');
    expect(once).toBe(`# x\n\nbefore\n${REFERENCE_START}\nNEW\n${REFERENCE_END}\nafter\n`);
    expect(replaceReferenceBlock(once, 'NEW')).toBe(once);
    expect(referenceBlockOf(once)).toBe('NEW');
    expect(() => replaceReferenceBlock('# no block\n', 'NEW')).toThrow(/runbook-reference:start/);
    expect(() => replaceReferenceBlock(`${REFERENCE_END}\n${REFERENCE_START}`, 'NEW')).toThrow(/start marker first/);
  });

  it('the README carries the current reference', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const block = referenceBlockOf(readme);
    expect(block, `README.md has no ${REFERENCE_START} … ${REFERENCE_END} block`).toBeDefined();
    expect(
      block === md.trim(),
      "README.md's runbook reference is out of date: run `npm run docs:reference` (it rewrites the block with " +
        "`npx tsx src/cli/index.ts schema --format markdown`'s text) and commit README.md",
    ).toBe(true);
  });
});
