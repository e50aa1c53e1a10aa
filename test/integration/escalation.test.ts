/**
 * Escalation end to end, with the real gateway process and simulated wearables on real MQTT:
 * nobody acknowledges, and each tier of the policy reaches a real HTTP receiver (the paging
 * system, through the alarm webhook), a real Eclipse `mosquitto_sub` subscribed to the gateway's
 * alarm topics as the nurse-call system, and a subscriber on a real Mosquitto broker (the
 * hospital's, through the upstream bridge), each at its delay and with its recipients; every
 * step and its delivery results are in the audit log and /metrics; acknowledging at tier 2 stops
 * tier 3; a paging endpoint that is down is a technical alarm until the step goes through; and
 * an escalation cut by a SIGKILL continues after the restart, no tier lost or sent twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { pino } from 'pino';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { freePort } from '../support/victoria.js';
import { startWearables, type Wearables } from '../support/wearables.js';
import { until } from '../support/wait.js';
import { hashPassword } from '../../src/web/passwords.js';
import { Spool } from '../../src/spool/spool.js';
import type { AlarmTransition, SpoolRecord } from '../../src/core/types.js';

const TOKEN = 'escalation-test-token-0123';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const DEVICES = ['wb-1', 'wb-2', 'wb-3'].map((id) => ({ id, secret: `${id}-secret-value` }));
const NORMAL = { hr: 72, spo2: 97, rr: 14 };
/** Seconds from one tier to the next (short, so the test is short). */
const STEP_S = 5;
const CHANNELS = ['mqtt', 'webhook'];
const RECIPIENTS = [['nurse.jones'], ['nurse.kim'], ['charge.smith'], ['rapid-response']];

let gw: GatewayProcess;
let mosq: Mosquitto;
let wear: Wearables;
let receiver: Server;
let receiverUp = true;
const posted: AlarmTransition[] = [];
const subscribers: ChildProcess[] = [];
/** What the nurse-call system on the gateway's broker got, and what the hospital's broker got. */
const nurseCall: Array<{ topic: string; a: AlarmTransition }> = [];
const upstream: Array<{ topic: string; seq: number; a: AlarmTransition }> = [];

