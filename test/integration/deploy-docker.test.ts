/**
 * The deployment as hospital IT runs it, on a real Docker engine (test/setup/ensure-docker.sh
 * installs and starts it, and makes the base image when no registry can be reached):
 *
 * - the image from deploy/Dockerfile starts (start and demo), is healthy, serves the sign-in
 *   page, stores what a device publishes over MQTT, and after `docker kill -s KILL` and
 *   `docker start` is healthy again with every acknowledged observation intact;
 * - deploy/install.sh installs into a bare Debian container (the base image: Node, no systemd),
 *   and the installed layout runs as the unit runs it, as the non-root user `vigil`, with nurse
 *   accounts made by `vigil user add`.
 *
 * Containers use the host's network (ports chosen free on 127.0.0.1) or none at all.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Cleanup, docker, dockerOk, ensureDocker, ROOT, waitHealthy, type DockerEngine } from '../support/docker.js';
import { freePort, startVictoria, type Victoria } from '../support/victoria.js';

const IMAGE = 'vigil:test';
const BASE = 'node:20-bookworm-slim';
const RUN = randomBytes(3).toString('hex');
const PASSWORD = 'correct horse battery staple';
/** Safety nets for a loaded 2-core machine, not bounds: an install runs npm ci and a build. */
const RUN_TIMEOUT = 5 * 60_000;
const INSTALL_TIMEOUT = 20 * 60_000;

let engine: DockerEngine | undefined;
const cleanup = new Cleanup();
const work = mkdtempSync(join(tmpdir(), 'vigil-docker-'));

beforeAll(async () => {
  engine = await ensureDocker();
  // The classic builder: it reads .dockerignore and needs no BuildKit frontend image, so it
  // builds offline. The host network because this engine runs without a bridge.
  await dockerOk(['build', '-f', 'deploy/Dockerfile', '-t', IMAGE, '--label', 'vigil-test=1', '--network', 'host', '.'], { timeoutMs: 30 * 60_000, env: { DOCKER_BUILDKIT: '0' }, cwd: ROOT });
  // The image this build replaced, so repeated runs do not fill the disk.
  await dockerOk(['image', 'prune', '-f', '--filter', 'label=vigil-test=1']);
}, 40 * 60_000);

afterAll(async () => {
  await cleanup.run();
  rmSync(work, { recursive: true, force: true });
  await engine?.stop();
}, 180_000);

interface Session {
  readonly cookie: string;
  readonly csrf: string;
}

async function signIn(base: string, username: string, password: string): Promise<Session> {
  const res = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  expect(res.status, `sign in as ${username}`).toBe(200);
  return { cookie: res.headers.get('set-cookie')!.split(';')[0]!, csrf: ((await res.json()) as { csrf: string }).csrf };
}

/** GET / without a session, following redirects: the sign-in page. */
async function expectSignInPage(base: string): Promise<void> {
  const res = await fetch(`${base}/`);
  expect(res.status).toBe(200);
  expect(new URL(res.url).pathname).toBe('/signin');
  expect(await res.text()).toContain('<title>Sign in · Vigil nurse station</title>');
}

async function healthz(base: string): Promise<{ ok: boolean; spool: { lastSeq: number } }> {
  return (await (await fetch(`${base}/healthz`)).json()) as { ok: boolean; spool: { lastSeq: number } };
}

