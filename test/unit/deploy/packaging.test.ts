/**
 * Container and install packaging: compose.yaml (services, health checks, volumes, the inline
 * gateway config validated by the real config schema), the Dockerfile (multi-stage, non-root,
 * health check without curl), and install.sh (syntax, --help, the config it generates).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig, validateConfig } from '../../../src/config/load.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const DEPLOY = join(ROOT, 'deploy');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: { vigil: string } };
const work = mkdtempSync(join(tmpdir(), 'vigil-deploy-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface ComposeService {
  build?: { context: string; dockerfile: string };
  image?: string;
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  configs?: Array<{ source: string; target: string }>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
}
const compose = parse(readFileSync(join(DEPLOY, 'compose.yaml'), 'utf8')) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
  configs: Record<string, { content: string }>;
};

describe('deploy/compose.yaml', () => {
  const { vigil, influxdb, grafana } = compose.services;

  it('runs vigil, InfluxDB 2 and Grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['grafana', 'influxdb', 'vigil']);
    expect(influxdb!.image).toMatch(/^influxdb:2(\.|$)/);
    expect(grafana!.image).toMatch(/^grafana\/grafana/);
    expect(existsSync(join(DEPLOY, vigil!.build!.context, vigil!.build!.dockerfile))).toBe(true);
  });

  it('health-checks vigil on /healthz with node (no curl in the image) and InfluxDB with influx ping', () => {
    const test = vigil!.healthcheck!.test.join(' ');
    expect(test).toMatch(/^CMD node -e .*fetch\('http:\/\/127\.0\.0\.1:8080\/healthz'\)/);
    expect(test).not.toMatch(/curl|wget/);
    expect(influxdb!.healthcheck!.test).toEqual(['CMD', 'influx', 'ping']);
    expect(grafana!.depends_on?.influxdb?.condition).toBe('service_healthy');
  });

  it('keeps data in named volumes, declared, at the paths each image uses', () => {
    expect(vigil!.volumes).toContain('vigil-data:/var/lib/vigil');
    expect(influxdb!.volumes).toContain('influxdb-data:/var/lib/influxdb2');
    expect(grafana!.volumes).toContain('grafana-data:/var/lib/grafana');
    for (const s of Object.values(compose.services)) {
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0]!;
        if (source.startsWith('.')) expect(existsSync(join(DEPLOY, source)), `bind mount ${source}`).toBe(true);
        else expect(compose.volumes, `volume ${source} is declared`).toHaveProperty(source);
      }
    }
  });

  it('points vigil and the Grafana datasource at the influxdb service', () => {
    expect(vigil!.environment!.VIGIL_INFLUX_URL).toBe('http://influxdb:8086');
    const ds = parse(readFileSync(join(DEPLOY, 'grafana/provisioning/datasources/influxdb.yaml'), 'utf8')) as { datasources: Array<{ url: string }> };
    expect(ds.datasources[0]!.url).toBe('http://influxdb:8086');
  });

  it('gives vigil a config that the gateway schema accepts (HTTP published, so with a token)', () => {
    const target = vigil!.configs!.find((c) => c.target === '/etc/vigil/vigil.yaml')!;
    const content = compose.configs[target.source]!.content.replace(/\$\{VIGIL_API_TOKEN:\?[^}]*\}/, 'a-token-of-at-least-16-chars');
    const config = validateConfig(parse(content), 'compose vigil-config');
    expect(config).toMatchObject({ dataDir: '/var/lib/vigil', mqtt: { host: '0.0.0.0', port: 1883 }, http: { host: '0.0.0.0', port: 8080 } });
    expect(vigil!.ports).toEqual(expect.arrayContaining(['1883:1883', '8080:8080']));
  });
});

describe('deploy/Dockerfile', () => {
  const dockerfile = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
  const lines = dockerfile.split('\n').filter((l) => !l.trimStart().startsWith('#'));

  it('is multi-stage on node:20-bookworm-slim and ends as a non-root user', () => {
    const froms = lines.filter((l) => l.startsWith('FROM '));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) expect(f).toMatch(/^FROM node:20-bookworm-slim\b/);
    const users = lines.filter((l) => l.startsWith('USER '));
    expect(users.at(-1)).toBe('USER node');
    expect(dockerfile.lastIndexOf('USER node')).toBeGreaterThan(dockerfile.lastIndexOf('\nFROM '));
  });

  it('checks health with node fetch on /healthz and runs the built CLI', () => {
    const health = dockerfile.slice(dockerfile.indexOf('HEALTHCHECK'));
    expect(health).toMatch(/CMD \["node", "-e", "fetch\('http:\/\/127\.0\.0\.1:'/);
    expect(health.split('\n').slice(0, 2).join('\n')).toContain("/healthz')");
    expect(dockerfile).not.toMatch(/apt-get install[^\n]*curl|apt-get install[^\n]*wget/);
    expect(dockerfile).toContain(`ENTRYPOINT ["node", "/opt/vigil/${PKG.bin.vigil}"]`);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
  });

  it('bakes in a default config the gateway accepts', () => {
    expect(dockerfile).toContain('COPY deploy/docker-config.yaml /etc/vigil/vigil.yaml');
    expect(() => loadConfig(join(DEPLOY, 'docker-config.yaml'), {})).not.toThrow();
  });
});

describe('deploy/install.sh', () => {
  const script = join(DEPLOY, 'install.sh');

  it('is valid bash', () => {
    const r = spawnSync('bash', ['-n', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('--help prints usage and exits 0 without touching anything; an unknown option exits 2', () => {
    const help = spawnSync('bash', [script, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: sudo deploy\/install\.sh/);
    for (const opt of ['--mqtt-host', '--mqtt-port', '--http-host', '--http-port', '--no-start']) expect(help.stdout).toContain(opt);
    const bad = spawnSync('bash', [script, '--frobnicate'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("unknown option '--frobnicate'");
  });

  it('writes a first config the gateway accepts: data dir, broker on the ward network, a token when HTTP is not loopback; never overwrites', () => {
    const out = join(work, 'vigil.yaml');
    const run = (extra: string[]) =>
      spawnSync(process.execPath, [join(DEPLOY, 'configure.mjs'), '--example', join(ROOT, 'vigil.example.yaml'), '--out', out, '--data-dir', '/var/lib/vigil', ...extra], { encoding: 'utf8' });
    const first = run(['--mqtt-host', '0.0.0.0', '--http-host', '0.0.0.0', '--http-port', '8443', '--users-file', '/etc/vigil/users.yaml']);
    expect(first.status, first.stderr).toBe(0);
    const token = first.stdout.trim();
    expect(token.length).toBeGreaterThanOrEqual(16);
    const config = loadConfig(out, {});
    expect(config).toMatchObject({ dataDir: '/var/lib/vigil', mqtt: { host: '0.0.0.0', port: 1883 }, http: { host: '0.0.0.0', port: 8443, apiToken: token }, devices: [], web: { usersFile: '/etc/vigil/users.yaml' } });
    expect(readFileSync(out, 'utf8')).toContain('# Spool, cursors, census state'); // comments kept

    const again = run(['--http-host', '127.0.0.1']);
    expect(again.status).toBe(0);
    expect(again.stderr).toContain('left unchanged');
    expect(loadConfig(out, {}).http.apiToken).toBe(token);

    rmSync(out);
    expect(run([]).stdout).toBe('');
    expect(loadConfig(out, {}).http).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(loadConfig(out, {}).web.usersFile).toBeUndefined();
    expect(loadConfig(out, {}).http.apiToken).toBeUndefined();
  });
});
