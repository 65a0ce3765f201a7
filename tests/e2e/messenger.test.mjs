// The chat page as a messenger people would choose: noticed in a background
// tab, honest about the connection and about each message's state, easy to
// read and write, usable by keyboard and screen reader, in light and dark.
// Two people, each in a browser context of their own, in real Chromium.

import assert from 'node:assert/strict';
import { sql, qrText } from './lib/account.mjs';
import { clickNotification, notesPlayed, notifications, permissionAsked, setHidden, watchAttention } from './lib/attention.mjs';
import { assertAccessible } from './lib/axe.mjs';
import { befriend, closeAll, openChat, pair, person, screenshot, send, waitMessage } from './lib/chat.mjs';
import { test } from './lib/harness.mjs';
import { assertText } from './lib/pages.mjs';

const textsFrom = async (name) => Number(await sql(
  `SELECT COUNT(*) FROM messages m JOIN users u ON u.id = m.sender_id WHERE u.username = '${name}' AND m.kind = 'text'`));

const title = (p) => p.page.evaluate(() => document.title);
const icon = (p) => p.page.evaluate(() => document.querySelector('link[rel="icon"]').getAttribute('href'));

async function turnOnNotifications(p) {
  await p.page.locator('#notify-toggle').click();
  await p.page.locator('#notify-desktop').check();
  await p.page.waitForFunction(() => localStorage.getItem('notify-desktop') === '1');
}

test('messenger: a hidden tab counts unread in the title and the icon, and notifies the sender\'s name, never the text', async ({ browser, context }) => {
  await watchAttention(context);
  const [a, b] = await pair(browser, context);
  try {
    assert.equal(await permissionAsked(a.page), 0, 'the notification permission was asked for on load');
    await turnOnNotifications(a);
    assert.equal(await permissionAsked(a.page) <= 1, true);
    await a.page.locator('#notify-sound').check();	// plays once, as a sample
    await a.page.waitForFunction(() => window.__notes === 2);
    const plain = await title(a);
    assert.doesNotMatch(plain, /^\(\d+\)/);

    // Visible, with b's conversation open: nothing to notify.
    await send(b, 'seen at once');
    await waitMessage(a, 'seen at once', 'theirs');
    await assertText(a.page, '#announce', `${b.name}: seen at once`);	// handled to the end
    assert.deepEqual(await notifications(a.page), [], 'a message on screen was notified');
    assert.equal(await notesPlayed(a.page), 2, 'a message on screen rang');

    await setHidden(a.page, true);
    await send(b, 'secret words one');
    await send(b, 'secret words two');
    await waitMessage(a, 'secret words two', 'theirs');
    await a.page.waitForFunction(() => document.title.startsWith('(2) '));
    assert.equal(await icon(a), '/static/img/icon-unread.svg');
    const got = await notifications(a.page);
    assert.ok(got.length >= 1, 'no notification for a hidden tab');
    assert.ok(await notesPlayed(a.page) >= 4, 'no sound for a hidden tab');
    for (const n of got) {
      assert.match(n.title, new RegExp(b.name));
      assert.doesNotMatch(`${n.title} ${n.body}`, /secret|words/, 'a notification shows the text');
    }

    // Back on the tab: the count and the dot go.
    await setHidden(a.page, false);
    await a.page.waitForFunction((t) => document.title === t, plain);
    assert.equal(await icon(a), '/static/img/icon.svg');
  } finally {
    await closeAll(a, b);
  }
});

test('messenger: a message for another conversation is notified; clicking the notification opens it', async ({ browser, context }) => {
  await watchAttention(context);
  const [a, b] = await pair(browser, context);
  const c = await person(browser);
  try {
    await befriend(c, a);
    await openChat(a, b.name);
    await turnOnNotifications(a);
    await openChat(c, a.name);
    await send(c, 'for a, from c');
    // The badge of c's row and the title count it, though a's tab is visible.
    await a.page.locator(`#friends li[data-user="${c.name}"] .unread:not([hidden])`).waitFor();
    await a.page.waitForFunction(() => /^\(1\) /.test(document.title));
    await a.page.waitForFunction(() => window.__notifications.length > 0);
    const [n] = await notifications(a.page);
    assert.match(n.title, new RegExp(c.name));
    assert.doesNotMatch(`${n.title} ${n.body}`, /for a, from c/);
    await clickNotification(a.page);
    await assertText(a.page, '#peer-name', c.name);
    await waitMessage(a, 'for a, from c', 'theirs');
    await a.page.waitForFunction(() => !/^\(\d+\) /.test(document.title));
  } finally {
    await closeAll(a, b, c);
  }
});

