// The server as the adversary, about keys and names (protocol version 2,
// static/js/secure.js "pins", "names", "own keys"): the test owns the
// database and plays the server. It lists keys of its own for a user, gives
// a friend's name to another account, replaces a verified friend's key,
// lists a key for the victim herself, and makes real ciphertexts with its
// own keys (so their MAC and GCM tag are valid). Each test checks what the
// victim's screen shows and what the server got that it could decrypt.

import assert from 'node:assert/strict';
import { SESSION_COOKIE, ApiClient, createUser, sql } from './lib/account.mjs';
import { assertText } from './lib/pages.mjs';
import { test } from './lib/harness.mjs';
import {
  befriend, closeAll, forgetKeys, openChat, pair, person, ready, reopen, send, shown, waitMessage,
} from './lib/chat.mjs';

if (!globalThis.crypto) globalThis.crypto = (await import('node:crypto')).webcrypto;
const e2ee = await import('../../static/js/e2ee.js');

// ------------------------------------------------------------------ the server's side

/** Rows of a query as arrays of column strings. */
async function rows(query) {
  const out = await sql(query);
  return out === '' ? [] : out.split('\n').map((l) => l.split('\t'));
}

const userId = async (name) => Number(await sql(`SELECT id FROM users WHERE username = '${name}'`));

/** The keys the directory lists for user id uid, newest (current) first: [{id, jwk}]. */
async function keysOf(uid) {
  return (await rows(`SELECT id, jwk FROM public_keys WHERE user_id = ${uid} ORDER BY id DESC`))
    .map(([id, jwk]) => ({ id: Number(id), jwk: JSON.parse(jwk) }));
}

const jwkText = (jwk) => JSON.stringify({ kty: 'EC', crv: 'P-384', x: jwk.x, y: jwk.y });

/** Lists jwk as a key of user uid (under id when given, else the next id): the key's id. */
async function insertKey(uid, jwk, id = null) {
  if (id !== null) {
    await sql(`INSERT INTO public_keys (id, user_id, jwk) VALUES (${id}, ${uid}, '${jwkText(jwk)}')`);
    return id;
  }
  return Number(await sql(`INSERT INTO public_keys (user_id, jwk) VALUES (${uid}, '${jwkText(jwk)}'); SELECT LAST_INSERT_ID()`));
}

/**
 * A key id nobody holds, below every id handed out after this call: the
 * insert is rolled back, and InnoDB never hands an AUTO_INCREMENT value out
 * twice. Used to list a key under an "older" id.
 */
async function reserveKeyId(uid) {
  return Number(await sql(`START TRANSACTION; INSERT INTO public_keys (user_id, jwk) VALUES (${uid}, '{}');
    SELECT LAST_INSERT_ID(); ROLLBACK`));
}

/** A key pair of the attacker's: {privateKey, jwk}. */
const attackerKey = () => e2ee.generateIdentity();

/** The direction keys s → r at epoch between privateKey and the peer's public jwk. */
async function directionKeys(privateKey, peerJwk, s, r, epoch) {
  const z = await e2ee.sharedSecret(privateKey, await e2ee.importPublic(peerJwk));
  return e2ee.directionKeys(z, s, r, epoch);
}

/** A version 2 message s → r sealed with the attacker's private key for peerJwk: {iv, ct, mac}. */
async function forge({ privateKey, peerJwk, s, r, epoch = 1, counter = 1, kind = 'text', body }) {
  const keys = await directionKeys(privateKey, peerJwk, s, r, epoch);
  return e2ee.seal(keys, s, r, counter, e2ee.encodeFrame(kind, Date.now(), [epoch, 0], body));
}

const hexOf = (bytes) => Buffer.from(bytes).toString('hex');

/** Stores a message row as the server would: its id. */
async function insertMessage({ s, r, kind = 'text', sk, rk, epoch = 1, counter, iv, ct, mac }) {
  return Number(await sql(`INSERT INTO messages (sender_id, recipient_id, kind, sender_key_id, recipient_key_id,
    epoch, counter, iv, ciphertext, mac) VALUES (${s}, ${r}, '${kind}', ${sk}, ${rk}, ${epoch}, ${counter},
    X'${hexOf(iv)}', X'${hexOf(ct)}', X'${hexOf(mac)}'); SELECT LAST_INSERT_ID()`));
}

/** The rows s → r made for recipient key rk: [{id, kind, epoch, counter, iv, ct, mac}]. */
async function messagesTo(s, r, rk) {
  return (await rows(`SELECT id, kind, epoch, counter, HEX(iv), HEX(ciphertext), HEX(mac) FROM messages
    WHERE sender_id = ${s} AND recipient_id = ${r} AND recipient_key_id = ${rk} ORDER BY id`))
    .map(([id, kind, epoch, counter, iv, ct, mac]) => ({ id: Number(id), kind, epoch: Number(epoch), counter: Number(counter),
      iv: Buffer.from(iv, 'hex'), ct: Buffer.from(ct, 'hex'), mac: Buffer.from(mac, 'hex') }));
}

