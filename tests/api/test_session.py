"""Sessions: a 256-bit token in a __Host- cookie of which only the SHA-256 is
stored, a new token at each login, idle and absolute expiry (on a private
chatd with short timeouts), logout, the session list and ending another
session (never someone else's), and CSRF: the session's token in
X-CSRF-Token plus a same-origin Origin on every state-changing call."""
import base64
import hashlib
import re
import secrets
import time

import pytest

import chat
from accounts import HEX64, assert_error, audit
from chat import COOKIE, sha256_hex, sql, sql_rows

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def session_ids(stack, user_id):
    return [int(i) for (i,) in sql_rows(stack, f"SELECT id FROM sessions WHERE user_id = {user_id} ORDER BY id")]


def current_id(client):
    r = client.get("/api/sessions")
    assert r.status_code == 200, r.text
    return next(s["id"] for s in r.json()["sessions"] if s["current"])


# --- who am I ---------------------------------------------------------------------

def test_me_needs_a_session(client):
    assert_error(client.get("/api/me"), 401, "unauthenticated")
    for value in ("", "x", secrets.token_urlsafe(32), secrets.token_urlsafe(32) + "x", "' OR 1=1 --",
                  "<script>alert(1)</script>", '"' + secrets.token_urlsafe(32) + '"'):
        r = client.get("/api/me", headers={"Cookie": f"{COOKIE}={value}"})
        assert_error(r, 401, "unauthenticated")


def test_me_tells_the_user_and_the_csrf_token(clients):
    c = clients()
    user = c.new_user()
    r = c.get("/api/me")
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body == {"user": {"id": user.id, "username": user.username}, "csrf_token": c.csrf,
                    "recovery_remaining": 10}


def test_a_session_cookie_of_another_name_is_not_a_session(clients):
    c = clients()
    c.new_user()
    token = c.cookie
    other = clients()
    for header in (f"sid={token}", f"__Secure-sid={token}", f"{COOKIE.lower()}={token}"):
        assert_error(other.get("/api/me", headers={"Cookie": header}), 401, "unauthenticated")
    assert other.get("/api/me", headers={"Cookie": f"a=b; {COOKIE}={token}; c=d"}).status_code == 200


# --- tokens -----------------------------------------------------------------------------

def test_only_the_sha256_of_the_token_is_stored(clients, stack):
    c = clients()
    user = c.new_user()
    token = c.cookie
    raw = base64.urlsafe_b64decode(token + "=")
    assert len(raw) == 32                                   # 256 bits
    stored = sql_rows(stack, f"SELECT LOWER(HEX(token_hash)) FROM sessions WHERE user_id = {user.id}")
    assert stored == [[sha256_hex(token)]]
    assert raw.hex() not in stored[0][0] and token not in stored[0][0]
    assert sql(stack, f"SELECT COUNT(*) FROM sessions WHERE token_hash = {chat.quote(token)} "
                      f"OR token_hash = UNHEX('{raw.hex()}')") == "0"


def test_each_login_gets_a_new_token_and_both_live_until_logout(clients, stack):
    a = clients()
    user = a.new_user()
    b = clients()
    b.log_in(user)
    assert a.cookie != b.cookie and a.csrf != b.csrf
    assert a.get("/api/me").status_code == 200 and b.get("/api/me").status_code == 200
    assert len(session_ids(stack, user.id)) == 2
    assert b.post("/api/logout").status_code == 204
    assert_error(b.get("/api/me"), 401, "unauthenticated")
    assert a.get("/api/me").status_code == 200


def test_tokens_are_all_different(clients):
    c = clients()
    user = c.new_user()
    tokens = {c.cookie}
    for _ in range(2):
        other = clients()
        other.log_in(user)
        tokens.add(other.cookie)
    assert len(tokens) == 3


def test_the_cookie_lives_as_long_as_the_absolute_limit(clients):
    c = clients()
    user, body = c.enrol()
    r = c.post("/api/register/confirm", {"enrolment_token": body["enrolment_token"], "code": user.code()})
    assert "Max-Age=43200" in r.headers["set-cookie"]          # 12 h by default


