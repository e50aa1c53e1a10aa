/**
 * The systemd unit: `systemd-analyze verify` accepts it, its sandbox scores well in
 * `systemd-analyze security --offline`, and it carries the settings the deployment relies on.
 *
 * How verify is made meaningful here: verify fails when ExecStart's binary does not exist, so
 * the check runs on a copy whose `/usr/bin/node` is replaced by the node running this test
 * (the install script writes a drop-in with the same substitution on boxes where node lives
 * elsewhere). The `vigil` user need not exist: systemd 252 resolves User= only at start. Verify
 * exits 0 even for unknown keys and unparsable values (it only warns), so the test fails on any
 * line of its output that names the unit, and a negative control proves such lines appear for a
 * broken copy.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const UNIT = readFileSync(join(ROOT, 'deploy/vigil.service'), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'vigil-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function analyzeBinary(): string {
  const found = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error('systemd-analyze not found: install the Debian package "systemd" (apt-get install -y systemd); test/setup/ensure-services.sh should do it');
  return found;
}

/** Writes `text` as `<work>/<dir>/vigil.service` and runs `systemd-analyze ...args <file>`. */
function analyze(text: string, dir: string, args: string[]): { code: number; output: string } {
  const d = join(work, dir);
  execFileSync('mkdir', ['-p', d]);
  const file = join(d, 'vigil.service');
  writeFileSync(file, text);
  const r = spawnSync(analyzeBinary(), [...args, file], { encoding: 'utf8', env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' } });
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

const withThisNode = (text: string): string => text.replaceAll('/usr/bin/node', process.execPath);
const unitLines = (output: string): string[] => output.split('\n').filter((l) => l.includes('vigil.service'));

/** `Key=value` pairs of the [Service] section, in order (repeated keys kept). */
function directives(section: string): Array<[string, string]> {
  const start = UNIT.indexOf(`[${section}]`);
  const rest = UNIT.slice(start + section.length + 2);
  const end = rest.search(/^\[/m);
  return (end >= 0 ? rest.slice(0, end) : rest)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]);
}
const service = directives('Service');
const values = (key: string): string[] => service.filter(([k]) => k === key).map(([, v]) => v);

describe('deploy/vigil.service', () => {
  it('passes systemd-analyze verify with no complaint about the unit', () => {
    const r = analyze(withThisNode(UNIT), 'ok', ['verify']);
    expect(unitLines(r.output), r.output).toEqual([]);
    expect(r.code, r.output).toBe(0);
  });

  it('negative control: verify reports an unknown key and a bad value in a broken copy', () => {
    const broken = withThisNode(UNIT).replace('ProtectSystem=strict', 'ProtectSystem=strictly').replace('PrivateTmp=yes', 'PrivateTmp=yes\nProtectEverything=yes');
    const lines = unitLines(analyze(broken, 'broken', ['verify']).output).join('\n');
    expect(lines).toMatch(/ProtectEverything/);
    expect(lines).toMatch(/strictly/);
  });

  it('negative control: verify fails when the ExecStart binary does not exist', () => {
    const r = analyze(UNIT.replaceAll('/usr/bin/node', '/nonexistent/node'), 'missing', ['verify']);
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/nonexistent\/node/);
  });

  it('sandbox exposure from systemd-analyze security --offline is at most 2.0 ("OK")', () => {
    const r = analyze(withThisNode(UNIT), 'security', ['security', '--offline=yes']);
    const score = Number(/Overall exposure level for vigil\.service: ([\d.]+)/.exec(r.output)?.[1]);
    expect(score, r.output).toBeLessThanOrEqual(2.0);
  });

  it('runs the built CLI as the vigil user with the config from /etc/vigil', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: { vigil: string } };
    expect(values('ExecStart')).toEqual([`/usr/bin/node /opt/vigil/${pkg.bin.vigil} start`]);
    expect(values('User')).toEqual(['vigil']);
    expect(values('Group')).toEqual(['vigil']);
    expect(values('SupplementaryGroups')).toEqual(['dialout']);
    expect(values('Environment')).toContain('VIGIL_CONFIG=/etc/vigil/vigil.yaml');
    expect(values('Restart')).toEqual(['on-failure']);
    expect(values('RestartPreventExitStatus')).toEqual(['78']);
  });

  it('is sandboxed: read-only system, one writable path, no new privileges, no home, private /tmp', () => {
    expect(values('ProtectSystem')).toEqual(['strict']);
    expect(values('ReadWritePaths')).toEqual(['/var/lib/vigil']);
    expect(values('NoNewPrivileges')).toEqual(['yes']);
    expect(values('ProtectHome')).toEqual(['yes']);
    expect(values('PrivateTmp')).toEqual(['yes']);
    expect(values('CapabilityBoundingSet')).toEqual(['']);
    // Settings that would break Node or the serial ports, or need sd_notify, stay out.
    for (const key of ['MemoryDenyWriteExecute', 'PrivateDevices', 'WatchdogSec', 'ReadOnlyPaths']) expect(values(key), key).toEqual([]);
    expect(values('Type')).toEqual(['simple']);
  });

  it('is wanted by multi-user.target', () => {
    expect(directives('Install')).toContainEqual(['WantedBy', 'multi-user.target']);
  });
});
