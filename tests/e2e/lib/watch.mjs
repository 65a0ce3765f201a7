// Watching a browser context for the things a healthy page never produces:
// console errors, uncaught exceptions, failed requests and Content Security
// Policy violations.
//
// CSP violations are seen two ways: a `securitypolicyviolation` listener that
// an init script installs in every document before the page's own scripts run
// (recorded in window.__cspViolations), and any console message that mentions
// "Content Security Policy" (Chromium logs one for each violation).

// Runs in the page, before any of its scripts, on every navigation.
function recordCspViolations() {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push({
      directive: e.effectiveDirective,
      blockedURI: e.blockedURI,
      sourceFile: e.sourceFile,
      line: e.lineNumber,
    });
  });
}

/**
 * Starts watching context (call it before the first navigation). Returns
 * { cspViolations(page), problems(page) }: the first gives the violation events
 * recorded in page's current document, the second one line per problem seen
 * anywhere in the context so far plus those violations ([] when all is well).
 */
export async function watch(context) {
  const seen = [];
  await context.addInitScript(recordCspViolations);
  context.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) seen.push(`CSP violation (console): ${msg.text()}`);
    else if (msg.type() === 'error') seen.push(`console error: ${msg.text()} (${location(msg)})`);
  });
  context.on('weberror', (webError) => {
    seen.push(`uncaught exception: ${webError.error().message}`);
  });
  // A request can fail after its answer came (a page that moves on right after
  // a 204 cuts off the empty body); such lines end in "(after its answer)".
  const answered = new WeakSet();
  context.on('response', (response) => answered.add(response.request()));
  context.on('requestfailed', (request) => {
    const after = answered.has(request) ? ' (after its answer)' : '';
    seen.push(`request failed: ${request.method()} ${request.url()}: ${request.failure()?.errorText}${after}`);
  });

  const cspViolations = (page) => page.evaluate(() => window.__cspViolations ?? []);
  return {
    cspViolations,
    async problems(page) {
      const events = (await cspViolations(page)).map(
        (v) => `CSP violation: ${v.directive} blocked ${v.blockedURI || '(none)'} at ${v.sourceFile}:${v.line}`,
      );
      return [...seen, ...events];
    },
  };
}

function location(msg) {
  const { url, lineNumber } = msg.location();
  return url ? `${url}:${lineNumber}` : 'no location';
}
