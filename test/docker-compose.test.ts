/**
 * No Docker engine runs here: check what can be checked of docker-compose.yml, .env and the
 * Dockerfile (services, pinned images, ports, environment, secrets, volumes, health checks and an
 * acyclic dependency graph with the right conditions), and the simulator's kept PKI that lets
 * the worker container trust the simulator from a shared file.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadCodecKeys } from '../src/codec/keys';
import { CredentialPolicy } from '../src/core/policy/index';
import { SEARCH_ATTRIBUTES } from '../src/contract/visibility';
import { PKI_FILES, loadOrCreatePki } from '../src/simulator/cert';

interface Service {
  image?: string;
  build?: { context: string; args?: Record<string, string> };
  command?: string[];
  entrypoint?: string[];
  ports?: string[];
  expose?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  secrets?: string[];
  stop_grace_period?: string;
}
interface Compose {
  services: Record<string, Service>;
  secrets: Record<string, { environment?: string; file?: string }>;
  volumes: Record<string, unknown>;
}

const root = join(__dirname, '..');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as Compose;
const dotenv = Object.fromEntries(
  readFileSync(join(root, '.env'), 'utf8')
    .split('\n')
    .filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
) as Record<string, string>;
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const services = compose.services;
const s = (name: string): Service => {
  const service = services[name];
  if (!service) throw new Error(`docker-compose.yml has no service ${name}`);
  return service;
};
/** `${VAR}` references in a string, each of which must be defined in .env. */
const variables = (text: string) => [...text.matchAll(/\$\{([A-Z_][A-Z0-9_]*)\}/g)].map((m) => m[1]!);
/** A flag's value in a command list. */
const flag = (command: string[] | undefined, name: string) => command?.[command.indexOf(name) + 1];

