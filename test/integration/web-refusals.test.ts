/**
 * Every HTTP refusal against the real gateway process over real HTTP: wrong bearer tokens are
 * throttled per client address like wrong passwords (429 past the limit, the right token refused
 * from that address while it is blocked, still accepted from another address and by session);
 * each refusal (wrong token, no session, wrong password, CSRF, origin, role, body too large, bad
 * JSON or schema, rate limit) is counted in `vigil_http_refused_total{reason}` and logged with
 * its method, path, address and reason, at most once per address and reason a minute, never with
 * the token, the cookie or the query.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { startGatewayProcess, type GatewayProcess, type LogLine } from '../support/gateway-process.js';
import { hashPassword } from '../../src/web/passwords.js';

const TOKEN = 'web-refusals-test-token-0123456789';
const PASSWORDS = { nurse: 'nurse-password-1', charge: 'charge-password-1' };
/** web.signIn.maxFailures; wrong bearer tokens allowed per address: 5 × this. */
const MAX_FAILURES = 2;
const TOKEN_LIMIT = 5 * MAX_FAILURES;

let gw: GatewayProcess;
let base: string;

beforeAll(async () => {
  gw = await startGatewayProcess({
    config: {
      http: { apiToken: TOKEN },
      // A window far longer than the test: nothing ages out while it runs.
      web: { users: await Promise.all((['nurse', 'charge'] as const).map(async (role) => ({ username: role, role, passwordHash: await hashPassword(PASSWORDS[role]) }))), signIn: { maxFailures: MAX_FAILURES, windowSeconds: 3600 } },
      census: { wards: [{ id: 'w1', beds: ['1', '2'] }], patients: [{ id: 'P1', ward: 'w1', bed: '1' }] },
    },
  });
  base = `http://127.0.0.1:${gw.httpPort}`;
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  await gw?.cleanup();
});

interface Session {
  readonly cookie: string;
  readonly csrf: string;
}

async function session(username: keyof typeof PASSWORDS): Promise<Session> {
  const res = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: PASSWORDS[username] }) });
  expect(res.status).toBe(200);
  return { cookie: res.headers.get('set-cookie')!.split(';')[0]!, csrf: ((await res.json()) as { csrf: string }).csrf };
}

/** A GET of `path` with a bearer token, sent from `localAddress` (loopback has all of 127/8). */
function getFrom(localAddress: string, path: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gw.httpPort, path, localAddress, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}

const refused = (reason: string) => gw.metric('vigil_http_refused_total', { reason });
const refusalLines = (reason: string, remote = '127.0.0.1'): LogLine[] => gw.logs.filter((l) => l.reason === reason && l.remote === remote && l.component === 'http');