describe('the image from deploy/Dockerfile', () => {
  it('starts on its baked config with no network at all, becomes healthy, and vigil check passes as its user', async () => {
    const name = cleanup.container(`vigil-baked-${RUN}`);
    await dockerOk(['run', '-d', '--name', name, '--network', 'none', '--health-interval', '1s', IMAGE]);
    await waitHealthy(name);
    const check = await docker(['exec', name, 'vigil', 'check']);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/^\/etc\/vigil\/vigil\.yaml: valid\n[\s\S]*users file \/var\/lib\/vigil\/users\.yaml\n {2}checked as user node \(uid 1000\)\n$/);
    await dockerOk(['rm', '-f', '-v', name]);
  }, RUN_TIMEOUT);

  it('runs the demo: nurse-station pages and built-in scenarios are in the image', async () => {
    const r = await docker(['run', '--rm', '--name', cleanup.container(`vigil-demo-${RUN}`), '--network', 'none', IMAGE, 'demo', '--duration', '5'], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Vigil demo: a simulated ward of 5 beds on this machine.');
    expect(r.stdout).toContain('Nurse station http://127.0.0.1:8080/');
    expect(r.stdout).toMatch(/\d+ observations stored/);
    expect(r.stdout).toContain('Vigil demo stopped: spool flushed and closed.');
  }, RUN_TIMEOUT);

  describe('run with a mounted config and a data volume', () => {
    let vm: Victoria | undefined;
    afterAll(async () => vm?.dispose());

    it('serves the sign-in page, stores what a device publishes, and is healthy with the data after SIGKILL and start', async () => {
      vm = await startVictoria();
      const [mqttPort, httpPort] = [await freePort(), await freePort()];
      const base = `http://127.0.0.1:${httpPort}`;
      const etc = join(work, 'etc');
      const cfg = (influx: boolean) => ({
        dataDir: '/var/lib/vigil',
        mqtt: { host: '127.0.0.1', port: mqttPort },
        http: { host: '127.0.0.1', port: httpPort },
        web: { usersFile: '/var/lib/vigil/users.yaml' },
        devices: [{ id: 'wb-07', secret: 'wb-07-secret-value', trustDeviceTime: true }],
        census: { wards: [{ id: 'ward-7', beds: ['1'] }], patients: [{ id: 'P-1001', ward: 'ward-7', bed: '1', devices: ['wb-07'] }] },
        ...(influx ? { influx: { url: vm!.url, flushIntervalMs: 100 } } : {}),
      });
      // A directory mount, so a changed file (written beside, renamed over) is seen at the next start.
      const writeConfig = (influx: boolean): void => {
        writeFileSync(join(work, 'vigil.yaml.new'), stringify(cfg(influx)), { mode: 0o644 });
        renameSync(join(work, 'vigil.yaml.new'), join(etc, 'vigil.yaml'));
      };
      mkdirSync(etc, { mode: 0o755 });
      chmodSync(work, 0o755);
      writeConfig(false);

      const name = cleanup.container(`vigil-ward-${RUN}`);
      const volume = cleanup.volume(`vigil-data-${RUN}`);
      await dockerOk(['run', '-d', '--name', name, '--network', 'host', '--health-interval', '1s', '-e', `VIGIL_HTTP_PORT=${httpPort}`, '-v', `${etc}:/etc/vigil:ro`, '-v', `${volume}:/var/lib/vigil`, IMAGE]);
      await waitHealthy(name);
      await expectSignInPage(base);

      // A nurse account made inside the container, as deploy/README.md shows.
      const add = await docker(['exec', '-i', name, 'vigil', 'user', 'add', 'sam.jones', '--role', 'nurse', '--name', 'Sam Jones', '--password-stdin'], { input: `${PASSWORD}\n` });
      expect(add.code, add.stderr).toBe(0);
      expect(add.stdout).toContain('Added sam.jones (nurse) to /var/lib/vigil/users.yaml.');
      const ward = await fetch(`${base}/ward`, { headers: { cookie: (await signIn(base, 'sam.jones', PASSWORD)).cookie } });
      expect(ward.status).toBe(200);
      expect(await ward.text()).toContain('<title>Ward · Vigil nurse station</title>');

      // The device publishes QoS 1: each PUBACK means the observation is fsynced in the volume.
      const t0 = Date.now() - 60_000;
      const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { username: 'wb-07', password: 'wb-07-secret-value', clientId: 'wb-07', reconnectPeriod: 0 });
      const hr = (k: number): number => 60 + k;
      for (let k = 0; k < 10; k++) await device.publishAsync('vigil/v1/dev/wb-07/obs', JSON.stringify({ ts: t0 + k * 1000, obs: { hr: hr(k), spo2: 97 } }), { qos: 1 });
      await device.endAsync();
      const before = (await healthz(base)).spool.lastSeq;
      expect(before).toBeGreaterThanOrEqual(10); // a record a message

      await dockerOk(['kill', '-s', 'KILL', name]);
      writeConfig(true); // InfluxDB from now on: what reaches it after the restart came from the volume
      await dockerOk(['start', name]);
      await waitHealthy(name);
      expect((await healthz(base)).spool.lastSeq).toBeGreaterThanOrEqual(before);
      const series = await vm.waitForCount('{__name__="vitals_hr",device="wb-07"}', 10, 60_000);
      const points = series.flatMap((s) => s.timestamps.map((ts, i) => [ts, s.values[i]]));
      expect(points.sort((a, b) => a[0]! - b[0]!)).toEqual(Array.from({ length: 10 }, (_, k) => [t0 + k * 1000, hr(k)]));
      expect(series[0]!.metric).toMatchObject({ patient: 'P-1001', ward: 'ward-7', bed: '1' });
      await signIn(base, 'sam.jones', PASSWORD); // the users file is in the volume too
      expect((await docker(['inspect', '-f', '{{.RestartCount}} {{.State.Status}}', name])).stdout.trim()).toBe('0 running');
    }, RUN_TIMEOUT);
  });
});

