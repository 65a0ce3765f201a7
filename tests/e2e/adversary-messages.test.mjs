// The server as the adversary, about messages (protocol version 2,
// static/js/e2ee.js, ledger.js, secure.js): the test owns the database and
// plays the server. It races two tabs of one user for counters, drops and
// deletes messages, answers one tab late while another checks a message,
// forges read markers, relabels a message's kind, moves a reply before the
// question it answers and re-dates rows, re-dates an old key announcement,
// drops a key refresh and copies an old message under a new counter. Each
// test checks what the victim's screen shows and, where it applies, what
// the browsers posted.

import assert from 'node:assert/strict';
import { ApiClient, SESSION_COOKIE, baseURL, sql } from './lib/account.mjs';
import { test } from './lib/harness.mjs';
import {
  befriend, closeAll, openChat, pair, person, ready, reopen, send, shown, waitMessage,
} from './lib/chat.mjs';

// ------------------------------------------------------------------ the server's side

/** Rows of a query as arrays of column strings. */
async function rows(query) {
  const out = await sql(query);
  return out === '' ? [] : out.split('\n').map((l) => l.split('\t'));
}

const userId = async (name) => Number(await sql(`SELECT id FROM users WHERE username = '${name}'`));

/** The rows from user id s to user id r, in id order: [{id, kind, skey, rkey, epoch, counter}]. */
async function messagesOf(s, r, where = '1') {
  return (await rows(`SELECT id, kind, sender_key_id, recipient_key_id, epoch, counter FROM messages
    WHERE sender_id = ${s} AND recipient_id = ${r} AND (${where}) ORDER BY id`))
    .map(([id, kind, skey, rkey, epoch, counter]) => ({
      id: Number(id), kind, skey: Number(skey), rkey: Number(rkey), epoch: Number(epoch), counter: Number(counter),
    }));
}

/**
 * Waits until fn() gives a truthy value: for a database state no page
 * event announces (e.g. a row a browser posted). Polls every 50 ms.
 */
