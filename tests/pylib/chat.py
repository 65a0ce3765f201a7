"""Test client for the chat's account API, used by the API and browser
layers. No back doors: CAPTCHA answers are read from the test database the
tests own, TOTP codes are computed with oathtool from the secret in the
enrolment QR code (decoded with zbarimg)."""
import base64
import os
import secrets
import subprocess
import tempfile
import time
import urllib.parse

import requests

STEP = 30


def sql(stack, query):
    """One value (or rows) from the test database, as the admin."""
    r = subprocess.run(["mariadb", "--no-defaults", f"--socket={stack['CHAT_DB_SOCKET']}", "-u", "root",
                        "--batch", "--skip-column-names", stack.get("CHAT_DB_NAME", "chat"), "-e", query],
                       capture_output=True, text=True, timeout=20, check=True)
    return r.stdout.strip()


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


def unique_name(prefix="u"):
    return f"{prefix}_{secrets.token_hex(6)}"


def strong_password():
    return "pass phrase " + secrets.token_urlsafe(12)


class User:
    """An account the tests made, with what its owner would keep."""

    def __init__(self, username, password, secret, recovery_codes):
        self.username = username
        self.password = password
        self.secret = secret
        self.recovery_codes = list(recovery_codes)
        self.last_step = 0

    def code(self):
        """A code of a time step the server has not seen yet (waits if all in the window are used)."""
        while True:
            now = int(time.time()) // STEP
            for step in (now - 1, now, now + 1):
                # Stay clear of the window's edges: the server's clock reads a moment later.
                if step > self.last_step and not (step == now - 1 and time.time() % STEP > STEP - 3):
                    self.last_step = step
                    return totp(self.secret, step)
            time.sleep(STEP - time.time() % STEP + 0.5)


class Client:
    """A browser-like API client: same-origin Origin header, cookies, CSRF token."""

    def __init__(self, stack):
        self.stack = stack
        self.base = stack["CHAT_BASE_URL"]
        self.s = requests.Session()
        self.s.verify = stack["CHAT_CA"]
        self.s.trust_env = False
        self.s.headers["Origin"] = self.base
        self.csrf = None

    def close(self):
        self.s.close()

    def request(self, method, path, json=None, headers=None, **kw):
        h = dict(headers or {})
        if self.csrf and method not in ("GET", "HEAD"):
            h.setdefault("X-CSRF-Token", self.csrf)
        return self.s.request(method, self.base + path, json=json, headers=h, timeout=30, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

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

    def new_user(self, username=None, password=None):
        """Registers and confirms an account; the client is then logged in as it."""
        username = username or unique_name()
        password = password or strong_password()
        r = self.register(username, password)
        assert r.status_code == 201, r.text
        body = r.json()
        secret = uri_secret(qr_uri(body["qr"]))
        assert secret == body["totp_secret"]
        user = User(username, password, secret, body["recovery_codes"])
        r = self.post("/api/register/confirm", {"enrolment_token": body["enrolment_token"],
                                                "code": user.code()})
        assert r.status_code == 200, r.text
        self.csrf = r.json()["csrf_token"]
        return user

    def log_in(self, user):
        r = self.login(user.username, user.password)
        assert r.status_code == 200, r.text
        r = self.mfa(r.json()["mfa_ticket"], "totp", user.code())
        assert r.status_code == 200, r.text
        return r.json()


def env_stack():
    """The stack's settings from the environment (tests/run.sh exports them)."""
    return {k: v for k, v in os.environ.items() if k.startswith("CHAT_")}