/** What the attacker reads of row m (s → r) with its private key: the sealed frame. */
async function decryptAs(privateKey, peerJwk, s, r, m) {
  const keys = await directionKeys(privateKey, peerJwk, s, r, m.epoch);
  const { plaintext } = await e2ee.open(keys, s, r, { iv: m.iv, ct: m.ct, mac: m.mac, counter: m.counter });
  return e2ee.decodeFrame(plaintext);
}

// ------------------------------------------------------------------ the victim's side

/** Every request of method to path (exact pathname) the page makes from now on: their bodies. */
function watchRequests(page, method, path) {
  const seen = [];
  page.on('request', (r) => {
    if (r.method() === method && new URL(r.url()).pathname === path) seen.push(r.postData());
  });
  return seen;
}

/** How many sealed messages wait in the page's IndexedDB outbox. */
function outboxCount(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const r = indexedDB.open('sealed-e2ee');
    r.onerror = () => reject(r.error);
    r.onsuccess = () => {
      const db = r.result;
      const q = db.transaction('outbox').objectStore('outbox').count();
      q.onsuccess = () => { db.close(); resolve(q.result); };
      q.onerror = () => reject(q.error);
    };
  }));
}

/** Verifies the open conversation's safety number; returns it. */
async function verify(p) {
  await p.page.locator('#show-safety').click();
  await p.page.locator('#safety').waitFor({ state: 'visible' });
  const number = (await p.page.locator('#safety-number').textContent()).trim();
  await p.page.locator('#mark-verified').click();
  await p.page.locator('#peer-verified').waitFor({ state: 'visible' });
  await p.page.locator('#hide-safety').click();
  return number;
}

async function safetyNumber(p) {
  await p.page.locator('#show-safety').click();
  await p.page.locator('#safety').waitFor({ state: 'visible' });
  const number = (await p.page.locator('#safety-number').textContent()).trim();
  await p.page.locator('#hide-safety').click();
  return number;
}

/** Waits for the stopping alarm in #key-warning with its trust buttons; returns its text. */
async function waitAlarm(p, re) {
  await p.page.locator('#key-warning.alarm').waitFor({ state: 'visible' });
  await p.page.locator('#trust-actions').waitFor({ state: 'visible' });
  await p.page.waitForFunction((src) => new RegExp(src).test(document.getElementById('key-warning').textContent), re.source);
  return p.page.locator('#key-warning').textContent();
}

/** The conversation's key-change entries as shown: [{level, text}]. */
function timeline(p) {
  return p.page.$$eval('#messages li.timeline', (lis) => lis.map((li) => ({
    level: ['info', 'warn', 'alarm'].find((c) => li.classList.contains(c)), text: li.textContent,
  })));
}

/** Waits for a timeline entry of level whose text matches re. */
async function waitTimeline(p, level, re) {
  await p.page.waitForFunction(([lv, src]) => [...document.querySelectorAll(`#messages li.timeline.${lv}`)]
    .some((li) => new RegExp(src).test(li.textContent)), [level, re.source]);
}

/**
 * Enter on text while sending is stopped: the text comes back into the box,
 * #conv-error says why, nothing is POSTed, sealed or shown as sending.
 */
async function assertSendBlocked(p, text, posts) {
  const before = posts.length;
  await send(p, text);
  await p.page.waitForFunction((t) => document.getElementById('text').value === t, text);
  await assertText(p.page, '#conv-error', 'Not sent: see the warning above.');
  assert.equal(posts.length, before, `a message was POSTed while sending was stopped: ${posts.slice(before).join('\n')}`);
  assert.equal(await outboxCount(p.page), 0, 'a message was sealed into the outbox while sending was stopped');
  assert.equal(await p.page.locator('#messages li.pending').count(), 0, 'a message shows as sending while sending was stopped');
}

/**
 * Enter on text while the page re-checks the peer's key and the server takes
 * its time to answer (the check the "Compare safety numbers" button starts):
 * the alarm must hold during the check. Returns the bodies POSTed meanwhile.
 */
async function sendDuringSlowCheck(p, peerName, text, posts) {
  const path = `/api/keys/${peerName}/history`;
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  let arrived;
  const asked = new Promise((resolve) => { arrived = resolve; });
  const hold = async (route) => {
    arrived();
    await gate;
    await route.continue().catch(() => {});
  };
  await p.page.route((url) => url.pathname === path, hold);
  const before = posts.length;
  try {
    await p.page.locator('#trust-compare').click();
    await asked;			// the page is checking, its answer held back by the server
    await send(p, text);
    // Either the page keeps the text (right), or it seals and POSTs it.
    const posted = p.page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/messages');
    release();
    await Promise.race([
      posted,
      p.page.waitForFunction((t) => document.getElementById('text').value === t, text),
    ]);
    posted.catch(() => {});
  } finally {
    release();
    await p.page.unroute((url) => url.pathname === path, hold);
  }
  return posts.slice(before);
}

