// secure: the E2EE client of one logged-in user: its identity, the keys of
// its friends, and every message in and out, following design §4 with the
// primitives of e2ee.js and the state of keystore.js. The page (chat.js)
// only ever sees plaintext results or refusals, never keys.
//
// Counters: each direction, key pair and epoch has its own; a sent message
// takes the next one, a received one must be above every counter accepted
// for its direction, keys and epoch. Messages are processed in id order
// (catch-up pages forward from the last processed id), so a history page
// read later re-verifies through the accepted map, while a copy of an old
// message under a new id is refused as a replay.
import { api } from './api.js';
import * as e2ee from './e2ee.js';
import * as ks from './keystore.js';

const ANNOUNCE_FRESH_MS = 60 * 1000;

export class Secure {
  constructor(me, log) {
    this.me = me;			// {id, username}
    this.log = log;			// (operation, details) → the debug console
    this.identity = null;		// {keyId, privateKey, jwk}
    this.secrets = new Map();		// "myKey:peerKey" → Z
    this.dirKeys = new Map();		// dirKey → {enc, mac, fingerprints}
  }

  // Loads this browser's identity, or makes and publishes one. lost: the
  // server knew a key of ours that this browser no longer holds, so earlier
  // messages cannot be decrypted here.
  async init() {
    let id = await ks.currentIdentity(this.me.id);
    // The history, not the current key: it answers 200 when there is none yet.
    const hist = await api('GET', `/api/keys/${encodeURIComponent(this.me.username)}/history`);
    const server = hist.keys[0] || null;
    const lost = !id && server !== null;
    if (!id || !server || server.key_id !== id.keyId) {
      if (!id) {
        const fresh = await e2ee.generateIdentity();
        this.log('identity generated', { public_jwk: fresh.jwk, private_key: 'non-extractable CryptoKey' });
        id = { privateKey: fresh.privateKey, jwk: fresh.jwk };
      }
      const r = await api('PUT', '/api/keys', { jwk: id.jwk });
      id.keyId = r.key_id;
      await ks.saveIdentity(this.me.id, r.key_id, id.privateKey, id.jwk);
      this.log('identity published', { key_id: r.key_id });
    }
    this.identity = id;
    return { lost, keyId: id.keyId };
  }

  // A peer's public key by id: from this browser's store, else from the
  // server's directory (then kept).
  async peerKey(peer, keyId) {
    let jwk = await ks.peerKey(peer.id, keyId);
    if (!jwk) {
      const r = await api('GET', `/api/keys/${encodeURIComponent(peer.username)}?id=${keyId}`);
      jwk = r.jwk;
      await ks.savePeerKey(peer.id, keyId, jwk);
      this.log('peer key fetched', { peer: peer.id, key_id: keyId, fingerprint: await this.keyFingerprint(jwk) });
    }
    return jwk;
  }

  async keyFingerprint(jwk) {
    return e2ee.fingerprint(e2ee.concat(e2ee.unb64u(jwk.x), e2ee.unb64u(jwk.y)));
  }

  // The peer's current key from the directory, held against what this
  // browser saw before: changed (another key id than last time) and
  // mismatch (the directory now serves other bytes under a known id).
  async currentPeerKey(peer) {
    const hist = await api('GET', `/api/keys/${encodeURIComponent(peer.username)}/history`);
    const cur = hist.keys[0];
    if (!cur) return null;
    const r = { key_id: cur.key_id, jwk: cur.jwk };
    const known = await ks.peerKey(peer.id, r.key_id);
    const mismatch = !!known && (known.x !== r.jwk.x || known.y !== r.jwk.y);
    if (!known) await ks.savePeerKey(peer.id, r.key_id, r.jwk);
    const last = await ks.getState(`peerKey:${peer.id}`);
    const changed = last !== undefined && last !== r.key_id;
    await ks.setState(`peerKey:${peer.id}`, r.key_id);
    if (changed || mismatch) {
      const v = await ks.getState(`verified:${peer.id}`);
      if (v) await ks.setState(`verified:${peer.id}`, null);
    }
    return { keyId: r.key_id, jwk: r.jwk, changed, mismatch, seenJwk: known || r.jwk };
  }

  async secret(myKeyId, peer, peerKeyId) {
    const k = `${myKeyId}:${peer.id}:${peerKeyId}`;
    if (!this.secrets.has(k)) {
      const mine = myKeyId === this.identity.keyId ? this.identity : await ks.identity(myKeyId);
      if (!mine) throw new e2ee.E2EEError('lost', 'this browser no longer has the key this message was made for');
      const pub = await e2ee.importPublic(await this.peerKey(peer, peerKeyId));
      const z = await e2ee.sharedSecret(mine.privateKey, pub);
      this.log('shared secret derived', { my_key_id: myKeyId, peer_key_id: peerKeyId, fingerprint: await e2ee.fingerprint(z) });
      this.secrets.set(k, z);
    }
    return this.secrets.get(k);
  }

