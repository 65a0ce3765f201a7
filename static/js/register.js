// Registration: account, then authenticator enrolment with QR code and
// recovery codes, confirmed by the first code from the authenticator.
import { api, captcha, say, $ } from './api.js';

const cap = captcha($('captcha-img'), $('captcha-new'));
let enrolment = null;
let codes = [];

$('register').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  say($('register-error'), '');
  say($('password-error'), '');
  try {
    const r = await api('POST', '/api/register', {
      username: $('username').value,
      password: $('password').value,
      captcha_id: cap.id() || '',
      captcha: $('captcha').value,
    });
    enrolment = r.enrolment_token;
    codes = r.recovery_codes;
    $('qr').src = r.qr;
    $('totp-secret').textContent = r.totp_secret;
    const list = $('recovery-codes');
    list.replaceChildren(...codes.map((c) => {
      const li = document.createElement('li');
      li.textContent = c;
      return li;
    }));
    $('register').hidden = true;
    $('enrol').hidden = false;
    $('confirm-code').focus();
  } catch (e) {
    $('captcha').value = '';
    cap.reload();
    if (e.code && e.code.startsWith('password_')) say($('password-error'), e.message);
    else say($('register-error'), e.message);
  }
});

$('copy-codes').addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText(codes.join('\n'));
    $('copy-codes').textContent = 'Copied';
  } catch {
    $('copy-codes').textContent = 'Copy failed: select the list instead';
  }
});

$('download-codes').addEventListener('click', () => {
  const blob = new Blob([`Recovery codes for ${$('username').value}\n\n${codes.join('\n')}\n`], { type: 'text/plain' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = 'recovery-codes.txt';
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
});

$('confirm').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  say($('confirm-error'), '');
  try {
    await api('POST', '/api/register/confirm', { enrolment_token: enrolment, code: $('confirm-code').value.trim() });
    location.assign('/chat');
  } catch (e) {
    say($('confirm-error'), e.message);
  }
});
