// Registration: account, then authenticator enrolment (enrol.js) with the
// QR code and recovery codes, confirmed by the first code from the
// authenticator.
import { api, captcha, say, $ } from './api.js';
import { startEnrolment } from './enrol.js';

const cap = captcha($('captcha-img'), $('captcha-new'));

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
    startEnrolment(r, $('username').value, $('register'));
  } catch (e) {
    $('captcha').value = '';
    cap.reload();
    if (e.code && e.code.startsWith('password_')) say($('password-error'), e.message);
    else say($('register-error'), e.message);
  }
});