async function until(fn, what, timeout = 10_000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// ------------------------------------------------------------------ the browsers' side

/** Every POST /api/messages body page sends from now on, answered or not (409s too), into list. */
function recordPosts(page, list = []) {
  page.on('request', (req) => {
    if (req.method() === 'POST' && new URL(req.url()).pathname === '/api/messages') list.push(req.postDataJSON());
  });
  return list;
}

/** Closes p's page: p is away (its browser's storage stays). */
async function away(p) {
  await p.page.close();
  p.page = null;
}

/** p comes back: a new page of p's browser at /chat, ready. */
async function back(p, posts = null) {
  p.page = await p.context.newPage();
  if (posts) recordPosts(p.page, posts);
  await p.page.goto('/chat');
  await ready(p.page);
}

/** The entry of message id on p's screen: {cls, text, status, datetime, flag} or null. */
function entryOf(p, id) {
  return p.page.evaluate((i) => {
    const li = document.querySelector(`#messages > li[data-id="${i}"]`);
    if (!li) return null;
    const flag = li.querySelector('.flag');
    return {
      cls: li.className,
      text: (li.querySelector('.text') ?? li.querySelector('p')).textContent,
      status: li.querySelector('.status')?.textContent ?? null,
      datetime: li.querySelector('time')?.dateTime ?? null,
      flag: flag && !flag.hidden ? flag.textContent : '',
    };
  }, id);
}

/** Waits until message id is on p's screen (as anything). */
async function waitEntry(p, id) {
  await p.page.locator(`#messages > li[data-id="${id}"]`).waitFor({ state: 'attached' });
}

/** Waits until one of p's own messages shows text and is held by the server (not "sending…"). */
async function waitStored(p, text) {
  await p.page.waitForFunction((t) => [...document.querySelectorAll('#messages li.msg.mine[data-id]:not(.pending) .text')]
    .some((el) => el.textContent === t), text);
}

/** Waits until message id of p's shows status s. */
async function waitStatus(p, id, s) {
  await p.page.waitForFunction(([i, want]) => document.querySelector(`#messages > li[data-id="${i}"] .status`)?.textContent === want,
    [id, s]);
}

/** The check code in a refused message's text ("… (CODE: reason)."), or null. */
const failedCode = (text) => /failed its security checks and is not shown \(([a-z0-9-]+):/.exec(text)?.[1] ?? null;

/** How many messages on p's screen show exactly text. */
async function countShown(p, text) {
  return (await shown(p)).filter((m) => /\b(mine|theirs)\b/.test(m.cls) && m.text === text).length;
}

/**
 * Asserts that no two different messages in posts (POST /api/messages
 * bodies) share keys, epoch and counter, or keys, epoch and IV: the same
 * key and nonce for two plaintexts. Returns how many slots were posted.
 */
function assertNoReuse(posts) {
  const bySlot = new Map();
  const byIv = new Map();
  for (const m of posts) {
    const bytes = `${m.kind}|${m.iv}|${m.ciphertext}|${m.mac}|${m.mac2 ?? ''}`;
    for (const [map, k] of [[bySlot, `${m.sender_key_id}>${m.recipient_key_id}:${m.epoch}#${m.counter}`],
      [byIv, `${m.sender_key_id}>${m.recipient_key_id}:${m.epoch}/${m.iv}`]]) {
      if (!map.has(k)) map.set(k, new Set());
      map.get(k).add(bytes);
    }
  }
  for (const [k, set] of [...bySlot, ...byIv]) {
    assert.equal(set.size, 1, `${set.size} different messages were sealed for ${k} (key and IV reused)`);
  }
  return bySlot.size;
}


// ------------------------------------------------------------------ 5. counters across tabs

test('adversary: two tabs of one user sending at the same moment never seal two messages under one key and IV', async ({ browser, context }) => {
  const [a, b] = await Promise.all([person(browser, { context }), person(browser)]);
  try {
    await befriend(a, b);
    await openChat(b, a.name);
    const posts = recordPosts(a.page);
    const tab2 = { ...a, page: await a.context.newPage() };
    recordPosts(tab2.page, posts);
    await tab2.page.goto('/chat');
    await ready(tab2.page);
    const tabs = [a, tab2];
    for (const t of tabs) await openChat(t, b.name);
    const [ida, idb] = [await userId(a.name), await userId(b.name)];

    const texts = [];
    for (let round = 1; round <= 10; round++) {
      const now = tabs.map((_, i) => `tab ${i + 1}, round ${round}`);
      await Promise.all(tabs.map((t, i) => t.page.locator('#text').fill(now[i])));
      // Enter in both tabs at one instant of the shared clock (a timer in each
      // tab: two key presses sent through the driver arrive one after the other).
      const at = Date.now() + 50;
      await Promise.all(tabs.map((t) => t.page.evaluate((when) => new Promise((resolve) => {
        setTimeout(() => {
          document.getElementById('text').dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
          resolve();
        }, when - Date.now());
      }), at)));
      texts.push(...now);
      // Both are on the server and neither tab has anything left to send
      // before the next round, so both tabs start sealing at the same time.
      try {
        await until(async () => Number(await sql(`SELECT COUNT(*) FROM messages
          WHERE sender_id = ${ida} AND recipient_id = ${idb} AND kind = 'text'`)) === texts.length, `round ${round} on the server`);
        for (const t of tabs) await t.page.locator('#messages li.pending').first().waitFor({ state: 'detached' });
      } catch (err) {
        assertNoReuse(posts);
        throw err;
      }
    }

    // The peer gets every text, each once.
    await b.page.waitForFunction((want) => {
      const got = [...document.querySelectorAll('#messages li.msg.theirs .text')].map((el) => el.textContent);
      return want.every((t) => got.includes(t));
    }, texts);
    const got = (await shown(b)).filter((m) => m.cls.includes('theirs'));
    for (const t of texts) assert.equal(got.filter((m) => m.text === t).length, 1, `bob shows "${t}" other than once`);
    assert.ok(!got.some((m) => m.cls.includes('failed')), `a message failed on bob's screen: ${JSON.stringify(got)}`);
    // Both tabs drained the outbox.
    for (const t of tabs) await t.page.locator('#messages li.pending').first().waitFor({ state: 'detached' });

    // No (keys, epoch, counter), and no IV under one key pair and epoch, was posted with two ciphertexts.
    assert.ok(posts.length >= 20, `only ${posts.length} POSTs recorded`);
    const slots = assertNoReuse(posts);

    // The server holds every counter of the direction once, with none skipped.
    const stored = await messagesOf(ida, idb);
    assert.equal(stored.filter((m) => m.kind === 'text').length, 20, 'the server does not hold 20 texts');
    assert.equal(new Set(stored.map((m) => `${m.skey}>${m.rkey}:${m.epoch}`)).size, 1, 'more than one key pair or epoch');
    assert.deepEqual(stored.map((m) => m.counter).sort((x, y) => x - y), stored.map((_, i) => i + 1),
      'the counters of the direction are not 1…N without a gap');
    assert.equal(slots, stored.length, 'a POSTed counter is not on the server, or the other way round');
  } finally {
    await closeAll(a, b);
  }
});

// ------------------------------------------------------------------ 6. nothing disappears silently

test('adversary: a message the server drops shows as missing before the next one, and its sender never sees it "read"', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    const [ida, idb] = [await userId(a.name), await userId(b.name)];
    await send(a, 'hello');
    await waitMessage(b, 'hello', 'theirs');
    await away(b);
    for (const t of ['one', 'two', 'three']) {
      await send(a, t);
      await waitStored(a, t);
    }
    const [, one, two, three] = (await messagesOf(ida, idb, "kind = 'text'")).map((m) => m.id);
    // The server drops "two" before bob fetches it.
    await sql(`DELETE FROM messages WHERE id = ${two}`);

    await back(b);
    await openChat(b, a.name);
    await waitMessage(b, 'three', 'theirs');
    const gap = await b.page.evaluate((i) => {
      const before = document.querySelector(`#messages > li[data-id="${i}"]`).previousElementSibling;
      return before && { cls: before.className, text: before.textContent };
    }, three);
    assert.ok(gap && /\bgap\b/.test(gap.cls), `no gap note right before "three" on bob's screen: ${JSON.stringify(await shown(b))}`);
    assert.match(gap.text, /^⚠ 1 message missing here/);
    assert.equal(await countShown(b, 'two'), 0, 'bob shows the dropped message');

    // bob's browser read "one" and "three": alice's "one" turns read from bob's
    // sealed receipt; "two" never arrived, and so never turns read.
    await waitStatus(a, one, 'read');
    assert.notEqual((await entryOf(a, two)).status, 'read', 'the dropped message shows "read"');
    // The server claims bob read and received everything…
    const huge = 2 ** 40;
    await sql(`INSERT INTO read_markers (user_id, peer_id, delivered_upto, read_upto) VALUES (${idb}, ${ida}, ${huge}, ${huge})
      ON DUPLICATE KEY UPDATE delivered_upto = ${huge}, read_upto = ${huge}`);
    // …and bob writes back after reading "three": alice redraws her statuses.
    await send(b, 'got one and three');
    await waitMessage(a, 'got one and three', 'theirs');
    const shownTwo = await entryOf(a, two);
    assert.ok(shownTwo, 'alice no longer shows the message she sent');
    assert.ok(['sent', 'delivered'].includes(shownTwo.status),
      `the dropped message shows "${shownTwo.status}" on its sender's screen`);
    assert.equal((await entryOf(a, one)).status, 'read');

    // After a reload alice's browser says the server no longer has it, where it was.
    await reopen(a, b.name);
    await waitEntry(a, two);
    const removed = await entryOf(a, two);
    assert.match(removed.cls, /\bremoved\b/, `alice's dropped message is not marked removed: ${JSON.stringify(removed)}`);
    assert.equal((await entryOf(a, one)).status, 'read');
    assert.notEqual((await entryOf(a, three)).status, 'read', 'a message after the gap shows "read"');
  } finally {
    await closeAll(a, b);
  }
});

