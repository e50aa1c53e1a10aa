/**
 * The station's alarm signals against IEC 60601-1-8 (Tables 3 and 4, the visual signals), and
 * which alarms a station shows and sounds: pure parts of the page, checked in Node.
 */
import { describe, expect, it } from 'vitest';
import { FUNDAMENTAL_HZ, HARMONICS, PATTERNS, period } from '../../../src/web/public/alarm-sound.js';
import { countdown, flashClass, loudest, shownAlarms, soundingAlarms, stationView } from '../../../src/web/public/alarm-policy.js';

type Pattern = { pulse: number; rise: number; onsets: number[]; interval: number };
/** Gaps between the end of one pulse and the start of the next, s. */
const gaps = (p: Pattern) => p.onsets.slice(1).map((o, i) => +(o - p.onsets[i]! - p.pulse).toFixed(3));

describe('auditory alarm signals [IEC 60601-1-8]', () => {
  it('high priority: 10 pulses of 75–200 ms, as 3 + 2 and 3 + 2, repeated every 2.5–15 s', () => {
    const p = PATTERNS.high as Pattern;
    expect(p.onsets).toHaveLength(10);
    expect(p.pulse).toBeGreaterThanOrEqual(0.075);
    expect(p.pulse).toBeLessThanOrEqual(0.2);
    const [g1, g2, g3, g4, g5] = gaps(p);
    for (const g of [g1!, g2!, g4!]) expect(g).toBeGreaterThanOrEqual(0.05), expect(g).toBeLessThanOrEqual(0.125);
    expect(g3).toBeCloseTo(2 * g1! + p.pulse, 3); // between the 3rd and 4th pulse
    expect(g5).toBeGreaterThanOrEqual(0.35); // between the 5th and 6th pulse
    expect(g5).toBeLessThanOrEqual(1.3);
    expect(gaps(p).slice(5)).toEqual(gaps(p).slice(0, 4)); // the second half repeats the first
    expect(p.interval).toBeGreaterThanOrEqual(2.5);
    expect(p.interval).toBeLessThanOrEqual(15);
  });

  it('medium priority: 3 pulses of 125–250 ms, 125–250 ms apart, repeated every 2.5–30 s', () => {
    const p = PATTERNS.medium as Pattern;
    expect(p.onsets).toHaveLength(3);
    expect(p.pulse).toBeGreaterThanOrEqual(0.125);
    expect(p.pulse).toBeLessThanOrEqual(0.25);
    for (const g of gaps(p)) expect(g).toBeGreaterThanOrEqual(0.125), expect(g).toBeLessThanOrEqual(0.25);
    expect(p.interval).toBeGreaterThanOrEqual(2.5);
    expect(p.interval).toBeLessThanOrEqual(30);
  });

  it('low priority: 1 or 2 pulses like medium, repeated no more often than every 15 s', () => {
    const p = PATTERNS.low as Pattern;
    expect([1, 2]).toContain(p.onsets.length);
    expect(p.pulse).toBeGreaterThanOrEqual(0.125);
    expect(p.interval).toBeGreaterThan(15);
  });

  it('pulses rise in 10–20 % of their length; the fundamental is 150–1000 Hz with ≥ 4 harmonics in 300–4000 Hz within 15 dB', () => {
    for (const p of Object.values(PATTERNS) as Pattern[]) {
      expect(p.rise / p.pulse).toBeGreaterThanOrEqual(0.1);
      expect(p.rise / p.pulse).toBeLessThanOrEqual(0.2);
    }
    expect(FUNDAMENTAL_HZ).toBeGreaterThanOrEqual(150);
    expect(FUNDAMENTAL_HZ).toBeLessThanOrEqual(1000);
    const harmonics = HARMONICS.map((a, i) => ({ hz: FUNDAMENTAL_HZ * (i + 1), db: 20 * Math.log10(a / HARMONICS[0]!) })).slice(1);
    expect(harmonics.filter((h) => h.hz >= 300 && h.hz <= 4000 && h.db >= -15).length).toBeGreaterThanOrEqual(4);
  });

  it('the three priorities are told apart by their rhythm', () => {
    const shapes = new Set((['high', 'medium', 'low'] as const).map((p) => JSON.stringify([PATTERNS[p].onsets, period(p)])));
    expect(shapes.size).toBe(3);
  });
});

describe('what a station shows and sounds', () => {
  const wards = [{ id: 'w1', assignment: { beds: { '1': { nurse: { username: 'jones' } }, '2': { nurse: { username: 'kim' }, buddy: { username: 'jones' } } } } }];
  const alarm = (id: string, o: Record<string, unknown> = {}) => ({ id, ward: 'w1', bed: '1', priority: 'medium', acknowledged: false, notified: ['jones'], ...o });
  const alarms = [
    alarm('mine'),
    alarm('kims', { bed: '2', notified: ['kim'] }),
    alarm('escalated-to-me', { bed: '2', notified: ['kim', 'jones'] }),
    alarm('nobodys-bed', { bed: '3', notified: [] }),
    alarm('gateway', { ward: undefined, bed: undefined, notified: [] }),
  ];

  it('all alarms unfiltered; filtered to my beds, mine, those escalated to me, those of beds nobody looks after, and the gateway\'s', () => {
    expect(shownAlarms(alarms, stationView(wards, 'jones', false)).map((a) => a.id)).toEqual(alarms.map((a) => a.id));
    const mine = stationView(wards, 'jones', true);
    expect([...mine.myBeds]).toEqual(['w1/1']);
    expect(shownAlarms(alarms, mine).map((a) => a.id)).toEqual(['mine', 'escalated-to-me', 'nobodys-bed', 'gateway']);
  });

  it('sounds the unacknowledged alarms that are not held and not paused, highest priority first', () => {
    const now = 1000;
    const list = [
      alarm('acked', { acknowledged: true, priority: 'high' }),
      alarm('held', { suppressed: 'sensor off', priority: 'high', conditionActive: false }),
      alarm('paused', { silencedUntil: 2000, priority: 'high' }),
      alarm('pause-over', { silencedUntil: 1000, priority: 'low', conditionActive: true }),
      alarm('latched', { state: 'cleared', priority: 'medium', conditionActive: false }),
      alarm('condition-over', { state: 'raised', priority: 'high', conditionActive: false }), // in its flap hold, not latching
    ];
    const sounding = soundingAlarms(list, now);
    expect(sounding.map((a) => a.id)).toEqual(['latched', 'pause-over']);
    expect(loudest(sounding)).toBe('medium');
    expect(loudest([])).toBeNull();
  });

  it('flashes high and medium alarms, never low, acknowledged, held or condition-over ones', () => {
    expect(flashClass(alarm('a', { priority: 'high' }))).toBe('flash-high');
    expect(flashClass(alarm('a', { priority: 'medium' }))).toBe('flash-medium');
    expect(flashClass(alarm('a', { priority: 'low' }))).toBe('');
    expect(flashClass(alarm('a', { priority: 'high', acknowledged: true }))).toBe('');
    expect(flashClass(alarm('a', { priority: 'high', suppressed: 'sensor off on ox1' }))).toBe('');
    expect(flashClass(alarm('a', { priority: 'high', conditionActive: false }))).toBe('');
    expect(flashClass(alarm('a', { priority: 'high', conditionActive: false, state: 'cleared' }))).toBe('flash-high'); // latched
  });

  it('counts an audio pause down in minutes and seconds', () => {
    expect([countdown(120_000), countdown(119_001), countdown(61_000), countdown(0), countdown(-5)]).toEqual(['2:00', '2:00', '1:01', '0:00', '0:00']);
  });
});
