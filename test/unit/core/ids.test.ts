import { describe, expect, it } from 'vitest';
import { ID_PATTERN, idProblem, isId } from '../../../src/core/ids.js';
import { validateConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/core/errors.js';

describe('id grammar', () => {
  it.each(['P-1001', 'wb-01', 'ward_7', '1', 'A.b-c_d', 'x'.repeat(64)])('accepts %s', (id) => {
    expect(isId(id)).toBe(true);
    expect(idProblem(id)).toBeNull();
  });

  it.each([
    ['empty', ''],
    ['a slash (changes a FHIR reference or URL path)', 'P1/../Practitioner/x'],
    ['a backslash', 'P1\\'],
    ['a comma (line protocol)', 'P,1'],
    ['an equals sign (line protocol)', 'P=1'],
    ['a space', 'P 1'],
    ['a tab', 'P\t1'],
    ['a newline', 'P\n1'],
    ['a topic wildcard', 'wb+'],
    ['a percent sign', 'P%2F1'],
    ['only dots', '..'],
    ['a leading dot', '.hidden'],
    ['a leading dash', '-1'],
    ['non-ASCII', 'Pé1'],
    ['65 characters', 'x'.repeat(65)],
    ['60,000 characters', 'x'.repeat(60_000)],
  ])('refuses %s', (_what, id) => {
    expect(isId(id)).toBe(false);
    expect(idProblem(id)).toMatch(/is not an id: letters, digits/);
  });

  it('quotes at most 40 characters of a bad id', () => {
    const why = idProblem('y'.repeat(60_000))!;
    expect(why.length).toBeLessThan(200);
    expect(why).toContain('(60000 characters)');
  });

  it('is anchored (no partial matches)', () => {
    expect(ID_PATTERN.test('ok\nnot ok')).toBe(false);
  });
});

describe('ids in the config', () => {
  function issues(raw: unknown): string[] {
    try {
      validateConfig(raw);
    } catch (e) {
      return (e as ConfigError).issues;
    }
    return [];
  }

  it('checks patients, wards, beds and devices against the one grammar, naming each setting', () => {
    const found = issues({
      devices: [{ id: 'wb 1', secret: 'long-secret' }],
      serial: [{ path: '/dev/ttyUSB0', deviceId: '../ox', profile: 'masimo-radical7' }],
      mqtt: { consumers: [{ id: 'nurse/call', secret: 'long-secret' }] },
      bridge: { url: 'mqtt://hospital.example:1883', clientId: 'gw-7', wardId: 'ward 7' },
      census: {
        wards: [{ id: 'w,1', beds: ['1', 'b=2'] }],
        patients: [{ id: 'P/1', ward: 'w,1', bed: '1', devices: ['x\\y'] }],
      },
    });
    for (const path of ['devices[0].id', 'serial[0].deviceId', 'mqtt.consumers[0].id', 'census.wards[0].id', 'census.wards[0].beds[1]', 'census.patients[0].id', 'census.patients[0].ward', 'census.patients[0].devices[0]', 'bridge.wardId']) {
      expect(found, path).toContainEqual(expect.stringMatching(new RegExp(`^${path.replace(/[.[\]]/g, '\\$&')}: letters, digits`)));
    }
  });
});