test('messenger: offline shows a banner and no one online; what is written offline goes once, in order, on reconnect', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    await send(a, 'before');
    await waitMessage(b, 'before', 'theirs');
    await assertText(a.page, '#peer-presence', 'online');
    await a.context.setOffline(true);
    await a.page.locator('#offline').waitFor({ state: 'visible' });
    assert.equal(await a.page.locator('#offline').textContent(), 'Offline — reconnecting…');
    assert.notEqual(await a.page.locator('#peer-presence').textContent(), 'online', 'the peer shows online while I am offline');
    assert.equal(await a.page.locator('#friends .dot.on').count(), 0, 'a friend\'s dot says online while I am offline');
    for (const t of ['one', 'two', 'three']) await send(a, t);
    // Each waits, said plainly, with Retry.
    await a.page.waitForFunction(() => {
      const stuck = [...document.querySelectorAll('#messages li.pending')];
      return stuck.length === 3 && stuck.every((li) => li.querySelector('.status').textContent === 'not sent' && !li.querySelector('.retry').hidden);
    });
    assert.equal(await a.page.locator('#conv-error').isHidden(), true, 'an error shows besides the banner');
    await screenshot(a.page, 'offline.png');
    await a.context.setOffline(false);
    await a.page.locator('#offline').waitFor({ state: 'hidden', timeout: 15_000 });
    for (const t of ['one', 'two', 'three']) await waitMessage(b, t, 'theirs', 15_000);
    const order = await b.page.$$eval('#messages li.theirs .text', (els) => els.map((e) => e.textContent));
    assert.deepEqual(order, ['before', 'one', 'two', 'three']);
    await a.page.waitForFunction(() => !document.querySelector('#messages li.pending'));
    assert.equal(await textsFrom(a.name), 4, 'a message was stored twice or not at all');
    await a.page.waitForFunction(() => [...document.querySelectorAll('#messages li.mine .status')].every((s) => s.textContent === 'read'));
    assert.equal(await a.page.locator('#conv-error').isHidden(), true, 'a stale error stayed');
    await assertText(a.page, '#peer-presence', 'online');
  } finally {
    await closeAll(a, b);
  }
});

test('messenger: a message the server cannot take now shows "not sent" and Retry sends it at once', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    // The service refuses for a minute (as a rate limit says it); the page
    // is online all along, so no banner and no reconnect sends it meanwhile.
    let refuse = true;
    await a.page.route('**/api/messages', (route) => (route.request().method() === 'POST' && refuse
      ? route.fulfill({ status: 429, headers: { 'Retry-After': '60', 'Content-Type': 'application/json' }, body: '{"error":"rate_limited","message":"Too many requests."}' })
      : route.fallback()));
    await send(a, 'please retry me');
    await a.page.locator('#messages li.pending .retry:not([hidden])').waitFor();
    assert.equal(await a.page.locator('#messages li.pending .status').textContent(), 'not sent');
    assert.equal(await a.page.locator('#offline').isHidden(), true, 'a refusal was taken for being offline');
    await a.page.waitForTimeout(1500);
    assert.equal(await textsFrom(a.name), 0, 'sent before the minute without Retry');
    refuse = false;
    await a.page.locator('#messages li.pending .retry').click();
    // Long before the minute the server asked for.
    await waitMessage(b, 'please retry me', 'theirs', 8000);
    await a.page.waitForFunction(() => !document.querySelector('#messages li.pending'), null, { timeout: 8000 });
    assert.equal(await textsFrom(a.name), 1);
  } finally {
    await closeAll(a, b);
  }
});

