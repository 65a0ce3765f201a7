// secure: the E2EE client of one logged-in user: on top of what it pinned
// (pins.js), every message in and out, following design §4
// (version 2, see e2ee.js) with the state of keystore.js and the
// bookkeeping of ledger.js. The page (chat.js) sees plaintext results or
// refusals, never keys.
//
// The server is the adversary (README, "Threat model"). What it says is
// believed only against what this browser pinned or what arrived sealed:
//   pins      per peer: the user id, the name, and the public keys by their
//             bytes, each accepted or held; which bytes the user verified.
//             A message under a key that is not accepted is refused; the
//             same bytes under a new id are the same key; new bytes for a
//             verified peer are held, and sending stops until the user
//             compares safety numbers again or chooses to send anyway.
//   names     name → user id: a known name on another account is an alarm.
//   own keys  the directory's keys for this user against those this
//             browser made: another one is an alarm, never re-published over.
//   pairs     per key pair: the epoch, a refresh pending until the peer's
//             first message under it, the peer's sealed delivered and read
//             positions, and how far this browser has told the peer.
//   timeline  per peer: key changes and alarms, kept across reloads.
// Counters are allocated atomically and sealed messages wait in the outbox
// until the server holds them (keystore.allocate), so every direction's
// counters are contiguous and a gap is the server's doing.
import { api } from './api.js';
import * as e2ee from './e2ee.js';
import * as ks from './keystore.js';
import * as ledger from './ledger.js';
import { Pins, isId, retryable, sameBytes } from './pins.js';

// A message row has the shape the API promises, or is refused before use.
function validRow(m) {
  return !!m && typeof m === 'object' && isId(m.id) && isId(m.sender_id) && isId(m.recipient_id) &&
    isId(m.sender_key_id) && isId(m.recipient_key_id) && isId(m.epoch) && isId(m.counter) &&
    typeof m.kind === 'string' && typeof m.iv === 'string' && typeof m.ciphertext === 'string' &&
    typeof m.mac === 'string' && (m.mac2 === undefined || typeof m.mac2 === 'string') && typeof m.created_at === 'string';
}

export class Secure extends Pins {
  constructor(me, log) {
    super(me, log);
    this.secrets = new Map();		// "myKey:peer:peerKey:x" → {z, tag} (x: the pinned bytes used)
    this.dirKeys = new Map();		// direction (by tag) → {enc, mac, fingerprints}
    this.pairs = new Map();		// pair state key → the last pair state read or written
    this.opened = new Map();		// outbox seq → what it holds, for the screen
  }

  // Key ids name keys, but the keys derive from bytes: the same public key
  // listed under two ids (a re-publish, or the server's doing), or a point
  // and its mirror (x, −y), give the same Z. So every counter, window,
  // epoch and slot is kept under the pair's tag, the first 16 bytes of
  // SHA-256(Z) in hex, never under ids the server chooses: nothing starts
  // again at 1 under a key and IV already used, whatever ids are listed.
  // (A version-1 browser kept them under the raw ids: those are read as
  // where each record starts, see legacyDirs.)

  // --- keys ------------------------------------------------------------------------------

  async secret(myKeyId, peer, peerKeyId) {
    const mine = myKeyId === this.identity.keyId ? this.identity : await ks.identity(myKeyId);
    if (!mine || mine.userId !== undefined && mine.userId !== this.me.id) {
      throw new e2ee.E2EEError('lost', 'this browser no longer has the key this message was made for');
    }
    // Asked every time, not only when Z is derived: a key the user stops
    // trusting must stop opening messages at once.
    const { jwk } = await this.pinnedJwk(peer, peerKeyId);
    const k = `${myKeyId}:${peer.id}:${peerKeyId}:${jwk.x}`;
    if (!this.secrets.has(k)) {
      const z = await e2ee.sharedSecret(mine.privateKey, await e2ee.importPublic(jwk));
      const tag = e2ee.hex(new Uint8Array(await crypto.subtle.digest('SHA-256', e2ee.concat(new TextEncoder().encode('CHAT_PAIR_TAG'), z))).slice(0, 16));
      this.log('shared secret derived', { my_key_id: myKeyId, peer_key_id: peerKeyId, fingerprint: await e2ee.fingerprint(z), tag });
      this.secrets.set(k, { z, tag });
    }
    return this.secrets.get(k);
  }

