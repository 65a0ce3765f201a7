// node:test for static/js/e2ee.js, protocol version 2: the module
// reproduces every value of tests/vectors/e2ee.json (made independently with
// Python's cryptography), version 2 messages and the version 1 history
// (legacy_v1) alike, and its receive checks refuse what design §4 says they
// must. Whether a counter is new is ledger.js's question (ledger.test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';

if (!globalThis.crypto) globalThis.crypto = webcrypto;
const e = await import('../../static/js/e2ee.js');

const V = JSON.parse(readFileSync(new URL('../vectors/e2ee.json', import.meta.url)));
const [A, B] = V.users;
const Z = Uint8Array.from(V.shared_secret.match(/../g), (x) => parseInt(x, 16));
const fromHex = (h) => Uint8Array.from(h.match(/../g) || [], (x) => parseInt(x, 16));
const wire = (m) => ({ iv: fromHex(m.iv), ct: fromHex(m.ciphertext), mac: fromHex(m.mac), counter: m.counter,
  ...(m.mac2 ? { mac2: fromHex(m.mac2) } : {}) });
const keysOf = (m, epoch = m.epoch) => e.directionKeys(Z, m.from, m.to, epoch);
const v2 = (kind) => V.messages.filter((m) => m.kind === kind);
const v1 = (kind) => V.legacy_v1.filter((m) => m.kind === kind);

async function secretOf(me, peer) {
  return e.sharedSecret(await e.importPrivate(me.private_jwk), await e.importPublic(peer.jwk));
}

