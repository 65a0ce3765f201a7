// Accounts through the real pages: registration with authenticator enrolment,
// login with a TOTP or a recovery code, the account page (password change,
// re-binding the authenticator, sessions, logout), and what the pages say
// when something is refused. CAPTCHA answers come from the test database and
// TOTP codes from the QR code the page shows (see lib/account.mjs); accounts
// that a test only needs to exist are made through the API.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import { test } from './lib/harness.mjs';
import { watch } from './lib/watch.mjs';
import {
  ISSUER, User, baseURL, createUser, enterSession, parseOtpauth, sql, strongPassword, uniqueName, usersNamed,
} from './lib/account.mjs';
import { assertAccessible } from './lib/axe.mjs';
import { screenshot } from './lib/chat.mjs';
import {
  assertCodesLaidOut, assertMessage, assertNoProblems, assertText, autocomplete, firstStep, logIn, logOut,
  printedElements, shownQr, signUp, watchCaptchas,
} from './lib/pages.mjs';

const MSG = {
  credentials: 'The user name or password is wrong.',
  codeWrong: 'The code is wrong.',
  codeReused: 'This code was already used; wait for the next one.',
  // What a refusal that counts adds: the same for existing and unknown names.
  left: (n) => ` ${n} ${n === 1 ? 'attempt' : 'attempts'} left before logins for this name pause.`,
  badUsername: 'A user name is 3 to 32 letters, digits or underscores.',
  pwned: 'This password appears in a list of passwords exposed in data breaches; choose another.',
  run: 'The password is a repeated or sequential pattern such as aaaaaaaa or 12345678; choose another.',
};
const RECOVERY_CODE = /^[a-z0-9]{4}(-[a-z0-9]{4}){3}$/;

test('register: account, QR and key, 10 recovery codes to copy and download, first code → /chat', async ({ context, page }) => {
  const watcher = await watch(context);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL() });
  const captchas = watchCaptchas(page);
  const username = uniqueName('reg');
  const password = strongPassword();

  await page.goto('/register');
  assert.equal(await autocomplete(page, '#username'), 'username', '#username autocomplete');
  assert.equal(await autocomplete(page, '#password'), 'new-password', '#password autocomplete');
  assert.equal(await page.locator('#password').getAttribute('type'), 'password', '#password type');
  assert.ok(await page.locator('#enrol').isHidden(), 'the enrolment shows before registering');
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await captchas.solve(0);
  await page.locator('#register button[type="submit"]').click();

  await page.locator('#enrol').waitFor({ state: 'visible' });
  assert.ok(await page.locator('#register').isHidden(), 'the registration form still shows');
  const otp = parseOtpauth(await shownQr(page, '#qr'));
  assert.equal(otp.issuer, ISSUER, 'issuer in the QR code');
  assert.equal(otp.label, `${ISSUER}:${username}`, 'label in the QR code');
  assert.match(otp.secret ?? '', /^[A-Z2-7]{32}$/, 'a 160-bit base32 secret in the QR code');
  assert.equal((await page.locator('#totp-secret').textContent()).trim(), otp.secret, 'the key shown as text is not the QR code\'s');

  const codes = (await page.locator('#recovery-codes li').allTextContents()).map((c) => c.trim());
  assert.equal(codes.length, 10, `recovery codes listed: ${JSON.stringify(codes)}`);
  for (const c of codes) assert.match(c, RECOVERY_CODE, 'recovery code format');
  assert.equal(new Set(codes).size, 10, 'recovery codes are not all different');

  await page.locator('#copy-codes').click();
  await assertText(page, '#copy-codes', 'Copied');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), codes.join('\n'), 'clipboard after Copy');

  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download-codes').click()]);
  assert.match(download.suggestedFilename(), /\.txt$/, 'downloaded file name');
  const file = await readFile(await download.path(), 'utf8');
  const lines = file.split('\n').map((l) => l.trim());
  for (const c of codes) assert.ok(lines.includes(c), `the downloaded file lacks ${c}:\n${file}`);
  assert.ok(file.includes(username), 'the downloaded file does not name the account');

  assert.equal(await autocomplete(page, '#confirm-code'), 'one-time-code', '#confirm-code autocomplete');
  const user = new User({ username, password, secret: otp.secret, recoveryCodes: codes });
  await page.locator('#confirm-code').fill(await user.code());
  await page.locator('#codes-saved').check();
  await page.locator('#confirm button[type="submit"]').click();
  await page.waitForURL('/chat');
  await assertText(page, '#me-username', username);
  await assertNoProblems(watcher, page);
});

