"""Latency of the account flow on the bench stack (bcrypt cost 12, as in
production): registration, the password step of login and the TOTP step,
each timed end to end over TLS from this machine. Prints medians and p90."""
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
from chat import Client, strong_password, unique_name  # noqa: E402

N = int(os.environ.get("BENCH_USERS", "15"))


def timed(fn):
    t0 = time.perf_counter()
    r = fn()
    return r, (time.perf_counter() - t0) * 1000


def main():
    stack = {k: v for k, v in os.environ.items() if k.startswith("CHAT_")}
    times = {"register": [], "login (password step)": [], "login (TOTP step)": []}
    for _ in range(N):
        c = Client(stack)
        name, pw = unique_name("bench"), strong_password()
        cid, answer = c.captcha()
        r, ms = timed(lambda: c.post("/api/register", {"username": name, "password": pw,
                                                       "captcha_id": cid, "captcha": answer}))
        assert r.status_code == 201, r.text
        times["register"].append(ms)
        from chat import User, qr_uri, uri_secret
        body = r.json()
        user = User(name, pw, uri_secret(qr_uri(body["qr"])), body["recovery_codes"])
        assert c.post("/api/register/confirm", {"enrolment_token": body["enrolment_token"],
                                                "code": user.code()}).status_code == 200
        c2 = Client(stack)
        cid, answer = c2.captcha()
        r, ms = timed(lambda: c2.post("/api/login", {"username": name, "password": pw,
                                                     "captcha_id": cid, "captcha": answer}))
        assert r.status_code == 200, r.text
        times["login (password step)"].append(ms)
        ticket, code = r.json()["mfa_ticket"], user.code()
        r, ms = timed(lambda: c2.mfa(ticket, "totp", code))
        assert r.status_code == 200, r.text
        times["login (TOTP step)"].append(ms)
    print(f"account flow, {N} users, bcrypt cost {os.environ.get('CHATD_BCRYPT_COST')}:")
    print(f"{'step':28} {'median ms':>10} {'p90 ms':>8}")
    for k, v in times.items():
        v.sort()
        print(f"{k:28} {statistics.median(v):10.1f} {v[int(0.9 * (len(v) - 1))]:8.1f}")


if __name__ == "__main__":
    main()
