"""Login (POST /api/login → MFA ticket, POST /api/login/mfa → session): TOTP
right, replayed, wrong and outside the window; single-use tickets that die
after five wrong codes; recovery codes; answers that never tell whether a
name exists; lockouts that grow from 1 minute to 1 hour; the hard lock at
100 failures that only a recovery code lifts; and the audit trail."""
import re
import secrets
import statistics
import threading
import time

import pytest

from accounts import (B64URL_43, HEX64, assert_error, audit, clear_throttle, cleared, end_lock,
                      set_failures, throttle)
from chat import (COOKIE, clear_of_step_edge, now_step, quote, sha256_hex, sql, strong_password, totp,
                  unique_name, wrong_code)

LOCKS = [60, 120, 240, 480, 960, 1920, 3600, 3600]


def fail(client, name, times=1):
    for _ in range(times):
        assert_error(client.login(name, strong_password()), 401, "invalid_credentials")


def assert_locked(r, seconds):
    body = assert_error(r, 429, "locked")
    ra = int(r.headers["retry-after"])
    assert seconds - 5 <= ra <= seconds, (ra, seconds)
    return body


# --- the two steps -----------------------------------------------------------

def test_the_password_step_gives_a_single_factor_ticket_only(clients, account, stack):
    _, user = account
    c = clients()
    r = c.login(user.username, user.password)
    assert r.status_code == 200, r.text
    assert "set-cookie" not in r.headers
    body = r.json()
    assert set(body) == {"mfa_ticket", "methods"}
    assert B64URL_43.match(body["mfa_ticket"])
    assert body["methods"] == ["totp", "recovery"]
    stored = sql(stack, f"SELECT LOWER(HEX(ticket_hash)) FROM mfa_tickets WHERE user_id = {user.id}")
    assert stored == sha256_hex(body["mfa_ticket"])
    assert_error(c.get("/api/me"), 401, "unauthenticated")


def test_a_right_totp_code_starts_a_session(clients, account):
    _, user = account
    c = clients()
    ticket = c.ticket(user)
    r = c.mfa(ticket, "totp", user.code())
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"user", "csrf_token"}
    assert body["user"] == {"id": user.id, "username": user.username}
    assert HEX64.match(body["csrf_token"])
    cookie = r.headers["set-cookie"]
    m = re.fullmatch(rf"{COOKIE}=([A-Za-z0-9_-]{{43}}); (.*)", cookie)
    assert m, cookie
    attrs = [a.strip() for a in m.group(2).split(";")]
    assert {"Path=/", "Secure", "HttpOnly", "SameSite=Strict"} <= set(attrs), attrs
    assert not any(a.lower().startswith("domain=") for a in attrs)
    assert c.get("/api/me").json()["user"]["username"] == user.username


def test_the_name_is_found_in_any_case(clients, account):
    _, user = account
    c = clients()
    r = c.login(user.username.upper(), user.password)
    assert r.status_code == 200, r.text
    r = c.mfa(r.json()["mfa_ticket"], "totp", user.code())
    assert r.status_code == 200 and r.json()["user"]["username"] == user.username


def test_a_totp_code_is_taken_once(clients, account):
    _, user = account
    clear_of_step_edge()
    code = totp(user.secret, now_step())
    c = clients()
    assert c.mfa(c.ticket(user), "totp", code).status_code == 200
    assert_error(c.mfa(c.ticket(user), "totp", code), 401, "code_reused")


def test_a_code_of_an_earlier_step_than_one_used_is_refused(clients, account):
    _, user = account          # confirmation used step now-1
    clear_of_step_edge()
    c = clients()
    assert c.mfa(c.ticket(user), "totp", totp(user.secret, now_step() + 1)).status_code == 200
    assert_error(c.mfa(c.ticket(user), "totp", totp(user.secret, now_step())), 401, "code_reused")


def test_a_wrong_totp_code_is_refused(clients, account):
    _, user = account
    c = clients()
    assert_error(c.mfa(c.ticket(user), "totp", wrong_code(user.secret)), 401, "code_wrong")


