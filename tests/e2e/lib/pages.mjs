// What a person does on the account pages (login, register, account), for
// the browser tests: read the CAPTCHA the page shows, log in, read a QR code.

import assert from 'node:assert/strict';
import { captchaAnswer, qrText } from './account.mjs';

/**
 * Follows the CAPTCHAs a page loads. The page keeps a challenge's id in
 * script memory only, so the id is taken from the /api/captcha answer.
 * Call before the first navigation.
 */
export function watchCaptchas(page) {
  const loaded = []; // promises of { id, image }
  let wake = () => {};
  page.on('response', (r) => {
    if (r.request().method() !== 'POST' || new URL(r.url()).pathname !== '/api/captcha') return;
    const body = r.status() === 201 ? r.json() : Promise.reject(new Error(`POST /api/captcha answered ${r.status()}`));
    // Only the newest is ever awaited; a page navigated away from leaves no body.
    body.catch(() => {});
    loaded.push(body);
    wake();
  });
  return {
    /** How many CAPTCHAs the page has fetched so far. */
    count: () => loaded.length,
    /**
     * Waits until the page has fetched more than `since` CAPTCHAs and shows
     * the newest in #captcha-img; returns { id, image } of that one.
     */
    async shown(since = 0, timeout = 10_000) {
      const deadline = Date.now() + timeout;
      while (loaded.length <= since) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`the page loaded no new CAPTCHA (still ${loaded.length}) in ${timeout} ms`);
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => { clearTimeout(timer); resolve(); };
        });
      }
      const c = await loaded[loaded.length - 1];
      try {
        await page.waitForFunction((src) => document.getElementById('captcha-img')?.getAttribute('src') === src, c.image, {
          timeout: Math.max(1000, deadline - Date.now()),
        });
      } catch (e) {
        throw new Error(`#captcha-img does not show CAPTCHA ${c.id}`, { cause: e });
      }
      return c;
    },
    /** Types the answer of the newest CAPTCHA (newer than `since`) into #captcha. */
    async solve(since = 0) {
      const c = await this.shown(since);
      await page.locator('#captcha').fill(await captchaAnswer(c.id));
      return c;
    },
  };
}

/** The autocomplete attribute of the element matched by selector. */
export const autocomplete = (page, selector) => page.locator(selector).getAttribute('autocomplete');

/** The text of the QR code shown by <img selector> (its PNG data: URL, decoded with zbarimg). */
export async function shownQr(page, selector) {
  const img = page.locator(selector);
  await img.waitFor({ state: 'visible' });
  await page.waitForFunction((sel) => document.querySelector(sel)?.complete && document.querySelector(sel).naturalWidth > 0, selector);
  return qrText(await img.getAttribute('src'));
}

/**
 * Logs in on / up to the second step: user name, password, CAPTCHA, then
 * waits for the second-step form. Call watchCaptchas(page) before. Without
 * since, it opens /; with since (a captchas.count() taken before the page
 * loaded its current CAPTCHA), it stays on the login form already shown, so
 * that no CAPTCHA load is cut off.
 */
export async function firstStep(page, captchas, username, password, { since } = {}) {
  if (since === undefined) {
    since = captchas.count();
    await page.goto('/');
  }
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await captchas.solve(since);
  await page.locator('#login button[type="submit"]').click();
  await page.locator('#mfa').waitFor({ state: 'visible' });
}

/** Both steps of a login with a TOTP code of user; ends on /chat showing the user. */
export async function logIn(page, captchas, user, { password = user.password, since } = {}) {
  await firstStep(page, captchas, user.username, password, { since });
  await page.locator('#mfa-code').fill(await user.code());
  await page.locator('#mfa button[type="submit"]').click();
  await page.waitForURL('/chat');
  await assertText(page, '#me-username', user.username);
}

/** Waits until the element's trimmed text equals text (so a slow page is not a failure). */
export async function assertText(page, selector, text, timeout = 10_000) {
  try {
    await page.waitForFunction(
      ([sel, want]) => document.querySelector(sel)?.textContent.trim() === want,
      [selector, text],
      { timeout },
    );
  } catch {
    const el = await page.$(selector);
    const got = el ? JSON.stringify((await el.textContent()).trim()) : 'no such element';
    assert.fail(`${selector} should say ${JSON.stringify(text)} but says ${got}`);
  }
}

/** Waits until the element is visible and says text; also checks it shows as text, not markup. */
export async function assertMessage(page, selector, text) {
  await page.locator(selector).waitFor({ state: 'visible' });
  await assertText(page, selector, text);
  assert.equal(await page.locator(selector).evaluate((el) => el.children.length), 0, `${selector} holds elements`);
}

