// Account: password, authenticator, recovery codes, sessions, logout.
import { api, say, setCsrf, $ } from './api.js';

let enrolment = null;

function notice(text) {
  say($('notice'), text);
}

async function loadMe() {
  const me = await api('GET', '/api/me');
  setCsrf(me.csrf_token);
  $('me-username').textContent = me.user.username;
  $('pw-username').value = me.user.username;
  $('recovery-left').textContent = String(me.recovery_remaining);
  const used = sessionStorage.getItem('recovery_notice');
  if (used !== null) {
    sessionStorage.removeItem('recovery_notice');
    notice(`You logged in with a recovery code; ${used} remain. Make new ones below if that is few.`);
  }
}

async function loadSessions() {
  const { sessions } = await api('GET', '/api/sessions');
  $('sessions').replaceChildren(...sessions.map((s) => {
    const tr = document.createElement('tr');
    for (const text of [s.user_agent || 'unknown browser', s.created_at, s.last_seen_at]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
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

function guard(form, errorEl, fn) {
  $(form).addEventListener('submit', async (ev) => {
    ev.preventDefault();
    say($(errorEl), '');
    try {
      await fn();
    } catch (e) {
      if (e.status === 401 && e.code === 'unauthenticated') location.assign('/');
      say($(errorEl), e.message);
    }
  });
}

guard('password-form', 'password-error', async () => {
  await api('POST', '/api/account/password', {
    current_password: $('current-password').value,
    code: $('pw-code').value.trim(),
    new_password: $('new-password').value,
  });
  for (const id of ['current-password', 'pw-code', 'new-password']) $(id).value = '';
  notice('Password changed. Your other sessions were ended.');
  loadSessions();
});

guard('totp-form', 'totp-error', async () => {
  const r = await api('POST', '/api/account/totp', { password: $('totp-password').value });
  $('totp-password').value = '';
  enrolment = r.enrolment_token;
  $('totp-qr').src = r.qr;
  $('totp-secret').textContent = r.totp_secret;
  $('totp-enrol').hidden = false;
  $('totp-code').focus();
});

guard('totp-confirm', 'totp-confirm-error', async () => {
  await api('POST', '/api/account/totp/confirm', { enrolment_token: enrolment, code: $('totp-code').value.trim() });
  $('totp-enrol').hidden = true;
  $('totp-code').value = '';
  notice('New authenticator bound; the old one no longer works. Your other sessions were ended.');
  loadSessions();
});

guard('recovery-form', 'recovery-error', async () => {
  const r = await api('POST', '/api/account/recovery-codes', { code: $('recovery-code').value.trim() });
  $('recovery-code').value = '';
  const list = $('new-recovery-codes');
  list.replaceChildren(...r.recovery_codes.map((c) => {
    const li = document.createElement('li');
    li.textContent = c;
    return li;
  }));
  list.hidden = false;
  $('recovery-left').textContent = String(r.recovery_codes.length);
  notice('New recovery codes below; the old ones no longer work. Save these now.');
});

$('logout').addEventListener('click', async () => {
  try {
    await api('POST', '/api/logout');
  } finally {
    location.assign('/');
  }
});

loadMe().then(loadSessions).catch(() => location.assign('/'));
