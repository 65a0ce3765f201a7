// The accessibility check: axe-core (pinned in package.json) run inside the
// page as it stands, WCAG 2.x A and AA rules. A page passes when axe finds no
// violation of impact "serious" or "critical".
//
// axe is evaluated through the DevTools protocol, not added as a <script>:
// the pages' CSP refuses inline script, and must stay as strict under test.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const source = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe on page; returns the serious and critical violations, each as one line. */
export async function axeViolations(page) {
  const loaded = await page.evaluate(() => typeof window.axe === 'object');
  if (!loaded) await page.evaluate(source);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    resultTypes: ['violations'],
  }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')})`);
}

/** Throws, naming every serious or critical violation, unless page has none. */
export async function assertAccessible(page, what) {
  const found = await axeViolations(page);
  if (found.length) throw new Error(`${what}: ${found.length} accessibility violation(s):\n  # ${found.join('\n  # ')}`);
}
