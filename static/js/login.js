// Login: user name + password + CAPTCHA, then a TOTP or recovery code.
import { api, captcha, say, showHealth, $ } from './api.js';

const cap = captcha($('captcha-img'), $('captcha-new'));
let ticket = null;
let method = 'totp';

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
  cap.reload();
}

$('login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  say($('login-error'), '');
  try {
    const r = await api('POST', '/api/login', {
      username: $('username').value,
      password: $('password').value,
      captcha_id: cap.id() || '',
      captcha: $('captcha').value,
    });
    ticket = r.mfa_ticket;
    $('login').hidden = true;
    $('mfa').hidden = false;
    $('use-totp').disabled = !r.methods.includes('totp');
    setMethod(r.methods.includes('totp') ? 'totp' : 'recovery');
    $('mfa-code').focus();
  } catch (e) {
    $('password').value = '';
    $('captcha').value = '';
    say($('login-error'), e.message);
    cap.reload();
  }
});

$('use-totp').addEventListener('click', () => setMethod('totp'));
$('use-recovery').addEventListener('click', () => setMethod('recovery'));
$('mfa-back').addEventListener('click', () => restart(''));

$('mfa').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  say($('mfa-error'), '');
  try {
    const r = await api('POST', '/api/login/mfa', { mfa_ticket: ticket, method, code: $('mfa-code').value.trim() });
    if (r.recovery_remaining !== undefined) {
      sessionStorage.setItem('recovery_notice', String(r.recovery_remaining));
    }
    location.assign(r.recovery_remaining !== undefined ? '/account' : '/chat');
  } catch (e) {
    if (e.code === 'ticket_invalid') restart(e.message);
    else say($('mfa-error'), e.message);
  }
});

showHealth($('health'));