describe('HTTP refusals: bearer-token throttle', () => {
  it('answers 429 after web.signIn’s per-address limit of wrong tokens, refuses the right token from that address while blocked, counts every one and logs each reason once', async () => {
    expect(await refused('bad_token')).toBe(0);
    const wrong = Array.from({ length: 3 * TOKEN_LIMIT }, (_, i) => `wrong-token-guess-${String(i).padStart(4, '0')}-xxxxxxxx`);
    // Sent at once: the count is checked before each token is compared, so none races past it.
    const answers = await Promise.all(wrong.map((t) => fetch(`${base}/api/ward?probe=secret-query`, { headers: { authorization: `Bearer ${t}` } })));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(TOKEN_LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(2 * TOKEN_LIMIT);
    const blocked = answers.find((r) => r.status === 429)!;
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await blocked.json()) as { error: string }).error).toMatch(/too many wrong bearer tokens/);

    // The right token from the blocked address is refused: guessing gains nothing from hitting it.
    expect((await fetch(`${base}/api/ward`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(429);
    // From another address the right token works, and a wrong one there is a first failure.
    expect(await getFrom('127.0.0.2', '/api/ward', TOKEN)).toBe(200);
    expect(await getFrom('127.0.0.2', '/api/ward', 'another-wrong-token-value')).toBe(401);
    // A nurse's session from the blocked address is not affected.
    const nurse = await session('nurse');
    expect((await fetch(`${base}/api/ward`, { headers: { cookie: nurse.cookie } })).status).toBe(200);

    expect(await refused('bad_token')).toBe(TOKEN_LIMIT + 1);
    expect(await refused('rate_limited')).toBe(2 * TOKEN_LIMIT + 1);

    const badToken = await gw.waitForLog((l) => l.reason === 'bad_token' && l.remote === '127.0.0.1');
    expect(badToken).toMatchObject({ level: 40, component: 'http', method: 'GET', path: '/api/ward', remote: '127.0.0.1', reason: 'bad_token', status: 401 });
    const limited = await gw.waitForLog((l) => l.reason === 'rate_limited' && l.remote === '127.0.0.1');
    expect(limited).toMatchObject({ method: 'GET', path: '/api/ward', status: 429, reason: 'rate_limited' });
    expect(limited.retryAfterSeconds).toBeGreaterThan(0);
    await gw.waitForLog((l) => l.reason === 'bad_token' && l.remote === '127.0.0.2');
    // One line per address and reason, however many refusals.
    expect(refusalLines('bad_token')).toHaveLength(1);
    expect(refusalLines('rate_limited')).toHaveLength(1);

    // One audit entry for the block, read by a charge nurse's session from the same address.
    const charge = await session('charge');
    const audit = (await (await fetch(`${base}/api/audit?limit=50`, { headers: { cookie: charge.cookie } })).json()) as { entries: Array<{ action: string; ip?: string; who: string }> };
    expect(audit.entries.filter((e) => e.action === 'token.refused')).toEqual([expect.objectContaining({ who: 'api-token', ip: '127.0.0.1' })]);

    // Neither token, cookie nor query reaches the log.
    const text = JSON.stringify(gw.logs);
    expect(text).not.toContain('wrong-token-guess');
    expect(text).not.toContain('another-wrong-token');
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain('secret-query');
    expect(text).not.toContain(nurse.cookie.split('=')[1]!);
    expect(await gw.metric('vigil_token_limiter_keys')).toBe(2);
  });
});

describe('HTTP refusals: every kind counted by reason and logged', () => {
  it('counts a request without a session (no_session) and a wrong password (bad_password)', async () => {
    const [noSession, badPassword] = [await refused('no_session'), await refused('bad_password')];
    expect((await fetch(`${base}/api/census`)).status).toBe(401);
    expect((await fetch(`${base}/api/census`, { headers: { cookie: 'vigil_session=not-a-session-at-all' } })).status).toBe(401);
    const res = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'nurse', password: 'not-her-password' }) });
    expect(res.status).toBe(401);
    expect(await refused('no_session')).toBe(noSession + 2);
    expect(await refused('bad_password')).toBe(badPassword + 1);
    expect(await gw.waitForLog((l) => l.reason === 'no_session')).toMatchObject({ method: 'GET', path: '/api/census', remote: '127.0.0.1', status: 401 });
    expect(JSON.stringify(gw.logs)).not.toContain('not-a-session-at-all');
    expect(JSON.stringify(gw.logs)).not.toContain('not-her-password');
  });

  it('counts a nurse setting limits as role, a change without the CSRF token as csrf and one from another origin as origin', async () => {
    const nurse = await session('nurse');
    const before = { role: await refused('role'), csrf: await refused('csrf'), origin: await refused('origin') };
    const put = (s: Session, headers: Record<string, string>) =>
      fetch(`${base}/api/census/patients/P1/settings`, { method: 'PUT', headers: { cookie: s.cookie, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ limits: { spo2: { low: 88 } } }) });
    expect((await put(nurse, { 'x-csrf-token': nurse.csrf })).status).toBe(403);
    expect((await put(nurse, {})).status).toBe(403);
    expect((await put(nurse, { 'x-csrf-token': 'forged-csrf-token' })).status).toBe(403);
    expect((await put(nurse, { 'x-csrf-token': nurse.csrf, origin: 'http://evil.example' })).status).toBe(403);
    expect(await refused('role')).toBe(before.role + 1);
    expect(await refused('csrf')).toBe(before.csrf + 2);
    expect(await refused('origin')).toBe(before.origin + 1);
    expect(await gw.waitForLog((l) => l.reason === 'role')).toMatchObject({ method: 'PUT', path: '/api/census/patients/P1/settings', remote: '127.0.0.1', status: 403, needs: 'limits', role: 'nurse' });
    expect(await gw.waitForLog((l) => l.reason === 'csrf')).toMatchObject({ method: 'PUT', path: '/api/census/patients/P1/settings', status: 403 });
    await gw.waitForLog((l) => l.reason === 'origin');
    expect(refusalLines('csrf')).toHaveLength(1);
    expect(JSON.stringify(gw.logs)).not.toContain(nurse.csrf);
    expect(JSON.stringify(gw.logs)).not.toContain('forged-csrf-token');
  });

  it('counts a body over the limit as body_too_large (413) and bad JSON or a wrong shape as bad_request (400)', async () => {
    const nurse = await session('nurse');
    const before = { large: await refused('body_too_large'), bad: await refused('bad_request') };
    const post = (body: string) => fetch(`${base}/api/patients/P1/observations`, { method: 'POST', headers: { cookie: nurse.cookie, 'x-csrf-token': nurse.csrf, 'content-type': 'application/json' }, body });
    expect((await post(JSON.stringify({ temp: 37, note: 'x'.repeat(70 * 1024) }))).status).toBe(413);
    expect((await post('{"temp": 37,')).status).toBe(400);
    expect((await post(JSON.stringify({ acvpu: 'X' }))).status).toBe(400);
    expect(await refused('body_too_large')).toBe(before.large + 1);
    expect(await refused('bad_request')).toBe(before.bad + 2);
    expect(await gw.waitForLog((l) => l.reason === 'body_too_large')).toMatchObject({ method: 'POST', path: '/api/patients/P1/observations', remote: '127.0.0.1', status: 413 });
    expect(await gw.waitForLog((l) => l.reason === 'bad_request')).toMatchObject({ method: 'POST', status: 400 });
    expect(refusalLines('bad_request')).toHaveLength(1);
  });

  it('has a series for every reason from the start', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    for (const reason of ['bad_token', 'no_session', 'bad_password', 'csrf', 'origin', 'role', 'body_too_large', 'bad_request', 'unsupported_media_type', 'rate_limited']) {
      expect(text).toMatch(new RegExp(`^vigil_http_refused_total\\{reason="${reason}"\\} \\d+$`, 'm'));
    }
  });
});
