/** No Docker engine runs here: check what can be checked of docker-compose.yml and the Dockerfile. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTES } from '../src/search-attributes';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

const root = join(__dirname, '..');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };

describe('docker-compose.yml', () => {
  it('has a pinned Temporal dev server with the project search attributes and a health check', () => {
    const t = compose.services.temporal!;
    expect(t.image).toMatch(/^temporalio\/temporal:\d+\.\d+\.\d+$/);
    expect(t.ports).toEqual(expect.arrayContaining(['7233:7233', '8233:8233']));
    for (const [name, kind] of Object.entries(SEARCH_ATTRIBUTES)) expect(t.command).toContain(`${name}=${kind}`);
    expect(t.healthcheck?.test.join(' ')).toContain('health');
  });

  it('runs the worker against that server, after it is healthy, and the simulator from the same build', () => {
    const w = compose.services.worker!;
    expect(w.build).toBe('.');
    expect(w.command).toEqual(['worker']);
    expect(w.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(w.depends_on?.temporal?.condition).toBe('service_healthy');
    const s = compose.services.simulator!;
    expect(s.command?.[0]).toBe('simulator');
    expect(s.command?.[s.command.indexOf('--host') + 1]).toBe('0.0.0.0');
    const port = s.command?.[s.command.indexOf('--port') + 1];
    expect(s.ports).toContain(`${port}:${port}`);
  });

  it('the Dockerfile builds from the lock and runs the CLI', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20/m);
    expect(dockerfile).toContain('npm ci');
    expect(dockerfile).toContain('ENTRYPOINT ["node", "bin/vmware-dr.js"]');
  });
});
