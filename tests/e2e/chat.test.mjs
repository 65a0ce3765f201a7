// The end-to-end encrypted chat through the real pages, two people in two
// browser contexts: registration, friend requests seen live, messages both
// ways live, history that decrypts after a reload, Refresh keys, lost local
// keys, markup shown as text, and what the chat does when the server (here:
// the test, editing the database it owns) tampers with a ciphertext, replays
// a message under a new id or swaps a public key.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { sql } from './lib/account.mjs';
import { assertText } from './lib/pages.mjs';
import { assertNoProblems } from './lib/pages.mjs';
import { test } from './lib/harness.mjs';
import {
  befriend, closeAll, forgetKeys, openChat, pair, person, ready, reopen, screenshot, send, shown, waitMessage,
} from './lib/chat.mjs';

const XSS = '<img src=x onerror=alert(1)>';


const lastMessageId = async (from) => Number(await sql(
  `SELECT MAX(m.id) FROM messages m JOIN users u ON u.id = m.sender_id WHERE u.username = '${from}' AND m.kind = 'text'`));

test('chat: two people register through the pages, become friends live and talk both ways live', async ({ browser, context }) => {
  const a = await person(browser, { register: true, context });
  const b = await person(browser, { register: true });
  try {
    await a.page.locator('#add-name').fill(b.name);
    await a.page.locator('#add-friend button[type="submit"]').click();
    await a.page.locator(`#outgoing li[data-user="${b.name}"]`).waitFor();
    // b's page was open all along: the request arrives without a reload.
    await b.page.locator(`#incoming li[data-user="${a.name}"]`).waitFor();
    await screenshot(b.page, 'request.png');
    await b.page.locator(`#incoming li[data-user="${a.name}"] .accept`).click();
    await a.page.locator(`#friends li[data-user="${b.name}"]`).waitFor();
    // The same drawing that shows the friend no longer lists the request
    // (the two lists are fetched one after the other: a friend has no request).
    assert.ok(await a.page.locator('#outgoing-section').isHidden(), 'the accepted request is still listed');
    await assertText(a.page, '#add-result', `${b.name} accepted: you are now friends.`);

    await openChat(a, b.name);
    await openChat(b, a.name);
    await send(a, 'Hello Bob, this is end-to-end encrypted.');
    await waitMessage(b, 'Hello Bob, this is end-to-end encrypted.', 'theirs');
    await send(b, 'Hi Alice! Grüße 👋');
    await waitMessage(a, 'Hi Alice! Grüße 👋', 'theirs');
    await send(a, XSS);
    await waitMessage(b, XSS, 'theirs');
    assert.equal(await b.page.locator('#messages img').count(), 0, 'the message became markup');
    // Read receipts: b has the conversation open, so a's messages turn "read".
    await a.page.waitForFunction(() => [...document.querySelectorAll('#messages li.mine .status')]
      .every((s) => s.textContent === 'read'));
    // The server holds ciphertext only.
    const rows = await sql(`SELECT HEX(ciphertext) FROM messages m JOIN users u ON u.id = m.sender_id WHERE u.username = '${a.name}'`);
    assert.ok(!Buffer.from(rows.replace(/\s/g, ''), 'hex').toString('latin1').includes('Hello Bob'), 'plaintext on the server');
    await screenshot(a.page, 'chat.png');
    await assertNoProblems(a.watcher, a.page);
    await assertNoProblems(b.watcher, b.page);
  } finally {
    await closeAll(a, b);
  }
});

