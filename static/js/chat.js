// chat: the chat page. Friends, requests and presence on the left; one
// conversation on the right, decrypted in this browser by secure.js; live
// updates from the event stream, and a full re-fetch whenever the stream
// reconnects, so nothing missed while it was down is lost. Every piece of
// user data goes into the page with textContent only.
import { api, say, sayError, setCsrf, $ } from './api.js';
import { initConnection, isOffline, streamLost, streamOpened } from './connection.js';
import {
  PAGE, checkRemoved, drawChecks, drawTimeline, entry, initEntries, oldestShown, place, refreshStatuses, setTime,
} from './entries.js';
import { getState, updateState } from './keystore.js';
import { relayout } from './layout.js';
import { closeNotifyPanel, initNotify, newMessage, showUnread } from './notify.js';
import { Secure } from './secure.js';
import { deliverInBackground, drawPending, flushNow, flushSoon, initSending } from './sending.js';
import { initSwitcher, onEscape } from './switcher.js';
import { checkOwnKeys, checkPeerKey, closeSafety, initTrust, nudgeVerify, ownKeyAlarm } from './trust.js';
import { initSidebar, online, redrawPresence, refreshSidebar, time } from './sidebar.js';

const state = {
  me: null,
  secure: null,
  friends: new Map(),		// username → friend row of GET /api/friends
  open: null,			// the open conversation (see openConversation)
  debug: localStorage.getItem('e2ee-debug') === '1',
};

// The debug switch: each crypto operation as one console line (never a private key).
function log(op, details) {
  if (state.debug) console.debug(`[e2ee] ${op} ${JSON.stringify(details)}`);
}

// --- the conversation ----------------------------------------------------------------

// While this browser is offline nobody is shown online: it cannot know.
function showPresence(f) {
  $('peer-presence').textContent = isOffline() ? 'presence unknown while you are offline'
    : online(f) ? 'online' : f.last_seen ? `last seen ${time(f.last_seen)}` : 'offline';
  $('peer-presence').classList.toggle('on', online(f));
}

function closeConversation() {
  state.open = null;
  $('conversation').hidden = true;
  $('no-conversation').hidden = false;
  document.body.classList.remove('in-conversation');
}

// Checks and shows messages, in id order; answers a fresh ecdh made for an
// old key of ours with our own; confirms a refresh of the peer's at once.
async function show(messages) {
  const conv = state.open;
  let news = false;
  for (const m of messages) {
    if (conv !== state.open) return false;
    if (conv.shown.has(m.id)) continue;
    conv.shown.add(m.id);
    let result;
    try {
      result = await state.secure.process(m, conv.peer);
    } catch (err) {
      conv.shown.delete(m.id);	// not judged yet (the server was away): again next time
      throw err;
    }
    const li = entry(m, result);
    if (li) place(li);
    conv.newest = Math.max(conv.newest, m.id);
    const theirs = m.sender_id !== state.me.id;
    if (theirs && result.ok && result.kind === 'text') conv.newestTheirs = Math.max(conv.newestTheirs, m.id);
    if (theirs && result.ok && !result.again && result.kind !== 'receipt') news = true;
    // Arrived while the conversation was open (not history on opening it).
    if (theirs && result.ok && !result.again && result.kind === 'text' && conv.opened && li) conv.arrived.push({ li, text: result.text });
    if (state.secure.needsAnswer(m, result) && conv.peerKeyId && !conv.blocked) {
      await state.secure.sendAnnouncement(conv.peer, conv.peerKeyId).catch((err) => sayError($('conv-error'), err));
      flushSoon();
    }
  }
  return news;
}

function query(params) {
  return new URLSearchParams(Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined))).toString();
}

// One peer's conversation is processed by one thing at a time (the open
// page, or a background catch-up), so messages are checked in order and
// never twice at once.
const queues = new Map();

function serialFor(peerId, fn) {
  const q = (queues.get(peerId) || Promise.resolve()).then(fn, fn);
  queues.set(peerId, q.catch(() => {}));
  return q;
}

