/** The runbook document schema: the examples as written, and every reference problem at once. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Runbook, runbookJsonSchema } from '../src/contract/runbook/document';
import { parseDuration } from '../src/contract/duration';
import { checkInput } from '../src/contract/inputs';

const load = (name: string) =>
  parseYaml(readFileSync(join(__dirname, 'fixtures', 'runbooks', name), 'utf8')) as Record<string, unknown>;

describe('runbook document', () => {
  it('accepts the full-site backup and the vCenter restore examples as written (YAML = JSON)', () => {
    for (const name of ['site-a-nightly.yaml', 'restore-vc-mgmt.yaml']) {
      const doc = load(name);
      const check = checkInput('drRunbook', Runbook, doc);
      expect(check.ok ? [] : check.problems).toEqual([]);
      expect(checkInput('drRunbook', Runbook, JSON.parse(JSON.stringify(doc))).ok).toBe(true);
    }
  });

  it('parses durations', () => {
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
  });

  it('reports every reference problem at once, with paths, before anything starts', () => {
    const doc = load('site-a-nightly.yaml') as {
      stages: { name: string; steps: unknown[] }[];
      endpoints: Record<string, unknown>;
    };
    doc.stages[1]!.steps.push({ backup: 'vc-missing', to: 'sftp-a' }, { backup: 'vc-mgmt', to: 'nowhere' });
    doc.stages[2]!.steps.push({ restore: 'vcda-a' });
    doc.stages[0]!.steps.push({ backup: 'sddc-a', to: 'sftp-a' });
    doc.stages.push({ name: 'vcda', steps: [{ backup: 'vcda-a', timeout: '6 hours' }, { neither: true }] });
    const check = checkInput('drRunbook', Runbook, doc);
    expect(check.ok).toBe(false);
    const text = check.ok ? '' : check.message;
    expect(text).toContain('stages[1].steps[2].backup: unknown endpoint "vc-missing"');
    expect(text).toContain('stages[1].steps[3].backup: endpoint "vc-mgmt" is already used by step 0');
    expect(text).toContain('stages[1].steps[3].to: unknown location "nowhere"');
    expect(text).toContain('stages[2].steps[1].restore: vcda cannot restore');
    expect(text).toContain(
      "stages[0].steps[1].to: sddc-manager backups use the appliance's own configured backup location",
    );
    expect(text).toContain('stages[3].name: duplicate stage name "vcda"');
    expect(text).toContain('stages[3].steps[0].timeout: must be a duration such as 30s');
    expect(text).toContain('stages[3].steps[1]: a step is { backup: ENDPOINT } or { restore: ENDPOINT }');
  });

  it('refuses literal secrets, unknown products and bad URLs inside endpoints and locations', () => {
    const doc = load('restore-vc-mgmt.yaml') as {
      endpoints: Record<string, Record<string, unknown>>;
      locations: Record<string, Record<string, unknown>>;
    };
    doc.endpoints['vc-mgmt']!.passwordRef = 'Hunter2!xyz';
    doc.endpoints['nsx'] = { product: 'nsx', url: 'https://nsx', username: 'a', passwordRef: 'env:X' };
    doc.locations['sftp-a']!.url = 'sftp://backup:pw@host/x';
    const check = checkInput('drRunbook', Runbook, doc);
    const text = check.ok ? '' : check.message;
    expect(text).toContain('endpoints.vc-mgmt.passwordRef: must be a secret reference');
    expect(text).toContain('endpoints.nsx.product: must be one of vcenter, sddc-manager, vcda');
    expect(text).toContain('locations.sftp-a.url: must be scheme://host/path without user info');
    expect(text).not.toContain('Hunter2!xyz');
  });

  it('a vCenter restore may name a recovery point (the backup run) instead of an archive; wrong uses are named', () => {
    const doc = load('restore-vc-mgmt.yaml') as { stages: { steps: Record<string, unknown>[] }[] };
    doc.stages[0]!.steps[0]!.archive = { recoveryPoint: 'site-a-nightly-2026-12-01T02:00:00Z', endpoint: 'vc-mgmt' };
    const ok = checkInput('drRunbook', Runbook, doc);
    expect(ok.ok ? [] : ok.problems).toEqual([]);
    doc.stages[0]!.steps[0]!.archive = { recoveryPoint: 'has spaces', endpont: 'vc-mgmt' };
    const text = (c: ReturnType<typeof checkInput>) => (c.ok ? '' : c.message);
    const bad = text(checkInput('drRunbook', Runbook, doc));
    expect(bad).toContain(
      'stages[0].steps[0].archive.recoveryPoint: must be the workflow id of a drRunbook backup run',
    );
    expect(bad).toContain('stages[0].steps[0].archive.endpont: unknown field "endpont"');
    doc.stages[0]!.steps[0]!.archive = { recoveryPoint: 'site-a-nightly-1' };
    doc.stages[0]!.steps[0]!.systemName = 'vc-mgmt.example.com';
    expect(text(checkInput('drRunbook', Runbook, doc))).toContain(
      'stages[0].steps[0].systemName: systemName is not used with archive.recoveryPoint',
    );
    // Editors see the recovery-point form in the JSON Schema.
    expect(JSON.stringify(runbookJsonSchema())).toContain('"recoveryPoint"');
  });
});
