import { describe, expect, it } from 'vitest';
import { applyEnvOverrides, formatPath, validateConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/core/errors.js';

describe('config', () => {
  it('fills every default from the schema', () => {
    const c = validateConfig({});
    expect(c.mqtt).toMatchObject({ host: '127.0.0.1', port: 1883, maxPacketBytes: 16384, rate: { messagesPerSecond: 20, burst: 40 } });
    expect(c.http.port).toBe(8080);
    expect(c.spool.maxBytes).toBe(1024 ** 3);
    expect(c.influx.url).toBeUndefined();
  });

  it('formats paths the way the file reads', () => {
    expect(formatPath(['devices', 2, 'secret'])).toBe('devices[2].secret');
    expect(formatPath([])).toBe('(top level)');
  });

  it('applies environment overrides over file values', () => {
    const raw: Record<string, unknown> = { mqtt: { port: 1 }, influx: { org: 'file' } };
    applyEnvOverrides(raw, { VIGIL_MQTT_PORT: '2883', VIGIL_INFLUX_ORG: 'env', VIGIL_DATA_DIR: '/d', VIGIL_HTTP_PORT: '' });
    const c = validateConfig(raw);
    expect(c.mqtt.port).toBe(2883);
    expect(c.influx.org).toBe('env');
    expect(c.dataDir).toBe('/d');
    expect(c.http.port).toBe(8080);
  });

  it('collects every problem, each with its path', () => {
    let err: ConfigError | undefined;
    try {
      validateConfig({ devices: [{ id: 'a', secret: 'long-secret' }, { id: 'b' }, { id: 'bad id!', secret: 'long-secret' }], spool: { maxBytes: 5 } });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.issues).toEqual(
      expect.arrayContaining([
        'devices[1].secret: required (or secretHash)',
        expect.stringMatching(/^devices\[2\]\.id: letters, digits/),
        expect.stringMatching(/^spool\.maxBytes: /),
      ]),
    );
    expect(err!.issues).toHaveLength(3);
  });

  it('patients\' limits: only metrics with limit alarms, each in range and in order with the ward defaults, each problem at its path', () => {
    const census = (settings: object[]) => ({
      census: { wards: [{ id: 'w1', beds: ['1', '2', '3'] }], patients: settings.map((s, i) => ({ id: `P${i + 1}`, ward: 'w1', bed: String(i + 1), settings: s })) },
      detectors: { limits: { hr: { high: 120 } } },
    });
    const problems = (raw: object): string[] => {
      try {
        validateConfig(raw);
        return [];
      } catch (e) {
        return (e as ConfigError).issues as string[];
      }
    };
    expect(problems(census([{ limits: { bp: { low: 90 } } }, { limits: { temp: { high: 100.4 } } }]))).toEqual([
      'census.patients[0].settings.limits: unknown setting "bp"',
      'census.patients[1].settings.limits.temp.high: 100.4 is outside 25..45 Cel, where a temp limit may lie',
    ]);
    expect(problems(census([{ limits: { spo2: { low: 95, lowHigh: 97 } } }, { limits: { hr: { low: 125 } } }]))).toEqual([
      'census.patients[0].settings.limits.spo2.lowHigh: high-priority low limit 97 % is above the low limit 95 %',
      'census.patients[1].settings.limits.hr.low: low limit 125 /min is not below the high limit 120 /min (the ward default)',
    ]);
    expect(problems(census([{ spo2Scale: 2, limits: { spo2: { lowHigh: 84 }, pr: { high: 110 } } }]))).toEqual([]);
  });
});