test('adversary: a message the recipient saw, deleted by the server later, is marked removed at its place after a reload', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    const [ida, idb] = [await userId(a.name), await userId(b.name)];
    for (const t of ['first', 'middle', 'last']) {
      await send(a, t);
      await waitMessage(b, t, 'theirs');
    }
    await waitStored(a, 'last');
    const [first, middle, last] = (await messagesOf(ida, idb, "kind = 'text'")).map((m) => m.id);
    await sql(`DELETE FROM messages WHERE id = ${middle}`);
    for (const [p, peer] of [[b, a], [a, b]]) {
      await reopen(p, peer.name);
      await waitEntry(p, middle);
      const order = await p.page.$$eval('#messages > li[data-id]', (lis) => lis.map((li) => Number(li.dataset.id)));
      const at = order.indexOf(middle);
      assert.ok(order.indexOf(first) === at - 1 && order.indexOf(last) === at + 1,
        `${p.name}: the note is not between "first" and "last": ${order}`);
      const note = await entryOf(p, middle);
      assert.match(note.cls, /\bnote\b.*\bremoved\b|\bremoved\b.*\bnote\b/, `${p.name}: ${JSON.stringify(note)}`);
      assert.equal(note.text, '⚠ A message this browser received earlier was removed by the server.');
      assert.equal(await countShown(p, 'middle'), 0, `${p.name} still shows the deleted text`);
      assert.equal(await countShown(p, 'first') + await countShown(p, 'last'), 2);
    }
  } finally {
    await closeAll(a, b);
  }
});