function serial(fn) {
  const conv = state.open;
  if (!conv) return Promise.resolve();
  return serialFor(conv.peer.id, fn);
}

// Everything after the last processed message, in order, then receipts.
// A catch-up asked for while one waits its turn is that one.
function catchUp() {
  const conv = state.open;
  if (!conv) return Promise.resolve();
  conv.nextCatchUp ||= serial(() => {
    conv.nextCatchUp = null;
    return catchUpNow();
  });
  return conv.nextCatchUp;
}

async function catchUpNow() {
  const conv = state.open;
  if (!conv) return;
  let news = false;
  // First everything not yet processed, in id order: from where this tab
  // got to, or, on opening, from where this browser got to (another tab may
  // move that on meanwhile; it is only a place to start).
  if (conv.cursor === undefined) conv.cursor = await state.secure.synced(conv.peer);
  let after = Math.max(conv.newest, conv.cursor);
  for (;;) {
    const page = await api('GET', `/api/messages?${query({ with: conv.peer.username, after, limit: 200 })}`);
    if (conv !== state.open) return;
    news = (await show(page.messages)) || news;
    if (page.messages.length) after = page.messages[page.messages.length - 1].id;
    conv.cursor = after;
    await state.secure.setSynced(conv.peer, after);
    if (!page.more || !page.messages.length) break;	// an empty page with "more" would loop forever
  }
  // ...then, on opening, the newest page (accepted before, so checked again).
  if (!conv.opened) {
    conv.opened = true;
    const asked = Date.now();
    const page = await api('GET', `/api/messages?${query({ with: conv.peer.username, limit: PAGE })}`);
    if (conv !== state.open) return;
    await show(page.messages);
    trimToNewest();
    conv.noOlder = !page.more && $('messages').querySelectorAll('li[data-id]').length <= PAGE;
    await checkRemoved(conv, page, asked);
  }
  await drawPending(conv);
  await drawTimeline(conv);
  await drawChecks();
  refreshStatuses();
  await drawRefresh(conv);
  arrivals(conv);
  settle(conv, { final: true });
  await markRead(news);
}

// New messages of the open conversation: said to a screen reader (only
// these, never a status change), counted in the title and notified while
// the tab is hidden, and offered as "↓ N new" to a reader scrolled up.
function arrivals(conv) {
  const got = conv.arrived.splice(0);
  if (!got.length) return;
  $('announce').textContent = got.slice(-3).map((a) => `${conv.peer.username}: ${a.text}`).join('\n');
  if (document.visibilityState !== 'visible') {
    conv.unseen += got.length;
    if (!conv.divider) conv.divider = Number(got[0].li.dataset.id);
    newMessage(conv.peer);
    drawUnread();
  }
  if (!conv.stick) {
    conv.pill += got.length;
    drawPill(conv);
  }
}

function drawPill(conv) {
  const pill = $('new-pill');
  pill.hidden = !conv.pill;
  pill.textContent = `↓ ${conv.pill} new`;
  pill.setAttribute('aria-label', `${conv.pill} new message${conv.pill === 1 ? '' : 's'}: go to the newest`);
}

// Separators, groups and the divider drawn again; then the view stays where
// the reader is, unless they were at the newest (or just sent): then it
// follows the newest.
function settle(conv, { toEnd = false, final = false } = {}) {
  if (conv !== state.open) return;
  const ol = $('messages');
  relayout(ol, { divider: conv.divider });
  if (toEnd || conv.stick) scrollToEnd();
  if (final && conv.firstSettle) {
    conv.firstSettle = false;
    // A long unread run opens at its start, not at its end: then the
    // reader is not at the newest, and what is below waits for them.
    const d = ol.querySelector('li.divider');
    const above = d ? d.getBoundingClientRect().top - ol.getBoundingClientRect().top : 0;
    if (above < 0) {
      ol.scrollTop += above - 8;
      conv.stick = atEnd(ol);
    }
  }
}

function drawUnread() {
  let total = 0;
  for (const b of $('friends').querySelectorAll('.unread:not([hidden])')) total += Math.max(0, Number(b.textContent) || 0);
  showUnread(total + (state.open ? state.open.unseen : 0));
}