  // The tag of the key pair (myKeyId, peerKeyId): see the top of the class.
  async tagOf(peer, myKeyId, peerKeyId) {
    await this.ownAlias(myKeyId);
    return (await this.secret(myKeyId, peer, peerKeyId)).tag;
  }

  // The keys of direction s → r for a key pair and epoch (cached): {keys,
  // dk (the direction by tag), tag, legacy (version-1 names of it)}.
  async keys(s, r, myKeyId, peer, peerKeyId, epoch) {
    await this.ownAlias(myKeyId);
    const { z, tag } = await this.secret(myKeyId, peer, peerKeyId);
    const dk = ks.tagDir(s, r, tag, epoch);
    if (!this.dirKeys.has(dk)) {
      const keys = await e2ee.directionKeys(z, s, r, epoch);
      this.log('direction keys derived', { direction: `${s}→${r}`, keys: `${myKeyId}/${peerKeyId}`, tag, epoch,
        info_enc: e2ee.infoKey(s, r), info_mac: e2ee.infoMac(s, r),
        enc_fingerprint: keys.encFingerprint, mac_fingerprint: keys.macFingerprint });
      this.dirKeys.set(dk, keys);
    }
    return { keys: this.dirKeys.get(dk), dk, tag, legacy: await this.legacyDirs(s, r, peer, myKeyId, peerKeyId, epoch) };
  }

  // Every id pair naming the same keys as (myKeyId, peerKeyId), by x on
  // each side: {mine, theirs}.
  async aliasIds(peer, myKeyId, peerKeyId) {
    const own = await ks.identities(this.me.id);
    const me = own.find((i) => i.keyId === myKeyId);
    const p = await this.pin(peer);
    const them = p.keys.find((k) => k.id === peerKeyId);
    return {
      mine: me ? own.filter((i) => i.jwk.x === me.jwk.x).map((i) => i.keyId) : [myKeyId],
      theirs: them ? [...new Set(p.keys.filter((k) => k.x === them.x).map((k) => k.id))] : [peerKeyId],
    };
  }

  // The version-1 names of direction s → r at epoch (raw ids, every alias).
  async legacyDirs(s, r, peer, myKeyId, peerKeyId, epoch) {
    const { mine, theirs } = await this.aliasIds(peer, myKeyId, peerKeyId);
    return mine.flatMap((m) => theirs.map((t) => (s === this.me.id ? ks.dirKey(s, r, m, t, epoch) : ks.dirKey(s, r, t, m, epoch))));
  }

  // A key id of ours this browser does not know: the directory's bytes for
  // it, if they are one of this browser's keys, make it an alias (the same
  // key listed again, by us elsewhere or by the server); otherwise it is
  // another browser's, and messages made for it cannot be opened here.
  async ownAlias(keyId) {
    if (await ks.identity(keyId)) return;
    let r;
    try {
      r = await api('GET', `/api/keys/${encodeURIComponent(this.me.username)}?id=${keyId}`);
    } catch (err) {
      if (retryable(err)) throw err;
      return;
    }
    const mine = r && r.key_id === keyId && r.jwk && (await ks.identities(this.me.id)).find((i) => sameBytes(i.jwk, r.jwk));
    if (!mine) return;
    await ks.saveIdentity(this.me.id, keyId, mine.privateKey, mine.jwk);
    this.log('own key listed again', { key_id: keyId, same_as: mine.keyId });
  }

  // --- pair state ---------------------------------------------------------------------------

  // {epoch, since, sent, pending, peerEpoch, rxEpochs, delivered, read, told}
  // (version 1 kept only the epoch, under "epoch:…" by raw ids).
  async pair(peer, myKeyId, peerKeyId) {
    const key = `pair:${peer.id}:${await this.tagOf(peer, myKeyId, peerKeyId)}`;
    let p = await ks.getState(key);
    if (!p) {
      const { mine, theirs } = await this.aliasIds(peer, myKeyId, peerKeyId);
      let legacy = 1;
      let earlier = null;	// a record an earlier build kept under ids
      for (const m of mine) {
        for (const t of theirs) {
          legacy = Math.max(legacy, (await ks.getState(`epoch:${peer.id}:${m}:${t}`)) || 1);
          const old = await ks.getState(`pair:${peer.id}:${m}:${t}`);
          if (old && Number.isSafeInteger(old.epoch) && (!earlier || old.epoch > earlier.epoch)) earlier = old;
        }
      }
      if (earlier && earlier.epoch >= legacy) {
        this.pairs.set(key, earlier);
        return earlier;
      }
      p = { epoch: legacy, since: 0, sent: 0, pending: null, peerEpoch: 0, rxEpochs: [], delivered: null, read: null,
        told: { delivered: null, read: null } };
    }
    this.pairs.set(key, p);
    return p;
  }

