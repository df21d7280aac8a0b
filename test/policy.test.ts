/**
 * The worker credential policy, pure parts and the file checks: the file format (every problem
 * with its line and field), host / port / wildcard / IPv6 matching, location prefixes, secret
 * bindings by purpose, environment and file sources (realpath: a symlink out of an allowed
 * directory is refused, `..` too, and the resolver behind the guard is never asked), webhook
 * hosts, whole-runbook problems, approval rules, and the generator of a starting policy.
 */
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyGuardedResolver } from '../activities/options';
import { NotPermitted } from '../src/core/errors';
import { CredentialPolicy, PolicyFileError, policyForRunbooks } from '../src/core/policy/index';
import { identityMatches } from '../src/contract/runbook/approvals';
import { parseRunbook } from '../src/rehearsal/plan';
import type { RunbookDocument } from '../src/contract/runbook/document';
import { Secret, type SecretResolver } from '../src/core/secrets';

const root = join(__dirname, '..');

/** The error `fn` throws (or undefined). */
function thrown(fn: () => unknown): Error | undefined {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  return undefined;
}

function problems(text: string, source = '/etc/vmware-dr/policy.yaml'): string[] {
  const err = thrown(() => CredentialPolicy.parse(text, source));
  expect(err).toBeInstanceOf(PolicyFileError);
  return (err as PolicyFileError).problems;
}

const POLICY = `apiVersion: vmware-dr/v1
kind: WorkerPolicy
secretSources:
  files: [/run/secrets]
  env: [VC_MGMT_PASSWORD, VC_BACKUP_PASSWORD, "SFTP_*", CHAT_HOOK_URL, SDDC_PASSPHRASE, SDDC_PASSWORD]
appliances:
  - name: vc-mgmt
    product: vcenter
    hosts: [vc-mgmt.example.com, "*.mgmt.example.com:8443", "127.0.0.1:40123", "[fd00::1]"]
    secrets:
      login: [env:VC_MGMT_PASSWORD]
      encryption: [env:VC_BACKUP_PASSWORD]
      ssoAdmin: [file:/run/secrets/sso]
    locations: [sftp-main]
    tls: { caFiles: [/etc/vmware-dr/ca.pem] }
  - name: vc-mgmt-shadowed
    product: vcenter
    hosts: [vc-mgmt.example.com]
    secrets: { login: [file:/run/secrets/other] }
  - name: sddc
    product: sddc-manager
    hosts: [sddc.example.com]
    secrets: { login: [env:SDDC_PASSWORD], passphrase: [env:SDDC_PASSPHRASE] }
    locations: [sftp-main]
  - name: lab
    product: vcda
    hosts: [lab.example.com]
    secrets: { login: [env:VC_MGMT_PASSWORD] }
    tls: { allowInsecure: true }
    allowHttp: true
locations:
  - name: sftp-main
    url: sftp://backup.example.com/vcsa
    passwords: [env:SFTP_PASSWORD]
  - name: sftp-other
    url: sftp://backup.example.com:2222/other
    passwords: [env:SFTP_OTHER]
webhooks:
  - name: chat
    urlRefs: [env:CHAT_HOOK_URL]
    hosts: [hooks.example.com]
approvals:
  required: [restore]
  approvers:
    - identities: ["alice@example.com", "*@ops.example.com"]
      appliances: [vc-mgmt]
      actions: [restore]
    - identities: [bob@example.com]
`;

const policy = CredentialPolicy.parse(POLICY, '/etc/vmware-dr/policy.yaml');
const vc = (url: string, tls?: { insecure?: boolean; caFile?: string }) => ({ name: 'vc-x', url, ...(tls && { tls }) });

