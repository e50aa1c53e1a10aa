/**
 * The limits in force are the limits shown, through every census operation, observed through
 * alarms on a real gateway: devices publish over MQTT just at and just beyond the limits the API
 * shows for their patient, and the alarms that come (or do not) must agree. Also: only the
 * clinical roles set clinical settings, by whatever path; NEWS2 is the current score.
 *
 * Delays, clear delays, hysteresis and the flap hold are 0 here, so a value's effect is in the
 * alarm list by the time its PUBACK arrives (the PUBACK waits for the detectors to take it).
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/web/passwords.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';

const TOKEN = 'census-limits-token-0123456789';
const BEDS = ['1', '2', '3', '4', '5'];
const DEVICES = ['d1', 'd2', 'd3', 'd4'];
const PASSWORD = 'role-password-1';

let gw: GatewayProcess;
const clients = new Map<string, mqtt.MqttClient>();

beforeAll(async () => {
  const zero = { delaySeconds: 0, clearDelaySeconds: 0, hysteresis: 0 };
  gw = await startGatewayProcess({
    config: {
      http: { apiToken: TOKEN },
      mqtt: { rate: { messagesPerSecond: 10_000, burst: 10_000 } },
      web: { users: await Promise.all((['nurse', 'charge', 'admin'] as const).map(async (role) => ({ username: role, role, passwordHash: await hashPassword(PASSWORD) }))) },
      devices: DEVICES.map((id) => ({ id, secret: `${id}-secret-value` })),
      census: { wards: [{ id: 'w1', beds: BEDS }], patients: [] },
      detectors: {
        limits: { spo2: zero, hr: zero },
        alarms: { flapHoldSeconds: 0, latching: [], escalationSeconds: { high: 0, medium: 0, low: 0 } },
        news2: { bandPriority: { 'low-medium': null, medium: null, high: null } },
        technical: { signalLossSeconds: 3600 },
        trend: { ewmaShift: { hr: null, rr: null } },
      },
    },
    env: { VIGIL_LOG_LEVEL: 'warn' },
  });
  for (const id of DEVICES) clients.set(id, await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, { username: id, password: `${id}-secret-value`, reconnectPeriod: 0 }));
}, 60_000);

afterAll(async () => {
  for (const c of clients.values()) await c.endAsync(true);
  await gw?.stop();
  await gw?.cleanup();
});

type Limits = Record<'spo2' | 'hr', { low: number | null; lowHigh: number | null; high: number | null; highHigh: number | null }>;
interface Alarm {
  id: string;
  patientId?: string;
  metric?: string;
  kind: string;
}

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }): Promise<Response> {
  return fetch(`http://127.0.0.1:${gw.httpPort}${path}`, { method, headers: { ...headers, ...(body !== undefined && { 'content-type': 'application/json' }) }, ...(body !== undefined && { body: JSON.stringify(body) }) });
}
const ok = async (res: Promise<Response>): Promise<void> => {
  const r = await res;
  expect(r.status, await r.clone().text()).toBeLessThan(300);
};
const shownLimits = async (patientId: string): Promise<Limits> => ((await (await api('GET', `/api/patients/${patientId}/history?hours=1`)).json()) as { limits: Limits }).limits;
const limitAlarms = async (patientId: string, metric: string): Promise<string[]> =>
  ((await (await api('GET', '/api/alarms')).json()) as { alarms: Alarm[] }).alarms.filter((a) => a.patientId === patientId && a.metric === metric && a.kind === 'limit').map((a) => a.id.split(':').slice(-2, -1)[0]!);
/** Publishes one reading and returns once it is acknowledged (and so taken by the detectors). */
const send = (device: string, obs: Record<string, number>): Promise<unknown> => clients.get(device)!.publishAsync(`vigil/v1/dev/${device}/obs`, JSON.stringify({ obs }), { qos: 1 });

/**
 * Checks, through alarms, that the SpO2 low and heart-rate high limits in force for the patient
 * on `device` are the ones the API shows: at the limit nothing, just beyond it that alarm, back
 * in range nothing again.
 */
async function probe(patientId: string, device: string): Promise<void> {
  const shown = await shownLimits(patientId);
  const low = shown.spo2.low!;
  const high = shown.hr.high!;
  const normal = { spo2: 99, hr: 70 };
  await send(device, { ...normal, spo2: low });
  expect(await limitAlarms(patientId, 'spo2'), `${patientId} SpO2 ${low} at its shown low limit`).toEqual([]);
  await send(device, { ...normal, spo2: low - 0.5 });
  expect(await limitAlarms(patientId, 'spo2'), `${patientId} SpO2 ${low - 0.5} below its shown low limit ${low}`).toEqual(['low']);
  await send(device, normal);
  expect(await limitAlarms(patientId, 'spo2')).toEqual([]);
  await send(device, { ...normal, hr: high });
  expect(await limitAlarms(patientId, 'hr'), `${patientId} HR ${high} at its shown high limit`).toEqual([]);
  await send(device, { ...normal, hr: high + 0.5 });
  expect(await limitAlarms(patientId, 'hr'), `${patientId} HR ${high + 0.5} above its shown high limit ${high}`).toEqual(['high']);
  await send(device, normal);
  expect(await limitAlarms(patientId, 'hr')).toEqual([]);
}