test('chat: a rejected request leaves both lists live; unread badges count live and clear when read', async ({ browser, context }) => {
  const a = await person(browser, { context });
  const b = await person(browser);
  const c = await person(browser);
  try {
    await a.page.locator('#add-name').fill(b.name);
    await a.page.locator('#add-friend button[type="submit"]').click();
    await b.page.locator(`#incoming li[data-user="${a.name}"] .reject`).click();
    await a.page.locator('#outgoing-section').waitFor({ state: 'hidden' });
    await b.page.locator('#incoming-section').waitFor({ state: 'hidden' });
    assert.equal(await a.page.locator('#friends li').count(), 0, 'a rejected request made friends');
    // An unknown name is refused with the server's message.
    await a.page.locator('#add-name').fill('nobody_by_this_name');
    await a.page.locator('#add-friend button[type="submit"]').click();
    await assertText(a.page, '#sidebar-error', 'There is no user of that name.');

    await befriend(c, b);
    await openChat(c, b.name);
    await send(c, 'are you there?');
    await send(c, 'hello?');
    const badge = b.page.locator(`#friends li[data-user="${c.name}"] .unread`);
    await badge.waitFor({ state: 'visible' });
    await assertText(b.page, `#friends li[data-user="${c.name}"] .unread`, '2');
    await openChat(b, c.name);
    await waitMessage(b, 'hello?', 'theirs');
    await badge.waitFor({ state: 'hidden' });
    await c.page.waitForFunction(() => [...document.querySelectorAll('#messages li.mine .status')]
      .every((el) => el.textContent === 'read'));
  } finally {
    await closeAll(a, b, c);
  }
});

test('chat: after a reload the whole history decrypts again, in order', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    const texts = ['one', 'two', 'three', 'four'];
    for (const [i, t] of texts.entries()) {
      const [from, to] = i % 2 ? [b, a] : [a, b];
      await send(from, t);
      await waitMessage(to, t, 'theirs');
    }
    for (const p of [a, b]) {
      await reopen(p, p === a ? b.name : a.name);
      const got = (await shown(p)).filter((m) => /mine|theirs/.test(m.cls));
      assert.deepEqual(got.map((m) => m.text), texts, `${p.name} after reload`);
      assert.ok(got.every((m) => !m.cls.includes('failed')), 'a message failed after reload');
    }
    await assertNoProblems(a.watcher, a.page);
  } finally {
    await closeAll(a, b);
  }
});

test('chat: Refresh keys shows "Keys changed" on both sides and later messages decrypt', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    await send(a, 'before the refresh');
    await waitMessage(b, 'before the refresh', 'theirs');
    await a.page.locator('#refresh-keys').click();
    for (const p of [a, b]) await p.page.locator('#messages li.keys-changed').waitFor();
    await assertText(b.page, '#messages li.keys-changed p', `Keys changed: ${a.name} refreshed the encryption keys (epoch 2).`);
    await send(a, 'after the refresh');
    await waitMessage(b, 'after the refresh', 'theirs');
    await send(b, 'reply under epoch 2');
    await waitMessage(a, 'reply under epoch 2', 'theirs');
    const epochs = await sql(`SELECT kind, epoch FROM messages m JOIN users u ON u.id = m.sender_id
      WHERE u.username IN ('${a.name}', '${b.name}') AND m.kind <> 'receipt' ORDER BY m.id`);
    assert.match(epochs, /rekey\t1/, 'no rekey at epoch 1 was stored');
    assert.match(epochs, /text\t2\s*$/, 'the last message is not of epoch 2');
    await reopen(b, a.name);
    const texts = (await shown(b)).filter((m) => /mine|theirs/.test(m.cls)).map((m) => m.text);
    assert.deepEqual(texts, ['before the refresh', 'after the refresh', 'reply under epoch 2']);
    await screenshot(b.page, 'keys-changed.png');
  } finally {
    await closeAll(a, b);
  }
});

