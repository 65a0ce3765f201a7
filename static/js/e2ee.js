// e2ee: the end-to-end protocol of design §4, with WebCrypto only and no
// DOM, so the browser and Node's test runner run the same code.
//
// Identity: one ECDH P-384 key pair per user per browser; the private key
// is a non-extractable CryptoKey. For users S and R, Z = ECDH(own private,
// peer public) (48 bytes); for direction S→R at epoch e (salt: e as 8 bytes
// big-endian) HKDF-SHA256 gives K_enc (info "CHAT_KEY_USER<S>to<R>",
// AES-GCM-256) and K_mac (info "CHAT_MAC_USER<S>to<R>", HMAC-SHA256).
// A message with counter c has iv = 4 zero bytes || c (8 bytes big-endian),
// ct = AES-GCM(K_enc, iv, plaintext, aad) with a 128-bit tag, and
// mac = HMAC(K_mac, iv || ct). open() checks the MAC, that the IV is the
// counter's, then decrypts; whether the counter is new is the ledger's
// question (ledger.js), asked in one IndexedDB transaction by keystore.js.
//
// Version 2 (this version) seals everything the server could otherwise lie
// about into the plaintext, a frame of fixed-order JSON:
//   {"v":2,"kind":K,"time":T,"seen":[e,c],"body":B}
// kind is the message's kind (a row whose kind differs is refused); time
// the sender's clock in ms since 1970 (shown on screen; decides whether a
// key announcement is fresh); seen the highest contiguous counter c the
// sender had received from the peer under the same key pair, in epoch e
// (an order on screen that contradicts it is flagged); body by kind:
//   text     the UTF-8 text (a string)
//   ecdh     {"key_id", "jwk"}: the sender's key announcement
//   rekey    {"to": e+1}: sealed under epoch e like any message, with mac2,
//            HMAC under the new K_mac over the same iv || ct
//   receipt  {"read":[e,c]}: the highest contiguous counter read (the
//            header's seen is the highest received: "delivered")
// The AAD of version 2 is "CHAT_MSG2_USER<S>to<R>", so a version-1
// ciphertext (AAD "CHAT_MSG_USER<S>to<R>", raw text, rekeys of the bytes
// "change" in clear under the last IV) can never be read as version 2, nor
// the other way round. Version-1 messages stay readable as history, marked
// legacy: their kind and time were not sealed.

const subtle = globalThis.crypto.subtle;
const te = new TextEncoder();
const td = new TextDecoder('utf-8', { fatal: true });

export const CURVE = 'P-384';
export const REKEY_PAYLOAD = 'change';	// version 1 only
export const PROTOCOL = 2;
export const KINDS = ['text', 'ecdh', 'rekey', 'receipt'];
const MAX_COUNTER = 2 ** 53 - 1;

// A refusal of a received message; code says which check failed.
export class E2EEError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'E2EEError';
    this.code = code;
  }
}

// --- encodings ---------------------------------------------------------------