@pytest.mark.parametrize("delta", [-2, 2, -10, 10])
def test_codes_outside_the_one_step_window_are_refused(clients, account, delta):
    _, user = account
    clear_of_step_edge()
    now = now_step()
    code = totp(user.secret, now + delta)
    if code in {totp(user.secret, now + d) for d in (-1, 0, 1)}:
        pytest.skip("the far code happens to equal a code in the window")
    c = clients()
    assert_error(c.mfa(c.ticket(user), "totp", code), 401, "code_wrong")


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", "' OR 1=1 --", "<script>", "12345\u0661"])
def test_codes_of_the_wrong_shape_are_wrong(clients, account, code):
    _, user = account
    c = clients()
    assert_error(c.mfa(c.ticket(user), "totp", code), 401, "code_wrong")


def test_a_ticket_is_used_once(clients, account):
    _, user = account
    c = clients()
    ticket = c.ticket(user)
    assert c.mfa(ticket, "totp", user.code()).status_code == 200
    assert_error(c.mfa(ticket, "recovery", user.recovery_codes[0]), 401, "ticket_invalid")
    # The refused attempt did not spend the recovery code.
    assert c.get("/api/me").json()["recovery_remaining"] == 10


def test_a_ticket_dies_after_five_wrong_codes(clients, account, stack):
    _, user = account
    c = clients()
    ticket = c.ticket(user)
    for _ in range(5):
        assert_error(c.mfa(ticket, "totp", wrong_code(user.secret)), 401, "code_wrong")
    assert sql(stack, f"SELECT COUNT(*) FROM mfa_tickets WHERE user_id = {user.id}") == "0"
    assert_error(c.mfa(ticket, "totp", user.code()), 401, "ticket_invalid")


def test_four_wrong_codes_then_the_right_one_logs_in_and_clears_the_count(clients, account, stack):
    _, user = account
    c = clients()
    ticket = c.ticket(user)
    for _ in range(4):
        assert_error(c.mfa(ticket, "totp", wrong_code(user.secret)), 401, "code_wrong")
    assert throttle(stack, user.username)["failures"] == 4
    assert c.mfa(ticket, "totp", user.code()).status_code == 200
    assert cleared(stack, user.username)


def test_an_expired_ticket_is_refused(clients, account, stack):
    _, user = account
    c = clients()
    ticket = c.ticket(user)
    sql(stack, f"UPDATE mfa_tickets SET expires_at = NOW(6) - INTERVAL 1 SECOND "
               f"WHERE ticket_hash = UNHEX('{sha256_hex(ticket)}')")
    assert_error(c.mfa(ticket, "totp", user.code()), 401, "ticket_invalid")


def test_an_unknown_ticket_is_refused(client):
    assert_error(client.mfa(secrets.token_urlsafe(32), "totp", "123456"), 401, "ticket_invalid")


@pytest.mark.parametrize("method", ["sms", "TOTP", "", "recovery ", "' OR 1=1 --"])
def test_unknown_methods_are_refused(clients, account, method):
    _, user = account
    c = clients()
    body = assert_error(c.mfa(c.ticket(user), method, user.recovery_codes[0]), 422, "bad_value")
    assert "method" in body["message"]


def test_a_recovery_code_as_totp_and_a_totp_code_as_recovery_are_wrong(clients, account):
    _, user = account
    c = clients()
    ticket = c.ticket(user)
    assert_error(c.mfa(ticket, "totp", user.recovery_codes[0]), 401, "code_wrong")
    assert_error(c.mfa(ticket, "recovery", totp(user.secret, now_step())), 401, "code_wrong")
    assert c.mfa(ticket, "recovery", user.recovery_codes[0]).status_code == 200


# --- recovery codes ------------------------------------------------------------

def test_a_recovery_code_logs_in_once(clients, account, stack):
    _, user = account
    c = clients()
    code = user.recovery_codes[3]
    r = c.mfa(c.ticket(user), "recovery", code)
    assert r.status_code == 200, r.text
    assert r.json()["recovery_remaining"] == 9
    assert r.json()["user"]["username"] == user.username
    assert c.get("/api/me").json()["recovery_remaining"] == 9
    assert sql(stack, f"SELECT COUNT(*) FROM recovery_codes WHERE user_id = {user.id} "
                      "AND used_at IS NOT NULL") == "1"
    assert_error(clients().mfa(c.ticket(user), "recovery", code), 401, "code_wrong")


