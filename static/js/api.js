// The JSON API as the pages use it. Every answer is parsed; an error answer
// becomes an ApiError carrying the server's code and message, which pages
// show with textContent only. `data` is the error body as sent (e.g. a
// refused login's attempts_left and retry_after).

export class ApiError extends Error {
  constructor(status, code, message, retryAfter, data) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
    this.data = data && typeof data === 'object' ? data : {};
  }
}

let csrfToken = null;

// Whether the server answered: each call tells the listeners (connection.js)
// true for any answer of the service's own (a 503 "database unavailable" or a
// 429 included: the page is online, the service said no), false when nothing
// came back or only the proxy answered that the service behind it is away.
const reachListeners = new Set();

export function onReachable(fn) {
  reachListeners.add(fn);
}

function reached(ok) {
  for (const fn of reachListeners) fn(ok);
}

const AWAY = new Set([502, 503, 504]);

export function setCsrf(token) {
  csrfToken = token;
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (csrfToken && method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    reached(false);
    throw new ApiError(0, 'network', 'The server cannot be reached; check your connection.');
  }
  if (res.status === 204) {
    reached(true);
    await res.arrayBuffer().catch(() => {});
    return null;
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    reached(!AWAY.has(res.status));
    throw new ApiError(res.status, 'bad_answer', 'The server sent an answer this page does not understand.');
  }
  // nginx answers {"error":"unavailable"} for a service it cannot reach.
  reached(!(AWAY.has(res.status) && (!data || data.error === 'unavailable')));
  if (!res.ok) {
    let message = data && data.message ? data.message : 'Something went wrong.';
    const retry = Number(res.headers.get('Retry-After') || 0);
    if (res.status === 429 && retry > 0) message += ` Try again in ${formatWait(retry)}.`;
    throw new ApiError(res.status, data && data.error, message, retry, data);
  }
  return data;
}

function formatWait(seconds) {
  if (seconds < 90) return `${seconds} seconds`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

// Whether err only says the server is out of reach (the offline banner says that).
export function unreachable(err) {
  return err instanceof ApiError && (err.status === 0 || (AWAY.has(err.status) && (err.code === 'unavailable' || err.code === 'bad_answer')));
}

// Shows an error's message, unless it only says the server is out of reach:
// the connection banner says that, and an error left from it would be stale.
export function sayError(el, err) {
  if (!unreachable(err)) say(el, err.message);
}

// Shows text (or hides the element when text is empty).
export function say(el, text) {
  el.textContent = text || '';
  el.hidden = !text;
}

// A CAPTCHA widget: loads a new image into img (now, unless { lazy: true }:
// then at the first reload()); button ("New image") loads another. Returns
// { id() of the image shown, reload() }. The alt text stays the same, so
// the field's label keeps making sense; a failure is said in the alt.
export function captcha(img, button, { lazy = false } = {}) {
  let id = null;
  const alt = img.alt;
  async function load() {
    id = null;
    try {
      const c = await api('POST', '/api/captcha', undefined);
      id = c.id;
      img.src = c.image;
      img.alt = alt;
    } catch (e) {
      img.alt = e.message;
    }
  }
  button.addEventListener('click', load);
  if (!lazy) load();
  return { id: () => id, reload: load };
}

export async function showHealth(el) {
  try {
    const body = await api('GET', '/api/health');
    el.textContent = body.status === 'ok' ? 'ok' : 'unavailable';
    el.className = body.status === 'ok' ? 'ok' : 'down';
  } catch {
    el.textContent = 'unavailable';
    el.className = 'down';
  }
}

export function $(id) {
  return document.getElementById(id);
}
