// keystore: what the E2EE client keeps in this browser (IndexedDB), never
// on the server:
//   identities  own key pairs by key id (private key: a non-extractable CryptoKey)
//   peerKeys    every public key of a peer ever seen, by [peer id, key id]
//   counters    highest counter accepted (or sent) per direction, keys and epoch
//   counters    per direction, keys and epoch: the highest counter this
//               browser allocated (sending), and under "rx:" the window of
//               counters received (ledger.js)
//   accepted    message id → {id, dir, counter, peer, kind, ...} it was accepted
//               with; indexed by slot [dir, counter] (a second id for a slot
//               is a replay) and by peer (what a history page must contain)
//   outbox      sealed messages not yet stored by the server, in the order
//               their counters were allocated; posted again, byte for byte,
//               until the server holds them, so no counter is ever skipped
//   state       small records: pins (keys by bytes, names, verification) per
//               peer, pair states (epochs, refreshes), timelines, the last
//               message id processed per conversation, ecdh sent
// Private keys are stored as CryptoKey objects (structured clone): script on
// the page can use them, never read them.

import { admit as admitCounter, windowOf } from './ledger.js';

const DB_NAME = 'sealed-e2ee';
const STORES = ['identities', 'peerKeys', 'counters', 'accepted', 'outbox', 'state'];

let dbp = null;

function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function open() {
  if (!dbp) {
    const r = indexedDB.open(DB_NAME, 3);
    r.onupgradeneeded = (ev) => {
      const db = r.result;
      if (ev.oldVersion < 1) {
        const ids = db.createObjectStore('identities', { keyPath: 'keyId' });
        ids.createIndex('user', 'userId');
        db.createObjectStore('peerKeys', { keyPath: ['peerId', 'keyId'] });
        db.createObjectStore('counters');
        db.createObjectStore('accepted');
        db.createObjectStore('state');
      }
      if (ev.oldVersion < 2) {
        // Version 1 records have dir and counter (so the slot index finds
        // them) but no peer: they are history no page can be checked against.
        const accepted = r.transaction.objectStore('accepted');
        accepted.createIndex('slot', ['dir', 'counter'], { unique: false });
        accepted.createIndex('peer', 'peer', { unique: false });
        db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
      }
      // Version 3 changes no store: it names per-pair state by the pair's
      // tag (secure.js). Raising it closes every tab still running code that
      // counts under key ids (onversionchange below), so no two codes ever
      // allocate one counter under two names.
    };
    // (A tab of an older version that does not let go keeps this one
    // waiting until it is closed: never both at once.)
    dbp = req(r).then((db) => {
      // Another tab that opens a newer version asks this one to let go;
      // this page's code is then out of date and stores nothing more.
      db.onversionchange = () => {
        db.close();
        dbp = Promise.reject(new Error('A newer version of Sealed is open in another tab: reload this page.'));
        dbp.catch(() => {});
      };
      return db;
    });
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

// Every identity of the user this browser made.
export async function identities(userId) {
  return req((await store('identities')).index('user').getAll(userId));
}

// --- peers' keys (version 1; secure.js pins keys by bytes in state) ----------------

// Every key of a peer a version-1 browser kept: [{peerId, keyId, jwk}].
export async function peerKeys(peerId) {
  return req((await store('peerKeys')).getAll(IDBKeyRange.bound([peerId, 0], [peerId, Infinity])));
}

// --- counters, outbox and accepted messages ----------------------------------------

// A direction at an epoch: by the pair's tag (secure.js), and as a
// version-1 browser named it, by raw key ids.
export const tagDir = (s, r, tag, epoch) => `${s}>${r}:${tag}:${epoch}`;
export const dirKey = (s, r, sk, rk, epoch) => `${s}>${r}:${sk}>${rk}:${epoch}`;

// The highest counter used or accepted under a direction's old names: a
// number (version 1, and the sending counters of earlier builds) or a
// window under "rx:" (received, earlier builds).
async function legacyHigh(legacy) {
  let best = 0;
  for (const d of legacy) {
    const v = await get('counters', d);
    if (typeof v === 'number') best = Math.max(best, v);
    const w = await get('counters', `rx:${d}`);
    if (w && Number.isSafeInteger(w.high)) best = Math.max(best, w.high);
  }
  return best;
}

// Runs body(tx, done) in one transaction over names; resolves with what
// body passed to done once the transaction has committed.
async function atomically(names, body) {
  const db = await open();
  const tx = db.transaction(names, 'readwrite');
  let result;
  body(tx, (v) => { result = v; });
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('the transaction was aborted'));
  });
  return result;
}

export async function counter(key) {
  return (await get('counters', key)) || 0;
}

