/**
 * The files the tools write can be read by the service, `vigil check` refuses what `vigil start`
 * refuses, and `vigil sim` says why the gateway turned its devices away. The service user is
 * played by `nobody` (uid 65534) through setpriv, as on an installed box where root runs the
 * tools and the unit runs as `vigil`; so these tests need root, as the suite's setup does.
 */
import { execFile, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CLI, startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { freePort } from '../support/victoria.js';

const NOBODY = 65534;
const AS_NOBODY = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];
let work: string;

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('these tests play root and the service user: run them as root (npm test does, like CI)');
  work = mkdtempSync(join(tmpdir(), 'vigil-files-'));
  chmodSync(work, 0o755);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function vigil(args: string[], opts: { asService?: boolean; input?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const argv = opts.asService ? [...AS_NOBODY, process.execPath, CLI, ...args] : [process.execPath, CLI, ...args];
  return new Promise((resolve) => {
    const child = execFile(argv[0]!, argv.slice(1), { env: { ...process.env, VIGIL_LOG_LEVEL: 'warn', ...opts.env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
    child.stdin!.end(opts.input ?? '');
  });
}

/** A directory like /etc/vigil on an installed box: root:<service group> 0750. */
function configDir(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { mode: 0o750 });
  chownSync(dir, 0, NOBODY);
  chmodSync(dir, 0o750);
  return dir;
}

const modeOf = (file: string): string => (statSync(file).mode & 0o777).toString(8);

describe('vigil user: files the service can read', () => {
  it('a new users file made by root is 0640 with the group of its directory, and the service user reads it', async () => {
    const file = join(configDir('etc-new'), 'users.yaml');
    const add = await vigil(['user', 'add', 'sam.jones', '--role', 'nurse', '--name', 'Sam Jones', '--file', file, '--password-stdin'], { input: 'correct horse battery\n' });
    expect(add.code, add.stderr).toBe(0);
    expect(add.stderr).toBe('');
    expect(modeOf(file)).toBe('640');
    expect(statSync(file)).toMatchObject({ uid: 0, gid: NOBODY });
    const list = await vigil(['user', 'list', '--file', file], { asService: true });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^sam\.jones\s+nurse\s+Sam Jones$/m);
  });

  it('adding, changing a password and removing keep the mode, owner and group the file had', async () => {
    const file = join(configDir('etc-keep'), 'users.yaml');
    expect((await vigil(['user', 'add', 'a.one', '--role', 'nurse', '--file', file])).code).toBe(0);
    chmodSync(file, 0o660);
    chownSync(file, NOBODY, 0);
    for (const args of [['add', 'b.two', '--role', 'charge'], ['passwd', 'a.one'], ['remove', 'b.two']]) {
      const r = await vigil(['user', ...args, '--file', file]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(modeOf(file), args.join(' ')).toBe('660');
      expect(statSync(file), args.join(' ')).toMatchObject({ uid: NOBODY, gid: 0 });
    }
  });

  it('a file only root can read stays so, and the tool says the service cannot read it', async () => {
    const file = join(configDir('etc-private'), 'users.yaml');
    writeFileSync(file, 'users: []\n', { mode: 0o600 });
    const r = await vigil(['user', 'add', 'c.three', '--role', 'admin', '--file', file]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`note: ${file} is readable only by root (mode 600)`);
  });
});

describe('vigil check refuses what vigil start refuses', () => {
  const dataDir = (name: string): string => {
    const d = join(work, name);
    mkdirSync(d, { recursive: true });
    chownSync(d, NOBODY, NOBODY);
    return d;
  };

  async function configFile(name: string, extra: Record<string, unknown>, data = dataDir(`data-${name}`)): Promise<string> {
    const dir = configDir(`cfg-${name}`);
    const file = join(dir, 'vigil.yaml');
    const config = { dataDir: data, mqtt: { host: '127.0.0.1', port: await freePort() }, http: { host: '127.0.0.1', port: await freePort() }, ...extra };
    writeFileSync(file, stringify(config).replaceAll('CONFIG_DIR', dir), { mode: 0o640 });
    chownSync(file, 0, NOBODY);
    return file;
  }

  const rootOnly = (dir: string, name: string, text: string): void => {
    writeFileSync(join(dir, name), text, { mode: 0o600 });
  };

  const cases: Array<[string, () => Promise<string>, RegExp]> = [
    [
      'a users file only root can read',
      async () => {
        const file = await configFile('users', { web: { usersFile: 'CONFIG_DIR/users.yaml' } });
        rootOnly(join(file, '..'), 'users.yaml', 'users: []\n');
        return file;
      },
      /web\.usersFile: .*users\.yaml: cannot read users file \(permission denied for user nobody \(uid 65534\)\)/,
    ],
    [
      'a broken users file',
      async () => {
        const file = await configFile('users-broken', { web: { usersFile: 'CONFIG_DIR/users.yaml' } });
        writeFileSync(join(file, '..', 'users.yaml'), 'users: [{ username: x }]\n', { mode: 0o644 });
        return file;
      },
      /web\.usersFile: .*users\.yaml: users\[0\]\.role/,
    ],
    ['a data directory the service cannot write', async () => configFile('data', {}, join(configDir('data-root'), 'data')), /dataDir: .*data does not exist and cannot be created in .*data-root \(permission denied for user nobody/],
    [
      'a spool left behind by root',
      async () => {
        const data = dataDir('data-spool');
        mkdirSync(join(data, 'spool'), { mode: 0o700 });
        return configFile('spool', {}, data);
      },
      /dataDir: .*data-spool\/spool is not writable by user nobody \(uid 65534\) \(owner uid 0\)/,
    ],
    [
      'a TLS key only root can read',
      async () => {
        const file = await configFile('tls', { mqtt: { host: '127.0.0.1', port: await freePort(), tls: { port: await freePort(), cert: 'CONFIG_DIR/gw.crt', key: 'CONFIG_DIR/gw.key' } } });
        writeFileSync(join(file, '..', 'gw.crt'), 'not a real certificate\n', { mode: 0o644 });
        rootOnly(join(file, '..'), 'gw.key', 'not a real key\n');
        return file;
      },
      /mqtt\.tls\.key: cannot read .*gw\.key \(permission denied for user nobody/,
    ],
    ['an unknown device profile', async () => configFile('profile', { devices: [{ id: 'wb-01', secret: 'long-enough-secret', profile: 'acme-9000' }] }), /devices\[0\]\.profile: unknown profile "acme-9000"/],
  ];

  it.each(cases)('%s: check exits 78 naming the setting, and start refuses it too', async (_name, make, expected) => {
    const file = await make();
    const check = await vigil(['check', '-c', file], { asService: true });
    expect(check.code, check.stdout + check.stderr).toBe(78);
    expect(check.stderr).toMatch(expected);
    const start = await vigil(['start', '-c', file], { asService: true });
    expect(start.code, start.stderr).not.toBe(0);
  });

  it('a config the service can use passes check as the service user, and start serves with it', async () => {
    const file = await configFile('good', { web: { usersFile: 'CONFIG_DIR/users.yaml' } });
    expect((await vigil(['user', 'add', 'sam.jones', '--role', 'nurse', '--file', join(file, '..', 'users.yaml')])).code).toBe(0);
    const check = await vigil(['check', '-c', file], { asService: true });
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/valid\n[\s\S]*checked as user nobody \(uid 65534\)\n$/);
    const http = (/http 127\.0\.0\.1:(\d+)/.exec(check.stdout) ?? [])[1];
    const gw = spawn(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), process.execPath, CLI, 'start', '-c', file], { stdio: 'ignore' });
    try {
      await expect.poll(async () => (await fetch(`http://127.0.0.1:${http}/healthz`).catch(() => undefined))?.status, { timeout: 30_000, interval: 200 }).toBe(200);
    } finally {
      gw.kill('SIGTERM');
      await new Promise((r) => gw.once('exit', r));
    }
    expect(gw.exitCode).toBe(0);
  });

  it('as root, check says the permissions it saw are root\'s', async () => {
    const r = await vigil(['check', '-c', await configFile('as-root', {})]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('checked as user root (uid 0), who can read and write anything: check as the service user too');
  });
});

describe('vigil sim says why a connection was refused', () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    gw = await startGatewayProcess({ config: { devices: [{ id: 'sim-wearable-01', secret: 's-sim-wearable-01' }] } });
  }, 60_000);
  afterAll(async () => {
    await gw?.stop();
    await gw?.cleanup();
  });

  const sim = (url: string, extra: string[]) => vigil(['sim', '--mqtt', url, '--duration', '1', '--stats-every', '0', ...extra]);

  it('unknown devices or wrong secrets: the broker\'s answer and what to change', async () => {
    const r = await sim(`mqtt://127.0.0.1:${gw.mqttPort}`, ['--wearables', '3', '--secret-prefix', 'x-']);
    expect(r.stdout).toContain('mqtt: 3 devices, 0 connected');
    expect(r.stderr).toContain('vigil sim: 3 of 3 devices cannot connect: Connection refused: Bad username or password (code 4)');
    expect(r.stderr).toContain("each needs an entry in the gateway's devices: list");
    const ok = await sim(`mqtt://127.0.0.1:${gw.mqttPort}`, ['--wearables', '1', '--secret-prefix', 's-']);
    expect(ok.stdout).toContain('mqtt: 1 devices, 1 connected');
    expect(ok.stderr).toBe('');
  });

  it('nothing listening: says so', async () => {
    const port = await freePort();
    const r = await sim(`mqtt://127.0.0.1:${port}`, ['--wearables', '2', '--secret-prefix', 's-']);
    expect(r.stderr).toContain(`vigil sim: 2 of 2 devices cannot connect: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(r.stderr).toContain(`nothing listens at mqtt://127.0.0.1:${port}: is the gateway running, on that port?`);
  });
});
