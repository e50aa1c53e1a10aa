/**
 * README.md as a newcomer follows it: in a fresh copy of the repository (the files git would
 * give a clone, with this tree's changes), run the setup block under "The `vigil` command",
 * then every `vigil …` line the README holds, as written, found afresh on each run (so lines
 * added later are covered too):
 *
 * - a line in a code block, or an inline one that reads as a whole command (it has a flag, or
 *   an argument after `vigil SUBCOMMAND VERB`), runs with bash in the copy. Those
 *   that talk to `127.0.0.1:1883` / `127.0.0.1:8080` run against `vigil demo`, as the README
 *   says. Commands that serve until Ctrl-C (LONG_RUNNING) run until their first line of output,
 *   then get SIGINT. Each must exit 0 and print no `vigil …:` error;
 * - a line with placeholders (FILE, <profile>, …), a command named in prose (`vigil sim`,
 *   `vigil device add`), or a command too heavy for the suite (TOO_HEAVY) is checked against its
 *   help: the command exists and knows every flag the line uses;
 * - "Connecting a device" is followed end to end: device add, the config it shows, start,
 *   mosquitto_pub, curl.
 *
 * What the test changes, and only this: the demo's and the gateway's ports are free ones (the
 * lines' `127.0.0.1:1883` and `127.0.0.1:8080` are rewritten to them, and the servers get the
 * documented VIGIL_MQTT_PORT / VIGIL_HTTP_PORT), paths under /etc/vigil and /var/lib/vigil lie
 * in a temp dir, and `npm link` links into a temp prefix instead of the machine's.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/victoria.js';
import { until } from '../support/wait.js';

const ROOT = resolve(import.meta.dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
/** Commands that serve until Ctrl-C. */
const LONG_RUNNING = new Set(['demo', 'start', 'sim']);
/** Commands checked against their help only, and why. */
const TOO_HEAVY = new Map([['bench', 'drives a gateway and VictoriaMetrics with thousands of simulated devices for minutes (npm run bench)']]);
/** Lines that need the config "Connecting a device" writes: run by that test. */
const CONNECT_FLOW = new Set(['vigil start -c ward.yaml']);
const PLACEHOLDER = /…|<[^>]+>|\b[A-Z][A-Z0-9_]+\b/;
const SETUP_HEADING = '## The `vigil` command';

interface Fence {
  readonly info: string;
  /** Indentation of the fence (a block inside a list item), taken off each line. */
  readonly indent: number;
  readonly lines: string[];
}

