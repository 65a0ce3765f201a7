// Accounts through the real pages: registration with authenticator enrolment,
// login with a TOTP or a recovery code, the account page (password change,
// re-binding the authenticator, sessions, logout), and what the pages say
// when something is refused. CAPTCHA answers come from the test database and
// TOTP codes from the QR code the page shows (see lib/account.mjs); accounts
// that a test only needs to exist are made through the API.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from './lib/harness.mjs';
import { watch } from './lib/watch.mjs';
import {
  ISSUER, User, baseURL, createUser, enterSession, parseOtpauth, strongPassword, uniqueName, usersNamed,
} from './lib/account.mjs';
import {
  assertMessage, assertNoProblems, assertText, autocomplete, firstStep, logIn, logOut, shownQr, watchCaptchas,
} from './lib/pages.mjs';

const MSG = {
  credentials: 'The user name or password is wrong.',
  codeWrong: 'The code is wrong.',
  codeReused: 'This code was already used; wait for the next one.',
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
  assert.equal((await current.locator('td').first().textContent()).trim(), ua.slice(0, 255), 'browser of the current session');
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
    await assertMessage(page, '#login-error', MSG.credentials);
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
  await assertMessage(page, '#login-error', MSG.credentials);
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
  await assertMessage(page, '#mfa-error', MSG.codeWrong);
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
  await assertMessage(page, '#mfa-error', MSG.codeReused);
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
