// Account: password, authenticator, recovery codes, sessions, logout, and
// the crypto debug switch the chat page reads (localStorage 'e2ee-debug').
import { api, say, setCsrf, $ } from './api.js';
import { codesBox } from './codes.js';
import { describeAgent, whenLocal } from './ua.js';
import { refuse } from './wait.js';

const DEBUG_KEY = 'e2ee-debug';
const showCodes = codesBox($('codes-box'));
let enrolment = null;
let username = '';

function notice(text) {
  say($('notice'), text);
}

async function loadMe() {
  const me = await api('GET', '/api/me');
  setCsrf(me.csrf_token);
  username = me.user.username;
  $('me-username').textContent = username;
  $('pw-username').value = username;
  $('recovery-left').textContent = String(me.recovery_remaining);
  const used = sessionStorage.getItem('recovery_notice');
  if (used !== null) {
    sessionStorage.removeItem('recovery_notice');
    notice(`You logged in with a recovery code; ${used} remain. Make new ones below if that is few.`);
  }
}

function cell(text, title) {
  const td = document.createElement('td');
  td.textContent = text;
  if (title) td.title = title;
  return td;
}

async function loadSessions() {
  const { sessions } = await api('GET', '/api/sessions');
  $('sessions').replaceChildren(...sessions.map((s) => {
    const tr = document.createElement('tr');
    const what = `${describeAgent(s.user_agent)} · ${whenLocal(s.created_at)}`;
    tr.append(cell(what, s.user_agent || ''), cell(whenLocal(s.last_seen_at)));
    const td = document.createElement('td');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = s.current ? 'Log out' : 'End';
    b.dataset.sessionId = String(s.id);
    b.addEventListener('click', async () => {
      await api('DELETE', `/api/sessions/${s.id}`);
      if (s.current) location.assign('/');
      else loadSessions();
    });
    td.append(b);
    tr.append(td);
    if (s.current) tr.className = 'current';
    return tr;
  }));
}

// A form whose refusals say how many attempts are left, and whose lockout
// counts down with its submit button disabled.
function guard(form, fn) {
  $(form).addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const errorEl = $(`${form.replace(/-form$/, '')}-error`);
    say(errorEl, '');
    try {
      await fn();
    } catch (e) {
      if (e.status === 401 && e.code === 'unauthenticated') location.assign('/');
      refuse(e, errorEl, $(`${form.replace(/-form$/, '')}-wait`), $(`${form.replace(/-form$/, '')}-submit`));
    }
  });
}

guard('password-form', async () => {
  await api('POST', '/api/account/password', {
    current_password: $('current-password').value,
    code: $('pw-code').value,
    new_password: $('new-password').value,
  });
  for (const id of ['current-password', 'pw-code', 'new-password']) $(id).value = '';
  notice('Password changed. Your other sessions were ended.');
  loadSessions();
});

guard('totp-form', async () => {
  const r = await api('POST', '/api/account/totp', { password: $('totp-password').value });
  $('totp-password').value = '';
  enrolment = r.enrolment_token;
  $('totp-qr').src = r.qr;
  $('totp-secret').textContent = r.totp_secret;
  $('totp-enrol').hidden = false;
  $('totp-code').focus();
});

guard('totp-confirm', async () => {
  await api('POST', '/api/account/totp/confirm', { enrolment_token: enrolment, code: $('totp-code').value });
  $('totp-enrol').hidden = true;
  $('totp-code').value = '';
  notice('New authenticator bound; the old one no longer works. Your other sessions were ended.');
  loadSessions();
});

guard('recovery-form', async () => {
  const r = await api('POST', '/api/account/recovery-codes', { code: $('recovery-code').value });
  $('recovery-code').value = '';
  showCodes(r.recovery_codes, username);
  $('recovery-left').textContent = String(r.recovery_codes.length);
  notice('New recovery codes below; the old ones no longer work. Save these now.');
});

const debug = $('debug-crypto');
debug.checked = localStorage.getItem(DEBUG_KEY) === '1';
debug.addEventListener('change', () => localStorage.setItem(DEBUG_KEY, debug.checked ? '1' : '0'));

$('logout').addEventListener('click', async () => {
  try {
    await api('POST', '/api/logout');
  } finally {
    location.assign('/');
  }
});

loadMe().then(loadSessions).catch(() => location.assign('/'));
