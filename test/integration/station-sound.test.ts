/**
 * The nurse station's alarm signals in real Chromium against the real gateway process, with
 * simulated wearables on real MQTT. The page's audio nodes are instrumented (test/support/
 * station-probe.ts): what is checked is the pattern of pulses the page scheduled on its audio
 * clock, and that it was scheduled while that alarm was listed, never a flag the page sets, and
 * never how fast anything happened.
 *
 * A high-priority alarm starts the IEC 60601-1-8 high-priority burst, repeated; a medium one its
 * own burst; pausing audio stops the sound and shows the countdown while the alarm stays shown;
 * a new high-priority alarm sounds through the pause; a page opened with no user gesture is
 * blocked from sound and says so in a banner until someone turns sound on; alarms flash at the
 * standard's rates and held ones never; a station in the background gets a Web Notification.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { launchChromium, openPage, signIn, type WatchedPage } from '../support/browser.js';
import { audioState, bursts, instrumentContext, probe, pulses, resetProbe, shape, untouched, type Pulse } from '../support/station-probe.js';
import { startWearables, type Wearables } from '../support/wearables.js';
import { hashPassword } from '../../src/web/passwords.js';
import { FUNDAMENTAL_HZ, PATTERNS, period } from '../../src/web/public/alarm-sound.js';

const OUT = resolve(import.meta.dirname, '../../test-output');
const DOCS = resolve(import.meta.dirname, '../../docs/screenshots');
const NURSE = { username: 'nurse.jones', password: 'jones-password-1', name: 'Sam Jones' };
const DEVICES = ['wb-1', 'wb-2', 'wb-3', 'wb-4'].map((id) => ({ id, secret: `${id}-secret-value` }));
const NORMAL = { hr: 72, spo2: 97, rr: 14 };
const ms = (s: number) => Math.round(s * 1000);
const expected = (p: keyof typeof PATTERNS) => ({ onsets: PATTERNS[p].onsets.map(ms), lengths: PATTERNS[p].onsets.map(() => ms(PATTERNS[p].pulse)) });

let gw: GatewayProcess;
let browser: Browser;
let wear: Wearables;
let a: WatchedPage;
let base: string;
const timings: Record<string, number> = {};

beforeAll(async () => {
  await mkdir(OUT, { recursive: true });
  gw = await startGatewayProcess({
    config: {
      web: { users: [{ username: NURSE.username, name: NURSE.name, role: 'nurse', passwordHash: await hashPassword(NURSE.password) }] },
      devices: DEVICES,
      census: { wards: [{ id: 'w1', name: 'Ward 7 North', beds: ['1', '2', '3', '4'] }], patients: DEVICES.map((d, i) => ({ id: `P${i + 1}`, ward: 'w1', bed: String(i + 1), devices: [d.id] })) },
      // Alarms at the first value past a limit, so the test decides when they come; no NEWS2
      // band alarms and no escalation to muddle which alarm sounds.
      detectors: {
        limits: { spo2: { delaySeconds: 0, clearDelaySeconds: 0 }, hr: { delaySeconds: 0, clearDelaySeconds: 0 } },
        news2: { bandPriority: { 'low-medium': null, medium: null, high: null } },
        technical: { sensorOffDelaySeconds: 2 },
        alarms: { escalationSeconds: { high: 3600, medium: 3600, low: 0 } },
      },
    },
  });
  base = `http://127.0.0.1:${gw.httpPort}`;
  wear = await startWearables(`mqtt://127.0.0.1:${gw.mqttPort}`, DEVICES);
  browser = await launchChromium();
  a = await openPage(browser, { width: 1440, height: 900 }, { motion: true, prepare: instrumentContext });
}, 60_000);

afterAll(async () => {
  await writeFile(join(OUT, 'station-sound-timings.json'), JSON.stringify(timings, null, 2)).catch(() => {});
  if (process.env.VIGIL_UPDATE_SCREENSHOTS === '1') {
    await mkdir(DOCS, { recursive: true });
    for (const f of ['station-sound.png', 'station-sound-off.png']) await copyFile(join(OUT, f), join(DOCS, f));
  }
  await wear?.stop();
  await browser?.close();
  await gw?.stop();
  await gw?.cleanup();
});

/** The id of the alarm listed for a bed with a priority, once it is listed. */
async function listed(page: Page, bed: string, priority: string): Promise<string> {
  const item = page.locator(`#alarm-list .alarm.pri-${priority}`, { has: page.locator('.alarm-where', { hasText: `Bed ${bed}` }) }).first();
  await item.waitFor({ timeout: 30_000 });
  return (await item.getAttribute('data-alarm'))!;
}