  async updatePair(peer, myKeyId, peerKeyId, change) {
    const key = `pair:${peer.id}:${await this.tagOf(peer, myKeyId, peerKeyId)}`;
    const base = await this.pair(peer, myKeyId, peerKeyId);
    const next = await ks.updateState(key, (old) => change(structuredClone(old || base)));
    this.pairs.set(key, next);
    return next;
  }

  // The pair state as last seen, without I/O (for drawing statuses), by tag.
  cachedPair(peer, tag) {
    return this.pairs.get(`pair:${peer.id}:${tag}`);
  }

  // The highest contiguous position received from the peer under a key
  // pair: epochs in order, stopping at the first with a gap.
  async received(peer, myKeyId, peerKeyId, p = null) {
    p ||= await this.pair(peer, myKeyId, peerKeyId);
    const tag = await this.tagOf(peer, myKeyId, peerKeyId);
    let pos = [p.epoch, 0];
    for (const e of [...p.rxEpochs].sort((a, b) => a - b)) {
      const w = await ks.window(ks.tagDir(peer.id, this.me.id, tag, e),
        await this.legacyDirs(peer.id, this.me.id, peer, myKeyId, peerKeyId, e));
      pos = [e, ledger.contiguous(w)];
      if (w.missing.length) break;
    }
    return pos;
  }

  // The state of one of my messages as the peer's browser sealed it (m
  // names the pair's tag its check returned).
  statusOf(peer, m) {
    const p = this.cachedPair(peer, m.tag);
    return p ? ledger.receiptState(m.epoch, m.counter, p.delivered, p.read) : 'sent';
  }

  async pairInfo(peer, peerKeyId) {
    return this.pair(peer, this.identity.keyId, peerKeyId);
  }

  // --- receiving ----------------------------------------------------------------------------

  // Checks and opens one message of the conversation with peer. Returns
  // {ok: true, kind, text | announce | rekeyTo | read, time, legacy, again,
  // gap, slot, answers} or {ok: false, code, reason}. slot names the
  // message ("dir#counter"), answers the slot of the peer's message its
  // sender had seen last, gap how many counters before it are missing.
  async process(m, peer) {
    try {
      return await this.check(m, peer);
    } catch (err) {
      if (err.status !== undefined && retryable(err)) throw err;	// the server is away: judge it later
      // Anything else the row made happen is the row's fault: refused,
      // and the conversation goes on past it.
      const e = err instanceof e2ee.E2EEError ? err : new e2ee.E2EEError('malformed', `the server sent a message this browser cannot read (${err.name})`);
      this.log('message refused', { id: m && m.id, check: e.code, reason: e.message });
      return { ok: false, code: e.code, reason: e.message };
    }
  }