test('register: a refused password shows its reason under the password, with a new CAPTCHA', async ({ context, page }) => {
  const watcher = await watch(context);
  const captchas = watchCaptchas(page);
  const username = uniqueName('pw');
  await page.goto('/register');
  await page.locator('#username').fill(username);

  for (const [password, reason] of [['purple elephant dancing', MSG.pwned], ['aaaaaaaa', MSG.run]]) {
    const before = await captchas.solve();
    const since = captchas.count(); // the refusal must load one more
    await page.locator('#password').fill(password);
    await page.locator('#register button[type="submit"]').click();
    await assertMessage(page, '#password-error', reason);
    assert.ok(await page.locator('#register-error').isHidden(), `#register-error shows for ${JSON.stringify(password)}`);
    const after = await captchas.shown(since);
    assert.notEqual(after.id, before.id, 'the CAPTCHA was not replaced');
    assert.equal(await page.locator('#captcha').inputValue(), '', 'the used CAPTCHA answer stays in the field');
    assert.ok(await page.locator('#enrol').isHidden(), 'the enrolment shows after a refused password');
  }
  assert.equal(await usersNamed(username), 0, 'an account was made with a refused password');
  await assertNoProblems(watcher, page, [[422, '/api/register']]);
});

test('login with a TOTP code: two steps → /chat; its Account link lists this browser as the current session', async ({ context, page }) => {
  const watcher = await watch(context);
  const captchas = watchCaptchas(page);
  const { user } = await createUser();

  await page.goto('/');
  assert.equal(await autocomplete(page, '#username'), 'username', '#username autocomplete');
  assert.equal(await autocomplete(page, '#password'), 'current-password', '#password autocomplete');
  assert.equal(await autocomplete(page, '#mfa-code'), 'one-time-code', '#mfa-code autocomplete');
  assert.ok(await page.locator('#mfa').isHidden(), 'the second step shows before the first');
  await firstStep(page, captchas, user.username, user.password);
  assert.ok(await page.locator('#login').isHidden(), 'the first step still shows');
  assert.equal(await page.locator('#use-totp').getAttribute('aria-selected'), 'true', 'TOTP is not the default second step');
  await page.locator('#mfa-code').fill(await user.code());
  await page.locator('#mfa button[type="submit"]').click();
  await page.waitForURL('/chat');
  await assertText(page, '#me-username', user.username);
  await page.locator('#account-link').click();
  await page.waitForURL('/account');
  await assertText(page, '#recovery-left', '10');

  const ua = await page.evaluate(() => navigator.userAgent);
  const current = page.locator('#sessions tr.current');
  await current.waitFor();
  assert.equal(await current.count(), 1, 'rows marked current');
  assert.match((await current.locator('td').first().textContent()).trim(), /^Chrome on Linux · today \d\d:\d\d$/, 'browser of the current session');
  assert.equal(await current.locator('td').first().getAttribute('title'), ua.slice(0, 255), 'the raw User-Agent in the title');
  assert.equal((await current.locator('button').textContent()).trim(), 'Log out', 'button of the current session');
  // The API session that made the account is listed too, and is not current.
  const others = page.locator('#sessions tr:not(.current)');
  assert.equal(await others.count(), 1, 'other sessions listed');
  assert.equal((await others.locator('button').textContent()).trim(), 'End', 'button of the other session');
  await assertNoProblems(watcher, page);
});

test('login with a recovery code: the switch, then /account says 9 left and that a code was used', async ({ context, page }) => {
  const watcher = await watch(context);
  const captchas = watchCaptchas(page);
  const { user } = await createUser();

  await firstStep(page, captchas, user.username, user.password);
  const totpLabel = (await page.locator('#mfa-label').textContent()).trim();
  await page.locator('#use-recovery').click();
  assert.equal(await page.locator('#use-recovery').getAttribute('aria-selected'), 'true', 'Recovery code not selected');
  assert.equal(await page.locator('#use-totp').getAttribute('aria-selected'), 'false', 'Authenticator code still selected');
  assert.notEqual((await page.locator('#mfa-label').textContent()).trim(), totpLabel, 'the label still asks for an authenticator code');
  assert.match(await page.locator('#mfa-label').textContent(), /recovery code/i, 'label of the recovery code field');
  await page.locator('#mfa-code').fill(user.recoveryCodes[3]);
  await page.locator('#mfa button[type="submit"]').click();
  await page.waitForURL('/account');
  await assertText(page, '#me-username', user.username);
  await assertText(page, '#recovery-left', '9');
  await page.locator('#notice').waitFor({ state: 'visible' });
  const notice = (await page.locator('#notice').textContent()).trim();
  assert.match(notice, /recovery code/i, `the notice does not mention the recovery code: ${notice}`);
  assert.match(notice, /\b9\b/, `the notice does not say 9 remain: ${notice}`);
  await assertNoProblems(watcher, page);
});