/** `Key=value` lines of a unit file's [Service] section, in order. */
function serviceDirectives(unit: string): Array<[string, string]> {
  const body = unit.slice(unit.indexOf('[Service]') + '[Service]'.length);
  const end = body.search(/^\[/m);
  return (end >= 0 ? body.slice(0, end) : body)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
}

/**
 * The shell command that starts the service the way systemd would from the unit and its
 * drop-ins (an empty `Key=` clears what came before, as systemd does for ExecStart): its user,
 * group and supplementary groups, working directory, umask, and only its environment.
 */
function commandOfUnit(files: readonly string[]): string {
  const d: Array<[string, string]> = [];
  for (const [key, value] of files.flatMap(serviceDirectives)) {
    if (value === '') for (let i = d.length - 1; i >= 0; i--) if (d[i]![0] === key) d.splice(i, 1);
    if (value !== '') d.push([key, value]);
  }
  const all = (key: string): string[] => d.filter(([k]) => k === key).map(([, v]) => v);
  const one = (key: string): string => {
    const v = all(key);
    if (v.length !== 1) throw new Error(`unit: expected one ${key}=, found ${v.length}`);
    return v[0]!;
  };
  const groups = all('SupplementaryGroups').flatMap((v) => v.split(/\s+/));
  const setpriv = `setpriv --reuid=${one('User')} --regid=${one('Group')} ${groups.length > 0 ? `--groups=${groups.join(',')}` : '--clear-groups'}`;
  return `cd ${one('WorkingDirectory')} && umask ${one('UMask')} && exec ${setpriv} env -i PATH=/usr/bin:/bin ${all('Environment').join(' ')} ${one('ExecStart')}`;
}

describe('installed by deploy/install.sh and run as its unit runs it', () => {
  it('installs into a bare Debian container; the service runs as user vigil, with nurse accounts made by vigil user add', async () => {
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    const base = `http://127.0.0.1:${httpPort}`;
    const box = cleanup.container(`vigil-box-${RUN}`);
    const exec = (cmd: string, input?: string) => docker(['exec', ...(input !== undefined ? ['-i'] : []), box, 'sh', '-c', cmd], { input: input ?? '', timeoutMs: 20 * 60_000 });
    const execOk = async (cmd: string, input?: string): Promise<string> => {
      const r = await exec(cmd, input);
      if (r.code !== 0) throw new Error(`${cmd}: exit ${r.code}\n${r.stdout}${r.stderr}`);
      return r.stdout;
    };
    // The base image: Debian with Node 20 and npm, no systemd, nothing of Vigil's.
    await dockerOk(['run', '-d', '--name', box, '--network', 'host', '-v', `${ROOT}:/src:ro`, BASE, 'sleep', 'infinity']);

    const install = await exec(`/src/deploy/install.sh --mqtt-host 127.0.0.1 --mqtt-port ${mqttPort} --http-port ${httpPort}`);
    expect(install.code, install.stderr.slice(-3000)).toBe(0);
    expect(install.stderr).toContain('/etc/vigil/vigil.yaml: valid');
    expect(install.stderr).toMatch(/checked as user vigil \(uid \d+\)\n/);
    expect(install.stderr).toContain('systemd is not running here');
    const uid = (await execOk('id -u vigil')).trim();
    expect(Number(uid)).toBeGreaterThan(0);
    expect(await execOk('stat -c "%n %U:%G %a" /etc/vigil /etc/vigil/vigil.yaml /var/lib/vigil /opt/vigil /usr/local/bin/vigil /etc/systemd/system/vigil.service')).toBe(
      ['/etc/vigil root:vigil 750', '/etc/vigil/vigil.yaml root:vigil 640', '/var/lib/vigil vigil:vigil 750', '/opt/vigil root:root 755', '/usr/local/bin/vigil root:root 755', '/etc/systemd/system/vigil.service root:root 644', ''].join('\n'),
    );

    // As deploy/README.md says: root adds a nurse with the installed command.
    const add = await exec('vigil user add sam.jones --role nurse --name "Sam Jones" --password-stdin', `${PASSWORD}\n`);
    expect(add.stderr).toBe('');
    expect(add.stdout).toBe('Added sam.jones (nurse) to /etc/vigil/users.yaml.\n');
    expect(await execOk('stat -c "%U:%G %a" /etc/vigil/users.yaml')).toBe('root:vigil 640\n');
    expect(await execOk('setpriv --reuid=vigil --regid=vigil --init-groups vigil check')).toMatch(/users file \/etc\/vigil\/users\.yaml\n {2}checked as user vigil/);

    // The unit as installed, with the drop-in install.sh writes when node is not /usr/bin/node.
    const unitFiles = await Promise.all(['/etc/systemd/system/vigil.service', ...(await execOk('ls /etc/systemd/system/vigil.service.d/*.conf 2>/dev/null || true')).split('\n').filter(Boolean)].map((f) => execOk(`cat ${f}`)));
    await dockerOk(['exec', '-d', box, 'sh', '-c', `echo $$ >/run/vigil.pid; ${commandOfUnit(unitFiles)} >/run/vigil.log 2>&1`]);
    try {
      await expect
        .poll(async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.status ?? (await exec('cat /run/vigil.log')).stdout.slice(-2000), { timeout: 60_000, interval: 250 })
        .toBe(200);
      const pid = (await execOk('cat /run/vigil.pid')).trim();
      expect(await execOk(`grep -E "^(Uid|Gid):" /proc/${pid}/status | awk '{ print $2 }'`)).toBe(`${uid}\n${(await execOk('id -g vigil')).trim()}\n`);
      await expectSignInPage(base);
      const ward = await fetch(`${base}/ward`, { headers: { cookie: (await signIn(base, 'sam.jones', PASSWORD)).cookie } });
      expect(ward.status).toBe(200);

      // Another account while it runs: the service re-reads the file it can still read.
      expect((await exec('vigil user add alex.lee --role charge --password-stdin', `${PASSWORD}\n`)).code).toBe(0);
      await signIn(base, 'alex.lee', PASSWORD);
      expect(await execOk('stat -c "%U:%G %a" /etc/vigil/users.yaml')).toBe('root:vigil 640\n');
      expect(await execOk('find /var/lib/vigil ! -user vigil')).toBe('');

      // A users file the service cannot read is what check names, before any restart.
      await execOk('chmod 0600 /etc/vigil/users.yaml');
      const check = await exec('setpriv --reuid=vigil --regid=vigil --init-groups vigil check');
      expect(check.code).toBe(78);
      expect(check.stderr).toContain(`web.usersFile: /etc/vigil/users.yaml: cannot read users file (permission denied for user vigil (uid ${uid}))`);
      await execOk('chmod 0640 /etc/vigil/users.yaml');
    } finally {
      await exec('kill -TERM "$(cat /run/vigil.pid)"');
    }
    await expect.poll(async () => (await exec('test -d "/proc/$(cat /run/vigil.pid)"')).code, { timeout: 60_000, interval: 250 }).not.toBe(0);
    expect(await execOk('cat /run/vigil.log')).toContain('"msg":"stopped cleanly"');
  }, INSTALL_TIMEOUT);
});