/** Eclipse mosquitto_sub, QoS 1, one `topic payload` line per message (`-c`: a persistent session, as a nurse-call system keeps). */
function subscribe(args: string[], onMessage: (topic: string, payload: string) => void): ChildProcess {
  const p = spawn('mosquitto_sub', [...args, '-q', '1', '-F', '%t %p'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  p.stdout!.on('data', (c: Buffer) => {
    buf += c.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const sp = line.indexOf(' ');
      if (sp > 0) onMessage(line.slice(0, sp), line.slice(sp + 1));
    }
  });
  subscribers.push(p);
  return p;
}

beforeAll(async () => {
  const receiverPort = await freePort();
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (!receiverUp) return void res.writeHead(503).end('paging system down');
      posted.push(...(JSON.parse(body) as { alarms: AlarmTransition[] }).alarms);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(receiverPort, '127.0.0.1', r));
  mosq = await startMosquitto();
  gw = await startGatewayProcess({
    config: {
      http: { apiToken: TOKEN },
      mqtt: { consumers: [{ id: 'nurse-call', secret: 'nurse-call-secret', topics: ['vigil/v1/alarms/#'] }] },
      alarms: { webhook: { url: `http://127.0.0.1:${receiverPort}/page`, maxBackoffMs: 500 }, checkpointSeconds: 1, delivery: { confirmSeconds: 3 } },
      bridge: { url: mosq.url, clientId: 'gw-escalation-test', wardId: 'w1', maxBackoffMs: 500 },
      web: { users: await Promise.all([['nurse.jones', 'nurse'], ['nurse.kim', 'nurse'], ['charge.smith', 'charge']].map(async ([username, role]) => ({ username, role, passwordHash: await hashPassword(`${username}-password`) }))) },
      devices: DEVICES,
      census: { wards: [{ id: 'w1', beds: ['1', '2', '3'] }], patients: DEVICES.map((d, i) => ({ id: `P${i + 1}`, ward: 'w1', bed: String(i + 1), devices: [d.id] })) },
      detectors: {
        limits: { hr: { delaySeconds: 0, clearDelaySeconds: 0 }, spo2: { delaySeconds: 0, clearDelaySeconds: 0 } },
        news2: { bandPriority: { 'low-medium': null, medium: null, high: null } },
        alarms: {
          escalationSeconds: { high: STEP_S, medium: STEP_S, low: 0 },
          escalation: {
            tiers: [
              { name: 'Assigned nurse', to: ['assigned'], channels: ['station', ...CHANNELS] },
              { name: 'Buddy nurse', to: ['buddy'], channels: CHANNELS },
              { name: 'Charge nurse', to: ['charge'], channels: CHANNELS },
              { name: 'Rapid response', to: ['rapid-response'], channels: CHANNELS },
            ],
          },
        },
      },
    },
  });
  subscribe(['-h', '127.0.0.1', '-p', String(gw.mqttPort), '-u', 'nurse-call', '-P', 'nurse-call-secret', '-i', 'nurse-call-1', '-c', '-t', 'vigil/v1/alarms/#'], (topic, payload) => nurseCall.push({ topic, a: JSON.parse(payload) as AlarmTransition }));
  subscribe(['-h', '127.0.0.1', '-p', String(mosq.port), '-i', 'hospital-routing', '-t', 'vigil/v1/ward/+/alarms/#'], (topic, payload) => {
    const m = JSON.parse(payload) as { seq: number; alarm: AlarmTransition };
    upstream.push({ topic, seq: m.seq, a: m.alarm });
  });
  // The subscribers are connected before any alarm: the gateway's broker counts them.
  await until(() => gw.logs.some((l) => l.msg === 'consumer connected' && l.consumer === 'nurse-call'), 'the nurse-call subscriber connected');
  wear = await startWearables(`mqtt://127.0.0.1:${gw.mqttPort}`, DEVICES);
  const res = await fetch(`http://127.0.0.1:${gw.httpPort}/api/assignments/w1`, {
    method: 'PUT',
    headers: auth,
    body: JSON.stringify({ charge: 'charge.smith', beds: { '1': { nurse: 'nurse.jones', buddy: 'nurse.kim' }, '2': { nurse: 'nurse.jones', buddy: 'nurse.kim' }, '3': { nurse: 'nurse.kim', buddy: 'nurse.jones' } } }),
  });
  expect(res.status).toBe(200);
}, 60_000);

afterAll(async () => {
  for (const s of subscribers) s.kill();
  await wear?.stop();
  await gw?.stop();
  await gw?.cleanup();
  await mosq?.dispose();
  await new Promise((r) => receiver?.close(r));
});

const api = async <T>(path: string): Promise<T> => (await (await fetch(`http://127.0.0.1:${gw.httpPort}${path}`, { headers: auth })).json()) as T;
const steps = (list: readonly AlarmTransition[], id: string) => list.filter((a) => a.id === id && a.escalation);
/** Each tier once, with its time and recipients (a receiver may get a request twice: at least once). */
function tiers(list: readonly AlarmTransition[], id: string): Array<[number, number, readonly string[]]> {
  const seen = new Map<number, [number, number, readonly string[]]>();
  for (const a of steps(list, id)) {
    const prior = seen.get(a.escalation!.tier);
    if (prior) expect(prior[1]).toBe(a.ts); // the same step sent again, never one derived twice
    else seen.set(a.escalation!.tier, [a.escalation!.tier, a.ts, a.escalation!.recipients]);
  }
  return [...seen.values()].sort((x, y) => x[0] - y[0]);
}
/** The alarm id raised for a bed and metric, once raised (seen by the paging receiver). */
async function raisedFor(bed: string, metric: string): Promise<AlarmTransition> {
  let found: AlarmTransition | undefined;
  await expect.poll(() => (found = posted.find((a) => a.bed === bed && a.metric === metric && a.state === 'raised' && a.priority === 'high')), { timeout: 30_000 }).toBeDefined();
  return found!;
}
const expectedTiers = (raised: AlarmTransition, n: number) => RECIPIENTS.slice(0, n).map((r, i) => [i + 1, raised.ts + i * STEP_S * 1000, r]);

