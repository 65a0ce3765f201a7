"""Login latency, measured and written down, never asserted: the medians of
POST /api/login, POST /api/login/mfa and a whole registration (captcha,
register, confirm), as the client sees them and as chatd logs them, on the
test stack (through nginx and TLS, bcrypt cost 10) and on a private chatd at
the default cost 12 (FastCGI, no nginx). Written to var/test-logs/latency.txt."""
import glob
import os
import re
import statistics
import time
from pathlib import Path

from chat import Client, User, captcha_answer, qr_uri, strong_password, unique_name, uri_secret

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "var" / "test-logs" / "latency.txt"
RUNS = 10


def logged_ms(lines, rid):
    m = re.search(rf"rid={rid} \S+ \S+ \d+ ([0-9.]+)ms", lines)
    return float(m.group(1)) if m else None


class Timer:
    """Times requests one by one; keeps their request ids to find chatd's own times."""

    def __init__(self):
        self.ms = 0.0
        self.rids = []

    def __call__(self, fn, *a, **kw):
        t = time.perf_counter()
        r = fn(*a, **kw)
        self.ms += (time.perf_counter() - t) * 1000
        self.rids.append(r.headers.get("x-request-id"))
        return r


def measure(make_client, runs):
    """{register|login|mfa: [(client ms, request ids)]} over `runs` fresh users."""
    out = {"register": [], "login": [], "mfa": []}
    for _ in range(runs):
        c = make_client()
        name, password = unique_name("lat"), strong_password()
        reg = Timer()
        r = reg(c.post, "/api/captcha")
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        r = reg(c.post, "/api/register", {"username": name, "password": password, "captcha_id": cid,
                                          "captcha": captcha_answer(c.stack, cid)})
        assert r.status_code == 201, r.text
        body = r.json()
        # Decoding the QR code and reading the app is the person's time, not the server's.
        user = User(name, password, uri_secret(qr_uri(body["qr"])), body["recovery_codes"])
        r = reg(c.post, "/api/register/confirm", {"enrolment_token": body["enrolment_token"], "code": user.code()})
        assert r.status_code == 200, r.text
        out["register"].append((reg.ms, reg.rids))
        cid, answer = c.captcha()
        login = Timer()
        r = login(c.post, "/api/login", {"username": name, "password": password, "captcha_id": cid,
                                         "captcha": answer})
        assert r.status_code == 200, r.text
        out["login"].append((login.ms, login.rids))
        code = user.code()
        mfa = Timer()
        r = mfa(c.post, "/api/login/mfa", {"mfa_ticket": r.json()["mfa_ticket"], "method": "totp", "code": code})
        assert r.status_code == 200, r.text
        out["mfa"].append((mfa.ms, mfa.rids))
        c.close()
    return out


def summarize(results, log_text):
    rows = {}
    for name, samples in results.items():
        client = statistics.median(ms for ms, _ in samples)
        server = []
        for _, rids in samples:
            vals = [logged_ms(log_text(), rid) for rid in rids]
            if all(v is not None for v in vals):
                server.append(sum(vals))
        rows[name] = (client, statistics.median(server) if server else float("nan"))
    return rows


def test_login_latency_is_measured_and_written_down(stack, private_chatd):
    stack_logs = lambda: "".join(Path(f).read_text(errors="replace")          # noqa: E731
                                 for f in glob.glob(os.path.join(stack["CHAT_STACK_DIR"], "log", "chatd-*.log")))
    on_stack = measure(lambda: Client(stack), RUNS)
    time.sleep(0.3)
    stack_rows = summarize(on_stack, stack_logs)

    d = private_chatd()                     # chatd's defaults: bcrypt cost 12
    alone = measure(d.client, RUNS)
    time.sleep(0.3)
    alone_rows = summarize(alone, d.log)

    labels = {"login": "POST /api/login (password + CAPTCHA)", "mfa": "POST /api/login/mfa (TOTP)",
              "register": "registration (captcha + register + confirm)"}
    lines = [f"Login latency, medians of {RUNS} runs each, in ms ({time.strftime('%Y-%m-%d %H:%M:%S %Z')})",
             "client = as the test client saw it; chatd = as chatd logged its handling", ""]
    for title, rows in (("test stack: nginx + TLS + chatd, bcrypt cost 10", stack_rows),
                        ("private chatd over FastCGI, bcrypt cost 12 (the default)", alone_rows)):
        lines.append(title)
        lines.append(f"  {'':46} {'client':>8} {'chatd':>8}")
        for key in ("login", "mfa", "register"):
            client_ms, server_ms = rows[key]
            lines.append(f"  {labels[key]:46} {client_ms:8.1f} {server_ms:8.1f}")
        lines.append("")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines))
    print("\n".join(lines))
    assert all(v[0] > 0 for v in stack_rows.values()) and all(v[0] > 0 for v in alone_rows.values())