// Allocates the next counter of direction dir and records the message
// sealed with it, so that no two messages, whatever the number of tabs,
// are ever sealed with one key and IV where the server could see both.
// seal(c) makes the outbox entry for counter c. The counter is read, the
// message sealed, and then, in one read-write transaction, the counter is
// raised and the entry stored only if the counter is still the one read
// (compare and set); else the sealed copy, which never left this tab, is
// dropped and sealed again with the next one. A Web Lock around the whole
// keeps tabs from racing in the first place. A direction never used under
// its tag starts above what version 1 used under its old names (legacy),
// which nothing writes any more. Returns {counter, seq}.
export async function allocate(dir, legacy, seal) {
  const run = async () => {
    const base = await legacyHigh(legacy);
    for (let attempt = 0; attempt < 100; attempt++) {
      const c = ((await get('counters', dir)) ?? base) + 1;
      const entry = await seal(c);
      const seq = await atomically(['counters', 'outbox'], (tx, done) => {
        const counters = tx.objectStore('counters');
        const cur = counters.get(dir);
        cur.onsuccess = () => {
          if ((cur.result ?? base) !== c - 1) return done(null);
          counters.put(c, dir);
          const add = tx.objectStore('outbox').add(entry);
          add.onsuccess = () => done(add.result);
        };
      });
      if (seq !== null) return { counter: c, seq };
    }
    throw new Error('no counter could be allocated');
  };
  return globalThis.navigator?.locks ? navigator.locks.request(`sealed-counter:${dir}`, run) : run();
}

// Every sealed message not yet stored by the server, oldest first.
export async function outbox() {
  return req((await store('outbox')).getAll());
}

export async function outboxPut(entry) {
  await req((await store('outbox', 'readwrite')).put(entry));
}

// The message sealed with counter c of direction dir is in the history:
// its outbox entry, if one still waits, is done.
export async function outboxListed(dir, c) {
  await atomically(['outbox'], (tx) => {
    const s = tx.objectStore('outbox');
    const all = s.getAll();
    all.onsuccess = () => {
      for (const e of all.result) if (e.dir === dir && e.counter === c) s.delete(e.seq);
    };
  });
}

export async function outboxDone(seq) {
  await req((await store('outbox', 'readwrite')).delete(seq));
}

// The window of counters received in direction dir (ledger.js); before
// the first message under its tag, what version 1 kept under its old names
// (the highest only).
export async function window(dir, legacy = []) {
  const w = await get('counters', `rx:${dir}`);
  return windowOf(w === undefined ? await legacyHigh(legacy) : w);
}

// Decides, in one transaction, whether message rec.id ({id, dir, counter,
// peer, kind, rx}) is new, a message accepted before (again), or a replay:
// a second message for a slot [dir, counter], or an id that now names
// another slot. A received one also moves its direction's window. legacy:
// the version-1 names of dir (a record made under one is the same slot).
// Returns {verdict: 'new' | 'fill' | 'again' | 'replay', gap, prior}.
export async function admit(rec, legacy = []) {
  const base = rec.rx ? await legacyHigh(legacy) : 0;
  return atomically(['counters', 'accepted'], (tx, done) => {
    const accepted = tx.objectStore('accepted');
    const byId = accepted.get(rec.id);
    byId.onsuccess = () => {
      const prior = byId.result;
      if (prior) {
        const same = (prior.dir === rec.dir || legacy.includes(prior.dir)) && prior.counter === rec.counter &&
          (!prior.kind || prior.kind === rec.kind);
        return done({ verdict: same ? 'again' : 'replay', gap: 0, prior });
      }
      // The slot under its name and every old name of the direction.
      const names = [rec.dir, ...legacy];
      let left = names.length;
      let taken = false;
      for (const name of names) {
        const slot = accepted.index('slot').getKey([name, rec.counter]);
        slot.onsuccess = () => {
          if (slot.result !== undefined) taken = true;
          if (--left === 0) decide();
        };
      }
      const decide = () => {
        if (taken) return done({ verdict: 'replay', gap: 0, prior: null });
        const record = () => accepted.put(rec, rec.id);
        if (!rec.rx) {
          record();
          return done({ verdict: 'new', gap: 0, prior: null });
        }
        const counters = tx.objectStore('counters');
        const w = counters.get(`rx:${rec.dir}`);
        w.onsuccess = () => {
          const r = admitCounter(windowOf(w.result === undefined ? base : w.result), rec.counter);
          if (r.verdict === 'replay') return done({ verdict: 'replay', gap: 0, prior: null });
          counters.put(r.window, `rx:${rec.dir}`);
          record();
          done({ verdict: r.verdict, gap: r.gap, prior: null });
        };
      };
    };
  });
}

// Notes on message id's record where the gap it showed began.
export async function markGap(id, gapFrom) {
  await atomically(['accepted'], (tx) => {
    const s = tx.objectStore('accepted');
    const r = s.get(id);
    r.onsuccess = () => {
      if (r.result) s.put({ ...r.result, gapFrom }, id);
    };
  });
}

// The record message id was accepted with, or undefined.
export async function acceptedRecord(id) {
  return get('accepted', id);
}

// Every message of peer's conversation this browser accepted (version 2 records).
export async function acceptedOf(peerId) {
  return req((await store('accepted')).index('peer').getAll(peerId));
}

// The id of the message accepted in slot [dir, counter], or undefined.
export async function slotId(dir, c) {
  return req((await store('accepted')).index('slot').getKey([dir, c]));
}

// Changes one state record in one transaction: change(old) → new.
export async function updateState(key, change) {
  return atomically(['state'], (tx, done) => {
    const s = tx.objectStore('state');
    const cur = s.get(key);
    cur.onsuccess = () => {
      const next = change(cur.result);
      s.put(next, key);
      done(next);
    };
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
