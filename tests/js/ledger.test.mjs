// node:test for static/js/ledger.js: the pure bookkeeping of counters
// received (windows: new, gap, fill, replay), positions, the freshness of
// a sealed time and the receipt states. No I/O: every case is a value in,
// a value out.
import { test } from 'node:test';
import assert from 'node:assert/strict';

const L = await import('../../static/js/ledger.js');

const w = (high, missing = []) => ({ high, missing });
const MAX_RANGES = 1000;	// ledger.js's bound on the missing ranges kept

// Admits the counters one after another: the last result and every verdict.
function admitAll(counters, start = L.emptyWindow()) {
  let win = start;
  const verdicts = [];
  for (const c of counters) {
    const r = L.admit(win, c);
    verdicts.push(r.verdict);
    win = r.window;
  }
  return { window: win, verdicts };
}

// --- admit --------------------------------------------------------------------

test('admit: counters in order are new, with no gap', () => {
  let win = L.emptyWindow();
  assert.deepEqual(win, w(0));
  for (let c = 1; c <= 5; c++) {
    const r = L.admit(win, c);
    assert.deepEqual(r, { verdict: 'new', gap: 0, window: w(c) });
    win = r.window;
  }
});

test('admit: a counter above the next one opens a gap of the ones in between', () => {
  assert.deepEqual(L.admit(w(0), 4), { verdict: 'new', gap: 3, window: w(4, [[1, 3]]) });
  assert.deepEqual(L.admit(w(4, [[1, 3]]), 5), { verdict: 'new', gap: 0, window: w(5, [[1, 3]]) });
  assert.deepEqual(L.admit(w(5, [[1, 3]]), 7), { verdict: 'new', gap: 1, window: w(7, [[1, 3], [6, 6]]) });
});

test('admit: a counter in a missing range fills it, at either end or in the middle', () => {
  const win = w(10, [[2, 8]]);
  assert.deepEqual(L.admit(win, 2), { verdict: 'fill', gap: 0, window: w(10, [[3, 8]]) });
  assert.deepEqual(L.admit(win, 8), { verdict: 'fill', gap: 0, window: w(10, [[2, 7]]) });
  // In the middle: the range splits in two.
  assert.deepEqual(L.admit(win, 5), { verdict: 'fill', gap: 0, window: w(10, [[2, 4], [6, 8]]) });
  // A one-counter range goes away.
  assert.deepEqual(L.admit(w(10, [[1, 1], [5, 5], [9, 9]]), 5), { verdict: 'fill', gap: 0, window: w(10, [[1, 1], [9, 9]]) });
  // The window given is not changed.
  assert.deepEqual(win, w(10, [[2, 8]]));
});

test('admit: filling every missing counter, in any order, leaves a whole window', () => {
  const { window, verdicts } = admitAll([9, 4, 1, 7, 2, 8, 3, 6, 5]);
  assert.deepEqual(window, w(9));
  assert.deepEqual(verdicts, ['new', 'fill', 'fill', 'fill', 'fill', 'fill', 'fill', 'fill', 'fill']);
});

test('admit: a counter accepted before is a replay, the window unchanged', () => {
  const win = w(10, [[3, 5]]);
  for (const c of [1, 2, 6, 9, 10]) assert.deepEqual(L.admit(win, c), { verdict: 'replay', gap: 0, window: win }, `counter ${c}`);
  // A replay of one that filled a gap.
  const filled = L.admit(win, 4).window;
  assert.equal(L.admit(filled, 4).verdict, 'replay');
  // The highest, accepted above a gap, again.
  const { window, verdicts } = admitAll([1, 5, 5, 3, 3]);
  assert.deepEqual(verdicts, ['new', 'new', 'replay', 'fill', 'replay']);
  assert.deepEqual(window, w(5, [[2, 2], [4, 4]]));
  // Counter 0 was never a message.
  assert.equal(L.admit(w(0), 0).verdict, 'replay');
});

