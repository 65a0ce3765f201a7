// Browser end-to-end tests: Debian's chromium, driven by playwright-core,
// against a running chat server.
//
// Run:
//   (cd tests/e2e && npm ci --no-audit --no-fund)      # once
//   CHAT_BASE_URL=https://localhost:18443 \
//   CHAT_SERVER_CERT=/path/to/server.crt \
//   node tests/e2e/run.mjs
//
// Environment:
//   CHAT_BASE_URL       origin of the server under test, e.g. https://localhost:18443
//   CHAT_SERVER_CERT    PEM file of the server's certificate; chromium trusts
//                       exactly its public key (--ignore-certificate-errors-spki-list)
//   CHAT_E2E_ARTIFACTS  optional directory: a failing test's pages are saved
//                       there as PNG screenshots
//   CHAT_E2E_ONLY       optional regular expression: run only the tests whose
//                       name it matches (e.g. 'password' while working on one)
//   CHAT_CA, CHAT_DB_SOCKET, CHAT_DB_NAME
//                       for the account tests (lib/account.mjs): the CA the
//                       Node side trusts for its API calls, and the test
//                       database CAPTCHA answers are read from
// `tests/stack.sh env test` prints all of these for the test stack.
//
// Needs /usr/bin/chromium (Debian package `chromium`); never downloads a browser.
// The account tests also run mariadb, zbarimg (zbar-tools) and oathtool.
// Runs every *.test.mjs in this directory, in name order, one test at a time.
// Prints "ok - name" / "not ok - name: error" per test, then
// "e2e: N passed, N failed"; exits 1 if any test failed, 2 on bad configuration.

import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { launchChromium } from './lib/browser.mjs';
import { run } from './lib/harness.mjs';

function configError(message) {
  console.error(`e2e: ${message}`);
  process.exit(2);
}

const baseURL = process.env.CHAT_BASE_URL;
const certPath = process.env.CHAT_SERVER_CERT;
const artifactsDir = process.env.CHAT_E2E_ARTIFACTS || null;
let only = null;
if (process.env.CHAT_E2E_ONLY) {
  try {
    only = new RegExp(process.env.CHAT_E2E_ONLY);
  } catch (e) {
    configError(`CHAT_E2E_ONLY is not a regular expression: ${e.message}`);
  }
}
if (!baseURL) configError('CHAT_BASE_URL is not set (e.g. https://localhost:18443)');
if (!URL.canParse(baseURL)) configError(`CHAT_BASE_URL is not a URL: ${baseURL}`);
if (!certPath) configError('CHAT_SERVER_CERT is not set (PEM file of the server certificate)');
if (!existsSync(certPath)) configError(`CHAT_SERVER_CERT does not exist: ${certPath}`);

const here = dirname(fileURLToPath(import.meta.url));
const testFiles = (await readdir(here)).filter((f) => f.endsWith('.test.mjs')).sort();
for (const file of testFiles) await import(pathToFileURL(join(here, file)).href);

const failed = await run({
  launch: () => launchChromium({ certPath }),
  contextOptions: { baseURL },
  artifactsDir,
  only,
});
process.exitCode = failed > 0 ? 1 : 0;