/**
 * A friend of p's with no browser: an account made through the API, a key
 * published through it (the test holds its private key), and a friend
 * request p accepts on the page. {name, api, key: {privateKey, jwk}, keyId}.
 */
async function apiFriend(p) {
  const { user, session } = await createUser();
  const api = new ApiClient();
  api.session = session;
  api.csrf = (await api.expect(200, 'GET', '/api/me')).csrf_token;
  const key = await attackerKey();
  const { key_id: keyId } = await api.expect(201, 'PUT', '/api/keys', { jwk: key.jwk });
  await api.expect(201, 'POST', '/api/friends/requests', { username: p.name });
  await p.page.locator(`#incoming li[data-user="${user.username}"] .accept`).click();
  await p.page.locator(`#friends li[data-user="${user.username}"]`).waitFor();
  return { name: user.username, api, key, keyId };
}

const failedText = /^⚠ This message failed its security checks and is not shown \((\w[\w-]*): .*\)\.$/;


// ------------------------------------------------------------------ 1. keys pinned by bytes

test('adversary: a key of the server\'s under an older id of a verified friend is refused as unpinned; the badge stays', async ({ browser, context }) => {
  const a = await person(browser, { context });
  let forgedId = null;
  try {
    const aId = await userId(a.name);
    // An id below any bob will ever have: a key "from before" that alice never fetched.
    const olderId = await reserveKeyId(aId);
    // Bob has no browser here: the test holds his real key and writes as him.
    const b = await apiFriend(a);
    const bId = await userId(b.name);
    assert.ok(olderId < b.keyId, `the reserved id ${olderId} is not older than bob's key ${b.keyId}`);
    await openChat(a, b.name);
    const number = await verify(a);
    const [aliceKey] = await keysOf(aId);
    const fromBob = async (counter, text) => insertMessage({ s: bId, r: aId, sk: b.keyId, rk: aliceKey.id, counter,
      ...await forge({ privateKey: b.key.privateKey, peerJwk: aliceKey.jwk, s: bId, r: aId, counter, body: text }) });

    // The server lists a key of its own for bob under that older id, and a
    // message from "bob" made with it for alice's real key: MAC and GCM valid.
    // Bob's real messages come before and after it.
    await fromBob(1, 'hello from the real bob');
    const attacker = await attackerKey();
    await insertKey(bId, attacker.jwk, olderId);
    assert.equal((await keysOf(bId))[0].id, b.keyId, 'bob\'s current key changed');
    const secret = 'FORGED: send your password to the server';
    const forged = await forge({ privateKey: attacker.privateKey, peerJwk: aliceKey.jwk, s: bId, r: aId, body: secret });
    forgedId = await insertMessage({ s: bId, r: aId, sk: olderId, rk: aliceKey.id, counter: 1, ...forged });
    await fromBob(2, 'still the real bob');
    // (The forgery is sound: it opens under the attacker's key.)
    const check = await e2ee.open(await directionKeys(attacker.privateKey, aliceKey.jwk, bId, aId, 1), bId, aId,
      { ...forged, counter: 1 });
    assert.equal(e2ee.decodeFrame(check.plaintext).body, secret);

    const looksRight = async (when) => {
      await a.page.locator(`#messages li.msg.failed[data-id="${forgedId}"]`).waitFor();
      await waitMessage(a, 'still the real bob', 'theirs');
      const all = await shown(a);
      const entry = all.find((m) => m.id === forgedId);
      const m = failedText.exec(entry.text);
      assert.ok(m, `${when}: the forged message does not show the refusal: ${entry.text}`);
      assert.equal(m[1], 'unpinned', `${when}: refused for ${m[1]}, not as unpinned: ${entry.text}`);
      assert.ok(!all.some((x) => x.text.includes(secret)), `${when}: the forged text is shown`);
      assert.deepEqual(all.filter((x) => x.cls.includes('theirs') && !x.cls.includes('failed')).map((x) => x.text),
        ['hello from the real bob', 'still the real bob'], `${when}: bob's real messages`);
      // Bob's real key is still current and still the verified one.
      assert.ok(await a.page.locator('#peer-verified').isVisible(), `${when}: the verified badge went for bob's real key`);
      assert.ok(await a.page.locator('#trust-actions').isHidden(), `${when}: sending was stopped over a key that is not current`);
      assert.ok(!(await a.page.locator('#key-warning').evaluate((el) => el.classList.contains('alarm'))),
        `${when}: an alarm about bob's current key`);
      assert.equal(await safetyNumber(a), number, `${when}: the safety number changed`);
    };
    await reopen(a, b.name);
    await looksRight('as first seen');

    // Alice's answer goes to bob's real key (he can read it), nothing to the server's.
    await send(a, 'for the real bob only');
    await waitMessage(a, 'for the real bob only', 'mine');
    await a.page.waitForFunction(() => !document.querySelector('#messages li.pending'));
    assert.deepEqual(await messagesTo(aId, bId, olderId), [], 'alice encrypted to the server\'s key');
    const toBob = [];
    for (const row of await messagesTo(aId, bId, b.keyId)) toBob.push(await decryptAs(b.key.privateKey, aliceKey.jwk, aId, bId, row));
    assert.ok(toBob.some((f) => f.kind === 'text' && f.body === 'for the real bob only'), 'bob\'s real key does not open alice\'s text');

    await reopen(a, b.name);
    await looksRight('after a reload');
  } finally {
    if (forgedId) await sql(`DELETE FROM messages WHERE id = ${forgedId}`);
    await closeAll(a);
  }
});