test('adversary: a message another tab of the same browser processed first still shows in the open conversation', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    const [ida, idb] = [await userId(a.name), await userId(b.name)];
    // alice's second tab, no conversation open: it checks bob's messages in
    // the background (and tells bob "delivered").
    const tab2 = await a.context.newPage();
    await tab2.goto('/chat');
    await ready(tab2);
    // The server answers the first tab's next page of the conversation as
    // it is now, and sends the answer late.
    let asked;
    const answered = new Promise((resolve) => { asked = resolve; });
    let release;
    const late = new Promise((resolve) => { release = resolve; });
    const server = new ApiClient();
    server.session = (await a.context.cookies()).find((c) => c.name === SESSION_COOKIE).value;
    await a.page.route('**/api/messages?*', async (route) => {
      const u = new URL(route.request().url());
      if (route.request().method() !== 'GET' || u.searchParams.has('after') || u.searchParams.has('before')) return route.continue();
      try {
        const res = await server.request('GET', `${u.pathname}${u.search}`);
        asked();
        await late;
        await route.fulfill({ status: res.status, contentType: 'application/json', body: res.text });
      } catch {
        // the page went away
      }
    });
    await a.page.reload();
    await ready(a.page);
    await a.page.locator(`#friends li[data-user="${b.name}"] .open`).click();
    await answered;
    await send(b, 'while the first tab waits');
    const m = await until(async () => (await messagesOf(idb, ida, "kind = 'text'")).at(-1)?.id, 'bob\'s text on the server');
    // The second tab has checked it: its "delivered" receipt is stored (the
    // first tab's receipts wait behind its page).
    await until(async () => (await messagesOf(ida, idb, `kind = 'receipt' AND id > ${m}`)).length > 0, 'the second tab\'s receipt');
    release();
    await a.page.waitForFunction(() => !document.getElementById('messages').dataset.loading);
    const problems = [];
    try {
      await waitMessage(a, 'while the first tab waits', 'theirs', 5000);
    } catch {
      problems.push('the open conversation never shows bob\'s message that the other tab checked first');
    }
    // The server deleted nothing: nothing may be said to be removed.
    if (await a.page.locator('#messages li.removed').count()) problems.push('messages the server still holds are said to be removed');
    assert.deepEqual(problems, [], `${problems.join('; ')}: ${JSON.stringify(await shown(a))}`);
  } finally {
    await closeAll(a, b);
  }
});

// ------------------------------------------------------------------ 7. sealed metadata

