// keystore: what the E2EE client keeps in this browser (IndexedDB), never
// on the server:
//   identities  own key pairs by key id (private key: a non-extractable CryptoKey)
//   peerKeys    every public key of a peer ever seen, by [peer id, key id]
//   counters    highest counter accepted (or sent) per direction, keys and epoch
//   accepted    message id → the counter it was accepted with, so history
//               re-verifies after a reload while a copy under a new id is a replay
//   state       small records: epochs per key pair, verified safety numbers,
//               the last message id processed per conversation, ecdh sent
// Private keys are stored as CryptoKey objects (structured clone): script on
// the page can use them, never read them.

const DB_NAME = 'sealed-e2ee';
const STORES = ['identities', 'peerKeys', 'counters', 'accepted', 'state'];

let dbp = null;

function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function open() {
  if (!dbp) {
    const r = indexedDB.open(DB_NAME, 1);
    r.onupgradeneeded = () => {
      const db = r.result;
      const ids = db.createObjectStore('identities', { keyPath: 'keyId' });
      ids.createIndex('user', 'userId');
      db.createObjectStore('peerKeys', { keyPath: ['peerId', 'keyId'] });
      db.createObjectStore('counters');
      db.createObjectStore('accepted');
      db.createObjectStore('state');
    };
    dbp = req(r);
  }
  return dbp;
}

async function store(name, mode = 'readonly') {
  const db = await open();
  return db.transaction(name, mode).objectStore(name);
}

async function get(name, key) {
  return req((await store(name)).get(key));
}

async function put(name, value, key) {
  return req((await store(name, 'readwrite')).put(value, key));
}

// --- identities ----------------------------------------------------------------

export async function saveIdentity(userId, keyId, privateKey, jwk) {
  await put('identities', { userId, keyId, privateKey, jwk, created: Date.now() });
}

export async function identity(keyId) {
  return get('identities', keyId);
}

// The newest identity of the user in this browser, or undefined.
export async function currentIdentity(userId) {
  const all = await req((await store('identities')).index('user').getAll(userId));
  return all.sort((a, b) => b.keyId - a.keyId)[0];
}

// --- peers' keys ---------------------------------------------------------------

export async function peerKey(peerId, keyId) {
  const r = await get('peerKeys', [peerId, keyId]);
  return r && r.jwk;
}

export async function savePeerKey(peerId, keyId, jwk) {
  await put('peerKeys', { peerId, keyId, jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } });
}

// --- counters and accepted messages ----------------------------------------------

export const dirKey = (s, r, sk, rk, epoch) => `${s}>${r}:${sk}>${rk}:${epoch}`;

export async function counter(key) {
  return (await get('counters', key)) || 0;
}

// Raises the counter of key to c (never lowers it).
export async function raiseCounter(key, c) {
  const s = await store('counters', 'readwrite');
  const cur = (await req(s.get(key))) || 0;
  if (c > cur) await req(s.put(c, key));
}

export async function acceptedCounter(messageId) {
  return get('accepted', messageId);
}

// Records message messageId as accepted with counter c of direction dir and
// raises that direction's counter, in one transaction: a page closed half-way
// must not leave a raised counter without its message (which would then look
// like a replay of itself).
export async function accept(messageId, dir, c) {
  const db = await open();
  const tx = db.transaction(['counters', 'accepted'], 'readwrite');
  const counters = tx.objectStore('counters');
  const cur = counters.get(dir);
  cur.onsuccess = () => {
    if (c > (cur.result || 0)) counters.put(c, dir);
    tx.objectStore('accepted').put({ dir, counter: c }, messageId);
  };
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

// --- small state ----------------------------------------------------------------

export async function getState(key) {
  return get('state', key);
}

export async function setState(key, value) {
  await put('state', value, key);
}

// Every store emptied (the page's "lost keys" case is a browser that did this).
export async function wipe() {
  const db = await open();
  const tx = db.transaction(STORES, 'readwrite');
  for (const s of STORES) tx.objectStore(s).clear();
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
}
