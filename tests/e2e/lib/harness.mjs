// A tiny test harness: test files register tests with test(name, fn); run()
// executes them one after another in one shared browser.
//
// Every test gets its own fresh browser context (no cookies, storage or cache
// from any other test) and a page in it. A test passes when its function
// resolves within TEST_TIMEOUT_MS and fails when it throws or times out.
// Output is one line per test, "ok - name" or "not ok - name: error", then the
// line "e2e: N passed, N failed".

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

const TEST_TIMEOUT_MS = 30_000;
const ACTION_TIMEOUT_MS = 10_000; // default for each playwright call in a test
const SCREENSHOT_TIMEOUT_MS = 5_000;

const registered = [];

/**
 * Registers fn to run as the test called name. fn receives
 * { browser, context, page }: context is fresh for this test, page is open in it.
 */
export function test(name, fn) {
  if (typeof name !== 'string' || name === '') throw new TypeError('test name must be a non-empty string');
  if (typeof fn !== 'function') throw new TypeError(`test "${name}": fn must be a function`);
  if (registered.some((t) => t.name === name)) throw new Error(`duplicate test name: ${name}`);
  registered.push({ name, fn });
}

/**
 * Runs every registered test in registration order and prints the results.
 * launch() returns a playwright Browser; contextOptions go to newContext();
 * only (a RegExp) keeps the tests whose name it matches;
 * when artifactsDir is set, a failing test's pages are saved there as PNG.
 * Returns the number of failed tests (a launch failure fails every test).
 */
export async function run({ launch, contextOptions = {}, artifactsDir = null, only = null }) {
  const tests = only === null ? registered : registered.filter((t) => only.test(t.name));
  let passed = 0;
  let failed = 0;
  const report = (name, error) => {
    if (error === null) {
      passed++;
      console.log(`ok - ${name}`);
    } else {
      failed++;
      console.log(`not ok - ${name}: ${describe(error)}`);
    }
  };

  if (tests.length === 0) {
    report('find tests', new Error(only === null ? 'no tests registered' : `no registered test matches ${only}`));
  } else {
    let browser = null;
    try {
      browser = await launch();
    } catch (error) {
      for (const t of tests) report(t.name, new Error(`browser did not start: ${describe(error)}`));
    }
    if (browser !== null) {
      try {
        for (const t of tests) report(t.name, await runOne(browser, t, contextOptions, artifactsDir));
      } finally {
        await browser.close();
      }
    }
  }

  console.log(`e2e: ${passed} passed, ${failed} failed`);
  return failed;
}

// Returns null when the test passed, else the error that failed it.
async function runOne(browser, t, contextOptions, artifactsDir) {
  let context = null;
  let error = null;
  try {
    context = await browser.newContext(contextOptions);
    context.setDefaultTimeout(ACTION_TIMEOUT_MS);
    const page = await context.newPage();
    await withTimeout(t.fn({ browser, context, page }), TEST_TIMEOUT_MS);
  } catch (e) {
    error = e ?? new Error('test threw a nullish value');
    if (context !== null && artifactsDir) await saveScreenshots(context, t.name, artifactsDir);
  } finally {
    // Closing the context also ends whatever a timed-out test still awaits.
    if (context !== null) await context.close().catch(() => {});
  }
  return error;
}

async function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`test timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// Best effort: a screenshot that fails must not hide the test's own error.
async function saveScreenshots(context, testName, dir) {
  const slug = testName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  try {
    await mkdir(dir, { recursive: true });
    for (const [i, page] of context.pages().entries()) {
      const path = join(dir, `${slug}${i === 0 ? '' : `-${i}`}.png`);
      await page.screenshot({ path, fullPage: true, timeout: SCREENSHOT_TIMEOUT_MS });
    }
  } catch (e) {
    console.log(`# screenshot for "${testName}" not saved: ${describe(e)}`);
  }
}

// The error's message on one line; the rest of a multi-line message (a diff,
// a list of page problems, playwright's call log) follows as "#" comment
// lines, without terminal colours or trailing blank lines.
function describe(error) {
  const text = (error instanceof Error ? error.message : String(error))
    .replace(/\x1b\[[0-9;]*m/g, '')
    .trimEnd();
  const [first, ...rest] = text.split('\n');
  return [first, ...rest.map((line) => `  # ${line}`)].join('\n');
}