test('messenger: a reader scrolled up stays put; "↓ N new" counts what came and takes them to it', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context, { viewport: { width: 1000, height: 600 } });
  try {
    for (let i = 1; i <= 25; i++) await send(b, `line ${i}\nsecond row of ${i}`);
    await waitMessage(a, 'line 25\nsecond row of 25', 'theirs', 20_000);
    const ol = a.page.locator('#messages');
    await ol.evaluate((el) => {
      el.scrollTop = 200;
      el.dispatchEvent(new Event('scroll'));	// handled now, not some frames later
    });
    const before = await ol.evaluate((el) => el.scrollTop);
    await send(b, 'new while reading');
    await send(b, 'and another');
    await waitMessage(a, 'and another', 'theirs');
    await assertText(a.page, '#new-pill', '↓ 2 new');
    assert.ok(Math.abs(await ol.evaluate((el) => el.scrollTop) - before) < 2, 'the reader was moved');
    // Not seen yet, so not "read": b's browser is told "delivered".
    const statusOf = (t) => b.page.$$eval('#messages li.mine', (lis, text) => lis.find((li) => li.querySelector('.text').textContent === text)
      ?.querySelector('.status').textContent, t);
    await b.page.waitForFunction(() => [...document.querySelectorAll('#messages li.mine .status')].at(-1)?.textContent === 'delivered');
    assert.equal(await statusOf('and another'), 'delivered');
    await a.page.locator('#new-pill').click();
    await a.page.locator('#new-pill').waitFor({ state: 'hidden' });
    await b.page.waitForFunction(() => [...document.querySelectorAll('#messages li.mine .status')].at(-1)?.textContent === 'read');
    assert.ok(await ol.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 4), 'not at the newest');
    // At the newest, the next one follows.
    await send(b, 'followed');
    await waitMessage(a, 'followed', 'theirs');
    await a.page.waitForFunction(() => { const el = document.getElementById('messages'); return el.scrollHeight - el.scrollTop - el.clientHeight < 4; });
    assert.equal(await a.page.locator('#new-pill').isHidden(), true);
  } finally {
    await closeAll(a, b);
  }
});

test('messenger: one time per group, date separators from the sender\'s sealed clock, links that are safe', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    const now = Date.now();
    await b.page.clock.setFixedTime(new Date(now - 3 * 24 * 3600 * 1000));
    await send(b, 'three days ago');
    await waitMessage(a, 'three days ago', 'theirs');
    await b.page.clock.setFixedTime(new Date(now - 24 * 3600 * 1000));
    await send(b, 'yesterday');
    await waitMessage(a, 'yesterday', 'theirs');
    await b.page.clock.setFixedTime(new Date(now));
    for (const t of ['today one', 'today two', 'see https://example.com/a?b=1, and javascript:alert(1) or http://127.0.0.1:9/x.']) await send(b, t);
    await waitMessage(a, 'today two', 'theirs');
    await a.page.waitForFunction(() => document.querySelectorAll('#messages li.theirs').length === 5);
    const items = await a.page.$$eval('#messages > li', (lis) => lis.filter((li) => li.classList.contains('day') || li.classList.contains('theirs'))
      .map((li) => (li.classList.contains('day') ? `[${li.textContent}]` : li.querySelector('.text').textContent)));
    const weekday = new Date(now - 3 * 24 * 3600 * 1000).toLocaleDateString('en-US', { weekday: 'long' });
    assert.deepEqual(items.slice(0, 5), [`[${weekday}]`, 'three days ago', '[Yesterday]', 'yesterday', '[Today]']);
    // Today's three are one group: one time, under the last.
    const times = await a.page.$$eval('#messages li.theirs', (lis) => lis.map((li) => getComputedStyle(li.querySelector('.meta')).display !== 'none'
      && getComputedStyle(li.querySelector('time')).display !== 'none'));
    assert.deepEqual(times, [true, true, false, false, true]);
    // Each still names its sender and time for a screen reader.
    const who = await a.page.$$eval('#messages li.theirs .who', (els) => els.map((e) => e.textContent));
    assert.ok(who.every((w) => w.startsWith(`${b.name}, `)), who.join('|'));
    const links = await a.page.$$eval('#messages li.theirs a', (as) => as.map((x) => ({ href: x.href, rel: x.rel, target: x.target, text: x.textContent })));
    assert.deepEqual(links, [
      { href: 'https://example.com/a?b=1', rel: 'noopener noreferrer', target: '_blank', text: 'https://example.com/a?b=1' },
      { href: 'http://127.0.0.1:9/x', rel: 'noopener noreferrer', target: '_blank', text: 'http://127.0.0.1:9/x' },
    ]);
  } finally {
    await closeAll(a, b);
  }
});

test('messenger: "New messages" marks where reading stopped; a new conversation nudges to verify once', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    await a.page.locator('#verify-nudge').waitFor({ state: 'visible' });
    await send(b, 'read already');
    await waitMessage(a, 'read already', 'theirs');
    // a's browser noted it read (and said so): only then leave.
    await b.page.waitForFunction(() => [...document.querySelectorAll('#messages li.mine .status')].at(-1)?.textContent === 'read');
    await a.page.locator('#back').evaluate((el) => el.click());	// leave the conversation
    const c = await person(browser);
    try {
      await befriend(c, a);
      await openChat(a, c.name);
      for (const t of ['unread one', 'unread two']) await send(b, t);
      await a.page.locator(`#friends li[data-user="${b.name}"] .unread:not([hidden])`).waitFor();
      await openChat(a, b.name);
      await waitMessage(a, 'unread two', 'theirs');
      await a.page.waitForFunction(() => document.activeElement?.id === 'text');	// opening is over, nudge or not
      const order = await a.page.$$eval('#messages > li', (lis) => lis.filter((li) => li.classList.contains('divider') || li.classList.contains('theirs'))
        .map((li) => (li.classList.contains('divider') ? '--' : li.querySelector('.text').textContent)));
      assert.deepEqual(order, ['read already', '--', 'unread one', 'unread two']);
      assert.equal(await a.page.locator('#verify-nudge').isHidden(), true, 'the nudge came again');
    } finally {
      await closeAll(c);
    }
  } finally {
    await closeAll(a, b);
  }
});

