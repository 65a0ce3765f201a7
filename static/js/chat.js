// chat: the chat page. Friends, requests and presence on the left; one
// conversation on the right, decrypted in this browser by secure.js; live
// updates from the event stream, and a full re-fetch whenever the stream
// reconnects, so nothing missed while it was down is lost. Every piece of
// user data goes into the page with textContent only.
import { api, say, setCsrf, $ } from './api.js';
import { Secure } from './secure.js';
import { clone, initSidebar, online, refreshSidebar, time } from './sidebar.js';

const PAGE = 50;

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

function showPresence(f) {
  $('peer-presence').textContent = online(f) ? 'online' : f.last_seen ? `last seen ${time(f.last_seen)}` : 'offline';
  $('peer-presence').classList.toggle('on', online(f));
}

function closeConversation() {
  state.open = null;
  $('conversation').hidden = true;
  $('no-conversation').hidden = false;
  document.body.classList.remove('in-conversation');
}

function note(text, cls = 'note') {
  const li = document.createElement('li');
  li.className = `msg ${cls}`;
  const p = document.createElement('p');
  p.textContent = text;
  li.append(p);
  return li;
}

// The entry of one processed message (text, warning or a "Keys changed" note).
function entry(m, result) {
  const conv = state.open;
  const mine = m.sender_id === state.me.id;
  if (result.ok && result.kind === 'rekey') {
    const li = note(`Keys changed: ${mine ? 'you' : conv.peer.username} refreshed the encryption keys (epoch ${result.rekeyTo}).`);
    li.dataset.id = m.id;
    li.classList.add('keys-changed');
    return li;
  }
  if (result.ok && result.kind === 'ecdh') {
    const li = note(`${mine ? 'You' : conv.peer.username} started end-to-end encryption with key #${result.announce.key_id}.`);
    li.dataset.id = m.id;
    li.classList.add('ecdh');
    return li;
  }
  const li = clone('message-item');
  li.dataset.id = m.id;
  li.classList.add(mine ? 'mine' : 'theirs');
  const t = li.querySelector('time');
  t.dateTime = m.created_at;
  t.textContent = time(m.created_at);
  if (result.ok) {
    li.querySelector('.text').textContent = result.text;
  } else {
    li.classList.add('failed');
    li.querySelector('.text').textContent = result.code === 'lost'
      ? 'This message cannot be decrypted: this browser no longer has the key it was made for.'
      : `⚠ This message failed its security checks and is not shown (${result.code}: ${result.reason}).`;
  }
  if (mine) li.querySelector('.status').textContent = statusOf(m.id);
  return li;
}

function statusOf(id) {
  const c = state.open;
  if (!c) return '';
  if (id <= c.peerRead) return 'read';
  if (id <= c.peerDelivered) return 'delivered';
  return 'sent';
}

function refreshStatuses() {
  for (const li of $('messages').querySelectorAll('li.mine')) {
    li.querySelector('.status').textContent = statusOf(Number(li.dataset.id));
  }
}

function place(li) {
  const ol = $('messages');
  const id = Number(li.dataset.id);
  const existing = ol.querySelector(`li[data-id="${id}"]`);
  if (existing) {
    existing.replaceWith(li);
    return;
  }
  const after = [...ol.children].find((x) => x.dataset.id && Number(x.dataset.id) > id);
  ol.insertBefore(li, after || null);
}