describe('docker-compose.yml', () => {
  it('has the multi-machine shape: postgres, schema, server, setup, UI, codec server, simulator, worker', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'codec-server',
        'postgresql',
        'simulator',
        'temporal',
        'temporal-schema',
        'temporal-setup',
        'temporal-ui',
        'worker',
      ].sort(),
    );
  });

  it('pins every image through a .env variable that holds an exact version', () => {
    const expected: Record<string, RegExp> = {
      postgresql: /^postgres:\$\{POSTGRES_VERSION\}$/,
      'temporal-schema': /^temporalio\/admin-tools:\$\{TEMPORAL_ADMINTOOLS_VERSION\}$/,
      temporal: /^temporalio\/server:\$\{TEMPORAL_VERSION\}$/,
      'temporal-setup': /^temporalio\/admin-tools:\$\{TEMPORAL_ADMINTOOLS_VERSION\}$/,
      'temporal-ui': /^temporalio\/ui:\$\{TEMPORAL_UI_VERSION\}$/,
      simulator: /^\$\{VMWARE_DR_IMAGE\}$/,
      'codec-server': /^\$\{VMWARE_DR_IMAGE\}$/,
      worker: /^\$\{VMWARE_DR_IMAGE\}$/,
    };
    for (const [name, image] of Object.entries(expected)) expect(s(name).image, name).toMatch(image);
    for (const name of ['POSTGRES_VERSION', 'TEMPORAL_VERSION', 'TEMPORAL_ADMINTOOLS_VERSION', 'TEMPORAL_UI_VERSION'])
      expect(dotenv[name], name).toMatch(/^\d+\.\d+(\.\d+)?(-[\w.-]+)?$/);
    expect(dotenv.VMWARE_DR_IMAGE).toMatch(/^vmware-dr-temporal:\d+\.\d+\.\d+$/);
    expect(dotenv.NODE_VERSION).toMatch(/^20\.\d+\.\d+-bookworm-slim$/);
    // Every ${VAR} the file uses is defined in .env (no silent empty value).
    const text = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
    for (const v of variables(text)) expect(Object.keys(dotenv), `\${${v}}`).toContain(v);
  });

  it('.env is committed, not ignored, and the image build does not copy it', () => {
    const gitignore = readFileSync(join(root, '.gitignore'), 'utf8').split('\n');
    expect(gitignore).not.toContain('.env');
    expect(readFileSync(join(root, '.dockerignore'), 'utf8').split('\n')).toContain('.env');
  });

  it('sets up the schema, then the server, then namespace and every search attribute', () => {
    const schema = s('temporal-schema').command!.join('\n');
    expect(schema).toContain('temporal-sql-tool --plugin postgres12 --ep postgresql');
    for (const part of ['create', 'setup-schema -v 0.0', 'update-schema -d', 'temporal_visibility'])
      expect(schema).toContain(part);
    const t = s('temporal');
    expect(t.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql', BIND_ON_IP: '0.0.0.0' });
    expect(t.ports).toContain('7233:7233');
    const setup = s('temporal-setup');
    expect(setup.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
    const script = setup.command!.join('\n');
    expect(script).toContain('temporal operator namespace create');
    for (const [name, kind] of Object.entries(SEARCH_ATTRIBUTES))
      expect(script).toMatch(new RegExp(`^\\s*attribute ${name} ${kind}$`, 'm'));
  });

  it('serves the Temporal UI on 8080 against the server', () => {
    const ui = s('temporal-ui');
    expect(ui.ports).toContain('8080:8080');
    expect(ui.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it('wires the UI to the codec server, which has the keys by secret file and allows the UI origin', () => {
    const ui = s('temporal-ui');
    const codec = s('codec-server');
    expect(codec.command?.[0]).toBe('codec-server');
    expect(flag(codec.command, '--host')).toBe('0.0.0.0');
    const port = flag(codec.command, '--port')!;
    expect(port).toBe('${CODEC_SERVER_PORT}');
    expect(dotenv.CODEC_SERVER_PORT).toMatch(/^\d+$/);
    // The browser calls the codec server: the UI gets the address the host publishes.
    expect(codec.ports).toContain(`${port}:${port}`);
    expect(ui.environment?.TEMPORAL_CODEC_ENDPOINT).toBe(`http://localhost:${port}`);
    expect(ui.environment?.TEMPORAL_CODEC_PASS_ACCESS_TOKEN).toBe('false');
    // CORS: the UI's origin (its published port 8080) is the one allowed.
    const uiPort = ui.ports![0]!.split(':')[0];
    expect(flag(codec.command, '--cors-origin')).toBe(`http://localhost:${uiPort}`);
    // Keys by file, from a compose secret, the same for worker and codec server; never inline.
    for (const svc of [codec, s('worker')]) {
      expect(svc.environment?.VMWARE_DR_CODEC_KEY_FILE).toBe('/run/secrets/codec_keys');
      expect(svc.environment?.VMWARE_DR_CODEC_KEYS).toBeUndefined();
      expect(svc.secrets).toContain('codec_keys');
    }
    expect(compose.secrets.codec_keys).toEqual({ environment: 'CODEC_KEYS' });
    // The local key in .env is a valid key list (32-byte AES-256 keys, unique ids).
    expect(loadCodecKeys({ VMWARE_DR_CODEC_KEYS: dotenv.CODEC_KEYS })?.ids.length).toBeGreaterThan(0);
    expect(codec.healthcheck?.test.join(' ')).toContain('/healthz');
    expect(ui.depends_on?.['codec-server']).toEqual({ condition: 'service_healthy' });
  });

  it('runs the simulator over HTTPS with a certificate for its service name, a kept CA and a fixed password', () => {
    const sim = s('simulator');
    expect(sim.command?.[0]).toBe('simulator');
    expect(flag(sim.command, '--host')).toBe('0.0.0.0');
    expect(flag(sim.command, '--cert-name')).toBe('simulator');
    expect(sim.command).not.toContain('--http');
    const port = flag(sim.command, '--port');
    expect(sim.ports).toContain(`${port}:${port}`);
    const certDir = flag(sim.command, '--cert-dir')!;
    expect(sim.volumes).toContain(`simulator-pki:${certDir}`);
    expect(dockerfile).toContain(`mkdir -p ${certDir} && chown node:node ${certDir}`);
    expect(sim.environment?.VMWARE_DR_SIMULATOR_PASSWORD).toBe('${SIMULATOR_PASSWORD}');
    expect(sim.command).not.toContain('--password');
  });

  it('gives the worker the server, its settings, the credentials by reference (secret files) and the CA by file', () => {
    const w = s('worker');
    expect(w.build).toEqual({ context: '.', args: { NODE_VERSION: '${NODE_VERSION}' } });
    expect(w.command).toEqual(['worker']);
    expect(w.environment).toMatchObject({
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_NAMESPACE: '${TEMPORAL_NAMESPACE}',
      VMWARE_DR_TASK_QUEUE: '${VMWARE_DR_TASK_QUEUE}',
      VMWARE_DR_METRICS_PORT: '${VMWARE_DR_METRICS_PORT}',
      VMWARE_DR_LOG_FORMAT: 'json',
    });
    // No secret value in the worker's environment: only files under /run/secrets.
    for (const value of Object.values(w.environment ?? {}))
      for (const v of variables(value)) expect(v).not.toMatch(/PASSWORD|SECRET|TOKEN/);
    expect(w.secrets).toEqual(['appliance_password', 'backup_password', 'codec_keys']);
    expect(compose.secrets.appliance_password).toEqual({ environment: 'SIMULATOR_PASSWORD' });
    expect(compose.secrets.backup_password).toEqual({ environment: 'BACKUP_PASSWORD' });
    // The simulator's CA directory and the credential policy, read-only.
    expect(w.volumes).toContain('simulator-pki:/etc/vmware-dr/simulator:ro');
    expect(w.volumes).toContain('./examples/policy-compose.yaml:/etc/vmware-dr/policy.yaml:ro');
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(['simulator-pki', 'postgresql-data']));
    // Metrics without a fixed host port, so the worker scales; SIGTERM drains before SIGKILL.
    expect(w.ports).toEqual(['${VMWARE_DR_METRICS_PORT}']);
    expect(w.stop_grace_period).toBe('30s');
  });

  it('gives the worker its credential policy read-only; the policy allows the simulator and the two secret files only', async () => {
    const w = s('worker');
    const target = w.environment?.VMWARE_DR_POLICY;
    expect(target).toBe('/etc/vmware-dr/policy.yaml');
    const mount = w.volumes?.find((v) => v.split(':')[1] === target);
    expect(mount).toBeDefined();
    const [hostPath, , mode] = mount!.split(':');
    expect(mode).toBe('ro');
    const file = join(root, hostPath!);
    // The file the stack mounts is a valid policy (what `vmware-dr policy check` says).
    const policy = await CredentialPolicy.load(file);
    const doc = policy.document;
    // Secrets are read only from the worker's compose secrets, never the codec keys beside them.
    const secretFiles = (w.secrets ?? []).map((name) => `/run/secrets/${name}`);
    for (const f of doc.secretSources.files) expect(secretFiles).toContain(f);
    expect(doc.secretSources.files).not.toContain('/run/secrets/codec_keys');
    expect(doc.secretSources.files).not.toContain('/run/secrets');
    await expect(policy.checkReadable('file:/run/secrets/codec_keys', 'x')).rejects.toMatchObject({
      name: 'NotPermitted',
      rule: 'secretSources.files',
    });
    expect(doc.secretSources.env).toEqual([]);
    // Every product at the simulator's service name and port, trusted through the CA in the mounted PKI volume.
    const sim = s('simulator');
    const port = flag(sim.command, '--port');
    const caDir = w.volumes!.find((v) => v.startsWith('simulator-pki:'))!.split(':')[1]!;
    expect(doc.appliances.map((a) => a.product).sort()).toEqual(['sddc-manager', 'vcda', 'vcenter']);
    for (const a of doc.appliances) {
      expect(a.hosts).toEqual([`${flag(sim.command, '--cert-name')}:${port}`]);
      expect(a.tls).toEqual({ allowInsecure: false, caFiles: [`${caDir}/ca.pem`] });
      expect(a.allowHttp).toBe(false);
      expect(a.secrets.login).toEqual(['file:/run/secrets/appliance_password']);
    }
    const vc = { url: `https://simulator:${port}/vcenter/vc-1`, tls: { caFile: `${caDir}/ca.pem` } };
    expect(() =>
      policy.checkSecret('vcenter', vc, 'login', 'file:/run/secrets/appliance_password', 'endpoint.passwordRef'),
    ).not.toThrow();
    expect(() => policy.checkEndpoint('vcenter', { url: 'https://attacker.example' }, 'endpoint')).toThrow(
      /no vcenter entry of appliances/,
    );
  });

  it('health-checks every long-running service except the UI, and waits on the right conditions', () => {
    for (const name of ['postgresql', 'temporal', 'simulator', 'codec-server', 'worker'])
      expect(s(name).healthcheck?.test.length, name).toBeGreaterThan(1);
    expect(s('postgresql').healthcheck?.test.join(' ')).toContain('pg_isready');
    expect(s('simulator').healthcheck?.test.join(' ')).toContain('/var/lib/vmware-dr/pki/ca.pem');
    expect(s('worker').healthcheck?.test.join(' ')).toContain('/healthz');
    const conditions = Object.fromEntries(
      Object.entries(services).map(([name, svc]) => [
        name,
        Object.fromEntries(Object.entries(svc.depends_on ?? {}).map(([dep, { condition }]) => [dep, condition])),
      ]),
    );
    expect(conditions).toEqual({
      postgresql: {},
      'temporal-schema': { postgresql: 'service_healthy' },
      temporal: { 'temporal-schema': 'service_completed_successfully' },
      'temporal-setup': { temporal: 'service_healthy' },
      'temporal-ui': { temporal: 'service_healthy', 'codec-server': 'service_healthy' },
      'codec-server': {},
      simulator: {},
      worker: {
        temporal: 'service_healthy',
        'temporal-setup': 'service_completed_successfully',
        simulator: 'service_healthy',
      },
    });
    // service_healthy only on services that have a health check.
    for (const deps of Object.values(conditions))
      for (const [dep, condition] of Object.entries(deps))
        if (condition === 'service_healthy') expect(s(dep).healthcheck, dep).toBeDefined();
  });

  it('has an acyclic dependency graph in which every dependency exists', () => {
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (name: string, path: string[]): void => {
      expect(services[name], `${path.join(' → ')} → ${name}`).toBeDefined();
      if (state.get(name) === 'done') return;
      if (state.get(name) === 'visiting') throw new Error(`dependency cycle: ${[...path, name].join(' → ')}`);
      state.set(name, 'visiting');
      for (const dep of Object.keys(s(name).depends_on ?? {})) visit(dep, [...path, name]);
      state.set(name, 'done');
    };
    for (const name of Object.keys(services)) visit(name, []);
    expect(state.size).toBe(Object.keys(services).length);
  });
});

describe('Dockerfile', () => {
  it('builds on Debian-based Node (glibc for the Temporal core bridge), from the lock, with the workflow bundle', () => {
    const from = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(from.length).toBeGreaterThan(0);
    const nodeVersion = /^ARG NODE_VERSION=(\S+)$/m.exec(dockerfile)?.[1];
    expect(nodeVersion).toMatch(/-bookworm-slim$/);
    for (const image of from) {
      expect(image).toBe('node:${NODE_VERSION}');
      expect(image).not.toMatch(/alpine/);
    }
    expect(dockerfile).toContain('npm ci');
    expect(dockerfile).toContain('npm run build');
    expect(dockerfile).toContain('COPY --from=build /app/dist ./dist');
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toContain('ENTRYPOINT ["node", "bin/vmware-dr.js"]');
    expect(dockerfile).toContain('CMD ["worker"]');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.build).toContain('dist/worker/bundle.js');
  });
});

describe('simulator --cert-dir (the kept PKI)', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('keeps the CA across restarts and reissues the certificate only for new names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vmware-dr-pki-'));
    dirs.push(dir);
    const hosts = ['127.0.0.1', 'localhost', 'simulator'];
    const first = await loadOrCreatePki(dir, { hosts });
    const again = await loadOrCreatePki(dir, { hosts });
    expect(again).toEqual(first);
    expect(await readFile(join(dir, PKI_FILES.caCert), 'utf8')).toBe(first.caCertPem);
    expect((await stat(join(dir, PKI_FILES.caKey))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, PKI_FILES.key))).mode & 0o777).toBe(0o600);

    const renamed = await loadOrCreatePki(dir, { hosts: [...hosts, 'simulator.site-b'] });
    expect(renamed.caCertPem).toBe(first.caCertPem);
    expect(renamed.certPem).not.toBe(first.certPem);
    const ca = new X509Certificate(renamed.caCertPem);
    const leaf = new X509Certificate(renamed.certPem);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkHost('simulator')).toBe('simulator');
    expect(leaf.checkHost('simulator.site-b')).toBe('simulator.site-b');
    expect(leaf.checkHost('other')).toBeUndefined();
    expect(Date.parse(ca.validTo) - Date.now()).toBeGreaterThan(3000 * 24 * 3600_000);
  });
});