/** A small deterministic generator, so a failing sequence can be replayed from its seed. */
function rng(seed: number): () => number {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

describe('the limits in force are the limits shown', () => {
  it('admit with limits, replace them, discharge and re-admit: each in force at once (a control patient alarms on the defaults)', async () => {
    await ok(api('POST', '/api/census/patients', { id: 'CTRL', ward: 'w1', bed: '5', devices: ['d4'] }));
    // limits given with the admission are used at once
    await ok(api('POST', '/api/census/patients', { id: 'A', ward: 'w1', bed: '1', devices: ['d1'], settings: { limits: { spo2: { low: 85, lowHigh: 80 } } } }));
    await send('d1', { spo2: 87, hr: 70 });
    await send('d4', { spo2: 87, hr: 70 });
    expect(await limitAlarms('A', 'spo2')).toEqual([]);
    expect(await limitAlarms('CTRL', 'spo2')).toEqual(['low']);
    // replacing the overrides with a set that leaves SpO2 out puts SpO2 back to the ward default
    await ok(api('PUT', '/api/census/patients/A/settings', { limits: { hr: { high: 110 } } }));
    expect((await shownLimits('A')).spo2.low).toBe(90);
    await send('d1', { spo2: 87.5, hr: 70 });
    expect(await limitAlarms('A', 'spo2')).toEqual(['low']);
    // a discharged patient's overrides do not follow the same id into a new admission
    await ok(api('PUT', '/api/census/patients/A/settings', { limits: { spo2: { low: 85, lowHigh: 80 } } }));
    await send('d1', { spo2: 87, hr: 70 });
    expect(await limitAlarms('A', 'spo2')).toEqual([]);
    await ok(api('DELETE', '/api/census/patients/A'));
    await ok(api('POST', '/api/census/patients', { id: 'A', ward: 'w1', bed: '2', devices: ['d1'] }));
    expect((await shownLimits('A')).spo2.low).toBe(90);
    await send('d1', { spo2: 87.5, hr: 70 });
    expect(await limitAlarms('A', 'spo2')).toEqual(['low']);
    for (const id of ['A', 'CTRL']) await ok(api('DELETE', `/api/census/patients/${id}`));
  }, 60_000);

  it('through random sequences of admit, replace settings, move, discharge and re-admit', async () => {
    const random = rng(20261130);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const patients = ['P1', 'P2', 'P3'];
    const admitted = new Map<string, string>(); // patient → bed
    const settings = (): Record<string, unknown> => {
      const s: Record<string, unknown> = {};
      if (random() < 0.3) s.spo2Scale = pick([1, 2]);
      const limits: Record<string, unknown> = {};
      if (random() < 0.6) {
        const low = 86 + Math.floor(random() * 10);
        limits.spo2 = { low, ...(random() < 0.5 && { lowHigh: low - 2 - Math.floor(random() * 4) }) };
      }
      if (random() < 0.6) {
        const high = 100 + Math.floor(random() * 40);
        limits.hr = { high, ...(random() < 0.5 && { highHigh: high + 5 + Math.floor(random() * 10) }) };
      }
      if (Object.keys(limits).length > 0 || random() < 0.5) s.limits = limits;
      return s;
    };
    const ops: string[] = [];
    for (let step = 0; step < 40; step++) {
      const p = pick(patients);
      const device = `d${patients.indexOf(p) + 1}`;
      const free = BEDS.filter((b) => ![...admitted.values()].includes(b));
      if (!admitted.has(p)) {
        const bed = pick(free);
        const body = { id: p, ward: 'w1', bed, devices: [device], ...(random() < 0.6 && { settings: settings() }) };
        ops.push(`admit ${JSON.stringify(body)}`);
        await ok(api('POST', '/api/census/patients', body));
        admitted.set(p, bed);
      } else {
        const r = random();
        if (r < 0.45) {
          const body = settings();
          ops.push(`settings ${p} ${JSON.stringify(body)}`);
          await ok(api('PUT', `/api/census/patients/${p}/settings`, body));
        } else if (r < 0.7) {
          const bed = pick(free);
          ops.push(`move ${p} ${bed}`);
          await ok(api('POST', `/api/census/patients/${p}/move`, { ward: 'w1', bed }));
          admitted.set(p, bed);
        } else {
          ops.push(`discharge ${p}`);
          await ok(api('DELETE', `/api/census/patients/${p}`));
          admitted.delete(p);
          // gone: its alarms ended, and its device's data is unassigned
          await send(device, { spo2: 70, hr: 170 });
          expect(((await (await api('GET', '/api/alarms')).json()) as { alarms: Alarm[] }).alarms.filter((a) => a.patientId === p), ops.join('\n')).toEqual([]);
        }
      }
      for (const [q] of admitted) {
        try {
          await probe(q, `d${patients.indexOf(q) + 1}`);
        } catch (err) {
          throw new Error(`after:\n${ops.join('\n')}\n${(err as Error).message}`);
        }
      }
    }
    for (const [q] of admitted) await ok(api('DELETE', `/api/census/patients/${q}`));
    expect(ops.filter((o) => o.startsWith('discharge')).length).toBeGreaterThan(2);
    expect(ops.filter((o) => o.startsWith('settings')).length).toBeGreaterThan(5);
  }, 120_000);
});

describe('clinical settings belong to the clinical roles', () => {
  async function as(role: 'nurse' | 'charge' | 'admin'): Promise<Record<string, string>> {
    const res = await api('POST', '/api/session', { username: role, password: PASSWORD }, {});
    expect(res.status).toBe(200);
    const csrf = ((await res.json()) as { csrf: string }).csrf;
    return { cookie: res.headers.get('set-cookie')!.split(';')[0]!, 'x-csrf-token': csrf, origin: `http://127.0.0.1:${gw.httpPort}` };
  }

  it('on every path that sets or ends them: settings, an admission (or a re-admission) that brings them, a discharge that ends them', async () => {
    const session = { nurse: await as('nurse'), charge: await as('charge'), admin: await as('admin') };
    const withSettings = (id: string, bed: string) => ({ id, ward: 'w1', bed, settings: { limits: { spo2: { low: 85 } } } });
    const status = async (role: keyof typeof session, method: string, path: string, body?: unknown): Promise<number> => (await api(method, path, body, session[role])).status;

    expect(await status('nurse', 'POST', '/api/census/patients', withSettings('R1', '1'))).toBe(403);
    expect(await status('admin', 'POST', '/api/census/patients', withSettings('R1', '1'))).toBe(403);
    expect(await status('admin', 'POST', '/api/census/patients', { ...withSettings('R1', '1'), settings: { spo2Scale: 2 } })).toBe(403);
    expect(await status('charge', 'POST', '/api/census/patients', withSettings('R1', '1'))).toBe(200);
    // the admin keeps the census: admitting without settings, discharging…
    expect(await status('admin', 'POST', '/api/census/patients', { id: 'R2', ward: 'w1', bed: '2' })).toBe(200);
    expect(await status('admin', 'POST', '/api/census/patients', { id: 'R3', ward: 'w1', bed: '3', settings: {} })).toBe(200);
    // …but not discharging a patient with limits of their own: re-admitted without them, the
    // patient would be on the ward defaults, a way around the limits right
    const refused = await api('DELETE', '/api/census/patients/R1', undefined, session.admin);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toBe('limits: patient R1 has alarm limits or an SpO2 scale of their own, which a discharge ends; discharging them needs the charge role (you are admin)');
    expect((await shownLimits('R1')).spo2.low).toBe(85);
    expect(await status('charge', 'DELETE', '/api/census/patients/R1')).toBe(200);
    // …nor a re-admission that brings settings: a clinical change
    expect(await status('admin', 'POST', '/api/census/patients', withSettings('R1', '1'))).toBe(403);
    for (const role of ['nurse', 'admin'] as const) expect(await status(role, 'PUT', '/api/census/patients/R2/settings', { limits: { spo2: { low: 85 } } })).toBe(403);
    expect(await status('charge', 'PUT', '/api/census/patients/R2/settings', { limits: { spo2: { low: 85 } } })).toBe(200);
    expect((await shownLimits('R2')).spo2.low).toBe(85);
    expect((await shownLimits('R3')).spo2.low).toBe(90);
    expect(await status('admin', 'DELETE', '/api/census/patients/R2')).toBe(403);
    expect(await status('admin', 'POST', '/api/census/patients/R2/move', { ward: 'w1', bed: '4' })).toBe(200); // moving keeps them
    expect((await shownLimits('R2')).spo2.low).toBe(85);
    expect(await status('charge', 'DELETE', '/api/census/patients/R2')).toBe(200);
    expect(await status('admin', 'DELETE', '/api/census/patients/R3')).toBe(200); // on the ward defaults: nothing to lose
  });
});

describe('NEWS2', () => {
  it('is the score now: vitals sent together are all in its parts, whatever was emitted', async () => {
    await ok(api('POST', '/api/census/patients', { id: 'N1', ward: 'w1', bed: '4', devices: ['d4'] }));
    await send('d4', { hr: 72, spo2: 97, rr: 14, temp: 36.8 });
    const n = (await (await api('GET', '/api/patients/N1/news2')).json()) as { score: number; missing: string[]; parts: Record<string, unknown> };
    expect([...n.missing].sort()).toEqual(['acvpu', 'o2', 'sbp']);
    expect(Object.keys(n.parts).sort()).toEqual(['pulse', 'rr', 'spo2', 'temp']);
    expect(n.score).toBe(0);
    await ok(api('DELETE', '/api/census/patients/N1'));
  });
});