test('messenger: the safety number reads as 12 groups of 5 with a QR code of the same digits, made in the browser', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    await send(b, 'hi');
    await waitMessage(a, 'hi', 'theirs');
    const numbers = [];
    for (const p of [a, b]) {
      await p.page.locator('#show-safety').click();
      await p.page.locator('#safety-qr svg').waitFor();
      const groups = await p.page.$$eval('#safety-number span', (s) => s.map((x) => x.textContent));
      assert.equal(groups.length, 12);
      assert.ok(groups.every((g) => /^\d{5}$/.test(g)), groups.join(' '));
      const decoded = await qrText(await p.page.locator('#safety-qr svg').screenshot());
      assert.equal(decoded, groups.join(''), 'the QR code holds other digits');
      numbers.push(decoded);
    }
    assert.equal(numbers[0], numbers[1]);
    await a.page.keyboard.press('Escape');
    await a.page.locator('#safety').waitFor({ state: 'hidden' });
  } finally {
    await closeAll(a, b);
  }
});

test('messenger: the composer grows to about eight lines; on a touch screen ↵ adds a line and Enter does not send', async ({ browser }) => {
  const desk = await person(browser);
  const phone = await person(browser, { context: await browser.newContext({ baseURL: process.env.CHAT_BASE_URL, viewport: { width: 390, height: 800 }, hasTouch: true, isMobile: true }) });
  try {
    await befriend(desk, phone);
    await openChat(desk, phone.name);
    const height = () => desk.page.locator('#text').evaluate((el) => el.getBoundingClientRect().height);
    const one = await height();
    await desk.page.locator('#text').fill('1\n2\n3\n4\n5');
    await desk.page.locator('#text').dispatchEvent('input');
    const five = await height();
    await desk.page.locator('#text').fill(Array.from({ length: 30 }, (_, i) => `row ${i}`).join('\n'));
    await desk.page.locator('#text').dispatchEvent('input');
    const many = await height();
    assert.ok(five > one * 2.5, `five lines: ${five}px vs one: ${one}px`);
    assert.ok(many > five * 1.3 && many < one * 7, `thirty lines: ${many}px (one: ${one}px)`);
    assert.equal(await desk.page.locator('#newline').isHidden(), true, 'the newline button shows with a mouse');
    await desk.page.locator('#text').fill('');

    await openChat(phone, desk.name);
    await phone.page.locator('#newline').waitFor({ state: 'visible' });
    await phone.page.locator('#text').fill('first');
    await phone.page.locator('#newline').tap();
    await phone.page.keyboard.type('second');
    await phone.page.locator('#text').press('Enter');
    assert.equal(await phone.page.locator('#text').inputValue(), 'first\nsecond\n');
    await phone.page.locator('#send').tap();
    await waitMessage(desk, 'first\nsecond\n', 'theirs');
  } finally {
    await closeAll(desk, phone);
    await phone.context.close();
  }
});

test('messenger: Ctrl+K opens a friend switcher, Escape closes panels', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  const c = await person(browser);
  try {
    await befriend(c, a);
    await a.page.keyboard.press('Control+K');
    await a.page.locator('#switcher[open]').waitFor();
    await a.page.keyboard.type(c.name.slice(-6));
    assert.deepEqual(await a.page.$$eval('#switch-list li', (l) => l.map((x) => x.textContent)), [c.name]);
    await a.page.keyboard.press('Enter');
    await assertText(a.page, '#peer-name', c.name);
    assert.equal(await a.page.locator('#switcher').evaluate((d) => d.open), false);
    await a.page.keyboard.press('Control+K');
    await a.page.locator('#switcher[open]').waitFor();
    await a.page.keyboard.press('Escape');
    await a.page.locator('#switcher[open]').waitFor({ state: 'detached' });
    await a.page.locator('#notify-toggle').click();
    await a.page.locator('#notify-panel').waitFor({ state: 'visible' });
    await a.page.keyboard.press('Escape');
    await a.page.locator('#notify-panel').waitFor({ state: 'hidden' });
  } finally {
    await closeAll(a, b, c);
  }
});