test('adversary: a friend\'s own key bytes listed again under a new id change nothing: no warning, no entry, messages flow', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    await send(b, 'before the relisting');
    await waitMessage(a, 'before the relisting', 'theirs');
    await send(a, 'reply before');
    await waitMessage(b, 'reply before', 'theirs');
    await verify(a);
    const aId = await userId(a.name);
    const bId = await userId(b.name);
    const [bobKey] = await keysOf(bId);

    // The same bytes under a new id: the current key of bob in the directory.
    const newId = await insertKey(bId, bobKey.jwk);
    assert.ok(newId > bobKey.id);

    await reopen(a, b.name);
    await waitMessage(a, 'before the relisting', 'theirs');
    const quiet = async (when) => {
      assert.ok(await a.page.locator('#key-warning').isHidden(), `${when}: a key warning: ${await a.page.locator('#key-warning').textContent()}`);
      assert.ok(await a.page.locator('#trust-actions').isHidden(), `${when}: sending was stopped`);
      assert.ok(await a.page.locator('#peer-verified').isVisible(), `${when}: the verified badge went`);
      const entries = (await timeline(a)).filter((e) => e.level !== 'info');
      assert.deepEqual(entries, [], `${when}: key-change entries in the timeline`);
      assert.equal(await a.page.locator('#messages li.keys-changed').count(), 0, `${when}: a "keys changed" note`);
      assert.ok(!(await shown(a)).some((m) => m.cls.includes('failed')), `${when}: a message failed`);
    };
    await quiet('after the relisting');

    await send(a, 'after the relisting');
    await waitMessage(a, 'after the relisting', 'mine');
    await a.page.waitForFunction(() => !document.querySelector('#messages li.pending'));
    const sentId = Number(await sql(`SELECT MAX(id) FROM messages WHERE sender_id = ${aId} AND kind = 'text'`));
    await send(b, 'bob after the relisting');
    await waitMessage(a, 'bob after the relisting', 'theirs');
    // Bob's browser reads what alice sent after the relisting (under whichever id).
    await b.page.locator(`#messages li[data-id="${sentId}"]`).waitFor();
    const onBob = (await shown(b)).find((m) => m.id === sentId);
    assert.ok(onBob.text === 'after the relisting' && !onBob.cls.includes('failed'),
      `` +
      `bob's browser does not read alice's message sent to his own key bytes under the new id #${newId} ` +
      `(recipient key #${await sql(`SELECT recipient_key_id FROM messages WHERE id = ${sentId}`)}): ${onBob.text}`);
    // One key pair whatever its ids: its counters went on, never again from 1
    // (a counter twice under one key is an IV twice under one AES key).
    for (const [from, to] of [[aId, bId], [bId, aId]]) {
      const rows = (await sql(`SELECT epoch, counter FROM messages WHERE sender_id = ${from} AND recipient_id = ${to}`))
        .split('\n').filter(Boolean);
      assert.equal(new Set(rows).size, rows.length, `a counter used twice under one key: ${rows.join(', ')}`);
    }
    await reopen(b, a.name);
    assert.ok(await b.page.locator('#own-key-alarm').isHidden(), 'bob is alarmed about his own bytes');
    assert.ok(!(await shown(b)).some((m) => m.cls.includes('failed')), 'a message failed on bob\'s side after the relisting');
    await quiet('after messages both ways');
  } finally {
    await closeAll(a, b);
  }
});

// ------------------------------------------------------------------ 2. identities pinned

/**
 * alice in a browser, bob her verified friend and mallory, also her friend
 * (no browsers needed: what counts is alice's screen); alice has opened
 * both conversations, so her browser has pinned both names.
 */
async function trio(browser, context) {
  const a = await person(browser, { context });
  const b = await apiFriend(a);
  const m = await apiFriend(a);
  await openChat(a, m.name);
  await openChat(a, b.name);
  await verify(a);
  return [a, b, m];
}

async function rename(id, name) {
  await sql(`UPDATE users SET username = '${name}' WHERE id = ${id}`);
}

