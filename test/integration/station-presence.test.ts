/**
 * Who counts as present at the nurse station, and how much one account and the gateway may hold,
 * against real gateway processes over real HTTP and MQTT: an admin's open station (admins cannot
 * acknowledge alarms) confirms no escalation step, so a step that names nobody goes undelivered,
 * raises "Alarm not delivered", and is delivered late once a nurse opens the station; an account
 * holds at most web.sessionsPerAccount sessions (default 10), signing in once more ends the
 * oldest, its live streams closed at once, audited, logged and counted; the gateway holds at most
 * web.liveStreamsTotal live streams, the next answered 503 and counted in /metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { startWearables, type Wearables } from '../support/wearables.js';
import { hashPassword } from '../../src/web/passwords.js';

const PASSWORDS = { nurse: 'nurse-password-1', admin1: 'admin-password-1' };
const ROLES = { nurse: 'nurse', admin1: 'admin' } as const;
const DEVICES = [{ id: 'wb-1', secret: 'wb-1-secret-value' }];
const NORMAL = { hr: 72, spo2: 97, rr: 14 };

interface Session {
  readonly cookie: string;
  readonly csrf: string;
}

type Entry = { who: string; action: string; detail?: Record<string, unknown> };

const users = () => Promise.all((['nurse', 'admin1'] as const).map(async (u) => ({ username: u, role: ROLES[u], passwordHash: await hashPassword(PASSWORDS[u]) })));

/** Sign-in, the live stream and the audit log of one gateway. */
function client(gw: GatewayProcess) {
  const base = `http://127.0.0.1:${gw.httpPort}`;
  return {
    async signIn(username: keyof typeof PASSWORDS): Promise<Session> {
      const res = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: PASSWORDS[username] }) });
      expect(res.status).toBe(200);
      return { cookie: res.headers.get('set-cookie')!.split(';')[0]!, csrf: ((await res.json()) as { csrf: string }).csrf };
    },
    async signOut(s: Session): Promise<void> {
      expect((await fetch(`${base}/api/session`, { method: 'DELETE', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } })).status).toBe(200);
    },
    /** Status of the session's `GET /api/session` (401 once it ended). */
    async status(s: Session): Promise<number> {
      return (await fetch(`${base}/api/session`, { headers: { cookie: s.cookie } })).status;
    },
    /** Opens the nurse station's live stream of a session; `streams` aborts it. */
    station(s: Session, streams: AbortController): Promise<Response> {
      return fetch(`${base}/api/ward/events`, { headers: { cookie: s.cookie }, signal: streams.signal });
    },
    /** Ends a test's streams and waits until the gateway holds none. */
    async closeAll(streams: AbortController): Promise<void> {
      streams.abort();
      await expect.poll(() => gw.metric('vigil_live_streams'), { timeout: 10_000 }).toBe(0);
    },
    async audit(s: Session): Promise<Entry[]> {
      const res = await fetch(`${base}/api/audit?limit=1000`, { headers: { cookie: s.cookie } });
      expect(res.status).toBe(200);
      return ((await res.json()) as { entries: Entry[] }).entries;
    },
  };
}

/** Everything a stream sends until the gateway ends it. */
async function untilEnded(res: Response): Promise<string> {
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body!) text += decoder.decode(chunk as Uint8Array, { stream: true });
  return text;
}

