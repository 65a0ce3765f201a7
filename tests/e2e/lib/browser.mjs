// Launching Debian's chromium for the end-to-end tests.
//
// The browser trusts exactly one certificate key: the one in the PEM file the
// caller names (the server's own certificate). Nothing else is relaxed: no
// ignoreHTTPSErrors, so any other TLS problem fails the test as it would for a
// user. The flags also keep Chromium off the network: host names other than
// localhost do not resolve, and no background, update or sync traffic starts.

import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

// Debian's package; a downloaded Playwright browser is never used.
export const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox', // we run as root, where the sandbox refuses to start
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Otherwise Chromium looks up Google hosts at start-up.
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1',
];

/**
 * Returns base64(SHA-256(SubjectPublicKeyInfo DER)) of the first certificate
 * in the PEM file at certPath: the form --ignore-certificate-errors-spki-list
 * expects. Throws if the file cannot be read or holds no certificate.
 */
export function spkiPin(certPath) {
  const cert = new X509Certificate(readFileSync(certPath));
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/**
 * Starts headless chromium trusting the key of the certificate at certPath.
 * Returns a playwright Browser; the caller closes it.
 */
export async function launchChromium({ certPath }) {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${spkiPin(certPath)}`],
    timeout: 30_000,
  });
}
