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
});