describe('presence at the nurse station and sessions per account (web defaults)', () => {
  let gw: GatewayProcess;
  let wear: Wearables;
  let c: ReturnType<typeof client>;

  beforeAll(async () => {
    gw = await startGatewayProcess({
      config: {
        web: { users: await users() },
        alarms: { delivery: { confirmSeconds: 1 } },
        devices: DEVICES,
        census: { wards: [{ id: 'w1', beds: ['1'] }], patients: [{ id: 'P1', ward: 'w1', bed: '1', devices: ['wb-1'] }] },
        detectors: {
          limits: { hr: { delaySeconds: 0, clearDelaySeconds: 0 } },
          news2: { bandPriority: { 'low-medium': null, medium: null, high: null } },
          // Tier 1 only, for the test's length: the default policy's "Assigned nurse" at the station.
          alarms: { escalationSeconds: { high: 3600, medium: 3600, low: 0 } },
        },
      },
    });
    c = client(gw);
    wear = await startWearables(`mqtt://127.0.0.1:${gw.mqttPort}`, DEVICES);
  }, 60_000);

  afterAll(async () => {
    await wear?.stop();
    await gw?.stop();
    await gw?.cleanup();
  });

  it('an admin\'s open station does not take delivery of a step that names nobody: undelivered, "Alarm not delivered"; a nurse opening the station gets it late', async () => {
    const streams = new AbortController();
    const admin = await c.signIn('admin1');
    const nurse = await c.signIn('nurse');
    try {
      expect((await c.station(admin, streams)).status).toBe(200);
      // Nobody is assigned to bed 1: tier 1 ("Assigned nurse") names nobody. HR 190 raises two
      // alarms on bed 1, above 130 (medium) and above 150 (high).
      await wear.set('wb-1', { obs: { ...NORMAL, hr: 190 } });
      const notified = async () => (await c.audit(admin)).filter((e) => e.action === 'alarm.notify' && e.detail?.channel === 'station' && e.detail.tier === 1 && e.detail.bed === '1');
      const results = async () => (await notified()).map((e) => [e.detail!.id, e.detail!.result, e.detail!.recipients, e.detail!.to ?? e.detail!.reason]).sort();
      const NOBODY = 'no station open by anyone who may acknowledge alarms (Assigned nurse names nobody)';
      await expect.poll(async () => (await notified()).length, { timeout: 20_000 }).toBe(2);
      expect(await results()).toEqual([
        ['P1:limit:hr:high:1', 'failed', [], NOBODY],
        ['P1:limit:hr:highHigh:1', 'failed', [], NOBODY],
      ]);
      await gw.waitForLog((l) => l.msg === `alarm raised: Alarm not delivered: Assigned nurse for bed 1 not delivered at the nurse station: ${NOBODY}`);
      expect(await gw.metric('vigil_alarm_notifications_total', { channel: 'station', result: 'delivered' })).toBe(0);
      expect(await gw.metric('vigil_alarm_notifications_undelivered', { channel: 'station' })).toBeGreaterThanOrEqual(2);

      // Someone who can acknowledge opens the station: delivered late, to them.
      expect((await c.station(nurse, streams)).status).toBe(200);
      await expect.poll(async () => (await notified()).length, { timeout: 10_000 }).toBe(4);
      expect(await results()).toEqual([
        ['P1:limit:hr:high:1', 'delivered_late', [], ['nurse']],
        ['P1:limit:hr:high:1', 'failed', [], NOBODY],
        ['P1:limit:hr:highHigh:1', 'delivered_late', [], ['nurse']],
        ['P1:limit:hr:highHigh:1', 'failed', [], NOBODY],
      ]);
      expect(await gw.metric('vigil_alarm_notifications_undelivered', { channel: 'station' })).toBe(0);
      await wear.set('wb-1', { obs: NORMAL });
    } finally {
      await c.closeAll(streams);
      await c.signOut(admin);
      await c.signOut(nurse);
    }
  }, 60_000);

  it('signing in past web.sessionsPerAccount (10) ends the account\'s oldest session and closes its live streams at once; audited, logged, counted', async () => {
    const streams = new AbortController();
    const admin = await c.signIn('admin1');
    try {
      const oldest = await c.signIn('nurse');
      const held: Session[] = [];
      for (let i = 0; i < 9; i++) held.push(await c.signIn('nurse'));
      const oldestStreams = [await c.station(oldest, streams), await c.station(oldest, streams)];
      expect(oldestStreams.map((r) => r.status)).toEqual([200, 200]);
      const ended = oldestStreams.map((r) => untilEnded(r).catch((err: Error) => `aborted: ${err.name}`));
      expect(await c.status(oldest)).toBe(200);

      const newest = await c.signIn('nurse');
      expect(await c.status(oldest)).toBe(401);
      // The oldest session's streams are told and closed at once, not at the next heartbeat.
      expect(await gw.metric('vigil_live_streams')).toBe(0);
      for (const text of await Promise.all(ended)) expect(text).toMatch(/event: signedout\n/);
      for (const s of [...held, newest]) expect(await c.status(s)).toBe(200);
      expect(await gw.metric('vigil_signin_sessions_ended_total')).toBe(1);

      const entries = (await c.audit(admin)).filter((e) => e.who === 'nurse' && e.action === 'session.ended');
      expect(entries).toEqual([expect.objectContaining({ detail: expect.objectContaining({ reason: 'sessions per account (web.sessionsPerAccount)', liveStreamsClosed: 2 }) })]);
      const log = await gw.waitForLog((l) => l.msg === 'nurse station sign-in ended the oldest session of the account');
      expect(log).toMatchObject({ username: 'nurse', liveStreamsClosed: 2 });

      // 5 more sign-ins leave the account its 10 sessions, on disk too.
      for (let i = 0; i < 5; i++) await c.signIn('nurse');
      expect(await gw.metric('vigil_signin_sessions_ended_total')).toBe(6);
      expect(await gw.metric('vigil_web_sessions')).toBe(11); // the nurse's 10 and the admin's
      const saved = async () => (JSON.parse(await readFile(join(gw.dataDir, 'web', 'sessions.json'), 'utf8')) as { sessions: Array<[string, { username: string }]> }).sessions.filter(([, s]) => s.username === 'nurse').length;
      await expect.poll(saved, { timeout: 10_000 }).toBe(10);
    } finally {
      await c.closeAll(streams);
      await c.signOut(admin);
    }
  }, 60_000);
});

describe('live streams of the whole gateway (web.liveStreamsTotal 4, web.liveStreamsPerSession 2)', () => {
  let gw: GatewayProcess;
  let c: ReturnType<typeof client>;

  beforeAll(async () => {
    gw = await startGatewayProcess({ config: { web: { users: await users(), liveStreamsPerSession: 2, liveStreamsTotal: 4 } } });
    c = client(gw);
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
    await gw?.cleanup();
  });

  it('the next stream past the bound is answered 503 and counted; closing one frees a place', async () => {
    const streams = new AbortController();
    const [a, b, n] = [await c.signIn('admin1'), await c.signIn('nurse'), await c.signIn('nurse')];
    try {
      const opened = [await c.station(a, streams), await c.station(a, streams), await c.station(b, streams), await c.station(b, streams)];
      expect(opened.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect((await c.station(a, streams)).status).toBe(429); // the session's own bound comes first
      const refused = await c.station(n, streams);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(((await refused.json()) as { error: string }).error).toBe('the gateway already has 4 live streams open (web.liveStreamsTotal); try again later');
      expect(await gw.metric('vigil_live_streams_refused_total', { bound: 'gateway' })).toBe(1);
      expect(await gw.metric('vigil_live_streams_refused_total', { bound: 'session' })).toBe(1);
      expect(await gw.metric('vigil_live_streams')).toBe(4);
      await opened[0]!.body!.cancel();
      await expect.poll(() => gw.metric('vigil_live_streams'), { timeout: 10_000 }).toBe(3);
      expect((await c.station(n, streams)).status).toBe(200);
    } finally {
      await c.closeAll(streams);
      for (const s of [a, b, n]) await c.signOut(s);
    }
  }, 60_000);
});
