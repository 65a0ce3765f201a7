// entries: how the conversation shows what the checks decided. One entry
// per processed message (a bubble, a note, or nothing for a receipt), placed
// in id order ahead of the outbox; and, said where it happened, what the
// server may have done: counters missing before a message, a message shown
// before one its sender had seen, messages this browser accepted that the
// server no longer lists, and the key events of the timeline. Everything
// from the server or a peer goes in with textContent only (links through
// layout.fillText). It knows the page through the state chat.js gives it.
import { say, $ } from './api.js';
import { acceptedOf } from './keystore.js';
import { fillText } from './layout.js';
import { fromTheFuture } from './ledger.js';
import { clone, time } from './sidebar.js';

export const PAGE = 50;	// messages per page of history

let state = null;	// chat.js's page state (me, secure, open conversation)

export function initEntries(pageState) {
  state = pageState;
}

export function note(text, cls = 'note') {
  const li = document.createElement('li');
  li.className = `msg ${cls}`;
  const p = document.createElement('p');
  p.textContent = text;
  li.append(p);
  return li;
}

// The entry of one processed message: a bubble (text, or a warning in its
// place), a note (key announcement, refresh), or nothing (a receipt).
export function entry(m, result) {
  const conv = state.open;
  const mine = m.sender_id === state.me.id;
  let li;
  if (result.ok && result.kind === 'receipt') {
    // Not drawn, but a gap it revealed is: it marks where.
    if (mine || !(result.gapFrom > 0)) return null;
    li = document.createElement('li');
    li.className = 'msg receipt';
    li.hidden = true;
  }
  else if (result.ok && result.kind === 'rekey') {
    li = note(`Keys changed: ${mine ? 'you' : conv.peer.username} refreshed the encryption keys (epoch ${result.rekeyTo}).`,
      'note keys-changed');
  } else if (result.ok && result.kind === 'ecdh') {
    li = note(`${mine ? 'You' : conv.peer.username} started end-to-end encryption with key #${result.announce.key_id}.`, 'note ecdh');
  } else {
    li = clone('message-item');
    li.classList.add(mine ? 'mine' : 'theirs');
    const t = li.querySelector('time');
    if (result.ok) {
      // The sender's own clock, sealed with the text; the server's time is not believed.
      setTime(t, result.time);
      fillText(li.querySelector('.text'), result.text);
      if (result.legacy) flag(li, 'Sent with an older version: its time is the server\'s.');
      if (fromTheFuture(result.time, Date.now())) flag(li, 'Its sender\'s clock was ahead of yours.');
    } else {
      li.classList.add('failed');
      setTime(t, Date.parse(m.created_at));
      li.querySelector('.text').textContent = result.code === 'lost'
        ? 'This message cannot be decrypted: this browser no longer has the key it was made for.'
        : `⚠ This message failed its security checks and is not shown (${result.code}: ${result.reason}).`;
    }
  }
  li.dataset.id = m.id;
  if (result.ok) {
    li.dataset.slot = result.slot;
    if (result.answers) li.dataset.answers = result.answers;
    Object.assign(li.dataset, { dir: result.dir, counter: m.counter });
    if (mine) Object.assign(li.dataset, { epoch: m.epoch, tag: result.tag });
    if (!mine && result.gapFrom > 0) li.dataset.gapFrom = result.gapFrom;
  }
  const status = li.querySelector('.status');
  if (mine && status) status.textContent = result.ok ? statusOf(li) : '';
  const who = li.querySelector('.who');
  if (who) who.textContent = `${mine ? 'You' : conv.peer.username}, ${li.querySelector('time').textContent}: `;
  return li;
}

// A time the server or a sender gave: shown only when it is one.
export function setTime(el, ms) {
  const d = new Date(ms);
  if (!Number.isFinite(ms) || Number.isNaN(d.getTime())) {
    el.textContent = 'unknown time';
    return;
  }
  el.dateTime = d.toISOString();
  el.textContent = time(ms);
}

function flag(li, text) {
  const f = li.querySelector('.flag');
  if (!f) return;
  f.textContent = f.textContent ? `${f.textContent} ${text}` : text;
  f.hidden = false;
}

// "read" means the peer's browser said so in a sealed receipt, "delivered"
// that a sealed message of theirs had seen it; the server's word is not used.
function statusOf(li) {
  const c = state.open;
  if (!c || !li.dataset.tag) return '';
  return state.secure.statusOf(c.peer, { epoch: Number(li.dataset.epoch), counter: Number(li.dataset.counter),
    tag: li.dataset.tag });
}

export function refreshStatuses() {
  for (const li of $('messages').querySelectorAll('li.mine[data-tag]')) {
    li.querySelector('.status').textContent = statusOf(li);
  }
}

