"""The chatd process itself: configuration validated at start, a live socket
never taken over, a stale one replaced, privileges dropped, and a graceful
stop in which in-flight requests finish and the socket disappears."""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

import fcgi
from chatd import CHATD, base_env

ROOT = Path(__file__).resolve().parents[2]
CHATD = ROOT / "build" / "chatd"


@pytest.mark.parametrize("var,value,words", [
    ("CHATD_WORKERS", "many", "CHATD_WORKERS must be an integer from 0 to 256, not 'many'"),
    ("CHATD_WORKERS", "300", "CHATD_WORKERS must be an integer"),
    ("CHATD_THREADS", "0", "CHATD_THREADS must be an integer from 1 to 256"),
    ("CHATD_MAX_BODY", "-5", "CHATD_MAX_BODY must be an integer"),
    ("CHATD_DB_PORT", "99999999999999999999", "CHATD_DB_PORT must be an integer"),
    ("CHATD_LISTEN", "relative.sock", "CHATD_LISTEN must be an absolute socket path"),
    ("CHATD_LISTEN", "localhost:0", "CHATD_LISTEN must be"),
    ("CHATD_DB_SOCKET", "db.sock", "CHATD_DB_SOCKET must be an absolute path"),
    ("CHATD_NCHAN_URL", "ftp://x", "CHATD_NCHAN_URL must start with http"),
    ("CHATD_PWNED_URL", "http://api.pwnedpasswords.com", "CHATD_PWNED_URL must be an https:// URL"),
    ("CHATD_HOSTNAMES", "", "CHATD_HOSTNAMES names no host"),
    ("CHATD_HTTPS_PORT", "70000", "CHATD_HTTPS_PORT must be an integer from 1 to 65535"),
    ("CHATD_DB_PASSWORD_FILE", "/nonexistent/pw", "CHATD_DB_PASSWORD_FILE: cannot open"),
    ("CHATD_TEMPLATE_DIR", "/nonexistent", "cannot open template directory"),
])
def test_bad_configuration_stops_chatd_with_a_clear_message(stack, tmp_path, var, value, words):
    env = base_env(stack, tmp_path / "c.sock")
    env[var] = value
    p = subprocess.run([str(CHATD), "--check"], env=env, capture_output=True, text=True, timeout=10)
    assert p.returncode == 2
    assert words in p.stderr
    assert not (tmp_path / "c.sock").exists()


def test_missing_required_variable_is_named(stack, tmp_path):
    env = base_env(stack, tmp_path / "c.sock")
    del env["CHATD_LISTEN"]
    p = subprocess.run([str(CHATD)], env=env, capture_output=True, text=True, timeout=10)
    assert p.returncode == 2
    assert "CHATD_LISTEN is required" in p.stderr


def test_good_configuration_passes_the_check(stack, tmp_path):
    p = subprocess.run([str(CHATD), "--check"], env=base_env(stack, tmp_path / "c.sock"),
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p.stderr


def test_a_live_pool_socket_is_never_taken_over(stack):
    live = Path(stack["CHAT_STACK_DIR"]) / "run" / "chatd" / "a.sock"
    inode = live.stat().st_ino
    p = subprocess.run([str(CHATD)], env=base_env(stack, live), capture_output=True, text=True,
                       timeout=10)
    assert p.returncode == 1
    assert "in use by a running instance" in p.stderr
    assert live.stat().st_ino == inode
    assert fcgi.get(str(live))[0] == 200


def test_a_stale_socket_file_is_replaced(private_chatd):
    d = private_chatd(stale_socket=True)
    status, _, body = fcgi.get(str(d.sock))
    assert status == 200 and json.loads(body)["status"] == "ok"


def test_workers_drop_root(private_chatd):
    if os.geteuid() != 0:
        pytest.skip("only meaningful when started as root")
    proc = private_chatd(CHATD_USER="www-data").proc
    out = subprocess.run(["ps", "-o", "user=", "--ppid", str(proc.pid)], capture_output=True,
                         text=True).stdout.split()
    assert out and set(out) == {"www-data"}
    assert subprocess.run(["ps", "-o", "user=", "-p", str(proc.pid)], capture_output=True,
                          text=True).stdout.strip() == "www-data"


def test_sigterm_lets_in_flight_requests_finish_and_removes_the_socket(private_chatd):
    d = private_chatd(CHATD_USER="www-data" if os.geteuid() == 0 else "")
    proc, sock = d.proc, d.sock
    body = b'{"csp-report": {"blocked-uri": "inline"}}'
    req = fcgi.Request(str(sock), "POST", "/api/csp-report",
                       content_type="application/csp-report", content_length=len(body))
    req.send_body(body[:10], end=False)          # the request is now in flight
    time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert not sock.exists()                     # no new connections come here
    req.send_body(body[10:])
    status, _, _ = req.response()
    assert status == 204
    assert proc.wait(10) == 0
    assert "supervisor: stopped" in d.log()

