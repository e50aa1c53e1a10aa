import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadReplayConfig, replayCommand } from '../../../src/cli/replay.js';
import { ConfigError } from '../../../src/core/errors.js';
import { defaultDetectorConfig } from '../../../src/detectors/config.js';
import { runReplay } from '../../../src/replay/run.js';
import { ReplayLineError, parseLine } from '../../../src/replay/reader.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/replay/${name}`, import.meta.url));
const linesOf = (name: string): string[] => readFileSync(fixture(name), 'utf8').split('\n').slice(0, -1);

function sink() {
  let text = '';
  return { write: (c: string) => ((text += c), true), get text() { return text; } };
}

describe('vigil replay', () => {
  it('replays the ward recording with its config to exactly the expected events', async () => {
    const out = sink();
    const err = sink();
    const config = await loadReplayConfig(fixture('ward.yaml'));
    const r = await runReplay(linesOf('ward.jsonl'), { config, source: 'ward.jsonl' }, { out, err });
    expect(out.text).toBe(readFileSync(fixture('ward.expected.jsonl'), 'utf8'));
    expect(err.text).toBe(
      'ward.jsonl: line 14: value: expected a number, got "high" (skipped)\n' +
        'ward.jsonl: line 15: not valid JSON (skipped)\n' +
        'replay: 2 bad lines skipped\n',
    );
    expect(r).toEqual({ lines: 23, badLines: 2, outputs: 12 });
  });

  it('the expected events say what the recording shows', () => {
    const events = linesOf('ward.expected.jsonl').map((l) => JSON.parse(l) as Record<string, unknown>);
    const steps = events.map((e) => [String(e.ts).slice(11, 19), e.patient, e.type === 'alarm' ? `${String(e.id)} ${String(e.state)}` : `news2 ${String(e.score)} ${String(e.band)}`]);
    expect(steps).toEqual([
      ['08:00:00', 'P1', 'news2 0 none'], // incomplete: only RR so far
      ['08:00:00', 'P1', 'news2 0 none'], // complete
      ['08:00:05', 'P1', 'news2 3 low-medium'], // SpO2 84 → 3; gone by 08:00:25, before the 60 s band delay
      ['08:00:20', 'P1', 'P1:limit:spo2:lowHigh:1 raised'], // 15 s below 85 (covers "below 90" too)
      ['08:00:25', 'P1', 'news2 1 low'],
      ['08:00:35', 'P1', 'P1:limit:spo2:lowHigh:1 cleared'], // recovered 10 s; high priority latches
      ['08:00:35', 'P1', 'news2 0 none'],
      ['08:00:40', 'P2', 'news2 0 none'], // scale 2: SpO2 90 → 0
      ['08:00:50', 'P1', 'P1:limit:spo2:lowHigh:1 acknowledged'],
      ['08:00:50', 'P1', 'P1:limit:spo2:lowHigh:1 resolved'],
      ['08:00:51', 'P2', 'P2:technical:ox2:sensor_off:1 raised'], // off since 08:00:41, 10 s delay
      ['08:01:02', 'P2', 'P2:technical:ox2:sensor_off:1 resolved'], // sensor_ok at 08:00:52 + hold
    ]);
  });

  it('reports every bad line with its line number, skips it, and goes on', async () => {
    const out = sink();
    const err = sink();
    const r = await runReplay(linesOf('bad.jsonl'), { config: defaultDetectorConfig(), source: 'bad.jsonl' }, { out, err });
    const reported = [...err.text.matchAll(/^bad\.jsonl: line (\d+): /gm)].map((m) => Number(m[1]));
    expect(reported).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(err.text).toContain('line 3: unknown metric "heart"');
    expect(err.text).toContain('line 4: spo2: 140 outside plausible range 0..100 %');
    expect(err.text).toContain('line 5: acvpu: expected one of A, C, V, P, U, got "X"');
    expect(err.text).toMatch(/replay: 9 bad lines skipped\n$/);
    expect(r.badLines).toBe(9);
    // lines 1 and 11 were replayed: one NEWS2 event (SpO2 97; RR 14 leaves it at 0, incomplete)
    expect(out.text.trim().split('\n').map((l) => JSON.parse(l) as { type: string; parts: object })).toEqual([
      expect.objectContaining({ type: 'news2', score: 0, complete: false, parts: { spo2: { value: 97, points: 0 } } }),
    ]);
  });

  it('warns about a line older than the one above and handles it at the clock\'s time', async () => {
    const out = sink();
    const err = sink();
    const lines = [
      '{"ts":"2026-03-02T08:00:10Z","patient":"P1","metric":"sbp","value":120}',
      '{"ts":"2026-03-02T08:00:07.5Z","patient":"P1","metric":"sbp","value":85}',
    ];
    await runReplay(lines, { config: defaultDetectorConfig() }, { out, err });
    expect(err.text).toBe("line 2: ts is 2.5 s before the line above; handled at that line's time\n");
    const alarm = out.text.split('\n').map((l) => (l ? (JSON.parse(l) as { type: string; ts: string }) : null)).find((o) => o?.type === 'alarm');
    expect(alarm?.ts).toBe('2026-03-02T08:00:10.000Z');
  });

  it('--summary prints alarms per patient-day by kind and priority, and time in alarm', async () => {
    const out = sink();
    const config = await loadReplayConfig(fixture('ward.yaml'));
    await runReplay(linesOf('ward.jsonl'), { config, summary: true }, { out, err: sink() });
    const rows = out.text.split('\n').map((l) => l.split(/\s{2,}/));
    // P1 observed 70 s with one high-priority limit alarm: 86400/70 per patient-day
    expect(rows).toContainEqual(['P1', 'limit', 'high', '1', (86400 / 70).toFixed(1)]);
    expect(rows.filter((r) => r[0] === 'P1' && r[1] === 'limit')).toHaveLength(1);
    expect(rows).toContainEqual(['P2', 'technical', 'medium', '1', (86400 / 62).toFixed(1)]);
    // P1 in alarm 08:00:20–08:00:50, P2 08:00:51–08:01:02 (sensor off from 08:00:41, 10 s delay)
    expect(rows).toContainEqual(['P1', '0:01:10', '0:00:30', '42.9%']);
    expect(rows).toContainEqual(['P2', '0:01:02', '0:00:11', '17.7%']);
    expect(out.text).not.toContain('"type"');
  });

  it('--config reads only the detectors section', async () => {
    const c = await loadReplayConfig(fixture('ward.yaml'));
    expect(c.news2.smoothingSeconds).toBe(0);
    expect(c.technical.signalLossSeconds).toBe(600);
    expect(c.limits.spo2.low).toBe(90); // untouched defaults stay
  });

  it('draws a progress bar against the input size when asked', async () => {
    const err = sink();
    const lines = linesOf('ward.jsonl');
    const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    await runReplay(lines, { config: defaultDetectorConfig(), progressBytes: bytes }, { out: sink(), err });
    expect(err.text).toContain('\rreplay [####################] 100%');
  });
});