test('adversary: a verified friend\'s name given to another account raises an alarm and nothing is sent to it', async ({ browser, context }) => {
  const [a, b, m] = await trio(browser, context);
  const ids = {};
  try {
    ids.a = await userId(a.name);
    ids.b = await userId(b.name);
    ids.m = await userId(m.name);
    const sentBefore = await sql(`SELECT COUNT(*), COALESCE(MAX(id), 0) FROM messages WHERE sender_id = ${ids.a} AND recipient_id = ${ids.m}`);
    const [, maxBefore] = sentBefore.split('\t').map(Number);
    const posts = watchRequests(a.page, 'POST', '/api/messages');

    // The server swaps the two names: bob's name now leads to mallory's account.
    await rename(ids.b, `x${b.name}`.slice(0, 32));
    await rename(ids.m, b.name);
    await rename(ids.b, m.name);

    await reopen(a, b.name);
    const text = await waitAlarm(a, /now belongs to a different account/);
    assert.match(text, new RegExp(b.name));
    assert.ok(await a.page.locator('#peer-verified').isHidden(), 'the impostor is shown as verified');
    await assertSendBlocked(a, 'for bob only: the door code is 4711', posts);
    // Compare safety numbers is offered; what it shows is mallory's key, and still nothing goes.
    await a.page.locator('#trust-compare').click();
    await a.page.locator('#safety').waitFor({ state: 'visible' });
    await a.page.locator('#hide-safety').click();
    await waitAlarm(a, /now belongs to a different account/);
    await assertSendBlocked(a, 'for bob only: the door code is 4711', posts);

    // Bob's real account, now under mallory's name, is not taken for mallory either.
    await openChat(a, m.name);
    await waitAlarm(a, /now belongs to a different account|is now called/);
    await assertSendBlocked(a, 'for mallory', posts);

    // The server got nothing from alice for mallory's account after the swap, under any key.
    const after = await sql(`SELECT COUNT(*) FROM messages WHERE sender_id = ${ids.a} AND recipient_id = ${ids.m} AND id > ${maxBefore}`);
    assert.equal(Number(after), 0, 'alice sent something to mallory\'s account under bob\'s name');
    const toMalloryKeys = await sql(`SELECT COUNT(*) FROM messages WHERE sender_id = ${ids.a} AND id > ${maxBefore}
      AND recipient_key_id IN (SELECT id FROM public_keys WHERE user_id = ${ids.m})`);
    assert.equal(Number(toMalloryKeys), 0, 'alice encrypted to mallory\'s key after the swap');
    assert.deepEqual(posts, [], 'alice POSTed a message after the swap');
  } finally {
    if (ids.b && ids.m) {
      await rename(ids.m, `y${m.name}`.slice(0, 32)).catch(() => {});
      await rename(ids.b, b.name).catch(() => {});
      await rename(ids.m, m.name).catch(() => {});
    }
    await closeAll(a);
  }
});

test('adversary: a friend renamed and the name given to another account: both conversations raise an alarm', async ({ browser, context }) => {
  const [a, b, m] = await trio(browser, context);
  const ids = {};
  const bobNew = `z${b.name}`.slice(0, 32);
  try {
    ids.a = await userId(a.name);
    ids.b = await userId(b.name);
    ids.m = await userId(m.name);
    const maxBefore = Number(await sql(`SELECT COALESCE(MAX(id), 0) FROM messages WHERE sender_id = ${ids.a}`));
    const posts = watchRequests(a.page, 'POST', '/api/messages');

    await rename(ids.b, bobNew);
    await rename(ids.m, b.name);

    await reopen(a, b.name);
    await waitAlarm(a, /now belongs to a different account/);
    await assertSendBlocked(a, 'to bob', posts);

    await openChat(a, bobNew);
    await waitAlarm(a, new RegExp(`you knew as ${b.name} is now called ${bobNew}`));
    await assertSendBlocked(a, 'to bob, renamed', posts);

    assert.deepEqual(posts, [], 'alice POSTed a message after the renaming');
    assert.equal(Number(await sql(`SELECT COUNT(*) FROM messages WHERE sender_id = ${ids.a} AND id > ${maxBefore}`)), 0,
      'the server got a message from alice after the renaming');
  } finally {
    if (ids.b && ids.m) {
      await rename(ids.m, m.name).catch(() => {});
      await rename(ids.b, b.name).catch(() => {});
    }
    await closeAll(a);
  }
});