  async check(m, peer) {
    if (!validRow(m)) throw new e2ee.E2EEError('malformed', 'the message row does not have the shape of one');
    const mine = m.sender_id === this.me.id;
    if (!(mine ? m.recipient_id === peer.id : m.sender_id === peer.id && m.recipient_id === this.me.id)) {
      throw new e2ee.E2EEError('address', 'the message is not between you and this friend');
    }
    const myKeyId = mine ? m.sender_key_id : m.recipient_key_id;
    const peerKeyId = mine ? m.recipient_key_id : m.sender_key_id;
    const { keys, dk, tag, legacy: legacyDirs } = await this.keys(m.sender_id, m.recipient_id, myKeyId, peer, peerKeyId, m.epoch);
    const msg = { iv: e2ee.unb64u(m.iv), ct: e2ee.unb64u(m.ciphertext), mac: e2ee.unb64u(m.mac), counter: m.counter,
      mac2: m.mac2 ? e2ee.unb64u(m.mac2) : undefined };
    const pair = await this.pair(peer, myKeyId, peerKeyId);
    if ((await this.pinnedJwk(peer, peerKeyId)).status === 'history' && !(await ks.acceptedRecord(m.id))) {
      throw new e2ee.E2EEError('unpinned', `it is new but made under key #${peerKeyId}, which you moved away from when you verified ${peer.username}`);
    }
    if (m.epoch > pair.epoch && m.kind !== 'rekey') {
      throw new e2ee.E2EEError('epoch', `epoch ${m.epoch} was never announced by a refresh`);
    }

    // The cryptography: MAC, IV, plaintext; for a rekey the MAC under the new keys.
    let frame;
    let legacy = false;
    if (m.kind === 'rekey' && e2ee.isLegacyRekey(msg)) {
      const next = await this.keys(m.sender_id, m.recipient_id, myKeyId, peer, peerKeyId, m.epoch + 1);
      await e2ee.openRekeyV1(keys, next.keys, msg);
      frame = { kind: 'rekey', time: Date.parse(m.created_at), seen: [m.epoch, 0], body: { to: m.epoch + 1 } };
      legacy = true;
    } else {
      const { version, plaintext } = await e2ee.open(keys, m.sender_id, m.recipient_id, msg);
      if (version === 1) {
        legacy = true;
        frame = this.legacyFrame(m, plaintext);
      } else {
        frame = e2ee.decodeFrame(plaintext);
        if (frame.kind !== m.kind) {
          throw new e2ee.E2EEError('kind', `the server lists it as ${m.kind}, but it was sealed as ${frame.kind}`);
        }
      }
      if (frame.kind === 'rekey') {
        if (frame.body.to !== m.epoch + 1) throw new e2ee.E2EEError('rekey', 'the refresh does not lead to the next epoch');
        const next = await this.keys(m.sender_id, m.recipient_id, myKeyId, peer, peerKeyId, m.epoch + 1);
        await e2ee.checkRekeyMac2(next.keys, msg);
      }
      if (frame.kind === 'ecdh') {
        const announced = mine ? (await ks.identity(myKeyId))?.jwk : (await this.pinnedJwk(peer, peerKeyId)).jwk;
        if (frame.body.key_id !== (mine ? myKeyId : peerKeyId) || !sameBytes(frame.body.jwk, announced)) {
          throw new e2ee.E2EEError('ecdh', 'the key announcement does not match the key it was made with');
        }
      }
    }

    // After the peer confirmed a refresh, nothing new under an older epoch.
    if (!mine && m.epoch < pair.peerEpoch) {
      const w = await ks.window(dk, legacyDirs);
      if (m.counter > w.high) {
        throw new e2ee.E2EEError('old-epoch', `it is new but made under epoch ${m.epoch}, after both sides moved to epoch ${pair.peerEpoch}`);
      }
    }

    // The ledger: new, filling a gap, seen before, or a replay.
    const rec = { id: m.id, dir: dk, counter: m.counter, peer: peer.id, kind: frame.kind, rx: !mine,
      epoch: m.epoch, myKeyId, peerKeyId, at: Date.now() };
    const verdict = await ks.admit(rec, legacyDirs);
    if (mine && verdict.verdict !== 'replay') await ks.outboxListed(dk, m.counter);
    if (verdict.verdict === 'replay') {
      throw new e2ee.E2EEError('replay', `counter ${m.counter} of epoch ${m.epoch} was accepted before: a replayed or copied message`);
    }
    let gapFrom = verdict.prior?.gapFrom ?? 0;
    if (verdict.gap > 0) {
      gapFrom = m.counter - verdict.gap;
      await ks.markGap(m.id, gapFrom);
    }

    frame.legacy = legacy;
    await this.afterAccept(m, peer, frame, mine, myKeyId, peerKeyId);
    const result = { ok: true, kind: frame.kind, time: frame.time, legacy, again: verdict.verdict === 'again',
      slot: `${dk}#${m.counter}`, dir: dk, counter: m.counter, gapFrom, tag,
      answers: frame.seen[1] > 0
        ? `${ks.tagDir(m.recipient_id, m.sender_id, tag, frame.seen[0])}#${frame.seen[1]}`
        : null };
    if (frame.kind === 'text') result.text = frame.body;
    if (frame.kind === 'ecdh') result.announce = frame.body;
    if (frame.kind === 'rekey') result.rekeyTo = m.epoch + 1;
    if (frame.kind === 'receipt') result.read = frame.body.read;
    this.log('message accepted', { id: m.id, kind: frame.kind, direction: `${m.sender_id}→${m.recipient_id}`,
      keys: `${m.sender_key_id}/${m.recipient_key_id}`, epoch: m.epoch, counter: m.counter, iv: m.iv,
      ciphertext: m.ciphertext, plaintext: frame.body, sealed_time: frame.time, seen: frame.seen, legacy });
    return result;
  }

