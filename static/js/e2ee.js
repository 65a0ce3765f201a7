// e2ee: the end-to-end protocol of design §4, with WebCrypto only and no
// DOM, so the browser and Node's test runner run the same code.
//
// Identity: one ECDH P-384 key pair per user per browser; the private key
// is a non-extractable CryptoKey. For users S and R, Z = ECDH(own private,
// peer public) (48 bytes); for direction S→R at epoch e (salt: e as 8 bytes
// big-endian) HKDF-SHA256 gives K_enc (info "CHAT_KEY_USER<S>to<R>",
// AES-GCM-256) and K_mac (info "CHAT_MAC_USER<S>to<R>", HMAC-SHA256).
// A message with counter c has iv = 4 zero bytes || c (8 bytes big-endian),
// ct = AES-GCM(K_enc, iv, plaintext, aad "CHAT_MSG_USER<S>to<R>") with a
// 128-bit tag, and mac = HMAC(K_mac, iv || ct). A receiver checks, in this
// order: the MAC, then that c is above every counter it accepted for those
// keys and epoch (and the IV is the counter's), then decrypts.
//
// Kinds: "text" (UTF-8 text), "ecdh" (the sender's key announcement: the
// JSON {"key_id", "jwk"} encrypted like a text, so only the holder of the
// private key can make it), "rekey" (the switch to epoch e+1: the IV is
// the last one the sender used, ct is the bytes "change" in clear, mac is
// under the old K_mac and mac2 under the new one; the receiver checks both
// before it switches).

const subtle = globalThis.crypto.subtle;
const te = new TextEncoder();
const td = new TextDecoder('utf-8', { fatal: true });

export const CURVE = 'P-384';
export const REKEY_PAYLOAD = 'change';
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
export const aadFor = (s, r) => `CHAT_MSG_USER${s}to${r}`;

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

// Encrypts plaintext bytes as message number `counter` of direction s → r.
export async function seal(keys, s, r, counter, plaintext) {
  if (!Number.isSafeInteger(counter) || counter < 1 || counter > MAX_COUNTER) {
    throw new E2EEError('counter', 'counters start at 1');
  }
  const iv = ivFor(counter);
  const ct = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv, additionalData: te.encode(aadFor(s, r)),
    tagLength: 128 }, keys.enc, plaintext));
  return { iv, ct, mac: await macOf(keys, iv, ct) };
}

// The checks of a received message, in the design's order. lastCounter is
// the highest counter accepted so far for these keys and epoch (0: none).
export async function open(keys, s, r, msg, lastCounter) {
  const { iv, ct, mac, counter } = msg;
  if (!(await subtle.verify('HMAC', keys.mac, mac, concat(iv, ct)))) {
    throw new E2EEError('mac', 'the MAC is wrong: the message was changed or is not from this sender');
  }
  if (!Number.isSafeInteger(counter) || counter <= lastCounter) {
    throw new E2EEError('replay', `counter ${counter} is not above ${lastCounter}: a replayed or reordered message`);
  }
  if (!equalBytes(iv, ivFor(counter))) {
    throw new E2EEError('iv', 'the IV does not belong to the counter');
  }
  try {
    return new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv, additionalData: te.encode(aadFor(s, r)),
      tagLength: 128 }, keys.enc, ct));
  } catch {
    throw new E2EEError('decrypt', 'the ciphertext does not decrypt');
  }
}

export const encodeText = (text) => te.encode(text);

export function decodeText(bytes) {
  try {
    return td.decode(bytes);
  } catch {
    throw new E2EEError('utf8', 'the text is not UTF-8');
  }
}

// The plaintext of an "ecdh" announcement.
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

// A rekey from epoch e (oldKeys) to e+1 (newKeys): counter is the next one
// of epoch e, the IV the last one used (that of counter - 1).
export async function sealRekey(oldKeys, newKeys, counter) {
  const iv = ivFor(counter - 1);
  const ct = te.encode(REKEY_PAYLOAD);
  return { iv, ct, mac: await macOf(oldKeys, iv, ct), mac2: await macOf(newKeys, iv, ct) };
}

// Checks a received rekey: old MAC, counter, IV and payload, then the MAC
// under the new keys; only a rekey passing all may switch the epoch.
export async function openRekey(oldKeys, newKeys, msg, lastCounter) {
  const { iv, ct, mac, mac2, counter } = msg;
  if (!(await subtle.verify('HMAC', oldKeys.mac, mac, concat(iv, ct)))) {
    throw new E2EEError('mac', 'the rekey MAC under the current keys is wrong');
  }
  if (!Number.isSafeInteger(counter) || counter <= lastCounter) {
    throw new E2EEError('replay', `counter ${counter} is not above ${lastCounter}: a replayed rekey`);
  }
  if (!equalBytes(iv, ivFor(counter - 1)) || !equalBytes(ct, te.encode(REKEY_PAYLOAD))) {
    throw new E2EEError('rekey', 'the rekey does not hold the last IV and "change"');
  }
  if (!mac2 || !(await subtle.verify('HMAC', newKeys.mac, mac2, concat(iv, ct)))) {
    throw new E2EEError('mac2', 'the rekey MAC under the new keys is wrong');
  }
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