test('login: a wrong password and an unknown user name get the same message', async ({ context, page }) => {
  const watcher = await watch(context);
  const captchas = watchCaptchas(page);
  const { user } = await createUser();
  await page.goto('/');

  for (const [username, password] of [[user.username, `${user.password} wrong`], [uniqueName('nobody'), user.password]]) {
    await page.locator('#username').fill(username);
    await page.locator('#password').fill(password);
    const before = await captchas.solve();
    const since = captchas.count(); // the refusal must load one more
    await page.locator('#login button[type="submit"]').click();
    await assertMessage(page, '#login-error', MSG.credentials + MSG.left(4));
    assert.ok(await page.locator('#mfa').isHidden(), `the second step shows for ${username}`);
    assert.equal(await page.locator('#password').inputValue(), '', 'the password stays in the field');
    assert.notEqual((await captchas.shown(since)).id, before.id, 'the CAPTCHA was not replaced');
  }
  await assertNoProblems(watcher, page, [[401, '/api/login']]);
});

test('account: change the password (current password + code), log out; the old password fails, the new one works', async ({ context, page }) => {
  const watcher = await watch(context);
  const captchas = watchCaptchas(page);
  const { user, session } = await createUser();
  await enterSession(context, session);

  await page.goto('/account');
  await assertText(page, '#me-username', user.username);
  assert.equal(await autocomplete(page, '#current-password'), 'current-password', '#current-password autocomplete');
  assert.equal(await autocomplete(page, '#pw-code'), 'one-time-code', '#pw-code autocomplete');
  assert.equal(await autocomplete(page, '#new-password'), 'new-password', '#new-password autocomplete');
  assert.equal(await page.locator('#pw-username').inputValue(), user.username, 'the hidden username field for password managers');
  const newPassword = strongPassword();
  await page.locator('#current-password').fill(user.password);
  await page.locator('#pw-code').fill(await user.code());
  await page.locator('#new-password').fill(newPassword);
  await page.locator('#password-form button[type="submit"]').click();
  await page.locator('#notice').waitFor({ state: 'visible' });
  assert.match(await page.locator('#notice').textContent(), /password changed/i, 'notice after the change');
  assert.ok(await page.locator('#password-error').isHidden(), '#password-error shows');
  for (const id of ['#current-password', '#pw-code', '#new-password']) assert.equal(await page.locator(id).inputValue(), '', `${id} not cleared`);

  const since = captchas.count();
  await logOut(page);
  await page.locator('#username').fill(user.username);
  await page.locator('#password').fill(user.password);
  await captchas.solve(since);
  await page.locator('#login button[type="submit"]').click();
  await assertMessage(page, '#login-error', MSG.credentials + MSG.left(4));
  assert.ok(await page.locator('#mfa').isHidden(), 'the old password reached the second step');

  // The refusal loaded CAPTCHA number since + 2; log in with it on the same page.
  await logIn(page, captchas, user, { password: newPassword, since: since + 1 });
  await assertNoProblems(watcher, page, [[401, '/api/login']]);
});

test('account: bind a new authenticator from its QR code; after logout the old one is refused, the new one works', async ({ context, page }) => {
  const watcher = await watch(context);
  const captchas = watchCaptchas(page);
  const { user, session } = await createUser();
  await enterSession(context, session);
  const oldSecret = user.secret;

  await page.goto('/account');
  await assertText(page, '#me-username', user.username);
  assert.ok(await page.locator('#totp-enrol').isHidden(), 'the new-authenticator section shows before asking');
  await page.locator('#totp-password').fill(user.password);
  await page.locator('#totp-form button[type="submit"]').click();
  const otp = parseOtpauth(await shownQr(page, '#totp-qr'));
  assert.equal(otp.issuer, ISSUER, 'issuer in the new QR code');
  assert.equal(otp.label, `${ISSUER}:${user.username}`, 'label in the new QR code');
  assert.notEqual(otp.secret, oldSecret, 'the new QR code holds the old secret');
  assert.equal((await page.locator('#totp-enrol #totp-secret').textContent()).trim(), otp.secret, 'the key shown as text is not the QR code\'s');
  assert.equal(await autocomplete(page, '#totp-code'), 'one-time-code', '#totp-code autocomplete');
  await page.locator('#totp-code').fill(await user.code({ secret: otp.secret }));
  await page.locator('#totp-confirm button[type="submit"]').click();
  await page.locator('#notice').waitFor({ state: 'visible' });
  assert.match(await page.locator('#notice').textContent(), /new authenticator/i, 'notice after binding');
  assert.ok(await page.locator('#totp-enrol').isHidden(), 'the new-authenticator section still shows');
  user.secret = otp.secret;

  const since = captchas.count();
  await logOut(page);
  await firstStep(page, captchas, user.username, user.password, { since });
  // A step the server has not seen: only the secret makes this code wrong.
  await page.locator('#mfa-code').fill(await user.code({ secret: oldSecret, consume: false }));
  await page.locator('#mfa button[type="submit"]').click();
  await assertMessage(page, '#mfa-error', MSG.codeWrong + MSG.left(4));
  assert.ok(await page.locator('#mfa').isVisible(), 'the second step closed after a wrong code');
  await page.locator('#mfa-code').fill(await user.code());
  await page.locator('#mfa button[type="submit"]').click();
  await page.waitForURL('/chat');
  await assertText(page, '#me-username', user.username);
  await assertNoProblems(watcher, page, [[401, '/api/login/mfa']]);
});