  // A version 1 message: raw text, or an announcement; its kind and time
  // are the server's word (shown as legacy).
  legacyFrame(m, plaintext) {
    if (m.kind === 'ecdh') {
      const a = e2ee.decodeAnnouncement(plaintext);
      return { kind: 'ecdh', time: Date.parse(m.created_at), seen: [m.epoch, 0], body: a };
    }
    if (m.kind !== 'text') throw new e2ee.E2EEError('kind', `a version 1 message cannot be a ${m.kind}`);
    return { kind: 'text', time: Date.parse(m.created_at), seen: [m.epoch, 0], body: e2ee.decodeText(plaintext) };
  }

  // What an accepted message changes in its pair: epochs, a refresh
  // confirmed, the peer's delivered and read positions.
  async afterAccept(m, peer, frame, mine, myKeyId, peerKeyId) {
    await this.updatePair(peer, myKeyId, peerKeyId, (p) => {
      if (frame.kind === 'rekey') {
        if (m.epoch + 1 > p.epoch) {
          p.epoch = m.epoch + 1;
          p.since = Date.now();
          p.sent = 0;
        }
        // A refresh the peer made is confirmed by the peer itself.
        if (!mine) p.peerEpoch = Math.max(p.peerEpoch, m.epoch + 1);
      }
      if (!mine) {
        if (!p.rxEpochs.includes(m.epoch)) p.rxEpochs.push(m.epoch);
        p.peerEpoch = Math.max(p.peerEpoch, m.epoch);
        if (p.pending && p.peerEpoch >= p.pending.to) p.pending = null;
        if (!frame.legacy) p.delivered = ledger.later(p.delivered, frame.seen);
        if (frame.kind === 'receipt') p.read = ledger.later(p.read, frame.body.read);
      }
      return p;
    });
  }

  // Whether an accepted ecdh from the peer asks for ours in answer: made for
  // a key of ours that is not our current one, and fresh by its sealed time.
  needsAnswer(m, result) {
    return result.ok && result.kind === 'ecdh' && !result.legacy && !result.again && m.sender_id !== this.me.id &&
      m.recipient_key_id !== this.identity.keyId && ledger.fresh(result.time, Date.now());
  }

  // How many of the counters gapFrom … counter-1 of dir are still missing.
  async stillMissing(dir, gapFrom, counter) {
    const w = await ks.window(dir);
    return ledger.missingBefore(w, counter) - ledger.missingBefore(w, gapFrom);
  }

  // --- sending ---------------------------------------------------------------------------------

  // Seals one message of kind with body under the current keys and epoch of
  // the pair, into the outbox (flush posts it). Returns {seq, epoch, counter}.
  async seal(peer, peerKeyId, kind, body) {
    const myKeyId = this.identity.keyId;
    const pin = await this.pin(peer);
    if (pin.alarm) throw new Error(`Not sent: the account behind ${peer.username} changed; see the warning above.`);
    if (!pin.keys.some((k) => k.id === peerKeyId && k.status === 'accepted')) {
      throw new Error(`Not sent: key #${peerKeyId} is not a key you accepted for ${peer.username}.`);
    }
    const pair = await this.pair(peer, myKeyId, peerKeyId);
    const epoch = pair.epoch;
    const { keys, dk, legacy } = await this.keys(this.me.id, peer.id, myKeyId, peer, peerKeyId, epoch);
    const next = kind === 'rekey' ? await this.keys(this.me.id, peer.id, myKeyId, peer, peerKeyId, epoch + 1) : null;
    const seen = await this.received(peer, myKeyId, peerKeyId, pair);
    const { counter, seq } = await ks.allocate(dk, legacy, async (c) => {
      // A refresh leads from the epoch it is sealed under, whatever another tab did meanwhile.
      const frame = e2ee.encodeFrame(kind, Date.now(), seen, kind === 'rekey' ? { to: epoch + 1 } : body);
      const sealed = kind === 'rekey'
        ? await e2ee.sealRekey(keys, next.keys, this.me.id, peer.id, c, frame)
        : await e2ee.seal(keys, this.me.id, peer.id, c, frame);
      const post = { to: peer.username, kind, sender_key_id: myKeyId, recipient_key_id: peerKeyId, epoch, counter: c,
        iv: e2ee.b64u(sealed.iv), ciphertext: e2ee.b64u(sealed.ct), mac: e2ee.b64u(sealed.mac) };
      if (sealed.mac2) post.mac2 = e2ee.b64u(sealed.mac2);
      return { peer: peer.id, dir: dk, kind, counter: c, epoch, myKeyId, peerKeyId, post };
    });
    await this.updatePair(peer, myKeyId, peerKeyId, (p) => {
      if (p.epoch === epoch) {
        p.sent += 1;
        if (!p.since) p.since = Date.now();
      }
      return p;
    });
    this.log('message sealed', { seq, kind, direction: `${this.me.id}→${peer.id}`, keys: `${myKeyId}/${peerKeyId}`, epoch,
      counter, iv: e2ee.hex(e2ee.ivFor(counter)), seen });
    return { seq, epoch, counter };
  }