test('chat: keys refresh by themselves after 100 messages in an epoch; the refresh is pending until the peer confirms it', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    await send(a, 'message 1 of the epoch');
    await waitMessage(b, 'message 1 of the epoch', 'theirs');
    // As if 99 more had been sent: a's record of its sends in this epoch.
    await a.page.evaluate(() => new Promise((resolve, reject) => {
      const open = indexedDB.open('sealed-e2ee');
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const tx = open.result.transaction('state', 'readwrite');
        const store = tx.objectStore('state');
        const cursor = store.openCursor();
        cursor.onsuccess = () => {
          const c = cursor.result;
          if (!c) return;
          if (String(c.key).startsWith('pair:')) c.update({ ...c.value, sent: 100 });
          c.continue();
        };
        tx.oncomplete = () => { open.result.close(); resolve(); };
        tx.onerror = () => reject(tx.error);
      };
    }));
    await send(a, 'the one after a hundred');
    await waitMessage(b, 'the one after a hundred', 'theirs');
    await assertText(b.page, '#messages li.keys-changed p', `Keys changed: ${a.name} refreshed the encryption keys (epoch 2).`);
    const rows = await sql(`SELECT m.kind, m.epoch FROM messages m JOIN users u ON u.id = m.sender_id
      WHERE u.username = '${a.name}' AND m.kind IN ('rekey', 'text') ORDER BY m.id`);
    assert.deepEqual(rows.split('\n').map((r) => r.split('\t').join(' ')), ['text 1', 'rekey 1', 'text 2']);
    // b's browser confirmed the new epoch with a sealed receipt under it, so a's refresh is no longer pending.
    await a.page.waitForFunction(() => document.getElementById('rekey-pending').hidden);
    const confirm = await sql(`SELECT COUNT(*) FROM messages m JOIN users u ON u.id = m.sender_id
      WHERE u.username = '${b.name}' AND m.kind = 'receipt' AND m.epoch = 2`);
    assert.ok(Number(confirm) >= 1, 'no confirmation under epoch 2 from the peer');
  } finally {
    await closeAll(a, b);
  }
});

test('chat: when one browser loses its keys, it warns, makes new ones, the other side is told and messages flow', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    await send(a, 'old message');
    await waitMessage(b, 'old message', 'theirs');
    // b's storage is cleared.
    await forgetKeys(b);
    await b.page.locator('#keys-lost').waitFor({ state: 'visible' });
    // a's open conversation hears of the new key.
    await a.page.locator('#key-warning').waitFor({ state: 'visible' });
    assert.match(await a.page.locator('#key-warning').textContent(), /keys changed/);
    await openChat(b, a.name);
    const old = (await shown(b)).find((m) => m.cls.includes('failed'));
    assert.ok(old && /no longer has the key/.test(old.text), 'the old message does not say it cannot be decrypted');
    await send(b, 'new keys here');
    await waitMessage(a, 'new keys here', 'theirs');
    await send(a, 'and a reply');
    await waitMessage(b, 'and a reply', 'theirs');
    await screenshot(a.page, 'key-warning.png');
  } finally {
    await closeAll(a, b);
  }
});

test('chat: a ciphertext changed on the server shows a warning on that message, never its text', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    await send(a, 'untouched');
    await waitMessage(b, 'untouched', 'theirs');
    await send(a, 'tamper with me');
    await waitMessage(b, 'tamper with me', 'theirs');
    const id = await lastMessageId(a.name);
    await sql(`UPDATE messages SET ciphertext = CONCAT(CHAR(ASCII(ciphertext) ^ 1), SUBSTR(ciphertext, 2)) WHERE id = ${id}`);
    for (const p of [b, a]) {
      await reopen(p, p === a ? b.name : a.name);
      const m = (await shown(p)).find((x) => x.id === id);
      assert.ok(m && m.cls.includes('failed'), `${p.name}: the changed message is not marked`);
      assert.match(m.text, /failed its security checks.*mac/);
      assert.ok(!(await shown(p)).some((x) => x.text === 'tamper with me'), 'the changed message shows its text');
      await waitMessage(p, 'untouched');
    }
  } finally {
    await closeAll(a, b);
  }
});

