/**
 * After sign-in the page goes to `next`, but only to a path on the gateway: in real Chromium,
 * every `next` that a browser would normalise into another host (backslashes, encoded
 * backslashes, tabs, newlines, dot segments, schemes) lands the nurse on the gateway, and no
 * request leaves for the other host. Requests to any other host are answered by the test so a
 * redirect that escapes is seen, not lost in a DNS failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { launchChromium, openPage } from '../support/browser.js';
import { hashPassword } from '../../src/web/passwords.js';

const NURSE = { username: 'nurse', password: 'nurse-password-1' };

let gw: GatewayProcess;
let browser: Browser;
let base: string;

beforeAll(async () => {
  gw = await startGatewayProcess({
    config: {
      web: { users: [{ username: NURSE.username, role: 'nurse', passwordHash: await hashPassword(NURSE.password) }] },
      census: { wards: [{ id: 'w1', beds: ['1'] }], patients: [{ id: 'P1', ward: 'w1', bed: '1' }] },
    },
  });
  base = `http://127.0.0.1:${gw.httpPort}`;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gw?.stop();
  await gw?.cleanup();
});

/** Signs in on `/signin?next=<rawQuery>` and returns where the browser ended up and which foreign hosts it asked for. */
async function signInWithNext(rawQuery: string): Promise<{ landed: URL; foreign: string[] }> {
  const { context, page } = await openPage(browser);
  const foreign: string[] = [];
  await context.route(
    (url) => url.host !== new URL(base).host,
    async (route) => {
      foreign.push(route.request().url());
      await route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>somewhere else</h1>' });
    },
  );
  try {
    await page.goto(`${base}/signin?next=${rawQuery}`);
    await page.getByLabel('Username').fill(NURSE.username);
    await page.getByLabel('Password').fill(NURSE.password);
    const before = page.url();
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.href !== before, { timeout: 20_000 });
    await page.waitForLoadState('load');
    return { landed: new URL(page.url()), foreign };
  } finally {
    await context.close();
  }
}

describe('the next parameter after sign-in', () => {
  it.each([
    ['an encoded backslash', '/%5Cevil.example/'],
    ['two encoded backslashes', '/%5C%5Cevil.example/'],
    ['a raw backslash', '/\\evil.example/'],
    ['a tab between the slashes', '/%09/evil.example/'],
    ['a newline between the slashes', '/%0A/evil.example/'],
    ['a carriage return between the slashes', '/%0D/evil.example/'],
    ['a leading tab', '%09//evil.example/'],
    ['a protocol-relative address', '//evil.example/'],
    ['an encoded protocol-relative address', '%2F%2Fevil.example/'],
    ['a dot segment before the second slash', '/.//evil.example/'],
    ['an absolute address', 'http://evil.example/'],
    ['a javascript: address', 'javascript:alert(1)'],
  ])('%s stays on the gateway', async (_what, next) => {
    const { landed, foreign } = await signInWithNext(next);
    expect(foreign).toEqual([]);
    expect(landed.origin).toBe(base);
  });

  it('a path on the gateway, with its query, is where the nurse lands', async () => {
    const { landed, foreign } = await signInWithNext(encodeURIComponent('/patients/P1?hours=2'));
    expect(foreign).toEqual([]);
    expect(`${landed.origin}${landed.pathname}${landed.search}`).toBe(`${base}/patients/P1?hours=2`);
  });
});