/** Waits for the page to have scheduled at least `n` bursts since the last reset; returns them. */
async function burstsOf(page: Page, n = 1): Promise<Pulse[][]> {
  let got: Pulse[][] = [];
  await expect.poll(async () => (got = bursts(pulses(await probe(page)))).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(n);
  return got;
}

describe('alarm signals at the nurse station', () => {
  it('a high-priority alarm starts the high-priority burst, repeated; a medium one its own pattern', async () => {
    await signIn(a.page, base, NURSE.username, NURSE.password);
    // The sign-in click carries over: sound runs without asking again.
    await expect.poll(() => a.page.locator('#audio-status').textContent(), { timeout: 15_000 }).toBe('Sound on');
    expect(await a.page.locator('#sound-banner').isHidden()).toBe(true);
    await resetProbe(a.page);

    await wear.set('wb-1', { obs: { ...NORMAL, spo2: 80 } });
    const high = await listed(a.page, '1', 'high');
    const [first, second] = await burstsOf(a.page, 2);
    // [IEC 60601-1-8] 10 pulses, 3 + 2 and 3 + 2, at the fundamental with its harmonics
    expect(shape(first!)).toEqual(expected('high'));
    expect(first!.every((p) => p.freq === FUNDAMENTAL_HZ && p.list.includes(high))).toBe(true);
    // scheduled to start at once on the audio clock (0.05 s after the moment it was scheduled)
    expect(first![0]!.start - first![0]!.scheduledAt).toBeLessThan(1);
    expect(shape(second!)).toEqual(expected('high'));
    expect(second![0]!.start - first![0]!.start).toBeCloseTo(period('high'), 2);
    // For reading, not asserted: page time from the alarm appearing to its sound being scheduled.
    const p = await probe(a.page);
    timings.highAppearedToScheduledMs = Math.round(p.starts.find((s) => s.list.includes(high))!.at - p.appeared[high]!);

    // Acknowledged: the sound stops; then a medium alarm sounds its own burst.
    await a.page.locator(`#alarm-list [data-alarm="${high}"] button.ack`).click();
    await a.page.locator(`#alarm-list [data-alarm="${high}"].acked`).waitFor();
    const [{ time: acked }] = await audioState(a.page);
    expect(pulses(await probe(a.page)).filter((x) => x.start > acked!)).toEqual([]);
    await resetProbe(a.page);
    await wear.set('wb-2', { obs: { ...NORMAL, spo2: 88 } });
    const medium = await listed(a.page, '2', 'medium');
    const [mb] = await burstsOf(a.page);
    expect(shape(mb!)).toEqual(expected('medium'));
    expect(mb!.every((x) => x.list.includes(medium) && !x.list.includes(high))).toBe(true);
    expect(a.errors).toEqual([]);
  }, 90_000);

  it('pausing audio stops the sound and shows the countdown; a new high-priority alarm sounds through the pause', async () => {
    const medium = await listed(a.page, '2', 'medium');
    await a.page.locator(`#alarm-list [data-alarm="${medium}"] [data-action="pause"]`).click();
    const countdown = a.page.locator(`#alarm-list [data-alarm="${medium}"] .alarm-paused`);
    await expect.poll(() => countdown.textContent(), { timeout: 15_000 }).toMatch(/^Audio paused · [12]:\d\d left$/);
    await expect.poll(() => a.page.locator('#audio-status').textContent(), { timeout: 15_000 }).toMatch(/^Audio paused \(1\) [12]:\d\d$/);
    const before = await countdown.textContent();

    await expect.poll(() => countdown.textContent(), { timeout: 15_000 }).not.toBe(before); // it counts down
    // Nothing plays after the pause; the alarm is still shown, unacknowledged.
    const [{ time: paused }] = await audioState(a.page);
    expect(pulses(await probe(a.page)).filter((x) => x.start > paused!)).toEqual([]);
    expect(await a.page.locator(`#alarm-list [data-alarm="${medium}"]`).getAttribute('class')).toMatch(/\bunacked\b/);
    expect(await a.page.locator('#tile-P2').getAttribute('class')).toMatch(/tile-alarm-medium/);

    await resetProbe(a.page);
    await wear.set('wb-3', { obs: { ...NORMAL, hr: 35 } });
    const high = await listed(a.page, '3', 'high');
    const [hb] = await burstsOf(a.page);
    expect(shape(hb!)).toEqual(expected('high'));
    expect(hb!.every((x) => x.list.includes(high))).toBe(true);
    await a.page.screenshot({ path: join(OUT, 'station-sound.png') });
    expect(a.errors).toEqual([]);
  }, 60_000);

  it('with no user gesture the browser blocks sound and the banner says so; turning sound on plays the alarm', async () => {
    const b = await openPage(browser, { width: 1280, height: 800 }, { prepare: instrumentContext });
    try {
      // Signed in by a request, so the page opens with no click or key press behind it.
      const res = await b.context.request.post(`${base}/api/session`, { data: { username: NURSE.username, password: NURSE.password } });
      expect(res.status()).toBe(200);
      await b.page.goto(`${base}/ward`);
      // Until sound is turned on, the page is only read, never touched (see `untouched`).
      const read = await untouched(b.page);
      type Seen = { listed: boolean; banner: string | null; status: string; contexts: string[]; activated: boolean; started: number };
      let seen: Seen | undefined;
      await expect
        .poll(
          async () =>
            (seen = await read<Seen>(`({
              listed: [...document.querySelectorAll('#alarm-list .alarm.pri-high .alarm-where')].some((e) => e.firstChild.textContent === 'Bed 3'),
              banner: document.getElementById('sound-banner').hidden ? null : document.getElementById('sound-banner').textContent,
              status: document.getElementById('audio-status').textContent,
              contexts: window.__probe.contexts.map((c) => c.state),
              activated: navigator.userActivation.hasBeenActive,
              started: window.__probe.starts.length,
            })`)).listed,
          { timeout: 30_000 },
        )
        .toBe(true);
      // The browser kept sound off on a page nobody has touched, and the page says so.
      expect(seen).toMatchObject({ activated: false, contexts: ['suspended'], status: 'Sound off', started: 0 });
      expect(seen!.banner).toMatch(/Sound is OFF: alarms at this station are SILENT/);
      await b.page.screenshot({ path: join(OUT, 'station-sound-off.png') });

      await b.page.getByRole('button', { name: 'Turn sound on' }).click();
      await b.page.locator('#sound-banner').waitFor({ state: 'hidden' });
      const [burst] = await burstsOf(b.page);
      expect(shape(burst!)).toEqual(expected('high'));
      expect(b.errors).toEqual([]);
    } finally {
      await b.context.close();
    }
  }, 60_000);

  it('flashes high at 1.4–2.8 Hz and medium at 0.4–0.8 Hz, in the list as on the tile; acknowledged and held alarms never', async () => {
    // A sensor that goes off during a desaturation: its alarm is held, the technical alarm shown.
    await wear.set('wb-4', { obs: { ...NORMAL, spo2: 80 } });
    const held = await listed(a.page, '4', 'high');
    await wear.set('wb-4', { obs: {}, sensor: 'off' });
    await a.page.locator(`#alarm-list [data-alarm="${held}"].held`).waitFor({ timeout: 30_000 });
    const flash = (sel: string) => a.page.locator(sel).first().evaluate((e) => ({ name: getComputedStyle(e).animationName, s: parseFloat(getComputedStyle(e).animationDuration) }));
    const hz = (f: { s: number }) => 1 / f.s;
    const high = await listed(a.page, '3', 'high');
    const medium = await listed(a.page, '2', 'medium');
    const acked = await a.page.locator('#alarm-list .alarm.acked').first().getAttribute('data-alarm');
    // [IEC 60601-1-8] visual alarm signals
    for (const sel of [`#alarm-list [data-alarm="${high}"]`, '#tile-P3']) {
      const f = await flash(sel);
      expect(f.name).toMatch(/flash-high$/);
      expect(hz(f)).toBeGreaterThanOrEqual(1.4);
      expect(hz(f)).toBeLessThanOrEqual(2.8);
    }
    for (const sel of [`#alarm-list [data-alarm="${medium}"]`, '#tile-P2']) {
      const f = await flash(sel);
      expect(f.name).toMatch(/flash-medium$/);
      expect(hz(f)).toBeGreaterThanOrEqual(0.4);
      expect(hz(f)).toBeLessThanOrEqual(0.8);
    }
    expect((await flash(`#alarm-list [data-alarm="${held}"]`)).name).toBe('none');
    expect((await flash(`#alarm-list [data-alarm="${acked}"]`)).name).toBe('none');
    // Bed 4's tile flashes for its technical alarm (medium), never for the held high one.
    expect((await flash('#tile-P4')).name).toBe('tile-flash-medium');
    expect(await a.page.locator('#tile-P4 .tile-alarms').textContent()).toMatch(/held: sensor/);
  }, 60_000);

  it('a station in the background gets a Web Notification for a new alarm', async () => {
    await a.context.grantPermissions(['notifications'], { origin: base });
    const cdp = await a.context.newCDPSession(a.page);
    // Playwright pretends every page has focus; the real focus moves to the other tab.
    await cdp.send('Emulation.setFocusEmulationEnabled', { enabled: false });
    const other = await a.context.newPage();
    await other.goto(`${base}/static/style.css`);
    await other.bringToFront();
    expect(await a.page.evaluate(() => document.hasFocus())).toBe(false);
    await resetProbe(a.page);
    await wear.set('wb-1', { obs: { ...NORMAL, hr: 160 } });
    await expect.poll(async () => (await probe(a.page)).notifications, { timeout: 30_000 }).toContainEqual(expect.objectContaining({ title: 'HIGH alarm · Bed 1', body: expect.stringMatching(/above 150/) }));
    await other.close();
    expect(a.errors).toEqual([]);
  }, 60_000);
});