export function b64u(bytes) {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function unb64u(s) {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) {
    throw new E2EEError('encoding', 'not base64url');
  }
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export function hex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// n (0 … 2^53-1) as 8 bytes big-endian.
export function u64be(n) {
  if (!Number.isSafeInteger(n) || n < 0) throw new E2EEError('counter', 'not a counter');
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

export function ivFor(counter) {
  return concat(new Uint8Array(4), u64be(counter));
}

export const infoKey = (s, r) => `CHAT_KEY_USER${s}to${r}`;
export const infoMac = (s, r) => `CHAT_MAC_USER${s}to${r}`;
export const aadFor = (s, r, version = PROTOCOL) =>
  version === 1 ? `CHAT_MSG_USER${s}to${r}` : `CHAT_MSG2_USER${s}to${r}`;

function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

// --- keys ----------------------------------------------------------------------

// A new identity: the private key non-extractable, the public one as a JWK
// in the form the server stores ({kty, crv, x, y}).
export async function generateIdentity() {
  const pair = await subtle.generateKey({ name: 'ECDH', namedCurve: CURVE }, false, ['deriveBits']);
  return { privateKey: pair.privateKey, publicKey: pair.publicKey, jwk: await publicJwk(pair.publicKey) };
}

export async function publicJwk(publicKey) {
  const j = await subtle.exportKey('jwk', publicKey);
  return { kty: j.kty, crv: j.crv, x: j.x, y: j.y };
}

export function importPublic(jwk) {
  return subtle.importKey('jwk', { kty: 'EC', crv: CURVE, x: jwk.x, y: jwk.y, ext: true },
    { name: 'ECDH', namedCurve: CURVE }, true, []);
}

// A private key given as a JWK (test vectors, never the app's own keys).
export function importPrivate(jwk, extractable = false) {
  return subtle.importKey('jwk', { kty: 'EC', crv: CURVE, x: jwk.x, y: jwk.y, d: jwk.d, ext: extractable },
    { name: 'ECDH', namedCurve: CURVE }, extractable, ['deriveBits']);
}

// Z = ECDH(own private, peer public): 48 bytes.
export async function sharedSecret(privateKey, peerPublicKey) {
  return new Uint8Array(await subtle.deriveBits({ name: 'ECDH', public: peerPublicKey }, privateKey, 384));
}

async function hkdf(z, salt, info) {
  const base = await subtle.importKey('raw', z, 'HKDF', false, ['deriveBits']);
  return new Uint8Array(await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info: te.encode(info) },
    base, 256));
}

export async function fingerprint(bytes) {
  return hex(new Uint8Array(await subtle.digest('SHA-256', bytes)).slice(0, 8));
}