test('adversary: the name alarm holds while the page re-checks and the server is slow to answer', async ({ browser, context }) => {
  const [a, b, m] = await trio(browser, context);
  const ids = {};
  try {
    ids.a = await userId(a.name);
    ids.b = await userId(b.name);
    ids.m = await userId(m.name);
    const maxBefore = Number(await sql(`SELECT COALESCE(MAX(id), 0) FROM messages WHERE sender_id = ${ids.a}`));
    const posts = watchRequests(a.page, 'POST', '/api/messages');
    await rename(ids.b, `x${b.name}`.slice(0, 32));
    await rename(ids.m, b.name);

    await reopen(a, b.name);
    await waitAlarm(a, /now belongs to a different account/);
    // "Compare safety numbers" re-checks the key; the server holds back its
    // answer, and alice presses Enter meanwhile.
    const sent = await sendDuringSlowCheck(a, b.name, 'typed while the page was checking', posts);
    const toMallory = await sql(`SELECT COUNT(*) FROM messages WHERE sender_id = ${ids.a} AND id > ${maxBefore}
      AND recipient_key_id IN (SELECT id FROM public_keys WHERE user_id = ${ids.m})`);
    assert.deepEqual(sent, [], `sending must stay stopped while the page re-checks: ` +
      `alice's text was sealed and POSTed to mallory's account under bob's name (${toMallory} row(s) under mallory's key)`);
    assert.equal(Number(toMallory), 0, 'alice encrypted to mallory\'s key');
    await waitAlarm(a, /now belongs to a different account/);
    assert.equal(await a.page.locator('#text').inputValue(), 'typed while the page was checking');
  } finally {
    if (ids.b && ids.m) {
      await rename(ids.m, `y${m.name}`.slice(0, 32)).catch(() => {});
      await rename(ids.b, b.name).catch(() => {});
      await rename(ids.m, m.name).catch(() => {});
    }
    await closeAll(a);
  }
});

// ------------------------------------------------------------------ 3. verified means something

test('adversary: a verified friend\'s key replaced: sending stops, the alarm stays after a reload, "Send anyway" goes to the new key', async ({ browser, context }) => {
  const a = await person(browser, { context });
  try {
    const b = await apiFriend(a);
    await openChat(a, b.name);
    await verify(a);
    const aId = await userId(a.name);
    const bId = await userId(b.name);
    const [aliceKey] = await keysOf(aId);
    const [bobKey] = await keysOf(bId);
    const posts = watchRequests(a.page, 'POST', '/api/messages');

    // The server makes a key of its own bob's current one.
    const attacker = await attackerKey();
    const evilId = await insertKey(bId, attacker.jwk);

    await reopen(a, b.name);
    await waitAlarm(a, /changed after you verified/);
    assert.ok(await a.page.locator('#peer-verified').isHidden(), 'still shown as verified');
    await waitTimeline(a, 'alarm', new RegExp(`key changed \\(#${evilId}, [0-9a-f]{16}\\) after you verified`));
    await assertSendBlocked(a, 'held back from the new key', posts);
    // A re-check the server is slow to answer opens no window either.
    const during = await sendDuringSlowCheck(a, b.name, 'typed while the page was checking', posts);
    assert.deepEqual(during, [], 'a message was POSTed while the page re-checked the held key');
    assert.deepEqual(await messagesTo(aId, bId, evilId), [], 'alice encrypted to the server\'s key');

    // The alarm is in the timeline after a reload, and sending is still stopped.
    await reopen(a, b.name);
    await waitAlarm(a, /changed after you verified/);
    await waitTimeline(a, 'alarm', /after you verified/);
    await assertSendBlocked(a, 'still held back', posts);
    assert.deepEqual(posts, [], 'alice POSTed a message while sending was stopped');

    // "Send anyway": the user's choice, recorded; the next text goes to the new key.
    await a.page.locator('#text').fill('');
    await a.page.locator('#trust-anyway').click();
    await a.page.locator('#trust-actions').waitFor({ state: 'hidden' });
    await waitTimeline(a, 'alarm', new RegExp(`You chose to send to ${b.name}'s new key #${evilId} without comparing`));
    await send(a, 'sent anyway');
    await waitMessage(a, 'sent anyway', 'mine');
    await a.page.waitForFunction(() => !document.querySelector('#messages li.pending'));
    const got = await messagesTo(aId, bId, evilId);
    const frames = [];
    for (const row of got) frames.push(await decryptAs(attacker.privateKey, aliceKey.jwk, aId, bId, row));
    assert.ok(frames.some((f) => f.kind === 'text' && f.body === 'sent anyway'),
      `the server's key does not open the text sent anyway: ${JSON.stringify(frames)}`);
    assert.ok(!frames.some((f) => f.kind === 'text' && f.body !== 'sent anyway'), 'a held-back text reached the new key');
    assert.ok(!(await messagesTo(aId, bId, bobKey.id)).some((r) => r.id > got[0].id), 'sent to the old key after the choice');

    await reopen(a, b.name);
    await waitTimeline(a, 'alarm', /after you verified/);
    await waitTimeline(a, 'alarm', /You chose to send to/);
    assert.ok(await a.page.locator('#trust-actions').isHidden(), 'sending stopped again after the choice');
  } finally {
    await closeAll(a);
  }
});