  // The keys of direction s → r for a key pair and epoch (cached).
  async keys(s, r, myKeyId, peer, peerKeyId, epoch) {
    const sk = s === this.me.id ? myKeyId : peerKeyId;
    const rk = s === this.me.id ? peerKeyId : myKeyId;
    const dk = ks.dirKey(s, r, sk, rk, epoch);
    if (!this.dirKeys.has(dk)) {
      const keys = await e2ee.directionKeys(await this.secret(myKeyId, peer, peerKeyId), s, r, epoch);
      this.log('direction keys derived', { direction: `${s}→${r}`, keys: `${sk}/${rk}`, epoch,
        info_enc: e2ee.infoKey(s, r), info_mac: e2ee.infoMac(s, r),
        enc_fingerprint: keys.encFingerprint, mac_fingerprint: keys.macFingerprint });
      this.dirKeys.set(dk, keys);
    }
    return { keys: this.dirKeys.get(dk), dk };
  }

  pairState(peer, myKeyId, peerKeyId) {
    return `epoch:${peer.id}:${myKeyId}:${peerKeyId}`;
  }

  async epoch(peer, myKeyId, peerKeyId) {
    return (await ks.getState(this.pairState(peer, myKeyId, peerKeyId))) || 1;
  }

  // --- receiving ----------------------------------------------------------------

  // Checks and opens one message of the conversation with peer. Returns
  // {ok: true, kind, text | announce | rekeyTo} or {ok: false, code, reason}.
  async process(m, peer) {
    const mine = m.sender_id === this.me.id;
    const myKeyId = mine ? m.sender_key_id : m.recipient_key_id;
    const peerKeyId = mine ? m.recipient_key_id : m.sender_key_id;
    try {
      const { keys, dk } = await this.keys(m.sender_id, m.recipient_id, myKeyId, peer, peerKeyId, m.epoch);
      const seen = await ks.acceptedCounter(m.id);
      const msg = { iv: e2ee.unb64u(m.iv), ct: e2ee.unb64u(m.ciphertext), mac: e2ee.unb64u(m.mac), counter: m.counter };
      // A message accepted before is checked again from just below its counter.
      const last = seen && seen.dir === dk && seen.counter === m.counter ? m.counter - 1 : await ks.counter(dk);
      const known = await this.epoch(peer, myKeyId, peerKeyId);
      if (m.epoch > known && m.kind !== 'rekey') {
        throw new e2ee.E2EEError('epoch', `epoch ${m.epoch} was never announced by a rekey`);
      }
      let result;
      if (m.kind === 'rekey') {
        msg.mac2 = m.mac2 ? e2ee.unb64u(m.mac2) : undefined;
        const next = await this.keys(m.sender_id, m.recipient_id, myKeyId, peer, peerKeyId, m.epoch + 1);
        await e2ee.openRekey(keys, next.keys, msg, last);
        if (m.epoch + 1 > known) await ks.setState(this.pairState(peer, myKeyId, peerKeyId), m.epoch + 1);
        result = { ok: true, kind: 'rekey', rekeyTo: m.epoch + 1 };
      } else {
        const pt = await e2ee.open(keys, m.sender_id, m.recipient_id, msg, last);
        if (m.kind === 'ecdh') {
          const a = e2ee.decodeAnnouncement(pt);
          const announced = mine ? this.identity.jwk : await this.peerKey(peer, peerKeyId);
          if (a.key_id !== (mine ? myKeyId : peerKeyId) || a.jwk.x !== announced.x || a.jwk.y !== announced.y) {
            throw new e2ee.E2EEError('ecdh', 'the key announcement does not match the key it was made with');
          }
          result = { ok: true, kind: 'ecdh', announce: a };
        } else {
          result = { ok: true, kind: 'text', text: e2ee.decodeText(pt) };
        }
      }
      this.log('message accepted', { id: m.id, kind: m.kind, direction: `${m.sender_id}→${m.recipient_id}`,
        keys: `${m.sender_key_id}/${m.recipient_key_id}`, epoch: m.epoch, counter: m.counter, iv: m.iv,
        ciphertext: m.ciphertext, plaintext: result.text ?? result.announce ?? 'change' });
      await ks.accept(m.id, dk, m.counter);
      return result;
    } catch (err) {
      if (!(err instanceof e2ee.E2EEError)) throw err;
      this.log('message refused', { id: m.id, check: err.code, reason: err.message, counter: m.counter, iv: m.iv });
      return { ok: false, code: err.code, reason: err.message };
    }
  }