async function refused(promise, code) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof e.E2EEError, `an E2EEError, not ${err}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

function refusedSync(fn, code) {
  assert.throws(fn, (err) => err instanceof e.E2EEError && err.code === code);
}

// --- vectors: the file itself ---------------------------------------------------

test('vectors: the file is of protocol version 2, with every kind and the version 1 history', () => {
  assert.equal(V.version, 2);
  assert.equal(e.PROTOCOL, 2);
  assert.deepEqual([...new Set(V.messages.map((m) => m.kind))].sort(), [...e.KINDS].sort());
  assert.ok(V.messages.every((m) => m.version === 2));
  assert.deepEqual([...new Set(V.legacy_v1.map((m) => m.kind))].sort(), ['ecdh', 'rekey', 'text']);
  assert.ok(V.legacy_v1.every((m) => m.version === 1));
  // What the list promises: non-ASCII, empty, a non-zero seen from B to A, a text under epoch 2.
  assert.ok(v2('text').some((m) => /[^\x00-\x7f]/.test(m.body)));
  assert.ok(v2('text').some((m) => m.body === ''));
  assert.ok(V.messages.some((m) => m.from === B.id && m.seen[1] > 0));
  assert.ok(v2('text').some((m) => m.epoch === 2));
});

test('vectors: the shared secret is the same from both sides and as pinned', async () => {
  assert.equal(e.hex(await secretOf(A, B)), V.shared_secret);
  assert.equal(e.hex(await secretOf(B, A)), V.shared_secret);
});

test('vectors: HKDF gives the pinned keys of both directions and epochs', async () => {
  for (const k of V.keys) {
    const raw = await e.directionKeyBytes(Z, k.from, k.to, k.epoch);
    assert.equal(e.hex(raw.enc), k.enc, `K_enc ${k.info_enc} epoch ${k.epoch}`);
    assert.equal(e.hex(raw.mac), k.mac, `K_mac ${k.info_mac} epoch ${k.epoch}`);
    assert.equal(k.info_enc, e.infoKey(k.from, k.to));
    assert.equal(k.info_mac, e.infoMac(k.from, k.to));
    assert.equal(e.hex(e.u64be(k.epoch)), k.salt);
  }
});

// --- vectors: version 2 ---------------------------------------------------------------

test('vectors v2: encodeFrame gives every pinned plaintext, decodeFrame takes it back', () => {
  for (const m of V.messages) {
    const pt = e.encodeFrame(m.kind, m.time, m.seen, m.body);
    assert.equal(e.hex(pt), m.plaintext, `${m.kind} ${m.from}->${m.to} ${m.epoch}/${m.counter}`);
    assert.equal(new TextDecoder().decode(pt), m.frame);
    assert.deepEqual(e.decodeFrame(fromHex(m.plaintext)), { kind: m.kind, time: m.time, seen: m.seen, body: m.body });
    assert.deepEqual(Object.keys(JSON.parse(m.frame)), ['v', 'kind', 'time', 'seen', 'body']);
  }
});

test('vectors v2: seal gives the pinned IV, ciphertext and MAC under the version 2 AAD', async () => {
  for (const m of V.messages.filter((x) => x.kind !== 'rekey')) {
    const out = await e.seal(await keysOf(m), m.from, m.to, m.counter, fromHex(m.plaintext));
    assert.equal(e.hex(out.iv), m.iv);
    assert.equal(e.hex(out.ct), m.ciphertext);
    assert.equal(e.hex(out.mac), m.mac);
    assert.equal(m.aad, e.aadFor(m.from, m.to));
    assert.equal(m.aad, `CHAT_MSG2_USER${m.from}to${m.to}`);
    assert.equal(m.iv, e.hex(e.ivFor(m.counter)));
  }
});

test('vectors v2: open takes every pinned message back to its frame, as version 2', async () => {
  for (const m of V.messages) {
    const { version, plaintext } = await e.open(await keysOf(m), m.from, m.to, wire(m));
    assert.equal(version, 2);
    assert.equal(e.hex(plaintext), m.plaintext);
    assert.equal(e.decodeFrame(plaintext).kind, m.kind);
  }
});

test('vectors v2: the ecdh frame carries the sender\'s key announcement', () => {
  const [m] = v2('ecdh');
  assert.equal(m.from, A.id);
  assert.deepEqual(e.decodeFrame(fromHex(m.plaintext)).body, { key_id: A.key_id, jwk: A.jwk });
});

test('vectors v2: the receipt reads no further than its seen (delivered)', () => {
  for (const m of v2('receipt')) {
    const f = e.decodeFrame(fromHex(m.plaintext));
    assert.ok(f.body.read[0] < f.seen[0] || (f.body.read[0] === f.seen[0] && f.body.read[1] <= f.seen[1]));
  }
});

test('vectors v2: the rekey is its own counter\'s message, with both MACs', async () => {
  const [m] = v2('rekey');
  const oldK = await keysOf(m);
  const newK = await keysOf(m, m.epoch + 1);
  const out = await e.sealRekey(oldK, newK, m.from, m.to, m.counter, fromHex(m.plaintext));
  assert.equal(e.hex(out.iv), m.iv);
  assert.equal(m.iv, e.hex(e.ivFor(m.counter)));		// not the previous counter's, as in version 1
  assert.equal(e.hex(out.ct), m.ciphertext);
  assert.equal(e.hex(out.mac), m.mac);
  assert.equal(e.hex(out.mac2), m.mac2);
  assert.equal(e.isLegacyRekey(wire(m)), false);
  const { version, plaintext } = await e.open(oldK, m.from, m.to, wire(m));
  assert.equal(version, 2);
  assert.deepEqual(e.decodeFrame(plaintext).body, { to: m.epoch + 1 });
  await e.checkRekeyMac2(newK, wire(m));
  await refused(e.checkRekeyMac2(oldK, wire(m)), 'mac2');
  // The message after it is of the next epoch, counting from 1 again.
  const after = V.messages.find((x) => x.from === m.from && x.epoch === m.epoch + 1);
  assert.equal(after.counter, 1);
  assert.equal((await e.open(newK, after.from, after.to, wire(after))).version, 2);
});

// --- vectors: version 1 (stored history) -------------------------------------------------

test('vectors v1: seal with version 1 gives the pinned history under the version 1 AAD', async () => {
  for (const m of V.legacy_v1.filter((x) => x.kind !== 'rekey')) {
    const out = await e.seal(await keysOf(m), m.from, m.to, m.counter, fromHex(m.plaintext), 1);
    assert.equal(e.hex(out.iv), m.iv);
    assert.equal(e.hex(out.ct), m.ciphertext);
    assert.equal(e.hex(out.mac), m.mac);
    assert.equal(m.aad, e.aadFor(m.from, m.to, 1));
    assert.equal(m.aad, `CHAT_MSG_USER${m.from}to${m.to}`);
  }
});

test('vectors v1: open reads the history as version 1, never as version 2', async () => {
  for (const m of V.legacy_v1.filter((x) => x.kind !== 'rekey')) {
    const { version, plaintext } = await e.open(await keysOf(m), m.from, m.to, wire(m));
    assert.equal(version, 1);
    assert.equal(e.hex(plaintext), m.plaintext);
  }
  const [ann] = v1('ecdh');
  assert.deepEqual(e.decodeAnnouncement(fromHex(ann.plaintext)), { key_id: A.key_id, jwk: A.jwk });
  assert.equal(e.hex(e.encodeAnnouncement(A.key_id, A.jwk)), ann.plaintext);
  // A version 1 plaintext is no frame.
  for (const m of v1('text').filter((x) => x.plaintext)) refusedSync(() => e.decodeFrame(fromHex(m.plaintext)), 'frame');
});

test('vectors v1: the legacy rekey carries the last IV, "change" and both MACs', async () => {
  const [m] = v1('rekey');
  const oldK = await keysOf(m);
  const newK = await keysOf(m, m.epoch + 1);
  const out = await e.sealRekeyV1(oldK, newK, m.counter);
  assert.equal(e.hex(out.iv), m.iv);
  assert.equal(m.iv, e.hex(e.ivFor(m.counter - 1)));
  assert.equal(e.hex(out.ct), m.ciphertext);
  assert.equal(new TextDecoder().decode(fromHex(m.ciphertext)), e.REKEY_PAYLOAD);
  assert.equal(e.hex(out.mac), m.mac);
  assert.equal(e.hex(out.mac2), m.mac2);
  assert.equal(e.isLegacyRekey(wire(m)), true);
  await e.openRekeyV1(oldK, newK, wire(m));
  // Through open() (the version 2 path) it is refused: its IV is not its counter's.
  await refused(e.open(oldK, m.from, m.to, wire(m)), 'iv');
});

test('vectors: the same slot in both versions opens as its own version only', async () => {
  // legacy_v1 and messages share keys and IVs: each ciphertext decrypts under its own AAD.
  const subtle = globalThis.crypto.subtle;
  for (const m of [...V.messages, ...V.legacy_v1.filter((x) => x.kind !== 'rekey')]) {
    const raw = await e.directionKeyBytes(Z, m.from, m.to, m.epoch);
    const key = await subtle.importKey('raw', raw.enc, 'AES-GCM', false, ['decrypt']);
    const dec = (version) => subtle.decrypt({ name: 'AES-GCM', iv: fromHex(m.iv),
      additionalData: new TextEncoder().encode(e.aadFor(m.from, m.to, version)), tagLength: 128 }, key, fromHex(m.ciphertext));
    assert.equal(e.hex(new Uint8Array(await dec(m.version))), m.plaintext);
    await assert.rejects(dec(3 - m.version));
  }
});

test('vectors: the safety number is as pinned and the same from both sides', async () => {
  assert.equal(await e.safetyNumber(A.id, A.jwk, B.id, B.jwk), V.safety_number);
  assert.equal(await e.safetyNumber(B.id, B.jwk, A.id, A.jwk), V.safety_number);
  assert.match(V.safety_number, /^(\d{5} ){11}\d{5}$/);
});

// --- behaviour with fresh keys ----------------------------------------------------

async function pair() {
  const a = await e.generateIdentity();
  const b = await e.generateIdentity();
  const zA = await e.sharedSecret(a.privateKey, await e.importPublic(b.jwk));
  const zB = await e.sharedSecret(b.privateKey, await e.importPublic(a.jwk));
  return { a, b, zA, zB };
}

const S = 3;
const R = 4;
const NOW = 1700000000000;

async function sealText(z, s, r, counter, text, epoch = 1, seen = [1, 0]) {
  const frame = e.encodeFrame('text', NOW, seen, text);
  return { ...(await e.seal(await e.directionKeys(z, s, r, epoch), s, r, counter, frame)), counter };
}

async function openFrame(z, s, r, msg, epoch = 1) {
  const { version, plaintext } = await e.open(await e.directionKeys(z, s, r, epoch), s, r, msg);
  assert.equal(version, 2);
  return e.decodeFrame(plaintext);
}

const openText = async (...args) => (await openFrame(...args)).body;

// The MAC a message would have under keys (to change a sealed message and
// keep its MAC valid, as only a holder of the keys could).
async function remac(keys, msg) {
  const mac = new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', keys.mac, e.concat(msg.iv, msg.ct)));
  return { ...msg, mac };
}

const flip = (b, at = 0) => Uint8Array.from(b, (x, i) => (i === at ? x ^ 1 : x));

test('a generated private key cannot be exported; the public one is a bare JWK', async () => {
  const a = await e.generateIdentity();
  assert.equal(a.privateKey.extractable, false);
  await assert.rejects(globalThis.crypto.subtle.exportKey('jwk', a.privateKey));
  assert.deepEqual(Object.keys(a.jwk), ['kty', 'crv', 'x', 'y']);
  assert.equal(a.jwk.crv, 'P-384');
});

test('round trip in both directions, the frame intact', async () => {
  const { zA, zB } = await pair();
  assert.deepEqual(zA, zB);
  assert.deepEqual(await openFrame(zB, S, R, await sealText(zA, S, R, 1, 'from A ✓')),
    { kind: 'text', time: NOW, seen: [1, 0], body: 'from A ✓' });
  assert.equal(await openText(zA, R, S, await sealText(zB, R, S, 1, 'from B', 1, [1, 1])), 'from B');
});

test('open is stateless: the same message opens twice (replays are the ledger\'s to refuse)', async () => {
  const { zA, zB } = await pair();
  const m = await sealText(zA, S, R, 1, 'once');
  assert.equal(await openText(zB, S, R, m), 'once');
  assert.equal(await openText(zB, S, R, m), 'once');
});

test('the two directions have different keys', async () => {
  const { zA } = await pair();
  const ab = await e.directionKeyBytes(zA, S, R, 1);
  const ba = await e.directionKeyBytes(zA, R, S, 1);
  assert.notEqual(e.hex(ab.enc), e.hex(ba.enc));
  assert.notEqual(e.hex(ab.mac), e.hex(ba.mac));
  assert.notEqual(e.hex(ab.enc), e.hex(ab.mac));
  // A message of A→B does not open as B→A.
  await refused(openText(zA, R, S, await sealText(zA, S, R, 1, 'x')), 'mac');
});

for (const [what, change] of [
  ['IV', (m) => ({ ...m, iv: flip(m.iv, 11) })],
  ['ciphertext', (m) => ({ ...m, ct: Uint8Array.from(m.ct, (b, i) => (i === 0 ? b ^ 0x80 : b)) })],
  ['MAC', (m) => ({ ...m, mac: flip(m.mac, 31) })],
  ['tag', (m) => ({ ...m, ct: flip(m.ct, m.ct.length - 1) })],
  ['MAC (truncated)', (m) => ({ ...m, mac: m.mac.slice(0, 16) })],
]) {
  test(`a tampered ${what} is refused by the MAC`, async () => {
    const { zA, zB } = await pair();
    await refused(openText(zB, S, R, change(await sealText(zA, S, R, 1, 'secret'))), 'mac');
  });
}

test('a wrong AAD is refused even with a valid MAC', async () => {
  // Same keys, but the receiver's AAD names other users: the MAC passes (it
  // does not cover the AAD), AES-GCM does not, under either version.
  const { zA } = await pair();
  const keys = await e.directionKeys(zA, S, R, 1);
  const m = { ...(await e.seal(keys, S, R, 1, e.encodeFrame('text', NOW, [1, 0], 'x'))), counter: 1 };
  await refused(e.open(keys, S, 99, m), 'decrypt');
  await refused(e.open(keys, 99, R, m), 'decrypt');
});

test('the AAD versions cannot be confused: a version 1 ciphertext opens as 1, a version 2 one as 2', async () => {
  const { zA, zB } = await pair();
  const kA = await e.directionKeys(zA, S, R, 1);
  const kB = await e.directionKeys(zB, S, R, 1);
  assert.equal(e.aadFor(S, R, 1), `CHAT_MSG_USER${S}to${R}`);
  assert.equal(e.aadFor(S, R, 2), `CHAT_MSG2_USER${S}to${R}`);
  assert.equal(e.aadFor(S, R), e.aadFor(S, R, 2));
  // Even a version 1 plaintext that looks like a frame is read as version 1,
  // so a receiver never takes its kind or time as sealed.
  const lookalike = e.encodeFrame('text', NOW, [1, 0], 'forged header');
  const old = { ...(await e.seal(kA, S, R, 1, lookalike, 1)), counter: 1 };
  const now = { ...(await e.seal(kA, S, R, 2, lookalike)), counter: 2 };
  assert.deepEqual(await e.open(kB, S, R, old), { version: 1, plaintext: lookalike });
  assert.deepEqual(await e.open(kB, S, R, now), { version: 2, plaintext: lookalike });
  // The same plaintext, key and IV give different ciphertexts in the two versions.
  const old2 = await e.seal(kA, S, R, 2, lookalike, 1);
  assert.notEqual(e.hex(old2.ct), e.hex(now.ct));
});

test('a counter that does not match its IV is refused', async () => {
  const { zA, zB } = await pair();
  const m = await sealText(zA, S, R, 5, 'x');
  await refused(openText(zB, S, R, { ...m, counter: 6 }), 'iv');
  await refused(openText(zB, S, R, { ...m, counter: 4 }), 'iv');
  // An IV of another shape, MAC made to fit: still not the counter's.
  const kA = await e.directionKeys(zA, S, R, 1);
  const wrongIv = await remac(kA, { ...m, iv: e.concat(Uint8Array.of(0, 0, 0, 1), e.u64be(5)) });
  await refused(openText(zB, S, R, wrongIv), 'iv');
  const shortIv = await remac(kA, { ...m, iv: e.u64be(5) });
  await refused(openText(zB, S, R, shortIv), 'iv');
});

test('a counter that is not a safe integer of at least 1 is refused after the MAC', async () => {
  const { zA, zB } = await pair();
  const m = await sealText(zA, S, R, 1, 'x');
  for (const counter of [0, -1, 1.5, 2 ** 53, '1', undefined, null, NaN]) {
    await refused(openText(zB, S, R, { ...m, counter }), 'counter');
  }
  // The MAC comes first: a forged message with a bad counter is a MAC failure.
  await refused(openText(zB, S, R, { ...m, mac: flip(m.mac), counter: 0 }), 'mac');
});

test('a ciphertext under neither AAD is refused as not decrypting', async () => {
  const { zA, zB } = await pair();
  const kA = await e.directionKeys(zA, S, R, 1);
  const m = await sealText(zA, S, R, 1, 'x');
  const forged = await remac(kA, { ...m, ct: flip(m.ct, 0) });	// only a key holder could, but GCM still says no
  await refused(openText(zB, S, R, forged), 'decrypt');
});

// --- the frame ----------------------------------------------------------------------------

const validFrames = {
  text: ['text', NOW, [1, 0], 'hi'],
  ecdh: ['ecdh', NOW, [1, 0], { key_id: 5, jwk: { kty: 'EC', crv: 'P-384', x: 'xx', y: 'yy' } }],
  rekey: ['rekey', NOW, [2, 7], { to: 3 }],
  receipt: ['receipt', NOW, [1, 4], { read: [1, 3] }],
};
const raw = (obj) => new TextEncoder().encode(JSON.stringify(obj));
const frameObj = (kind, time, seen, body) => ({ v: 2, kind, time, seen, body });

test('every kind\'s frame round-trips and is fixed-order compact JSON', () => {
  for (const [kind, args] of Object.entries(validFrames)) {
    const bytes = e.encodeFrame(...args);
    assert.equal(new TextDecoder().decode(bytes), JSON.stringify(frameObj(...args)), kind);
    assert.deepEqual(e.decodeFrame(bytes), { kind, time: args[1], seen: args[2], body: args[3] });
  }
  // The time and seen may be zero: the epoch's start, nothing received yet.
  assert.deepEqual(e.decodeFrame(e.encodeFrame('text', 0, [0, 0], '')), { kind: 'text', time: 0, seen: [0, 0], body: '' });
});

test('encodeFrame puts an announcement\'s keys in the fixed order', () => {
  const body = { jwk: { y: 'yy', x: 'xx', crv: 'P-384', kty: 'EC' }, key_id: 9 };
  assert.equal(new TextDecoder().decode(e.encodeFrame('ecdh', 1, [1, 0], body)),
    '{"v":2,"kind":"ecdh","time":1,"seen":[1,0],"body":{"key_id":9,"jwk":{"kty":"EC","crv":"P-384","x":"xx","y":"yy"}}}');
});

const badFrames = [
  ['not JSON', new TextEncoder().encode('{"v":2,')],
  ['not UTF-8', Uint8Array.of(0x7b, 0xff, 0x7d)],
  ['null', raw(null)],
  ['an array', raw([2, 'text', NOW, [1, 0], 'x'])],
  ['a string', raw('text')],
  ['version 1', raw({ ...frameObj(...validFrames.text), v: 1 })],
  ['version "2"', raw({ ...frameObj(...validFrames.text), v: '2' })],
  ['no v', raw({ kind: 'text', time: NOW, seen: [1, 0], body: 'x', extra: 1 })],
  ['an unknown kind', raw(frameObj('photo', NOW, [1, 0], 'x'))],
  ['a kind that is not a string', raw(frameObj(['text'], NOW, [1, 0], 'x'))],
  ['a text kind with an object body', raw(frameObj('text', NOW, [1, 0], { text: 'x' }))],
  ['a rekey kind with a text body', raw(frameObj('rekey', NOW, [1, 0], 'x'))],
  ['a receipt kind with a rekey body', raw(frameObj('receipt', NOW, [1, 0], { to: 2 }))],
  ['an ecdh kind with a receipt body', raw(frameObj('ecdh', NOW, [1, 0], { read: [1, 1] }))],
  ['an extra key', raw({ ...frameObj(...validFrames.text), extra: 1 })],
  ['a missing key', raw({ v: 2, kind: 'text', time: NOW, seen: [1, 0] })],
  ['a missing body, replaced', raw({ v: 2, kind: 'text', time: NOW, seen: [1, 0], text: 'x' })],
  ['a negative time', raw(frameObj('text', -1, [1, 0], 'x'))],
  ['a fractional time', raw(frameObj('text', 1.5, [1, 0], 'x'))],
  ['a string time', raw(frameObj('text', String(NOW), [1, 0], 'x'))],
  ['a time past 2^53', raw(frameObj('text', 2 ** 53, [1, 0], 'x'))],
  ['seen of one number', raw(frameObj('text', NOW, [1], 'x'))],
  ['seen of three numbers', raw(frameObj('text', NOW, [1, 0, 0], 'x'))],
  ['seen negative', raw(frameObj('text', NOW, [1, -1], 'x'))],
  ['seen fractional', raw(frameObj('text', NOW, [1, 0.5], 'x'))],
  ['seen as a string', raw(frameObj('text', NOW, '1,0', 'x'))],
  ['seen as an object', raw(frameObj('text', NOW, { 0: 1, 1: 0 }, 'x'))],
  ['seen null', raw(frameObj('text', NOW, null, 'x'))],
  ['a rekey to epoch 1', raw(frameObj('rekey', NOW, [1, 0], { to: 1 }))],
  ['a rekey to a string', raw(frameObj('rekey', NOW, [1, 0], { to: '2' }))],
  ['a rekey with an extra key', raw(frameObj('rekey', NOW, [1, 0], { to: 2, from: 1 }))],
  ['a receipt with a bad read', raw(frameObj('receipt', NOW, [1, 0], { read: [1] }))],
  ['a receipt with an extra key', raw(frameObj('receipt', NOW, [1, 0], { read: [1, 1], seen: [1, 1] }))],
  ['an ecdh with key_id 0', raw(frameObj('ecdh', NOW, [1, 0], { ...validFrames.ecdh[3], key_id: 0 }))],
  ['an ecdh with a string key_id', raw(frameObj('ecdh', NOW, [1, 0], { ...validFrames.ecdh[3], key_id: '5' }))],
  ['an ecdh of another curve', raw(frameObj('ecdh', NOW, [1, 0],
    { key_id: 5, jwk: { kty: 'EC', crv: 'P-256', x: 'xx', y: 'yy' } }))],
  ['an ecdh whose JWK has a private part', raw(frameObj('ecdh', NOW, [1, 0],
    { key_id: 5, jwk: { kty: 'EC', crv: 'P-384', x: 'xx', y: 'yy', d: 'dd' } }))],
  ['an ecdh with an extra key', raw(frameObj('ecdh', NOW, [1, 0], { ...validFrames.ecdh[3], note: 1 }))],
];

for (const [what, bytes] of badFrames) {
  test(`decodeFrame refuses ${what}`, () => refusedSync(() => e.decodeFrame(bytes), 'frame'));
}

test('encodeFrame refuses what decodeFrame would', () => {
  refusedSync(() => e.encodeFrame('photo', NOW, [1, 0], 'x'), 'frame');
  refusedSync(() => e.encodeFrame('text', NOW, [1, 0], { t: 'x' }), 'frame');
  refusedSync(() => e.encodeFrame('text', -1, [1, 0], 'x'), 'frame');
  refusedSync(() => e.encodeFrame('text', NOW, [1], 'x'), 'frame');
  refusedSync(() => e.encodeFrame('rekey', NOW, [1, 0], { to: 1 }), 'frame');
  refusedSync(() => e.encodeFrame('receipt', NOW, [1, 0], { read: [1, -1] }), 'frame');
  refusedSync(() => e.encodeFrame('ecdh', NOW, [1, 0], { key_id: 5, jwk: { kty: 'EC', crv: 'P-384', x: 'x', y: 'y', ext: true } }),
    'frame');
});

// --- rekeys ------------------------------------------------------------------------------

async function rekeyPair() {
  const { zA, zB } = await pair();
  return {
    zA, zB,
    oldA: await e.directionKeys(zA, S, R, 1), newA: await e.directionKeys(zA, S, R, 2),
    oldB: await e.directionKeys(zB, S, R, 1), newB: await e.directionKeys(zB, S, R, 2),
  };
}

test('a version 2 rekey is refused when either MAC is wrong, and taken when both are right', async () => {
  const { zA, zB, oldA, newA, oldB, newB } = await rekeyPair();
  const frame = e.encodeFrame('rekey', NOW, [1, 0], { to: 2 });
  const r = { ...(await e.sealRekey(oldA, newA, S, R, 3, frame)), counter: 3 };
  assert.equal(e.hex(r.iv), e.hex(e.ivFor(3)));
  assert.equal(e.isLegacyRekey(r), false);
  await refused(e.open(oldB, S, R, { ...r, mac: flip(r.mac) }), 'mac');
  await refused(e.checkRekeyMac2(newB, { ...r, mac2: flip(r.mac2) }), 'mac2');
  await refused(e.checkRekeyMac2(newB, { ...r, mac2: undefined }), 'mac2');
  await refused(e.checkRekeyMac2(newB, { ...r, mac2: r.mac }), 'mac2');		// the old MAC twice
  await refused(e.checkRekeyMac2(oldB, r), 'mac2');		// "new" keys that are the old ones
  await refused(e.checkRekeyMac2(await e.directionKeys(zB, S, R, 3), r), 'mac2');	// skipping an epoch
  await refused(e.checkRekeyMac2(await e.directionKeys(zB, R, S, 2), r), 'mac2');	// the other direction
  // mac2 covers the same iv || ct as mac: a changed ciphertext fails both.
  await refused(e.checkRekeyMac2(newB, { ...r, ct: flip(r.ct) }), 'mac2');
  const { version, plaintext } = await e.open(oldB, S, R, r);
  assert.equal(version, 2);
  assert.deepEqual(e.decodeFrame(plaintext), { kind: 'rekey', time: NOW, seen: [1, 0], body: { to: 2 } });
  await e.checkRekeyMac2(newB, r);
  // After the switch: epoch 2 messages open, and epoch 1 history still does.
  const old = await sealText(zA, S, R, 2, 'before', 1);
  const later = await sealText(zA, S, R, 1, 'after', 2);
  assert.equal(await openText(zB, S, R, later, 2), 'after');
  assert.equal(await openText(zB, S, R, old, 1), 'before');
  await refused(openText(zB, S, R, later, 1), 'mac');		// not under the old epoch's keys
});

test('a version 2 rekey made the version 1 way (the previous IV) is refused', async () => {
  const { oldA, newA, oldB } = await rekeyPair();
  const frame = e.encodeFrame('rekey', NOW, [1, 0], { to: 2 });
  const r = await e.sealRekey(oldA, newA, S, R, 3, frame);
  await refused(e.open(oldB, S, R, { ...r, counter: 4 }), 'iv');
});

test('a legacy rekey: both MACs, the previous IV and "change" are checked', async () => {
  const { oldA, newA, oldB, newB } = await rekeyPair();
  const r = { ...(await e.sealRekeyV1(oldA, newA, 3)), counter: 3 };
  assert.equal(e.isLegacyRekey(r), true);
  assert.equal(e.hex(r.iv), e.hex(e.ivFor(2)));
  await e.openRekeyV1(oldB, newB, r);
  await refused(e.openRekeyV1(oldB, newB, { ...r, mac: flip(r.mac) }), 'mac');
  await refused(e.openRekeyV1(oldB, newB, { ...r, mac2: flip(r.mac2) }), 'mac2');
  await refused(e.openRekeyV1(oldB, newB, { ...r, mac2: undefined }), 'mac2');
  await refused(e.openRekeyV1(oldB, oldB, r), 'mac2');
  await refused(e.openRekeyV1(newB, newB, r), 'mac');
  // Even with MACs that fit (only a key holder could make them): its own
  // counter's IV, or another payload, is not a version 1 rekey.
  const ownIv = await remac(oldA, { ...r, iv: e.ivFor(3) });
  await refused(e.openRekeyV1(oldB, newB, ownIv), 'rekey');
  const other = await remac(oldA, { ...r, ct: new TextEncoder().encode('chango') });
  await refused(e.openRekeyV1(oldB, newB, other), 'rekey');
  await refused(e.openRekeyV1(oldB, newB, { ...r, counter: 4 }), 'rekey');
  await refused(e.openRekeyV1(oldB, newB, { ...r, counter: 0 }), 'counter');
  // Routed to open() it is refused: its IV is not its counter's.
  await refused(e.open(oldB, S, R, r), 'iv');
});

test('a legacy rekey as the first message of its epoch (counter 1, the IV of 0) stays readable', async () => {
  const { zA, zB } = await pair();
  const r = { ...(await e.sealRekeyV1(await e.directionKeys(zA, S, R, 2), await e.directionKeys(zA, S, R, 3), 1)),
    counter: 1 };
  assert.equal(e.hex(r.iv), e.hex(e.ivFor(0)));
  await e.openRekeyV1(await e.directionKeys(zB, S, R, 2), await e.directionKeys(zB, S, R, 3), r);
});

// --- the rest ---------------------------------------------------------------------------

test('epochs start at 1 and counters at 1', async () => {
  const { zA } = await pair();
  await refused(e.directionKeys(zA, S, R, 0), 'epoch');
  const keys = await e.directionKeys(zA, S, R, 1);
  await refused(e.seal(keys, S, R, 0, e.encodeText('x')), 'counter');
  await refused(e.seal(keys, S, R, 2 ** 53, e.encodeText('x')), 'counter');
  await refused(e.sealRekey(keys, keys, S, R, 0, e.encodeFrame('rekey', NOW, [1, 0], { to: 2 })), 'counter');
});

test('IVs never repeat along a direction', async () => {
  const { zA } = await pair();
  const keys = await e.directionKeys(zA, S, R, 1);
  const seen = new Set();
  for (let c = 1; c <= 200; c++) seen.add(e.hex((await e.seal(keys, S, R, c, e.encodeText('x'))).iv));
  assert.equal(seen.size, 200);
  assert.equal(e.hex(e.ivFor(1)), '000000000000000000000001');
  assert.equal(e.hex(e.ivFor(2 ** 53 - 1)), '00000000001fffffffffffff');
});

test('the safety number is symmetric and changes with either key', async () => {
  const a = await e.generateIdentity();
  const b = await e.generateIdentity();
  const c = await e.generateIdentity();
  const ab = await e.safetyNumber(1, a.jwk, 2, b.jwk);
  assert.equal(ab, await e.safetyNumber(2, b.jwk, 1, a.jwk));
  assert.notEqual(ab, await e.safetyNumber(1, c.jwk, 2, b.jwk));
  assert.notEqual(ab, await e.safetyNumber(1, a.jwk, 2, c.jwk));
  assert.notEqual(ab, await e.safetyNumber(1, a.jwk, 3, b.jwk));
});

test('invalid UTF-8 and malformed version 1 announcements are refused', async () => {
  assert.throws(() => e.decodeText(Uint8Array.of(0xff, 0xfe)), (err) => err.code === 'utf8');
  assert.equal(e.decodeText(e.encodeText('Grüße 👋')), 'Grüße 👋');
  assert.throws(() => e.decodeAnnouncement(e.encodeText('{"key_id":"1"}')), (err) => err.code === 'ecdh');
  assert.throws(() => e.decodeAnnouncement(e.encodeText('nope')), (err) => err.code === 'ecdh');
});

test('base64url round-trips and refuses what is not', () => {
  for (let n = 0; n < 40; n++) {
    const b = Uint8Array.from({ length: n }, (_, i) => (i * 53 + n) & 255);
    assert.deepEqual(e.unb64u(e.b64u(b)), b);
  }
  assert.throws(() => e.unb64u('ab+/'), (err) => err.code === 'encoding');
  assert.throws(() => e.unb64u('abcde'), (err) => err.code === 'encoding');
});