test('adversary: an unverified friend\'s key replaced: a warning, not a stop, and a timeline entry that stays', async ({ browser, context }) => {
  const a = await person(browser, { context });
  try {
    const b = await apiFriend(a);
    await openChat(a, b.name);
    const aId = await userId(a.name);
    const bId = await userId(b.name);
    const [aliceKey] = await keysOf(aId);
    const attacker = await attackerKey();
    const evilId = await insertKey(bId, attacker.jwk);

    await reopen(a, b.name);
    await a.page.locator('#key-warning').waitFor({ state: 'visible' });
    assert.match(await a.page.locator('#key-warning').textContent(), /keys changed/);
    assert.ok(!(await a.page.locator('#key-warning').evaluate((el) => el.classList.contains('alarm'))), 'an unverified key change stops sending');
    assert.ok(await a.page.locator('#trust-actions').isHidden(), 'trust buttons for an unverified key change');
    await waitTimeline(a, 'warn', new RegExp(`key changed \\(#${evilId}, [0-9a-f]{16}\\)`));
    assert.deepEqual((await timeline(a)).filter((e) => e.level === 'alarm'), [], 'an alarm for an unverified friend');

    // Trust on first use: it sends (to the key the directory gives; a warning said so).
    await send(a, 'after the warning');
    await waitMessage(a, 'after the warning', 'mine');
    await a.page.waitForFunction(() => !document.querySelector('#messages li.pending'));
    const rowsToNew = await messagesTo(aId, bId, evilId);
    const frames = [];
    for (const row of rowsToNew) frames.push(await decryptAs(attacker.privateKey, aliceKey.jwk, aId, bId, row));
    assert.ok(frames.some((f) => f.kind === 'text' && f.body === 'after the warning'), 'the text did not go to the new key');

    await reopen(a, b.name);
    await waitTimeline(a, 'warn', new RegExp(`key changed \\(#${evilId}, [0-9a-f]{16}\\)`));
    assert.equal((await timeline(a)).filter((e) => e.level === 'warn').length, 1, 'the entry is not there once');
  } finally {
    await closeAll(a);
  }
});

// ------------------------------------------------------------------ 4. own keys

async function ownAlarmCheck(p, keyId) {
  await p.page.locator('#own-key-alarm').waitFor({ state: 'visible' });
  const text = await p.page.locator('#own-key-text').textContent();
  assert.match(text, new RegExp(`#${keyId} \\([0-9a-f]{16}\\)`), `the alarm does not name key #${keyId}: ${text}`);
}

test('adversary: a key listed for the user herself raises #own-key-alarm, is never published over by itself, and "use this browser\'s key" fixes it', async ({ browser, context }) => {
  const a = await person(browser, { context });
  try {
    const aId = await userId(a.name);
    const before = await keysOf(aId);
    assert.equal(before.length, 1);
    const puts = watchRequests(a.page, 'PUT', '/api/keys');
    const attacker = await attackerKey();
    const evilId = await insertKey(aId, attacker.jwk);

    await a.page.reload();
    await ready(a.page);
    await ownAlarmCheck(a, evilId);
    await a.page.locator('#conn.on').waitFor();
    assert.deepEqual(puts, [], 'the browser published a key by itself');
    assert.deepEqual((await keysOf(aId)).map((k) => k.id), [evilId, before[0].id], 'the listing changed without the user');
    // Still there after another reload, and still nothing published.
    await a.page.reload();
    await ready(a.page);
    await ownAlarmCheck(a, evilId);
    assert.deepEqual(puts, [], 'the browser published a key by itself after a reload');

    const republished = a.page.waitForResponse((r) => r.request().method() === 'PUT' && new URL(r.url()).pathname === '/api/keys');
    await a.page.locator('#own-key-republish').click();
    assert.equal((await republished).status(), 201);
    let alarmGone = true;
    await a.page.locator('#own-key-alarm').waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => { alarmGone = false; });
    const after = await keysOf(aId);
    assert.equal(after.length, 3, 'republishing did not add one key');
    assert.deepEqual({ x: after[0].jwk.x, y: after[0].jwk.y }, { x: before[0].jwk.x, y: before[0].jwk.y },
      'the current key is not this browser\'s own bytes');
    assert.equal(puts.length, 1);
    assert.ok(alarmGone,
      `after "Use this browser's key again" the alarm stays: ${await a.page.locator('#own-key-text').textContent()}`);
    await a.page.reload();
    await ready(a.page);
    await a.page.locator('#conn.on').waitFor();
    assert.ok(await a.page.locator('#own-key-alarm').isHidden(), 'the alarm came back after a reload');
    assert.equal(puts.length, 1, 'the browser published again by itself');
  } finally {
    await closeAll(a);
  }
});

test('adversary: a key listed for the user herself while her page is open raises #own-key-alarm live and nothing is published', async ({ browser, context }) => {
  const a = await person(browser, { context });
  try {
    const aId = await userId(a.name);
    const before = await keysOf(aId);
    await a.page.locator('#conn.on').waitFor();
    const puts = watchRequests(a.page, 'PUT', '/api/keys');
    // The server lists a key of its own and tells her sessions with a "key"
    // event (done here through the server's own publishing path: a PUT on
    // her session, which stores the row and sends the event).
    const api = new ApiClient();
    api.session = (await a.context.cookies()).find((c) => c.name === SESSION_COOKIE).value;
    api.csrf = (await api.expect(200, 'GET', '/api/me')).csrf_token;
    const attacker = await attackerKey();
    const { key_id: evilId } = await api.expect(201, 'PUT', '/api/keys', { jwk: attacker.jwk });
    await ownAlarmCheck(a, evilId);
    assert.deepEqual(puts, [], 'the browser published a key by itself');
    assert.deepEqual((await keysOf(aId)).map((k) => k.id), [evilId, before[0].id], 'the listing changed without the user');
  } finally {
    await closeAll(a);
  }
});