test('chat: a message copied under a new id with its old counter is refused as a replay', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  let copy = null;
  try {
    await send(a, 'say it once');
    await waitMessage(b, 'say it once', 'theirs');
    const id = await lastMessageId(a.name);
    await sql('ALTER TABLE messages DROP INDEX messages_once');
    await sql(`INSERT INTO messages (sender_id, recipient_id, kind, sender_key_id, recipient_key_id, epoch, counter,
      iv, ciphertext, mac, mac2) SELECT sender_id, recipient_id, kind, sender_key_id, recipient_key_id, epoch, counter,
      iv, ciphertext, mac, mac2 FROM messages WHERE id = ${id}`);
    copy = Number(await sql(`SELECT MAX(id) FROM messages WHERE sender_id = (SELECT sender_id FROM messages WHERE id = ${id})`));
    assert.ok(copy > id);
    await reopen(b, a.name);
    const all = await shown(b);
    const original = all.find((m) => m.id === id);
    const replayed = all.find((m) => m.id === copy);
    assert.equal(original?.text, 'say it once', 'the original no longer decrypts');
    assert.ok(replayed && replayed.cls.includes('failed'), 'the copy was not refused');
    assert.match(replayed.text, /replay/);
  } finally {
    if (copy) await sql(`DELETE FROM messages WHERE id = ${copy}`);
    await sql('ALTER TABLE messages ADD UNIQUE KEY messages_once (sender_id, recipient_id, sender_key_id, recipient_key_id, epoch, counter)')
      .catch(() => {});
    await closeAll(a, b);
  }
});

test('chat: safety numbers match on both sides; a key swapped on the server changes it, warns and unverifies', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    await send(b, 'hello');
    await waitMessage(a, 'hello', 'theirs');
    const numbers = [];
    for (const p of [a, b]) {
      await p.page.locator('#show-safety').click();
      await p.page.locator('#safety').waitFor({ state: 'visible' });
      numbers.push((await p.page.locator('#safety-number').textContent()).trim());
    }
    assert.match(numbers[0], /^(\d{5} ){11}\d{5}$/);
    assert.equal(numbers[0], numbers[1], 'the two sides show different safety numbers');
    await a.page.locator('#mark-verified').click();
    await a.page.locator('#peer-verified').waitFor({ state: 'visible' });
    await screenshot(a.page, 'safety-number.png');

    // The server (here, the test) swaps b's public key for another.
    const other = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' });
    const jwk = JSON.stringify({ kty: 'EC', crv: 'P-384', x: other.x, y: other.y });
    await sql(`UPDATE public_keys SET jwk = '${jwk}' WHERE id = (SELECT MAX(k.id) FROM (SELECT * FROM public_keys) k
      JOIN users u ON u.id = k.user_id WHERE u.username = '${b.name}')`);
    await reopen(a, b.name);
    await a.page.locator('#key-warning').waitFor({ state: 'visible' });
    assert.match(await a.page.locator('#key-warning').textContent(), /different key/);
    assert.ok(await a.page.locator('#peer-verified').isHidden(), 'still marked verified');
    await a.page.locator('#show-safety').click();
    await a.page.locator('#safety').waitFor({ state: 'visible' });
    assert.notEqual((await a.page.locator('#safety-number').textContent()).trim(), numbers[0], 'the safety number stayed');
  } finally {
    await closeAll(a, b);
  }
});

test('chat: messages typed while one is still sending are all sent, in order, none wiped', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    const texts = ['first', 'second', 'third', 'fourth', 'fifth'];
    for (const t of texts) await send(a, t);     // no wait between them
    await waitMessage(b, 'fifth', 'theirs');
    const got = (await shown(b)).filter((m) => /theirs/.test(m.cls)).map((m) => m.text);
    assert.deepEqual(got, texts);
    assert.equal(await a.page.locator('#text').inputValue(), '', 'a typed text was left behind');
    assert.equal((await a.page.locator('#conv-error').textContent()).trim(), '');
    const counters = await sql(`SELECT counter FROM messages m JOIN users u ON u.id = m.sender_id
      WHERE u.username = '${a.name}' AND m.kind = 'text' ORDER BY m.id`);
    assert.deepEqual(counters.split(/\s+/).map(Number), [2, 3, 4, 5, 6]);
  } finally {
    await closeAll(a, b);
  }
});

