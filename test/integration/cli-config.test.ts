/**
 * Broken configs fail at start with one clear message naming the setting, a non-zero exit code
 * and no stack trace; the CLI's help is there for every subcommand.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../support/gateway-process.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-cfg-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function vigil(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

const valid = `
dataDir: ${'DATA'}
devices:
  - id: wb-01
    secret: long-enough-secret
census:
  wards: [{ id: w1, beds: ["1"] }]
  patients: [{ id: P1, ward: w1, bed: "1", devices: [wb-01] }]
`;

const broken: Array<[string, string, RegExp]> = [
  ['missing secret', 'devices:\n  - id: wb-01\n  - id: wb-02\n  - id: wb-03\n    profile: json-v1\n', /devices\[0\]\.secret: required/],
  ['bad YAML', 'mqtt:\n  port: [1883\n', /YAML syntax error at line \d+/],
  ['wrong type', 'mqtt:\n  port: "eighteen"\n', /mqtt\.port: .*number/i],
  ['unknown setting', 'mqtt:\n  prot: 1883\n', /mqtt: unknown setting "prot"/],
  ['port out of range', 'http:\n  port: 70000\n', /http\.port: /],
  ['unknown ward', 'census:\n  wards: [{ id: w1, beds: ["1"] }]\n  patients: [{ id: P1, ward: w9, bed: "1" }]\n', /census\.patients\[0\]\.ward: unknown ward "w9"/],
  ['unknown profile', 'devices:\n  - id: wb-01\n    secret: long-enough-secret\n    profile: acme-9000\n', /devices\[0\]\.profile: unknown profile "acme-9000"/],
  ['bad secret hash', 'devices:\n  - id: wb-01\n    secretHash: "md5:abc"\n', /devices\[0\]\.secretHash: expected scrypt/],
  ['duplicate device', 'devices:\n  - { id: a1, secret: long-enough-secret }\n  - { id: a1, secret: long-enough-secret }\n', /devices\[1\]\.id: duplicate of devices\[0\]\.id "a1"/],
  ['public HTTP without a token', 'http:\n  host: 0.0.0.0\n', /http\.apiToken: required when http\.host is not loopback/],
  ['a patient id with a slash', 'census:\n  wards: [{ id: w1, beds: ["1"] }]\n  patients: [{ id: "P1/../x", ward: w1, bed: "1" }]\n', /census\.patients\[0\]\.id: letters, digits, dot, dash or underscore, starting with a letter or digit/],
  ['a bed id with a comma', 'census:\n  wards: [{ id: w1, beds: ["1,2"] }]\n', /census\.wards\[0\]\.beds\[0\]: letters, digits/],
  ['a session queue of none', 'mqtt:\n  limits: { queuedPerSession: 0 }\n', /mqtt\.limits\.queuedPerSession: .*(>=|at least) ?1/],
  ['a buffer bound below four packets', 'mqtt:\n  maxPacketBytes: 65536\n  limits: { bufferedBytes: 65536 }\n', /mqtt\.limits\.bufferedBytes: must be at least 4 × mqtt\.maxPacketBytes \(262144\)/],
];

describe('bad config', () => {
  it.each(broken)('%s: fails with the setting named, exit 78, no stack trace', async (_name, yaml, expected) => {
    const file = join(dir, `${_name.replace(/\W+/g, '-')}.yaml`);
    await writeFile(file, yaml);
    const r = await vigil(['start', '-c', file], { VIGIL_DATA_DIR: join(dir, 'data') });
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(expected);
    expect(r.stderr).toContain('configuration error');
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });

  it('a missing file is named', async () => {
    const r = await vigil(['start', '-c', join(dir, 'nope.yaml')]);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/nope\.yaml: cannot read config file \(no such file\)/);
  });

  it('an environment override that is not a port is named', async () => {
    const file = join(dir, 'ok.yaml');
    await writeFile(file, valid.replace('DATA', join(dir, 'd1')));
    const r = await vigil(['check', '-c', file], { VIGIL_MQTT_PORT: 'abc' });
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/VIGIL_MQTT_PORT: "abc" is not a port number/);
  });

  it('vigil check accepts a valid file and reports env overrides', async () => {
    const file = join(dir, 'ok2.yaml');
    await writeFile(file, valid.replace('DATA', join(dir, 'd2')));
    const r = await vigil(['check', '-c', file], { VIGIL_MQTT_PORT: '18999', VIGIL_INFLUX_URL: 'http://127.0.0.1:1/' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/mqtt 127\.0\.0\.1:18999/);
    expect(r.stdout).toMatch(/1 MQTT device\(s\)/);
    expect(r.stdout).toMatch(/InfluxDB http:\/\/127\.0\.0\.1:1\//);
  });

  it('the example config shipped in the repo is valid', async () => {
    const r = await vigil(['check', '-c', join(import.meta.dirname, '../../vigil.example.yaml')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('help', () => {
  it('every subcommand answers --help with its usage', async () => {
    const top = await vigil(['--help']);
    expect(top.code).toBe(0);
    const names = [...top.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]!);
    expect(names).toContain('start');
    expect(names).toContain('demo');
    for (const name of names) {
      const r = await vigil([name, '--help']);
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toMatch(new RegExp(`Usage:\\s+vigil ${name}`));
    }
  });

  it('an unknown command or flag is a usage error (exit 2) naming it', async () => {
    const a = await vigil(['strat']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/unknown command "strat"/);
    const b = await vigil(['start', '--confg', 'x']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--confg/);
  });
});
