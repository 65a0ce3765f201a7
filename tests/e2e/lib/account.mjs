// Accounts for the browser tests, with no back door into the server: a
// CAPTCHA's answer is read from the test database the tests own, TOTP codes
// are computed with oathtool from the secret in the QR code the server sent
// (decoded with zbarimg). The same approach as tests/pylib/chat.py.
//
// Environment (tests/stack.sh env test prints all of it):
//   CHAT_BASE_URL    origin of the server under test
//   CHAT_CA          PEM of the CA that signed the server's certificate
//   CHAT_DB_SOCKET   MariaDB socket of the test database
//   CHAT_DB_NAME     its database name [chat]

import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const STEP = 30; // seconds per TOTP time step
export const ISSUER = 'Sealed';
export const SESSION_COOKIE = '__Host-sid';
// Do not offer the previous step this close to the end of the current one:
// by the time a browser has typed and sent the code, the server's window may
// have moved on.
const EDGE_SECONDS = 5;

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (see tests/stack.sh env test)`);
  return value;
}

export const baseURL = () => need('CHAT_BASE_URL').replace(/\/+$/, '');

// ---------------------------------------------------------------- database

/** The output of one query on the test database, as its administrator. */
export async function sql(query) {
  const { stdout } = await run(
    'mariadb',
    ['--no-defaults', `--socket=${need('CHAT_DB_SOCKET')}`, '-u', 'root', '--batch', '--skip-column-names',
      process.env.CHAT_DB_NAME || 'chat', '-e', query],
    { timeout: 20_000 },
  );
  return stdout.trim();
}

/** The answer of the CAPTCHA challenge with this id ('' when there is no such row). */
export async function captchaAnswer(id) {
  if (typeof id !== 'string' || !/^[0-9a-f]{32}$/.test(id)) throw new Error(`not a CAPTCHA id: ${JSON.stringify(id)}`);
  const answer = await sql(`SELECT answer FROM captchas WHERE id = '${id}'`);
  if (answer === '') throw new Error(`no CAPTCHA row with id ${id}`);
  return answer;
}

/** How many users have exactly this name (compared as bytes, so any text is safe). */
export async function usersNamed(username) {
  const hex = Buffer.from(username, 'utf8').toString('hex');
  return Number(await sql(`SELECT COUNT(*) FROM users WHERE username = X'${hex}'`));
}

// ---------------------------------------------------------------- QR and TOTP

/** The text of a QR code given as a PNG data: URL or a PNG buffer, decoded by zbarimg. */
export async function qrText(png) {
  let bytes = png;
  if (typeof png === 'string') {
    const prefix = 'data:image/png;base64,';
    if (!png.startsWith(prefix)) throw new Error(`QR image is not a PNG data URL: ${png.slice(0, 40)}…`);
    bytes = Buffer.from(png.slice(prefix.length), 'base64');
  }
  const dir = await mkdtemp(join(tmpdir(), 'e2e-qr-'));
  try {
    const file = join(dir, 'qr.png');
    await writeFile(file, bytes);
    const { stdout } = await run('zbarimg', ['-q', '--raw', file], { timeout: 20_000 });
    return stdout.trim();
  } catch (e) {
    throw new Error(`zbarimg found no QR code in the image: ${e.message}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** { label, issuer, secret, algorithm, digits, period } of an otpauth://totp/ URI. */