// The keys of direction s → r at epoch e from Z: {enc, mac} CryptoKeys
// (non-extractable) and their fingerprints (for the debug log and vectors).
export async function directionKeys(z, s, r, epoch) {
  if (!Number.isSafeInteger(epoch) || epoch < 1) throw new E2EEError('epoch', 'epochs start at 1');
  const salt = u64be(epoch);
  const encRaw = await hkdf(z, salt, infoKey(s, r));
  const macRaw = await hkdf(z, salt, infoMac(s, r));
  const keys = {
    enc: await subtle.importKey('raw', encRaw, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']),
    mac: await subtle.importKey('raw', macRaw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']),
    encFingerprint: await fingerprint(encRaw),
    macFingerprint: await fingerprint(macRaw),
  };
  encRaw.fill(0);
  macRaw.fill(0);
  return keys;
}

// The raw derived keys, for the test vectors only.
export async function directionKeyBytes(z, s, r, epoch) {
  const salt = u64be(epoch);
  return { enc: await hkdf(z, salt, infoKey(s, r)), mac: await hkdf(z, salt, infoMac(s, r)) };
}

// --- messages ------------------------------------------------------------------

async function macOf(keys, iv, ct) {
  return new Uint8Array(await subtle.sign('HMAC', keys.mac, concat(iv, ct)));
}

function checkCounter(counter) {
  if (!Number.isSafeInteger(counter) || counter < 1 || counter > MAX_COUNTER) {
    throw new E2EEError('counter', 'counters start at 1');
  }
}

const gcm = (iv, s, r, version) => ({ name: 'AES-GCM', iv, additionalData: te.encode(aadFor(s, r, version)), tagLength: 128 });

// Encrypts plaintext bytes as message number `counter` of direction s → r
// (version 1 only for the test vectors of stored history).
export async function seal(keys, s, r, counter, plaintext, version = PROTOCOL) {
  checkCounter(counter);
  const iv = ivFor(counter);
  const ct = new Uint8Array(await subtle.encrypt(gcm(iv, s, r, version), keys.enc, plaintext));
  return { iv, ct, mac: await macOf(keys, iv, ct) };
}

// The MAC, then the IV against the counter, then the decryption: under
// version 2's AAD, else version 1's. Returns {version, plaintext}. Whether
// the counter is new is not asked here (see ledger.js).
export async function open(keys, s, r, msg) {
  const { iv, ct, mac, counter } = msg;
  if (!(await subtle.verify('HMAC', keys.mac, mac, concat(iv, ct)))) {
    throw new E2EEError('mac', 'the MAC is wrong: the message was changed or is not from this sender');
  }
  checkCounter(counter);
  if (!equalBytes(iv, ivFor(counter))) {
    throw new E2EEError('iv', 'the IV does not belong to the counter');
  }
  for (const version of [PROTOCOL, 1]) {
    try {
      return { version, plaintext: new Uint8Array(await subtle.decrypt(gcm(iv, s, r, version), keys.enc, ct)) };
    } catch {
      // the other version's AAD, or a ciphertext that decrypts under neither
    }
  }
  throw new E2EEError('decrypt', 'the ciphertext does not decrypt');
}

export const encodeText = (text) => te.encode(text);

export function decodeText(bytes) {
  try {
    return td.decode(bytes);
  } catch {
    throw new E2EEError('utf8', 'the text is not UTF-8');
  }
}

// --- the version 2 frame ------------------------------------------------------------

const isCount = (n) => Number.isSafeInteger(n) && n >= 0;
const isPosition = (p) => Array.isArray(p) && p.length === 2 && isCount(p[0]) && isCount(p[1]);

function checkJwk(j) {
  return !!j && typeof j === 'object' && j.kty === 'EC' && j.crv === CURVE &&
    typeof j.x === 'string' && typeof j.y === 'string' && Object.keys(j).length === 4;
}

// The body checks by kind: a frame whose body is not its kind's is refused.
const BODY = {
  text: (b) => typeof b === 'string',
  ecdh: (b) => !!b && typeof b === 'object' && Number.isSafeInteger(b.key_id) && b.key_id > 0 && checkJwk(b.jwk) &&
    Object.keys(b).length === 2,
  rekey: (b) => !!b && typeof b === 'object' && Number.isSafeInteger(b.to) && b.to > 1 && Object.keys(b).length === 1,
  receipt: (b) => !!b && typeof b === 'object' && isPosition(b.read) && Object.keys(b).length === 1,
};

// The plaintext of a version 2 message. time: ms since 1970 on the sender's
// clock; seen: [epoch, counter] (see the top of this file).
export function encodeFrame(kind, time, seen, body) {
  if (!KINDS.includes(kind) || !isCount(time) || !isPosition(seen) || !BODY[kind](body)) {
    throw new E2EEError('frame', `not a valid ${kind} frame`);
  }
  if (kind === 'ecdh') body = { key_id: body.key_id, jwk: { kty: 'EC', crv: CURVE, x: body.jwk.x, y: body.jwk.y } };
  return te.encode(JSON.stringify({ v: PROTOCOL, kind, time, seen, body }));
}

// The frame of a version 2 plaintext, every field checked: {kind, time, seen, body}.
export function decodeFrame(bytes) {
  let f;
  try {
    f = JSON.parse(td.decode(bytes));
  } catch {
    throw new E2EEError('frame', 'the sealed frame is not JSON');
  }
  if (!f || typeof f !== 'object' || Array.isArray(f) || f.v !== PROTOCOL || Object.keys(f).length !== 5 ||
      !KINDS.includes(f.kind) || !isCount(f.time) || !isPosition(f.seen) || !BODY[f.kind](f.body)) {
    throw new E2EEError('frame', 'the sealed frame is malformed');
  }
  return { kind: f.kind, time: f.time, seen: f.seen, body: f.body };
}

// --- version 1 plaintexts (stored history) --------------------------------------------

// The plaintext of a version 1 "ecdh" announcement (vectors only).
export const encodeAnnouncement = (keyId, jwk) =>
  te.encode(JSON.stringify({ key_id: keyId, jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } }));

export function decodeAnnouncement(bytes) {
  let a;
  try {
    a = JSON.parse(td.decode(bytes));
  } catch {
    throw new E2EEError('ecdh', 'the key announcement is not JSON');
  }
  if (!a || !Number.isSafeInteger(a.key_id) || !a.jwk || typeof a.jwk.x !== 'string' || typeof a.jwk.y !== 'string') {
    throw new E2EEError('ecdh', 'the key announcement is malformed');
  }
  return a;
}

// --- rekeys ----------------------------------------------------------------------------

// A version 2 rekey from epoch e (oldKeys) to e+1 (newKeys): message number
// `counter` of epoch e, its frame sealed under the old keys, mac under the
// old K_mac and mac2 under the new one, both over iv || ct.
export async function sealRekey(oldKeys, newKeys, s, r, counter, frame) {
  const m = await seal(oldKeys, s, r, counter, frame);
  return { ...m, mac2: await macOf(newKeys, m.iv, m.ct) };
}

// Checks a received rekey's MACs: the old one with open() (the caller), the
// new one here; only a rekey passing both may switch the epoch. A version 1
// rekey ("change" in clear under the previous IV) is checked as it was made.
export async function checkRekeyMac2(newKeys, msg) {
  if (!msg.mac2 || !(await subtle.verify('HMAC', newKeys.mac, msg.mac2, concat(msg.iv, msg.ct)))) {
    throw new E2EEError('mac2', 'the rekey MAC under the new keys is wrong');
  }
}

// Whether a stored rekey is of version 1: its 6 bytes "change" in clear (a
// version 2 ciphertext is at least its 16-byte tag long).
export const isLegacyRekey = (msg) => msg.ct.length === REKEY_PAYLOAD.length;

// A version 1 rekey (vectors only): the IV the last one used, "change" in clear.
export async function sealRekeyV1(oldKeys, newKeys, counter) {
  const iv = ivFor(counter - 1);
  const ct = te.encode(REKEY_PAYLOAD);
  return { iv, ct, mac: await macOf(oldKeys, iv, ct), mac2: await macOf(newKeys, iv, ct) };
}

// Checks a stored version 1 rekey: old MAC, IV and payload, then the new MAC.
export async function openRekeyV1(oldKeys, newKeys, msg) {
  const { iv, ct, mac, counter } = msg;
  if (!(await subtle.verify('HMAC', oldKeys.mac, mac, concat(iv, ct)))) {
    throw new E2EEError('mac', 'the rekey MAC under the current keys is wrong');
  }
  checkCounter(counter);
  if (!equalBytes(iv, ivFor(counter - 1)) || !equalBytes(ct, te.encode(REKEY_PAYLOAD))) {
    throw new E2EEError('rekey', 'the rekey does not hold the last IV and "change"');
  }
  await checkRekeyMac2(newKeys, msg);
}

// --- safety numbers --------------------------------------------------------------

async function safetyHalf(id, jwk) {
  const point = concat(Uint8Array.of(4), unb64u(jwk.x), unb64u(jwk.y));
  const h = new Uint8Array(await subtle.digest('SHA-256', concat(te.encode('CHAT_SAFETY_V1'), u64be(id), point)));
  const groups = [];
  for (let i = 0; i < 30; i += 5) {
    let v = 0;
    for (let k = 0; k < 5; k++) v = v * 256 + h[i + k];
    groups.push(String(v % 100000).padStart(5, '0'));
  }
  return groups;
}

// 60 digits in groups of five, the same on both sides: the half of the
// user with the lower id first. Changes when either key changes.
export async function safetyNumber(idA, jwkA, idB, jwkB) {
  const a = await safetyHalf(idA, jwkA);
  const b = await safetyHalf(idB, jwkB);
  return (idA < idB ? [...a, ...b] : [...b, ...a]).join(' ');
}