def test_recovery_codes_are_taken_in_upper_case_without_dashes_or_with_spaces(clients, account):
    _, user = account
    forms = [user.recovery_codes[0].upper(), user.recovery_codes[1].replace("-", ""),
             user.recovery_codes[2].replace("-", " "), user.recovery_codes[3].replace("-", "").upper()]
    for left, code in zip((9, 8, 7, 6), forms):
        c = clients()
        r = c.mfa(c.ticket(user), "recovery", code)
        assert r.status_code == 200, (code, r.text)
        assert r.json()["recovery_remaining"] == left


def test_another_users_recovery_code_is_wrong(clients, account):
    _, user = account
    other = clients().new_user()
    c = clients()
    assert_error(c.mfa(c.ticket(user), "recovery", other.recovery_codes[0]), 401, "code_wrong")
    # Still unused for its owner.
    assert c.mfa(c.ticket(other), "recovery", other.recovery_codes[0]).status_code == 200


@pytest.mark.parametrize("code", ["aaaa-aaaa-aaaa-aaa", "aaaa-aaaa-aaaa-aaaa-a", "0000-1111-iiii-llll",
                                  "' OR 1=1 --", "<script>alert(1)</script>"])
def test_malformed_recovery_codes_are_wrong(clients, account, code):
    _, user = account
    c = clients()
    assert_error(c.mfa(c.ticket(user), "recovery", code), 401, "code_wrong")


# --- answers that do not tell whether a name exists -----------------------------

def answer_of(r):
    skip = {"date", "x-request-id"}
    return r.status_code, r.content, sorted(k.lower() for k in r.headers if k.lower() not in skip)


def test_unknown_names_and_wrong_passwords_answer_alike(clients, account, stack):
    _, user = account
    pending, _ = clients().enrol()
    c = clients()
    wrong = answer_of(c.login(user.username, strong_password()))
    assert wrong[0] == 401
    for name, password in [(unique_name("nobody"), strong_password()),
                           (pending.username, strong_password()),         # pending, wrong password
                           ("<script>alert(1)</script>", strong_password()),
                           ("' OR 1=1 --", strong_password()),
                           ("x" * 64, strong_password()),
                           ("ab", user.password)]:
        clear_throttle(stack, name)
        assert answer_of(c.login(name, password)) == wrong, name


def test_a_name_cut_inside_a_character_answers_like_any_unknown_name(client, stack):
    # 31 ASCII letters and a 2-byte letter: the 32-byte throttle key must not end mid-character.
    wrong = answer_of(client.login(unique_name("nobody"), strong_password()))
    for name in ("a" * 31 + "\u00e9", "\u00e9" * 20):
        clear_throttle(stack, name)
    assert answer_of(client.login("a" * 31 + "\u00e9", strong_password())) == wrong
    assert answer_of(client.login("\u00e9" * 20, strong_password())) == wrong


def test_unknown_names_cost_as_much_time_as_known_ones(clients, account, stack):
    _, user = account
    c = clients()

    def timed(name):
        cid, answer = c.captcha()
        t = time.perf_counter()
        r = c.post("/api/login", {"username": name, "password": strong_password(),
                                  "captcha_id": cid, "captcha": answer})
        took = time.perf_counter() - t
        assert r.status_code == 401, r.text
        return took
    known, unknown = [], []
    for _ in range(12):
        known.append(timed(user.username))
        sql(stack, f"DELETE FROM login_throttle WHERE username = {quote(user.username.lower())}")
        unknown.append(timed(unique_name("nobody")))
    k, u = statistics.median(known), statistics.median(unknown)
    # Both run bcrypt; without the dummy hash an unknown name would answer several times faster.
    assert u >= 0.5 * k and k >= 0.5 * u, (k, u)


# --- lockouts --------------------------------------------------------------------

def test_five_failures_lock_the_name_for_a_minute_even_for_the_right_password(clients, account, stack):
    _, user = account
    c = clients()
    fail(c, user.username, 4)
    assert throttle(stack, user.username) == {"failures": 4, "hard": 0, "locked_for": None}
    fail(c, user.username)
    assert_locked(c.login(user.username, user.password), 60)
    assert_locked(c.login(user.username, strong_password()), 60)
    # Attempts while locked are not counted.
    assert throttle(stack, user.username)["failures"] == 5
    assert ("lockout", "failures=5 seconds=60") in [(e, d) for e, d, _ in audit(stack, user.id)]