test('adversary: lost keys (storage cleared) still say #keys-lost and raise no #own-key-alarm', async ({ browser, context }) => {
  const [a, b] = await pair(browser, context);
  try {
    await send(a, 'before the loss');
    await waitMessage(b, 'before the loss', 'theirs');
    const bId = await userId(b.name);
    await forgetKeys(b);
    await b.page.locator('#keys-lost').waitFor({ state: 'visible' });
    assert.ok(await b.page.locator('#own-key-alarm').isHidden(), 'an own-key alarm for the browser\'s own loss');
    // Friends hear of the new key (the event went out); the page is live.
    await a.page.locator('#key-warning').waitFor({ state: 'visible' });
    await b.page.locator('#conn.on').waitFor();
    await openChat(b, a.name);
    await send(b, 'with new keys');
    await waitMessage(a, 'with new keys', 'theirs');
    assert.ok(await b.page.locator('#own-key-alarm').isHidden(), 'an own-key alarm after the new key was announced');
    assert.equal((await keysOf(bId)).length, 2, 'not exactly one new key');
    await reopen(b, a.name);
    await b.page.locator('#conn.on').waitFor();
    assert.ok(await b.page.locator('#own-key-alarm').isHidden(), 'an own-key alarm after a reload');
    assert.ok(await b.page.locator('#keys-lost').isHidden(), 'still says the keys were lost after a reload');
    assert.equal((await keysOf(bId)).length, 2, 'a key was published again');
  } finally {
    await closeAll(a, b);
  }
});

// ------------------------------------------------------------------ history of version 1

test('history: messages a version-1 browser made still open, marked as older, and the conversation goes on in version 2', async ({ browser, context }) => {
  const a = await person(browser, { context });
  try {
    const bob = await apiFriend(a);
    const aId = await userId(a.name);
    const bId = await userId(bob.name);
    const [aliceKey] = await keysOf(aId);
    // What a version-1 browser of bob's made: an announcement and a text,
    // raw plaintext under the version-1 AAD.
    const keys = await directionKeys(bob.key.privateKey, aliceKey.jwk, bId, aId, 1);
    const v1 = [
      ['ecdh', e2ee.encodeAnnouncement(bob.keyId, bob.key.jwk)],
      ['text', e2ee.encodeText('written before version 2')],
    ];
    for (const [i, [kind, plaintext]] of v1.entries()) {
      const m = await e2ee.seal(keys, bId, aId, i + 1, plaintext, 1);
      await insertMessage({ s: bId, r: aId, kind, sk: bob.keyId, rk: aliceKey.id, counter: i + 1, ...m });
    }
    await openChat(a, bob.name);
    await waitMessage(a, 'written before version 2', 'theirs');
    const old = (await shown(a)).find((m) => m.text === 'written before version 2');
    assert.ok(!old.cls.includes('failed'), old.cls);
    assert.match(await a.page.locator('#messages li.theirs .flag').first().textContent(), /older version/);

    // Alice answers in version 2: bob (the test) reads a sealed frame, and
    // a version-2 text of bob's after the old ones shows unflagged.
    await send(a, 'and now in version 2');
    await a.page.waitForFunction(() => document.querySelectorAll('#messages li.mine:not(.pending)').length === 1);
    const [reply] = (await messagesTo(aId, bId, bob.keyId)).filter((m) => m.kind === 'text');
    const frame = await decryptAs(bob.key.privateKey, aliceKey.jwk, aId, bId, reply);
    assert.deepEqual([frame.kind, frame.body], ['text', 'and now in version 2']);
    const m3 = await forge({ privateKey: bob.key.privateKey, peerJwk: aliceKey.jwk, s: bId, r: aId, counter: 3,
      body: 'a version 2 text of bob\'s' });
    await insertMessage({ s: bId, r: aId, sk: bob.keyId, rk: aliceKey.id, counter: 3, ...m3 });
    await reopen(a, bob.name);
    await waitMessage(a, 'a version 2 text of bob\'s', 'theirs');
    const all = await shown(a);
    assert.ok(!all.some((m) => m.cls.includes('failed')), JSON.stringify(all));
    assert.deepEqual(all.filter((m) => m.cls.includes('theirs')).map((m) => m.text),
      ['written before version 2', 'a version 2 text of bob\'s']);
    assert.equal(await a.page.locator('#messages li.theirs .flag:not([hidden])').count(), 1, 'only the old text is flagged');
  } finally {
    await closeAll(a);
  }
});