test('account: the code that confirmed a new authenticator cannot be used again to log in', async ({ context, page }) => {
  const watcher = await watch(context);
  const captchas = watchCaptchas(page);
  const { user, session } = await createUser();
  await enterSession(context, session);

  await page.goto('/account');
  await page.locator('#totp-password').fill(user.password);
  await page.locator('#totp-form button[type="submit"]').click();
  user.secret = parseOtpauth(await shownQr(page, '#totp-qr')).secret;
  // Of step now+1, so that a replay below is still inside the server's window.
  const confirmCode = await user.code({ latest: true });
  await page.locator('#totp-code').fill(confirmCode);
  await page.locator('#totp-confirm button[type="submit"]').click();
  await page.locator('#notice').waitFor({ state: 'visible' });
  const since = captchas.count();
  await logOut(page);
  await firstStep(page, captchas, user.username, user.password, { since });
  await page.locator('#mfa-code').fill(confirmCode);
  await page.locator('#mfa button[type="submit"]').click();
  await page.locator('#mfa-error').waitFor({ state: 'visible', timeout: 5_000 }).catch(() => {});
  assert.notEqual(new URL(page.url()).pathname, '/chat', 'the confirmation code was accepted again at login (replay)');
  await assertMessage(page, '#mfa-error', MSG.codeReused + MSG.left(4));
  await assertNoProblems(watcher, page, [[401, '/api/login/mfa']]);
});

test('/account without a session is redirected by the server to the login page', async ({ context, page }) => {
  const watcher = await watch(context);
  const response = await page.goto('/account');
  assert.ok(response, 'no response for /account');
  const from = response.request().redirectedFrom();
  assert.ok(from, `the server did not redirect /account (landed on ${response.url()} with ${response.status()})`);
  assert.equal(new URL(from.url()).pathname, '/account', 'the redirected request');
  assert.equal((await from.response())?.status(), 303, 'status of the redirect');
  assert.equal(new URL(page.url()).pathname, '/', 'where the browser landed');
  await page.locator('#login').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#me-username').count(), 0, 'the account page is shown');
  await assertNoProblems(watcher, page);
});

test('register: a user name with HTML metacharacters is refused inline and shown as text only', async ({ context, page }) => {
  const watcher = await watch(context);
  const captchas = watchCaptchas(page);
  let dialogs = 0;
  page.on('dialog', (d) => { dialogs++; d.dismiss().catch(() => {}); });
  const username = '<b id="inj">x</b><img src=x>';

  await page.goto('/register');
  await page.locator('#username').fill(username);
  assert.equal(await page.locator('#username').inputValue(), username, 'the field did not take the name as typed');
  await page.locator('#password').fill(strongPassword());
  await captchas.solve(0);
  await page.locator('#register button[type="submit"]').click();
  await assertMessage(page, '#register-error', MSG.badUsername);
  assert.ok(await page.locator('#enrol').isHidden(), 'the enrolment shows for a refused name');
  assert.equal(await page.locator('#inj, img[src="x"]').count(), 0, 'the user name was rendered as HTML');
  assert.equal(dialogs, 0, 'a dialog opened');
  assert.equal(await usersNamed(username), 0, 'an account was made with the name');
  await assertNoProblems(watcher, page, [[422, '/api/register']]);
});

// ---------------------------------------------------------------- issue 11: accounts people would choose

/** Sets a name's failure count (the database's owner), with a lockout of `lockedFor` seconds if given. */
async function setFailures(username, failures, lockedFor = 0) {
  const key = username.toLowerCase();
  const until = lockedFor > 0 ? `NOW(6) + INTERVAL ${lockedFor} SECOND` : 'NULL';
  await sql(`INSERT INTO login_throttle (username, failures, locked_until, failed_at) VALUES ('${key}', ${failures}, ${until}, NOW(6)) `
    + `ON DUPLICATE KEY UPDATE failures = ${failures}, locked_until = ${until}, failed_at = NOW(6)`);
}