/** Code blocks of a markdown text (list-indented ones too), and the text outside them. */
function splitMarkdown(md: string): { fences: Fence[]; prose: string } {
  const fences: Fence[] = [];
  const prose: string[] = [];
  let open: Fence | undefined;
  for (const line of md.split('\n')) {
    const fence = /^(\s*)```\s*(\w*)/.exec(line);
    if (fence && !open) open = { info: fence[2] ?? '', indent: fence[1]!.length, lines: [] };
    else if (fence && open) {
      fences.push(open);
      open = undefined;
    } else if (open) open.lines.push(line.slice(Math.min(open.indent, line.length - line.trimStart().length)).trimEnd());
    else prose.push(line);
  }
  return { fences, prose: prose.join('\n') };
}

/** Shell lines of a block, backslash continuations joined. */
function shellLines(f: Fence): string[] {
  return f.lines.join('\n').replace(/\\\n\s*/g, '').split('\n').filter((l) => l !== '');
}

interface ReadmeLine {
  readonly text: string;
  readonly inline: boolean;
}

/** Every `vigil …` line: code-block lines that start with `vigil`, and inline code that does. */
function vigilLines(md: string): ReadmeLine[] {
  const { fences, prose } = splitMarkdown(md);
  const block = fences.filter((f) => !['yaml', 'yml', 'json'].includes(f.info)).flatMap(shellLines).filter((l) => /^vigil(\s|$)/.test(l));
  const inline = [...prose.matchAll(/`(vigil(?:\s[^`]*)?)`/g)].map((m) => m[1]!);
  const seen = new Set<string>();
  return [...block.map((text) => ({ text, inline: false })), ...inline.map((text) => ({ text, inline: true }))].filter((l) => !seen.has(l.text) && seen.add(l.text));
}

const words = (line: string): string[] => line.replace(/\s#.*$/, '').trim().split(/\s+/);
const subcommand = (line: string): string | undefined => (/^[a-z]/.test(words(line)[1] ?? '') ? words(line)[1] : undefined);

/** How a README line is checked. */
function howToCheck(l: ReadmeLine): 'run' | 'help' | 'flow' {
  if (CONNECT_FLOW.has(l.text)) return 'flow';
  const sub = subcommand(l.text);
  if (PLACEHOLDER.test(l.text.replace(/\s#.*$/, '')) || (sub !== undefined && TOO_HEAVY.has(sub))) return 'help';
  if (l.inline && words(l.text).length < 4 && !words(l.text).some((w) => w.startsWith('-'))) return 'help'; // a command named in prose
  return 'run';
}

// The fresh copy, its setup, and the processes the lines start.
const work = mkdtempSync(join(tmpdir(), 'vigil-readme-'));
const clone = join(work, 'vigil');
const prefix = join(work, 'npm-global');
const sandbox = join(work, 'root');
let env: NodeJS.ProcessEnv = {};
const ports = { mqtt: 0, http: 0 };
const started: ChildProcess[] = [];

interface Ran {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Rewrites only what the test must: the demo's ports and the system paths. */
function asRun(line: string): string {
  return line
    .replaceAll('127.0.0.1:1883', `127.0.0.1:${ports.mqtt}`)
    .replaceAll('127.0.0.1:8080', `127.0.0.1:${ports.http}`)
    .replaceAll('/etc/vigil', join(sandbox, 'etc/vigil'))
    .replaceAll('/var/lib/vigil', join(sandbox, 'var/lib/vigil'));
}

/**
 * Runs a line with bash in the copy. `until` set: it serves until Ctrl-C; once its output
 * matches, it gets SIGINT. Without: it must end by itself.
 */
async function bash(line: string, opts: { until?: RegExp; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Ran> {
  const child = spawn('bash', ['-c', line], { cwd: clone, env: { ...env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  started.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let ended = false;
  void exited.then(() => (ended = true));
  const pattern = opts.until;
  if (pattern) {
    await until(() => ended || pattern.test(stdout), `"${line}" to print ${pattern}`, opts.timeoutMs ?? 120_000, 50).catch((err: Error) => {
      throw new Error(`${err.message}\nstdout: ${stdout}\nstderr: ${stderr}`);
    });
    if (!ended) process.kill(-child.pid!, 'SIGINT');
  }
  await Promise.race([exited, new Promise((_, fail) => setTimeout(() => fail(new Error(`"${line}" did not end\nstdout: ${stdout}\nstderr: ${stderr}`)), opts.timeoutMs ?? 120_000).unref())]);
  return { code: child.exitCode, signal: child.signalCode, stdout, stderr };
}

/** The lines a command prints as errors (`vigil sim: …`), as opposed to its JSON log. */
const errorLines = (stderr: string): string[] => stderr.split('\n').filter((l) => /^vigil\b/.test(l));

let demo: Promise<{ stop(): Promise<Ran> }> | undefined;
/** `vigil demo`, as the README runs it, on free ports; started once, for the lines that need it. */
function demoRunning(): Promise<{ stop(): Promise<Ran> }> {
  demo ??= (async () => {
    const child = spawn('bash', ['-c', 'vigil demo'], { cwd: clone, env: { ...env, VIGIL_MQTT_PORT: String(ports.mqtt), VIGIL_HTTP_PORT: String(ports.http), VIGIL_DATA_DIR: join(work, 'demo-data') }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    started.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await until(() => /Time {10}scenarios run/.test(stdout) || child.exitCode !== null, 'the demo banner', 120_000, 50);
    if (child.exitCode !== null) throw new Error(`vigil demo exited ${child.exitCode}: ${stderr}`);
    return {
      async stop() {
        process.kill(-child.pid!, 'SIGINT');
        await new Promise((r) => child.once('exit', r));
        return { code: child.exitCode, signal: child.signalCode, stdout, stderr };
      },
    };
  })();
  return demo;
}

const lines = vigilLines(README);

beforeAll(async () => {
  // The files a clone would have: tracked and untracked-but-not-ignored, as in this tree.
  mkdirSync(clone);
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--deduplicate'], { cwd: ROOT }).toString('utf8').split('\0').filter(Boolean);
  execFileSync('tar', ['--null', '--ignore-failed-read', '-T', '-', '-cf', join(work, 'tree.tar')], { cwd: ROOT, input: files.join('\0') });
  execFileSync('tar', ['-xf', join(work, 'tree.tar')], { cwd: clone });
  ports.mqtt = await freePort();
  ports.http = await freePort();
  env = { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH}`, npm_config_prefix: prefix, npm_config_audit: 'false', npm_config_fund: 'false' };
  const setupBlock = splitMarkdown(README.slice(README.indexOf(SETUP_HEADING))).fences[0];
  if (!README.includes(SETUP_HEADING) || !setupBlock) throw new Error(`README.md has no setup block under "${SETUP_HEADING}"`);
  for (const step of shellLines(setupBlock).filter((l) => !/^vigil(\s|$)/.test(l))) {
    const r = await bash(step, { timeoutMs: 15 * 60_000 });
    if (r.code !== 0) throw new Error(`README setup "${step}" exited ${r.code}:\n${r.stderr.slice(-3000)}`);
  }
}, 20 * 60_000);

afterAll(async () => {
  if (demo) await (await demo.catch(() => undefined))?.stop();
  // Each command ran in a process group of its own: what it left behind (a simulator's socat,
  // should the command itself have died) goes with the group.
  for (const c of started) {
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  }
  rmSync(work, { recursive: true, force: true });
}, 120_000);

describe('README.md, followed in a fresh copy', () => {
  it('finds the lines it runs (every code-block and inline `vigil …` line)', () => {
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.map((l) => l.text)).toEqual(expect.arrayContaining(['vigil --help', 'vigil device add wb-07']));
    expect(lines.filter((l) => howToCheck(l) === 'run').length).toBeGreaterThan(3);
  });

  it('puts `vigil` on the PATH with its setup block alone', () => {
    expect(execFileSync('bash', ['-c', 'command -v vigil'], { env }).toString().trim()).toBe(join(prefix, 'bin', 'vigil'));
  });

  it.each(lines.map((l) => [l.text, l] as const))('%s', async (_text, l) => {
    const how = howToCheck(l);
    if (how === 'flow') {
      expect(README).toContain(l.text); // run by "Connecting a device" below
      return;
    }
    const sub = subcommand(l.text);
    if (how === 'help') {
      const help = await bash(`vigil ${sub ?? ''} --help`);
      expect(help.code, help.stderr).toBe(0);
      const flags = words(l.text).filter((w) => /^--?[a-z]/.test(w)).map((w) => w.split('=')[0]!);
      for (const flag of flags) expect(help.stdout, `vigil ${sub} --help lists ${flag}`).toContain(flag);
      return;
    }
    const line = asRun(l.text);
    if (line !== l.text && /127\.0\.0\.1:(1883|8080)/.test(l.text)) await demoRunning();
    const long = sub !== undefined && LONG_RUNNING.has(sub) && !/--duration\b/.test(l.text);
    const r = await bash(line, long ? { until: /\S\n/ } : {});
    expect({ code: r.code, signal: r.signal }, `${line}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toEqual({ code: 0, signal: null });
    expect(errorLines(r.stderr)).toEqual([]);
    if (/--mqtt mqtt:\/\/127\.0\.0\.1:1883 --wearables 20/.test(l.text)) expect(r.stdout).toContain('mqtt: 20 devices, 20 connected'); // the demo took them
  }, 180_000);

  it('Connecting a device: device add, the config shown, start, mosquitto_pub, curl', async () => {
    const section = README.slice(README.indexOf('## Connecting a device'), README.indexOf('\n## ', README.indexOf('## Connecting a device') + 5));
    const { fences } = splitMarkdown(section);
    const [yaml, publish, assign] = [fences.find((f) => f.info === 'yaml'), fences.find((f) => f.lines.join(' ').includes('mosquitto_pub')), fences.find((f) => f.lines.join(' ').includes('curl'))];
    expect(section).toContain('`vigil device add wb-07`');
    expect(section).toContain('`vigil start -c ward.yaml`');
    if (!yaml || !publish || !assign) throw new Error('README "Connecting a device" lost its config, mosquitto_pub or curl block');

    const added = await bash('vigil device add wb-07');
    expect(added.code).toBe(0);
    const secret = /Secret \(shown once, give it to the device\): (\S+)/.exec(added.stdout)?.[1];
    const hash = /secretHash: "([^"]+)"/.exec(added.stdout)?.[1];
    if (!secret || !hash) throw new Error(`vigil device add printed no secret and hash: ${added.stdout}`);
    // The config as shown, with the hash pasted where it says.
    const config = yaml.lines.join('\n').replace(/secretHash: "[^"]*"/, () => `secretHash: "${hash}"`);
    expect(config).toContain(hash);
    writeFileSync(join(clone, 'ward.yaml'), config);

    const gwPorts = { mqtt: await freePort(), http: await freePort() };
    const gateway = spawn('bash', ['-c', 'vigil start -c ward.yaml'], { cwd: clone, env: { ...env, VIGIL_MQTT_PORT: String(gwPorts.mqtt), VIGIL_HTTP_PORT: String(gwPorts.http) }, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    started.push(gateway);
    let log = '';
    gateway.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const base = `http://127.0.0.1:${gwPorts.http}`;
    try {
      for (;;) {
        if (gateway.exitCode !== null) throw new Error(`vigil start -c ward.yaml exited ${gateway.exitCode}:\n${log.slice(-2000)}`);
        if ((await fetch(`${base}/healthz`).catch(() => undefined))?.status === 200) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const pub = await bash(shellLines(publish).join('\n').replace('-h GATEWAY', `-h 127.0.0.1 -p ${gwPorts.mqtt}`).replace('-P SECRET', () => `-P '${secret}'`));
      expect(pub.code, pub.stderr).toBe(0);
      const curl = await bash(shellLines(assign).join('\n').replaceAll('127.0.0.1:8080', `127.0.0.1:${gwPorts.http}`));
      expect(curl.code, curl.stderr).toBe(0);
      const token = /export VIGIL_API_TOKEN=(\S+)/.exec(assign.lines.join('\n'))?.[1];
      const census = (await (await fetch(`${base}/api/census`, { headers: { authorization: `Bearer ${token}` } })).json()) as { patients: Array<{ id: string; devices: string[] }> };
      expect(census.patients.find((p) => p.id === 'P-1001')?.devices).toEqual(['wb-07']);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(Number(/^vigil_observations_total\{transport="mqtt"\} (\d+)/m.exec(metrics)?.[1])).toBe(5); // hr, spo2, rr, temp and battery: stored
    } finally {
      if (gateway.exitCode === null) {
        process.kill(-gateway.pid!, 'SIGINT');
        await new Promise((r) => gateway.once('exit', r));
      }
    }
    expect(gateway.exitCode, log.slice(-2000)).toBe(0);
  }, 180_000);

  it('the demo that the lines ran against stops cleanly on Ctrl-C', async () => {
    const d = await demoRunning();
    const r = await d.stop();
    demo = undefined;
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.stdout).toContain('Vigil demo stopped: spool flushed and closed.');
    expect(errorLines(r.stderr)).toEqual([]);
  }, 120_000);
});