function trimToNewest() {
  const ol = $('messages');
  while (ol.querySelectorAll('li[data-id]').length > PAGE) {
    state.open.shown.delete(Number(ol.firstElementChild.dataset.id));
    ol.firstElementChild.remove();
  }
}

function loadOlder() {
  const conv = state.open;
  if (!conv || conv.loadingOlder || conv.noOlder) return Promise.resolve();
  return serial(loadOlderNow);
}

async function loadOlderNow() {
  const conv = state.open;
  if (!conv || conv.loadingOlder || conv.noOlder) return;
  conv.loadingOlder = true;
  try {
    const ol = $('messages');
    const before = ol.scrollHeight;
    const oldest = oldestShown();
    const asked = Date.now();
    const page = await api('GET', `/api/messages?${query({ with: conv.peer.username, before: oldest, limit: PAGE })}`);
    await show(page.messages);
    conv.noOlder = !page.more;
    await checkRemoved(conv, page, asked, oldest ?? Infinity);
    await drawTimeline(conv);
    await drawChecks();
    refreshStatuses();
    relayout(ol, { divider: conv.divider });
    ol.scrollTop += ol.scrollHeight - before;
  } finally {
    conv.loadingOlder = false;
  }
}

// The server's markers still drive the unread badges; the peer learns what
// was delivered and read from a sealed receipt (secure.sendReceipt), sent
// only when this browser has more to tell.
// Read means seen: the tab visible, this conversation open and the reader
// at its newest messages (one scrolled up to older ones has not seen what
// came below; "↓ N new" waits for them).
function onScreen(conv) {
  return document.visibilityState === 'visible' && conv === state.open && conv.stick;
}

async function markRead(news) {
  const conv = state.open;
  if (!conv) return;
  const visible = onScreen(conv);
  const what = visible ? 'read' : 'delivered';
  // Where "New messages" goes next time: after what was on screen now.
  if (visible && conv.newestTheirs > conv.readUpto) {
    conv.readUpto = conv.newestTheirs;
    await updateState(`read:${conv.peer.id}`, (old) => Math.max(old || 0, conv.newestTheirs)).catch(() => {});
  }
  // Only news of the peer's (never their receipts: two browsers would
  // acknowledge each other's acknowledgements forever) or a text not yet
  // said to be read asks for a receipt.
  const unseen = visible && conv.newestTheirs > conv.receiptRead;
  if (conv.peerKeyId && !conv.blocked && (news || unseen)) receiptSoon(conv);
  if (conv.newestTheirs <= conv.marked[what]) return;
  const upto = conv.newestTheirs;
  try {
    await api('POST', `/api/messages/${what}`, { with: conv.peer.username, upto });
    conv.marked[what] = Math.max(conv.marked[what], upto);
    if (what === 'read') conv.marked.delivered = Math.max(conv.marked.delivered, upto);
    const badge = document.querySelector(`#friends li[data-user="${CSS.escape(conv.peer.username)}"] .unread`);
    if (badge && what === 'read') badge.hidden = true;
    drawUnread();
  } catch (err) {
    log('marker refused', err.message);
  }
}

// A burst of messages gets one receipt: it goes a moment after the last.
const RECEIPT_DELAY_MS = 300;

function receiptSoon(conv) {
  clearTimeout(conv.receiptTimer);
  // Whether the user saw them is decided now, while they are on screen.
  const visible = onScreen(conv);
  conv.receiptTimer = setTimeout(() => serialFor(conv.peer.id, async () => {
    if (!conv.peerKeyId || conv.blocked) return;
    try {
      if (await state.secure.sendReceipt(conv.peer, conv.peerKeyId, visible)) flushSoon();
      if (visible) conv.receiptRead = Math.max(conv.receiptRead, conv.newestTheirs);
    } catch (err) {
      log('receipt not sealed', err.message);
    }
  }), RECEIPT_DELAY_MS);
}

function scrollToEnd() {
  const ol = $('messages');
  ol.scrollTop = ol.scrollHeight;
  if (state.open) {
    state.open.stick = true;
    state.open.pill = 0;
    drawPill(state.open);
  }
}

