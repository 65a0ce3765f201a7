// sending: the chat page's outgoing side. A text leaves the box at once,
// is sealed into the outbox (secure.js, keystore.allocate), shown as
// "sending…", and posted by flushes, one round at a time, byte for byte,
// until the server holds it. It knows the conversation only through the
// hooks chat.js gives it.
import { api, say, sayError, $ } from './api.js';
import { isOffline } from './connection.js';
import { fillText } from './layout.js';
import { newMessage } from './notify.js';
import { clone } from './sidebar.js';
import { checkPeerKey } from './trust.js';

let state = null;	// chat.js's page state (secure, open conversation)
// {catchUp(), drawRefresh(conv), setTime(el, ms), settle(conv, toEnd), sent(conv), log(op, details)}
let hooks = null;

// Sending takes the text out of the box at once, so the next message can be
// typed (and sent) while this one is on its way. Each text is sealed into
// the outbox (keystore.allocate), shown as "sending…", and posted by flush;
// one the server cannot take now stays there and goes, byte for byte, when
// it can.
let sending = Promise.resolve();

function send() {
  const conv = state.open;
  const text = $('text').value;
  if (!conv || !text.trim()) return sending;
  $('text').value = '';
  grow();
  // One failure must never stop the texts typed after it.
  sending = sending.catch(() => {}).then(() => sendOne(conv, text));
  return sending;
}

async function sendOne(conv, text) {
  say($('conv-error'), '');
  try {
    if (!conv.peerKeyId || conv.blocked) await checkPeerKey(conv);
    if (!conv.peerKeyId || conv.blocked) {
      unsent(text, conv.blocked ? 'Not sent: see the warning above.' : null);
      return;
    }
    await state.secure.sendText(conv.peer, conv.peerKeyId, text);
  } catch (err) {
    unsent(text, err.message);
    return;
  }
  try {
    if (state.open === conv) {
      await drawPending(conv);
      hooks.sent(conv);
    }
  } catch (err) {
    hooks.log('pending not drawn', err.message);
  }
  flushNow();	// the next text is sealed meanwhile; flushes post the outbox in order
}

// The box grows with its text up to about eight lines, then scrolls.
const MAX_LINES = 8;

function grow() {
  const t = $('text');
  const cs = getComputedStyle(t);
  const line = parseFloat(cs.lineHeight) || 20;
  const extra = parseFloat(cs.paddingTop) + parseFloat(cs.paddingBottom) + parseFloat(cs.borderTopWidth) + parseFloat(cs.borderBottomWidth);
  t.style.height = 'auto';
  t.style.height = `${Math.min(t.scrollHeight + parseFloat(cs.borderTopWidth) + parseFloat(cs.borderBottomWidth), line * MAX_LINES + extra)}px`;
}

// A text that was never sealed goes back in the box, or, if something new
// was typed there meanwhile, into the error, so it is never lost unseen.
function unsent(text, why) {
  if ($('text').value === '') {
    $('text').value = text;
    grow();
    if (why) say($('conv-error'), why);
  } else {
    say($('conv-error'), `Not sent ("${text}")${why ? `: ${why}` : ''}`);
  }
  $('text').focus();
}

// Sealed messages waiting in the outbox, at the end of the conversation.
// Drawn by the send and by every catch-up; only the latest drawing counts,
// so one that read the outbox before a catch-up cannot put back a bubble the
// catch-up has just replaced with the stored message.
export async function drawPending(conv) {
  if (conv !== state.open) return;
  const generation = (conv.pendingDrawn = (conv.pendingDrawn || 0) + 1);
  const list = await state.secure.pending(conv.peer);
  if (conv !== state.open || generation !== conv.pendingDrawn) return;
  // Bubbles are updated in place, not drawn anew: a Retry under the
  // pointer must still be there when the click lands.
  const ol = $('messages');
  const old = new Map([...ol.querySelectorAll('li.pending')].map((li) => [li.dataset.seq, li]));
  const want = [];
  for (const p of list) {
    if (p.kind !== 'text') continue;
    // Already shown as stored (a catch-up listed it before the post's answer
    // took it out of the outbox): one bubble per message, never two.
    if (ol.querySelector(`li[data-slot="${CSS.escape(p.slot)}"]:not(.pending)`)) continue;
    let li = old.get(String(p.seq));
    old.delete(String(p.seq));
    if (!li) {
      li = clone('message-item');
      li.classList.add('mine', 'pending');
      li.dataset.seq = p.seq;
      li.dataset.pendingSlot = p.slot;
      fillText(li.querySelector('.text'), p.text);
      hooks.setTime(li.querySelector('time'), p.time);
      li.querySelector('.who').textContent = `You, ${li.querySelector('time').textContent}: `;
      // Each Retry is named by its own message for a screen reader.
      li.querySelector('.text').id = `pending-${p.seq}`;
      li.querySelector('.retry').setAttribute('aria-describedby', `pending-${p.seq}`);
      li.querySelector('.retry').addEventListener('click', () => flushNow());
    }
    // Sealed and kept in this browser: "not sent" only says the server has
    // not taken it yet; it goes by itself when the server is back, or now
    // with Retry.
    const stuck = !p.unlisted && !!(conv.flushError || isOffline());
    li.querySelector('.status').textContent = p.unlisted ? 'the server says it has it, but does not list it'
      : stuck ? 'not sent' : 'sending…';
    li.classList.toggle('stuck', stuck);
    li.querySelector('.retry').hidden = !stuck;
    want.push(li);
  }
  for (const li of old.values()) li.remove();
  // In outbox order, after everything the server holds; moved only when not so already.
  const tail = [...ol.children].slice(-want.length);
  if (want.some((li, i) => tail[i] !== li)) ol.append(...want);
  hooks.settle(conv, false);
}

