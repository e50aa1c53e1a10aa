/**
 * The nurse station's limits against a real gateway process over real HTTP: sign-in attempts
 * are counted before the password is checked (no race past the limit), password checks run a
 * bounded number at once, the limiter's memory stays bounded under username spraying, refused
 * sign-ins neither flood the audit log nor push real entries out of its view, a session holds a
 * bounded number of live-feed streams, and the census API takes only well-formed ids.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { hashPassword } from '../../src/web/passwords.js';

const PASSWORDS = { nurse: 'nurse-password-1', charge: 'charge-password-1', admin: 'admin-password-1' };

async function users() {
  return Promise.all((['nurse', 'charge', 'admin'] as const).map(async (role) => ({ username: role, role, passwordHash: await hashPassword(PASSWORDS[role]) })));
}

function signIn(base: string, username: string, password: string): Promise<Response> {
  return fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
}

interface Session {
  readonly cookie: string;
  readonly csrf: string;
}

async function session(base: string, username: keyof typeof PASSWORDS): Promise<Session> {
  const res = await signIn(base, username, PASSWORDS[username]);
  expect(res.status).toBe(200);
  return { cookie: res.headers.get('set-cookie')!.split(';')[0]!, csrf: ((await res.json()) as { csrf: string }).csrf };
}

function call(base: string, s: Session, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${base}${path}`, {
    method,
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

describe('sign-in limits, audit and live streams (web.signIn defaults but a 60 s window)', () => {
  let gw: GatewayProcess;
  let base: string;

  beforeAll(async () => {
    gw = await startGatewayProcess({
      config: {
        web: { users: await users(), signIn: { maxFailures: 5, windowSeconds: 60 } },
        census: { wards: [{ id: 'w1', beds: ['1', '2', '3'] }], patients: [{ id: 'P1', ward: 'w1', bed: '1' }] },
      },
    });
    base = `http://127.0.0.1:${gw.httpPort}`;
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
    await gw?.cleanup();
  });

  it('a session holds at most web.liveStreamsPerSession live-feed streams; closing one frees a place', async () => {
    const nurse = await session(base, 'nurse');
    const other = await session(base, 'charge');
    const ac = new AbortController();
    const open = (s: Session) => fetch(`${base}/api/ward/events`, { headers: { cookie: s.cookie }, signal: ac.signal });
    try {
      const streams = [];
      for (let i = 0; i < 6; i++) streams.push(await open(nurse));
      expect(streams.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      const refused = await open(nurse);
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as { error: string }).error).toMatch(/web\.liveStreamsPerSession/);
      // Another session is not affected.
      expect((await open(other)).status).toBe(200);
      expect(await gw.metric('vigil_live_streams')).toBe(7);
      await streams[0]!.body!.cancel();
      await expect.poll(() => gw.metric('vigil_live_streams'), { timeout: 10_000 }).toBe(6);
      expect((await open(nurse)).status).toBe(200);
    } finally {
      ac.abort();
    }
  });

  it('the census API takes only well-formed ids for patients, wards, beds and devices', async () => {
    const charge = await session(base, 'charge');
    const bad: Array<[string, unknown, RegExp]> = [
      ['POST /api/census/patients', { id: 'P/../x', ward: 'w1', bed: '3' }, /^id: letters, digits/],
      ['POST /api/census/patients', { id: 'x'.repeat(60_000), ward: 'w1', bed: '3' }, /^id: letters, digits/],
      ['POST /api/census/patients', { id: 'P\\1', ward: 'w1', bed: '3' }, /^id: /],
      ['POST /api/census/patients', { id: 'P 1,x=y', ward: 'w1', bed: '3' }, /^id: /],
      ['POST /api/census/patients', { id: 'P3', ward: 'w1', bed: '3', devices: ['wb,1'] }, /^devices\[0\]: /],
      ['POST /api/census/patients/P1/move', { ward: 'w 1', bed: '3' }, /^ward: /],
      ['POST /api/census/patients/P1/devices', { deviceId: 'wb/01' }, /^deviceId: /],
      ['POST /api/census/patients/P%2F1/devices', { deviceId: 'wb-01' }, /^id: "P\/1" is not an id/],
    ];
    for (const [route, body, why] of bad) {
      const [method, path] = route.split(' ') as [string, string];
      const res = await call(base, charge, method, path, body);
      expect({ route, status: res.status }).toEqual({ route, status: 400 });
      expect(((await res.json()) as { error: string }).error).toMatch(why);
    }
    const census = (await (await call(base, charge, 'GET', '/api/census')).json()) as { patients: Array<{ id: string }> };
    expect(census.patients.map((p) => p.id)).toEqual(['P1']);
  });

  it('a flood of refused sign-ins is audited once per block and pushes no real entry out of the audit view', async () => {
    const charge = await session(base, 'charge');
    expect((await call(base, charge, 'POST', '/api/census/patients', { id: 'P2', ward: 'w1', bed: '2' })).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await signIn(base, 'admin', `guess-${i}`)).status).toBe(401);
    for (let round = 0; round < 10; round++) {
      const statuses = await Promise.all(Array.from({ length: 30 }, () => signIn(base, 'admin', 'still-guessing').then((r) => r.status)));
      expect(new Set(statuses)).toEqual(new Set([429]));
    }
    const view = ((await (await call(base, charge, 'GET', '/api/audit')).json()) as { entries: Array<{ who: string; action: string }> }).entries;
    expect(view.filter((e) => e.action === 'signin.refused')).toHaveLength(1);
    expect(view).toContainEqual(expect.objectContaining({ who: 'charge', action: 'census.admit' }));
    expect(view).toContainEqual(expect.objectContaining({ who: 'charge', action: 'signin' }));
    const lines = (await readFile(join(gw.dataDir, 'audit', 'audit.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.length).toBeLessThan(20);
    expect(await gw.metric('vigil_signin_refused_total')).toBe(300);
  });

  it('40 concurrent wrong passwords for one user: exactly maxFailures are checked, the rest refused before any hashing', async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => signIn(base, 'nurse', `guess-${i}`)));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(35);
    // The right password is refused too while the username is blocked.
    expect((await signIn(base, 'nurse', PASSWORDS.nurse)).status).toBe(429);
    expect(await gw.metric('vigil_signin_refused_total')).toBe(300 + 36);
  });
});

describe('password checks and limiter memory (high failure limits, a 10 s window, 16 tracked keys)', () => {
  let gw: GatewayProcess;
  let base: string;

  beforeAll(async () => {
    gw = await startGatewayProcess({
      config: { web: { users: await users(), signIn: { maxFailures: 1000, windowSeconds: 10, maxTrackedKeys: 16, maxConcurrentChecks: 2 } } },
    });
    base = `http://127.0.0.1:${gw.httpPort}`;
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
    await gw?.cleanup();
  });

  it('spraying usernames: at most maxConcurrentChecks scrypt calls at once, at most maxTrackedKeys remembered, all forgotten after the window', async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => signIn(base, `sprayed-${i}`, 'wrong-password').then((r) => r.status)));
    // Each was checked (401) or, past the checker's queue, answered busy (503); none got in.
    expect(answers.every((s) => s === 401 || s === 503)).toBe(true);
    expect(answers.filter((s) => s === 401).length).toBeGreaterThan(0);
    const peak = await gw.metric('vigil_signin_checks_peak');
    expect(peak).toBeGreaterThanOrEqual(1);
    expect(peak).toBeLessThanOrEqual(2);
    const keys = await gw.metric('vigil_signin_limiter_keys');
    expect(keys).toBeGreaterThanOrEqual(1);
    expect(keys).toBeLessThanOrEqual(16);
    // After the window nothing is kept.
    await expect.poll(() => gw.metric('vigil_signin_limiter_keys'), { timeout: 30_000, interval: 250 }).toBe(0);
    expect((await signIn(base, 'nurse', PASSWORDS.nurse)).status).toBe(200);
  });
});
