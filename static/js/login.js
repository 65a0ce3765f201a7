// Login: user name + password (+ CAPTCHA), then a TOTP or recovery code.
// With CHATD_LOGIN_CAPTCHA=after-failures the form first goes without a
// CAPTCHA and shows one when the server answers captcha_required. A pending
// account's right password answers its enrolment, finished as at sign-up.
import { api, captcha, say, showHealth, $ } from './api.js';
import { startEnrolment } from './enrol.js';
import { refuse } from './wait.js';

const askAlways = $('login').dataset.loginCaptcha !== 'after-failures';
const cap = captcha($('captcha-img'), $('captcha-new'), { lazy: !askAlways });
let ticket = null;
let method = 'totp';

function showCaptcha() {
  if (!$('captcha-box').hidden) return;
  $('captcha-box').hidden = false;
  cap.reload();
}
if (askAlways) $('captcha-box').hidden = false;

function setMethod(m) {
  method = m;
  $('use-totp').setAttribute('aria-selected', String(m === 'totp'));
  $('use-recovery').setAttribute('aria-selected', String(m === 'recovery'));
  $('mfa-label').textContent = m === 'totp'
    ? '6-digit code from your authenticator app'
    : 'One of your recovery codes (xxxx-xxxx-xxxx-xxxx)';
  $('mfa-code').inputMode = m === 'totp' ? 'numeric' : 'text';
  $('mfa-code').value = '';
  say($('mfa-error'), '');
}

function restart(message) {
  ticket = null;
  $('mfa').hidden = true;
  $('login').hidden = false;
  $('password').value = '';
  $('captcha').value = '';
  say($('login-error'), message);
  if (!$('captcha-box').hidden) cap.reload();
}

$('login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  say($('login-error'), '');
  const body = { username: $('username').value, password: $('password').value };
  if (!$('captcha-box').hidden) {
    body.captcha_id = cap.id() || '';
    body.captcha = $('captcha').value;
  }
  try {
    const r = await api('POST', '/api/login', body);
    if (r.enrolment) {
      startEnrolment(r.enrolment, body.username, $('login'));
      return;
    }
    ticket = r.mfa_ticket;
    $('login').hidden = true;
    $('mfa').hidden = false;
    $('use-totp').disabled = !r.methods.includes('totp');
    setMethod(r.methods.includes('totp') ? 'totp' : 'recovery');
    $('mfa-code').focus();
  } catch (e) {
    $('captcha').value = '';
    if (e.code === 'captcha_required') {
      // The password is still right to send: only the CAPTCHA was missing.
      showCaptcha();
      say($('login-error'), e.message);
      $('captcha').focus();
      return;
    }
    $('password').value = '';
    refuse(e, $('login-error'), $('login-wait'), $('login-submit'));
    if (!$('captcha-box').hidden) cap.reload();
  }
});

$('use-totp').addEventListener('click', () => setMethod('totp'));
$('use-recovery').addEventListener('click', () => setMethod('recovery'));
$('mfa-back').addEventListener('click', () => restart(''));

$('mfa').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  say($('mfa-error'), '');
  try {
    // Sent as typed: the server takes "123 456" and "123-456" alike.
    const r = await api('POST', '/api/login/mfa', { mfa_ticket: ticket, method, code: $('mfa-code').value });
    if (r.recovery_remaining !== undefined) {
      sessionStorage.setItem('recovery_notice', String(r.recovery_remaining));
    }
    location.assign(r.recovery_remaining !== undefined ? '/account' : '/chat');
  } catch (e) {
    if (e.code === 'ticket_invalid') restart(e.message);
    else refuse(e, $('mfa-error'), $('mfa-wait'), $('mfa-submit'));
  }
});

showHealth($('health'));