export function place(li) {
  const ol = $('messages');
  const id = Number(li.dataset.id);
  const existing = ol.querySelector(`li[data-id="${id}"]`);
  if (existing) {
    existing.replaceWith(li);
    return;
  }
  // The stored message takes the place of its "sending…" bubble at once,
  // not at the next drawing of the outbox.
  if (li.dataset.slot) ol.querySelector(`li.pending[data-pending-slot="${CSS.escape(li.dataset.slot)}"]`)?.remove();
  const after = [...ol.children].find((x) => (x.dataset.id && Number(x.dataset.id) > id) || x.classList.contains('pending'));
  ol.insertBefore(li, after || null);
}

// What the server may hide or reorder, said where it happened: counters
// missing before a message (until they arrive), and a message shown before
// one its sender had already seen.
export async function drawChecks() {
  const ol = $('messages');
  for (const gap of ol.querySelectorAll('li.gap')) gap.remove();
  for (const li of ol.querySelectorAll('li[data-gap-from]')) {
    const n = await state.secure.stillMissing(li.dataset.dir, Number(li.dataset.gapFrom), Number(li.dataset.counter));
    if (n > 0) li.before(note(`⚠ ${n} message${n === 1 ? '' : 's'} missing here: the server has not delivered ${n === 1 ? 'it' : 'them'}.`, 'note gap'));
  }
  const outOfOrder = (li, text) => {
    if (li.classList.contains('out-of-order')) return;
    li.classList.add('out-of-order');
    if (li.querySelector('.flag')) flag(li, text);
    else li.append(note(text, 'note alarm').firstElementChild);
  };
  for (const li of ol.querySelectorAll('li[data-answers]')) {
    const seen = ol.querySelector(`li[data-slot="${CSS.escape(li.dataset.answers)}"]`);
    if (seen && (li.compareDocumentPosition(seen) & Node.DOCUMENT_POSITION_FOLLOWING)) {
      outOfOrder(li, '⚠ Out of order: its sender had already seen a message shown below it; the server changed the order.');
    }
  }
  // One sender's messages of one direction and epoch come in counter order.
  const last = new Map();
  for (const li of ol.querySelectorAll('li[data-dir]')) {
    const c = Number(li.dataset.counter);
    const before = last.get(li.dataset.dir);
    if (before && before.c > c) outOfOrder(before.li, '⚠ Out of order: it was sent after a message shown below it; the server changed the order.');
    if (!before || before.c < c) last.set(li.dataset.dir, { c, li });
  }
}

// The key events of the conversation, kept in this browser, each after the
// message that was newest when it happened.
export async function drawTimeline(conv) {
  const ol = $('messages');
  for (const li of ol.querySelectorAll('li.timeline')) li.remove();
  for (const e of await state.secure.timeline(conv.peer)) {
    if (conv !== state.open) return;
    const li = note(e.text, `note timeline ${e.level}`);
    const oldest = oldestShown();
    if (oldest !== undefined && e.afterId < oldest && !conv.noOlder) continue;	// on a page not loaded
    const after = [...ol.children].find((x) => (x.dataset.id && Number(x.dataset.id) > e.afterId) || x.classList.contains('pending'));
    ol.insertBefore(li, after || null);
  }
}

// Marks accepted messages the server no longer lists: every message of
// this conversation this browser accepted whose id lies in the range a
// page covered (from its first id, or from the start when nothing is
// older, to its last) must be in the page.
// The newest page covers everything after its first message; an older
// page everything from its first message up to the one it was asked before.
// Only what this browser (any of its tabs) had accepted before the page was
// asked for can be missing from it.
export async function checkRemoved(conv, page, asked, before = Infinity) {
  const ids = new Set(page.messages.map((m) => m.id));
  const to = before - 1;
  // "More" with less than a full page is not believed: the range then
  // reaches back to the start.
  const more = page.more && page.messages.length >= PAGE;
  const lo = more ? page.messages[0].id : 0;
  let removed = 0;
  for (const rec of await acceptedOf(conv.peer.id)) {
    if (rec.id < lo || rec.id > to || ids.has(rec.id) || !(rec.at < asked)) continue;
    if ($('messages').querySelector(`li[data-id="${rec.id}"]`)) continue;
    if (rec.kind === 'receipt') continue;
    const li = note(`⚠ A ${rec.kind === 'text' ? 'message' : `${rec.kind} message`} this browser received earlier was removed by the server.`, 'note removed');
    li.dataset.id = rec.id;
    place(li);
    removed++;
  }
  if (removed && conv.verified && !conv.blocked) {
    const warn = $('key-warning');
    say(warn, `⚠ Messages of your verified conversation with ${conv.peer.username} have vanished from the server (${removed}). The server may be tampering with it.`);
    warn.classList.add('alarm');
  }
}

// The id of the oldest message shown (notes of the page itself have none).
export function oldestShown() {
  const first = [...$('messages').children].find((li) => li.dataset.id);
  return first ? Number(first.dataset.id) : undefined;
}