// Whether the reader is at the newest message (so new ones should follow).
function atEnd(ol) {
  return ol.scrollHeight - ol.scrollTop - ol.clientHeight < 48;
}

// "Key refresh pending" until the peer's browser confirms it.
async function drawRefresh(conv) {
  if (!conv.peerKeyId || conv.blocked) return say($('rekey-pending'), '');
  const p = await state.secure.pairInfo(conv.peer, conv.peerKeyId);
  if (conv !== state.open) return;
  say($('rekey-pending'), p.pending
    ? `Key refresh pending since ${time(p.pending.at)}: waiting for ${conv.peer.username}'s browser to confirm epoch ${p.pending.to}.`
    : '');
}

async function openConversation(name) {
  const f = state.friends.get(name);
  if (!f) return;
  const readUpto = (await getState(`read:${f.user_id}`).catch(() => 0)) || 0;
  state.open = {
    peer: { id: f.user_id, username: f.username }, peerKeyId: null, peerJwk: null, newest: 0, newestTheirs: 0,
    marked: { read: 0, delivered: 0 }, receiptRead: 0, blocked: null, verified: false, keyChanged: false, shown: new Set(),
    // The view: following the newest (stick), "↓ N new" (pill), messages
    // that came while the tab was hidden (unseen), "New messages" above the
    // first message after what was read last time in this browser (divider).
    arrived: [], stick: true, pill: 0, unseen: 0, readUpto, divider: readUpto ? readUpto + 1 : 0, firstSettle: true,
  };
  $('peer-name').textContent = f.username;
  showPresence(f);
  $('messages').replaceChildren();
  say($('conv-error'), '');
  say($('rekey-pending'), '');
  $('announce').textContent = '';
  drawPill(state.open);
  $('safety').hidden = true;
  $('verify-nudge').hidden = true;
  $('conversation').hidden = false;
  $('no-conversation').hidden = true;
  document.body.classList.add('in-conversation');
  for (const li of $('friends').children) {
    li.classList.toggle('active', li.dataset.user === name);
    // Open means on screen: its count goes from the badge and the title.
    if (li.dataset.user === name) li.querySelector('.unread').hidden = true;
  }
  $('messages').dataset.loading = '1';
  const conv = state.open;
  drawUnread();
  try {
    await checkPeerKey(conv);
    await catchUp();
    await nudgeVerify(conv);
  } catch (err) {
    sayError($('conv-error'), err);
  } finally {
    delete $('messages').dataset.loading;
  }
  $('text').focus();
}

$('messages').addEventListener('scroll', () => {
  const ol = $('messages');
  const conv = state.open;
  if (conv) {
    const was = conv.stick;
    conv.stick = atEnd(ol);
    if (conv.stick && conv.pill) {
      conv.pill = 0;
      drawPill(conv);
    }
    // Scrolled down to what was waiting: now it is read.
    if (conv.stick && !was) serial(() => markRead(false));
  }
  if (ol.scrollTop < 40) loadOlder().catch((err) => sayError($('conv-error'), err));
});

$('new-pill').addEventListener('click', () => {
  scrollToEnd();
  $('messages').focus();	// the pill is gone: focus goes where it led
  serial(() => markRead(false));
});

$('back').addEventListener('click', closeConversation);

// --- live updates -------------------------------------------------------------------

let stream = null;

function connect() {
  if (stream) stream.close();
  const es = new EventSource('/api/events');
  stream = es;
  es.addEventListener('open', () => {
    streamOpened();
    resync();
  });
  es.addEventListener('error', () => {
    streamLost();
    // A closed stream (the session ended) does not come back by itself.
    if (es.readyState === EventSource.CLOSED && es === stream) setTimeout(checkSession, 2000);
  });
  es.addEventListener('message', (ev) => {
    let e;
    try {
      e = JSON.parse(ev.data);
    } catch {
      return;
    }
    onEvent(e).catch((err) => log('event handling failed', err.message));
  });
}

