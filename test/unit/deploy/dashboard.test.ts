/**
 * The Grafana ward dashboard only queries what the InfluxDB writer really writes. The schema is
 * not listed here a second time: it is read back from the writer's own mapping
 * (`recordToLine` in src/sinks/line-protocol.ts) applied to one record of each kind, with every
 * metric in METRIC_NAMES and every optional field filled.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { allMetrics, METRIC_NAMES } from '../../../src/core/metrics.js';
import type { SpoolRecord } from '../../../src/core/types.js';
import { recordToLine } from '../../../src/sinks/line-protocol.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const GRAFANA = join(ROOT, 'deploy/grafana');

interface Schema {
  readonly tags: Set<string>;
  readonly fields: Set<string>;
}

/** measurement → tag keys and field keys, from lines the writer produces. */
function writerSchema(): Map<string, Schema> {
  const place = { patientId: 'p', ward: 'w', bed: 'b' };
  const records: SpoolRecord[] = [
    ...METRIC_NAMES.map((metric): SpoolRecord => ({ t: 'obs', o: { ts: 1, deviceId: 'd', ...place, metric, value: 1, unit: 'u', quality: 'poor' } })),
    { t: 'tech', e: { ts: 1, deviceId: 'd', ...place, kind: 'sensor_off', detail: 'x' } },
    { t: 'alarm', a: { ts: 1, id: 'a', kind: 'limit', priority: 'high', state: 'raised', metric: 'hr', deviceId: 'd', ...place, reason: 'r', by: 'n', value: 1 } },
  ];
  const schema = new Map<string, Schema>();
  for (const r of records) {
    const [head = '', fieldPart = ''] = recordToLine(r).split(' ');
    const [measurement = '', ...tags] = head.split(',');
    const s = schema.get(measurement) ?? { tags: new Set<string>(), fields: new Set<string>() };
    for (const t of tags) s.tags.add(t.slice(0, t.indexOf('=')));
    for (const f of fieldPart.split(',')) s.fields.add(f.slice(0, f.indexOf('=')));
    schema.set(measurement, s);
  }
  return schema;
}

const SCHEMA = writerSchema();
const dashboard = JSON.parse(readFileSync(join(GRAFANA, 'dashboards/ward.json'), 'utf8')) as {
  uid: string;
  panels: Array<{ title: string; type: string; repeat?: string; datasource?: { uid: string }; targets?: Array<{ query: string; datasource?: { uid: string } }> }>;
  templating: { list: Array<{ name: string; query: string; datasource: { uid: string } }> };
};
const datasources = parse(readFileSync(join(GRAFANA, 'provisioning/datasources/influxdb.yaml'), 'utf8')) as { datasources: Array<{ uid: string; type: string; url: string; jsonData: { version: string } }> };

/** Every Flux query in the dashboard, with where it came from. */
const queries: Array<{ where: string; flux: string }> = [
  ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, flux: t.query }))),
  ...dashboard.templating.list.map((v) => ({ where: `variable ${v.name}`, flux: v.query })),
];
const all = (re: RegExp, text: string): string[] => [...text.matchAll(re)].map((m) => m[1]!);

describe('writer schema as read from line-protocol.ts', () => {
  it('has the three measurements with a field per metric in vitals', () => {
    expect([...SCHEMA.keys()].sort()).toEqual(['alarms', 'device_events', 'vitals']);
    expect([...SCHEMA.get('vitals')!.fields].sort()).toEqual([...METRIC_NAMES].sort());
    expect(SCHEMA.get('alarms')!.tags).toEqual(new Set(['patient', 'ward', 'bed', 'device', 'kind', 'priority', 'state', 'metric']));
  });
});

describe('deploy/grafana ward dashboard', () => {
  it('has Flux queries', () => {
    expect(queries.length).toBeGreaterThanOrEqual(8);
  });

  for (const { where, flux } of queries) {
    it(`${where}: names measurements, fields, tags and columns the writer writes`, () => {
      const measurements = all(/r\._measurement == "([^"]+)"/g, flux);
      expect(measurements.length, 'query names no measurement').toBeGreaterThan(0);
      for (const m of measurements) expect(SCHEMA.has(m), `unknown measurement ${m}`).toBe(true);
      const known = measurements.map((m) => SCHEMA.get(m)!);
      const tags = new Set(known.flatMap((s) => [...s.tags]));
      const fields = new Set(known.flatMap((s) => [...s.fields]));
      for (const f of all(/r\._field == "([^"]+)"/g, flux)) expect(fields.has(f), `field ${f} is not written to ${measurements.join('/')}`).toBe(true);
      for (const t of all(/\br\.([A-Za-z][A-Za-z0-9_]*)/g, flux)) expect(tags.has(t), `tag ${t} is not written to ${measurements.join('/')}`).toBe(true);
      for (const t of all(/tag: "([^"]+)"/g, flux)) expect(tags.has(t), `tag ${t}`).toBe(true);
      for (const list of all(/columns: \[([^\]]*)\]/g, flux)) {
        for (const col of all(/"([^"]+)"/g, list)) {
          expect(col.startsWith('_') || tags.has(col) || fields.has(col), `column ${col} is neither a tag nor a field of ${measurements.join('/')}`).toBe(true);
        }
      }
      const variables = new Set(dashboard.templating.list.map((v) => v.name));
      for (const v of all(/\$\{(\w+)\}/g, flux)) expect(variables.has(v), `variable ${v}`).toBe(true);
    });
  }

  it('plots every clinical metric and shows vitals per bed (a row repeated by bed)', () => {
    const plotted = new Set(queries.flatMap((q) => all(/r\._field == "([^"]+)"/g, q.flux)));
    for (const m of allMetrics().filter((x) => x.clinical)) expect(plotted.has(m.name), `metric ${m.name} is not on the dashboard`).toBe(true);
    expect(dashboard.panels.some((p) => p.type === 'row' && p.repeat === 'bed')).toBe(true);
    expect(queries.some((q) => q.flux.includes('r._measurement == "alarms"'))).toBe(true);
  });

  it('uses the provisioned Flux datasource everywhere', () => {
    const [ds] = datasources.datasources;
    expect(ds).toMatchObject({ type: 'influxdb', jsonData: { version: 'Flux' } });
    const uids = [
      ...dashboard.panels.filter((p) => p.type !== 'row').map((p) => p.datasource?.uid),
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.datasource?.uid)),
      ...dashboard.templating.list.map((v) => v.datasource.uid),
    ];
    expect(new Set(uids)).toEqual(new Set([ds!.uid]));
  });

  it('is loaded by the dashboard provider from the mounted folder', () => {
    const provider = parse(readFileSync(join(GRAFANA, 'provisioning/dashboards/vigil.yaml'), 'utf8')) as { providers: Array<{ type: string; options: { path: string } }> };
    expect(provider.providers[0]).toMatchObject({ type: 'file', options: { path: '/etc/grafana/dashboards' } });
  });
});
