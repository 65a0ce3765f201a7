"""Test client for the chat's account API, used by the API and browser
layers. No back doors: CAPTCHA answers are read from the test database the
tests own, TOTP codes are computed with oathtool from the secret in the
enrolment QR code (decoded with zbarimg).

Each Client sends from a loopback address of its own (127.64.0.0/10), so
nginx's per-address limits on the auth endpoints count each client apart:
a long suite never trips them, and neither does it slow down anyone else
testing the same stack from 127.0.0.1."""
import base64
import hashlib
import os
import random
import re
import secrets
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

STEP = 30
COOKIE = "__Host-sid"


def sql(stack, query):
    """One value (or rows) from the test database, as the admin."""
    r = subprocess.run(["mariadb", "--no-defaults", f"--socket={stack['CHAT_DB_SOCKET']}", "-u", "root",
                        "--default-character-set=utf8mb4", "--batch", "--skip-column-names", stack.get("CHAT_DB_NAME", "chat"), "-e",
                        "SET time_zone = '+00:00'; " + query],
                       capture_output=True, text=True, timeout=20, check=True)
    return r.stdout.strip()


def statements():
    """The SQL of fcgi/core/stmt.c's statement table, by name, with its string
    macros (#define NAME "..." pieces) put in."""
    text = (Path(__file__).resolve().parents[2] / "fcgi" / "core" / "stmt.c").read_text()
    piece = r'"(?:[^"\\]|\\.)*"|[A-Z_][A-Z0-9_]*'
    macros = {m.group(1): m.group(2).replace("\\\n", " ")
              for m in re.finditer(r'^#define ([A-Z_][A-Z0-9_]*) ((?:.*\\\n)*.*)$', text, re.M)}

    def expand(body):
        return "".join(tok[1:-1] if tok.startswith('"') else expand(macros[tok])
                       for tok in re.findall(piece, body))
    return {m.group(1): expand(m.group(2))
            for m in re.finditer(r'\[(STMT_\w+)\]\s*=\s*((?:(?:%s)\s*)+),' % piece, text)}


def sql_rows(stack, query):
    """All rows of a query as lists of strings (NULL reads 'NULL')."""
    out = sql(stack, query)
    return [line.split("\t") for line in out.splitlines()] if out else []


def quote(s):
    """A string literal for the admin's own queries (names and hex the tests made)."""
    return "'" + str(s).replace("\\", "\\\\").replace("'", "''") + "'"


def captcha_answer(stack, captcha_id):
    assert all(c in "0123456789abcdef" for c in captcha_id)
    return sql(stack, f"SELECT answer FROM captchas WHERE id = '{captcha_id}'")


def qr_uri(data_url):
    """The text of a QR code PNG given as a data: URL, decoded with zbarimg."""
    assert data_url.startswith("data:image/png;base64,")
    with tempfile.NamedTemporaryFile(suffix=".png") as f:
        f.write(base64.b64decode(data_url.split(",", 1)[1]))
        f.flush()
        out = subprocess.run(["zbarimg", "-q", "--raw", f.name], capture_output=True, text=True,
                             timeout=20, check=True).stdout
    return out.strip()


def uri_secret(uri):
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(uri).query)
    return q["secret"][0]


def totp(secret, step):
    """The code of time step `step` (oathtool, independent of the server)."""
    t = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(step * STEP))
    return subprocess.run(["oathtool", "--totp", "-b", "-N", t, secret], capture_output=True,
                          text=True, timeout=10, check=True).stdout.strip()


def now_step():
    return int(time.time()) // STEP


def clear_of_step_edge(margin=3):
    """Waits until the current time step has `margin` seconds left, so a
    code computed now for a step relative to now means the same step to the
    server."""
    left = STEP - time.time() % STEP
    if left < margin:
        time.sleep(left + 0.3)


def wrong_code(secret):
    """Six digits that are no code of the secret anywhere near now."""
    near = {totp(secret, now_step() + d) for d in range(-3, 4)}
    while True:
        c = f"{secrets.randbelow(10 ** 6):06d}"
        if c not in near:
            return c


def unique_name(prefix="u"):
    return f"{prefix}_{secrets.token_hex(6)}"


