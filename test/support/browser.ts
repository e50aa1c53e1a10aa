/**
 * Real Chromium (Debian's `chromium`) driven by playwright-core, headless, with the network
 * chatter of a desktop browser switched off (the test machine has no outside network).
 * Collects console errors and failed requests so a test can assert the page ran cleanly.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * The autoplay policy is named rather than left to the build: a desktop browser's, where sound
 * starts only in a document the user has interacted with (or navigated to from one that was).
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run test/setup/ensure-services.sh (apt-get install chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--autoplay-policy=document-user-activation-required'],
  });
}

export interface WatchedPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors and page errors seen so far. */
  readonly errors: string[];
}

/**
 * A fresh browser context (its own cookies: a separate session) with one page. Motion is reduced
 * (no flashing) unless `motion` asks for it; `prepare` runs on the context before the page opens
 * (init scripts, permissions).
 */
export async function openPage(browser: Browser, viewport = { width: 1920, height: 1080 }, opts: { motion?: boolean; prepare?: (c: BrowserContext) => Promise<void> } = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport, reducedMotion: opts.motion ? 'no-preference' : 'reduce' });
  await opts.prepare?.(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    // The stream cut on purpose (gateway stopped) is reported by the browser as a console error.
    if (m.type() === 'error' && !/ERR_CONNECTION_REFUSED|ERR_INCOMPLETE_CHUNKED_ENCODING|ERR_EMPTY_RESPONSE|401 \(Unauthorized\)/.test(m.text())) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, errors };
}

/** Signs in through the sign-in form. */
export async function signIn(page: Page, baseUrl: string, username: string, password: string, path = '/ward'): Promise<void> {
  await page.goto(`${baseUrl}${path}`);
  await page.waitForURL(/\/signin/);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === path);
}
