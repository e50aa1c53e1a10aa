/**
 * Caregiver assignment and the station fixes from the demo ward, in real Chromium against the
 * real gateway process with simulated wearables on real MQTT.
 *
 * The charge nurse assigns nurses to beds for the shift (shown on the tiles, audited); a nurse
 * filtered to their beds sees and hears only their beds' alarms until an escalation step brings
 * another bed's to them as its buddy. Then each fix, checked as a nurse sees it: unacknowledged
 * alarms before acknowledged ones of the same priority; a three-digit heart rate clear of the
 * SpO2; a doubtful or out-of-limit SpO2 marked; chart axes and legends that read right; beds in
 * view on a tablet with four alarms; a tile's screen-reader text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { launchChromium, openPage, signIn, type WatchedPage } from '../support/browser.js';
import { bursts, instrumentContext, probe, pulses, resetProbe, shape } from '../support/station-probe.js';
import { startWearables, type Wearables } from '../support/wearables.js';
import { hashPassword } from '../../src/web/passwords.js';
import { PATTERNS } from '../../src/web/public/alarm-sound.js';

const OUT = resolve(import.meta.dirname, '../../test-output');
const DOCS = resolve(import.meta.dirname, '../../docs/screenshots');
const JONES = { username: 'nurse.jones', password: 'jones-password-1', name: 'Sam Jones', role: 'nurse' };
const KIM = { username: 'nurse.kim', password: 'kim-password-12', name: 'Kim Lee', role: 'nurse' };
const SMITH = { username: 'charge.smith', password: 'smith-password-1', name: 'Alex Smith', role: 'charge' };
const DEVICES = ['wb-1', 'wb-2', 'wb-3', 'wb-4'].map((id) => ({ id, secret: `${id}-secret-value` }));
const NORMAL = { hr: 72, spo2: 97, rr: 14 };
const TOKEN = 'station-ward-test-token-0123';

let gw: GatewayProcess;
let browser: Browser;
let wear: Wearables;
let charge: WatchedPage;
let jones: WatchedPage;
let kim: WatchedPage;
let base: string;

beforeAll(async () => {
  await mkdir(OUT, { recursive: true });
  gw = await startGatewayProcess({
    config: {
      http: { apiToken: TOKEN },
      web: { users: await Promise.all([JONES, KIM, SMITH].map(async (u) => ({ username: u.username, name: u.name, role: u.role, passwordHash: await hashPassword(u.password) }))) },
      devices: DEVICES,
      census: { wards: [{ id: 'w1', name: 'Ward 7 North', beds: ['1', '2', '3', '4'] }], patients: DEVICES.map((d, i) => ({ id: `P${i + 1}`, name: ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Edsger Dijkstra'][i], ward: 'w1', bed: String(i + 1), devices: [d.id] })) },
      detectors: {
        // Heart rate and breathing alarm at once; a low SpO2 waits long enough to be seen unalarmed.
        limits: { hr: { delaySeconds: 0, clearDelaySeconds: 0 }, rr: { delaySeconds: 0, clearDelaySeconds: 0 }, spo2: { delaySeconds: 600 } },
        news2: { bandPriority: { 'low-medium': null, medium: null, high: null } },
        alarms: {
          escalation: {
            tiers: [
              { name: 'Assigned nurse', to: ['assigned'], channels: ['station'] },
              { name: 'Buddy nurse', to: ['buddy'], channels: ['station'], afterSeconds: { high: 15, medium: 15, low: 0 } },
              { name: 'Charge nurse', to: ['charge'], channels: ['station'], afterSeconds: 3600 },
            ],
          },
        },
      },
    },
  });
  base = `http://127.0.0.1:${gw.httpPort}`;
  wear = await startWearables(`mqtt://127.0.0.1:${gw.mqttPort}`, DEVICES);
  browser = await launchChromium();
  charge = await openPage(browser, { width: 1600, height: 1000 }, { prepare: instrumentContext });
  jones = await openPage(browser, { width: 1440, height: 900 }, { prepare: instrumentContext });
  kim = await openPage(browser, { width: 1440, height: 900 }, { prepare: instrumentContext });
}, 60_000);

afterAll(async () => {
  await wear?.stop();
  await browser?.close();
  await gw?.stop();
  await gw?.cleanup();
});

/** A bed's high-priority alarm in the list. */
const item = (page: Page, bed: string) => page.locator('#alarm-list .alarm.pri-high', { has: page.locator('.alarm-where', { hasText: new RegExp(`^Bed ${bed}(?!\\d)`) }) });
const alarmsNow = async () => ((await (await fetch(`${base}/api/alarms`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { alarms: Array<{ id: string; bed?: string; tier: number; notified: string[]; acknowledged: boolean }> }).alarms;

describe('caregiver assignment', () => {
  it('the charge nurse assigns nurses to beds for the shift; the tiles show them; it is audited', async () => {
    await signIn(charge.page, base, SMITH.username, SMITH.password, '/assignments');
    const set = async (label: string, value: string) => charge.page.getByLabel(label, { exact: true }).selectOption(value);
    await charge.page.getByLabel('Charge nurse, Ward 7 North').waitFor();
    await set('Charge nurse, Ward 7 North', SMITH.username);
    await set('Nurse for bed 1', JONES.username);
    await set('Buddy nurse for bed 1', KIM.username);
    await set('Nurse for bed 2', KIM.username);
    await set('Buddy nurse for bed 2', JONES.username);
    await set('Nurse for bed 3', JONES.username);
    await charge.page.getByRole('button', { name: 'Save assignment for Ward 7 North' }).click();
    await expect.poll(() => charge.page.locator('#notice').textContent(), { timeout: 15_000 }).toBe('Assignment saved for Ward 7 North');
    await charge.page.screenshot({ path: join(OUT, 'assignments.png') });

    await charge.page.goto(`${base}/ward`);
    await expect.poll(() => charge.page.locator('#tile-P1 .care').textContent(), { timeout: 15_000 }).toBe('Nurse Sam Jones · buddy Kim Lee');
    expect(await charge.page.locator('#tile-P4 .care').textContent()).toBe('No nurse assigned');
    expect(await charge.page.locator('.ward-name').textContent()).toContain('charge nurse Alex Smith');
    const audit = (await (await charge.page.request.get(`${base}/api/audit`)).json()) as { entries: Array<Record<string, unknown>> };
    expect(audit.entries).toContainEqual(expect.objectContaining({ who: SMITH.username, action: 'assignment.set', detail: { ward: 'w1', charge: SMITH.username, beds: { '1': { nurse: JONES.username, buddy: KIM.username }, '2': { nurse: KIM.username, buddy: JONES.username }, '3': { nurse: JONES.username } } } }));
    expect(charge.errors).toEqual([]);
  }, 60_000);

  it('a nurse filtered to their beds sees and hears only their beds\' alarms, until escalation brings another bed\'s', async () => {
    await signIn(jones.page, base, JONES.username, JONES.password);
    await signIn(kim.page, base, KIM.username, KIM.password);
    // A nurse with beds starts filtered to them.
    await expect.poll(() => jones.page.locator('#filter-mine').textContent(), { timeout: 15_000 }).toBe('Showing my beds (2)');
    expect(await jones.page.locator('#wards .tile').evaluateAll((ts) => ts.map((t) => (t as HTMLElement).dataset.bed))).toEqual(['w1/1', 'w1/3']);
    await resetProbe(jones.page);
    await resetProbe(kim.page);

    await wear.set('wb-2', { obs: { ...NORMAL, hr: 35 } }); // Kim's bed
    await wear.set('wb-1', { obs: { ...NORMAL, hr: 160 } }); // Jones's bed, raised after it
    await item(kim.page, '2').waitFor({ timeout: 30_000 });
    const bed2 = (await item(kim.page, '2').getAttribute('data-alarm'))!;
    await item(jones.page, '1').waitFor({ timeout: 30_000 });
    const bed1 = (await item(jones.page, '1').getAttribute('data-alarm'))!;
    // Jones's page has taken the bed-2 raise by now (it came first). Unless the bed-2 alarm had
    // already escalated to Jones as its buddy, it is neither shown nor sounding there.
    const shownToJones = await jones.page.locator('#alarm-list .alarm').evaluateAll((ls) => ls.map((l) => (l as HTMLElement).dataset.alarm!));
    const jonesPulses = pulses(await probe(jones.page));
    const tierNow = (await alarmsNow()).find((x) => x.id === bed2)!.tier;
    if (tierNow === 1) {
      expect(shownToJones).toContain(bed1);
      expect(shownToJones.filter((id) => !id.startsWith('P1:') && !id.startsWith('P3:'))).toEqual([]);
      expect(jonesPulses.some((p) => p.list.includes(bed2))).toBe(false);
    } else expect(await item(jones.page, '2').locator('.alarm-state').textContent()).toMatch(/^Escalated to Buddy nurse/);
    expect(jonesPulses.some((p) => p.list.includes(bed1))).toBe(true);
    expect(bursts(pulses(await probe(kim.page))).some((b) => b.every((p) => p.list.includes(bed2)))).toBe(true);
    expect((await kim.page.locator('#alarm-list .alarm').evaluateAll((ls) => ls.map((l) => (l as HTMLElement).dataset.alarm!))).filter((id) => !id.startsWith('P2:'))).toEqual([]);

    // Nobody acknowledges bed 2: the buddy tier brings it to Jones, shown and sounding.
    await jones.page.locator(`#alarm-list [data-alarm="${bed1}"] button.ack`).click();
    await resetProbe(jones.page);
    await expect.poll(() => item(jones.page, '2').locator('.alarm-state').textContent(), { timeout: 60_000 }).toBe('Escalated to Buddy nurse: not acknowledged');
    expect(await item(jones.page, '2').locator('.alarm-reached').textContent()).toMatch(/^Reached: Kim Lee, Sam Jones/);
    // The first burst scheduled while it was listed is the high-priority one.
    let escalated: ReturnType<typeof pulses> | undefined;
    await expect.poll(async () => (escalated = bursts(pulses(await probe(jones.page))).find((b) => b.every((p) => p.list.includes(bed2)))) !== undefined, { timeout: 30_000 }).toBe(true);
    expect(shape(escalated!).onsets).toEqual(PATTERNS.high.onsets.map((s) => Math.round(s * 1000)));
    expect(await jones.page.locator('#tile-P2').count()).toBe(1); // the bed of an alarm brought to me
    await jones.page.screenshot({ path: join(OUT, 'ward-my-beds.png') });

    // Everything, on request.
    await jones.page.locator('#filter-mine').click();
    await expect.poll(() => jones.page.locator('#wards .tile').count(), { timeout: 15_000 }).toBe(4);
    expect(await jones.page.locator('#filter-mine').getAttribute('aria-pressed')).toBe('false');
    expect(jones.errors).toEqual([]);
    expect(kim.errors).toEqual([]);
  }, 120_000);
});

describe('station fixes', () => {
  it('lists unacknowledged alarms before acknowledged ones of the same priority', async () => {
    await charge.page.goto(`${base}/ward`);
    const bed2 = (await alarmsNow()).find((a) => a.bed === '2' && !a.acknowledged)!.id; // raised before bed 1's
    await charge.page.locator(`#alarm-list [data-alarm="${bed2}"]`).waitFor({ timeout: 15_000 });
    const high = () => charge.page.locator('#alarm-list .alarm.pri-high').evaluateAll((ls) => ls.map((l) => ({ id: (l as HTMLElement).dataset.alarm!, acked: l.classList.contains('acked') })));
    // Bed 1's was raised after bed 2's and acknowledged (by Jones above): it comes after bed 2's.
    await expect.poll(async () => (await high()).map((a) => a.acked), { timeout: 15_000 }).toEqual([false, true]);
    expect((await high()).map((a) => a.id)).toEqual([bed2, expect.stringMatching(/^P1:limit:hr:highHigh:/)]);
  });

  it('a three-digit heart rate stays clear of the SpO2 beside it', async () => {
    await wear.set('wb-3', { obs: { hr: 117, spo2: 94, rr: 14 } });
    const hr = charge.page.locator('#tile-P3 .vital-hr .value');
    await expect.poll(() => hr.textContent(), { timeout: 15_000 }).toBe('117');
    await expect.poll(() => charge.page.locator('#tile-P3 .vital-spo2 .value').textContent(), { timeout: 15_000 }).toBe('94');
    for (const page of [charge.page, jones.page]) {
      const boxes = await page.locator('#tile-P3').evaluate((t) => ['hr', 'spo2', 'rr'].map((m) => t.querySelector(`.vital-${m} .value`)!.getBoundingClientRect()).map((r) => [r.left, r.right]));
      expect(boxes[0]![1] + 8).toBeLessThan(boxes[1]![0]);
      expect(boxes[1]![1] + 8).toBeLessThan(boxes[2]![0]);
    }
  });

  it('marks an SpO2 the device doubts, and one beyond its limit that has not alarmed', async () => {
    await wear.set('wb-4', { obs: { hr: 80, spo2: 82, rr: 14 }, sensor: 'poor' });
    const spo2 = charge.page.locator('#tile-P4 .vital-spo2');
    await expect.poll(() => spo2.locator('.signal').textContent(), { timeout: 15_000 }).toBe('Signal poor');
    expect(await spo2.getAttribute('class')).toMatch(/\bvital-doubtful\b/);
    // The device's poor-signal flag clears; the value stays below the limit, its alarm waiting out the delay.
    await wear.set('wb-4', { obs: { hr: 80, spo2: 82, rr: 14 }, sensor: 'ok' });
    await expect.poll(() => spo2.getAttribute('class'), { timeout: 15_000 }).toMatch(/\bvital-out\b/);
    expect(await spo2.locator('.value').getAttribute('title')).toBe('below the alarm limit 90');
    expect(await spo2.locator('.visually-hidden').textContent()).toBe(', below the alarm limit 90');
    expect(await spo2.locator('.value').evaluate((e) => getComputedStyle(e).color)).not.toBe(await charge.page.locator('#tile-P1 .vital-rr .value').evaluate((e) => getComputedStyle(e).color));
  });

  it('reads a tile\'s NEWS2 right to a screen reader', async () => {
    const text = await charge.page.locator('#tile-P2 .news2 .visually-hidden').textContent();
    expect(text).toMatch(/^NEWS2 \d+, (no|low|low-medium|medium|high) risk(, incomplete)?$/);
    expect(await charge.page.locator('#wards').textContent()).not.toMatch(/risk risk/);
    // A patient scoring nothing: "no risk", once.
    await wear.set('wb-4', { obs: NORMAL, sensor: 'ok' });
    await expect.poll(() => charge.page.locator('#tile-P4 .news2 .visually-hidden').textContent(), { timeout: 30_000 }).toBe('NEWS2 0, no risk, incomplete');
  });

  it('draws chart times on one line and a legend with values, not "--"', async () => {
    await charge.page.goto(`${base}/patients/P1`);
    await charge.page.locator('.chart canvas').first().waitFor({ timeout: 15_000 });
    const axes = await charge.page.evaluate(() => ((window as unknown as { __probe: { charts: Array<{ axes: Array<{ _values: string[] | null }> }> } }).__probe.charts).map((u) => u.axes[0]!._values));
    expect(axes.length).toBeGreaterThanOrEqual(5);
    for (const labels of axes) {
      expect(labels!.length).toBeGreaterThan(0);
      for (const l of labels!) expect(l).toMatch(/^(\d\d:\d\d(:\d\d)?)?$/);
      const shown = labels!.filter(Boolean);
      expect(new Set(shown).size).toBe(shown.length); // precise enough that no two ticks read the same
    }
    const legend = await charge.page.locator('#chart-hr .u-legend').textContent();
    expect(legend).not.toContain('--');
    expect(legend).toMatch(/Time\d\d:\d\d \(latest\)/);
    expect(legend).toMatch(/HR\d+/);
    await charge.page.screenshot({ path: join(OUT, 'patient-charts.png') });
    expect(charge.errors).toEqual([]);
  });

  it('keeps beds in view on a 768×1024 tablet with four alarms', async () => {
    await wear.set('wb-3', { obs: { ...NORMAL, hr: 160 } });
    await wear.set('wb-4', { obs: { ...NORMAL, rr: 32 } });
    await expect.poll(async () => (await alarmsNow()).filter((a) => a.bed !== undefined).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(4);
    const tablet = await openPage(browser, { width: 768, height: 1024 });
    try {
      await signIn(tablet.page, base, SMITH.username, SMITH.password);
      await expect.poll(() => tablet.page.locator('#alarm-list .alarm').count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(4);
      const top = await tablet.page.locator('#wards .tile').first().evaluate((t) => t.getBoundingClientRect().top);
      expect(top).toBeLessThan(1024 - 150); // a bed's name and values, not just its edge
      // Every alarm can still be reached: the list scrolls within its panel.
      const panel = await tablet.page.locator('#alarm-panel').evaluate((p) => ({ scroll: p.scrollHeight, client: p.clientHeight, overflow: getComputedStyle(p).overflowY }));
      expect(panel.scroll <= panel.client || panel.overflow === 'auto').toBe(true);
      await tablet.page.screenshot({ path: join(OUT, 'ward-tablet-alarms.png') });
      expect(tablet.errors).toEqual([]);
    } finally {
      await tablet.context.close();
    }
    if (process.env.VIGIL_UPDATE_SCREENSHOTS === '1') {
      await mkdir(DOCS, { recursive: true });
      for (const f of ['assignments.png', 'ward-my-beds.png', 'ward-tablet-alarms.png']) await copyFile(join(OUT, f), join(DOCS, f));
    }
  });
});