  // Posts every sealed message of the outbox, oldest first, one tab at a
  // time, byte for byte as sealed. The server holding it already (409) is
  // success. A network failure, 429 or 5xx stops the round: what is left
  // goes on the next flush, in order. Any other refusal drops that message
  // (it can never be stored: not friends any more, or a key the server no
  // longer lists) and is returned in failed. Returns {sent, failed, error}.
  async flush() {
    const run = async () => {
      const out = { sent: [], failed: [], error: null };
      for (const entry of await ks.outbox()) {
        if (entry.unlisted) continue;	// waits to be listed, never posted again
        // Sealed while the key was trusted, posted only while it still is.
        const pin = await this.pin({ id: entry.peer });
        if (pin.alarm || !pin.keys.some((k) => k.id === entry.peerKeyId && k.status === 'accepted')) {
          out.failed.push({ ...entry, error: new Error('it was sealed to a key you no longer trust, so it was not sent') });
          await ks.outboxDone(entry.seq);
          continue;
        }
        try {
          const r = await api('POST', '/api/messages', entry.post);
          await ks.admit({ id: r.id, dir: entry.dir, counter: entry.counter, peer: entry.peer, kind: entry.kind, rx: false,
            epoch: entry.epoch, myKeyId: entry.myKeyId, peerKeyId: entry.peerKeyId, at: Date.now() });
          out.sent.push({ ...entry, id: r.id });
          this.log('message sent', { id: r.id, kind: entry.kind, counter: entry.counter, epoch: entry.epoch, iv: entry.post.iv,
            ciphertext: entry.post.ciphertext, mac: entry.post.mac });
        } catch (err) {
          if (err.code === 'replay') {
            // The server says it holds it (an earlier attempt whose answer
            // was lost): it stays here, shown as not yet listed, until the
            // history lists it with these very bytes.
            await ks.outboxPut({ ...entry, unlisted: true });
            continue;
          } else if (retryable(err) || err.status === 401) {
            out.error = err;
            return out;
          } else {
            out.failed.push({ ...entry, error: err });
          }
        }
        await ks.outboxDone(entry.seq);
      }
      return out;
    };
    return globalThis.navigator?.locks ? navigator.locks.request(`sealed-outbox:${this.me.id}`, run) : run();
  }

  // The sealed messages to peer still waiting in the outbox, opened again
  // for the screen: [{seq, kind, text, time, slot, unlisted}], slot being
  // the direction and counter a stored message shows (entries.js).
  async pending(peer) {
    const out = [];
    for (const entry of await ks.outbox()) {
      if (entry.peer !== peer.id) continue;
      const known = this.opened.get(entry.seq);
      const slot = `${entry.dir}#${entry.counter}`;
      if (known) {
        out.push({ ...known, slot, unlisted: !!entry.unlisted });
        continue;
      }
      try {
        const { keys } = await this.keys(this.me.id, peer.id, entry.myKeyId, peer, entry.peerKeyId, entry.epoch);
        const { plaintext } = await e2ee.open(keys, this.me.id, peer.id, { iv: e2ee.unb64u(entry.post.iv),
          ct: e2ee.unb64u(entry.post.ciphertext), mac: e2ee.unb64u(entry.post.mac), counter: entry.counter });
        const f = e2ee.decodeFrame(plaintext);
        const p = { seq: entry.seq, kind: f.kind, text: f.kind === 'text' ? f.body : null, time: f.time };
        this.opened.set(entry.seq, p);
        out.push({ ...p, slot, unlisted: !!entry.unlisted });
      } catch (err) {
        if (!(err instanceof e2ee.E2EEError)) throw err;
      }
    }
    return out;
  }