describe('escalation that pages someone', () => {
  it('with nobody acknowledging, each tier reaches the paging webhook and both MQTT subscribers at its delay with its recipients; the audit lists every step', async () => {
    await wear.set('wb-1', { obs: { ...NORMAL, hr: 35 } });
    const raised = await raisedFor('1', 'hr');
    await expect.poll(() => tiers(posted, raised.id).length, { timeout: 60_000 }).toBe(4);
    expect(tiers(posted, raised.id)).toEqual(expectedTiers(raised, 4));
    expect(steps(posted, raised.id).every((a) => a.escalation!.of === 4 && a.escalation!.channels.includes('webhook'))).toBe(true);
    await expect.poll(() => tiers(nurseCall.map((m) => m.a), raised.id).length, { timeout: 30_000 }).toBe(4);
    expect(tiers(nurseCall.map((m) => m.a), raised.id)).toEqual(expectedTiers(raised, 4));
    expect(new Set(nurseCall.filter((m) => m.a.id === raised.id).map((m) => m.topic))).toEqual(new Set(['vigil/v1/alarms/w1/1']));
    await expect.poll(() => tiers(upstream.map((m) => m.a), raised.id).length, { timeout: 30_000 }).toBe(4);
    expect(tiers(upstream.map((m) => m.a), raised.id)).toEqual(expectedTiers(raised, 4));

    // The audit log: each step, and each channel's result; the nurse-call system confirmed by its PUBACK.
    type Entry = { action: string; who: string; patientId?: string; detail: { id: string; tier: number; channel?: string; result?: string; recipients?: string[]; to?: string[] } };
    let audit: Entry[] = [];
    const mine = (e: Entry) => e.detail?.id === raised.id;
    await expect.poll(async () => (audit = (await api<{ entries: Entry[] }>('/api/audit?limit=1000')).entries.filter(mine)).filter((e) => e.action === 'alarm.notify' && e.detail.result === 'delivered').length, { timeout: 30_000 }).toBeGreaterThanOrEqual(8);
    expect(audit.filter((e) => e.action === 'alarm.step').map((e) => [e.detail.tier, e.detail.recipients]).sort()).toEqual(RECIPIENTS.map((r, i) => [i + 1, r]));
    for (const tier of [1, 2, 3, 4]) {
      for (const channel of CHANNELS) expect(audit).toContainEqual(expect.objectContaining({ who: 'gateway', action: 'alarm.notify', patientId: 'P1', detail: expect.objectContaining({ tier, channel, result: 'delivered' }) }));
    }
    expect(audit).toContainEqual(expect.objectContaining({ action: 'alarm.notify', detail: expect.objectContaining({ tier: 2, channel: 'mqtt', to: ['nurse-call'] }) }));
    // Tier 1 also went to the station, where nobody had it open: undelivered, a technical alarm.
    expect(audit).toContainEqual(expect.objectContaining({ action: 'alarm.notify', detail: expect.objectContaining({ tier: 1, channel: 'station', result: 'failed' }) }));
    // The technical alarm is raised once the failure is stored: after the audit entry, and logged
    // as it is raised, so shown from then on.
    await gw.waitForLog((l) => l.alarm === 'device:gateway:system:delivery:station:high:1' && l.msg === 'alarm raised: Alarm not delivered: Assigned nurse for bed 1 not delivered at the nurse station: no station of Assigned nurse (nurse.jones) open');
    const shown = (await api<{ alarms: Array<{ id: string; kind: string; priority: string }> }>('/api/alarms')).alarms;
    expect(shown).toContainEqual(expect.objectContaining({ id: 'device:gateway:system:delivery:station:high:1', kind: 'technical', priority: 'high' }));
    expect(await gw.metric('vigil_alarm_notifications_total', { channel: 'webhook', result: 'delivered' })).toBeGreaterThanOrEqual(4);
    expect(await gw.metric('vigil_alarm_notifications_total', { channel: 'mqtt', result: 'delivered' })).toBeGreaterThanOrEqual(4);
    expect(await gw.metric('vigil_alarm_notifications_total', { channel: 'station', result: 'failed' })).toBeGreaterThanOrEqual(1);
    expect(await gw.metric('vigil_alarm_escalation_steps_total', { tier: '4' })).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('acknowledging at tier 2 stops tier 3', async () => {
    await wear.set('wb-2', { obs: { ...NORMAL, hr: 35 } });
    const b = await raisedFor('2', 'hr');
    await expect.poll(() => tiers(posted, b.id).length, { timeout: 30_000 }).toBe(2);
    const ack = await fetch(`http://127.0.0.1:${gw.httpPort}/api/alarms/${encodeURIComponent(b.id)}/ack`, { method: 'POST', headers: auth, body: JSON.stringify({ by: 'nurse.kim' }) });
    expect(ack.status).toBe(200);
    // A later alarm reaching tier 3 proves the time of bed 2's tier 3 has passed: deadlines fall
    // due in time order, and the webhook posts in spool order.
    await wear.set('wb-3', { obs: { ...NORMAL, hr: 35 } });
    const c = await raisedFor('3', 'hr');
    expect(c.ts).toBeGreaterThan(b.ts);
    await expect.poll(() => tiers(posted, c.id).length, { timeout: 60_000 }).toBeGreaterThanOrEqual(3);
    expect(tiers(posted, b.id)).toEqual(expectedTiers(b, 2));
    expect(posted.filter((a) => a.id === b.id).map((a) => a.state)).toEqual(['raised', 'escalated', 'acknowledged']);
    expect(nurseCall.some((m) => m.a.id === b.id && (m.a.escalation?.tier ?? 0) >= 3)).toBe(false);
  }, 120_000);

  it('a paging endpoint that is down is a technical alarm until the step goes through late', async () => {
    receiverUp = false;
    await wear.set('wb-2', { obs: { ...NORMAL, spo2: 80 } });
    const find = async () => (await api<{ alarms: Array<{ id: string; conditionActive: boolean; state: string }> }>('/api/alarms')).alarms.find((a) => a.id.startsWith('device:gateway:system:delivery:webhook:high:'));
    await expect.poll(async () => (await find())?.conditionActive, { timeout: 60_000 }).toBe(true);
    receiverUp = true;
    // Latched (high priority): shown, condition over, until someone acknowledges it.
    await expect.poll(async () => (await find())?.state, { timeout: 60_000 }).toBe('cleared');
    const audit = (await api<{ entries: Array<{ action: string; detail: { channel?: string; result?: string; reason?: string } }> }>('/api/audit?limit=2000')).entries;
    expect(audit).toContainEqual(expect.objectContaining({ action: 'alarm.notify', detail: expect.objectContaining({ channel: 'webhook', result: 'failed', reason: expect.stringMatching(/^HTTP 503/) }) }));
    expect(audit).toContainEqual(expect.objectContaining({ action: 'alarm.notify', detail: expect.objectContaining({ channel: 'webhook', result: 'delivered_late' }) }));
  }, 120_000);

  it('an escalation cut by SIGKILL continues after the restart: no tier lost, none derived twice', async () => {
    await wear.set('wb-1', { obs: { ...NORMAL, hr: 35, spo2: 80 } });
    const d = await raisedFor('1', 'spo2');
    await expect.poll(() => tiers(posted, d.id).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    await gw.kill();
    const before = tiers(posted, d.id).length;
    await gw.restart();
    expect((await gw.health()).alarmState).toMatchObject({ restored: true });
    await expect.poll(() => tiers(posted, d.id).length, { timeout: 60_000 }).toBe(4);
    expect(tiers(posted, d.id)).toEqual(expectedTiers(d, 4));
    expect(before).toBeLessThan(4); // the restart fell within the escalation
    await expect.poll(() => tiers(upstream.map((m) => m.a), d.id).length, { timeout: 30_000 }).toBe(4);
    expect(tiers(upstream.map((m) => m.a), d.id)).toEqual(expectedTiers(d, 4));

    // The spool, the record of what was sent, holds each tier of the alarm exactly once.
    await wear.stop();
    await gw.stop();
    const spool = await Spool.open({ dir: join(gw.dataDir, 'spool'), maxBytes: 1_073_741_824, logger: pino({ level: 'silent' }) });
    try {
      const stored: AlarmTransition[] = [];
      const scan = spool.scan('test', { seq: 1, segment: 0, offset: 0 });
      for (;;) {
        const batch = await scan.read(5000);
        if (batch.entries.length === 0) break;
        for (const e of batch.entries) {
          const r = JSON.parse(e.payload.toString()) as SpoolRecord;
          if (r.t === 'alarm' && r.a.id === d.id && r.a.escalation) stored.push(r.a);
        }
        scan.seek(batch.next);
      }
      await scan.release();
      expect(stored.map((a) => [a.escalation!.tier, a.ts])).toEqual(expectedTiers(d, 4).map(([t, ts]) => [t, ts]));
    } finally {
      await spool.close();
    }
  }, 150_000);
});
