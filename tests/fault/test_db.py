"""MariaDB stopped under a running stack: health answers 503 JSON at once;
MariaDB started again: chatd reconnects by itself, with the same processes."""
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def mariadb(stack, action):
    r = subprocess.run([str(ROOT / "db" / "mariadb.sh"), action,
                        str(Path(stack["CHAT_STACK_DIR"]) / "db")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def pool_processes(stack):
    pids = set()
    for pool in stack["CHAT_POOLS"].split():
        sup = (Path(stack["CHAT_STACK_DIR"]) / "run" / f"chatd-{pool}.pid").read_text().strip()
        pids.add(int(sup))
        out = subprocess.run(["pgrep", "-P", sup], capture_output=True, text=True).stdout
        pids |= {int(p) for p in out.split()}
    return pids


def test_database_down_gives_503_json_and_recovery_is_automatic(http, base_url, stack):
    url = f"{base_url}/api/health"
    assert http.get(url).status_code == 200
    procs = pool_processes(stack)

    mariadb(stack, "stop")
    try:
        seen = [http.get(url, timeout=10) for _ in range(6)]   # both pools, several threads
        for r in seen:
            assert r.status_code == 503
            assert r.headers["content-type"].startswith("application/json")
            assert r.json()["error"] == "db_unavailable"
            assert r.headers["retry-after"] == "5"
        # Pages that need no database still work.
        assert http.get(f"{base_url}/").status_code == 200
    finally:
        mariadb(stack, "start")

    t0 = time.monotonic()
    ok = 0
    while time.monotonic() - t0 < 10 and ok < 10:
        ok = ok + 1 if http.get(url).status_code == 200 else 0
        time.sleep(0.02)
    assert ok >= 10, "chatd did not recover by itself"
    assert pool_processes(stack) == procs, "recovery must not need restarted processes"
