// layout.js's pure parts: the day labels, the grouping rule and which text
// becomes a link. (The page's use of them is tested in the browser layer.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dayLabel, GROUP_MS, linkParts, safeHref, sameGroup } from '../../static/js/layout.js';

const at = (y, m, d, h = 12, min = 0) => new Date(y, m - 1, d, h, min).getTime();
const NOW = at(2026, 12, 2, 9, 30);	// a Wednesday

test('dayLabel: today and yesterday by the calendar, not by 24 hours', () => {
  assert.equal(dayLabel(at(2026, 12, 2, 0, 1), NOW), 'Today');
  assert.equal(dayLabel(at(2026, 12, 1, 23, 59), NOW), 'Yesterday');
  assert.equal(dayLabel(at(2026, 12, 1, 0, 0), NOW), 'Yesterday');
});

test('dayLabel: a weekday within the last week, then a date; the year only when it differs', () => {
  assert.equal(dayLabel(at(2026, 11, 29), NOW, 'en-US'), 'Sunday');
  assert.equal(dayLabel(at(2026, 11, 26), NOW, 'en-US'), 'Thursday');
  assert.equal(dayLabel(at(2026, 11, 25), NOW, 'en-US'), 'Wed, November 25');
  assert.equal(dayLabel(at(2025, 12, 24), NOW, 'en-US'), 'December 24, 2025');
});

test('dayLabel: a time ahead of the reader\'s clock is a date, never "Yesterday"', () => {
  assert.equal(dayLabel(at(2026, 12, 3), NOW, 'en-US'), 'Thu, December 3');
});

test('sameGroup: one sender, one day, no pause longer than five minutes', () => {
  const m = (sender, time) => ({ sender, time });
  assert.ok(sameGroup(m('me', NOW), m('me', NOW + GROUP_MS)));
  assert.ok(!sameGroup(m('me', NOW), m('me', NOW + GROUP_MS + 1)));
  assert.ok(!sameGroup(m('me', NOW), m('peer', NOW + 1000)));
  assert.ok(!sameGroup(m('me', at(2026, 12, 1, 23, 59)), m('me', at(2026, 12, 2, 0, 1))));
});

test('linkParts: http and https become links; the text around them stays text', () => {
  assert.deepEqual(linkParts('see https://example.com/a?b=1 now'), [
    { text: 'see ' }, { text: 'https://example.com/a?b=1', href: 'https://example.com/a?b=1' }, { text: ' now' }]);
  assert.deepEqual(linkParts('HTTP://EXAMPLE.com'), [{ text: 'HTTP://EXAMPLE.com', href: 'http://example.com/' }]);
  assert.deepEqual(linkParts('no link here'), [{ text: 'no link here' }]);
});

test('linkParts: other schemes are never links', () => {
  for (const t of ['javascript:alert(1)', 'data:text/html,<b>x</b>', 'file:///etc/passwd', 'ftp://x.org/a', 'vbscript:msgbox',
    'mailto:a@b.c', 'www.example.com', 'https:evil.com', 'https://']) {
    assert.ok(linkParts(t).every((p) => !p.href), t);
  }
  assert.equal(safeHref('javascript://example.com/%0aalert(1)'), null);
});

test('linkParts: sentence punctuation and an unopened bracket stay outside the link', () => {
  const links = (t) => linkParts(t).filter((p) => p.href).map((p) => p.text);
  assert.deepEqual(links('go to https://example.com.'), ['https://example.com']);
  assert.deepEqual(links('(see https://example.com/x)'), ['https://example.com/x']);
  assert.deepEqual(links('https://en.wikipedia.org/wiki/C_(language), ok'), ['https://en.wikipedia.org/wiki/C_(language)']);
  assert.deepEqual(links('"https://a.example/q?x=1"'), ['https://a.example/q?x=1']);
  assert.deepEqual(links('https://a.example/<script>'), ['https://a.example/']);
});

test('linkParts: the parts put together give back the text exactly', () => {
  for (const t of ['a https://x.org/1, b http://y.org/2.', 'https://z.org/(a)) end', '', 'plain']) {
    assert.equal(linkParts(t).map((p) => p.text).join(''), t);
  }
});

test('linkParts: a link never opens another address than the one it shows', () => {
  for (const t of ['https://good.example@evil.example/', 'https://user:pw@good.example/', 'https://google.com\u2215login.evil.ru',
    'https://google.com\u2044login.evil.ru', 'https://\u0430pple.com/', 'https://xn--pple-43d.com\u3002evil/', 'http://ex%61mple.com/',
    'https://example.com\uff0fpath']) {
    assert.ok(linkParts(t).every((p) => !p.href), t);
  }
  assert.equal(safeHref('https://Example.COM:8443/a'), 'https://example.com:8443/a');
  assert.equal(safeHref('http://[::1]:9/x'), 'http://[::1]:9/x');
  assert.equal(safeHref('https://xn--pple-43d.com/'), 'https://xn--pple-43d.com/', 'punycode as written reads as it goes');
});