def test_lockouts_double_up_to_an_hour(clients, account, stack):
    _, user = account
    c = clients()
    fail(c, user.username, 4)
    for failures, seconds in enumerate(LOCKS, start=5):
        fail(c, user.username)
        t = throttle(stack, user.username)
        assert t["failures"] == failures and seconds - 5 <= t["locked_for"] <= seconds, t
        assert_locked(c.login(user.username, user.password), seconds)
        end_lock(stack, user.username)
    # Later failures stay at the cap.
    set_failures(stack, user.username, 40)
    fail(c, user.username)
    assert_locked(c.login(user.username, user.password), 3600)


def test_a_lock_that_ran_out_lets_the_right_password_in(clients, account, stack):
    _, user = account
    c = clients()
    fail(c, user.username, 5)
    end_lock(stack, user.username)
    assert c.login(user.username, user.password).status_code == 200


def test_a_success_clears_the_failure_count(clients, account, stack):
    _, user = account
    c = clients()
    fail(c, user.username, 3)
    c.log_in(user)
    assert cleared(stack, user.username)
    fail(c, user.username, 4)
    assert c.login(user.username, user.password).status_code == 200


def test_unknown_names_lock_out_alike(clients, account, stack):
    _, user = account
    c = clients()
    nobody = unique_name("nobody")
    fail(c, user.username, 5)
    fail(c, nobody, 5)
    known = assert_locked(c.login(user.username, user.password), 60)
    unknown = assert_locked(c.login(nobody, strong_password()), 60)
    assert known == unknown
    assert throttle(stack, nobody)["failures"] == 5


def test_failures_count_per_name_in_any_case(clients, account, stack):
    _, user = account
    c = clients()
    for name in (user.username, user.username.upper(), user.username.lower(), user.username.swapcase(),
                 user.username):
        fail(c, name)
    assert_locked(c.login(user.username, user.password), 60)


def test_wrong_second_factors_count_towards_the_lockout(clients, account, stack):
    _, user = account
    c = clients()
    fail(c, user.username, 3)
    ticket = c.ticket(user)
    for _ in range(2):
        assert_error(c.mfa(ticket, "totp", wrong_code(user.secret)), 401, "code_wrong")
    assert throttle(stack, user.username)["failures"] == 5
    assert_locked(c.login(user.username, user.password), 60)


def test_a_lockout_stops_a_login_half_way(clients, account, stack):
    _, user = account
    c = clients()
    ticket = c.ticket(user)
    fail(clients(), user.username, 5)        # someone else, meanwhile
    assert_locked(c.mfa(ticket, "totp", user.code()), 60)


def hard_lock(client, stack, name):
    set_failures(stack, name, 99)
    fail(client, name)                       # the 100th
    t = throttle(stack, name)
    assert t["failures"] == 100 and t["hard"] == 1, t


def test_the_hundredth_failure_hard_locks_and_only_a_recovery_code_lifts_it(clients, account, stack):
    _, user = account
    c = clients()
    hard_lock(c, stack, user.username)
    end_lock(stack, user.username)           # a hard lock outlasts the timed one
    right = c.login(user.username, user.password)
    wrong = c.login(user.username, strong_password())
    assert right.status_code == wrong.status_code == 200
    assert right.json()["methods"] == wrong.json()["methods"] == ["recovery"]
    assert set(right.json()) == set(wrong.json()) == {"mfa_ticket", "methods"}
    # TOTP is refused, even right; a recovery code after a wrong password too, alike.
    totp_refused = c.mfa(right.json()["mfa_ticket"], "totp", user.code())
    code = user.recovery_codes[0]
    recovery_refused = c.mfa(wrong.json()["mfa_ticket"], "recovery", code)
    assert_error(totp_refused, 401, "code_wrong")
    assert answer_of(totp_refused) == answer_of(recovery_refused)
    # A recovery code with the right password logs in and lifts the lock.
    r = c.mfa(c.ticket(user), "recovery", code)
    assert r.status_code == 200, r.text
    assert r.json()["recovery_remaining"] == 9
    assert cleared(stack, user.username)
    assert c.login(user.username, user.password).json()["methods"] == ["totp", "recovery"]
    events = [(e, d) for e, d, _ in audit(stack, user.id)]
    assert ("lockout", "failures=100 seconds=3600 hard") in events
    assert ("recovery_used", "remaining=9 unlocked") in events