test('adversary: a row whose kind the server relabels (ecdh as text, text as receipt or ecdh) fails with "kind", never shown', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    const [ida, idb] = [await userId(a.name), await userId(b.name)];
    await send(a, 'a plain hello');
    await waitMessage(b, 'a plain hello', 'theirs');
    await away(b);
    // Unseen by bob: a text the server would hide as a receipt, and one it calls a key announcement.
    for (const t of ['hidden as a receipt', 'passed off as a key']) {
      await send(a, t);
      await waitStored(a, t);
    }
    const rowsA = await messagesOf(ida, idb);
    const ecdh = rowsA.find((m) => m.kind === 'ecdh').id;
    const [, asReceipt, asEcdh] = rowsA.filter((m) => m.kind === 'text').map((m) => m.id);
    await sql(`UPDATE messages SET kind = 'text' WHERE id = ${ecdh}`);	// seen by bob before
    await sql(`UPDATE messages SET kind = 'receipt' WHERE id = ${asReceipt}`);
    await sql(`UPDATE messages SET kind = 'ecdh' WHERE id = ${asEcdh}`);

    await back(b);
    await openChat(b, a.name);
    await waitMessage(b, 'a plain hello', 'theirs');
    for (const id of [ecdh, asReceipt, asEcdh]) await waitEntry(b, id);
    for (const id of [ecdh, asReceipt, asEcdh]) {
      const e = await entryOf(b, id);
      assert.match(e.cls, /\bfailed\b/, `relabelled row ${id} is not shown as failed: ${JSON.stringify(e)}`);
      assert.equal(failedCode(e.text), 'kind', `row ${id}: ${e.text}`);
    }
    const all = (await shown(b)).map((m) => m.text).join('\n');
    for (const leak of ['hidden as a receipt', 'passed off as a key', '"jwk"', '"key_id"', '"v":2']) {
      assert.ok(!all.includes(leak), `bob's screen shows ${leak}`);
    }
    // The sender's own browser holds the server to the sealed kind as well.
    await reopen(a, b.name);
    for (const id of [ecdh, asReceipt, asEcdh]) await waitEntry(a, id);
    for (const id of [ecdh, asReceipt, asEcdh]) assert.equal(failedCode((await entryOf(a, id)).text), 'kind');
  } finally {
    await closeAll(a, b);
  }
});

test('adversary: a reply the server moves before its question, re-dated a year back, is flagged "Out of order" and keeps the sealed times', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    const [ida, idb] = [await userId(a.name), await userId(b.name)];
    await send(a, 'hello');
    await waitMessage(b, 'hello', 'theirs');
    await send(b, 'hi');
    await waitMessage(a, 'hi', 'theirs');
    await waitStored(b, 'hi');
    // alice's receipt for "hi" is stored before her question: the last
    // message of hers bob has seen when he replies is the question itself.
    await until(async () => (await messagesOf(ida, idb, "kind = 'receipt'")).length > 0, 'alice\'s receipt');
    // An id between "hi" and the question that no browser ever sees: the
    // server's slot to list the reply in (an insert rolled back keeps its id).
    const [ka, kb] = [(await messagesOf(ida, idb))[0].skey, (await messagesOf(ida, idb))[0].rkey];
    const slot = Number(await sql(`START TRANSACTION;
      INSERT INTO messages (sender_id, recipient_id, kind, sender_key_id, recipient_key_id, epoch, counter, iv, ciphertext, mac)
        VALUES (${idb}, ${ida}, 'text', ${kb}, ${ka}, 1, 9007199254740991, UNHEX(REPEAT('00', 12)), UNHEX('00'), UNHEX(REPEAT('00', 32)));
      SELECT LAST_INSERT_ID(); ROLLBACK;`));

    const q0 = Date.now();
    await send(a, 'Shall we meet at noon?');
    await waitMessage(b, 'Shall we meet at noon?', 'theirs');
    await waitStored(a, 'Shall we meet at noon?');
    const q1 = Date.now();
    await away(a);	// alice will see the reply only as the server lists it
    const r0 = Date.now();
    await send(b, 'Yes, noon it is.');
    await waitStored(b, 'Yes, noon it is.');
    const r1 = Date.now();
    const question = (await messagesOf(ida, idb, "kind = 'text'")).at(-1).id;
    const reply = (await messagesOf(idb, ida, "kind = 'text'")).at(-1).id;
    assert.ok(slot < question && question < reply, `ids ${slot} < ${question} < ${reply}`);
    // The reply first, a year ago, a minute before the question (also a year ago).
    await sql(`UPDATE messages SET id = ${slot}, created_at = NOW(6) - INTERVAL 1 YEAR - INTERVAL 1 MINUTE WHERE id = ${reply}`);
    await sql(`UPDATE messages SET created_at = NOW(6) - INTERVAL 1 YEAR WHERE id = ${question}`);

    await back(a);
    await openChat(a, b.name);
    await waitMessage(a, 'Yes, noon it is.', 'theirs');
    await waitEntry(a, question);
    const order = await a.page.$$eval('#messages > li[data-id]', (lis) => lis.map((li) => Number(li.dataset.id)));
    assert.ok(order.indexOf(slot) < order.indexOf(question), `the server's order is not what the page shows: ${order}`);
    const r = await entryOf(a, slot);
    const q = await entryOf(a, question);
    // Only what bob had seen, sealed in the reply, says it is out of order:
    // nothing of bob's with a lower counter is shown below it.
    assert.ok(!/\bfailed\b/.test(r.cls) && r.text === 'Yes, noon it is.', `the moved reply: ${JSON.stringify(r)}`);
    assert.match(r.cls, /\bout-of-order\b/, `the reply shown before its question is not flagged: ${JSON.stringify(r)}`);
    assert.match(r.flag, /⚠ Out of order/);
    assert.ok(!/out-of-order/.test(q.cls) && !/Out of order/.test(q.flag), `the question is flagged: ${JSON.stringify(q)}`);
    // Times are the senders' sealed clocks, not the server's created_at.
    const slack = 2000;
    const qt = Date.parse(q.datetime);
    const rt = Date.parse(r.datetime);
    assert.ok(qt >= q0 - slack && qt <= q1 + slack, `the question shows ${q.datetime}, not its sealed time`);
    assert.ok(rt >= r0 - slack && rt <= r1 + slack, `the reply shows ${r.datetime}, not its sealed time`);
    assert.ok(rt > qt, 'the sealed times do not put the question first');
  } finally {
    await closeAll(a, b);
  }
});