async function checkSession() {
  try {
    await api('GET', '/api/me');
    if (stream.readyState === EventSource.CLOSED) connect();	// unless reopened meanwhile
  } catch (err) {
    if (err.status === 401) location.assign('/');
    else setTimeout(checkSession, 5000);
  }
}

let resyncing = null;
// After (re)connecting: everything may have changed while we were away.
function resync() {
  resyncing ||= (async () => {
    try {
      await refreshSidebar();
      if (state.open) {
        await checkPeerKey(state.open);
        await catchUp();
      }
      await flushNow();
    } catch (err) {
      sayError($('sidebar-error'), err);
    } finally {
      resyncing = null;
    }
  })();
  return resyncing;
}

async function onEvent(e) {
  const conv = state.open;
  switch (e.type) {
    case 'message': {
      const peerId = e.sender_id === state.me.id ? e.recipient_id : e.sender_id;
      if (conv && conv.peer.id === peerId) await catchUp();
      else {
        await refreshSidebar();
        const f = [...state.friends.values()].find((x) => x.user_id === e.sender_id);
        if (f && e.sender_id !== state.me.id) await serialFor(f.user_id, () => deliverInBackground(f));
      }
      break;
    }
    case 'request':
    case 'friend':
      await refreshSidebar();
      break;
    case 'key':
      if (e.user_id === state.me.id) {
        await checkOwnKeys();
        break;
      }
      await refreshSidebar();
      if (conv && conv.peer.id === e.user_id) await checkPeerKey(conv);
      break;
    case 'presence':
      await refreshSidebar();
      break;
    case 'receipt':	// the server's markers: unread badges only, never "read" on screen
      break;
    default:
      break;
  }
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'visible' || !state.open) return;
  state.open.unseen = 0;
  drawUnread();
  serial(() => markRead(false));
});

// Back online: everything missed is fetched and everything waiting is sent
// (resync). Errors that were only about the connection were never shown
// (sayError): the banner said it; an error that is shown is a real one.
function backOnline() {
  resync();
}

// --- start ------------------------------------------------------------------------------

// The debug log is switched on the account page (it sets e2ee-debug); a
// chat page open meanwhile follows at once.
if (state.debug) console.info('[e2ee] debug log on (switch it off on the account page)');
window.addEventListener('storage', (ev) => {
  if (ev.key === 'e2ee-debug') state.debug = ev.newValue === '1';
});

$('logout').addEventListener('click', async () => {
  try {
    await api('POST', '/api/logout');
  } finally {
    location.assign('/');
  }
});

initEntries(state);
initSidebar(state, { open: openConversation, close: closeConversation, presence: showPresence, drawn: drawUnread });
initTrust(state, { catchUp, drawTimeline, log });
initSending(state, {
  catchUp, drawRefresh, setTime, log,
  settle: (conv, toEnd) => settle(conv, { toEnd }),
  sent: (conv) => {
    conv.divider = 0;
    settle(conv, { toEnd: true });
  },
});
initConnection({
  onBack: backOnline,
  reconnect: connect,
  onChange: () => {
    redrawPresence();
    const f = state.open && state.friends.get(state.open.peer.username);
    if (f) showPresence(f);
  },
});
// From a notification: the conversation, unless it is open already.
initNotify((name) => {
  if (!state.open || state.open.peer.username !== name) openConversation(name);
}, () => state.open && state.open.peer.id);
initSwitcher(state, openConversation);
onEscape(closeSafety);
onEscape(closeNotifyPanel);

async function start() {
  let me;
  try {
    me = await api('GET', '/api/me');
  } catch (err) {
    if (err.status === 401) location.assign('/');
    else sayError($('sidebar-error'), err);
    return;
  }
  setCsrf(me.csrf_token);
  state.me = me.user;
  $('me-username').textContent = me.user.username;
  state.secure = new Secure(me.user, log);
  try {
    const { lost, foreign } = await state.secure.init();
    $('keys-lost').hidden = !lost;
    ownKeyAlarm(foreign);
  } catch (err) {
    say($('sidebar-error'), `Encryption could not start in this browser: ${err.message}`);
    return;
  }
  document.body.dataset.ready = '1';
  connect();
}

start();