// Checks and shows messages, in id order; answers a fresh ecdh made for an
// old key of ours with our own.
async function show(messages, peerInfo) {
  const conv = state.open;
  for (const m of messages) {
    if (conv !== state.open) return;
    if (conv.shown.has(m.id)) continue;
    conv.shown.add(m.id);
    const result = await state.secure.process(m, conv.peer);
    place(entry(m, result));
    conv.newest = Math.max(conv.newest, m.id);
    if (m.sender_id !== state.me.id) conv.newestTheirs = Math.max(conv.newestTheirs, m.id);
    if (result.ok && state.secure.needsAnswer(m) && conv.peerKeyId) {
      await state.secure.sendAnnouncement(conv.peer, conv.peerKeyId).catch((err) => say($('conv-error'), err.message));
    }
  }
  if (peerInfo) {
    conv.peerRead = Math.max(conv.peerRead, peerInfo.peer_read_upto);
    conv.peerDelivered = Math.max(conv.peerDelivered, peerInfo.peer_delivered_upto);
    // What this user already marked read needs no second write.
    conv.marked.read = Math.max(conv.marked.read, peerInfo.read_upto);
    conv.marked.delivered = Math.max(conv.marked.delivered, peerInfo.read_upto);
  }
  refreshStatuses();
}

function query(params) {
  return new URLSearchParams(Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined))).toString();
}

// One conversation's fetches run one at a time, so messages are processed
// in order and never twice at once.
function serial(fn) {
  const conv = state.open;
  if (!conv) return Promise.resolve();
  conv.queue = conv.queue.then(fn, fn);
  return conv.queue;
}

// Everything after the last processed message, in order, then the read marker.
function catchUp() {
  return serial(catchUpNow);
}

async function catchUpNow() {
  const conv = state.open;
  if (!conv) return;
  // First everything not yet processed in this browser, in id order...
  let after = Math.max(conv.newest, await state.secure.synced(conv.peer));
  for (;;) {
    const page = await api('GET', `/api/messages?${query({ with: conv.peer.username, after, limit: 200 })}`);
    if (conv !== state.open) return;
    await show(page.messages, page);
    if (page.messages.length) after = page.messages[page.messages.length - 1].id;
    await state.secure.setSynced(conv.peer, after);
    if (!page.more) break;
  }
  // ...then, on opening, the newest page (accepted before, so checked again).
  if (!conv.opened) {
    conv.opened = true;
    const page = await api('GET', `/api/messages?${query({ with: conv.peer.username, limit: PAGE })}`);
    if (conv !== state.open) return;
    await show(page.messages, page);
    trimToNewest();
    conv.noOlder = !page.more && $('messages').children.length <= PAGE;
  }
  await markRead();
  scrollToEnd();
}

function trimToNewest() {
  const ol = $('messages');
  while (ol.children.length > PAGE) {
    state.open.shown.delete(Number(ol.firstElementChild.dataset.id));
    ol.firstElementChild.remove();
  }
}

// The id of the oldest message shown (notes of the page itself have none).
function oldestShown() {
  const first = [...$('messages').children].find((li) => li.dataset.id);
  return first ? Number(first.dataset.id) : undefined;
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
    const page = await api('GET', `/api/messages?${query({ with: conv.peer.username, before: oldestShown(), limit: PAGE })}`);
    await show(page.messages);
    conv.noOlder = !page.more;
    ol.scrollTop += ol.scrollHeight - before;
  } finally {
    conv.loadingOlder = false;
  }
}

// Moves a marker only when a newer message of the peer's came in: each move
// is a write and a receipt event for the peer.
async function markRead() {
  const conv = state.open;
  const what = document.visibilityState === 'visible' ? 'read' : 'delivered';
  if (!conv || conv.newestTheirs <= conv.marked[what]) return;
  const upto = conv.newestTheirs;
  try {
    await api('POST', `/api/messages/${what}`, { with: conv.peer.username, upto });
    conv.marked[what] = Math.max(conv.marked[what], upto);
    if (what === 'read') conv.marked.delivered = Math.max(conv.marked.delivered, upto);
    const badge = document.querySelector(`#friends li[data-user="${CSS.escape(conv.peer.username)}"] .unread`);
    if (badge && what === 'read') badge.hidden = true;
  } catch (err) {
    log('marker refused', err.message);
  }
}

function scrollToEnd() {
  const ol = $('messages');
  ol.scrollTop = ol.scrollHeight;
}

