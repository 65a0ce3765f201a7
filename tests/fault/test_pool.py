"""Fault tests on the running test stack (destructive, so they run last):
a worker killed with SIGKILL in the middle of traffic is replaced and its pool
answers again within a second; the clients never see the loss."""
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import fcgi


def workers(supervisor):
    """The supervisor's workers: its children but the purge process (chatd-purge)."""
    out = subprocess.run(["pgrep", "-x", "-P", str(supervisor), "chatd"], capture_output=True, text=True).stdout
    return {int(p) for p in out.split()}


def supervisor_pid(stack, pool):
    return int((Path(stack["CHAT_STACK_DIR"]) / "run" / f"chatd-{pool}.pid").read_text())


def hammer(http, url, stop, results):
    while not stop.is_set():
        try:
            results.append(http.get(url, timeout=5).status_code)
        except Exception as e:  # noqa: BLE001 - any failure counts
            results.append(repr(e))


def test_killed_worker_is_replaced_within_a_second_under_load(http, base_url, stack):
    sup = supervisor_pid(stack, "a")
    sock = str(Path(stack["CHAT_STACK_DIR"]) / "run" / "chatd" / "a.sock")
    before = workers(sup)
    assert len(before) == int(os.environ.get("CHATD_WORKERS", "2"))

    stop, results = threading.Event(), []
    threads = [threading.Thread(target=hammer, args=(http, f"{base_url}/api/health", stop, results))
               for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    t0 = time.monotonic()
    recovered = None
    while time.monotonic() - t0 < 3:
        now = workers(sup)
        if victim not in now and len(now) == len(before):
            status, _, _ = fcgi.get(sock, timeout=2)
            if status == 200:
                recovered = time.monotonic() - t0
                break
        time.sleep(0.01)
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join()

    assert recovered is not None, "pool a did not get its worker back"
    assert recovered < 1.0, f"took {recovered:.3f}s"
    # The supervisor itself lived on.
    os.kill(sup, 0)
    assert len(results) > 20
    assert [r for r in results if r != 200] == []


def test_every_worker_killed_at_once_still_recovers(stack):
    sup = supervisor_pid(stack, "b")
    sock = str(Path(stack["CHAT_STACK_DIR"]) / "run" / "chatd" / "b.sock")
    before = workers(sup)
    for pid in before:
        os.kill(pid, signal.SIGKILL)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 3:
        now = workers(sup)
        if len(now) == len(before) and not (now & before):
            try:
                if fcgi.get(sock, timeout=2)[0] == 200:
                    break
            except OSError:
                pass
        time.sleep(0.01)
    assert time.monotonic() - t0 < 1.0
