/**
 * The nurse station's access rules against the real gateway process, over plain HTTP: nothing
 * with patient data answers without a session (or the bearer token); pages redirect to sign-in;
 * cookies are HttpOnly and SameSite; a change without the CSRF token, or from another origin, is
 * refused; roles are enforced; sign-in is rate-limited; accounts added with `vigil user add`
 * work without a restart; manual observations reach NEWS2; every change is in the audit log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { hashPassword } from '../../src/web/passwords.js';

const run = promisify(execFile);
const TOKEN = 'web-auth-test-token-0123456789';
const PASSWORDS = { nurse: 'nurse-password-1', charge: 'charge-password-1', admin: 'admin-password-1' };

let gw: GatewayProcess;
let dir: string;
let usersFile: string;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-web-auth-'));
  usersFile = join(dir, 'users.yaml');
  gw = await startGatewayProcess({
    config: {
      http: { apiToken: TOKEN },
      web: {
        usersFile,
        signIn: { maxFailures: 3, windowSeconds: 60 },
        users: await Promise.all((['nurse', 'charge', 'admin'] as const).map(async (role) => ({ username: role, role, passwordHash: await hashPassword(PASSWORDS[role]) }))),
      },
      devices: [{ id: 'wb-01', secret: 'wb-01-secret-value' }],
      census: {
        wards: [{ id: 'w1', beds: ['1', '2', '3'] }],
        patients: [
          { id: 'P1', ward: 'w1', bed: '1', devices: ['wb-01'] },
          { id: 'P2', ward: 'w1', bed: '2' },
        ],
      },
    },
  });
  base = `http://127.0.0.1:${gw.httpPort}`;
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  await gw?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

interface Session {
  cookie: string;
  csrf: string;
}

async function signIn(username: string, password: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ username, password }) });
}

async function session(username: string, password: string): Promise<Session> {
  const res = await signIn(username, password);
  expect(res.status).toBe(200);
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  return { cookie, csrf: ((await res.json()) as { csrf: string }).csrf };
}

function call(s: Session | undefined, method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}${path}`, {
    method,
    redirect: 'manual',
    headers: { ...(s ? { cookie: s.cookie, 'x-csrf-token': s.csrf } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...extra },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

const DATA_ENDPOINTS = ['/api/ward', '/api/ward/events', '/api/census', '/api/alarms', '/api/patients/P1/news2', '/api/patients/P1/history', '/api/audit', '/api/session'];

describe('nurse station access', () => {
  it('answers 401 on every data endpoint and redirects pages to sign-in without a session; health and assets stay open', async () => {
    for (const path of DATA_ENDPOINTS) expect({ path, status: (await call(undefined, 'GET', path)).status }).toEqual({ path, status: 401 });
    const stale = { cookie: 'vigil_session=not-a-session', csrf: 'x' };
    expect((await call(stale, 'GET', '/api/ward')).status).toBe(401);
    for (const path of ['/', '/ward', '/patients/P1', '/census', '/audit']) {
      const res = await call(undefined, 'GET', path);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(path === '/' ? '/signin?next=%2F' : `/signin?next=${encodeURIComponent(path)}`);
    }
    for (const path of ['/healthz', '/metrics', '/signin', '/static/style.css', '/static/uplot.js']) expect({ path, status: (await call(undefined, 'GET', path)).status }).toEqual({ path, status: 200 });
    const page = await call(undefined, 'GET', '/signin');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    // Machine clients keep the bearer token.
    expect((await call(undefined, 'GET', '/api/ward', undefined, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });

  it('signs in with an HttpOnly SameSite cookie, refuses changes without the CSRF token or from another origin, signs out', async () => {
    expect((await signIn('nurse', 'wrong-password')).status).toBe(401);
    expect((await signIn('nobody', 'whatever-password')).status).toBe(401);
    const res = await signIn('nurse', PASSWORDS.nurse);
    expect(res.headers.get('set-cookie')).toMatch(/^vigil_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    const s: Session = { cookie: res.headers.get('set-cookie')!.split(';')[0]!, csrf: ((await res.json()) as { csrf: string }).csrf };
    expect((await call(s, 'GET', '/api/ward')).status).toBe(200);
    expect((await (await call(s, 'GET', '/api/session')).json()) as Record<string, unknown>).toMatchObject({ username: 'nurse', role: 'nurse', csrf: s.csrf });

    const noToken = { cookie: s.cookie, csrf: '' };
    for (const [method, path, body] of [['POST', '/api/alarms/x/ack', {}], ['POST', '/api/patients/P1/observations', { temp: 37 }], ['DELETE', '/api/session', undefined]] as const) {
      const r = await call(noToken, method, path, body);
      expect({ path, status: r.status }).toEqual({ path, status: 403 });
      expect(((await r.json()) as { error: string }).error).toMatch(/CSRF/);
    }
    expect((await call({ ...s, csrf: 'forged-token' }, 'POST', '/api/alarms/x/ack', {})).status).toBe(403);
    expect((await call(s, 'POST', '/api/patients/P1/observations', { temp: 37 }, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await signIn('nurse', PASSWORDS.nurse, { origin: 'http://evil.example' })).status).toBe(403);
    // With the token the same change goes through (409: there is no such alarm).
    expect((await call(s, 'POST', '/api/alarms/x/ack', {})).status).toBe(409);

    expect((await call(s, 'DELETE', '/api/session')).status).toBe(200);
    expect((await call(s, 'GET', '/api/ward')).status).toBe(401);
  });

  it('enforces roles: limits for the charge nurse, census for charge nurse and admin, observations for nurses', async () => {
    const nurse = await session('nurse', PASSWORDS.nurse);
    const charge = await session('charge', PASSWORDS.charge);
    const admin = await session('admin', PASSWORDS.admin);
    const limits = { limits: { spo2: { low: 88 } } };
    expect((await call(nurse, 'PUT', '/api/census/patients/P1/settings', limits)).status).toBe(403);
    expect((await call(admin, 'PUT', '/api/census/patients/P1/settings', limits)).status).toBe(403);
    expect((await call(charge, 'PUT', '/api/census/patients/P1/settings', limits)).status).toBe(200);
    expect(((await (await call(charge, 'GET', '/api/patients/P1/history')).json()) as { limits: { spo2: { low: number } } }).limits.spo2.low).toBe(88);

    expect((await call(nurse, 'POST', '/api/census/patients', { id: 'P3', ward: 'w1', bed: '3' })).status).toBe(403);
    expect((await call(admin, 'POST', '/api/census/patients', { id: 'P3', ward: 'w1', bed: '3' })).status).toBe(200);
    expect((await call(charge, 'POST', '/api/census/patients/P3/devices', { deviceId: 'wb-09' })).status).toBe(200);
    expect((await call(charge, 'DELETE', '/api/census/patients/P3/devices/wb-09')).status).toBe(200);
    expect((await call(admin, 'DELETE', '/api/census/patients/P3')).status).toBe(200);
    expect((await call(admin, 'POST', '/api/patients/P1/observations', { temp: 37 })).status).toBe(403);
    expect((await call(nurse, 'GET', '/api/audit')).status).toBe(403);

    const audit = ((await (await call(admin, 'GET', '/api/audit?limit=50')).json()) as { entries: Array<{ who: string; action: string; patientId?: string }> }).entries;
    expect(audit.map((e) => `${e.who} ${e.action} ${e.patientId ?? ''}`).slice(0, 5)).toEqual(['admin census.discharge P3', 'charge census.unassign P3', 'charge census.assign P3', 'admin census.admit P3', 'charge limits.set P1']);
  });

  it('feeds manual observations (ACVPU, oxygen, BP, temperature) into storage and NEWS2, audited', async () => {
    const nurse = await session('nurse', PASSWORDS.nurse);
    expect((await call(nurse, 'POST', '/api/patients/P2/observations', { acvpu: 'X' })).status).toBe(400);
    expect((await call(nurse, 'POST', '/api/patients/P2/observations', { sbp: 80, dbp: 120 })).status).toBe(400);
    expect((await call(nurse, 'POST', '/api/patients/P9/observations', { temp: 37 })).status).toBe(404);
    const ok = await call(nurse, 'POST', '/api/patients/P2/observations', { acvpu: 'V', o2: 'oxygen', sbp: 95, dbp: 60, temp: 38.4 });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ ok: true, stored: 5 });
    // [NEWS2] V → 3, oxygen → 2, SBP 91–100 → 2, temperature 38.1–39.0 → 1
    await expect.poll(async () => ((await (await call(nurse, 'GET', '/api/patients/P2/news2')).json()) as { parts?: Record<string, { points: number }> }).parts, { timeout: 5000 }).toMatchObject({ acvpu: { points: 3 }, o2: { points: 2 }, sbp: { points: 2 }, temp: { points: 1 } });
    const ward = (await (await call(nurse, 'GET', '/api/ward')).json()) as { wards: Array<{ beds: Array<{ patient: { id: string; vitals: Record<string, { v: number; deviceId: string }> } | null }> }> };
    const p2 = ward.wards[0]!.beds.find((b) => b.patient?.id === 'P2')!.patient!;
    expect(p2.vitals.acvpu).toMatchObject({ v: 2, deviceId: 'manual:nurse' });
    expect(p2.vitals.o2?.v).toBe(1);
    const charge = await session('charge', PASSWORDS.charge);
    const audit = ((await (await call(charge, 'GET', '/api/audit?patientId=P2')).json()) as { entries: Array<Record<string, unknown>> }).entries;
    expect(audit[0]).toMatchObject({ who: 'nurse', action: 'obs.manual', patientId: 'P2', detail: { acvpu: 'V', o2: 'oxygen', sbp: 95, dbp: 60, temp: 38.4 } });
  });

  it('rate-limits sign-in: after the allowed failures even the right password is refused for a while', async () => {
    for (let i = 0; i < 3; i++) expect((await signIn('admin', `guess-${i}`)).status).toBe(401);
    const refused = await signIn('admin', PASSWORDS.admin);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await refused.json()) as { error: string }).error).toMatch(/too many failed sign-ins/);
  });

  it('vigil user add writes the users file and the running gateway accepts the account at once; remove ends its sessions', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'user', 'add', 'sam.lee', '--role', 'charge', '--name', 'Sam Lee', '--file', usersFile]);
    const password = /Password for sam\.lee \(shown once\): (\S+)/.exec(stdout)![1]!;
    const sam = await session('sam.lee', password);
    expect((await (await call(sam, 'GET', '/api/session')).json()) as Record<string, unknown>).toMatchObject({ username: 'sam.lee', name: 'Sam Lee', role: 'charge' });
    const listed = await run(process.execPath, [CLI, 'user', 'list', '--file', usersFile]);
    expect(listed.stdout).toMatch(/^sam\.lee\s+charge\s+Sam Lee$/m);
    await run(process.execPath, [CLI, 'user', 'remove', 'sam.lee', '--file', usersFile]);
    // The file is re-read every few seconds: the removed account's session ends without anyone signing in.
    await expect.poll(async () => (await call(sam, 'GET', '/api/ward')).status, { timeout: 10_000, interval: 250 }).toBe(401);
    expect((await signIn('sam.lee', password)).status).toBe(401);
  });
});