# --- logout ------------------------------------------------------------------------------

def test_logout_deletes_the_session(clients, stack):
    c = clients()
    user = c.new_user()
    saved = c.copy()
    assert saved.get("/api/me").status_code == 200
    r = c.post("/api/logout")
    assert r.status_code == 204 and r.content == b""
    cleared = r.headers["set-cookie"]
    assert cleared.startswith(f"{COOKIE}=;") and "Max-Age=0" in cleared, cleared
    assert session_ids(stack, user.id) == []
    assert_error(c.get("/api/me"), 401, "unauthenticated")
    assert_error(saved.get("/api/me"), 401, "unauthenticated")
    assert_error(saved.post("/api/logout"), 401, "unauthenticated")
    assert "logout" in [e for e, _, _ in audit(stack, user.id)]


def test_logout_needs_a_session(client):
    assert_error(client.post("/api/logout"), 401, "unauthenticated")


# --- expiry (a private chatd with 2 s idle and 5 s absolute limits) ---------------------------

@pytest.fixture
def short_sessions(private_chatd):
    return private_chatd(CHATD_SESSION_IDLE=2, CHATD_SESSION_MAX=5, CHATD_BCRYPT_COST=4)


def test_a_session_ends_after_the_idle_time(short_sessions, stack):
    c = short_sessions.client()
    user = c.new_user()
    assert c.get("/api/me").status_code == 200
    time.sleep(1.2)
    assert c.get("/api/me").status_code == 200           # a request keeps it alive
    time.sleep(1.2)
    assert c.get("/api/me").status_code == 200
    time.sleep(2.6)
    assert_error(c.get("/api/me"), 401, "unauthenticated")
    # It is not listed any more, and a new login works.
    d = short_sessions.client()
    d.log_in(user)
    assert [s["current"] for s in d.get("/api/sessions").json()["sessions"]] == [True]


def test_a_session_ends_at_the_absolute_limit_even_when_busy(short_sessions):
    c = short_sessions.client()
    user, body = c.enrol()
    t0 = time.monotonic()
    r = c.post("/api/register/confirm", {"enrolment_token": body["enrolment_token"], "code": user.code()})
    assert r.status_code == 200, r.text
    assert "Max-Age=5" in r.headers["set-cookie"]
    seen = []
    while time.monotonic() - t0 < 4.5:
        seen.append((round(time.monotonic() - t0, 2), c.get("/api/me").status_code))
        assert seen[-1][1] == 200, seen
        time.sleep(0.5)
    # At most 1.5 s since the last request (idle is 2 s): only the absolute limit can end it.
    time.sleep(max(0.0, 5.5 - (time.monotonic() - t0)))
    r = c.get("/api/me")
    assert r.status_code == 401, (seen, round(time.monotonic() - t0, 2), r.text)
    assert_error(r, 401, "unauthenticated")


# --- CSRF and Origin ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_sessions(stack):
    """One user, logged in twice: A (the registering client) and B."""
    a, b = chat.Client(stack), chat.Client(stack)
    user = a.new_user()
    b.log_in(user)
    yield a, b, user
    a.close()
    b.close()


STATE_CHANGING = [
    ("POST", "/api/logout", None),
    ("DELETE", "/api/sessions/{own}", None),
    ("POST", "/api/account/password", {"current_password": "x" * 10, "code": "123456", "new_password": "y" * 10}),
    ("POST", "/api/account/totp", {"password": "x" * 10}),
    ("POST", "/api/account/totp/confirm", {"enrolment_token": "x" * 43, "code": "123456"}),
    ("POST", "/api/account/recovery-codes", {"code": "123456"}),
]


def call(client, method, path, body, **headers):
    path = path.replace("{own}", str(current_id(client)))
    return client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize("method,path,body", STATE_CHANGING)
