// The authenticator enrolment step, shared by sign-up and by a login that
// resumes an enrolment a reload interrupted: the QR code and key, the
// recovery codes (codes.js), "I have saved these codes" before Finish, and
// the first code from the authenticator, which activates the account and
// logs in. The page holds the #enrol section (same markup on both pages).
// The secret and codes stay in this page's memory only.
import { api, say, $ } from './api.js';
import { codesBox } from './codes.js';

const showCodes = codesBox($('codes-box'));
let token = null;

const saved = $('codes-saved');
const finish = $('finish');
saved.addEventListener('change', () => { finish.disabled = !saved.checked; });

$('confirm').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  if (!saved.checked) return;
  say($('confirm-error'), '');
  try {
    // Sent as typed: the server takes "123 456" and "123-456" alike.
    await api('POST', '/api/register/confirm', { enrolment_token: token, code: $('confirm-code').value });
    location.assign('/chat');
  } catch (e) {
    say($('confirm-error'), e.message);
  }
});

/**
 * Shows the enrolment of an answer {enrolment_token, qr, totp_secret,
 * recovery_codes} for username, hiding `from` (the form it replaces).
 */
export function startEnrolment(answer, username, from) {
  token = answer.enrolment_token;
  $('qr').src = answer.qr;
  $('totp-secret').textContent = answer.totp_secret;
  showCodes(answer.recovery_codes, username);
  saved.checked = false;
  finish.disabled = true;
  $('confirm-code').value = '';
  from.hidden = true;
  $('enrol').hidden = false;
  $('enrol-title').focus();
}
