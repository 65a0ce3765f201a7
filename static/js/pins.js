// pins: what the browser of one user knows for sure about identities, as
// the base of the E2EE client (secure.js extends it): its own keys against
// what the directory lists for it, and per friend the user id, the name and
// the public keys by their bytes, each accepted, held, history (moved away
// from by verifying another: opens only what was accepted before) or
// replaced (other bytes under an id, no longer used); which bytes the user
// verified; and a timeline of key events kept across reloads.
//   - A message under a key that is not accepted is refused; the same bytes
//     under a new id are the same key; one id names one key.
//   - A friend's first key is trusted on first use; new bytes are accepted
//     with a warning for an unverified friend and held for a verified one:
//     sending stops until the user compares safety numbers again or chooses
//     to send anyway.
//   - A known name on another account, or an account with another name, is
//     an alarm kept in the pin; nothing is sealed while it stands.
//   - Another key listed for this user, or none of its keys as current, is
//     an alarm; nothing is re-published without the user's word.
import { api } from './api.js';
import * as e2ee from './e2ee.js';
import * as ks from './keystore.js';

const TIMELINE_MAX = 200;
const MAX_PINNED_KEYS = 64;

export const sameBytes = (a, b) => !!a && !!b && a.x === b.x && a.y === b.y;
export const isId = (n) => Number.isSafeInteger(n) && n > 0;
export const retryable = (err) => err.status === 0 || err.status === 429 || err.status >= 500;
const lower = (name) => name.toLowerCase();

// The user trusted jwk as key keyId: other bytes under that id are no longer used.
function trustOnly(pin, keyId, jwk) {
  for (const k of pin.keys) {
    if (k.id === keyId) k.status = sameBytes(k, jwk) ? 'accepted' : 'replaced';
  }
}

export class Pins {
  constructor(me, log) {
    this.me = me;			// {id, username}
    this.log = log;			// (operation, details) → the debug console
    this.identity = null;		// {keyId, privateKey, jwk}
  }

  // --- own identity ------------------------------------------------------------

  // Loads this browser's identity, or makes and publishes one when this
  // browser has none. lost: the server knew a key of ours that this browser
  // no longer holds, so earlier messages cannot be decrypted here. foreign:
  // keys the directory lists for us that this browser did not make (never
  // re-published over without the user's word; see ownKeys).
  async init() {
    let id = await ks.currentIdentity(this.me.id);
    const listed = await this.ownListing();
    if (!id) {
      const fresh = await e2ee.generateIdentity();
      this.log('identity generated', { public_jwk: fresh.jwk, private_key: 'non-extractable CryptoKey' });
      const r = await api('PUT', '/api/keys', { jwk: fresh.jwk });
      await ks.saveIdentity(this.me.id, r.key_id, fresh.privateKey, fresh.jwk);
      this.log('identity published', { key_id: r.key_id });
      this.identity = { keyId: r.key_id, privateKey: fresh.privateKey, jwk: fresh.jwk };
      await ks.setState('own:since', r.key_id);
      return { lost: listed.length > 0, foreign: [] };
    }
    this.identity = id;
    return { lost: false, foreign: await this.ownKeys(listed) };
  }

  async ownListing() {
    const hist = await api('GET', `/api/keys/${encodeURIComponent(this.me.username)}/history`);
    if (!hist.user || hist.user.user_id !== this.me.id) throw new Error('the server answered with another user\'s keys');
    return hist.keys;
  }

  // What the directory lists for this user that this browser did not make:
  // [{key_id, fingerprint, current, missing}]. current: it is the one the
  // directory hands out now; missing: the directory lists none of ours as
  // current. Keys older than this browser's first are another browser's
  // history (e.g. before its storage was cleared); ones the user said were
  // theirs (acknowledgeOwnKeys) are not asked about again.
  async ownKeys(listed = null) {
    listed ||= await this.ownListing();
    const mine = await ks.identities(this.me.id);
    const since = (await ks.getState('own:since')) ?? Math.min(...mine.map((i) => i.keyId));
    const acked = (await ks.getState('own:acknowledged')) || [];
    const republished = (await ks.getState('own:republished')) || 0;
    const out = [];
    listed.forEach((k, i) => {
      if (i > 0 && k.key_id < republished) return;
      const made = mine.some((m) => sameBytes(m.jwk, k.jwk));
      const sameIdOtherBytes = mine.some((m) => m.keyId === k.key_id && !sameBytes(m.jwk, k.jwk));
      if (made || (!sameIdOtherBytes && k.key_id < since) || acked.some((a) => sameBytes(a, k.jwk))) return;
      out.push({ key_id: k.key_id, jwk: k.jwk, current: i === 0 });
    });
    if (!listed.length || !mine.some((m) => sameBytes(m.jwk, listed[0].jwk)) && !acked.some((a) => sameBytes(a, listed[0].jwk))) {
      if (!out.some((k) => k.current)) out.push({ key_id: listed[0]?.key_id ?? null, jwk: null, current: true, missing: true });
    }
    for (const k of out) if (k.jwk) k.fingerprint = await this.keyFingerprint(k.jwk);
    return out;
  }