test('adversary: an old key announcement the server re-dates to now is not answered, even for a key that is no longer current', async ({ browser, context }) => {
  // bob's clock is ten minutes behind: what his browser seals is ten minutes
  // old to alice's, whatever created_at the server gives it.
  const bobContext = await browser.newContext({ baseURL: baseURL() });
  await bobContext.clock.install({ time: Date.now() - 10 * 60_000 });
  const [a, b] = await Promise.all([person(browser, { context }), person(browser, { context: bobContext })]);
  try {
    const [ida, idb] = [await userId(a.name), await userId(b.name)];
    const oldKey = Number(await sql(`SELECT MAX(id) FROM public_keys WHERE user_id = ${ida}`));
    await befriend(a, b);
    await away(a);
    await openChat(b, a.name);
    await send(b, 'hi from the past');
    await waitStored(b, 'hi from the past');
    const announcement = (await messagesOf(idb, ida, "kind = 'ecdh'"))[0];
    assert.ok(announcement && announcement.rkey === oldKey, 'bob did not announce his key for alice\'s key');
    await sql(`UPDATE messages SET created_at = NOW(6) WHERE id = ${announcement.id}`);

    // alice's key moves on while her browser keeps the old one: the server
    // lists a key for her, and she makes hers current again (a new id).
    const { generateKeyPairSync } = await import('node:crypto');
    const j = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' });
    await sql(`INSERT INTO public_keys (user_id, jwk) VALUES (${ida}, '${JSON.stringify({ kty: 'EC', crv: 'P-384', x: j.x, y: j.y })}')`);
    const posts = [];
    await back(a, posts);
    await a.page.locator('#own-key-alarm').waitFor({ state: 'visible' });
    await a.page.locator('#own-key-republish').click();
    const current = await until(async () => {
      const [[id, jwk]] = await rows(`SELECT id, jwk FROM public_keys WHERE user_id = ${ida} ORDER BY id DESC LIMIT 1`);
      const [[, oldJwk]] = await rows(`SELECT id, jwk FROM public_keys WHERE id = ${oldKey}`);
      return jwk === oldJwk && Number(id);
    }, 'alice\'s key to be published again');
    assert.ok(current > oldKey);

    // alice opens the conversation: bob's announcement, made for her old key,
    // is accepted (she still holds that key) and shown, but not answered.
    await openChat(a, b.name);
    await waitMessage(a, 'hi from the past', 'theirs');
    await waitEntry(a, announcement.id);
    assert.match((await entryOf(a, announcement.id)).cls, /\becdh\b/, 'the announcement was not accepted');
    // An answer would have been sealed into the outbox, and noted as this
    // browser's announcement to bob, while the page processed his, before
    // the conversation finished loading. alice never announced before.
    const sealed = await a.page.evaluate((prefix) => new Promise((resolve, reject) => {
      const r = indexedDB.open('sealed-e2ee');
      r.onerror = () => reject(r.error);
      r.onsuccess = () => {
        const tx = r.result.transaction(['state', 'outbox']);
        const keys = tx.objectStore('state').getAllKeys();
        const outbox = tx.objectStore('outbox').getAll();
        tx.oncomplete = () => {
          resolve({ announced: keys.result.filter((k) => String(k).startsWith(prefix)),
            outbox: outbox.result.filter((e) => e.kind === 'ecdh').length });
          r.result.close();
        };
      };
    }), `ecdh:${idb}:`);
    assert.deepEqual(sealed, { announced: [], outbox: 0 }, 'alice answered an old announcement the server re-dated');
    assert.deepEqual(posts.filter((m) => m.kind === 'ecdh'), [],
      'alice answered an old announcement the server re-dated');
    // Her own first text announces her current key, once.
    await send(a, 'hello from my current key');
    await waitMessage(b, 'hello from my current key', 'theirs');
    const ecdhs = await messagesOf(ida, idb, "kind = 'ecdh'");
    assert.equal(ecdhs.length, 1, `alice announced ${ecdhs.length} times`);
    assert.equal(ecdhs[0].skey, current);
  } finally {
    await closeAll(a);
    await bobContext.close();
  }
});

