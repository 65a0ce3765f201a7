"""Helpers of the race layer (tests/race/): a row lock held on purpose by the
database's owner, and what the chatd logs of the test stack said meanwhile."""
import pathlib
import subprocess
import threading
import time


class Held:
    """A transaction of the database's owner holding the locks `query` takes
    (one statement or several, separated by semicolons) until release()."""

    def __init__(self, stack, query):
        self.p = subprocess.Popen(
            ["mariadb", "--no-defaults", f"--socket={stack['CHAT_DB_SOCKET']}", "-u", "root", "--batch", "--unbuffered",
             "--skip-column-names", stack.get("CHAT_DB_NAME", "chat")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.p.stdin.write(f"START TRANSACTION; {query}; SELECT 'held';\n")
        self.p.stdin.flush()
        # Never a hang: a lock not held within 15 s ends the client, and the test.
        guard = threading.Timer(15, self.p.kill)
        guard.start()
        try:
            for line in self.p.stdout:
                if line.strip() == "held":
                    return
        finally:
            guard.cancel()
        raise AssertionError("the test's transaction could not take its lock")

    def release(self):
        self.p.stdin.write("ROLLBACK;\n")
        self.p.stdin.close()
        self.p.wait(timeout=10)


def log_marks(stack):
    """Where each chatd log ends now."""
    log = pathlib.Path(stack["CHAT_DB_SOCKET"]).parents[2] / "log"
    return {p: p.stat().st_size for p in log.glob("chatd-*.log")}


def logged_since(marks, want, timeout=5):
    """What the chatd logs gained since marks, once it holds want (or the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        text = ""
        for p, size in marks.items():
            with open(p, "rb") as f:
                f.seek(size)
                text += f.read().decode(errors="replace")
        if want in text or time.monotonic() > deadline:
            return text
        time.sleep(0.1)