/** GET path as a client trusting the test CA: { status, headers, text }. */
async function getPage(path) {
  const ca = await readFile(process.env.CHAT_CA);
  return new Promise((resolve, reject) => {
    https.get(new URL(path, baseURL()), { ca, timeout: 20_000 }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => resolve({ status: r.statusCode, headers: r.headers, text: Buffer.concat(chunks).toString() }));
      r.on('error', reject);
    }).on('error', reject);
  });
}

/** Splits a 6-digit code as an authenticator app shows it. */
const spaced = (code) => `${code.slice(0, 3)} ${code.slice(3)}`;

test('sign-up codes: never overlap, at desktop and phone widths; Copy, Download (named for app and user), Print only the codes', async ({ context, page }) => {
  const watcher = await watch(context);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL() });
  const captchas = watchCaptchas(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  const me = await signUp(page, captchas, { username: uniqueName('codes'), password: strongPassword() });
  await assertCodesLaidOut(page, '#recovery-codes', 'desktop');
  for (const width of [360, 320, 768]) {
    await page.setViewportSize({ width, height: 800 });
    await assertCodesLaidOut(page, '#recovery-codes', `${width}px`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  await screenshot(page, 'signup-codes.png');

  await page.locator('#copy-codes').click();
  await assertText(page, '#copy-codes', 'Copied');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), me.codes.join('\n'), 'clipboard after Copy');

  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download-codes').click()]);
  assert.equal(download.suggestedFilename(), `Sealed-recovery-codes-${me.username}.txt`, 'downloaded file name');
  const file = await readFile(await download.path(), 'utf8');
  assert.ok(file.startsWith(`Sealed recovery codes for ${me.username}\n`), `file heading:\n${file}`);
  for (const c of me.codes) assert.ok(file.split('\n').includes(c), `the file lacks ${c}`);

  const printed = await printedElements(page);
  const texts = printed.map((l) => l.replace(/^[^:]*: /, ''));
  assert.deepEqual(texts, [`Sealed recovery codes for ${me.username}`, ...me.codes], `printed:\n${printed.join('\n')}`);
  await page.evaluate(() => { window.print = () => { window.printed = (window.printed || 0) + 1; }; });
  await page.locator('#print-codes').click();
  assert.equal(await page.evaluate(() => window.printed), 1, 'Print did not open the print dialog');
  await assertNoProblems(watcher, page);
});

test('sign-up: Finish waits for "I have saved these codes"; a first code typed with a space finishes', async ({ context, page }) => {
  const watcher = await watch(context);
  const captchas = watchCaptchas(page);
  const me = await signUp(page, captchas, { username: uniqueName('gate'), password: strongPassword() });
  const user = new User({ username: me.username, password: me.password, secret: me.secret, recoveryCodes: me.codes });
  assert.ok(await page.locator('#finish').isDisabled(), 'Finish is enabled before the codes are confirmed saved');
  assert.equal(await page.locator('#confirm-code').getAttribute('maxlength'), '12', '#confirm-code maxlength');
  assert.equal(await page.locator('#confirm-code').getAttribute('inputmode'), 'numeric', '#confirm-code inputmode');
  const code = spaced(await user.code());
  await page.locator('#confirm-code').fill(code);
  assert.equal(await page.locator('#confirm-code').inputValue(), code, 'the field cut the code');
  await page.locator('#confirm-code').press('Enter');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(new URL(page.url()).pathname, '/register', 'Enter finished without the codes confirmed saved');
  await page.locator('#codes-saved').check();
  assert.ok(await page.locator('#finish').isEnabled(), 'Finish stays disabled after the box is ticked');
  await page.locator('#codes-saved').uncheck();
  assert.ok(await page.locator('#finish').isDisabled(), 'Finish stays enabled after the box is unticked');
  await page.locator('#codes-saved').check();
  await page.locator('#finish').click();
  await page.waitForURL('/chat');
  await assertText(page, '#me-username', me.username);
  await assertNoProblems(watcher, page);
});

test('login: a TOTP code pasted with a space logs in', async ({ context, page }) => {
  const watcher = await watch(context);
  const captchas = watchCaptchas(page);
  const { user } = await createUser();
  await firstStep(page, captchas, user.username, user.password);
  const code = spaced(await user.code());
  await page.locator('#mfa-code').fill(code);
  assert.equal(await page.locator('#mfa-code').inputValue(), code, 'the field cut the code');
  await page.locator('#mfa button[type="submit"]').click();
  await page.waitForURL('/chat');
  await assertText(page, '#me-username', user.username);
  await assertNoProblems(watcher, page);
});

