/**
 * What a clinical engineer operates: the census API (admit, assign, unassign, discharge) and its
 * persistence across a restart, TLS for devices, health and metrics, the spool's size bound, and
 * a clean exit on SIGTERM.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startVictoria, type Victoria } from '../support/victoria.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { Spool } from '../../src/spool/spool.js';

let gw: GatewayProcess | undefined;
let vm: Victoria | undefined;
afterEach(async () => {
  await gw?.stop();
  await gw?.cleanup();
  await vm?.dispose();
  gw = undefined;
  vm = undefined;
});

const TOKEN = 'test-api-token-0123456789';

async function api(method: string, path: string, body?: unknown, token = TOKEN): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${gw!.httpPort}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function publish(port: number, device: string, obs: Record<string, number>, opts: mqtt.IClientOptions = {}, url = `mqtt://127.0.0.1:${port}`): Promise<void> {
  const client = await mqtt.connectAsync(url, { username: device, password: `${device}-secret-value`, reconnectPeriod: 0, ...opts });
  await client.publishAsync(`vigil/v1/dev/${device}/obs`, JSON.stringify({ obs }), { qos: 1 });
  await client.endAsync();
}

describe('census API', () => {
  it('admits, assigns, unassigns and discharges; tags follow; the state survives a restart', async () => {
    vm = await startVictoria();
    gw = await startGatewayProcess({
      config: {
        http: { apiToken: TOKEN },
        influx: { url: vm.url, flushIntervalMs: 100 },
        devices: [{ id: 'wb-01', secret: 'wb-01-secret-value' }],
        census: { wards: [{ id: 'w2', beds: ['A', 'B'] }] },
      },
    });
    expect((await api('GET', '/api/census', undefined, 'wrong-token-0123456789')).status).toBe(401);

    await publish(gw.mqttPort, 'wb-01', { hr: 61 });
    expect((await api('POST', '/api/census/patients', { id: 'P7', ward: 'w2', bed: 'B' })).status).toBe(200);
    expect((await api('POST', '/api/census/patients', { id: 'P8', ward: 'w2', bed: 'B' })).json.error).toMatch(/bed w2\/B is taken by patient P7/);
    expect((await api('POST', '/api/census/patients', { id: 'P8', ward: 'w2' })).json.error).toMatch(/bed: /);
    const assigned = await api('POST', '/api/census/patients/P7/devices', { deviceId: 'wb-01' });
    expect(assigned.json.devices).toEqual(['wb-01']);
    await publish(gw.mqttPort, 'wb-01', { hr: 62 });

    // Restart: the admission and assignment come back from the data dir.
    expect(await gw.stop()).toBe(0);
    await gw.restart();
    const census = await api('GET', '/api/census');
    expect(census.json.patients).toEqual([expect.objectContaining({ id: 'P7', ward: 'w2', bed: 'B', devices: ['wb-01'] })]);
    await publish(gw.mqttPort, 'wb-01', { hr: 63 });
    // The standard export: a FHIR Bundle of the patient's recent vitals.
    await expect.poll(async () => ((await api('GET', '/api/patients/P7/fhir')).json.entry as unknown[] | undefined)?.length ?? 0, { timeout: 10_000 }).toBe(1);
    const bundle = (await api('GET', '/api/patients/P7/fhir')).json as { resourceType: string; type: string; entry: Array<{ resource: Record<string, unknown> }> };
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    expect(bundle.entry[0]!.resource).toMatchObject({
      resourceType: 'Observation',
      status: 'final',
      subject: { reference: 'Patient/P7' },
      code: { coding: expect.arrayContaining([expect.objectContaining({ system: 'http://loinc.org', code: '8867-4' })]) },
      valueQuantity: { value: 63, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    });
    expect((await api('GET', '/api/patients/P7/fhir', undefined, 'wrong-token-0123456789')).status).toBe(401);
    expect((await api('DELETE', '/api/census/patients/P7/devices/wb-01')).status).toBe(200);
    await publish(gw.mqttPort, 'wb-01', { hr: 64 });
    expect((await api('DELETE', '/api/census/patients/P7')).status).toBe(200);
    expect((await api('DELETE', '/api/census/patients/P7')).status).toBe(404);

    await vm.waitForCount('{__name__="vitals_hr",device="wb-01"}', 4, 20_000);
    const series = await vm.exportSeries('{__name__="vitals_hr",device="wb-01"}');
    const byPatient = Object.fromEntries(series.map((s) => [s.metric.patient ?? 'none', [...s.values].sort()]));
    expect(byPatient).toEqual({ none: [61, 64], P7: [62, 63] });
    expect(series.find((s) => s.metric.patient === 'P7')?.metric).toMatchObject({ ward: 'w2', bed: 'B' });
  }, 60_000);
});

describe('health, metrics and bounds', () => {
  it('reports broker, spool and writer in /healthz and the documented series in /metrics', async () => {
    vm = await startVictoria();
    gw = await startGatewayProcess({ config: { influx: { url: vm.url, flushIntervalMs: 100 }, devices: [{ id: 'wb-01', secret: 'wb-01-secret-value' }] } });
    await publish(gw.mqttPort, 'wb-01', { hr: 70, spo2: 96 });
    await expect.poll(async () => ((await gw!.health()).influx as { pointsWritten: number }).pointsWritten, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    await expect.poll(async () => ((await gw!.health()).influx as { lagRecords: number }).lagRecords, { timeout: 10_000 }).toBe(0);
    const h = await gw.health();
    expect(h).toMatchObject({ ok: true, broker: { port: gw.mqttPort }, spool: { full: false, nearFull: false }, influx: { configured: true, lagRecords: 0 } });
    const text = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
    for (const name of ['vigil_messages_total', 'vigil_observations_total', 'vigil_spool_depth_records', 'vigil_spool_bytes', 'vigil_influx_write_seconds_bucket', 'vigil_influx_batches_total', 'vigil_influx_retries_total', 'vigil_influx_dead_letters_total', 'vigil_mqtt_connections_total']) {
      expect(text, name).toMatch(new RegExp(`^${name}(\\{[^}]*\\})? `, 'm'));
    }
    expect(await gw.metric('vigil_observations_total', { transport: 'mqtt' })).toBe(2);
  }, 60_000);

  it('spool at its bound: reported in health and metrics, new data refused without PUBACK (the device keeps it)', async () => {
    gw = await startGatewayProcess({
      config: {
        spool: { maxBytes: 1_048_576, segmentBytes: 65_536, warnRatio: 0.5 },
        mqtt: { rate: { messagesPerSecond: 100_000, burst: 100_000 }, maxPacketBytes: 65_536 },
        http: { apiToken: TOKEN },
        devices: [{ id: 'wb-01', secret: 'wb-01-secret-value' }],
      },
    });
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, { username: 'wb-01', password: 'wb-01-secret-value', reconnectPeriod: 0 });
    const closed = new Promise<void>((r) => client.once('close', () => r()));
    // Each message: 10 observations (one spool record each, ~200 bytes).
    const obs = Object.fromEntries(['hr', 'pr', 'spo2', 'rr', 'temp', 'sbp', 'dbp', 'map', 'pi', 'battery'].map((m) => [m, 40]));
    let acked = 0;
    let refused = false;
    for (let i = 0; i < 20_000 && !refused; i++) {
      refused = await new Promise<boolean>((resolve) => {
        const onClose = (): void => resolve(true);
        client.once('close', onClose);
        client.publish('vigil/v1/dev/wb-01/obs', JSON.stringify({ obs }), { qos: 1 }, (err) => {
          client.off('close', onClose);
          resolve(Boolean(err));
        });
      });
      if (!refused) acked++;
    }
    expect(refused).toBe(true);
    await closed;
    client.end(true);
    expect(acked).toBeGreaterThan(100);
    const res = await fetch(`http://127.0.0.1:${gw.httpPort}/healthz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { spool: object }).spool).toMatchObject({ full: true, nearFull: true });
    expect(await gw.metric('vigil_spool_full')).toBe(1);
    await gw.waitForLog((l) => /spool full/.test(l.msg));
    // Nurses see it too: technical alarms about the gateway itself, with no patient. The log line
    // comes as the spool reaches its bound; the alarms once that condition is stored (an fsync on).
    const alarms = async () => ((await (await fetch(`http://127.0.0.1:${gw!.httpPort}/api/alarms`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { alarms: Array<{ kind: string; priority: string; reason: string; patientId?: string }> }).alarms;
    await expect.poll(alarms, { timeout: 20_000 }).toEqual(expect.arrayContaining([
      expect.objectContaining({ kind: 'technical', priority: 'high', reason: expect.stringMatching(/storage full/) }),
      expect.objectContaining({ kind: 'technical', priority: 'medium', reason: expect.stringMatching(/storage \d+% full/) }),
    ]));
    await gw.waitForLog((l) => /nearing its size bound/.test(l.msg));
    // Every acknowledged message is in the spool with its 10 observations (no writer has taken
    // any). Besides them the spool holds the unassigned-device notice and its technical alarm.
    expect(await gw.stop()).toBe(0);
    const spool = await Spool.open({ dir: join(gw.dataDir, 'spool'), maxBytes: 1_048_576 });
    try {
      const reader = await spool.reader('check');
      const messages: number[] = [];
      for (;;) {
        const batch = await reader.read(10_000);
        if (batch.entries.length === 0) break;
        for (const e of batch.entries) {
          const r = JSON.parse(e.payload.toString()) as { t: string; m?: { v: object } };
          if (r.t === 'msg') messages.push(Object.keys(r.m!.v).length);
        }
        await reader.commit(batch.next);
      }
      // one record a message, holding its ten observations
      expect(messages).toHaveLength(acked);
      expect(messages.every((n) => n === 10)).toBe(true);
    } finally {
      await spool.close();
    }
  }, 60_000);
});

describe('TLS listener', () => {
  it('accepts devices over TLS on the second port', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
      const { freePort } = await import('../support/victoria.js');
      const tlsPort = await freePort();
      gw = await startGatewayProcess({
        config: { mqtt: { tls: { port: tlsPort, cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } }, devices: [{ id: 'wb-01', secret: 'wb-01-secret-value' }] },
      });
      const { readFileSync } = await import('node:fs');
      await publish(0, 'wb-01', { hr: 88 }, { ca: readFileSync(join(dir, 'cert.pem')), rejectUnauthorized: true }, `mqtts://127.0.0.1:${tlsPort}`);
      expect(await gw.metric('vigil_observations_total', { transport: 'mqtt' })).toBe(1);
      expect((await gw.health()).broker).toMatchObject({ tlsPort });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