// ------------------------------------------------------------------ 8. receipts come from the peer

test('adversary: "delivered" and "read" come only from the peer\'s sealed receipts, never from the server\'s markers', async ({ browser, context }) => {
  const [a, b, c] = await Promise.all([person(browser, { context }), person(browser), person(browser)]);
  try {
    const [ida, idb] = [await userId(a.name), await userId(b.name)];
    await befriend(a, b);
    await befriend(c, b);
    await openChat(a, b.name);
    await away(b);
    for (const t of ['r1', 'r2']) {
      await send(a, t);
      await waitStored(a, t);
    }
    const mine = async () => (await shown(a)).filter((m) => m.cls.includes('mine')).map((m) => m.status);
    assert.deepEqual(await mine(), ['sent', 'sent']);
    // The server says bob received and read everything.
    const last = Number(await sql(`SELECT MAX(id) FROM messages WHERE sender_id = ${ida}`));
    await sql(`INSERT INTO read_markers (user_id, peer_id, delivered_upto, read_upto) VALUES (${idb}, ${ida}, ${last}, ${last})
      ON DUPLICATE KEY UPDATE delivered_upto = ${last}, read_upto = ${last}`);
    await reopen(a, b.name);
    assert.deepEqual(await mine(), ['sent', 'sent'], 'the server\'s markers changed the statuses');

    // bob is back with carol's conversation open: alice's next message is
    // checked in the background and told "delivered", not "read".
    await back(b);
    await openChat(b, c.name);
    await send(a, 'r3');
    const r3 = await until(async () => (await messagesOf(ida, idb, "kind = 'text'"))[2]?.id, 'r3 on the server');
    await waitStatus(a, r3, 'delivered');
    assert.deepEqual(await mine(), ['delivered', 'delivered', 'delivered']);
    const bobsReceipts = await messagesOf(idb, ida, "kind = 'receipt'");
    assert.ok(bobsReceipts.length > 0, 'no sealed receipt from bob on the server');

    // bob opens alice's conversation: now it is read.
    await openChat(b, a.name);
    await waitMessage(b, 'r3', 'theirs');
    await waitStatus(a, r3, 'read');
    assert.deepEqual(await mine(), ['read', 'read', 'read']);
  } finally {
    await closeAll(a, b, c);
  }
});

// ------------------------------------------------------------------ 9. refreshes complete or say so