let flushTimer = null;
let flushing = null;
let flushAgain = false;

// Posts the outbox, one round at a time in this tab (a call during a round
// asks for one more); what could not go now is tried again in a few seconds
// and whenever the stream reconnects.
export function flushNow() {
  if (flushing) {
    flushAgain = true;
    return flushing;
  }
  flushing = (async () => {
    try {
      do {
        flushAgain = false;
        await flushRound();
      } while (flushAgain);
    } finally {
      flushing = null;
    }
  })();
  return flushing;
}

async function flushRound() {
  clearTimeout(flushTimer);
  flushTimer = null;
  const conv = state.open;
  let r;
  try {
    r = await state.secure.flush();
  } catch (err) {
    r = { sent: [], failed: [], error: err };
  }
  const wasStuck = conv && conv.flushError;
  if (conv) conv.flushError = r.error;
  if (r.error) {
    // Unreachable is said by the offline banner; anything else here.
    if (conv && r.error.code !== 'network') say($('conv-error'), `Not sent yet: ${r.error.message} It will be sent as soon as the server takes it.`);
    flushTimer = setTimeout(flushNow, r.error.retryAfter > 0 ? r.error.retryAfter * 1000 : 5000);
    if (conv && !wasStuck) await drawPending(conv).catch(() => {});
  } else if (conv && /^Not sent yet/.test($('conv-error').textContent)) {
    say($('conv-error'), '');
  }
  for (const f of r.failed) {
    if (conv && f.peer === conv.peer.id) say($('conv-error'), `A ${f.kind === 'text' ? 'message' : f.kind} could not be sent: ${f.error.message}`);
  }
  if (conv && conv === state.open) await hooks.catchUp().catch((err) => sayError($('conv-error'), err));
}

export function flushSoon() {
  if (!flushTimer) flushTimer = setTimeout(flushNow, 0);
}

// A message to a conversation that is not open is still checked here, so
// that this browser can tell its sender "delivered" in a sealed receipt;
// nothing is drawn. The server's marker keeps the unread badge.
export async function deliverInBackground(f) {
  const peer = { id: f.user_id, username: f.username };
  if (state.open && state.open.peer.id === peer.id) return;
  if (await state.secure.identityCheck(peer)) return;
  const k = await state.secure.peerKeyState(peer);
  let after = await state.secure.synced(peer);
  let upto = 0;
  let news = false;
  let texts = 0;
  for (;;) {
    const page = await api('GET', `/api/messages?${new URLSearchParams({ with: peer.username, after, limit: 200 })}`);
    for (const m of page.messages) {
      const r = await state.secure.process(m, peer);
      if (r.ok && m.sender_id === peer.id && r.kind === 'text') upto = m.id;
      if (r.ok && m.sender_id === peer.id && r.kind === 'text' && !r.again) texts++;
      if (r.ok && m.sender_id === peer.id && r.kind !== 'receipt' && !r.again) news = true;
      if (state.secure.needsAnswer(m, r) && k.keyId && !k.blocked) await state.secure.sendAnnouncement(peer, k.keyId);
    }
    if (page.messages.length) after = page.messages[page.messages.length - 1].id;
    await state.secure.setSynced(peer, after);
    if (!page.more || !page.messages.length) break;
  }
  // Checked and opened here, so the notification is for a real message.
  if (texts) newMessage(peer);
  if (news && k.keyId && !k.blocked && await state.secure.sendReceipt(peer, k.keyId, false)) flushSoon();
  if (upto) await api('POST', '/api/messages/delivered', { with: peer.username, upto }).catch(() => {});
}

// Binds the composer and the refresh button to the page's state and hooks.
export function initSending(pageState, conversationHooks) {
  state = pageState;
  hooks = conversationHooks;
  $('composer').addEventListener('submit', (ev) => {
    ev.preventDefault();
    send();
  });

  // Enter sends and Shift+Enter makes a new line; on a touch screen,
  // where Shift is not at hand, Enter makes a new line and ↵ / Send are buttons.
  const touch = matchMedia('(pointer: coarse)');
  if (touch.matches) $('text').placeholder = 'Message';
  $('text').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && !touch.matches) {
      ev.preventDefault();
      send();
    }
  });
  $('text').addEventListener('input', grow);
  $('newline').addEventListener('click', () => {
    const t = $('text');
    t.setRangeText('\n', t.selectionStart, t.selectionEnd, 'end');
    t.focus();
    grow();
  });

  $('refresh-keys').addEventListener('click', async () => {
    const conv = state.open;
    if (!conv) return;
    say($('conv-error'), '');
    try {
      if (!conv.peerKeyId || conv.blocked) await checkPeerKey(conv);
      if (!conv.peerKeyId || conv.blocked) return;
      await state.secure.rekey(conv.peer, conv.peerKeyId);
      await hooks.drawRefresh(conv);
      await flushNow();
    } catch (err) {
      sayError($('conv-error'), err);
    }
  });
}