def test_a_hard_locked_unknown_name_looks_the_same(clients, account, stack):
    _, user = account
    c = clients()
    nobody = unique_name("nobody")
    hard_lock(c, stack, nobody)
    hard_lock(c, stack, user.username)
    a = c.login(nobody, strong_password())
    b = c.login(user.username, user.password)
    assert a.status_code == b.status_code == 200
    assert a.json()["methods"] == b.json()["methods"] == ["recovery"]
    assert answer_of(c.mfa(a.json()["mfa_ticket"], "recovery", user.recovery_codes[0])) == \
        answer_of(c.mfa(b.json()["mfa_ticket"], "recovery", "aaaa-bbbb-cccc-dddd"))


# --- audit -----------------------------------------------------------------------------

def test_the_audit_log_records_every_account_event(clients, stack):
    a = clients()
    user = a.new_user()
    b = clients()
    assert_error(b.login(user.username, strong_password()), 401, "invalid_credentials")
    ticket = b.ticket(user)
    assert_error(b.mfa(ticket, "totp", wrong_code(user.secret)), 401, "code_wrong")
    b.mfa(ticket, "recovery", user.recovery_codes.pop())
    new_password = strong_password()
    r = a.post("/api/account/password", {"current_password": user.password, "code": user.code(),
                                         "new_password": new_password})
    assert r.status_code == 204, r.text
    user.password = new_password
    r = a.post("/api/account/totp", {"password": new_password})
    assert r.status_code == 201, r.text
    new = user.rebound(r.json()["totp_secret"])
    r = a.post("/api/account/totp/confirm", {"enrolment_token": r.json()["enrolment_token"], "code": new.code()})
    assert r.status_code == 204, r.text
    assert a.post("/api/logout").status_code == 204
    fail(b, user.username, 5)
    rows = audit(stack, user.id)
    events = [e for e, _, _ in rows]
    for event in ("register", "register_confirm", "login_failure", "mfa_failure", "login_success",
                  "recovery_used", "password_change", "session_ended", "authenticator_change", "logout",
                  "lockout"):
        assert event in events, (event, events)
    assert events.index("register") < events.index("register_confirm") < events.index("login_success")
    assert ("session_ended", "others=1") in [(e, d) for e, d, _ in rows]
    for e, d, ip in rows:
        assert ip.startswith("127."), rows
        assert user.password not in d and new_password not in d
    assert rows[0][2] == a.source and rows[0][0] == "register"


def test_logins_of_unknown_names_are_audited_without_a_user(client, stack):
    name = unique_name("nobody")
    before = int(sql(stack, "SELECT COALESCE(MAX(id), 0) FROM audit_log"))
    fail(client, name)
    rows = sql(stack, f"SELECT COALESCE(user_id, 'NULL'), event, detail, ip FROM audit_log WHERE id > {before} "
                      f"AND ip = {quote(client.source)}")
    assert rows.split("\t") == ["NULL", "login_failure", "unknown user", client.source], rows
    assert name not in rows


# --- races ----------------------------------------------------------------------------------

def warm(*clients_):
    """Open each client's connection first, so the TLS handshakes do not stagger a race."""
    for c in clients_:
        c.get("/api/health")
    return clients_


def race(*calls):
    """Runs the calls at once on threads of their own; their answers in order."""
    barrier = threading.Barrier(len(calls))
    out = [None] * len(calls)

    def run(i, fn):
        barrier.wait()
        out[i] = fn()
    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return out


def test_one_totp_code_sent_twice_at_once_logs_in_once(clients, account):
    _, user = account
    code = user.code()
    pairs = [(c, c.ticket(user)) for c in warm(clients(), clients())]
    answers = race(*[lambda c=c, t=t: c.mfa(t, "totp", code) for c, t in pairs])
    assert sorted(r.status_code for r in answers) == [200, 401], [r.text for r in answers]
    assert_error(next(r for r in answers if r.status_code == 401), 401, "code_reused")


def test_one_recovery_code_sent_twice_at_once_logs_in_once(clients, account):
    _, user = account
    code = user.recovery_codes[0]
    pairs = [(c, c.ticket(user)) for c in warm(clients(), clients(), clients())]
    answers = race(*[lambda c=c, t=t: c.mfa(t, "recovery", code) for c, t in pairs])
    assert sorted(r.status_code for r in answers) == [200, 401, 401], [r.text for r in answers]