test('adversary: a key refresh whose rekey the server drops stays pending, and the new epoch\'s message fails on the peer', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    const [ida, idb] = [await userId(a.name), await userId(b.name)];
    await send(a, 'hello');
    await waitMessage(b, 'hello', 'theirs');
    await away(b);
    await a.page.locator('#refresh-keys').click();
    await a.page.locator('#rekey-pending').waitFor({ state: 'visible' });
    const rekey = await until(async () => (await messagesOf(ida, idb, "kind = 'rekey'"))[0], 'the rekey on the server');
    assert.equal(rekey.epoch, 1);
    await sql(`DELETE FROM messages WHERE id = ${rekey.id}`);
    await send(a, 'sealed under epoch 2');
    await waitStored(a, 'sealed under epoch 2');
    const secret = (await messagesOf(ida, idb, "kind = 'text'")).at(-1);
    assert.equal(secret.epoch, 2);

    await back(b);
    await openChat(b, a.name);
    await waitEntry(b, secret.id);
    const e = await entryOf(b, secret.id);
    assert.match(e.cls, /\bfailed\b/, `${JSON.stringify(e)}`);
    assert.equal(failedCode(e.text), 'epoch', e.text);
    assert.equal(await countShown(b, 'sealed under epoch 2'), 0, 'bob shows the text');

    // bob writes under epoch 1: alice's refresh is still not confirmed.
    await send(b, 'still on epoch 1');
    await waitMessage(a, 'still on epoch 1', 'theirs');
    assert.ok((await messagesOf(idb, ida, "kind <> 'ecdh'")).every((m) => m.epoch === 1), 'bob sent under epoch 2');
    const pendingText = new RegExp(`waiting for ${b.name}'s browser to confirm epoch 2`);
    assert.ok(await a.page.locator('#rekey-pending').isVisible(), 'the refresh no longer shows as pending');
    assert.match(await a.page.locator('#rekey-pending').textContent(), pendingText);
    await reopen(a, b.name);
    await a.page.locator('#rekey-pending').waitFor({ state: 'visible' });
    assert.match(await a.page.locator('#rekey-pending').textContent(), pendingText);
  } finally {
    await closeAll(a, b);
  }
});

test('adversary: a key refresh completes once the peer\'s browser confirms it; an old-epoch copy under a new counter is refused', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    const [ida, idb] = [await userId(a.name), await userId(b.name)];
    await send(b, 'before the refresh');
    await waitMessage(a, 'before the refresh', 'theirs');
    await waitStored(b, 'before the refresh');
    await a.page.locator('#refresh-keys').click();
    await b.page.locator('#messages li.keys-changed').waitFor();
    // bob's browser confirms by itself: a sealed receipt under epoch 2…
    await until(async () => (await messagesOf(idb, ida, "kind = 'receipt' AND epoch = 2")).length > 0, 'bob\'s confirmation');
    // …and alice's pending refresh clears.
    await a.page.locator('#rekey-pending').waitFor({ state: 'hidden' });
    await send(b, 'after the refresh');
    await waitMessage(a, 'after the refresh', 'theirs');
    const texts = await messagesOf(idb, ida, "kind = 'text'");
    assert.deepEqual(texts.map((m) => m.epoch), [1, 2], 'bob\'s text after the refresh is not under epoch 2');

    // The server copies bob's epoch-1 text under the next counter of epoch 1.
    const old = texts[0];
    const next = Number(await sql(`SELECT MAX(counter) + 1 FROM messages
      WHERE sender_id = ${idb} AND recipient_id = ${ida} AND sender_key_id = ${old.skey} AND recipient_key_id = ${old.rkey} AND epoch = 1`));
    const copy = Number(await sql(`INSERT INTO messages (sender_id, recipient_id, kind, sender_key_id, recipient_key_id, epoch, counter, iv, ciphertext, mac)
      SELECT sender_id, recipient_id, kind, sender_key_id, recipient_key_id, epoch, ${next}, iv, ciphertext, mac FROM messages WHERE id = ${old.id};
      SELECT LAST_INSERT_ID();`));
    await reopen(a, b.name);
    await waitEntry(a, copy);
    const e = await entryOf(a, copy);
    assert.match(e.cls, /\bfailed\b/, `the copy is accepted: ${JSON.stringify(e)}`);
    assert.ok(['old-epoch', 'replay', 'mac', 'iv'].includes(failedCode(e.text)), e.text);
    assert.equal(await countShown(a, 'before the refresh'), 1, 'the old text shows twice');
    assert.ok(await a.page.locator('#rekey-pending').isHidden(), 'the refresh is pending again');
  } finally {
    await closeAll(a, b);
  }
});