/** Logs out with the header button; ends on /. */
export async function logOut(page) {
  await page.locator('#logout').click();
  await page.waitForURL('/');
}

/**
 * Asserts that watcher (lib/watch.mjs) saw no problem in the context except
 * the console errors Chromium logs for expected HTTP errors (allowed is a
 * list of [status, path], e.g. [[401, '/api/login']]) and requests the
 * browser dropped when a page moved on (net::ERR_ABORTED): a GET such as the
 * page's icon, any request whose answer had already come, or a read or
 * delivered marker (they only grow, and the next page sends its own, so one
 * cut off by a reload loses nothing; a send cut off is still a problem).
 */
export async function assertNoProblems(watcher, page, allowed = []) {
  const dropped = (line) => /^request failed: (GET \S+: net::ERR_ABORTED|\S+ \S+: net::ERR_ABORTED \(after its answer\)|POST https:\/\/[^/]+\/api\/messages\/(read|delivered): net::ERR_ABORTED)$/.test(line);
  const expected = (line) => dropped(line) || allowed.some(([status, path]) => {
    const m = /^console error: Failed to load resource: the server responded with a status of (\d+) .*\((\S+):\d+\)$/.exec(line);
    return m !== null && Number(m[1]) === status && URL.canParse(m[2]) && new URL(m[2]).pathname === path;
  });
  const problems = (await watcher.problems(page)).filter((line) => !expected(line));
  assert.ok(problems.length === 0, `the pages reported problems:\n${problems.join('\n')}`);
}

/**
 * Signs up on /register up to the enrolment step (call watchCaptchas(page)
 * before); returns { username, password, secret, codes } as the page shows them.
 */
export async function signUp(page, captchas, { username, password }) {
  const since = captchas.count();
  await page.goto('/register');
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await captchas.solve(since);
  await page.locator('#register button[type="submit"]').click();
  await page.locator('#enrol').waitFor({ state: 'visible' });
  const uri = await shownQr(page, '#qr');
  const secret = new URL(uri).searchParams.get('secret');
  const codes = (await page.locator('#recovery-codes li').allTextContents()).map((c) => c.trim());
  return { username, password, secret, codes };
}

/**
 * Asserts that the recovery codes in `list` (a selector of the <ol>) are all
 * visible, whole (nothing cut or wrapped) and that no two overlap.
 */
export async function assertCodesLaidOut(page, list, what) {
  const boxes = await page.locator(`${list} li`).evaluateAll((lis) => lis.map((li) => {
    const r = li.getBoundingClientRect();
    const range = document.createRange();
    range.selectNodeContents(li);
    const t = range.getBoundingClientRect();
    return { x: r.left, y: r.top, w: r.width, h: r.height, tx: t.left, tw: t.width, th: t.height, text: li.textContent };
  }));
  assert.equal(boxes.length, 10, `${what}: codes listed`);
  const vw = await page.evaluate(() => document.documentElement.clientWidth);
  for (const b of boxes) {
    assert.ok(b.w > 0 && b.h > 0, `${what}: ${b.text} is not visible`);
    assert.ok(b.tx >= b.x - 0.5 && b.tx + b.tw <= b.x + b.w + 0.5, `${what}: ${b.text} runs out of its cell (${JSON.stringify(b)})`);
    assert.ok(b.th < 2 * 24, `${what}: ${b.text} wraps (${b.th}px tall)`);
    assert.ok(b.x >= 0 && b.x + b.w <= vw + 0.5, `${what}: ${b.text} is outside the viewport (${vw}px)`);
  }
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i], boxes[j]];
      const apart = a.tx + a.tw <= b.tx + 0.5 || b.tx + b.tw <= a.tx + 0.5 || a.y + a.h <= b.y + 0.5 || b.y + b.h <= a.y + 0.5;
      assert.ok(apart, `${what}: ${a.text} and ${b.text} overlap`);
    }
  }
}

/** The elements a print of the page shows (visible in print media), as "tag#id.class: text". */
export async function printedElements(page) {
  await page.emulateMedia({ media: 'print' });
  try {
    return await page.evaluate(() => [...document.querySelectorAll('main *')]
      .filter((el) => el.checkVisibility({ visibilityProperty: true }) && el.children.length === 0)
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}: ${el.textContent.trim()}`));
  } finally {
    await page.emulateMedia({ media: 'screen' });
  }
}