  // Whether an ecdh from the peer asks for ours in answer: it is fresh and
  // was made for a key of ours that is not our current one.
  needsAnswer(m) {
    return m.kind === 'ecdh' && m.sender_id !== this.me.id && m.recipient_key_id !== this.identity.keyId &&
      Date.now() - Date.parse(m.created_at) < ANNOUNCE_FRESH_MS;
  }

  // --- sending ----------------------------------------------------------------------

  // Posts one sealed message under the current keys; retries a counter the
  // server already holds (another tab of ours took it) with the next one.
  async post(peer, peerKeyId, kind, make) {
    const myKeyId = this.identity.keyId;
    const epoch = await this.epoch(peer, myKeyId, peerKeyId);
    const { keys, dk } = await this.keys(this.me.id, peer.id, myKeyId, peer, peerKeyId, epoch);
    for (let attempt = 0; attempt < 5; attempt++) {
      const c = (await ks.counter(dk)) + 1;
      const sealed = await make(keys, c, epoch);
      const body = { to: peer.username, kind, sender_key_id: myKeyId, recipient_key_id: peerKeyId, epoch,
        counter: c, iv: e2ee.b64u(sealed.iv), ciphertext: e2ee.b64u(sealed.ct), mac: e2ee.b64u(sealed.mac) };
      if (sealed.mac2) body.mac2 = e2ee.b64u(sealed.mac2);
      await ks.raiseCounter(dk, c);		// never reuse a counter, even if the post fails
      try {
        const r = await api('POST', '/api/messages', body);
        await ks.accept(r.id, dk, c);
        this.log('message sent', { id: r.id, kind, direction: `${this.me.id}→${peer.id}`, keys: `${myKeyId}/${peerKeyId}`,
          epoch, counter: c, iv: body.iv, ciphertext: body.ciphertext, mac: body.mac });
        return { id: r.id, created_at: r.created_at, epoch, counter: c };
      } catch (err) {
        if (err.code !== 'replay') throw err;
      }
    }
    throw new Error('could not find a free counter');
  }

  async sendText(peer, peerKeyId, text) {
    await this.announceOnce(peer, peerKeyId);
    return this.post(peer, peerKeyId, 'text', (keys, c) => e2ee.seal(keys, this.me.id, peer.id, c, e2ee.encodeText(text)));
  }

  async sendAnnouncement(peer, peerKeyId) {
    const id = this.identity;
    const r = await this.post(peer, peerKeyId, 'ecdh',
      (keys, c) => e2ee.seal(keys, this.me.id, peer.id, c, e2ee.encodeAnnouncement(id.keyId, id.jwk)));
    await ks.setState(`ecdh:${peer.id}:${id.keyId}:${peerKeyId}`, r.id);
    return r;
  }

  // An ecdh first, when none was sent for this key pair yet.
  async announceOnce(peer, peerKeyId) {
    if (!(await ks.getState(`ecdh:${peer.id}:${this.identity.keyId}:${peerKeyId}`))) {
      await this.sendAnnouncement(peer, peerKeyId);
    }
  }

  // The Refresh button: epoch e → e + 1, announced by a rekey under both.
  async rekey(peer, peerKeyId) {
    await this.announceOnce(peer, peerKeyId);
    const myKeyId = this.identity.keyId;
    const epoch = await this.epoch(peer, myKeyId, peerKeyId);
    const next = await this.keys(this.me.id, peer.id, myKeyId, peer, peerKeyId, epoch + 1);
    const r = await this.post(peer, peerKeyId, 'rekey', (keys, c) => e2ee.sealRekey(keys, next.keys, c));
    await ks.setState(this.pairState(peer, myKeyId, peerKeyId), epoch + 1);
    this.log('epoch changed', { peer: peer.id, from: epoch, to: epoch + 1 });
    return r;
  }

  // --- verification --------------------------------------------------------------------

  async safetyNumber(peer, peerJwk) {
    return e2ee.safetyNumber(this.me.id, this.identity.jwk, peer.id, peerJwk);
  }

  async verified(peer) {
    return ks.getState(`verified:${peer.id}`);
  }

  async markVerified(peer, keyId, number) {
    await ks.setState(`verified:${peer.id}`, { keyId, myKeyId: this.identity.keyId, number });
  }

  // Conversation sync point: the last message id processed in order.
  async synced(peer) {
    return (await ks.getState(`synced:${peer.id}`)) || 0;
  }

  async setSynced(peer, id) {
    await ks.setState(`synced:${peer.id}`, id);
  }
}
