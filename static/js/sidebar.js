// sidebar: the chat page's left side: friends with presence and unread
// badges, incoming and sent requests with their buttons, the add-friend box.
// It knows the conversation only through the hooks chat.js gives it.
import { api, say, sayError, $ } from './api.js';
import { isOffline } from './connection.js';

const ONLINE_MS = 60 * 1000;

let state = null;	// chat.js's page state (friends, open conversation)
let hooks = null;	// {open(name), close(), presence(friend), drawn()}

export function clone(id) {
  return $(id).content.firstElementChild.cloneNode(true);
}

export function time(iso) {
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
}

// Never while this browser is offline itself: it cannot know.
export function online(f) {
  return !isOffline() && f.online && f.last_seen && Date.now() - Date.parse(f.last_seen) < ONLINE_MS + 30_000;
}

// Presence in words as well as colour.
function presenceText(f) {
  return isOffline() ? 'unknown' : online(f) ? 'online' : 'offline';
}

// The dots and words again, from what was fetched last (the connection changed).
export function redrawPresence() {
  for (const li of $('friends').children) {
    const f = state.friends.get(li.dataset.user);
    if (!f) continue;
    li.querySelector('.dot').classList.toggle('on', online(f));
    li.querySelector('.presence-text').textContent = presenceText(f);
  }
}

// One refresh of the whole sidebar at a time. Friends and requests are
// fetched together and drawn together, so a friend is never shown beside the
// request that made them one; a call while a refresh runs asks for one more
// round after it, so what is drawn last was fetched after the last call (two
// refreshes side by side could otherwise land in either order).
let refreshing = null;
let again = false;

export function refreshSidebar() {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = (async () => {
    try {
      do {
        again = false;
        const [{ friends }, { incoming, outgoing }] = await Promise.all([
          api('GET', '/api/friends'), api('GET', '/api/friends/requests')]);
        // The two lists are read one after the other: a request accepted
        // in between shows its user in both. A friend has no request.
        const friendIds = new Set(friends.map((f) => f.user_id));
        const pendingOnly = (q) => !friendIds.has(q.user.user_id);
        drawFriends(friends);
        drawRequests(incoming.filter(pendingOnly), outgoing.filter(pendingOnly));
        drawAddResult(outgoing);
        hooks.drawn();
      } while (again);
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

function drawFriends(friends) {
  state.friends = new Map(friends.map((f) => [f.username, f]));
  const ul = $('friends');
  ul.replaceChildren();
  for (const f of friends) {
    const li = clone('friend-item');
    li.dataset.user = f.username;
    li.querySelector('.name').textContent = f.username;
    li.querySelector('.dot').classList.toggle('on', online(f));
    li.querySelector('.presence-text').textContent = presenceText(f);
    const badge = li.querySelector('.unread');
    // The server's count: a whole number, never below zero, whatever it says.
    const unread = state.open && state.open.peer.username === f.username ? 0 : Math.max(0, Math.floor(Number(f.unread)) || 0);
    badge.textContent = String(unread);
    badge.hidden = unread === 0;
    li.classList.toggle('active', !!state.open && state.open.peer.username === f.username);
    li.querySelector('.open').addEventListener('click', () => hooks.open(f.username));
    li.querySelector('.remove').addEventListener('click', () => removeFriend(f.username));
    li.querySelector('.block').addEventListener('click', () => blockUser(f.username));
    ul.append(li);
  }
  $('no-friends').hidden = friends.length > 0;
  if (state.open) {
    const f = state.friends.get(state.open.peer.username);
    if (f) hooks.presence(f);
  }
}

function drawRequests(incoming, outgoing) {
  const render = (list, ul, section, actions) => {
    ul.replaceChildren();
    for (const q of list) {
      const li = clone('request-item');
      li.dataset.user = q.user.username;
      li.querySelector('.name').textContent = q.user.username;
      for (const [label, cls, fn] of actions) {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = `small ${cls}`;
        b.textContent = label;
        b.addEventListener('click', () => act(() => fn(q)));
        li.querySelector('.actions').append(b);
      }
      ul.append(li);
    }
    section.hidden = list.length === 0;
  };
  render(incoming, $('incoming'), $('incoming-section'), [
    ['Accept', 'accept', (q) => api('POST', `/api/friends/requests/${q.id}/accept`)],
    ['Reject', 'reject', (q) => api('POST', `/api/friends/requests/${q.id}/reject`)],
  ]);
  render(outgoing, $('outgoing'), $('outgoing-section'), [
    ['Cancel', 'cancel', (q) => api('DELETE', `/api/friends/requests/${q.id}`)],
  ]);
}

async function act(fn) {
  say($('sidebar-error'), '');
  try {
    await fn();
    await refreshSidebar();
  } catch (err) {
    sayError($('sidebar-error'), err);
  }
}

function removeFriend(name) {
  if (!confirm(`Remove ${name} from your friends?`)) return;
  act(async () => {
    await api('DELETE', `/api/friends/${encodeURIComponent(name)}`);
    if (state.open && state.open.peer.username === name) hooks.close();
  });
}

function blockUser(name) {
  if (!confirm(`Block ${name}? They can no longer message you or see when you are online.`)) return;
  act(async () => {
    await api('POST', `/api/blocks/${encodeURIComponent(name)}`);
    if (state.open && state.open.peer.username === name) hooks.close();
  });
}

// "Request sent to bob." holds only while the request is pending: once bob
// answers it says so, and once it is gone from the list for another reason
// (cancelled, rejected) it goes.
let addResult = null;

function drawAddResult(outgoing) {
  if (!addResult || outgoing.some((q) => q.user.username === addResult)) return;
  const name = addResult;
  addResult = null;
  say($('add-result'), state.friends.has(name) ? `${name} accepted: you are now friends.` : '');
}

// Binds the sidebar to the page's state and the conversation's hooks.
export function initSidebar(pageState, conversationHooks) {
  state = pageState;
  hooks = conversationHooks;
  $('add-friend').addEventListener('submit', addFriend);
}

async function addFriend(ev) {
  ev.preventDefault();
  const name = $('add-name').value.trim();
  say($('add-result'), '');
  say($('sidebar-error'), '');
  if (!name) return;
  try {
    const r = await api('POST', '/api/friends/requests', { username: name });
    say($('add-result'), r.state === 'accepted' ? `You and ${r.friend.username} are now friends.`
      : `Request sent to ${r.to.username}.`);
    addResult = r.state === 'accepted' ? null : r.to.username;
    $('add-name').value = '';
    await refreshSidebar();
  } catch (err) {
    sayError($('sidebar-error'), err);
  }
}
