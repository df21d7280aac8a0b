/** The lint rule that keeps workflow code deterministic really fires (and only where it should). */
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');

async function restrictedImports(code: string, file: string): Promise<string[]> {
  const eslint = new ESLint({
    cwd: root,
    // Only the import rule, without type information (the probe file does not exist on disk).
    ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports',
    overrideConfig: { languageOptions: { parserOptions: { projectService: false, project: null } } },
  });
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  return (result?.messages ?? []).map((m) => m.message);
}

describe('workflow lint rule', () => {
  it('forbids Node built-ins, undici, the activity SDK and activity implementations in workflows/', async () => {
    const messages = await restrictedImports(
      [
        "import { readFileSync } from 'node:fs';",
        "import * as http from 'http';",
        "import { request } from 'undici';",
        "import { Context } from '@temporalio/activity';",
        "import { createActivities } from '../activities';",
        'export const x = [readFileSync, http, request, Context, createActivities];',
      ].join('\n'),
      'workflows/probe.ts',
    );
    expect(messages).toHaveLength(5);
    expect(messages.join('\n')).toMatch(/Node built-ins/);
    expect(messages.join('\n')).toMatch(/must not do HTTP/);
    expect(messages.join('\n')).toMatch(/activity SDK/);
    expect(messages.join('\n')).toMatch(/only `import type` from activities/);
  });

  it('allows `import type` of activities and the workflow SDK', async () => {
    const messages = await restrictedImports(
      [
        "import type { Activities } from '../activities';",
        "import { proxyActivities } from '@temporalio/workflow';",
        'export const a = proxyActivities<Activities>({ startToCloseTimeout: 1 });',
      ].join('\n'),
      'workflows/probe.ts',
    );
    expect(messages).toEqual([]);
  });

  it('applies to the pure contract floor workflows import (src/contract/)', async () => {
    expect(
      await restrictedImports(
        "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;",
        'src/contract/probe.ts',
      ),
    ).toContainEqual(expect.stringContaining('Workflow code must not import Node built-ins'));
  });

  it('keeps the contract floor to zod and @temporalio/workflow', async () => {
    const messages = await restrictedImports(
      [
        "import { parse } from 'yaml';",
        "import { ApplicationFailure } from '@temporalio/common';",
        "import { z } from 'zod';",
        "import { defineQuery } from '@temporalio/workflow';",
        "import { Name } from './endpoints';",
        'export const x = [parse, ApplicationFailure, z, defineQuery, Name];',
      ].join('\n'),
      'src/contract/probe.ts',
    );
    expect(messages).toHaveLength(2);
    expect(messages.join('\n')).toMatch(/imports only zod and @temporalio\/workflow/);
  });

  it('does not apply outside workflows/', async () => {
    expect(
      await restrictedImports(
        "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;",
        'activities/probe.ts',
      ),
    ).toEqual([]);
  });
});
