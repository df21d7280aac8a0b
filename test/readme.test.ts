/**
 * The README's operator tables stay true to the code: every failure type's hint is in the
 * troubleshooting table, and every `vmware-dr` command is in the CLI reference.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CLASSES, ERROR_TYPES } from '../src/core/errors';
import { buildProgram } from '../src/cli/index';
import { policyFieldReference } from '../src/core/policy/index';

const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

function section(title: string): string {
  const start = readme.indexOf(`## ${title}\n`);
  expect(start, `README has a "## ${title}" section`).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

describe('README', () => {
  it('troubleshooting lists every failure type with the hint the project prints', () => {
    const table = section('Troubleshooting');
    for (const type of ERROR_TYPES) {
      const hint = new ERROR_CLASSES[type]('', { product: 'vcenter', operation: '' }).remediation;
      const row = table.split('\n').find((line) => line.startsWith(`| \`${type}\` |`));
      expect(row, `a row for ${type}`).toBeDefined();
      expect(row, `${type}'s hint`).toContain(hint);
    }
    for (const type of [
      'InvalidInput',
      'ConfigurationError',
      'RecoveryPointUnusable',
      'ApprovalTimeout',
      'CompensationFailed',
    ])
      expect(table).toContain(`| \`${type}\` |`);
  });

  it('the CLI reference names every command and the exit codes', () => {
    const reference = section('CLI reference');
    const commands = buildProgram({ stdout: () => undefined, stderr: () => undefined }).commands.map((c) => c.name());
    expect(commands.length).toBeGreaterThan(10);
    for (const name of commands) expect(reference, `vmware-dr ${name}`).toMatch(new RegExp(`\\| \`${name}[ \`]`));
    for (const code of ['**0**', '**1**', '**2**', '**3**']) expect(reference).toContain(code);
  });

  it('the security model documents every field of the credential policy with its description', () => {
    const model = section('Security model');
    for (const { field, description } of policyFieldReference()) {
      expect(description, `${field} has a description`).not.toBe('');
      expect(model, field).toContain(`| \`${field}\` | ${description.replace(/\|/g, '\\|')} |`);
    }
    expect(model).toContain('### What the Temporal namespace must provide');
    for (const command of ['vmware-dr policy init', 'vmware-dr policy check', '--policy'])
      expect(model).toContain(command);
  });
});