  // The user's answer to the own-key alarm: "that was me, in another browser".
  async acknowledgeOwnKeys(keys) {
    await ks.updateState('own:acknowledged', (old) => [...(old || []), ...keys.filter((k) => k.jwk).map((k) => k.jwk)]);
  }

  // The user's other answer: make this browser's key the current one again.
  async republish() {
    const r = await api('PUT', '/api/keys', { jwk: this.identity.jwk });
    await ks.saveIdentity(this.me.id, r.key_id, this.identity.privateKey, this.identity.jwk);
    this.identity = { ...this.identity, keyId: r.key_id };
    // Foreign keys listed before this one are no longer current: they are
    // said again only if the directory hands one out as current.
    const listed = await this.ownListing();
    if (listed[0] && listed[0].key_id === r.key_id && sameBytes(listed[0].jwk, this.identity.jwk)) {
      await ks.setState('own:republished', r.key_id);
    }
    this.log('identity published again', { key_id: r.key_id });
  }

  async keyFingerprint(jwk) {
    return e2ee.fingerprint(e2ee.concat(e2ee.unb64u(jwk.x), e2ee.unb64u(jwk.y)));
  }

  // --- pins ----------------------------------------------------------------------

  // The pin of a peer: {peerId, username, keys: [{id, x, y, status}], verified}.
  // A browser of version 1 kept keys by id and verification by id: they are
  // taken over as accepted, since this browser believed them before.
  async pin(peer) {
    let p = await ks.getState(`pin:${peer.id}`);
    if (!p) {
      // Version 1 fetched any key a message row named before checking
      // the message, so only its current and verified keys are taken as
      // accepted; the rest are held (the same bytes still match).
      const legacy = await ks.peerKeys(peer.id);
      const current = await ks.getState(`peerKey:${peer.id}`);
      const v = await ks.getState(`verified:${peer.id}`);
      p = { peerId: peer.id, username: null, verified: null, alarm: null,
        keys: legacy.map((k) => ({ id: k.keyId, x: k.jwk.x, y: k.jwk.y,
          status: k.keyId === current || (v && k.keyId === v.keyId) ? 'accepted' : 'held' })) };
      const vk = v && legacy.find((k) => k.keyId === v.keyId);
      if (vk) p.verified = { x: vk.jwk.x, y: vk.jwk.y };
    }
    return p;
  }

  async savePin(p) {
    // A bound on what a server can make this browser keep: fabricated key
    // ids are held entries, and the oldest held ones go first.
    while (p.keys.length > MAX_PINNED_KEYS) {
      const i = p.keys.findIndex((k) => k.status === 'held');
      if (i < 0) break;
      p.keys.splice(i, 1);
    }
    await ks.setState(`pin:${p.peerId}`, p);
  }

  // Name ↔ user id, pinned together at first sight. Returns null, or an
  // alarm: the name now belongs to another account than the one this
  // browser knew, or the account now carries another name.
  async identityCheck(peer) {
    if (!/^[A-Za-z0-9_]{3,32}$/.test(peer.username) || !isId(peer.id)) {
      return { code: 'name', text: '⚠ The server names this friend in a way no account can be named: do not trust this conversation.' };
    }
    const owner = await ks.getState(`name:${lower(peer.username)}`);
    const p = await this.pin(peer);
    if (owner !== undefined && owner !== peer.id) {
      if (!p.alarm) {
        p.alarm = 'name';
        await this.savePin(p);
      }
      return { code: 'name', text: `⚠ The name ${peer.username} now belongs to a different account than the ${peer.username} you talked to before. Someone may be posing as them: do not trust this conversation until you have checked with them in person.` };
    }
    if (p.username && p.username !== peer.username) {
      if (!p.alarm) {
        p.alarm = 'renamed';
        await this.savePin(p);
      }
      return { code: 'renamed', text: `⚠ The account you knew as ${p.username} is now called ${peer.username}. Names cannot change here: the server may be misleading you.` };
    }
    if (owner === undefined) await ks.setState(`name:${lower(peer.username)}`, peer.id);
    if (!p.username) {
      p.username = peer.username;
      await this.savePin(p);
    }
    return null;
  }