  // A text: the key announcement first when none was sent for this key
  // pair, and an automatic refresh when the epoch is due (ledger.rekeyDue).
  async sendText(peer, peerKeyId, text) {
    await this.announceOnce(peer, peerKeyId);
    const p = await this.pair(peer, this.identity.keyId, peerKeyId);
    if (!p.pending && ledger.rekeyDue(p.sent, p.since, Date.now())) await this.rekey(peer, peerKeyId, 'automatic');
    return this.seal(peer, peerKeyId, 'text', text);
  }

  async sendAnnouncement(peer, peerKeyId) {
    const id = this.identity;
    const r = await this.seal(peer, peerKeyId, 'ecdh', { key_id: id.keyId, jwk: id.jwk });
    await ks.setState(`ecdh:${peer.id}:${await this.tagOf(peer, id.keyId, peerKeyId)}`, r.seq);
    return r;
  }

  async announceOnce(peer, peerKeyId) {
    const sent = (await ks.getState(`ecdh:${peer.id}:${await this.tagOf(peer, this.identity.keyId, peerKeyId)}`)) ||
      (await ks.getState(`ecdh:${peer.id}:${this.identity.keyId}:${peerKeyId}`));	// version 1
    if (!sent) {
      await this.sendAnnouncement(peer, peerKeyId);
    }
  }

  // Epoch e → e + 1 (the Refresh button, or automatic): the rekey is sealed
  // under e with mac2 under e+1; this browser sends under e+1 from now on,
  // and the refresh is pending until a message of the peer's under e+1.
  async rekey(peer, peerKeyId, why = 'manual') {
    await this.announceOnce(peer, peerKeyId);
    const myKeyId = this.identity.keyId;
    const r = await this.seal(peer, peerKeyId, 'rekey', { to: (await this.pair(peer, myKeyId, peerKeyId)).epoch + 1 });
    await this.updatePair(peer, myKeyId, peerKeyId, (p) => {
      if (p.epoch === r.epoch) {
        p.epoch = r.epoch + 1;
        p.since = Date.now();
        p.sent = 0;
        p.pending = { to: r.epoch + 1, at: Date.now() };
      }
      return p;
    });
    this.log('epoch changed', { peer: peer.id, from: r.epoch, to: r.epoch + 1, why });
    return r;
  }

  // A sealed receipt when this browser has more to tell than it told: the
  // header's seen says how far it received ("delivered"), the body how far
  // the user read (read: whether the conversation is in view now). A
  // refresh of the peer's is confirmed by the first receipt under it.
  async sendReceipt(peer, peerKeyId, read) {
    const myKeyId = this.identity.keyId;
    const p = await this.pair(peer, myKeyId, peerKeyId);
    const got = await this.received(peer, myKeyId, peerKeyId, p);
    const { delivered: toldDelivered, read: toldRead } = p.told;
    const readTo = read ? got : toldRead;
    const advanced = (pos, told) => !!pos && (told ? ledger.comparePositions(pos, told) > 0 : pos[1] > 0);
    const confirming = p.peerEpoch > 1 && p.peerEpoch === p.epoch && !(toldDelivered && toldDelivered[0] >= p.epoch);
    if (!advanced(got, toldDelivered) && !advanced(readTo, toldRead) && !confirming) return null;
    const r = await this.seal(peer, peerKeyId, 'receipt', { read: readTo || toldRead || [0, 0] });
    await this.updatePair(peer, myKeyId, peerKeyId, (q) => {
      q.told = { delivered: ledger.later(q.told.delivered, got), read: ledger.later(q.told.read, readTo) };
      return q;
    });
    return r;
  }

  // Conversation sync point: the last message id processed in order.
  async synced(peer) {
    return (await ks.getState(`synced:${peer.id}`)) || 0;
  }

  // Only forward: two tabs move it each from where they are.
  async setSynced(peer, id) {
    await ks.updateState(`synced:${peer.id}`, (old) => Math.max(old || 0, id));
  }
}