describe('replay line parser', () => {
  it('takes ISO 8601 or epoch ms, and ACVPU letters', () => {
    const a = parseLine('{"ts":"2026-03-02T08:00:02Z","patient":"P1","metric":"acvpu","value":"V","device":"n"}', 1);
    const b = parseLine('{"ts":1772438402000,"patient":"P1","metric":"acvpu","value":2,"device":"n"}', 2);
    expect(a).toEqual(b);
    expect(a).toEqual({ type: 'obs', obs: { ts: 1772438402000, deviceId: 'n', metric: 'acvpu', value: 2, unit: '{score}', quality: 'good', patientId: 'P1' } });
  });

  it('parses settings, technical events and acknowledgements', () => {
    expect(parseLine('{"ts":0,"patient":"P2","settings":{"spo2Scale":2,"limits":{"spo2":{"low":88}}}}', 1)).toEqual({
      type: 'settings',
      event: { ts: 0, patientId: 'P2', settings: { spo2Scale: 2, limits: { spo2: { low: 88 } } } },
    });
    expect(parseLine('{"ts":0,"patient":"P1","device":"ox1","event":"sensor_off"}', 1)).toEqual({
      type: 'tech',
      event: { ts: 0, deviceId: 'ox1', kind: 'sensor_off', patientId: 'P1' },
    });
    expect(parseLine('{"ts":5,"ack":"P1:limit:spo2:low:1","by":"kim"}', 1)).toEqual({ type: 'ack', alarmId: 'P1:limit:spo2:low:1', by: 'kim', ts: 5 });
    expect(parseLine('   ', 9)).toBeNull();
  });

  it('names the line in its error', () => {
    expect(() => parseLine('{"ts":0,"metric":"spo2"}', 42)).toThrow(ReplayLineError);
    expect(() => parseLine('{"ts":0,"metric":"spo2"}', 42)).toThrow(/^line 42: value: /);
  });

  it('parses a reading: one device message\'s values, its qualities beside them', () => {
    const plain = '{"ts":"2026-03-02T08:00:02Z","patient":"P1","ward":"W3","bed":"2","values":{"hr":72,"spo2":91},"device":"mon1","quality":{"spo2":"poor"},"rt":"2026-03-02T08:00:02.004Z"}';
    const at = { ts: 1772438402000, rt: 1772438402004, deviceId: 'mon1', patientId: 'P1', ward: 'W3', bed: '2' };
    const expected = { type: 'reading', obs: [{ ...at, metric: 'hr', value: 72, unit: '/min', quality: 'good' }, { ...at, metric: 'spo2', value: 91, unit: '%', quality: 'poor' }] };
    expect(parseLine(plain, 1)).toEqual(expected);
    // read by hand or by the schema (an ACVPU letter takes that path), the same
    const viaSchema = parseLine(plain.replace('"spo2":91}', '"spo2":91,"acvpu":"A"}'), 1);
    expect(viaSchema).toEqual({ ...expected, obs: [...expected.obs, { ...at, metric: 'acvpu', value: 0, unit: '{score}', quality: 'good' }] });
  });

  it('names what is wrong with a reading', () => {
    const bad = (values: string, extra = ''): (() => unknown) => () => parseLine(`{"ts":0,"patient":"P1","values":${values}${extra}}`, 7);
    expect(bad('{}')).toThrow(/^line 7: values: a reading holds at least one value$/);
    expect(bad('{"hr":72,"pulse":70}')).toThrow(/^line 7: values: unknown metric "pulse"$/);
    expect(bad('{"hr":720}')).toThrow(/^line 7: values\.hr: /);
    expect(bad('{"hr":"fast"}')).toThrow(/^line 7: value: expected a number, got "fast"$/);
    expect(bad('{"hr":72}', ',"quality":{"spo2":"poor"}')).toThrow(/^line 7: quality\.spo2: no such value in the reading$/);
    expect(bad('{"hr":72}', ',"quality":{"toString":"poor"}')).toThrow(/^line 7: quality\.toString: no such value in the reading$/);
    expect(bad('{"hr":72}', ',"quality":{"hr":"bad"}')).toThrow(/^line 7: quality\.hr: /);
    expect(bad('{"hr":72}', ',"metric":"hr"')).toThrow(/^line 7: /);
  });

  it('refuses an impossible date instead of rolling it over', () => {
    expect(() => parseLine('{"ts":"2026-02-30T10:00:00Z","patient":"P1","metric":"hr","value":70}', 3)).toThrow(/^line 3: ts: "2026-02-30T10:00:00Z" is not a date: 2026-02 has no day 30/);
  });
});

