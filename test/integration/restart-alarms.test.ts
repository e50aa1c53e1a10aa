/**
 * Alarm state outlives the process. A ward with an escalated latching alarm, an acknowledged one,
 * a silenced one and a latched one (condition over, not yet acknowledged), on four patients; the
 * gateway is killed (SIGKILL), stopped (SIGTERM) and replaced by another build over the same data
 * directory, and each time comes back with the same alarms (ids, states, acknowledgements,
 * silences, latches, escalations), the same NEWS2 and ward view, the retained `/active` topics,
 * and the nurse still signed in; nothing is sent again to the webhook or the upstream bridge.
 * When the state cannot be read, it says so, ends the alarms it can no longer follow, and never
 * gives an alarm id again.
 */
import { cp, mkdtemp, readdir, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/web/passwords.js';
import { CLI, startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { until } from '../support/wait.js';

const TOKEN = 'restart-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const NURSE = { username: 'nurse.kim', password: 'nurse-password-1' };
const BEDS = ['1', '2', '3', '4'] as const;

let gw: GatewayProcess;
let upstream: Mosquitto;
let hook: Server;
/** Every alarm transition the webhook receiver got, as `id|state|ts`. */
const hooked: string[] = [];
/** Every alarm message the hospital broker got, as `topic|payload`. */
const bridged: string[] = [];
let upstreamSub: mqtt.MqttClient;
let cookie = '';
let otherBuild = '';

beforeAll(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      for (const a of (JSON.parse(body) as { alarms: Array<{ id: string; state: string; ts: number }> }).alarms) hooked.push(`${a.id}|${a.state}|${a.ts}`);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  upstream = await startMosquitto();
  upstreamSub = await mqtt.connectAsync(upstream.url, { reconnectPeriod: 0 });
  upstreamSub.on('message', (topic, payload) => bridged.push(`${topic}|${payload.toString()}`));
  await upstreamSub.subscribeAsync('vigil/#', { qos: 1 });

  gw = await startGatewayProcess({
    config: {
      http: { apiToken: TOKEN },
      mqtt: { consumers: [{ id: 'nurse-call', secret: 'nurse-call-secret', topics: ['vigil/v1/alarms/#'] }] },
      web: { users: [{ username: NURSE.username, role: 'nurse', passwordHash: await hashPassword(NURSE.password) }] },
      devices: BEDS.map((b) => ({ id: `wb-${b}`, secret: `wb-${b}-secret-value` })),
      census: { wards: [{ id: 'w1', beds: [...BEDS] }], patients: BEDS.map((b) => ({ id: `P${b}`, ward: 'w1', bed: b, devices: [`wb-${b}`] })) },
      // Short delays keep the real-time episodes short; no signal loss meanwhile.
      detectors: {
        limits: { spo2: { delaySeconds: 1, clearDelaySeconds: 1 }, hr: { delaySeconds: 1, clearDelaySeconds: 1 } },
        technical: { signalLossSeconds: 3600 },
        // nothing else changes while the gateway is down and back: no NEWS2 band alarms, nothing stale
        news2: { bandPriority: { 'low-medium': null, medium: null, high: null }, staleSeconds: { hr: 3600, pr: 3600, spo2: 3600, rr: 3600 } },
        alarms: { escalationSeconds: { high: 2, medium: 3600, low: 0 } },
      },
      // Saved only at start and stop here: a kill must replay everything since the start.
      alarms: { webhook: { url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alarms` }, checkpointSeconds: 3600 },
      bridge: { url: upstream.url, clientId: 'vigil-restart-test', wardId: 'w1' },
    },
  });
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  await gw?.cleanup();
  await upstreamSub?.endAsync(true);
  await upstream?.dispose();
  await new Promise<void>((r) => (hook ? hook.close(() => r()) : r()));
  if (otherBuild) await rm(otherBuild, { recursive: true, force: true });
});

interface Alarm {
  id: string;
  patientId: string;
  priority: string;
  state: string;
  acknowledged: boolean;
  escalated: boolean;
  conditionActive: boolean;
  silencedUntil?: number;
}

const get = async <T>(path: string, headers: Record<string, string> = auth): Promise<T> => (await fetch(`http://127.0.0.1:${gw.httpPort}${path}`, { headers })).json() as Promise<T>;
const post = (path: string, body: unknown): Promise<Response> => fetch(`http://127.0.0.1:${gw.httpPort}${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const alarms = async (): Promise<Alarm[]> => (await get<{ alarms: Alarm[] }>('/api/alarms')).alarms;
const alarmOf = async (patientId: string): Promise<Alarm | undefined> => (await alarms()).find((a) => a.patientId === patientId && a.priority !== 'low');

/** Everything a nurse or a machine client can see of the ward's state (minus the clock). */
async function wardState() {
  const { now: _n, ...ward } = await get<Record<string, unknown>>('/api/ward');
  const history = await Promise.all(BEDS.map(async (b) => {
    const { now: _m, ...h } = await get<Record<string, unknown>>(`/api/patients/P${b}/history?hours=6`);
    return h;
  }));
  return { alarms: await alarms(), news2: await Promise.all(BEDS.map((b) => get(`/api/patients/P${b}/news2`))), ward, history };
}

/** Retained `/active` messages a nurse-call system gets when it connects now: bed → alarm ids. */
async function retainedActive(): Promise<Record<string, string[]>> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, { username: 'nurse-call', password: 'nurse-call-secret', reconnectPeriod: 0 });
  const got: Record<string, string[]> = {};
  c.on('message', (topic, payload, packet) => {
    if (packet.retain) got[topic] = (JSON.parse(payload.toString()) as { alarms: Array<{ id: string }> }).alarms.map((a) => a.id).sort();
  });
  await c.subscribeAsync('vigil/v1/alarms/+/+/active', { qos: 1 });
  await until(() => Object.keys(got).length === BEDS.length, 'a retained /active message for every bed');
  await c.endAsync();
  return got;
}

/** /healthz: its status and body. */
async function healthz(): Promise<Record<string, unknown> & { status: number }> {
  const res = await fetch(`http://127.0.0.1:${gw.httpPort}/healthz`);
  return { status: res.status, ...((await res.json()) as Record<string, unknown>) };
}

/** The alarm transitions the hospital broker got, as `id|state|ts`. */
function bridgedAlarms(): string[] {
  const out: string[] = [];
  for (const m of bridged) {
    const body = JSON.parse(m.slice(m.indexOf('|') + 1)) as { type: string; alarm?: { id: string; state: string; ts: number } };
    if (body.type === 'alarm' && body.alarm) out.push(`${body.alarm.id}|${body.alarm.state}|${body.alarm.ts}`);
  }
  return out;
}

/** Waits until the webhook and the bridge have taken everything in the spool. */
async function deliveredEverything(): Promise<void> {
  await expect.poll(async () => {
    const h = await gw.health();
    return [(h.webhook as { lagRecords: number }).lagRecords, (h.bridge as { lagRecords: number }).lagRecords];
  }, { timeout: 30_000 }).toEqual([0, 0]);
}

/** Every bed's wearable publishing every 250 ms what `values` says now, until `stop`. */
async function wearables(values: Record<string, Record<string, number>>): Promise<() => Promise<void>> {
  const clients = await Promise.all(BEDS.map((b) => mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, { username: `wb-${b}`, password: `wb-${b}-secret-value`, reconnectPeriod: 0 })));
  let running = true;
  const loops = clients.map(async (c, i) => {
    while (running) {
      await c.publishAsync(`vigil/v1/dev/wb-${BEDS[i]}/obs`, JSON.stringify({ obs: values[`P${BEDS[i]}`] }), { qos: 1 });
      await new Promise((r) => setTimeout(r, 250));
    }
  });
  return async () => {
    running = false;
    await Promise.all(loops);
    await Promise.all(clients.map((c) => c.endAsync()));
  };
}

describe('alarm state across restarts', () => {
  let before: Awaited<ReturnType<typeof wardState>>;
  let retainedBefore: Record<string, string[]>;

  it('builds a ward with escalated, acknowledged, silenced and latched alarms', async () => {
    const values: Record<string, Record<string, number>> = {
      P1: { spo2: 80, hr: 95, rr: 22, temp: 37.9 }, // high priority: latching, left to escalate
      P2: { spo2: 88, hr: 80, rr: 16, temp: 37.0 }, // medium: acknowledged
      P3: { spo2: 97, hr: 140, rr: 18, temp: 37.2 }, // medium: silenced
      P4: { spo2: 80, hr: 75, rr: 14, temp: 36.8 }, // high priority: recovers before anyone acknowledges
    };
    const stop = await wearables(values);
    await expect.poll(async () => (await alarmOf('P1'))?.escalated, { timeout: 20_000 }).toBe(true);
    await expect.poll(() => alarmOf('P2'), { timeout: 20_000 }).toBeDefined();
    const p2 = (await alarmOf('P2'))!;
    expect((await post(`/api/alarms/${encodeURIComponent(p2.id)}/ack`, { by: 'nurse.kim' })).status).toBe(200);
    await expect.poll(async () => (await alarmOf('P3'))?.id, { timeout: 20_000 }).toMatch(/limit:hr:high/);
    const p3 = (await alarmOf('P3'))!;
    expect((await post(`/api/alarms/${encodeURIComponent(p3.id)}/silence`, { by: 'nurse.kim', seconds: 600 })).status).toBe(200);
    await expect.poll(async () => (await alarmOf('P4'))?.priority, { timeout: 20_000 }).toBe('high');
    values.P4 = { ...values.P4!, spo2: 97 };
    await expect.poll(async () => (await alarmOf('P4'))?.state, { timeout: 20_000 }).toBe('cleared');
    await stop();

    const signIn = await fetch(`http://127.0.0.1:${gw.httpPort}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(NURSE) });
    expect(signIn.status).toBe(200);
    cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;

    await deliveredEverything();
    before = await wardState();
    const shown = new Map(before.alarms.filter((a) => a.priority !== 'low').map((a) => [a.patientId, a]));
    expect(shown.get('P1')).toMatchObject({ state: 'escalated', escalated: true, acknowledged: false, conditionActive: true });
    expect(shown.get('P2')).toMatchObject({ state: 'acknowledged', acknowledged: true });
    expect(shown.get('P3')).toMatchObject({ acknowledged: false, silencedUntil: expect.any(Number) });
    expect(shown.get('P4')).toMatchObject({ state: 'cleared', conditionActive: false, acknowledged: false });
    // NEWS2 is now, from all four vitals sent together: only the manual parameters are missing.
    const news2 = before.news2[0] as { patientId: string; missing: string[]; parts: object };
    expect(news2.patientId).toBe('P1');
    expect([...news2.missing].sort()).toEqual(['acvpu', 'o2', 'sbp']);
    expect(Object.keys(news2.parts).sort()).toEqual(['pulse', 'rr', 'spo2', 'temp']);
    retainedBefore = await retainedActive();
    for (const b of BEDS) expect(retainedBefore[`vigil/v1/alarms/w1/${b}/active`]).toEqual(before.alarms.filter((a) => a.patientId === `P${b}`).map((a) => a.id).sort());
    expect(hooked.length).toBeGreaterThan(6);
    expect(bridged.length).toBeGreaterThan(6);
  }, 90_000);

  const comesBack = async (how: string): Promise<void> => {
    const hookedBefore = [...hooked];
    const bridgedBefore = [...bridged];
    const health = await gw.health();
    expect(health.alarmState, how).toMatchObject({ restored: true, recovered: 0, activeAlarms: before.alarms.length });
    expect(await wardState(), how).toEqual(before);
    expect(await retainedActive(), how).toEqual(retainedBefore);
    const session = await fetch(`http://127.0.0.1:${gw.httpPort}/api/session`, { headers: { cookie } });
    expect(session.status, how).toBe(200);
    expect(await session.json()).toMatchObject({ username: NURSE.username });
    await deliveredEverything();
    expect(hooked, how).toEqual(hookedBefore);
    expect(bridged, how).toEqual(bridgedBefore);
  };

  it('after SIGKILL: everything since the start is replayed from the spool, nothing sent twice', async () => {
    await gw.kill();
    // as a process killed while saving leaves it: a whole state's worth, never committed
    const stateDir = join(gw.dataDir, 'state');
    await writeFile(join(stateDir, 'alarms.json.tmp-4194303'), 'a save cut short');
    await gw.restart();
    expect(await readdir(stateDir)).not.toContain('alarms.json.tmp-4194303');
    const health = await gw.health();
    expect((health.alarmState as { replayed: number }).replayed).toBeGreaterThan(50);
    await comesBack('SIGKILL');
  }, 90_000);

  it('after a graceful restart: from the state saved at stop', async () => {
    expect(await gw.stop()).toBe(0);
    await gw.restart();
    expect((await gw.health()).alarmState).toMatchObject({ replayed: 0 });
    await comesBack('SIGTERM');
  }, 90_000);

  it('after an upgrade: another build over the same data directory', async () => {
    expect(await gw.stop()).toBe(0);
    otherBuild = await mkdtemp(join(tmpdir(), 'vigil-build-'));
    const root = resolve(dirname(CLI), '../../..');
    await cp(join(root, 'dist'), join(otherBuild, 'dist'), { recursive: true });
    await cp(join(root, 'src', 'web', 'public'), join(otherBuild, 'src', 'web', 'public'), { recursive: true });
    await cp(join(root, 'package.json'), join(otherBuild, 'package.json'));
    await symlink(join(root, 'node_modules'), join(otherBuild, 'node_modules'));
    await gw.restart({ cli: join(otherBuild, 'dist', 'src', 'cli', 'main.js') });
    await comesBack('upgrade');
  }, 90_000);

  it('says so plainly when the state cannot be restored: in /healthz, and as an alarm that stays until acknowledged', async () => {
    expect(await gw.stop()).toBe(0);
    await writeFile(join(gw.dataDir, 'state', 'alarms.json'), '{"format": 1, "seq": ');
    await gw.restart();
    const state = (await gw.health()).alarmState as { restored: boolean; problem: string };
    expect(state.restored).toBe(false);
    expect(state.problem).toMatch(/alarms\.json is not valid JSON/);
    await expect.poll(async () => (await alarms()).find((a) => a.id.includes('state_not_restored')), { timeout: 10_000 }).toMatchObject({ priority: 'high', state: 'cleared', acknowledged: false });
    const notice = (await alarms()).find((a) => a.id.includes('state_not_restored'))!;
    expect((notice as unknown as { reason: string }).reason).toBeDefined();
    // degraded: what the station shows may lack alarms from before, until someone has looked
    expect(await healthz()).toMatchObject({ status: 503, ok: false, alarmState: { incomplete: true } });
    expect((await post(`/api/alarms/${encodeURIComponent(notice.id)}/ack`, { by: 'nurse.kim' })).status).toBe(200);
    await expect.poll(async () => (await alarms()).some((a) => a.id === notice.id), { timeout: 10_000 }).toBe(false);
    expect(await healthz()).toMatchObject({ status: 200, ok: true, alarmState: { incomplete: false } });
  }, 60_000);

  it('after SIGKILL and a state file cut short: alarms open before are ended, and no alarm id is given again', async () => {
    const values: Record<string, Record<string, number>> = {
      P1: { spo2: 80, hr: 95, rr: 22, temp: 37.9 },
      P2: { spo2: 88, hr: 80, rr: 16, temp: 37.0 },
      P3: { spo2: 97, hr: 140, rr: 18, temp: 37.2 },
      P4: { spo2: 80, hr: 75, rr: 14, temp: 36.8 },
    };
    const limitAlarms = async (): Promise<Alarm[]> => (await alarms()).filter((a) => a.id.includes(':limit:'));
    let stop = await wearables(values);
    await expect.poll(async () => new Set((await limitAlarms()).map((a) => a.patientId)).size, { timeout: 20_000 }).toBe(BEDS.length);
    await stop();
    await deliveredEverything();
    const openBefore = (await alarms()).map((a) => a.id).sort();
    const sentBefore = new Set([...hooked, ...bridgedAlarms()].map((t) => t.split('|')[0]!));
    const hookedBefore = hooked.length;

    await gw.kill();
    await truncate(join(gw.dataDir, 'state', 'alarms.json'), 300);
    await gw.restart();

    // the same conditions again: new alarms, none under an id sent before
    stop = await wearables(values);
    await expect.poll(async () => new Set((await limitAlarms()).map((a) => a.patientId)).size, { timeout: 20_000 }).toBe(BEDS.length);
    await stop();
    await expect.poll(async () => (await alarms()).some((a) => a.id.includes('state_not_restored')), { timeout: 10_000 }).toBe(true);
    const now = (await alarms()).map((a) => a.id);
    for (const id of now) expect(sentBefore.has(id), `${id} was sent before the restart`).toBe(false);
    const notice = (await alarms()).find((a) => a.id.includes('state_not_restored'))!;

    // every alarm open before is resolved downstream, once, saying why
    await deliveredEverything();
    const ended = hooked.slice(hookedBefore).filter((t) => t.split('|')[1] === 'resolved').map((t) => t.split('|')[0]!);
    expect(ended.sort()).toEqual(openBefore);
    const endedBridged = bridgedAlarms().filter((t) => t.split('|')[1] === 'resolved').map((t) => t.split('|')[0]!);
    for (const id of openBefore) expect(endedBridged).toContain(id);
    // as a consumer keyed on id sees it: nothing ever follows an id's `resolved`
    for (const sent of [hooked, bridgedAlarms()]) {
      const over = new Set<string>();
      for (const t of sent) {
        const [id, state] = t.split('|') as [string, string];
        expect(over.has(id), `${t} after ${id} resolved`).toBe(false);
        if (state === 'resolved') over.add(id);
      }
    }

    // degraded until someone acknowledges the notice
    expect(await healthz()).toMatchObject({ status: 503, ok: false, alarmState: { restored: false, incomplete: true, endedUnknown: openBefore.length, problem: expect.stringMatching(/not valid JSON/) } });
    expect((await post(`/api/alarms/${encodeURIComponent(notice.id)}/ack`, { by: 'nurse.kim' })).status).toBe(200);
    await expect.poll(async () => (await healthz()).status, { timeout: 10_000 }).toBe(200);
  }, 90_000);
});