// Checks the peer's key against what this browser saw, warns on a change.
async function checkPeerKey(conv) {
  const k = await state.secure.currentPeerKey(conv.peer);
  const warn = $('key-warning');
  if (!k) {
    conv.peerKeyId = null;
    say(warn, `${conv.peer.username} has not opened the chat yet, so there is no key to encrypt with. You can write once they have.`);
    return;
  }
  conv.peerKeyId = k.keyId;
  conv.peerJwk = k.jwk;
  if (k.mismatch) {
    say(warn, `⚠ The server now gives a different key for ${conv.peer.username} than the one this browser saw under the same id. Someone may be intercepting: compare safety numbers before you trust this chat.`);
  } else if (k.changed || conv.keyChanged) {
    conv.keyChanged = true;
    say(warn, `${conv.peer.username}'s keys changed (a new browser, or their storage was cleared). Compare safety numbers again to be sure it is them.`);
    if (k.changed) $('messages').append(note(`Keys changed: ${conv.peer.username} has a new key (#${k.keyId}).`, 'note keys-changed'));
  } else {
    say(warn, '');
  }
  await showVerified(conv);
}

async function showVerified(conv) {
  const v = await state.secure.verified(conv.peer);
  const ok = !!v && v.keyId === conv.peerKeyId && v.myKeyId === state.secure.identity.keyId;
  $('peer-verified').hidden = !ok;
  return ok;
}

async function openConversation(name) {
  const f = state.friends.get(name);
  if (!f) return;
  state.open = {
    peer: { id: f.user_id, username: f.username }, peerKeyId: null, peerJwk: null, newest: 0, newestTheirs: 0,
    marked: { read: 0, delivered: 0 },
    peerRead: 0, peerDelivered: 0, keyChanged: false, shown: new Set(), queue: Promise.resolve(),
  };
  $('peer-name').textContent = f.username;
  showPresence(f);
  $('messages').replaceChildren();
  say($('conv-error'), '');
  $('safety').hidden = true;
  $('conversation').hidden = false;
  $('no-conversation').hidden = true;
  document.body.classList.add('in-conversation');
  for (const li of $('friends').children) li.classList.toggle('active', li.dataset.user === name);
  $('messages').dataset.loading = '1';
  try {
    await checkPeerKey(state.open);
    await catchUp();
  } catch (err) {
    say($('conv-error'), err.message);
  } finally {
    delete $('messages').dataset.loading;
  }
  $('text').focus();
}

$('messages').addEventListener('scroll', () => {
  if ($('messages').scrollTop < 40) loadOlder().catch((err) => say($('conv-error'), err.message));
});

$('back').addEventListener('click', closeConversation);

// Sending takes the text out of the box at once, so the next message can be
// typed (and sent) while this one is on its way, and nothing typed meanwhile is
// wiped when it arrives. A tab's sends go one after another: each seals with
// the next counter only after the one before it was stored.
let sending = Promise.resolve();

function send() {
  const conv = state.open;
  const text = $('text').value;
  if (!conv || !text.trim()) return sending;
  $('text').value = '';
  sending = sending.then(() => sendOne(conv, text));
  return sending;
}

async function sendOne(conv, text) {
  say($('conv-error'), '');
  try {
    if (!conv.peerKeyId) await checkPeerKey(conv);
    if (!conv.peerKeyId) {
      unsent(text, null);	// checkPeerKey has said why
      return;
    }
    await state.secure.sendText(conv.peer, conv.peerKeyId, text);
    if (state.open === conv) await catchUp();
  } catch (err) {
    unsent(text, err.message);
  }
}

// A text that was not sent goes back in the box, or, if something new was
// typed there meanwhile, into the error, so it is never lost unseen. why is
// null when the reason is already on screen.
function unsent(text, why) {
  if ($('text').value === '') {
    $('text').value = text;
    if (why) say($('conv-error'), why);
  } else {
    say($('conv-error'), `Not sent ("${text}")${why ? `: ${why}` : ''}`);
  }
  $('text').focus();
}

$('composer').addEventListener('submit', (ev) => {
  ev.preventDefault();
  send();
});

