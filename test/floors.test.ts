/**
 * The floors of the house (README "Architecture") are enforced by `npm run lint` through
 * dependency-cruiser and .dependency-cruiser.cjs. These tests prove the rules fire on probe trees
 * (an import up a floor, a circle, one product importing another) and stay quiet on imports down
 * a floor, and that today's tree passes.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const root = join(__dirname, '..');
const depcruise = join(root, 'node_modules', '.bin', 'depcruise');
const config = join(root, '.dependency-cruiser.cjs');
const run = promisify(execFile);

/** Runs the project's rules over `dirs` in `cwd`: the exit code and the names of the rules broken. */
async function cruise(cwd: string, dirs: string[]): Promise<{ code: number; rules: string[]; out: string }> {
  try {
    const { stdout } = await run(depcruise, ['--config', config, '--output-type', 'err', ...dirs], { cwd });
    return { code: 0, rules: rulesOf(stdout), out: stdout };
  } catch (e) {
    const err = e as { code?: number; stdout?: string };
    return { code: err.code ?? -1, rules: rulesOf(err.stdout ?? ''), out: err.stdout ?? '' };
  }
}

/** The rule names of the report's lines (`  error floor-core: src/core/a.ts → src/cli/b.ts`). */
function rulesOf(report: string): string[] {
  return [...report.matchAll(/^\s*error ([\w-]+):/gm)].map((m) => m[1]!).sort();
}

let probe: string | undefined;
afterEach(async () => {
  if (probe) await rm(probe, { recursive: true, force: true });
  probe = undefined;
});

/** A probe tree of `files` (path → source) with the tsconfig the rules read. */
async function probeTree(files: Record<string, string>): Promise<string> {
  probe = await mkdtemp(join(tmpdir(), 'floors-'));
  await writeFile(
    join(probe, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'node16', strict: true } }),
  );
  for (const [file, text] of Object.entries(files)) {
    await mkdir(dirname(join(probe, file)), { recursive: true });
    await writeFile(join(probe, file), text);
  }
  return probe;
}

describe('the floors rule (dependency-cruiser)', () => {
  it('fails an import that runs up a floor, a type-only one too, naming the floor', async () => {
    const dir = await probeTree({
      'src/contract/names.ts': "import type { Cli } from '../cli/index';\nexport type N = Cli;\n",
      'src/core/errors.ts': "import { activity } from '../../activities/index';\nexport const e = activity;\n",
      'src/cli/index.ts': "import { e } from '../core/errors';\nexport type Cli = typeof e;\n",
      'activities/index.ts': 'export const activity = 1;\n',
    });
    const result = await cruise(dir, ['src', 'activities']);
    expect(result.code).not.toBe(0);
    expect(result.rules).toEqual(['floor-contract', 'floor-core']);
    expect(result.out).toMatch(/error floor-core: src\/core\/errors\.ts → activities\/index\.ts/);
  });

  it('fails a circle, and one product importing another', async () => {
    const dir = await probeTree({
      'src/core/a.ts': "import { b } from './b';\nexport const a = () => b;\n",
      'src/core/b.ts': "import { a } from './a';\nexport const b = () => a;\n",
      'src/vcda/client.ts': "import { x } from '../vcenter/client';\nexport const y = x;\n",
      'src/vcenter/client.ts': 'export const x = 1;\n',
    });
    const result = await cruise(dir, ['src']);
    expect(result.code).not.toBe(0);
    expect(result.rules).toEqual(['no-circular', 'product-vcda-alone']);
  });

  it('allows imports down the floors', async () => {
    const dir = await probeTree({
      'src/contract/names.ts': 'export const NAME = 1;\n',
      'src/core/errors.ts': "import { NAME } from '../contract/names';\nexport const e = NAME;\n",
      'src/vcenter/client.ts': "import { e } from '../core/errors';\nexport const c = e;\n",
      'src/simulator/vcenter/appliance.ts': "import { c } from '../../vcenter/client';\nexport const s = c;\n",
      'workflows/index.ts': "import { NAME } from '../src/contract/names';\nexport const w = NAME;\n",
      'src/cli/index.ts':
        "import { s } from '../simulator/vcenter/appliance';\nimport { w } from '../../workflows/index';\nexport const x = [s, w];\n",
    });
    expect(await cruise(dir, ['src', 'workflows'])).toMatchObject({ code: 0, rules: [] });
  });

  it("holds on today's tree", async () => {
    const result = await cruise(root, ['src', 'workflows', 'activities', 'worker', 'bench']);
    expect(result.rules).toEqual([]);
    expect(result.code).toBe(0);
  });
});