export function parseOtpauth(uri) {
  const u = new URL(uri);
  if (u.protocol !== 'otpauth:' || u.host !== 'totp') throw new Error(`not an otpauth://totp/ URI: ${uri}`);
  const q = u.searchParams;
  return {
    label: decodeURIComponent(u.pathname.replace(/^\//, '')),
    issuer: q.get('issuer'),
    secret: q.get('secret'),
    algorithm: q.get('algorithm'),
    digits: q.get('digits'),
    period: q.get('period'),
  };
}

/** The 6-digit code of `secret` (base32) for time step `step`, by oathtool. */
export async function totp(secret, step) {
  const at = new Date(step * STEP * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const { stdout } = await run('oathtool', ['--totp', '-b', '-N', at, secret], { timeout: 10_000 });
  return stdout.trim();
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An account the tests made, with what its owner keeps: password, TOTP
 * secret, recovery codes. The server takes each time step of a user once and
 * only steps now-1..now+1, so the user remembers the last step it used.
 */
export class User {
  constructor({ username, password, secret, recoveryCodes }) {
    this.username = username;
    this.password = password;
    this.secret = secret;
    this.recoveryCodes = [...recoveryCodes];
    this.lastStep = 0;
  }

  /**
   * The next time step the server would take from this user (waits when the
   * window is used up). With latest, only now+1: a code the server accepts
   * (or, once used, refuses as reused) for the whole next half minute.
   */
  async nextStep({ latest = false } = {}) {
    for (;;) {
      const seconds = Date.now() / 1000;
      const now = Math.floor(seconds / STEP);
      for (const step of latest ? [now + 1] : [now - 1, now, now + 1]) {
        if (step <= this.lastStep) continue;
        if (step === now - 1 && seconds % STEP > STEP - EDGE_SECONDS) continue;
        return step;
      }
      await sleep((STEP - (seconds % STEP) + 0.5) * 1000);
    }
  }

  /**
   * A code the server has not seen from this user, of `secret` (the current
   * one by default). The step counts as used unless consume is false (for a
   * code that is meant to be refused as wrong); latest as for nextStep().
   */
  async code({ secret = this.secret, consume = true, latest = false } = {}) {
    const step = await this.nextStep({ latest });
    if (consume) this.lastStep = step;
    return totp(secret, step);
  }
}

export const uniqueName = (prefix = 'e2e') => `${prefix}_${randomBytes(6).toString('hex')}`;
export const strongPassword = () => `pass phrase ${randomBytes(9).toString('base64url')}`;

// ---------------------------------------------------------------- API client

/**
 * A minimal browser-like API client: same-origin Origin header, the session
 * cookie, the CSRF token. Trusts exactly the test CA (CHAT_CA).
 */
export class ApiClient {
  constructor() {
    this.base = baseURL();
    this.ca = null;
    this.session = null; // value of the session cookie
    this.csrf = null;
  }

  async request(method, path, body) {
    this.ca ??= await readFile(need('CHAT_CA'));
    const url = new URL(path, this.base);
    const payload = body === undefined ? null : Buffer.from(JSON.stringify(body));
    const headers = { Origin: this.base, Accept: 'application/json', 'User-Agent': 'sealed-e2e-setup/1.0' };
    if (payload) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': payload.length });
    if (this.session) headers.Cookie = `${SESSION_COOKIE}=${this.session}`;
    if (this.csrf && method !== 'GET') headers['X-CSRF-Token'] = this.csrf;
    const res = await new Promise((resolve, reject) => {
      const req = https.request(url, { method, headers, ca: this.ca, timeout: 20_000 }, (r) => {
        const chunks = [];
        r.on('data', (c) => chunks.push(c));
        r.on('end', () => resolve({ status: r.statusCode, headers: r.headers, text: Buffer.concat(chunks).toString() }));
        r.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 20 s`)));
      req.on('error', reject);
      req.end(payload ?? undefined);
    });
    for (const c of [res.headers['set-cookie'] ?? []].flat()) {
      const m = new RegExp(`^${SESSION_COOKIE}=([^;]*)`).exec(c);
      if (m) this.session = m[1] || null;
    }
    res.json = res.text ? JSON.parse(res.text) : null;
    return res;
  }

  async expect(status, method, path, body) {
    const res = await this.request(method, path, body);
    if (res.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${res.status}: ${res.text}`);
    return res.json;
  }

  async captcha() {
    const { id } = await this.expect(201, 'POST', '/api/captcha');
    return { captcha_id: id, captcha: await captchaAnswer(id) };
  }
}

/**
 * Registers and confirms a fresh account through the API. Returns the User and
 * the value of its session cookie (the confirmation logs the client in), which
 * enterSession() hands to a browser context.
 */
export async function createUser({ username = uniqueName(), password = strongPassword() } = {}) {
  const api = new ApiClient();
  const r = await api.expect(201, 'POST', '/api/register', { username, password, ...(await api.captcha()) });
  const secret = parseOtpauth(await qrText(r.qr)).secret;
  if (secret !== r.totp_secret) throw new Error(`QR secret ${secret} differs from totp_secret ${r.totp_secret}`);
  const user = new User({ username, password, secret, recoveryCodes: r.recovery_codes });
  await api.expect(200, 'POST', '/api/register/confirm', { enrolment_token: r.enrolment_token, code: await user.code() });
  if (!api.session) throw new Error('the confirmation set no session cookie');
  return { user, session: api.session };
}

/** Puts a session (cookie value from createUser) into a browser context. */
export async function enterSession(context, session) {
  await context.addCookies([{
    name: SESSION_COOKIE, value: session, url: `${baseURL()}/`, secure: true, httpOnly: true, sameSite: 'Strict',
  }]);
}