  // The user chose to go on with the account that now has this name.
  async acceptIdentity(peer) {
    await ks.setState(`name:${lower(peer.username)}`, peer.id);
    const p = await this.pin(peer);
    p.username = peer.username;
    p.verified = null;
    p.alarm = null;
    await this.savePin(p);
    await this.note(peer, 'alarm', `You chose to trust the account now called ${peer.username}.`, `identity:${peer.id}`);
  }

  // The peer's current key from the directory, held against the pin:
  // {keyId, jwk, status, blocked, verified}. status: none (no key yet),
  // first (pinned now, trust on first use), same (pinned bytes, maybe under
  // a new id), changed (new bytes), mismatch (other bytes under an id this
  // browser pinned). New bytes are accepted for an unverified peer with a
  // note in the timeline, and held for a verified one: blocked until the
  // user verifies again or chooses to send anyway (acceptKey).
  async peerKeyState(peer, afterId = 0) {
    const hist = await api('GET', `/api/keys/${encodeURIComponent(peer.username)}/history`);
    if (!hist.user || hist.user.user_id !== peer.id) throw new Error('the server answered with another user\'s keys');
    const p = await this.pin(peer);
    const cur = hist.keys[0];
    if (!cur) return { keyId: null, jwk: null, status: 'none', blocked: false, verified: false };
    const accepted = p.keys.filter((k) => k.status === 'accepted');
    const mismatch = p.keys.some((k) => k.id === cur.key_id && !sameBytes(k, cur.jwk) && k.status !== 'replaced');
    let status;
    if (p.verified && !sameBytes(p.verified, cur.jwk) && accepted.some((k) => sameBytes(k, cur.jwk))) {
      // A key accepted once, before the user verified another: held again.
      for (const k of p.keys) if (sameBytes(k, cur.jwk)) k.status = 'held';
      if (!p.keys.some((k) => k.id === cur.key_id && sameBytes(k, cur.jwk))) {
        p.keys.push({ id: cur.key_id, x: cur.jwk.x, y: cur.jwk.y, status: 'held' });
      }
      status = 'changed';
      await this.note(peer, 'alarm', `⚠ The server hands out ${peer.username}'s earlier key #${cur.key_id} again, not the one you verified. Sending is stopped until you compare safety numbers again or choose to send anyway.`,
        `again:${cur.jwk.x}:${p.verified.x}`, afterId);
    } else if (accepted.some((k) => sameBytes(k, cur.jwk))) {
      status = mismatch ? 'mismatch' : 'same';
      if (!p.keys.some((k) => k.id === cur.key_id && sameBytes(k, cur.jwk))) {
        p.keys.push({ id: cur.key_id, x: cur.jwk.x, y: cur.jwk.y, status: 'accepted' });
      }
      // One id, one key: other bytes this id named before are not used again.
      if (mismatch) {
        trustOnly(p, cur.key_id, cur.jwk);
        await this.note(peer, 'alarm', `⚠ The server now gives other bytes for ${peer.username}'s key #${cur.key_id} than this browser pinned under that id. Compare safety numbers before you trust this chat.`,
          `mismatch:${cur.key_id}:${cur.jwk.x}`, afterId);
      }
    } else if (!p.keys.length) {
      status = 'first';
      p.keys.push({ id: cur.key_id, x: cur.jwk.x, y: cur.jwk.y, status: 'accepted' });
    } else {
      status = mismatch ? 'mismatch' : 'changed';
      const held = !!p.verified;
      const known = p.keys.find((k) => k.id === cur.key_id && sameBytes(k, cur.jwk));
      if (!known) p.keys.push({ id: cur.key_id, x: cur.jwk.x, y: cur.jwk.y, status: held ? 'held' : 'accepted' });
      if (!held) trustOnly(p, cur.key_id, cur.jwk);
      const fp = await this.keyFingerprint(cur.jwk);
      const text = mismatch
        ? `⚠ The server now gives a different key for ${peer.username} under key #${cur.key_id}, which this browser had pinned with other bytes. Someone may be intercepting: compare safety numbers before you trust this chat.`
        : held
          ? `⚠ ${peer.username}'s key changed (#${cur.key_id}, ${fp}) after you verified them. Sending is stopped until you compare safety numbers again or choose to send anyway.`
          : `${peer.username}'s key changed (#${cur.key_id}, ${fp}): a new browser, or their storage was cleared. Compare safety numbers to be sure it is them.`;
      await this.note(peer, mismatch || held ? 'alarm' : 'warn', text, `key:${cur.jwk.x}`, afterId);
    }
    await this.savePin(p);
    const entry = p.keys.find((k) => k.id === cur.key_id && sameBytes(k, cur.jwk));
    const verified = !!p.verified && sameBytes(p.verified, cur.jwk);
    return { keyId: cur.key_id, jwk: cur.jwk, status, blocked: entry.status !== 'accepted', verified };
  }