describe('policy file: every problem at once, each with its line, field and fix', () => {
  it('reports shape, values, unknown fields (did you mean), unknown names, duplicates and unreadable bindings', () => {
    const text = [
      'apiVersion: vmware-dr/v1', // 1
      'kind: WorkerPolicy', // 2
      'secretSources:', // 3
      '  files: [/run/secrets, relative/dir]', // 4
      '  env: [VC_PASSWORD, "*"]', // 5
      'appliances:', // 6
      '  - name: vc-a', // 7
      '    product: vcentre', // 8
      '    hosts: [vc-a.example.com, "bad host", "*.10.0.0.1"]', // 9
      '    secrets:', // 10
      '      login: [env:NOT_LISTED, file:/etc/shadow, hunter2]', // 11
      '    locatons: [sftp]', // 12
      '    locations: [sftp-mian]', // 13
      '  - name: vc-a', // 14
      '    product: vcenter', // 15
      '    hosts: []', // 16
      'locations:', // 17
      '  - name: sftp-main', // 18
      '    url: sftp://user@backup.example.com/x', // 19
      'webhooks:', // 20
      '  - name: chat', // 21
      '    urlRefs: []', // 22
      'approvals:', // 23
      '  required: [restores]', // 24
      '  approvers:', // 25
      '    - identities: [alice@example.com]', // 26
      '      appliances: [vc-b]', // 27
      'extra: 1', // 28
    ].join('\n');
    const all = problems(text);
    const at = (line: number, start: string) =>
      expect(
        all.find((p) => p.startsWith(`/etc/vmware-dr/policy.yaml:${line}: ${start}`)),
        `line ${line}: ${start} in\n${all.join('\n')}`,
      ).toBeDefined();
    at(4, 'secretSources.files[1]: "relative/dir" is not an absolute path. Fix:');
    at(5, 'secretSources.env[1]: "*" would let runbooks read every variable');
    at(8, 'appliances[0].product: is "vcentre", not one of vcenter, sddc-manager, vcda (did you mean "vcenter"?)');
    at(9, 'appliances[0].hosts[1]: "bad host" is not a host[:port]');
    at(9, 'appliances[0].hosts[2]: "*.10.0.0.1" uses "*." with an address');
    at(
      11,
      'appliances[0].secrets.login[0]: env:NOT_LISTED is bound here but secretSources.env does not list NOT_LISTED',
    );
    at(11, 'appliances[0].secrets.login[1]: file:/etc/shadow is bound here but is not inside a directory');
    at(11, 'appliances[0].secrets.login[2]: "hunter2" is not a secret reference');
    at(12, 'appliances[0].locatons: unknown field (did you mean "locations"?)');
    at(13, 'appliances[0].locations[0]: unknown location "sftp-mian" (did you mean "sftp-main"?)');
    at(14, 'appliances[1].name: duplicate name "vc-a" (also appliances[0])');
    at(16, 'appliances[1].hosts: is empty. Fix:');
    at(19, 'locations[0].url: "sftp://user@backup.example.com/x" carries user info');
    at(22, 'webhooks[0].urlRefs: is empty. Fix:');
    at(24, 'approvals.required[0]: is "restores", not one of backup, restore (did you mean "restore"?)');
    at(27, 'approvals.approvers[0].appliances[0]: unknown appliance "vc-b" (did you mean "vc-a"?)');
    at(28, 'extra: unknown field');
    expect(all).toHaveLength(17);
    for (const p of all) expect(p).toMatch(/\. Fix: /);
    // In line order.
    const lines = all.map((p) => Number(/:(\d+): /.exec(p)?.[1]));
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
  });

  it('YAML syntax errors name their line; an empty file says how to write one; JSON works too', () => {
    expect(problems('apiVersion: vmware-dr/v1\nkind: WorkerPolicy\nappliances: [\n', 'p.yaml')[0]).toMatch(
      /^p\.yaml:\d+: .*Fix: correct the YAML/,
    );
    expect(problems('apiVersion: vmware-dr/v1\nkind: WorkerPolicy\nsecretSources: { files: [/] }\n', 'p.yaml')).toEqual(
      [expect.stringMatching(/^p\.yaml:3: secretSources\.files\[0\]: "\/" would let runbooks read every file/)],
    );
    expect(problems('', 'p.yaml')).toEqual([
      expect.stringMatching(/^p\.yaml:1: \(document\): is empty\. Fix: .*policy init/),
    ]);
    expect(problems('apiVersion: vmware-dr/v1\n', 'p.yaml')).toEqual([
      expect.stringMatching(/^p\.yaml:1: kind: is undefined, not one of WorkerPolicy/),
    ]);
    const json = CredentialPolicy.parse(
      JSON.stringify({ apiVersion: 'vmware-dr/v1', kind: 'WorkerPolicy', secretSources: { env: ['A'] } }),
      'p.json',
    );
    expect(json.document).toEqual({
      apiVersion: 'vmware-dr/v1',
      kind: 'WorkerPolicy',
      secretSources: { files: [], env: ['A'] },
      appliances: [],
      locations: [],
      webhooks: [],
      approvals: { fourEyes: true, required: ['restore'] },
    });
  });

  it('records the source and the sha256 of the bytes; load() reads a file', async () => {
    expect(policy.source).toBe('/etc/vmware-dr/policy.yaml');
    expect(policy.sha256).toMatch(/^[0-9a-f]{64}$/);
    const dir = await mkdtemp(join(tmpdir(), 'vmware-dr-policy-'));
    try {
      await writeFile(join(dir, 'p.yaml'), POLICY);
      const loaded = await CredentialPolicy.load(join(dir, 'p.yaml'));
      expect(loaded.sha256).toBe(policy.sha256);
      expect(loaded.source).toBe(join(dir, 'p.yaml'));
      await writeFile(join(dir, 'bad.yaml'), 'apiVersion: vmware-dr/v1\nkind: WorkerPolicy\nappliances: 3\n');
      await expect(CredentialPolicy.load(join(dir, 'bad.yaml'))).rejects.toThrow(
        `${join(dir, 'bad.yaml')}:3: appliances: must be a list`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('appliances: product, host[:port], wildcard, IPv6; first matching entry decides', () => {
  it('matches host names case-insensitively on the default port, explicit ports, subdomains and addresses', () => {
    const ok = (product: 'vcenter' | 'vcda' | 'sddc-manager', url: string) =>
      policy.checkEndpoint(product, vc(url), 'endpoint').label;
    expect(ok('vcenter', 'https://vc-mgmt.example.com')).toBe('vc-mgmt');
    expect(ok('vcenter', 'https://VC-MGMT.Example.com:443/api')).toBe('vc-mgmt');
    expect(ok('vcenter', 'https://a.mgmt.example.com:8443')).toBe('vc-mgmt');
    expect(ok('vcenter', 'https://a.b.mgmt.example.com:8443')).toBe('vc-mgmt');
    expect(ok('vcenter', 'https://127.0.0.1:40123/vcenter/vc-1')).toBe('vc-mgmt');
    expect(ok('vcenter', 'https://[fd00:0:0::1]')).toBe('vc-mgmt');
    expect(ok('vcda', 'http://lab.example.com')).toBe('lab');
  });

  it('refuses other hosts, ports, products, the wildcard apex, and suffix tricks, naming the fix', () => {
    for (const [product, url] of [
      ['vcenter', 'https://vc-mgmt.example.com:8443'],
      ['vcenter', 'https://mgmt.example.com:8443'],
      ['vcenter', 'https://a.mgmt.example.com'],
      ['vcenter', 'https://vc-mgmt.example.com.attacker.net'],
      ['vcenter', 'https://127.0.0.1:40124'],
      ['vcenter', 'https://[fd00::2]'],
      ['vcda', 'https://vc-mgmt.example.com'],
      ['sddc-manager', 'https://lab.example.com'],
    ] as const) {
      const err = thrown(() => policy.checkEndpoint(product, vc(url), 'endpoints.vc-x'));
      expect(err, `${product} ${url}`).toBeInstanceOf(NotPermitted);
      expect((err as NotPermitted).rule).toBe('appliances');
      expect((err as NotPermitted).field).toBe('endpoints.vc-x.url');
      expect(err!.message).toMatch(new RegExp(`no ${product} entry of appliances in /etc/vmware-dr/policy.yaml lists`));
      expect(err!.message).toContain(`Fix: if this worker may manage that ${product}, add an appliances entry`);
    }
  });

  it('the first matching entry decides: a later entry for the same host adds nothing', () => {
    const err = thrown(() =>
      policy.checkSecret(
        'vcenter',
        vc('https://vc-mgmt.example.com'),
        'login',
        'file:/run/secrets/other',
        'endpoint.passwordRef',
      ),
    );
    expect((err as NotPermitted).rule).toBe('appliances[0].secrets.login');
  });

  it('http only where allowHttp; tls.insecure only where allowInsecure; tls.caFile only listed paths', () => {
    const rule = (err: Error | undefined) => (err as NotPermitted | undefined)?.rule;
    expect(rule(thrown(() => policy.checkEndpoint('vcenter', vc('http://127.0.0.1:40123'), 'endpoint')))).toBe(
      'appliances[0].allowHttp',
    );
    const plain = thrown(() => policy.checkEndpoint('vcenter', vc('http://vc-mgmt.example.com:443'), 'endpoint'));
    expect(rule(plain)).toBe('appliances');
    expect(
      rule(
        thrown(() =>
          policy.checkEndpoint('vcenter', vc('https://vc-mgmt.example.com', { insecure: true }), 'endpoint'),
        ),
      ),
    ).toBe('appliances[0].tls.allowInsecure');
    const ca = thrown(() =>
      policy.checkEndpoint('vcenter', vc('https://vc-mgmt.example.com', { caFile: '/etc/shadow' }), 'endpoint'),
    );
    expect(rule(ca)).toBe('appliances[0].tls.caFiles');
    expect(ca!.message).toContain('endpoint.tls.caFile /etc/shadow is not a CA file appliances[0] (vc-mgmt) allows');
    expect(() =>
      policy.checkEndpoint(
        'vcenter',
        vc('https://vc-mgmt.example.com', { caFile: '/etc/vmware-dr/ca.pem' }),
        'endpoint',
      ),
    ).not.toThrow();
    expect(() =>
      policy.checkEndpoint('vcda', vc('http://lab.example.com', { insecure: true }), 'endpoint'),
    ).not.toThrow();
    const sddcHttp = thrown(() => policy.checkEndpoint('sddc-manager', vc('http://sddc.example.com:443'), 'endpoint'));
    expect(rule(sddcHttp)).toBe('appliances');
    const p2 = CredentialPolicy.parse(
      'apiVersion: vmware-dr/v1\nkind: WorkerPolicy\nappliances: [{ product: vcda, hosts: ["v:80", "v"] }]\n',
      'p2.yaml',
    );
    expect(rule(thrown(() => p2.checkEndpoint('vcda', vc('http://v'), 'endpoint')))).toBe('appliances[0].allowHttp');
  });

  it('binds each reference to its purpose', () => {
    const e = vc('https://vc-mgmt.example.com');
    expect(() =>
      policy.checkSecret('vcenter', e, 'login', 'env:VC_MGMT_PASSWORD', 'endpoint.passwordRef'),
    ).not.toThrow();
    expect(() =>
      policy.checkSecret('vcenter', e, 'encryption', 'env:VC_BACKUP_PASSWORD', 'backup.backupPasswordRef'),
    ).not.toThrow();
    const err = thrown(() =>
      policy.checkSecret('vcenter', e, 'encryption', 'env:VC_MGMT_PASSWORD', 'backup.backupPasswordRef'),
    );
    expect(err).toBeInstanceOf(NotPermitted);
    expect((err as NotPermitted).rule).toBe('appliances[0].secrets.encryption');
    expect(err!.message).toBe(
      'vcenter vc-x credential policy: backup.backupPasswordRef: env:VC_MGMT_PASSWORD is not bound to appliances[0] (vc-mgmt) for backup encryption (only for login) in /etc/vmware-dr/policy.yaml; it was not read or sent. Fix: if this appliance may be sent that secret for backup encryption, add env:VC_MGMT_PASSWORD to appliances[0].secrets.encryption in /etc/vmware-dr/policy.yaml',
    );
    expect(
      (
        thrown(() =>
          policy.checkSecret('vcenter', e, 'ssoAdmin', 'env:VC_BACKUP_PASSWORD', 'restore.ssoAdminPasswordRef'),
        ) as NotPermitted
      ).rule,
    ).toBe('appliances[0].secrets.ssoAdmin');
    const sddc = vc('https://sddc.example.com');
    expect(() => policy.checkSecret('sddc-manager', sddc, 'passphrase', 'env:SDDC_PASSPHRASE', 'x')).not.toThrow();
    expect(
      (thrown(() => policy.checkSecret('sddc-manager', sddc, 'passphrase', 'env:SDDC_PASSWORD', 'x')) as NotPermitted)
        .rule,
    ).toBe('appliances[2].secrets.passphrase');
  });
});

describe('locations: same scheme, host and port; path equal or below on a / boundary', () => {
  const e = vc('https://vc-mgmt.example.com');
  const check = (url: string, passwordRef?: string) =>
    thrown(() =>
      policy.checkLocation('vcenter', e, url, passwordRef, 'backup.location', 'backup.locationPasswordRef'),
    ) as NotPermitted | undefined;

  it('allows the location, paths below it, its default port written out, and its password', () => {
    expect(check('sftp://backup.example.com/vcsa')).toBeUndefined();
    expect(check('sftp://backup.example.com/vcsa/')).toBeUndefined();
    expect(check('sftp://Backup.Example.com:22/vcsa/vc01/20261201-020000', 'env:SFTP_PASSWORD')).toBeUndefined();
  });

  it('refuses look-alike hosts, sibling paths, dot segments, escapes, other ports and schemes, user info', () => {
    for (const url of [
      'sftp://backup.example.com.attacker.net/vcsa',
      'sftp://attacker.example/vcsa',
      'sftp://backup.example.com/vcsa-evil',
      'sftp://backup.example.com/vcs',
      'sftp://backup.example.com/',
      'sftp://backup.example.com/vcsa/../etc',
      'sftp://backup.example.com/vcsa/%2e%2e/etc',
      'sftp://backup.example.com:2200/vcsa',
      'ftp://backup.example.com/vcsa',
      'sftp://user:pw@backup.example.com/vcsa',
      'sftp://backup.example.com/vcsa?x=1',
      'backup.example.com:/vcsa',
    ]) {
      const err = check(url);
      expect(err, url).toBeInstanceOf(NotPermitted);
      expect(err!.rule, url).toBe('appliances[0].locations');
      expect(err!.field).toBe('backup.location');
      if (url.includes('pw@')) expect(err!.message).not.toContain('pw@');
    }
    // A location in the policy that the appliance may not use: the fix names it.
    const other = check('sftp://backup.example.com:2222/other/x');
    expect(other!.message).toContain('add sftp-other to appliances[0].locations');
  });

  it("refuses a password the location does not list (the location's own password only)", () => {
    const err = check('sftp://backup.example.com/vcsa', 'env:SFTP_OTHER');
    expect(err!.rule).toBe('locations[0].passwords');
    expect(err!.field).toBe('backup.locationPasswordRef');
    expect(err!.message).toContain('add env:SFTP_OTHER to locations[0].passwords');
  });
});

describe('secret sources: env names and prefixes, files by real path', () => {
  let dir: string;
  let outside: string;
  let sources: CredentialPolicy;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmware-dr-secrets-'));
    outside = await mkdtemp(join(tmpdir(), 'vmware-dr-outside-'));
    await mkdir(join(dir, 'secrets'));
    await writeFile(join(dir, 'secrets', 'vc'), 'inside-value\n');
    await writeFile(join(outside, 'stolen'), 'outside-value\n');
    await symlink(join(outside, 'stolen'), join(dir, 'secrets', 'link-out'));
    await symlink(join(dir, 'secrets', 'vc'), join(dir, 'secrets', 'link-in'));
    await symlink(outside, join(dir, 'secrets', 'dir-out'));
    sources = CredentialPolicy.parse(
      `apiVersion: vmware-dr/v1\nkind: WorkerPolicy\nsecretSources:\n  files: [${join(dir, 'secrets')}]\n  env: [VC_PASSWORD, "SFTP_*"]\n`,
      'sources.yaml',
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  const readable = (ref: string) =>
    sources.checkReadable(ref, 'f').then(
      () => 'read',
      (err: Error) => (err instanceof NotPermitted ? err.rule : err.name),
    );

  it('env: exact names and prefixes, case-sensitive', async () => {
    expect(await readable('env:VC_PASSWORD')).toBe('read');
    expect(await readable('env:SFTP_A')).toBe('read');
    expect(await readable('env:SFTP_')).toBe('read');
    expect(await readable('env:SFTPX')).toBe('secretSources.env');
    expect(await readable('env:vc_password')).toBe('secretSources.env');
    expect(await readable('env:HOME')).toBe('secretSources.env');
    expect(await readable('vault:kv/x')).toBe('read'); // the worker's own resolvers decide
  });

  it('file: inside (also through a link that stays inside); refused outside, through a link out, and with ..', async () => {
    const s = join(dir, 'secrets');
    expect(await readable(`file:${s}/vc`)).toBe('read');
    expect(await readable(`file:${s}/link-in`)).toBe('read');
    expect(await readable(`file:${s}/link-out`)).toBe('secretSources.files');
    expect(await readable(`file:${s}/dir-out/stolen`)).toBe('secretSources.files');
    expect(await readable(`file:${s}/../../${outside.split('/').pop()}/stolen`)).toBe('secretSources.files');
    expect(await readable(`file:${outside}/stolen`)).toBe('secretSources.files');
    expect(await readable(`file:${s}-evil/x`)).toBe('secretSources.files');
    expect(await readable(`file:${s}/missing`)).toBe('SecretReferenceError');
  });

  it('the guarded resolver never hands a refused reference to the resolver behind it', async () => {
    const asked: string[] = [];
    const inner: SecretResolver = {
      async resolve(ref) {
        asked.push(ref);
        return new Secret('value');
      },
    };
    const guarded = policyGuardedResolver(inner, sources);
    const s = join(dir, 'secrets');
    for (const ref of ['env:HOME', `file:${s}/link-out`, `file:${outside}/stolen`, `file:${s}/../x`]) {
      const err = await guarded.resolve(ref, 'endpoint.passwordRef').catch((e: unknown) => e);
      expect(err, ref).toBeInstanceOf(NotPermitted);
      expect((err as Error).message).not.toContain('outside-value');
    }
    expect(asked).toEqual([]);
    await guarded.resolve('env:VC_PASSWORD', 'f');
    await guarded.resolve(`file:${s}/vc`, 'f');
    expect(asked).toEqual(['env:VC_PASSWORD', `file:${s}/vc`]);
  });
});

describe('webhooks: listed references, resolved URL host checked, never repeated', () => {
  const token = 'T0KEN-do-not-log';
  it('allows the listed host over https only; refuses others without repeating the URL or host', () => {
    expect(() =>
      policy.checkWebhookUrl('env:CHAT_HOOK_URL', `https://hooks.example.com/x/${token}`, 'notify.urlRef'),
    ).not.toThrow();
    expect(() =>
      policy.checkWebhookUrl('env:CHAT_HOOK_URL', `https://HOOKS.example.com:443/${token}`, 'n'),
    ).not.toThrow();
    for (const url of [
      `https://evil.example.com/x/${token}`,
      `https://hooks.example.com.evil.net/${token}`,
      `https://hooks.example.com:8443/${token}`,
      `http://hooks.example.com/${token}`,
      `ftp://hooks.example.com/${token}`,
      `not a url ${token}`,
    ]) {
      const err = thrown(() => policy.checkWebhookUrl('env:CHAT_HOOK_URL', url, 'notify.urlRef')) as NotPermitted;
      expect(err, url).toBeInstanceOf(NotPermitted);
      expect(err.rule).toBe('webhooks[0].hosts');
      expect(err.message).not.toContain(token);
      expect(err.message).not.toContain('evil');
    }
    const unlisted = thrown(() => policy.checkWebhookRef('env:OTHER_HOOK', 'notify.urlRef')) as NotPermitted;
    expect(unlisted.rule).toBe('webhooks');
    expect(unlisted.message).toContain('add a webhooks entry with urlRefs: [env:OTHER_HOOK]');
  });
});

describe('approvalFor', () => {
  it('required and four eyes from the policy; approvers covering the appliance entry and the action', () => {
    expect(policy.approvalFor('vcenter', { url: 'https://vc-mgmt.example.com' }, 'restore')).toEqual({
      required: true,
      fourEyes: true,
      approvers: ['alice@example.com', '*@ops.example.com', 'bob@example.com'],
    });
    expect(policy.approvalFor('vcenter', { url: 'https://vc-mgmt.example.com' }, 'backup')).toEqual({
      required: false,
      fourEyes: true,
      approvers: ['bob@example.com'],
    });
    expect(policy.approvalFor('vcda', { url: 'https://lab.example.com' }, 'restore').approvers).toEqual([
      'bob@example.com',
    ]);
    const open = CredentialPolicy.parse(
      'apiVersion: vmware-dr/v1\nkind: WorkerPolicy\napprovals: { fourEyes: false }\n',
      'o',
    );
    expect(open.approvalFor('vcenter', { url: 'https://x' }, 'restore')).toEqual({ required: true, fourEyes: false });
    // The workflow matches approvers' identities (test/approval-rules.test.ts): case-insensitive, whole.
    expect(identityMatches('carol@ops.example.com', '*@OPS.example.com')).toBe(true);
    expect(identityMatches('carol@ops.example.com.evil', '*@ops.example.com')).toBe(false);
  });
});

describe('runbookProblems: every problem of a runbook, with path, steps and rule', () => {
  const doc = (over: Partial<RunbookDocument> = {}): RunbookDocument => ({
    apiVersion: 'vmware-dr/v1',
    kind: 'Runbook',
    name: 'rb',
    endpoints: {
      'vc-mgmt': {
        product: 'vcenter',
        url: 'https://vc-mgmt.example.com',
        username: 'u',
        passwordRef: 'env:VC_MGMT_PASSWORD',
        tls: { caFile: '/etc/vmware-dr/ca.pem' },
      },
      evil: { product: 'vcenter', url: 'https://attacker.example', username: 'u', passwordRef: 'env:VC_MGMT_PASSWORD' },
      sddc: {
        product: 'sddc-manager',
        url: 'https://sddc.example.com',
        username: 'u',
        passwordRef: 'env:SDDC_PASSWORD',
      },
    },
    locations: {
      ok: {
        type: 'SFTP',
        url: 'sftp://backup.example.com/vcsa',
        passwordRef: 'env:SFTP_PASSWORD',
        encryptionPasswordRef: 'env:VC_BACKUP_PASSWORD',
      },
      exfil: {
        type: 'SFTP',
        url: 'sftp://attacker.example/x',
        passwordRef: 'env:SFTP_PASSWORD',
        encryptionPasswordRef: 'env:HOME',
      },
    },
    notify: [
      { urlRef: 'env:CHAT_HOOK_URL', on: ['failed'] },
      { urlRef: 'file:/etc/hook', on: ['failed'] },
    ],
    stages: [
      {
        name: 's1',
        steps: [
          { backup: 'vc-mgmt', to: 'ok' },
          { backup: 'evil', to: 'ok' },
        ],
      },
      {
        name: 's2',
        steps: [
          { backup: 'vc-mgmt', to: 'exfil' },
          { restore: 'sddc', backupFile: '/tmp/b.tar.gz', passphraseRef: 'env:SDDC_PASSWORD', approval: 'none' },
        ],
      },
    ],
    ...over,
  });

  it('names the runbook path, the steps each problem stops and the rule', () => {
    const found = policy.runbookProblems(doc());
    const summary = found.map((p) => [p.path, p.steps, p.rule]);
    expect(summary).toEqual(
      expect.arrayContaining([
        ['endpoints.evil.url', ['1.2'], 'appliances'],
        ['locations.exfil.url', ['2.1'], 'appliances[0].locations'],
        ['locations.exfil.encryptionPasswordRef', ['2.1'], 'secretSources.env'],
        ['locations.exfil.encryptionPasswordRef', ['2.1'], 'appliances[0].secrets.encryption'],
        ['stages[1].steps[1].passphraseRef', ['2.2'], 'appliances[2].secrets.passphrase'],
        ['stages[1].steps[1].approval', ['2.2'], 'approvals.required'],
        ['notify[1].urlRef', [], 'secretSources.files'],
        ['notify[1].urlRef', [], 'webhooks'],
      ]),
    );
    expect(found).toHaveLength(8);
    for (const p of found) expect(p.message).toMatch(/\. Fix: /);
    expect(found.find((p) => p.rule === 'approvals.required')!.message).toContain(
      'step 2.2 (restore sddc) sets approval: none, but /etc/vmware-dr/policy.yaml requires an approval for every restore',
    );
  });

  it('a runbook the policy allows has no problems; defaults.approval: none is refused on restores', () => {
    const allowed = doc({
      endpoints: { 'vc-mgmt': doc().endpoints['vc-mgmt']! },
      notify: [{ urlRef: 'env:CHAT_HOOK_URL', on: ['failed'] }],
      stages: [
        { name: 's', steps: [{ backup: 'vc-mgmt', to: 'ok' }] },
        { name: 'r', steps: [{ restore: 'vc-mgmt', from: 'ok' }] },
      ],
    });
    expect(policy.runbookProblems(allowed)).toEqual([]);
    const none = policy.runbookProblems({ ...allowed, defaults: { approval: 'none' } });
    expect(none.map((p) => [p.path, p.steps, p.rule])).toEqual([['defaults.approval', ['2.1'], 'approvals.required']]);
  });
});

describe('policyForRunbooks (policy init, rehearsals, the demo)', () => {
  const examples = ['site-a-nightly.yaml', 'restore-vc-mgmt.yaml', 'restore-sddc-manager.yaml'].map((f) =>
    parseRunbook(readFileSync(join(root, 'examples', f), 'utf8')),
  );

  it('allows exactly what the runbooks use: they pass, a change of host, location or reference does not', () => {
    const generated = policyForRunbooks(examples, { sources: ['examples/*.yaml'] });
    const p = CredentialPolicy.parse(generated.text, 'generated.yaml');
    for (const d of examples) expect(p.runbookProblems(d), d.name).toEqual([]);
    expect(generated.text).toContain(
      '# Worker credential policy (VMWARE_DR_POLICY), generated by vmware-dr policy init from examples/*.yaml.',
    );
    const site = examples[0]!;
    const moved = {
      ...site,
      endpoints: { ...site.endpoints, 'vc-mgmt': { ...site.endpoints['vc-mgmt']!, url: 'https://attacker.example' } },
      locations: { 'sftp-a': { ...site.locations!['sftp-a']!, url: 'sftp://attacker.example/vcsa' } },
    } as RunbookDocument;
    expect(
      p
        .runbookProblems(moved)
        .map((x) => x.rule)
        .sort(),
    ).toEqual(['appliances', 'appliances[2].locations']);
    const swapped = {
      ...site,
      endpoints: {
        ...site.endpoints,
        'vc-mgmt': { ...site.endpoints['vc-mgmt']!, passwordRef: 'env:SDDC_A_PASSWORD' },
      },
    } as RunbookDocument;
    expect(p.runbookProblems(swapped).map((x) => [x.path, x.rule])).toEqual([
      ['endpoints.vc-mgmt.passwordRef', 'appliances[1].secrets.login'],
    ]);
  });

  it('one entry per appliance (product and host:port), insecure and http carried over with a review comment', () => {
    const base = examples[0]!;
    const lab: RunbookDocument = {
      ...base,
      name: 'lab',
      notify: [
        { urlRef: 'env:HOOK_OK', on: ['failed'] },
        { urlRef: 'env:HOOK_UNSET', on: ['failed'] },
      ],
      endpoints: {
        a: {
          product: 'vcenter',
          url: 'https://sim.local:8443/vcenter/a',
          username: 'u',
          passwordRef: 'env:A',
          tls: { insecure: true },
        },
        b: { product: 'vcenter', url: 'https://SIM.local:8443/vcenter/b', username: 'u', passwordRef: 'env:B' },
        c: {
          product: 'vcda',
          url: 'http://lab.local',
          username: 'u',
          passwordRef: 'file:/run/secrets/c',
          allowHttp: true,
        },
      },
      locations: {},
      stages: [{ name: 's', steps: [{ backup: 'c' }] }],
    };
    const g = policyForRunbooks([lab], {
      resolveWebhookUrl: (ref) =>
        ref === 'env:HOOK_OK' ? 'https://hooks.example.com/services/SECRET-TOKEN' : undefined,
    });
    const doc = g.document as { appliances: { name: string; hosts: string[]; secrets: { login: string[] } }[] };
    expect(doc.appliances.map((a) => [a.name, a.hosts, a.secrets.login])).toEqual([
      ['a', ['sim.local:8443'], ['env:A', 'env:B']],
      ['c', ['lab.local'], ['file:/run/secrets/c']],
    ]);
    expect(g.text).toMatch(/# REVIEW: a runbook endpoint sets tls\.insecure: true[^\n]*\n\s+allowInsecure: true/);
    expect(g.text).toMatch(/# REVIEW: a runbook endpoint uses plain http:\/\/[^\n]*\n\s+allowHttp: true/);
    expect(g.text).toContain('hosts: [hooks.example.com]');
    expect(g.text).toMatch(/# REVIEW: fill in the host\[:port\] of the URL env:HOOK_UNSET holds[^\n]*\n\s+hosts: \[\]/);
    expect(g.text).not.toContain('SECRET-TOKEN');
    expect(g.text).toContain('env: [A, B, HOOK_OK, HOOK_UNSET]');
    expect(g.text).toContain('files: [/run/secrets]');
    const p = CredentialPolicy.parse(g.text, 'lab.yaml');
    expect(p.runbookProblems(lab)).toEqual([]);
  });
});
