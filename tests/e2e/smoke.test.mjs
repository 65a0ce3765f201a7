// Smoke tests for the home page: it is served over HTTPS and HTTP/2 with the
// security headers, its ES module runs and reaches the API, nothing on the page
// errors, and the Content Security Policy really blocks inline script.

import assert from 'node:assert/strict';
import { test } from './lib/harness.mjs';
import { watch } from './lib/watch.mjs';

const MODULE_PATH = /^\/static\/js\/[^/]+\.js$/;

test('home page loads over HTTPS, runs its module and reports API health ok with no errors', async ({ context, page }) => {
  const watcher = await watch(context);
  const modules = [];
  page.on('response', (r) => {
    if (MODULE_PATH.test(new URL(r.url()).pathname)) modules.push(r);
  });

  const response = await page.goto('/');
  assert.ok(response, 'no response for /');
  assert.equal(new URL(response.url()).protocol, 'https:', `/ was not served over HTTPS: ${response.url()}`);
  assert.equal(response.status(), 200, 'status of /');
  assert.notEqual((await page.title()).trim(), '', '<title> is empty');

  const declared = await page.locator('script[type="module"]').evaluateAll((els) => els.map((s) => s.getAttribute('src')));
  assert.ok(declared.some((src) => src && MODULE_PATH.test(src)), `no <script type="module" src="/static/js/*.js">, found ${JSON.stringify(declared)}`);
  assert.ok(modules.length > 0, 'no /static/js/*.js was requested');
  for (const r of modules) {
    assert.equal(r.status(), 200, `status of ${r.url()}`);
    assert.match((await r.allHeaders())['content-type'] ?? '', /^(text|application)\/javascript\b/, `content-type of ${r.url()}`);
  }

  const health = page.locator('#health');
  await health.waitFor({ state: 'attached' });
  try {
    await page.waitForFunction(() => document.querySelector('#health')?.textContent.trim() === 'ok');
  } catch (e) {
    throw new Error(`#health never said "ok"; it says ${JSON.stringify(await health.textContent())}`, { cause: e });
  }

  const problems = await watcher.problems(page);
  assert.ok(problems.length === 0, `the page reported problems:\n${problems.join('\n')}`);
});

test('home page sends CSP with default-src self and frame-ancestors none, and HSTS', async ({ page }) => {
  const response = await page.goto('/');
  assert.ok(response, 'no response for /');
  // allHeaders(): headers() leaves out security-related headers.
  const headers = await response.allHeaders();

  const csp = headers['content-security-policy'];
  assert.ok(csp, 'no content-security-policy header');
  const policies = parseCsp(csp);
  assert.ok(
    policies.some((p) => p.get('default-src') === "'self'"),
    `CSP has no "default-src 'self'": ${csp}`,
  );
  assert.ok(
    policies.some((p) => p.get('frame-ancestors') === "'none'"),
    `CSP has no "frame-ancestors 'none'": ${csp}`,
  );

  const hsts = headers['strict-transport-security'];
  assert.ok(hsts, 'no strict-transport-security header');
  const maxAge = /(?:^|;)\s*max-age\s*=\s*"?(\d+)"?/i.exec(hsts);
  assert.ok(maxAge && Number(maxAge[1]) > 0, `HSTS without a positive max-age: ${hsts}`);
});

test('CSP blocks an inline script injected into the home page', async ({ context, page }) => {
  const watcher = await watch(context);
  await page.goto('/');
  const before = (await watcher.cspViolations(page)).length;

  await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.__inlineRan = 1';
    document.body.append(script);
  });

  // The violation event is dispatched asynchronously, after the append.
  try {
    await page.waitForFunction(
      (n) => window.__cspViolations.slice(n).some((v) => v.blockedURI === 'inline' && v.directive.startsWith('script-src')),
      before,
      { timeout: 5_000 },
    );
  } catch (e) {
    const seen = (await watcher.cspViolations(page)).slice(before);
    throw new Error(`no securitypolicyviolation for the inline script; new violations: ${JSON.stringify(seen)}`, { cause: e });
  }
  assert.equal(await page.evaluate(() => typeof window.__inlineRan), 'undefined', 'the inline script ran');
});

test('home page is served over HTTP/2', async ({ page }) => {
  await page.goto('/');
  const protocol = await page.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol);
  assert.equal(protocol, 'h2', 'navigation nextHopProtocol');
});

// A CSP header value as a list of policies (a comma joins several headers),
// each a Map from lower-case directive name to its source list, normalised
// to single spaces. The first occurrence of a directive wins, as in browsers.
function parseCsp(value) {
  return value.split(',').map((policy) => {
    const directives = new Map();
    for (const part of policy.split(';')) {
      const [name, ...sources] = part.trim().split(/\s+/);
      if (name && !directives.has(name.toLowerCase())) directives.set(name.toLowerCase(), sources.join(' '));
    }
    return directives;
  });
}