def test_one_ticket_sent_twice_at_once_makes_one_session(clients, account, stack):
    _, user = account
    codes = list(user.recovery_codes)
    for _ in range(4):                           # a race may need a few tries to show
        before = int(sql(stack, f"SELECT COUNT(*) FROM sessions WHERE user_id = {user.id}"))
        ticket = clients().ticket(user)
        senders = warm(clients(), clients())
        pair = [codes.pop(), codes.pop()]
        answers = race(*[lambda c=c, code=code: c.mfa(ticket, "recovery", code) for c, code in zip(senders, pair)])
        assert sorted(r.status_code for r in answers) == [200, 401], [r.text for r in answers]
        assert int(sql(stack, f"SELECT COUNT(*) FROM sessions WHERE user_id = {user.id}")) == before + 1


def test_a_ticket_takes_at_most_five_codes_even_sent_at_once(clients, account, stack):
    _, user = account
    code = wrong_code(user.secret)
    for _ in range(6):                           # a race may need a few tries to show
        ticket = clients().ticket(user)
        senders = warm(*[clients() for _ in range(16)])
        answers = race(*[lambda c=c: c.mfa(ticket, "totp", code) for c in senders])
        tried = [r for r in answers if r.json()["error"] == "code_wrong"]
        assert len(tried) <= 5, [r.json()["error"] for r in answers]
        clear_throttle(stack, user.username)


def test_a_lockout_is_not_outrun_by_guesses_sent_at_once(clients, account, stack):
    _, user = account
    for _ in range(3):                           # a race may need a few tries to show
        set_failures(stack, user.username, 4)
        senders = [(c, c.captcha()) for c in warm(*[clients() for _ in range(12)])]
        answers = race(*[lambda c=c, cap=cap: c.post("/api/login", {
            "username": user.username, "password": strong_password(), "captcha_id": cap[0], "captcha": cap[1]})
            for c, cap in senders])
        checked = [r for r in answers if r.status_code == 401]
        # The 5th failure is the last one that may be tried; the rest meet the lock.
        assert len(checked) <= 1, [r.status_code for r in answers]
        assert all(r.status_code == 429 for r in answers if r.status_code != 401)


# --- warnings before a lockout, codes as people type them ---------------------

def test_each_failure_says_how_many_attempts_are_left_alike_for_unknown_names(clients, account, stack):
    _, user = account
    c = clients()
    nobody = unique_name("nobody")
    for left in (4, 3, 2, 1):
        a = assert_error(c.login(user.username, strong_password()), 401, "invalid_credentials")
        b = assert_error(c.login(nobody, strong_password()), 401, "invalid_credentials")
        assert a == b and a["attempts_left"] == left and "retry_after" not in a, (a, b)
    last = c.login(user.username, strong_password())
    same = c.login(nobody, strong_password())
    assert answer_of(last) == answer_of(same)
    body = assert_error(last, 401, "invalid_credentials")
    assert body["attempts_left"] == 0 and body["retry_after"] == 60
    assert last.headers["retry-after"] == "60"
    assert_locked(c.login(user.username, user.password), 60)


def test_a_wrong_second_factor_says_how_many_attempts_are_left(clients, account, stack):
    _, user = account
    c = clients()
    set_failures(stack, user.username, 2)
    body = assert_error(c.mfa(c.ticket(user), "totp", wrong_code(user.secret)), 401, "code_wrong")
    assert body["attempts_left"] == 2


@pytest.mark.parametrize("shape", ["{} {}", "{}-{}", "{}\u00a0{}", "{}\u202f{}", " {}  {} "])
def test_a_totp_code_with_a_space_or_hyphen_logs_in(clients, account, shape):
    _, user = account
    c = clients()
    code = user.code()
    r = c.mfa(c.ticket(user), "totp", shape.format(code[:3], code[3:]))
    assert r.status_code == 200, r.text


def test_a_recovery_code_with_spaces_for_hyphens_logs_in(clients, account):
    _, user = account
    c = clients()
    r = c.mfa(c.ticket(user), "recovery", user.recovery_codes[2].replace("-", " ").upper())
    assert r.status_code == 200, r.text


def test_a_code_of_separators_only_is_a_bad_value(clients, account):
    _, user = account
    c = clients()
    assert_error(c.mfa(c.ticket(user), "totp", " - - "), 422, "bad_value")
