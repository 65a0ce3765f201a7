"""What the race layer provokes contention with: a row lock held by the
database's owner, the chatd logs since a mark, and requests started at once."""
import pathlib
import subprocess
import threading
import time

from chat import Client


class Held:
    """A transaction of the database's owner holding the locks `query` takes
    (one statement or several, separated by semicolons); more statements may
    follow in it (do), then it ends (commit or release)."""

    def __init__(self, stack, query):
        self.p = subprocess.Popen(
            ["mariadb", "--no-defaults", f"--socket={stack['CHAT_DB_SOCKET']}", "-u", "root", "--batch", "--unbuffered",
             "--force", "--skip-column-names", stack.get("CHAT_DB_NAME", "chat")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.p.stdin.write("START TRANSACTION;\n")
        out = self.do(query)
        assert "ERROR" not in out, f"the test's transaction could not take its lock: {out}"
        # Its id, to tell the lock waits it causes.
        self.trx = int(self.do("SELECT trx_id FROM information_schema.INNODB_TRX "
                               "WHERE trx_mysql_thread_id = CONNECTION_ID()").split()[-1])

    def do(self, query):
        """Runs query in the transaction; what the client printed (errors included)."""
        self.p.stdin.write(f"{query}; SELECT 'done';\n")
        self.p.stdin.flush()
        # Never a hang: a statement not done within 15 s ends the client, and the test.
        guard = threading.Timer(15, self.p.kill)
        guard.start()
        lines = []
        try:
            for line in self.p.stdout:
                if line.strip() == "done":
                    return "".join(lines)
                lines.append(line)
        finally:
            guard.cancel()
        raise AssertionError(f"the test's transaction died: {''.join(lines)}")

    def commit(self):
        out = self.do("COMMIT")
        self.p.stdin.close()
        self.p.wait(timeout=10)
        return out

    def release(self):
        self.p.stdin.write("ROLLBACK;\n")
        self.p.stdin.close()
        self.p.wait(timeout=10)


def log_marks(stack):
    """Where each chatd log ends now."""
    log = pathlib.Path(stack["CHAT_DB_SOCKET"]).parents[2] / "log"
    return {p: p.stat().st_size for p in log.glob("chatd-*.log")}


def logged_since(marks, want=None, timeout=5):
    """What the chatd logs gained since marks, once it holds want (or the
    timeout; at once without want)."""
    deadline = time.monotonic() + timeout
    while True:
        text = ""
        for p, size in marks.items():
            with open(p, "rb") as f:
                f.seek(size)
                text += f.read().decode(errors="replace")
        if want is None or want in text or time.monotonic() > deadline:
            return text
        time.sleep(0.1)


def at_once(*fns):
    """Runs each fn in its own thread, all released at the same moment;
    returns their results in order (an exception in one is raised here)."""
    gate = threading.Barrier(len(fns))
    out = [None] * len(fns)
    errors = []

    def run(i, fn):
        try:
            gate.wait(timeout=30)
            out[i] = fn()
        except Exception as e:  # noqa: BLE001 -- raised again below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request hung"
    if errors:
        raise errors[0]
    return out


def assert_no_failure(responses):
    """No 5xx but 503 with Retry-After: what contention may answer."""
    for r in responses:
        assert r.status_code < 500 or (r.status_code == 503 and r.headers.get("retry-after")), \
            (r.status_code, r.headers, r.text)


def assert_no_fault_logged(text):
    """The logs since a mark show no lost connection and no failed statement."""
    for bad in ("connection lost", "failed:", "ERROR"):
        assert bad not in text, text[-3000:]


def logins(stack, name, password, n):
    """n clients, each from its own address with a solved CAPTCHA, ready to send."""
    out = []
    for _ in range(n):
        c = Client(stack)
        cid, answer = c.captcha()
        body = {"username": name, "password": password, "captcha_id": cid, "captcha": answer}
        out.append(lambda c=c, body=body: c.post("/api/login", body))
    return out