test('admit: the missing ranges stay ascending and disjoint', () => {
  const { window } = admitAll([3, 8, 20, 21, 30, 25, 5, 14]);
  assert.deepEqual(window, w(30, [[1, 2], [4, 4], [6, 7], [9, 13], [15, 19], [22, 24], [26, 29]]));
  for (let i = 1; i < window.missing.length; i++) assert.ok(window.missing[i - 1][1] + 1 < window.missing[i][0]);
  assert.equal(L.missingCount(window), 2 + 1 + 2 + 5 + 5 + 3 + 4);
});

test(`admit: at most ${MAX_RANGES} missing ranges, the two oldest merging`, () => {
  // A server that opens a gap with every message: counters 2, 4, 6, …
  let win = L.emptyWindow();
  for (let k = 1; k <= MAX_RANGES; k++) win = L.admit(win, 2 * k).window;
  assert.equal(win.missing.length, MAX_RANGES);
  assert.deepEqual(win.missing[0], [1, 1]);
  const r = L.admit(win, 2 * MAX_RANGES + 2);
  assert.equal(r.verdict, 'new');
  assert.equal(r.gap, 1);
  assert.equal(r.window.missing.length, MAX_RANGES);
  assert.deepEqual(r.window.missing[0], [1, 3]);		// [1,1] and [3,3] merged
  assert.deepEqual(r.window.missing[1], [5, 5]);
  assert.deepEqual(r.window.missing.at(-1), [2 * MAX_RANGES + 1, 2 * MAX_RANGES + 1]);
  // Nothing that was missing is taken as received; but the accepted 2 now
  // lies inside the merged range, so the window alone calls its replay a
  // fill: refusing it is the slot index's job (keystore.admit asks it first).
  assert.equal(L.admit(r.window, 1).verdict, 'fill');
  assert.equal(L.admit(r.window, 3).verdict, 'fill');
  assert.equal(L.admit(r.window, 2).verdict, 'fill');
  assert.equal(L.admit(r.window, 4).verdict, 'replay');	// outside the merge, still a replay
  assert.equal(L.contiguous(r.window), 0);
  // A new counter without a gap does not merge.
  assert.equal(L.admit(r.window, 2 * MAX_RANGES + 3).window.missing.length, MAX_RANGES);
  // Nor does filling.
  assert.equal(L.admit(r.window, 5).window.missing.length, MAX_RANGES - 1);
});

// --- what a window says ---------------------------------------------------------------

test('contiguous: the highest counter below which nothing is missing', () => {
  assert.equal(L.contiguous(w(0)), 0);
  assert.equal(L.contiguous(w(7)), 7);
  assert.equal(L.contiguous(w(7, [[1, 3]])), 0);
  assert.equal(L.contiguous(w(7, [[4, 5]])), 3);
  assert.equal(L.contiguous(w(9, [[4, 5], [8, 8]])), 3);
});

test('missingCount: every counter of every range', () => {
  assert.equal(L.missingCount(w(0)), 0);
  assert.equal(L.missingCount(w(9, [[1, 1]])), 1);
  assert.equal(L.missingCount(w(20, [[2, 4], [8, 8], [10, 19]])), 3 + 1 + 10);
});

test('missingBefore: how many of the counters before c are missing', () => {
  const win = w(20, [[2, 4], [8, 8], [10, 19]]);
  assert.equal(L.missingBefore(win, 1), 0);
  assert.equal(L.missingBefore(win, 2), 0);		// c itself is not before c
  assert.equal(L.missingBefore(win, 3), 1);
  assert.equal(L.missingBefore(win, 5), 3);
  assert.equal(L.missingBefore(win, 8), 3);
  assert.equal(L.missingBefore(win, 9), 4);
  assert.equal(L.missingBefore(win, 15), 9);
  assert.equal(L.missingBefore(win, 20), 14);
  assert.equal(L.missingBefore(win, 100), L.missingCount(win));
  assert.equal(L.missingBefore(w(5), 5), 0);
});

