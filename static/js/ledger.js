// ledger: the bookkeeping that lets the browser notice what the server
// hides or reorders, as pure functions (no I/O, no DOM) tested under Node.
//
// Counters. Each direction, key pair and epoch numbers its messages 1, 2,
// 3, … with nothing skipped: the sender allocates them atomically (see
// keystore.allocate) and keeps every sealed message until the server holds
// it. So the receiver's window of a direction, {high, missing}, says
// everything: high is the highest counter accepted, missing the ranges
// below it not seen yet ([from, to], inclusive, ascending). A counter above
// high opens a gap (those in between are missing until they come); one in
// a missing range fills it; anything else was accepted before: a replay.
//
// Positions. [epoch, counter] pairs compare epoch first. A sealed frame's
// seen is the highest contiguous position its sender had received from the
// peer; a receipt's read the highest contiguous position read.

export const ANNOUNCE_FRESH_MS = 60 * 1000;	// design §4: an ecdh less than a minute old is answered
export const CLOCK_SKEW_MS = 2 * 60 * 1000;	// allowance between two browsers' clocks
export const REKEY_AFTER_MESSAGES = 100;	// automatic refresh: after this many sent in an epoch…
export const REKEY_AFTER_MS = 7 * 24 * 3600 * 1000;	// …or this long since the epoch began
const MAX_RANGES = 1000;

export const emptyWindow = () => ({ high: 0, missing: [] });

// A stored window; a version-1 store kept only the highest counter.
export function windowOf(v) {
  if (typeof v === 'number') return { high: v, missing: [] };
  if (v && Number.isSafeInteger(v.high) && Array.isArray(v.missing)) return { high: v.high, missing: v.missing };
  return emptyWindow();
}

// Admits counter c into window w: {verdict: 'new' | 'fill' | 'replay',
// gap (how many this one showed missing), window (the new one)}.
export function admit(w, c) {
  if (c > w.high) {
    const gap = c - w.high - 1;
    let missing = gap > 0 ? [...w.missing, [w.high + 1, c - 1]] : w.missing;
    // A server that opens a gap with every message cannot grow the record
    // without bound: the oldest ranges merge into one.
    if (missing.length > MAX_RANGES) missing = [[missing[0][0], missing[1][1]], ...missing.slice(2)];
    return { verdict: 'new', gap, window: { high: c, missing } };
  }
  const i = w.missing.findIndex(([a, b]) => a <= c && c <= b);
  if (i < 0) return { verdict: 'replay', gap: 0, window: w };
  const [a, b] = w.missing[i];
  const parts = [];
  if (a < c) parts.push([a, c - 1]);
  if (c < b) parts.push([c + 1, b]);
  return { verdict: 'fill', gap: 0, window: { high: w.high, missing: [...w.missing.slice(0, i), ...parts, ...w.missing.slice(i + 1)] } };
}

// The highest counter below which nothing is missing.
export function contiguous(w) {
  return w.missing.length ? w.missing[0][0] - 1 : w.high;
}

export function missingCount(w) {
  return w.missing.reduce((n, [a, b]) => n + b - a + 1, 0);
}

// How many of the counters before c are still missing.
export function missingBefore(w, c) {
  return w.missing.reduce((n, [a, b]) => n + Math.max(0, Math.min(b, c - 1) - a + 1), 0);
}

export function comparePositions(p, q) {
  return p[0] !== q[0] ? p[0] - q[0] : p[1] - q[1];
}

// Whether position p reaches message [epoch, counter].
export const covers = (p, epoch, counter) => !!p && comparePositions(p, [epoch, counter]) >= 0;

// The later of two positions (either may be null).
export function later(p, q) {
  if (!p) return q;
  if (!q) return p;
  return comparePositions(p, q) >= 0 ? p : q;
}

// A key announcement is fresh, and asks for an answer, only by its sealed
// time against this browser's clock: at most a minute old, with the skew
// allowance either way.
export function fresh(time, now) {
  return time >= now - ANNOUNCE_FRESH_MS - CLOCK_SKEW_MS && time <= now + CLOCK_SKEW_MS;
}

// A sealed time further ahead of this clock than the allowance is said on screen.
export const fromTheFuture = (time, now) => time > now + CLOCK_SKEW_MS;

// Whether the pair's keys are due for an automatic refresh: sent counts the
// messages this browser sent in the epoch, since when it began.
export function rekeyDue(sent, since, now) {
  return sent >= REKEY_AFTER_MESSAGES || (since > 0 && now - since >= REKEY_AFTER_MS);
}

// The state of one of my messages at [epoch, counter] from what the peer's
// browser sealed: delivered (its seen), read (its last receipt).
export function receiptState(epoch, counter, delivered, read) {
  if (covers(read, epoch, counter)) return 'read';
  if (covers(delivered, epoch, counter)) return 'delivered';
  return 'sent';
}