describe('replayCommand', () => {
  afterEach(() => vi.restoreAllMocks());

  function capture() {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => (out.push(String(c)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => (err.push(String(c)), true));
    return { out: () => out.join(''), err: () => err.join('') };
  }

  it('runs a file end to end', async () => {
    const io = capture();
    const code = await replayCommand.run([fixture('ward.jsonl'), '--config', fixture('ward.yaml')]);
    expect(code).toBe(0);
    expect(io.out()).toBe(readFileSync(fixture('ward.expected.jsonl'), 'utf8'));
    expect(io.err()).toContain('ward.jsonl: line 14: ');
  });

  it('bad usage prints one line and returns 2', async () => {
    const io = capture();
    expect(await replayCommand.run([])).toBe(2);
    expect(await replayCommand.run(['a.jsonl', '--frobnicate'])).toBe(2);
    expect(await replayCommand.run(['/nonexistent/x.jsonl'])).toBe(2);
    expect(io.err().trim().split('\n')).toEqual([
      'vigil replay: missing FILE.jsonl (see vigil replay --help)',
      'vigil replay: unknown option --frobnicate (see vigil replay --help)',
      'vigil replay: cannot read /nonexistent/x.jsonl: ENOENT',
    ]);
  });

  it('a bad config is a ConfigError naming each setting', async () => {
    capture();
    const run = replayCommand.run([fixture('ward.jsonl'), '--config', fixture('bad-config.yaml')]);
    await expect(run).rejects.toThrow(ConfigError);
    await expect(run).rejects.toMatchObject({
      issues: ['detectors.limits.spo2.low: Invalid input: expected number, received string', 'detectors: unknown setting "limts"'],
    });
  });

  it('--help prints usage', async () => {
    const io = capture();
    expect(await replayCommand.run(['--help'])).toBe(0);
    expect(io.out()).toContain('Usage: vigil replay FILE.jsonl');
  });
});