$('text').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    send();
  }
});

$('refresh-keys').addEventListener('click', async () => {
  const conv = state.open;
  if (!conv) return;
  say($('conv-error'), '');
  try {
    if (!conv.peerKeyId) await checkPeerKey(conv);
    if (!conv.peerKeyId) return;
    await state.secure.rekey(conv.peer, conv.peerKeyId);
    await catchUp();
  } catch (err) {
    say($('conv-error'), err.message);
  }
});

$('show-safety').addEventListener('click', async () => {
  const conv = state.open;
  if (!conv) return;
  await checkPeerKey(conv);
  if (!conv.peerJwk) return;
  $('safety-peer').textContent = conv.peer.username;
  $('safety-number').textContent = await state.secure.safetyNumber(conv.peer, conv.peerJwk);
  $('mark-verified').disabled = await showVerified(conv);
  $('safety').hidden = false;
});

$('hide-safety').addEventListener('click', () => {
  $('safety').hidden = true;
});

$('mark-verified').addEventListener('click', async () => {
  const conv = state.open;
  await state.secure.markVerified(conv.peer, conv.peerKeyId, $('safety-number').textContent);
  $('mark-verified').disabled = await showVerified(conv);
  conv.keyChanged = false;
  say($('key-warning'), '');
});

// --- live updates -------------------------------------------------------------------

function connect() {
  const es = new EventSource('/api/events');
  es.addEventListener('open', () => {
    $('conn').classList.add('on');
    resync();
  });
  es.addEventListener('error', () => {
    $('conn').classList.remove('on');
    // A closed stream (the session ended) does not come back by itself.
    if (es.readyState === EventSource.CLOSED) setTimeout(checkSession, 2000);
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
    connect();
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
    } catch (err) {
      say($('sidebar-error'), err.message);
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
        if (e.sender_id !== state.me.id) {
          const peer = [...state.friends.values()].find((f) => f.user_id === e.sender_id);
          if (peer) await api('POST', '/api/messages/delivered', { with: peer.username, upto: e.id }).catch(() => {});
        }
      }
      break;
    }
    case 'request':
    case 'friend':
      await refreshSidebar();
      break;
    case 'key':
      if (e.user_id === state.me.id) break;
      await refreshSidebar();
      if (conv && conv.peer.id === e.user_id) await checkPeerKey(conv);
      break;
    case 'presence':
      await refreshSidebar();
      break;
    case 'receipt':
      if (conv && conv.peer.id === e.user_id) {
        conv.peerRead = Math.max(conv.peerRead, e.read_upto);
        conv.peerDelivered = Math.max(conv.peerDelivered, e.delivered_upto);
        refreshStatuses();
      }
      break;
    default:
      break;
  }
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') markRead();
});

// --- start ------------------------------------------------------------------------------

$('debug').checked = state.debug;
$('debug').addEventListener('change', () => {
  state.debug = $('debug').checked;
  localStorage.setItem('e2ee-debug', state.debug ? '1' : '0');
  console.info(`[e2ee] debug log ${state.debug ? 'on' : 'off'}`);
});

$('logout').addEventListener('click', async () => {
  try {
    await api('POST', '/api/logout');
  } finally {
    location.assign('/');
  }
});

initSidebar(state, { open: openConversation, close: closeConversation, presence: showPresence });

async function start() {
  let me;
  try {
    me = await api('GET', '/api/me');
  } catch (err) {
    if (err.status === 401) location.assign('/');
    else say($('sidebar-error'), err.message);
    return;
  }
  setCsrf(me.csrf_token);
  state.me = me.user;
  $('me-username').textContent = me.user.username;
  state.secure = new Secure(me.user, log);
  try {
    const { lost } = await state.secure.init();
    $('keys-lost').hidden = !lost;
  } catch (err) {
    say($('sidebar-error'), `Encryption could not start in this browser: ${err.message}`);
    return;
  }
  document.body.dataset.ready = '1';
  connect();
}

start();