test('sign-up, reload during enrolment, log in: the same key, new codes, finish → /chat; the old codes are void', async ({ context, page }) => {
  const watcher = await watch(context);
  const captchas = watchCaptchas(page);
  const me = await signUp(page, captchas, { username: uniqueName('reload'), password: strongPassword() });
  await page.reload();
  assert.ok(await page.locator('#enrol').isHidden(), 'the enrolment survived in the page');
  assert.equal(await page.evaluate(() => localStorage.length + sessionStorage.length), 0, 'the page stored something');

  const since = captchas.count();
  await page.goto('/');
  await page.locator('#username').fill(me.username);
  await page.locator('#password').fill(me.password);
  await captchas.solve(since);
  await page.locator('#login button[type="submit"]').click();
  await page.locator('#enrol').waitFor({ state: 'visible' });
  assert.ok(await page.locator('#login').isHidden(), 'the login form still shows');
  const otp = parseOtpauth(await shownQr(page, '#qr'));
  assert.equal(otp.secret, me.secret, 'a resumed enrolment shows another key');
  assert.equal((await page.locator('#totp-secret').textContent()).trim(), me.secret, 'key as text');
  const codes = (await page.locator('#recovery-codes li').allTextContents()).map((c) => c.trim());
  assert.equal(codes.length, 10, 'codes listed');
  assert.equal(codes.filter((c) => me.codes.includes(c)).length, 0, 'the old codes came back');
  assert.ok(await page.locator('#finish').isDisabled(), 'Finish is enabled before the codes are confirmed saved');
  const user = new User({ username: me.username, password: me.password, secret: me.secret, recoveryCodes: codes });
  await page.locator('#confirm-code').fill(await user.code());
  await page.locator('#codes-saved').check();
  await page.locator('#finish').click();
  await page.waitForURL('/chat');
  await assertText(page, '#me-username', me.username);
  assert.equal(await page.evaluate(() => localStorage.getItem('e2ee-debug')), null, 'unexpected storage');
  await assertNoProblems(watcher, page);
});

test('CAPTCHA: "New image" loads a new challenge on the login and sign-up pages', async ({ context, page }) => {
  const watcher = await watch(context);
  const captchas = watchCaptchas(page);
  for (const path of ['/', '/register']) {
    const since = captchas.count();
    await page.goto(path);
    const first = await captchas.shown(since);
    assert.ok(await page.locator('#captcha-new').isVisible(), `${path}: no visible New image`);
    const before = captchas.count();
    await page.locator('#captcha-new').click();
    const next = await captchas.shown(before);
    assert.notEqual(next.id, first.id, `${path}: the same challenge`);
    assert.notEqual(await page.locator('#captcha-img').getAttribute('src'), first.image, `${path}: the same image`);
  }
  await assertNoProblems(watcher, page);
});