@pytest.mark.parametrize("token", ["missing", "empty", "wrong", "other_session", "upper_case", "longer"])
def test_state_changing_calls_need_the_sessions_csrf_token(two_sessions, stack, method, path, body, token):
    a, b, user = two_sessions
    value = {"missing": None, "empty": "", "wrong": secrets.token_hex(32), "other_session": b.csrf,
             "upper_case": a.csrf.upper(), "longer": a.csrf + "0"}[token]
    saved, a.csrf = a.csrf, None
    try:
        headers = {} if value is None else {"X-CSRF-Token": value}
        assert_error(call(a, method, path, body, **headers), 403, "csrf_failed")
    finally:
        a.csrf = saved
    assert a.get("/api/me").status_code == 200 and b.get("/api/me").status_code == 200
    assert len(session_ids(stack, user.id)) == 2


@pytest.mark.parametrize("method,path,body", STATE_CHANGING)
@pytest.mark.parametrize("origin", [None, "https://evil.example", "null", "http://localhost:18443",
                                    "https://localhost:18443.evil.example", "https://localhost",
                                    "https://localhost:18443/", "https://evil.example, https://localhost:18443"])
def test_state_changing_calls_need_a_same_origin_origin(two_sessions, stack, method, path, body, origin):
    a, b, user = two_sessions
    path = path.replace("{own}", str(current_id(a)))
    r = a.s.request(method, a.base + path, json=body, timeout=10,
                    headers={"Origin": origin, "X-CSRF-Token": a.csrf})
    assert_error(r, 403, "bad_origin")
    assert a.get("/api/me").status_code == 200
    assert len(session_ids(stack, user.id)) == 2


@pytest.mark.parametrize("path", ["/api/captcha", "/api/register", "/api/register/confirm", "/api/login",
                                  "/api/login/mfa"])
@pytest.mark.parametrize("origin", [None, "https://evil.example", "null"])
def test_the_logged_out_calls_need_a_same_origin_origin_too(client, path, origin):
    r = client.s.post(client.base + path, json=None if path == "/api/captcha" else {}, timeout=10,
                      headers={"Origin": origin})
    assert_error(r, 403, "bad_origin")


def test_the_right_token_and_origin_pass(clients):
    c = clients()
    c.new_user()
    assert c.post("/api/logout").status_code == 204


def test_reading_calls_need_no_csrf_token(clients):
    c = clients()
    c.new_user()
    c.csrf = None
    assert c.get("/api/me").status_code == 200
    assert c.get("/api/sessions").status_code == 200


def test_an_ended_sessions_csrf_token_is_no_good_for_another(clients):
    c = clients()
    c.new_user()
    token = c.csrf
    c.post("/api/logout")
    other = clients()
    other.new_user()
    other.csrf = token
    assert_error(other.post("/api/logout"), 403, "csrf_failed")


# --- the session list and ending sessions ------------------------------------------------------

def test_the_session_list_shows_when_where_and_which_browser(clients, stack):
    a = clients(user_agent="Browser A/1.0 <script>alert(1)</script> ' OR 1=1 --")
    user = a.new_user()
    b = clients(user_agent="Browser B/2.0")
    b.log_in(user)
    stranger = clients()
    stranger.new_user()
    r = a.get("/api/sessions")
    assert r.status_code == 200, r.text
    sessions = r.json()["sessions"]
    assert len(sessions) == 2
    for s in sessions:
        assert set(s) == {"id", "created_at", "last_seen_at", "user_agent", "ip", "current"}
        assert isinstance(s["id"], int) and ISO.match(s["created_at"]) and ISO.match(s["last_seen_at"])
        assert s["created_at"] <= s["last_seen_at"]
    mine = next(s for s in sessions if s["current"])
    other = next(s for s in sessions if not s["current"])
    assert mine["user_agent"] == "Browser A/1.0 <script>alert(1)</script> ' OR 1=1 --"
    assert mine["ip"] == a.source
    assert other["user_agent"] == "Browser B/2.0" and other["ip"] == b.source
    assert [s["current"] for s in b.get("/api/sessions").json()["sessions"]] == [False, True]