test('chat: history is paged on scroll', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    const n = 56;
    for (let i = 1; i <= n; i++) await send(a, `message ${i}`);	// they queue up and go in order
    await a.page.waitForFunction((t) => [...document.querySelectorAll('#messages li.mine:not(.pending) .text')]
      .some((el) => el.textContent === t), `message ${n}`, { timeout: 20_000 });
    await reopen(b, a.name);
    await waitMessage(b, `message ${n}`, 'theirs');
    const first = (await shown(b)).filter((m) => m.cls.includes('theirs'));
    assert.ok(first.length <= 50, `${first.length} messages on the first page`);
    await b.page.locator('#messages').evaluate((el) => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); });
    // The older page is checked message by message: wait for all of it.
    await b.page.waitForFunction((k) => document.querySelectorAll('#messages li.theirs').length === k, n);
    const all = (await shown(b)).filter((m) => m.cls.includes('theirs')).map((m) => m.text);
    assert.deepEqual(all, Array.from({ length: n }, (_, i) => `message ${i + 1}`));
  } finally {
    await closeAll(a, b);
  }
});

test('chat: the debug switch logs each crypto operation, with IVs that never repeat and no private key', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    // The switch is on the account page; a chat page open meanwhile follows it.
    const account = await a.context.newPage();
    await account.goto('/account');
    await account.locator('#debug-crypto').check();
    await account.close();
    for (const t of ['first', 'second', 'third']) {
      await send(a, t);
      await waitMessage(b, t, 'theirs');
    }
    // The sender logs "message sent" once the server's answer is recorded,
    // which may come after the peer already shows the text.
    await a.page.waitForFunction(() => document.querySelectorAll('#messages li.mine:not(.pending)').length === 3);
    const lines = a.logs.filter((l) => l.text.startsWith('[e2ee] ')).map((l) => l.text);
    const sent = lines.filter((l) => l.startsWith('[e2ee] message sent ')).map((l) => JSON.parse(l.slice(20)));
    assert.equal(sent.filter((s) => s.kind === 'text').length, 3, lines.join('\n'));
    assert.equal(new Set(sent.map((s) => s.iv)).size, sent.length, 'an IV repeated');
    assert.ok(lines.some((l) => l.startsWith('[e2ee] direction keys derived ')), 'no key derivation logged');
    assert.ok(!lines.some((l) => /"d":/.test(l)), 'a private key was logged');
    assert.ok(b.logs.every((l) => !l.text.startsWith('[e2ee] ')), 'the other side logs without the switch');
  } finally {
    await closeAll(a, b);
  }
});

test('chat: on a phone-sized screen the list and the conversation take turns', async ({ browser }) => {
  const viewport = { width: 390, height: 780 };
  const [a, b] = await pair(browser, null, { viewport });
  try {
    await send(a, 'from a phone');
    await waitMessage(b, 'from a phone', 'theirs');
    assert.ok(await b.page.locator('#sidebar').isHidden(), 'the friend list covers the conversation');
    await screenshot(b.page, 'phone-chat.png');
    await b.page.locator('#back').click();
    await b.page.locator('#sidebar').waitFor({ state: 'visible' });
    assert.ok(await b.page.locator('#conversation').isHidden(), 'the conversation stays beside the list');
    await screenshot(b.page, 'phone-friends.png');
  } finally {
    await closeAll(a, b);
  }
});

test('chat: time from Enter on one side to the text showing on the other', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    await b.page.evaluate(() => {
      window.__shown = {};
      new MutationObserver(() => {
        for (const el of document.querySelectorAll('#messages li.theirs .text')) window.__shown[el.textContent] ??= Date.now();
      }).observe(document.getElementById('messages'), { childList: true, subtree: true });
    });
    const times = [];
    for (let i = 0; i < 20; i++) {
      const text = `timed ${i}`;
      await a.page.locator('#text').fill(text);
      const t0 = Date.now();
      await a.page.locator('#text').press('Enter');
      await waitMessage(b, text, 'theirs');
      times.push((await b.page.evaluate((t) => window.__shown[t], text)) - t0);
    }
    times.sort((x, y) => x - y);
    const q = (p) => times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)];
    console.log(`# measure: send → display on the other side, n=${times.length}: p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${times.at(-1)} ms`);
    assert.equal(times.length, 20);
  } finally {
    await closeAll(a, b);
  }
});