test('windowOf: a version 1 store (a number) is a window with nothing missing', () => {
  assert.deepEqual(L.windowOf(17), w(17));
  assert.deepEqual(L.windowOf(0), w(0));
  // …that admits as a window does: above is new, at or below a replay.
  assert.equal(L.admit(L.windowOf(17), 17).verdict, 'replay');
  assert.equal(L.admit(L.windowOf(17), 3).verdict, 'replay');
  assert.deepEqual(L.admit(L.windowOf(17), 19), { verdict: 'new', gap: 1, window: w(19, [[18, 18]]) });
  // A version 2 window as stored; nothing (or garbage) is the empty one.
  assert.deepEqual(L.windowOf(w(9, [[2, 3]])), w(9, [[2, 3]]));
  assert.deepEqual(L.windowOf(undefined), w(0));
  assert.deepEqual(L.windowOf(null), w(0));
  assert.deepEqual(L.windowOf({ high: '9', missing: [] }), w(0));
  assert.deepEqual(L.windowOf({ high: 9 }), w(0));
});

// --- positions ---------------------------------------------------------------------------

test('comparePositions: epoch first, then counter', () => {
  assert.equal(L.comparePositions([1, 5], [1, 5]), 0);
  assert.ok(L.comparePositions([1, 5], [1, 6]) < 0);
  assert.ok(L.comparePositions([1, 6], [1, 5]) > 0);
  assert.ok(L.comparePositions([2, 0], [1, 99]) > 0);
  assert.ok(L.comparePositions([1, 99], [2, 1]) < 0);
  const sorted = [[2, 1], [1, 9], [3, 0], [1, 1], [2, 0]].sort(L.comparePositions);
  assert.deepEqual(sorted, [[1, 1], [1, 9], [2, 0], [2, 1], [3, 0]]);
});

test('covers: a position reaches every message at or before it', () => {
  assert.equal(L.covers([1, 5], 1, 5), true);
  assert.equal(L.covers([1, 5], 1, 4), true);
  assert.equal(L.covers([1, 5], 1, 6), false);
  assert.equal(L.covers([2, 0], 1, 1000), true);	// a later epoch covers all of an earlier one
  assert.equal(L.covers([1, 1000], 2, 1), false);
  assert.equal(L.covers(null, 1, 1), false);
  assert.equal(L.covers(undefined, 1, 1), false);
});

test('later: the later of two positions, either may be missing', () => {
  assert.deepEqual(L.later([1, 2], [1, 3]), [1, 3]);
  assert.deepEqual(L.later([2, 1], [1, 3]), [2, 1]);
  assert.deepEqual(L.later(null, [1, 3]), [1, 3]);
  assert.deepEqual(L.later([1, 3], null), [1, 3]);
  assert.equal(L.later(null, null), null);
  const p = [1, 3];
  assert.equal(L.later(p, [1, 3]), p);			// a tie keeps the first
});

// --- sealed times -------------------------------------------------------------------------

const NOW = 1700000000000;
const FRESH = L.ANNOUNCE_FRESH_MS;
const SKEW = L.CLOCK_SKEW_MS;

test('the constants are design §4\'s: a minute fresh, two minutes of skew', () => {
  assert.equal(FRESH, 60 * 1000);
  assert.equal(SKEW, 2 * 60 * 1000);
  assert.equal(L.REKEY_AFTER_MESSAGES, 100);
  assert.equal(L.REKEY_AFTER_MS, 7 * 24 * 3600 * 1000);
});

