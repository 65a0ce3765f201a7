// connection: whether this page is in touch with the server, said plainly.
// Two things must work: the event stream (live updates) and the API (every
// send and fetch). While either is away an "Offline — reconnecting…" banner
// shows, presence is not claimed for anyone, and the API is probed every few
// seconds; when both are back the page is told once (onBack), so it can
// clear errors that were only about the connection, fetch what it missed and
// post what waits in the outbox.
import { api, onReachable, $ } from './api.js';

// A stream that ends and comes straight back (nchan closes idle streams,
// the proxy restarts) is not worth a banner: only one gone this long.
const STREAM_GRACE_MS = 1500;
// A stream that has not opened this long after the page started is away too.
const FIRST_OPEN_MS = 6000;
const PROBE_MS = 3000;

const conn = {
  stream: false,	// the event stream is open
  streamEver: false,	// it was open at least once on this page
  startedLong: false,	// FIRST_OPEN_MS have passed since the page started
  api: true,		// the last API call got the server's own answer
  shown: false,		// the banner is up
  graceTimer: null,
  probeTimer: null,
  hooks: { onBack() {}, onChange() {}, reconnect() {} },
};

export function isOffline() {
  return conn.shown;
}

function update() {
  const streamAway = (conn.streamEver || conn.startedLong) && !conn.stream && conn.graceTimer === null;
  const away = !conn.api || streamAway;
  if (away === conn.shown) return;
  conn.shown = away;
  // The banner stays in the page (a live region) and only its text changes,
  // which screen readers announce; empty, it takes no room.
  $('offline').textContent = away ? 'Offline — reconnecting…' : '';
  document.body.classList.toggle('offline', away);
  $('conn').classList.toggle('on', !away && conn.stream);
  $('conn-text').textContent = away ? 'offline' : 'connected';
  if (away) probe();
  conn.hooks.onChange(away);
  if (!away) conn.hooks.onBack();
}

// While the API is away, one cheap call every few seconds finds out when it is back.
function probe() {
  if (conn.probeTimer || conn.api) return;
  conn.probeTimer = setTimeout(async () => {
    conn.probeTimer = null;
    try {
      await api('GET', '/api/health');
    } catch {
      // reachability was noted by api(); probe() runs again from there
    }
    if (!conn.api) probe();
  }, PROBE_MS);
}

export function streamOpened() {
  conn.stream = true;
  conn.streamEver = true;
  clearTimeout(conn.graceTimer);
  conn.graceTimer = null;
  $('conn').classList.toggle('on', conn.api);
  if (!conn.shown) $('conn-text').textContent = 'connected';
  update();
}

export function streamLost() {
  if (!conn.stream) return;
  conn.stream = false;
  $('conn').classList.remove('on');
  clearTimeout(conn.graceTimer);
  conn.graceTimer = setTimeout(() => {
    conn.graceTimer = null;
    update();
  }, STREAM_GRACE_MS);
}

// hooks: {onBack() when stream and API both work again, onChange(offline),
// reconnect() to open the event stream again now}.
export function initConnection(hooks) {
  Object.assign(conn.hooks, hooks);
  setTimeout(() => {
    conn.startedLong = true;
    update();
  }, FIRST_OPEN_MS);
  const reachable = (ok) => {
    if (ok === conn.api) return;
    conn.api = ok;
    if (!ok) probe();
    update();
  };
  onReachable(reachable);
  // The browser knows when its network is gone: no need to wait for a call
  // to fail (a stream on a dead network can look open for minutes). When it
  // is back, one probe at once says whether the server is.
  window.addEventListener('offline', () => reachable(false));
  window.addEventListener('online', () => {
    clearTimeout(conn.probeTimer);
    conn.probeTimer = null;
    api('GET', '/api/health').catch(() => {});
    // A stream waiting out the browser's back-off would keep the banner up.
    if (!conn.stream) conn.hooks.reconnect();
  });
}
