// node:test for static/js/e2ee.js: the module reproduces every value of
// tests/vectors/e2ee.json (made independently with Python's cryptography),
// and its receive checks refuse what design §4 says they must.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';

if (!globalThis.crypto) globalThis.crypto = webcrypto;
const e = await import('../../static/js/e2ee.js');

const V = JSON.parse(readFileSync(new URL('../vectors/e2ee.json', import.meta.url)));
const [A, B] = V.users;
const fromHex = (h) => Uint8Array.from(h.match(/../g) || [], (x) => parseInt(x, 16));

async function secretOf(me, peer) {
  return e.sharedSecret(await e.importPrivate(me.private_jwk), await e.importPublic(peer.jwk));
}

// --- vectors -----------------------------------------------------------------

test('vectors: the shared secret is the same from both sides and as pinned', async () => {
  assert.equal(e.hex(await secretOf(A, B)), V.shared_secret);
  assert.equal(e.hex(await secretOf(B, A)), V.shared_secret);
});

test('vectors: HKDF gives the pinned keys of both directions and epochs', async () => {
  const z = fromHex(V.shared_secret);
  for (const k of V.keys) {
    const raw = await e.directionKeyBytes(z, k.from, k.to, k.epoch);
    assert.equal(e.hex(raw.enc), k.enc, `K_enc ${k.info_enc} epoch ${k.epoch}`);
    assert.equal(e.hex(raw.mac), k.mac, `K_mac ${k.info_mac} epoch ${k.epoch}`);
    assert.equal(k.info_enc, e.infoKey(k.from, k.to));
    assert.equal(k.info_mac, e.infoMac(k.from, k.to));
    assert.equal(e.hex(e.u64be(k.epoch)), k.salt);
  }
});

test('vectors: seal gives the pinned IV, ciphertext and MAC of every message', async () => {
  const z = fromHex(V.shared_secret);
  for (const m of V.messages.filter((x) => x.kind !== 'rekey')) {
    const keys = await e.directionKeys(z, m.from, m.to, m.epoch);
    const out = await e.seal(keys, m.from, m.to, m.counter, fromHex(m.plaintext));
    assert.equal(e.hex(out.iv), m.iv);
    assert.equal(e.hex(out.ct), m.ciphertext);
    assert.equal(e.hex(out.mac), m.mac);
    assert.equal(m.aad, e.aadFor(m.from, m.to));
  }
});

test('vectors: open takes every pinned message back to its plaintext', async () => {
  const z = fromHex(V.shared_secret);
  for (const m of V.messages.filter((x) => x.kind !== 'rekey')) {
    const keys = await e.directionKeys(z, m.from, m.to, m.epoch);
    const pt = await e.open(keys, m.from, m.to,
      { iv: fromHex(m.iv), ct: fromHex(m.ciphertext), mac: fromHex(m.mac), counter: m.counter }, m.counter - 1);
    assert.equal(e.hex(pt), m.plaintext);
  }
  const ann = V.messages.find((x) => x.kind === 'ecdh');
  assert.deepEqual(e.decodeAnnouncement(fromHex(ann.plaintext)), { key_id: A.key_id, jwk: A.jwk });
});

