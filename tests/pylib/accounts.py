"""Checks shared by the account API tests (tests/api/test_register.py,
test_captcha.py, test_login.py, test_session.py, test_account.py,
test_account_inputs.py): JSON errors, and what the database the tests own
says about an account, its throttle row and its audit trail."""
import hashlib
import re
import time

from chat import quote, sql, sql_rows

B64URL_43 = re.compile(r"^[A-Za-z0-9_-]{43}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
RECOVERY = re.compile(r"^[abcdefghjkmnpqrstuvwxyz23456789]{4}(-[abcdefghjkmnpqrstuvwxyz23456789]{4}){3}$")
BCRYPT = re.compile(r"^\$2b\$(\d\d)\$[./A-Za-z0-9]{53}$")


# Refusals that count towards a lockout say how many attempts are left
# (and, when this one started a lockout, for how long): see throttle.h.
COUNTED = {"invalid_credentials", "code_wrong", "code_reused"}


def assert_error(r, status, code):
    """r is the JSON error {error, message} with this status and code (a counted
    refusal may add attempts_left and retry_after); returns the body."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    extra = set(body) - {"error", "message"}
    assert extra <= ({"attempts_left", "retry_after"} if code in COUNTED else set()), body
    assert {"error", "message"} <= set(body), body
    if "attempts_left" in body:
        assert isinstance(body["attempts_left"], int) and 0 <= body["attempts_left"] <= 5, body
    if "retry_after" in body:
        assert body["attempts_left"] == 0 and body["retry_after"] == int(r.headers["retry-after"]), body
    assert body["error"] == code, body
    assert isinstance(body["message"], str) and body["message"].strip(), body
    return body


def user_row(stack, username):
    """{id, username, password_hash, active, totp_last_step} or None."""
    rows = sql_rows(stack, "SELECT id, username, password_hash, active, totp_last_step FROM users "
                           f"WHERE username = {quote(username)}")
    if not rows:
        return None
    i, name, h, active, step = rows[0]
    return {"id": int(i), "username": name, "password_hash": h, "active": int(active),
            "totp_last_step": int(step)}


def user_count(stack, username):
    return int(sql(stack, f"SELECT COUNT(*) FROM users WHERE username = {quote(username)}"))


def throttle_key(name):
    """The login_throttle row of a login name, as user_name_key() makes it: a
    possible user name lower-cased, anything else '#' and 30 hex of its SHA-256."""
    if re.fullmatch(r"[A-Za-z0-9_]{3,32}", name):
        return name.lower()
    return "#" + hashlib.sha256(name.encode()).hexdigest()[:30]


def clear_throttle(stack, name):
    """The DB owner forgets a name's failures: fixed names (metacharacters) come back in every run."""
    sql(stack, f"DELETE FROM login_throttle WHERE username = {quote(throttle_key(name))}")


def throttle(stack, name):
    """{failures, hard, locked_for (seconds left, may be negative)} of a login name, or None."""
    rows = sql_rows(stack, "SELECT failures, hard_locked, "
                           "COALESCE(TIMESTAMPDIFF(SECOND, NOW(6), locked_until), 'NULL') "
                           f"FROM login_throttle WHERE username = {quote(throttle_key(name))}")
    if not rows:
        return None
    f, hard, left = rows[0]
    return {"failures": int(f), "hard": int(hard), "locked_for": None if left == "NULL" else int(left)}


def cleared(stack, name):
    """A success cleared the name: no failures, no lock (the row itself may stay,
    holding only the attempts still being checked)."""
    t = throttle(stack, name)
    return t is None or (t["failures"] == 0 and t["hard"] == 0 and t["locked_for"] is None)


def set_failures(stack, name, failures):
    """The DB owner sets a name's consecutive failures (no lock in force), to skip waiting."""
    sql(stack, "INSERT INTO login_throttle (username, failures) "
               f"VALUES ({quote(throttle_key(name))}, {int(failures)}) "
               f"ON DUPLICATE KEY UPDATE failures = {int(failures)}, locked_until = NULL")


def end_lock(stack, name):
    """The DB owner moves a lockout into the past, as if its time had passed."""
    sql(stack, "UPDATE login_throttle SET locked_until = NOW(6) - INTERVAL 1 SECOND "
               f"WHERE username = {quote(throttle_key(name))}")


def audit(stack, user_id, since_id=0):
    """[(event, detail, ip)] of a user's audit rows, oldest first."""
    return [tuple(r) for r in sql_rows(
        stack, f"SELECT event, detail, ip FROM audit_log WHERE user_id = {int(user_id)} "
               f"AND id > {int(since_id)} ORDER BY id")]


def audit_events(stack, user_id):
    return [e for e, _, _ in audit(stack, user_id)]


def wait_for(pred, seconds=3.0, step=0.1):
    """pred() true within `seconds` (log lines are written a moment after the answer)."""
    deadline = time.monotonic() + seconds
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)