def test_ending_another_of_ones_sessions(clients, stack):
    a = clients()
    user = a.new_user()
    b = clients()
    b.log_in(user)
    target = current_id(b)
    r = a.delete(f"/api/sessions/{target}")
    assert r.status_code == 204, r.text
    assert "set-cookie" not in r.headers
    assert_error(b.get("/api/me"), 401, "unauthenticated")
    assert a.get("/api/me").status_code == 200
    assert [s["id"] for s in a.get("/api/sessions").json()["sessions"]] == [current_id(a)]
    assert ("session_ended", str(target)) in [(e, d) for e, d, _ in audit(stack, user.id)]
    assert_error(a.delete(f"/api/sessions/{target}"), 404, "not_found")


def test_ending_ones_current_session_logs_out(clients, stack):
    c = clients()
    user = c.new_user()
    r = c.delete(f"/api/sessions/{current_id(c)}")
    assert r.status_code == 204
    assert "Max-Age=0" in r.headers["set-cookie"]
    assert_error(c.get("/api/me"), 401, "unauthenticated")
    assert session_ids(stack, user.id) == []


def test_another_users_session_cannot_be_ended(clients, stack):
    victim = clients()
    v = victim.new_user()
    attacker = clients()
    attacker.new_user()
    vid = current_id(victim)
    assert_error(attacker.delete(f"/api/sessions/{vid}"), 404, "not_found")
    assert victim.get("/api/me").status_code == 200
    assert session_ids(stack, v.id) == [vid]
    # Nor seen.
    assert vid not in [s["id"] for s in attacker.get("/api/sessions").json()["sessions"]]


@pytest.mark.parametrize("sid", ["abc", "-1", "0", "1.5", "1e3", "+1", " 1", "0x10", "9" * 18, "9" * 19,
                                 "99999999999999999999999999999999", "%27%20OR%201=1%20--", "1%20OR%201=1",
                                 "%3Cscript%3E", "1;2"])
def test_malformed_or_unknown_session_ids_are_not_found(clients, sid):
    c = clients()
    c.new_user()
    assert_error(c.delete(f"/api/sessions/{sid}"), 404, "not_found")
    assert c.get("/api/me").status_code == 200


def test_the_session_list_takes_no_id_and_no_delete(clients):
    c = clients()
    c.new_user()
    r = c.delete("/api/sessions")
    assert_error(r, 405, "method_not_allowed")
    assert_error(c.get("/api/sessions/1"), 405, "method_not_allowed")


# --- what the browser sends about itself ------------------------------------------------------------

def test_a_user_agent_that_is_not_utf8_does_not_break_login(clients, stack):
    c = clients()
    user = c.new_user()
    d = clients(user_agent="Mozilla/5.0 (X11; \xe9t\xe9)")       # sent as one Latin-1 byte
    r = d.login(user.username, user.password)
    r = d.mfa(r.json()["mfa_ticket"], "totp", user.code())
    assert r.status_code == 200, r.text
    r = d.get("/api/sessions")
    assert r.status_code == 200, r.text
    assert all(s["user_agent"].startswith("Mozilla/5.0") for s in r.json()["sessions"] if s["current"])


def test_a_long_user_agent_is_cut_between_characters(clients, stack):
    c = clients()
    user = c.new_user()
    d = clients(user_agent=("a" * 254 + "\u00e9" + "b" * 100).encode())
    r = d.login(user.username, user.password)
    r = d.mfa(r.json()["mfa_ticket"], "totp", user.code())
    assert r.status_code == 200, r.text
    ua = next(s["user_agent"] for s in d.get("/api/sessions").json()["sessions"] if s["current"])
    # Cut whole: a prefix of what was sent, of a useful length, fitting the column.
    assert ("a" * 254 + "\u00e9" + "b" * 100).startswith(ua) and 200 <= len(ua) <= 255, ua


def test_csrf_tokens_are_session_bound_hmacs(clients):
    c = clients()
    c.new_user()
    first = c.csrf
    assert HEX64.match(first)
    assert first != hashlib.sha256(c.cookie.encode()).hexdigest()
    assert c.get("/api/me").json()["csrf_token"] == first
