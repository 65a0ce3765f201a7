// sidebar: the chat page's left side: friends with presence and unread
// badges, incoming and sent requests with their buttons, the add-friend box.
// It knows the conversation only through the hooks chat.js gives it.
import { api, say, $ } from './api.js';

const ONLINE_MS = 60 * 1000;

let state = null;	// chat.js's page state (friends, open conversation)
let hooks = null;	// {open(name), close(), presence(friend)}

export function clone(id) {
  return $(id).content.firstElementChild.cloneNode(true);
}

export function time(iso) {
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
}

export function online(f) {
  return f.online && f.last_seen && Date.now() - Date.parse(f.last_seen) < ONLINE_MS + 30_000;
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
        drawFriends(friends);
        drawRequests(incoming, outgoing);
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
    li.querySelector('.dot').title = online(f) ? 'online' : 'offline';
    const badge = li.querySelector('.unread');
    const unread = state.open && state.open.peer.username === f.username ? 0 : f.unread;
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
    say($('sidebar-error'), err.message);
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
    $('add-name').value = '';
    await refreshSidebar();
  } catch (err) {
    say($('sidebar-error'), err.message);
  }
}