def strong_password():
    return "pass phrase " + secrets.token_urlsafe(12)


def sha256_hex(s):
    return hashlib.sha256(s.encode()).hexdigest()


class User:
    """An account the tests made, with what its owner would keep."""

    def __init__(self, username, password, secret, recovery_codes, user_id=None):
        self.username = username
        self.password = password
        self.secret = secret
        self.recovery_codes = list(recovery_codes)
        self.last_step = 0
        self.id = user_id

    def code(self):
        """A code of a time step the server has not seen yet (waits if all in the window are used)."""
        while True:
            now = now_step()
            for step in (now - 1, now, now + 1):
                # Stay clear of the window's edges: the server's clock reads a moment later.
                if step > self.last_step and not (step == now - 1 and time.time() % STEP > STEP - 3):
                    self.last_step = step
                    return totp(self.secret, step)
            time.sleep(STEP - time.time() % STEP + 0.5)

    def rebound(self, secret):
        """The same account after a new authenticator is bound. The server keeps
        one used time step per account, so the new secret's codes must come from
        a later step than the last one used."""
        u = User(self.username, self.password, secret, self.recovery_codes, self.id)
        u.last_step = self.last_step
        return u


class _SourceAdapter(HTTPAdapter):
    def __init__(self, source, **kw):
        self.source = source
        super().__init__(**kw)

    def init_poolmanager(self, *args, **kw):
        kw["source_address"] = (self.source, 0)
        return super().init_poolmanager(*args, **kw)


def random_source():
    return f"127.{random.randint(64, 127)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