test('login (after-failures): the first try sends no CAPTCHA; asked for one, the page shows it and goes on', async ({ context, page }) => {
  const watcher = await watch(context);
  const captchas = watchCaptchas(page);
  const { user } = await createUser();
  // The stack asks always; the page is told the other setting, and the server's real answer drives it.
  // The page as the server sends it (CSP and all), fetched by a client trusting the test CA.
  const home = await getPage('/');
  assert.equal(home.status, 200, 'GET /');
  await page.route((url) => url.pathname === '/', (route) => route.fulfill({
    status: 200,
    headers: Object.fromEntries(Object.entries(home.headers).filter(([k]) => !/^(content-length|transfer-encoding|connection)$/i.test(k))
      .map(([k, v]) => [k, String(v)])),
    body: home.text.replace('data-login-captcha="always"', 'data-login-captcha="after-failures"'),
  }));
  const bodies = [];
  page.on('request', (r) => { if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/login') bodies.push(r.postDataJSON()); });
  await page.goto('/');
  assert.ok(await page.locator('#captcha-box').isHidden(), 'the CAPTCHA shows before it is asked for');
  assert.equal(captchas.count(), 0, 'a CAPTCHA was loaded before it was asked for');
  await assertAccessible(page, 'login without a CAPTCHA');
  await page.locator('#username').fill(user.username);
  await page.locator('#password').fill(user.password);
  await page.locator('#login button[type="submit"]').click();
  await page.locator('#captcha-box').waitFor({ state: 'visible' });
  await assertMessage(page, '#login-error', 'Type the characters from the image to continue.');
  assert.deepEqual(Object.keys(bodies[0]).sort(), ['password', 'username'], 'the first try sent a CAPTCHA');
  assert.equal(await page.locator('#password').inputValue(), user.password, 'the password was cleared');
  await captchas.solve(0);
  await page.locator('#login button[type="submit"]').click();
  await page.locator('#mfa').waitFor({ state: 'visible' });
  assert.ok(bodies[1].captcha_id && bodies[1].captcha, 'the second try sent no CAPTCHA');
  await assertNoProblems(watcher, page, [[400, '/api/login']]);
});

test('lockout: failures say how many attempts are left; the lockout counts down with Continue disabled, then re-enables', async ({ context, page }) => {
  const watcher = await watch(context);
  const captchas = watchCaptchas(page);
  const { user } = await createUser();
  await page.goto('/');
  const tries = async (password) => {
    await page.locator('#username').fill(user.username);
    await page.locator('#password').fill(password);
    const since = captchas.count();
    await captchas.solve(since - 1);
    await page.locator('#login button[type="submit"]').click();
    await captchas.shown(since);
  };
  await tries(strongPassword());
  await assertMessage(page, '#login-error', MSG.credentials + MSG.left(4));
  await setFailures(user.username, 3);
  await tries(strongPassword());
  await assertMessage(page, '#login-error', MSG.credentials + MSG.left(1));
  // The 5th failure starts a 1-minute lockout: said at once, with the time.
  await tries(strongPassword());
  await assertMessage(page, '#login-error', `${MSG.credentials} Logins for this name are paused for a while.`);
  await page.waitForFunction(() => /^Try again in [01]:\d\d$/.test(document.getElementById('login-wait').textContent));
  assert.ok(await page.locator('#login-submit').isDisabled(), 'Continue is enabled during the lockout');

  // A shorter lockout (set by the database's owner) to see the end: 429 + Retry-After.
  await page.reload();
  await setFailures(user.username, 6, 4);
  await tries(user.password);
  await assertMessage(page, '#login-error', 'Too many failed attempts; wait before trying again.');
  const first = await page.locator('#login-wait').textContent();
  assert.match(first, /^Try again in 0:0[1-4]$/, 'countdown text');
  assert.ok(await page.locator('#login-submit').isDisabled(), 'Continue is enabled during the lockout');
  await page.waitForFunction((t) => document.getElementById('login-wait').textContent !== t, first);
  await page.locator('#login-submit').waitFor({ state: 'visible' });
  await page.waitForFunction(() => !document.getElementById('login-submit').disabled, null, { timeout: 8000 });
  assert.ok(await page.locator('#login-wait').isHidden(), 'the countdown still shows at zero');
  await assertNoProblems(watcher, page, [[401, '/api/login'], [429, '/api/login']]);
});

test('account: sessions read "Chrome on Linux · today 04:10" in local time; common browsers and dates are named', async ({ context, page }) => {
  const watcher = await watch(context);
  const { session } = await createUser();
  await enterSession(context, session);
  await page.goto('/account');
  const current = page.locator('#sessions tr.current td').first();
  await current.waitFor();
  const hhmm = await page.evaluate(() => { const d = new Date(); return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`; });
  const line = (await current.textContent()).trim();
  // This session was made by the tests' API client, whose User-Agent names no browser.
  assert.match(line, /^Unknown browser · today \d\d:\d\d$/, 'session line');
  assert.equal(await current.getAttribute('title'), 'sealed-e2e-setup/1.0', 'the raw User-Agent in the title');
  const shown = line.slice(-5);
  assert.ok(shown === hhmm || Math.abs(Number(shown.slice(3)) - Number(hhmm.slice(3))) <= 1, `local time ${shown}, now ${hhmm}`);
  const named = await page.evaluate(async () => {
    const { describeAgent, whenLocal } = await import('/static/js/ua.js');
    const now = new Date(2026, 2, 10, 12, 0);
    return {
      agents: [
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chromium/120.0 Chrome/120.0 Safari/537.36',
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
        'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36',
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36 Edg/124.0',
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
        '', 'python-requests/2.31',
      ].map(describeAgent),
      times: [new Date(2026, 2, 10, 4, 10), new Date(2026, 2, 9, 22, 15), new Date(2026, 2, 3, 14, 5), new Date(2025, 11, 24, 9, 0)]
        .map((d) => whenLocal(d.toISOString(), now)),
    };
  });
  assert.deepEqual(named.agents, ['Chromium on Linux', 'Firefox on Windows', 'Safari on macOS', 'Chrome on Android',
    'Edge on Windows', 'Safari on iOS', 'Unknown browser', 'Unknown browser']);
  assert.deepEqual(named.times.slice(0, 2), ['today 04:10', 'yesterday 22:15']);
  assert.match(named.times[2], /^(3 Mar|Mar 3) 14:05$/, 'a date this year');
  assert.match(named.times[3], /2025.* 09:00$/, 'a date of another year');
  await assertNoProblems(watcher, page);
});

test('account: "Log crypto operations to the console" sets localStorage e2ee-debug to 1 and 0', async ({ context, page }) => {
  const watcher = await watch(context);
  const { session } = await createUser();
  await enterSession(context, session);
  await page.goto('/account');
  const box = page.getByLabel('Log crypto operations to the console');
  assert.equal(await box.isChecked(), false, 'the switch starts on');
  await box.check();
  assert.equal(await page.evaluate(() => localStorage.getItem('e2ee-debug')), '1');
  await page.reload();
  assert.equal(await page.getByLabel('Log crypto operations to the console').isChecked(), true, 'the switch forgot');
  await page.getByLabel('Log crypto operations to the console').uncheck();
  assert.equal(await page.evaluate(() => localStorage.getItem('e2ee-debug')), '0');
  await assertNoProblems(watcher, page);
});

test('account: new recovery codes (asked with a spaced code) have Copy, Download and Print, laid out without overlap', async ({ context, page }) => {
  const watcher = await watch(context);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL() });
  const { user, session } = await createUser();
  await enterSession(context, session);
  await page.goto('/account');
  await assertText(page, '#me-username', user.username);
  assert.ok(await page.locator('#codes-box').isHidden(), 'the codes box shows before codes are made');
  await page.locator('#recovery-code').fill(spaced(await user.code()));
  await page.locator('#recovery-form button[type="submit"]').click();
  await page.locator('#codes-box').waitFor({ state: 'visible' });
  const codes = (await page.locator('#recovery-codes li').allTextContents()).map((c) => c.trim());
  assert.equal(codes.length, 10);
  for (const width of [1280, 360]) {
    await page.setViewportSize({ width, height: 800 });
    await assertCodesLaidOut(page, '#recovery-codes', `account ${width}px`);
  }
  await page.locator('#copy-codes').click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), codes.join('\n'), 'clipboard after Copy');
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download-codes').click()]);
  assert.equal(download.suggestedFilename(), `Sealed-recovery-codes-${user.username}.txt`);
  const file = await readFile(await download.path(), 'utf8');
  for (const c of codes) assert.ok(file.split('\n').includes(c), `the file lacks ${c}`);
  const printed = (await printedElements(page)).map((l) => l.replace(/^[^:]*: /, ''));
  assert.deepEqual(printed, [`Sealed recovery codes for ${user.username}`, ...codes], 'printed');
  await assertNoProblems(watcher, page);
});

test('account: a throttled re-authentication counts down with its button disabled; failures say what is left', async ({ context, page }) => {
  const watcher = await watch(context);
  const { user, session } = await createUser();
  await enterSession(context, session);
  await page.goto('/account');
  await assertText(page, '#me-username', user.username);
  await page.locator('#totp-password').fill(strongPassword());
  await page.locator('#totp-form button[type="submit"]').click();
  await assertMessage(page, '#totp-error', MSG.credentials + MSG.left(4));
  await setFailures(user.username, 6, 3);
  await page.locator('#totp-password').fill(user.password);
  await page.locator('#totp-form button[type="submit"]').click();
  await page.waitForFunction(() => /^Try again in 0:0[1-3]$/.test(document.getElementById('totp-wait').textContent));
  assert.ok(await page.locator('#totp-submit').isDisabled(), 'the button is enabled during the lockout');
  await page.waitForFunction(() => !document.getElementById('totp-submit').disabled, null, { timeout: 8000 });
  assert.ok(await page.locator('#totp-wait').isHidden(), 'the countdown still shows at zero');
  await assertNoProblems(watcher, page, [[401, '/api/account/totp'], [429, '/api/account/totp']]);
});

test('axe: login (with its CAPTCHA), sign-up form, sign-up enrolment with codes, account page', async ({ context, page }) => {
  const captchas = watchCaptchas(page);
  await page.goto('/');
  await captchas.shown(0);
  await assertAccessible(page, 'login with its CAPTCHA');
  const since = captchas.count();
  await page.goto('/register');
  await captchas.shown(since);
  await assertAccessible(page, 'sign-up form');
  const me = await signUp(page, captchas, { username: uniqueName('axe'), password: strongPassword() });
  await assertAccessible(page, 'sign-up enrolment step with codes');
  const { session } = await createUser();
  await enterSession(context, session);
  await page.goto('/account');
  await page.locator('#sessions tr').first().waitFor();
  await assertAccessible(page, 'account page');
  assert.ok(me.codes.length === 10);
});
