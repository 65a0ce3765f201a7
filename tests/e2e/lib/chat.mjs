// What a person does on the chat page, for the browser tests: a user in a
// browser context of their own, with the page open at /chat; adding and
// accepting friends, opening a conversation, sending, reading what shows.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { User, baseURL, createUser, enterSession, parseOtpauth, strongPassword, uniqueName } from './account.mjs';
import { assertText, shownQr, watchCaptchas } from './pages.mjs';
import { watch } from './watch.mjs';

/** The chat page is ready: /api/me answered and this browser's keys are set up. */
export async function ready(page) {
  await page.waitForSelector('body[data-ready="1"]', { timeout: 10_000 });
}

/**
 * A person in a context of their own: { context, page, watcher, user, name }.
 * With register, the account is made through the pages (CAPTCHA from the
 * database, TOTP from the QR code); otherwise through the API.
 */
export async function person(browser, { register = false, context = null, viewport } = {}) {
  const ctx = context ?? await browser.newContext({ baseURL: baseURL(), viewport });
  const watcher = await watch(ctx);
  const page = ctx.pages()[0] ?? await ctx.newPage();
  const logs = [];
  page.on('console', (m) => logs.push({ type: m.type(), text: m.text() }));
  let user;
  if (register) {
    user = await registerThroughPages(page);
  } else {
    const made = await createUser();
    user = made.user;
    await enterSession(ctx, made.session);
    await page.goto('/chat');
  }
  await ready(page);
  return { context: ctx, page, watcher, user, name: user.username, logs, own: context === null };
}

export async function closeAll(...people) {
  for (const p of people) if (p.own) await p.context.close();
}

/** Registration as a person does it: the form, the QR code, the first code; ends on /chat. */
export async function registerThroughPages(page) {
  const captchas = watchCaptchas(page);
  const username = uniqueName('chat');
  const password = strongPassword();
  await page.goto('/register');
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await captchas.solve(0);
  await page.locator('#register button[type="submit"]').click();
  await page.locator('#enrol').waitFor({ state: 'visible' });
  const otp = parseOtpauth(await shownQr(page, '#qr'));
  const codes = (await page.locator('#recovery-codes li').allTextContents()).map((c) => c.trim());
  const user = new User({ username, password, secret: otp.secret, recoveryCodes: codes });
  await page.locator('#codes-saved').check();	// "I have saved these codes" comes before Finish
  await page.locator('#confirm-code').fill(await user.code());
  await page.locator('#confirm button[type="submit"]').click();
  await page.waitForURL('/chat');
  await assertText(page, '#me-username', username);
  return user;
}

const friendItem = (name) => `#friends li[data-user="${name}"]`;

/** a asks b; b sees the request arrive live and accepts; both see the friendship live. */
export async function befriend(a, b) {
  await a.page.locator('#add-name').fill(b.name);
  await a.page.locator('#add-friend button[type="submit"]').click();
  await assertText(a.page, '#add-result', `Request sent to ${b.name}.`);
  await b.page.locator(`#incoming li[data-user="${a.name}"] .accept`).click();
  await a.page.locator(friendItem(b.name)).waitFor();
  await b.page.locator(friendItem(a.name)).waitFor();
}

/** a (in the test's context) and b, friends, each with the other's conversation open. */
export async function pair(browser, context, opts = {}) {
  const a = await person(browser, { context, ...opts });
  const b = await person(browser, opts);
  await befriend(a, b);
  await openChat(a, b.name);
  await openChat(b, a.name);
  return [a, b];
}

/** This browser context forgets its keys, as a cleared browser storage does; the page is back on /chat. */
export async function forgetKeys(p) {
  // From a page that does not hold the database open.
  await p.page.goto('/');
  await p.page.evaluate(() => new Promise((resolve, reject) => {
    const r = indexedDB.deleteDatabase('sealed-e2ee');
    r.onsuccess = resolve;
    r.onerror = () => reject(r.error);
  }));
  await p.page.goto('/chat');
  await ready(p.page);
}

/** Opens the conversation with `name`; waits until its history is in. */
export async function openChat(p, name) {
  await p.page.locator(`${friendItem(name)} .open`).click();
  await assertText(p.page, '#peer-name', name);
  await p.page.waitForFunction(() => !document.getElementById('messages').dataset.loading);
}

/** Types text and presses Enter. */
export async function send(p, text) {
  await p.page.locator('#text').fill(text);
  await p.page.locator('#text').press('Enter');
}

/** Waits until a message of `side` ('mine' or 'theirs') shows exactly text. */
export async function waitMessage(p, text, side = null, timeout = 10_000) {
  await p.page.waitForFunction(([t, s]) => [...document.querySelectorAll(`#messages li.msg${s ? `.${s}` : ''} .text`)]
    .some((el) => el.textContent === t), [text, side], { timeout });
}

/** The conversation as shown: [{cls, text, status}] in order. */
export function shown(p) {
  return p.page.$$eval('#messages > li', (lis) => lis.map((li) => ({
    id: Number(li.dataset.id) || null,
    cls: li.className,
    text: (li.querySelector('.text') ?? li.querySelector('p'))?.textContent ?? '',
    status: li.querySelector('.status')?.textContent ?? null,
  })));
}

/** Reloads the chat and opens the conversation with name again. */
export async function reopen(p, name) {
  await p.page.reload();
  await ready(p.page);
  await openChat(p, name);
}

/** Saves a screenshot for the README when CHAT_E2E_SCREENSHOTS names a directory. */
export async function screenshot(page, file) {
  const dir = process.env.CHAT_E2E_SCREENSHOTS;
  if (!dir) return;
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: join(dir, file) });
}