class Client:
    """A browser-like API client: same-origin Origin header, cookies, CSRF token."""

    def __init__(self, stack, source=None, user_agent=None):
        self.stack = stack
        self.base = stack["CHAT_BASE_URL"]
        self.source = source or random_source()
        self.s = requests.Session()
        self.s.verify = stack["CHAT_CA"]
        self.s.trust_env = False
        self.s.mount("https://", _SourceAdapter(self.source))
        self.s.headers["Origin"] = self.base
        if user_agent is not None:
            self.s.headers["User-Agent"] = user_agent
        self.csrf = None
        self.fixed_cookie = None

    def close(self):
        self.s.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def cookie(self):
        """The session token this client holds, or None."""
        if self.fixed_cookie is not None:
            return self.fixed_cookie
        for c in self.s.cookies:
            if c.name == COOKIE:
                return c.value
        return None

    def copy(self):
        """Another client (own address, no cookie jar) holding a saved copy of this
        client's session cookie and CSRF token, as an attacker who stole them would."""
        other = Client(self.stack)
        other.fixed_cookie = self.cookie
        other.csrf = self.csrf
        return other

    def request(self, method, path, json=None, headers=None, **kw):
        h = dict(headers or {})
        if self.csrf and method not in ("GET", "HEAD"):
            h.setdefault("X-CSRF-Token", self.csrf)
        if self.fixed_cookie is not None:
            h.setdefault("Cookie", f"{COOKIE}={self.fixed_cookie}")
        return self.s.request(method, self.base + path, json=json, headers=h, timeout=30, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def captcha(self):
        r = self.post("/api/captcha")
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        return cid, captcha_answer(self.stack, cid)

    def register(self, username, password, answer=None):
        cid, right = self.captcha()
        return self.post("/api/register", {"username": username, "password": password,
                                           "captcha_id": cid, "captcha": right if answer is None else answer})

    def login(self, username, password):
        cid, answer = self.captcha()
        return self.post("/api/login", {"username": username, "password": password,
                                        "captcha_id": cid, "captcha": answer})

    def mfa(self, ticket, method, code):
        r = self.post("/api/login/mfa", {"mfa_ticket": ticket, "method": method, "code": code})
        if r.status_code == 200:
            self.csrf = r.json()["csrf_token"]
        return r

    def enrol(self, username=None, password=None):
        """Registers without confirming: (User, the 201 answer's body)."""
        username = username or unique_name()
        password = password or strong_password()
        r = self.register(username, password)
        assert r.status_code == 201, r.text
        body = r.json()
        secret = uri_secret(qr_uri(body["qr"]))
        assert secret == body["totp_secret"]
        return User(username, password, secret, body["recovery_codes"]), body

    def confirm(self, user, body):
        r = self.post("/api/register/confirm", {"enrolment_token": body["enrolment_token"],
                                                "code": user.code()})
        assert r.status_code == 200, r.text
        self.csrf = r.json()["csrf_token"]
        user.id = r.json()["user"]["id"]
        return r

    def new_user(self, username=None, password=None):
        """Registers and confirms an account; the client is then logged in as it."""
        user, body = self.enrol(username, password)
        self.confirm(user, body)
        return user

    def ticket(self, user, password=None):
        """The MFA ticket of a right (or the given) password."""
        r = self.login(user.username, user.password if password is None else password)
        assert r.status_code == 200, r.text
        return r.json()["mfa_ticket"]

    def log_in(self, user):
        r = self.login(user.username, user.password)
        assert r.status_code == 200, r.text
        r = self.mfa(r.json()["mfa_ticket"], "totp", user.code())
        assert r.status_code == 200, r.text
        return r.json()

    def log_in_with_recovery(self, user):
        r = self.login(user.username, user.password)
        assert r.status_code == 200, r.text
        r = self.mfa(r.json()["mfa_ticket"], "recovery", user.recovery_codes.pop())
        assert r.status_code == 200, r.text
        return r.json()


def b64u(data):
    """base64url without padding, the API's form of binary values."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def new_jwk():
    """(private key, public JWK) of a fresh ECDH P-384 key pair, as WebCrypto exports it."""
    from cryptography.hazmat.primitives.asymmetric import ec
    k = ec.generate_private_key(ec.SECP384R1())
    n = k.public_key().public_numbers()
    return k, {"kty": "EC", "crv": "P-384", "x": b64u(n.x.to_bytes(48, "big")),
               "y": b64u(n.y.to_bytes(48, "big")), "ext": True}


def message(to, sender_key_id, recipient_key_id, counter, epoch=1, kind="text", size=48):
    """A message body as the browser sends it. The server never opens one,
    so random bytes of the right lengths stand for IV, ciphertext and MACs."""
    m = {"to": to, "kind": kind, "sender_key_id": sender_key_id, "recipient_key_id": recipient_key_id,
         "epoch": epoch, "counter": counter, "iv": b64u(bytes(4) + counter.to_bytes(8, "big")),
         "ciphertext": b64u(os.urandom(size)), "mac": b64u(os.urandom(32))}
    if kind == "rekey":
        m["mac2"] = b64u(os.urandom(32))
    return m


class Peer:
    """A logged-in client with its account and published key: one side of a chat."""

    def __init__(self, client, user, key_id=None):
        self.client, self.user, self.key_id = client, user, key_id

    @property
    def name(self):
        return self.user.username

    def put_key(self):
        _, jwk = new_jwk()
        r = self.client.request("PUT", "/api/keys", json={"jwk": jwk})
        assert r.status_code == 201, r.text
        self.key_id = r.json()["key_id"]
        return self.key_id

    def befriend(self, other):
        r = self.client.post("/api/friends/requests", {"username": other.name})
        assert r.status_code == 201, r.text
        r = other.client.post(f"/api/friends/requests/{r.json()['id']}/accept")
        assert r.status_code == 200, r.text

    def send(self, other, counter, **kw):
        return self.client.post("/api/messages", message(other.name, self.key_id, other.key_id, counter, **kw))

    def history(self, other, **params):
        q = urllib.parse.urlencode({"with": other.name, **params})
        return self.client.get(f"/api/messages?{q}")


def peer(clients, key=True):
    """A new account, logged in, with a published key (unless key=False)."""
    c = clients()
    p = Peer(c, c.new_user())
    if key:
        p.put_key()
    return p


def friends(clients):
    """Two new accounts that are friends, each with a key."""
    a, b = peer(clients), peer(clients)
    a.befriend(b)
    return a, b


def env_stack():
    """The stack's settings from the environment (tests/run.sh exports them)."""
    return {k: v for k, v in os.environ.items() if k.startswith("CHAT_")}