test('messenger: screen readers hear new incoming messages only, once, with their sender', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    assert.equal(await a.page.locator('#messages').getAttribute('aria-live'), null, 'the whole list is live: every status change is read out');
    await send(b, 'hello reader');
    await waitMessage(a, 'hello reader', 'theirs');
    await assertText(a.page, '#announce', `${b.name}: hello reader`);
    await send(a, 'my own words');
    await a.page.waitForFunction(() => [...document.querySelectorAll('#messages li.mine .status')].some((s) => s.textContent === 'read'));
    assert.equal(await a.page.locator('#announce').textContent(), `${b.name}: hello reader`, 'my own message or its status was announced');
    const mine = await a.page.locator('#messages li.mine .who').first().textContent();
    assert.match(mine, /^You, /);
  } finally {
    await closeAll(a, b);
  }
});

test('messenger: dark theme follows the system; the layout keeps its width whatever a message holds', async ({ browser }) => {
  const ctx = await browser.newContext({ baseURL: process.env.CHAT_BASE_URL, colorScheme: 'dark', viewport: { width: 1200, height: 800 } });
  const [a, b] = await pair(browser, ctx);
  try {
    const luminance = (sel, prop) => a.page.locator(sel).evaluate((el, p) => {
      const [r, g, bl] = getComputedStyle(el)[p].match(/\d+(\.\d+)?/g).map(Number);
      return (0.2126 * r + 0.7152 * g + 0.0722 * bl) / 255;
    }, prop);
    assert.ok(await luminance('#conversation', 'backgroundColor') < 0.2, 'the conversation is not dark');
    assert.ok(await luminance('#conversation', 'color') > 0.7, 'the text is not light');
    const width = () => a.page.locator('#conversation').evaluate((el) => el.getBoundingClientRect().width);
    const before = await width();
    await send(b, `${'x'.repeat(400)} ${'1234567890'.repeat(30)}`);
    await waitMessage(a, `${'x'.repeat(400)} ${'1234567890'.repeat(30)}`, 'theirs');
    assert.equal(await width(), before, 'a long message widened the chat column');
    await send(a, 'Dark, and easy on the eyes. https://example.com/more');
    await waitMessage(b, 'Dark, and easy on the eyes. https://example.com/more', 'theirs');
    await screenshot(a.page, 'dark.png');
    await assertAccessible(a.page, 'dark conversation');
  } finally {
    await closeAll(a, b);
    await ctx.close();
  }
});

test('messenger: no serious or critical accessibility violation on the chat page', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    await send(b, 'a message to check https://example.com');
    await waitMessage(a, 'a message to check https://example.com', 'theirs');
    await send(a, 'and a reply');
    await assertAccessible(a.page, 'a conversation');
    await a.page.locator('#show-safety').click();
    await a.page.locator('#safety-qr svg').waitFor();
    await assertAccessible(a.page, 'the safety number');
    await a.page.locator('#notify-toggle').click();
    await assertAccessible(a.page, 'the notification settings');
    await a.page.keyboard.press('Control+K');
    await a.page.locator('#switcher[open]').waitFor();
    await assertAccessible(a.page, 'the friend switcher');
    await a.page.keyboard.press('Escape');
    await a.context.setOffline(true);
    await a.page.locator('#offline').waitFor({ state: 'visible' });
    await assertAccessible(a.page, 'offline');
    await a.context.setOffline(false);
    await a.page.locator('#offline').waitFor({ state: 'hidden', timeout: 15_000 });
    await a.page.setViewportSize({ width: 390, height: 800 });
    await assertAccessible(a.page, 'a phone-sized conversation');
  } finally {
    await closeAll(a, b);
  }
});

test('messenger: the sign-up, login and account pages pass the accessibility check in the dark theme too', async ({ browser }) => {
  const ctx = await browser.newContext({ baseURL: process.env.CHAT_BASE_URL, colorScheme: 'dark' });
  try {
    const page = await ctx.newPage();
    for (const path of ['/', '/register']) {
      await page.goto(path);
      await page.locator('form').first().waitFor();
      await assertAccessible(page, `${path} (dark)`);
    }
    const p = await person(browser, { context: ctx });
    await p.page.goto('/account');
    await p.page.locator('#debug-crypto').waitFor();
    await assertAccessible(p.page, '/account (dark)');
  } finally {
    await ctx.close();
  }
});