test('fresh: at most a minute old, with the skew allowance at both edges', () => {
  assert.equal(L.fresh(NOW, NOW), true);
  assert.equal(L.fresh(NOW - FRESH, NOW), true);
  // The old edge: a minute plus the skew, inclusive.
  assert.equal(L.fresh(NOW - FRESH - SKEW, NOW), true);
  assert.equal(L.fresh(NOW - FRESH - SKEW - 1, NOW), false);
  // The future edge: the skew, inclusive.
  assert.equal(L.fresh(NOW + SKEW, NOW), true);
  assert.equal(L.fresh(NOW + SKEW + 1, NOW), false);
  assert.equal(L.fresh(0, NOW), false);
  assert.equal(L.fresh(NOW + 365 * 24 * 3600 * 1000, NOW), false);
});

test('fromTheFuture: only past the skew allowance', () => {
  assert.equal(L.fromTheFuture(NOW, NOW), false);
  assert.equal(L.fromTheFuture(NOW + SKEW, NOW), false);
  assert.equal(L.fromTheFuture(NOW + SKEW + 1, NOW), true);
  assert.equal(L.fromTheFuture(NOW - 10 * SKEW, NOW), false);
  // What is from the future is never fresh, and the fresh are never from the future.
  for (const t of [NOW - FRESH - SKEW, NOW, NOW + SKEW, NOW + SKEW + 1, NOW + 10 * SKEW]) {
    assert.ok(!(L.fresh(t, NOW) && L.fromTheFuture(t, NOW)), `time ${t - NOW}`);
  }
});

test('rekeyDue: after 100 messages sent in the epoch, or a week since it began', () => {
  const DAY = 24 * 3600 * 1000;
  assert.equal(L.rekeyDue(0, NOW, NOW), false);
  assert.equal(L.rekeyDue(99, NOW, NOW), false);
  assert.equal(L.rekeyDue(100, NOW, NOW), true);
  assert.equal(L.rekeyDue(250, NOW, NOW), true);
  assert.equal(L.rekeyDue(1, NOW - 7 * DAY + 1, NOW), false);
  assert.equal(L.rekeyDue(1, NOW - 7 * DAY, NOW), true);
  assert.equal(L.rekeyDue(0, NOW - 30 * DAY, NOW), true);
  // An epoch whose start is not known (0) is not due by time.
  assert.equal(L.rekeyDue(5, 0, NOW), false);
  assert.equal(L.rekeyDue(100, 0, NOW), true);
  // A start in the future (another clock) is not due.
  assert.equal(L.rekeyDue(5, NOW + DAY, NOW), false);
});

// --- receipts -------------------------------------------------------------------------------

test('receiptState: read over delivered over sent', () => {
  assert.equal(L.receiptState(1, 5, null, null), 'sent');
  assert.equal(L.receiptState(1, 5, [1, 4], null), 'sent');
  assert.equal(L.receiptState(1, 5, [1, 5], null), 'delivered');
  assert.equal(L.receiptState(1, 5, [1, 9], [1, 4]), 'delivered');
  assert.equal(L.receiptState(1, 5, [1, 9], [1, 5]), 'read');
  assert.equal(L.receiptState(1, 5, [2, 0], null), 'delivered');	// the peer moved to epoch 2 past all of 1
  assert.equal(L.receiptState(2, 1, [1, 50], [1, 50]), 'sent');
  assert.equal(L.receiptState(2, 1, [2, 1], [2, 1]), 'read');
  // A read position counts even without a delivered one.
  assert.equal(L.receiptState(1, 5, null, [1, 6]), 'read');
});

test('from a window to a receipt: the contiguous position marks what was delivered', () => {
  // The peer received 1..3 and 6 of epoch 1: my 1..3 are delivered, 4..6 not yet.
  const { window } = admitAll([1, 2, 3, 6]);
  const delivered = [1, L.contiguous(window)];
  assert.deepEqual(delivered, [1, 3]);
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((c) => L.receiptState(1, c, delivered, null)),
    ['delivered', 'delivered', 'delivered', 'sent', 'sent', 'sent']);
});
