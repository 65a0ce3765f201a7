// layout: how a conversation reads, decided from what is already on screen.
// Messages stay one <li> each, in the order the checks placed them; this
// module only adds what helps the eye: a date separator before the first
// message of each day, one time per group of consecutive messages of one
// sender, a "New messages" divider, and links made clickable. The pure
// parts (dayLabel, linkParts, sameGroup) take no DOM and are tested in Node.

export const GROUP_MS = 5 * 60 * 1000;	// a pause longer than this starts a new group

const DAY_MS = 24 * 60 * 60 * 1000;

function startOfDay(ms) {
  const d = new Date(ms);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

// "Today", "Yesterday", a weekday within the last week, else the date (with
// the year only when it is not this year), in the reader's own time zone.
export function dayLabel(ms, now = Date.now(), locale = undefined) {
  const days = Math.round((startOfDay(now) - startOfDay(ms)) / DAY_MS);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  if (days > 1 && days < 7) return new Date(ms).toLocaleDateString(locale, { weekday: 'long' });
  const sameYear = new Date(ms).getFullYear() === new Date(now).getFullYear();
  return new Date(ms).toLocaleDateString(locale, sameYear ? { weekday: 'short', day: 'numeric', month: 'long' }
    : { day: 'numeric', month: 'long', year: 'numeric' });
}

export function sameDay(a, b) {
  return startOfDay(a) === startOfDay(b);
}

// Two messages share a group (one time shown, under the last) when one
// sender wrote both, on one day, with no long pause between.
export function sameGroup(a, b) {
  return a.sender === b.sender && sameDay(a.time, b.time) && Math.abs(b.time - a.time) <= GROUP_MS;
}

// Text split into plain runs and links: [{text}, {text, href}]. Only http
// and https, written out in full, become links; the characters that usually
// end a sentence are left out of the link, and a closing bracket only when
// the link did not open one. Nothing is fetched: no previews.
const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;

export function linkParts(text) {
  const parts = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    let url = m[0];
    for (;;) {
      const end = url.at(-1);
      if ('.,;:!?\'"'.includes(end)) url = url.slice(0, -1);
      else if (')]}'.includes(end) && count(url, { ')': '(', ']': '[', '}': '{' }[end]) < count(url, end)) url = url.slice(0, -1);
      else break;
    }
    const href = safeHref(url);
    if (!href) continue;
    if (m.index > last) parts.push({ text: text.slice(last, m.index) });
    parts.push({ text: url, href });
    last = m.index + url.length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}

function count(s, ch) {
  return s.split(ch).length - 1;
}

// The URL the browser would open, only when it is http(s) and goes where it
// reads: no user name or password before the host (https://good.com@evil.com),
// and a host exactly as written, so that look-alike characters (a Cyrillic
// "а", a division slash "∕" that is no slash) never open another address
// than the one shown. Anything else stays text.
export function safeHref(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || !u.hostname || u.username || u.password) return null;
  const written = /^https?:\/\/([^/?#]*)/i.exec(url);
  if (!written || written[1].includes('@')) return null;
  const host = written[1].replace(/:\d*$/, '').toLowerCase();
  if (host !== u.hostname || !/^[\x21-\x7e]+$/.test(host)) return null;
  return u.href;
}

// --- on the page ---------------------------------------------------------------------

// Fills el with text, links as <a> opening in a new tab with neither the
// opener nor the referrer passed on; everything through textContent.
export function fillText(el, text) {
  el.replaceChildren();
  for (const p of linkParts(text)) {
    if (!p.href) {
      el.append(document.createTextNode(p.text));
      continue;
    }
    const a = document.createElement('a');
    a.href = p.href;
    a.textContent = p.text;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    a.referrerPolicy = 'no-referrer';
    el.append(a);
  }
}

function timeOf(li) {
  const t = li.querySelector(':scope > .bubble time');
  const ms = t && t.dateTime ? Date.parse(t.dateTime) : NaN;
  return Number.isFinite(ms) ? ms : null;
}

function dayItem(ms, now) {
  const li = document.createElement('li');
  li.className = 'day';
  const h = document.createElement('h3');
  h.textContent = dayLabel(ms, now);
  li.append(h);
  return li;
}

// Draws separators, groups and the divider again over the whole list. divider
// is the id of the first incoming message to put "New messages" above (0 for
// none). Cheap enough for a page of messages; called after every change.
export function relayout(ol, { divider = 0, now = Date.now() } = {}) {
  for (const li of ol.querySelectorAll(':scope > li.day, :scope > li.divider')) li.remove();
  let prev = null;		// the last message bubble seen: {li, sender, time}
  let day = null;
  let dividerDone = !divider;
  let leading = null;	// the first of the untimed notes just before this item
  for (const li of [...ol.children]) {
    const time = timeOf(li);
    if (time === null) {
      // A note (gap, key change, removal) without a time: it stays with
      // what follows it, and ends a group.
      leading ||= li;
      if (prev) prev.li.classList.remove('grouped-next');
      prev = null;
      continue;
    }
    const at = leading || li;
    if (day === null || !sameDay(day, time)) {
      ol.insertBefore(dayItem(time, now), at);
      day = time;
      prev = null;
    }
    if (!dividerDone && li.classList.contains('theirs') && Number(li.dataset.id) >= divider) {
      const d = document.createElement('li');
      d.className = 'divider';
      const p = document.createElement('p');
      p.textContent = 'New messages';
      d.append(p);
      ol.insertBefore(d, at);
      dividerDone = true;
      prev = null;
    }
    leading = null;
    const cur = { li, sender: li.classList.contains('mine') ? 'me' : 'peer', time };
    const joined = prev && sameGroup(prev, cur) && !li.classList.contains('failed') && !prev.li.classList.contains('failed');
    li.classList.toggle('grouped-prev', !!joined);
    if (prev) prev.li.classList.toggle('grouped-next', !!joined);
    li.classList.remove('grouped-next');
    prev = cur;
  }
}