  // "Send anyway": the held current key becomes accepted, unverified.
  async acceptKey(peer, keyId, jwk) {
    const p = await this.pin(peer);
    trustOnly(p, keyId, jwk);
    p.verified = null;
    await this.savePin(p);
    await this.note(peer, 'alarm', `You chose to send to ${peer.username}'s new key #${keyId} without comparing safety numbers.`, `send-anyway:${jwk.x}`);
  }

  // The pinned bytes of key keyId of peer: {jwk, status}, status accepted
  // (opens anything) or history (a key the user moved away from by verifying
  // another: opens only messages this browser accepted before). A key id
  // the directory has not shown before is fetched: the same bytes as an
  // accepted key are that key; other bytes are held, never trusted from a
  // message alone.
  async pinnedJwk(peer, keyId) {
    const p = await this.pin(peer);
    const usable = (x) => x.id === keyId && (x.status === 'accepted' || x.status === 'history');
    let k = p.keys.find((x) => x.id === keyId && x.status === 'accepted') || p.keys.find(usable);
    if (!k && !p.keys.some((x) => x.id === keyId)) {
      let r;
      try {
        r = await api('GET', `/api/keys/${encodeURIComponent(peer.username)}?id=${keyId}`);
      } catch (err) {
        if (retryable(err)) throw err;	// try again later; the message is not judged yet
        throw new e2ee.E2EEError('unpinned', `it names key #${keyId}, which the server does not give for ${peer.username}`);
      }
      if (!r || r.key_id !== keyId || !r.jwk || typeof r.jwk.x !== 'string' || typeof r.jwk.y !== 'string') {
        throw new e2ee.E2EEError('unpinned', 'the server did not give the key the message names');
      }
      const twin = p.keys.find((x) => x.status === 'accepted' && sameBytes(x, r.jwk));
      k = { id: keyId, x: r.jwk.x, y: r.jwk.y, status: twin ? 'accepted' : 'held' };
      p.keys.push(k);
      await this.savePin(p);
      this.log('peer key fetched', { peer: peer.id, key_id: keyId, fingerprint: await this.keyFingerprint(r.jwk), status: k.status });
      if (!twin) k = null;
    }
    if (!k) {
      throw new e2ee.E2EEError('unpinned', `it was made under key #${keyId}, which is not a key you accepted for ${peer.username}; the server may be posing as them`);
    }
    return { jwk: { kty: 'EC', crv: e2ee.CURVE, x: k.x, y: k.y }, status: k.status };
  }

  // --- verification ------------------------------------------------------------------

  async safetyNumber(peer, peerJwk) {
    return e2ee.safetyNumber(this.me.id, this.identity.jwk, peer.id, peerJwk);
  }

  // Marking verified also accepts the key the user compared.
  async markVerified(peer, keyId, jwk) {
    const p = await this.pin(peer);
    trustOnly(p, keyId, jwk);
    // Every other key the browser accepted before opens only what it already
    // opened: a key the server once slipped in cannot speak for them again.
    for (const k of p.keys) if (k.status === 'accepted' && !sameBytes(k, jwk)) k.status = 'history';
    p.verified = { x: jwk.x, y: jwk.y };
    await this.savePin(p);
    await this.note(peer, 'info', `You verified ${peer.username}'s safety number.`, `verified:${jwk.x}`);
  }

  // --- timeline --------------------------------------------------------------------------

  // A key event of the conversation, kept across reloads (once per key).
  async note(peer, level, text, key, afterId = 0) {
    afterId ||= await this.synced(peer);
    await ks.updateState(`timeline:${peer.id}`, (old) => {
      const list = old || [];
      if (key && list.some((e) => e.key === key)) return list;
      return [...list, { at: Date.now(), afterId, level, text, key }].slice(-TIMELINE_MAX);
    });
  }

  async timeline(peer) {
    return (await ks.getState(`timeline:${peer.id}`)) || [];
  }
}
