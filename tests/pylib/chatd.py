"""A private chatd for tests that need settings of their own (short session
timeouts, another bcrypt cost, an unreachable Pwned Passwords API): one
worker on a socket of its own, sharing the test stack's database and secret
files, reached directly over FastCGI with the parameters nginx would pass
(nginx/fastcgi-chat.conf). FcgiClient speaks to it with the same methods as
chat.Client."""
import json as jsonlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

from requests.structures import CaseInsensitiveDict

import chat
import fcgi

ROOT = Path(__file__).resolve().parents[2]
CHATD = ROOT / "build" / "chatd"


def base_env(stack, listen):
    """What tests/stack.sh gives a pool, minus the stack's own tuning: the
    defaults of chatd apply unless a test sets them (CHATD_BCRYPT_COST too)."""
    d = Path(stack["CHAT_STACK_DIR"])
    base = stack["CHAT_BASE_URL"].rstrip("/")
    site = urllib.parse.urlsplit(base)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATD_")}
    env.update(CHATD_LISTEN=str(listen), CHATD_WORKERS="1", CHATD_THREADS="2",
               CHATD_SHUTDOWN_TIMEOUT="5",
               # No purge process: it would apply a test's short lifetimes
               # (CHATD_SESSION_IDLE=2) to every row of the shared database.
               CHATD_PURGE_INTERVAL="0",
               CHATD_DB_SOCKET=stack["CHAT_DB_SOCKET"],
               CHATD_DB_PASSWORD_FILE=str(d / "secrets" / "db_app_password"),
               CHATD_TEMPLATE_DIR=str(ROOT / "templates"),
               CHATD_SECRETS_DIR=str(d / "secrets"),
               CHATD_BLOCKLIST=str(ROOT / "build" / "blocklist.txt"),
               CHATD_NCHAN_SOCKET=stack["CHAT_NCHAN_SOCKET"],
               # The origin the stack's clients send (CHAT_BASE_URL).
               CHATD_HOSTNAMES=site.hostname, CHATD_HTTPS_PORT=str(site.port or 443),
               # The stack's stand-in for the range API, as the pools use it.
               CHATD_PWNED_URL=f"{base}/pwned",
               CHATD_PWNED_CAINFO=str(d / "run" / "ca.crt"))
    return env


class Chatd:
    """One private chatd process; its log (stderr) is kept in a file."""

    def __init__(self, stack, stale_socket=False, **settings):
        self.stack = stack
        self.dir = Path(tempfile.mkdtemp(prefix="chatd-acct-", dir="/tmp"))
        os.chmod(self.dir, 0o777)
        self.sock = self.dir / "c.sock"
        self.log_path = self.dir / "chatd.log"
        if stale_socket:        # a socket file nobody listens on any more
            s = socket.socket(socket.AF_UNIX)
            s.bind(str(self.sock))
            s.close()
        env = base_env(stack, self.sock)
        env.update({k: str(v) for k, v in settings.items()})
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen([str(CHATD)], env=env, stdout=subprocess.DEVNULL,
                                     stderr=self.log_file)
        self._wait()

    def _wait(self, seconds=15):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.sock.is_socket():
                try:
                    if fcgi.get(str(self.sock), timeout=2)[0] == 200:
                        return
                except OSError:
                    pass
            if self.proc.poll() is not None:
                raise AssertionError(f"chatd exited: {self.log()}")
            time.sleep(0.05)
        raise AssertionError(f"chatd did not answer on {self.sock}: {self.log()}")

    def log(self):
        self.log_file.flush()
        return self.log_path.read_text(errors="replace")

    def client(self, **kw):
        return FcgiClient(self.stack, self.sock, **kw)

    def stop(self):
        """SIGTERM (a graceful stop), SIGKILL if it does not end in 10 s."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Response:
    """Just enough of requests.Response for the tests."""

    def __init__(self, status, headers, body):
        self.status_code = status
        self.headers = CaseInsensitiveDict(headers)
        self.content = body
        self.text = body.decode(errors="replace")

    def json(self):
        return jsonlib.loads(self.content)


class FcgiClient(chat.Client):
    """chat.Client over FastCGI to one chatd socket, as nginx would forward."""

    def __init__(self, stack, sock, user_agent="fcgi-test/1.0", remote_addr="127.0.0.1"):
        self.stack = stack
        self.sock = str(sock)
        self.base = stack["CHAT_BASE_URL"]
        self.origin = self.base
        self.user_agent = user_agent
        self.remote_addr = remote_addr
        self.source = remote_addr
        self.csrf = None
        self.fixed_cookie = None
        self.token = None

    def close(self):
        pass

    @property
    def cookie(self):
        return self.fixed_cookie if self.fixed_cookie is not None else self.token

    def request(self, method, path, json=None, headers=None, data=None, **kw):
        h = {k.lower(): v for k, v in (headers or {}).items()}
        if data is None and json is not None:
            data = jsonlib.dumps(json).encode()
        if isinstance(data, str):
            data = data.encode()
        csrf = h.get("x-csrf-token", self.csrf if method not in ("GET", "HEAD") else None)
        params = {
            "CHAT_ORIGIN": h.get("origin", self.origin) or "",
            "CHAT_COOKIE": h.get("cookie", f"{chat.COOKIE}={self.cookie}" if self.cookie else ""),
            "CHAT_CSRF_TOKEN": csrf or "",
            "CHAT_REMOTE_ADDR": self.remote_addr,
            "CHAT_USER_AGENT": h.get("user-agent", self.user_agent),
            "CHAT_REQUEST_ID": secrets.token_hex(16),
        }
        ctype = h.get("content-type", "application/json" if data else None)
        req = fcgi.Request(self.sock, method, path, headers=params, content_type=ctype,
                           content_length=len(data) if data else None, timeout=30)
        req.send_body(data or b"")
        status, rh, body = req.response()
        rh["x-request-id"] = params["CHAT_REQUEST_ID"]
        sc = rh.get("set-cookie", "")
        if sc.startswith(chat.COOKIE + "="):
            value = sc.split(";", 1)[0].split("=", 1)[1]
            self.token = value if value and "Max-Age=0" not in sc else None
        return Response(status, rh, body)