test('vectors: the rekey carries the last IV, "change" and both MACs', async () => {
  const z = fromHex(V.shared_secret);
  const m = V.messages.find((x) => x.kind === 'rekey');
  const oldK = await e.directionKeys(z, m.from, m.to, m.epoch);
  const newK = await e.directionKeys(z, m.from, m.to, m.epoch + 1);
  const out = await e.sealRekey(oldK, newK, m.counter);
  assert.equal(e.hex(out.iv), m.iv);
  assert.equal(e.hex(out.ct), m.ciphertext);
  assert.equal(e.hex(out.mac), m.mac);
  assert.equal(e.hex(out.mac2), m.mac2);
  await e.openRekey(oldK, newK, { ...out, counter: m.counter }, m.counter - 1);
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

async function sealText(z, s, r, counter, text, epoch = 1) {
  return { ...(await e.seal(await e.directionKeys(z, s, r, epoch), s, r, counter, e.encodeText(text))), counter };
}

async function openText(z, s, r, msg, last = 0, epoch = 1) {
  return e.decodeText(await e.open(await e.directionKeys(z, s, r, epoch), s, r, msg, last));
}

async function refused(promise, code) {
  await assert.rejects(promise, (err) => err instanceof e.E2EEError && err.code === code);
}

test('a generated private key cannot be exported; the public one is a bare JWK', async () => {
  const a = await e.generateIdentity();
  assert.equal(a.privateKey.extractable, false);
  await assert.rejects(globalThis.crypto.subtle.exportKey('jwk', a.privateKey));
  assert.deepEqual(Object.keys(a.jwk), ['kty', 'crv', 'x', 'y']);
  assert.equal(a.jwk.crv, 'P-384');
});

test('round trip in both directions', async () => {
  const { zA, zB } = await pair();
  assert.deepEqual(zA, zB);
  assert.equal(await openText(zB, S, R, await sealText(zA, S, R, 1, 'from A ✓')), 'from A ✓');
  assert.equal(await openText(zA, R, S, await sealText(zB, R, S, 1, 'from B')), 'from B');
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
  ['IV', (m) => ({ ...m, iv: Uint8Array.from(m.iv, (b, i) => (i === 11 ? b ^ 1 : b)) })],
  ['ciphertext', (m) => ({ ...m, ct: Uint8Array.from(m.ct, (b, i) => (i === 0 ? b ^ 0x80 : b)) })],
  ['MAC', (m) => ({ ...m, mac: Uint8Array.from(m.mac, (b, i) => (i === 31 ? b ^ 1 : b)) })],
  ['tag', (m) => ({ ...m, ct: Uint8Array.from(m.ct, (b, i) => (i === m.ct.length - 1 ? b ^ 1 : b)) })],
]) {
  test(`a tampered ${what} is refused by the MAC`, async () => {
    const { zA, zB } = await pair();
    await refused(openText(zB, S, R, change(await sealText(zA, S, R, 1, 'secret'))), 'mac');
  });
}

test('a wrong AAD is refused even with a valid MAC', async () => {
  // Same keys, but the receiver's AAD names other users: the MAC passes (it
  // does not cover the AAD), AES-GCM does not.
  const { zA } = await pair();
  const keys = await e.directionKeys(zA, S, R, 1);
  const m = { ...(await e.seal(keys, S, R, 1, e.encodeText('x'))), counter: 1 };
  await refused(e.open(keys, S, 99, m, 0), 'decrypt');
});

test('replayed and reordered counters are refused', async () => {
  const { zA, zB } = await pair();
  const m1 = await sealText(zA, S, R, 1, 'one');
  const m2 = await sealText(zA, S, R, 2, 'two');
  assert.equal(await openText(zB, S, R, m2, 0), 'two');
  await refused(openText(zB, S, R, m2, 2), 'replay');        // the same again
  await refused(openText(zB, S, R, m1, 2), 'replay');        // an older one after a newer
});

test('a counter that does not match its IV is refused', async () => {
  const { zA, zB } = await pair();
  const m = await sealText(zA, S, R, 5, 'x');
  await refused(openText(zB, S, R, { ...m, counter: 6 }, 0), 'iv');
});

test('rekey is refused when either MAC is wrong, and taken when both are right', async () => {
  const { zA, zB } = await pair();
  const oldA = await e.directionKeys(zA, S, R, 1);
  const newA = await e.directionKeys(zA, S, R, 2);
  const oldB = await e.directionKeys(zB, S, R, 1);
  const newB = await e.directionKeys(zB, S, R, 2);
  const r = { ...(await e.sealRekey(oldA, newA, 3)), counter: 3 };
  const flip = (b) => Uint8Array.from(b, (x, i) => (i === 0 ? x ^ 1 : x));
  await refused(e.openRekey(oldB, newB, { ...r, mac: flip(r.mac) }, 2), 'mac');
  await refused(e.openRekey(oldB, newB, { ...r, mac2: flip(r.mac2) }, 2), 'mac2');
  await refused(e.openRekey(oldB, newB, { ...r, mac2: undefined }, 2), 'mac2');
  await refused(e.openRekey(oldB, oldB, r, 2), 'mac2');      // "new" keys that are the old ones
  await refused(e.openRekey(oldB, newB, r, 3), 'replay');
  await e.openRekey(oldB, newB, r, 2);
  // After the switch: epoch 2 messages decrypt, and epoch 1 history still does.
  const old = await sealText(zA, S, R, 2, 'before', 1);
  const later = await sealText(zA, S, R, 1, 'after', 2);
  assert.equal(await openText(zB, S, R, later, 0, 2), 'after');
  assert.equal(await openText(zB, S, R, old, 1, 1), 'before');
  await refused(openText(zB, S, R, later, 0, 1), 'mac');     // not under the old epoch's keys
});

test('epochs start at 1 and counters at 1', async () => {
  const { zA } = await pair();
  await refused(e.directionKeys(zA, S, R, 0), 'epoch');
  await refused(e.seal(await e.directionKeys(zA, S, R, 1), S, R, 0, e.encodeText('x')), 'counter');
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

test('invalid UTF-8 and malformed announcements are refused', async () => {
  assert.throws(() => e.decodeText(Uint8Array.of(0xff, 0xfe)), (err) => err.code === 'utf8');
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
