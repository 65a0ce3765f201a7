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


# --- in a container, and out of file descriptors ---------------------------------------------

def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return {int(p) for p in out.split()}


def wait_until(what, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def answers(sock):
    try:
        return fcgi.get(str(sock), timeout=2)[0] == 200
    except OSError:
        return False


def worker_exits(log):
    return [line for line in log.splitlines() if "supervisor: worker" in line]


def test_chatd_as_pid_1_of_a_pid_namespace_serves_with_its_workers(stack, tmp_path):
    """In a container chatd is PID 1. Its workers must know their supervisor by
    the pid it had when it forked them, not by "my parent is not PID 1"."""
    sock, log_path = tmp_path / "c.sock", tmp_path / "chatd.log"
    env = base_env(stack, sock)
    env["CHATD_WORKERS"] = "2"
    with open(log_path, "w") as log:
        unshare = subprocess.Popen(["unshare", "--fork", "--pid", "--mount-proc", "--kill-child",
                                    str(CHATD)], env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        chatd = wait_until(lambda: children(unshare.pid))
        (chatd,) = chatd
        nspid = [line for line in Path(f"/proc/{chatd}/status").read_text().splitlines()
                 if line.startswith("NSpid:")][0].split()
        assert nspid[-1] == "1", nspid          # PID 1 in its own namespace
        wait_until(lambda: answers(sock))
        workers = wait_until(lambda: len(children(chatd)) == 2 and children(chatd))

        served, t0 = 0, time.monotonic()
        while time.monotonic() - t0 < 10:
            status, _, body = fcgi.get(str(sock), timeout=5)
            assert status == 200 and json.loads(body)["status"] == "ok"
            served += 1
            time.sleep(0.02)
        assert served > 100
        assert children(chatd) == workers       # not one worker replaced
        assert worker_exits(log_path.read_text()) == []

        # docker stop: SIGTERM to PID 1, which has no default action there.
        os.kill(chatd, signal.SIGTERM)
        assert unshare.wait(15) == 0
        assert "supervisor: stopped" in log_path.read_text()
        assert not sock.exists()
    finally:
        if unshare.poll() is None:
            unshare.kill()
            unshare.wait()


def test_out_of_file_descriptors_pauses_accept_and_keeps_every_thread(stack, tmp_path):
    """Under a file-descriptor limit that only leaves room for two connections,
    a flood of requests waits in the backlog instead of ending threads: every
    request is answered, and the worker still has all its threads."""
    threads = 4
    sock, log_path = tmp_path / "c.sock", tmp_path / "chatd.log"
    env = base_env(stack, sock)
    env.update(CHATD_WORKERS="1", CHATD_THREADS=str(threads))
    # 0-2, the listening socket and one database connection per thread, then
    # two more: the third connection finds no descriptor.
    limit = 4 + threads + 2
    with open(log_path, "w") as log:
        proc = subprocess.Popen(["prlimit", f"--nofile={limit}:{limit}", str(CHATD)], env=env,
                                stdout=subprocess.DEVNULL, stderr=log)
    try:
        wait_until(lambda: answers(sock))
        (worker,) = children(proc.pid)
        assert len(os.listdir(f"/proc/{worker}/fd")) == limit - 2   # as counted above
        assert len(os.listdir(f"/proc/{worker}/task")) == threads + 1

        body = b'{"csp-report": {"blocked-uri": "inline"}}'
        flood = []
        for _ in range(12):     # each holds a thread and a descriptor until its body ends
            req = fcgi.Request(str(sock), "POST", "/api/csp-report", timeout=20,
                               content_type="application/csp-report", content_length=len(body))
            req.send_body(body[:5], end=False)
            flood.append(req)
        time.sleep(2)           # threads meet EMFILE; their pause grows to its longest
        for req in flood:
            req.send_body(body[5:])
        assert [req.response()[0] for req in flood] == [204] * len(flood)

        assert children(proc.pid) == {worker}
        assert len(os.listdir(f"/proc/{worker}/task")) == threads + 1
        log = log_path.read_text()
        assert "Too many open files" in log and "accepting" in log
        assert worker_exits(log) == []
        for _ in range(20):
            assert fcgi.get(str(sock))[0] == 200
    finally:
        proc.terminate()
        proc.wait(10)
