"""The race layer: a user's own multi-row changes sent at once. Recovery codes
are replaced (ten deleted, ten inserted) and an enrolment resumed (its token,
codes and expiry) in one transaction under the user's row lock, so parallel
requests leave exactly one complete set, never none and never twenty."""
from accounts import assert_error, clear_throttle, user_row
from chat import Client, clear_of_step_edge, sha256_hex, sql
from race import assert_no_failure, assert_no_fault_logged, at_once, log_marks, logged_since, logins


def unused_codes(stack, uid):
    return int(sql(stack, f"SELECT COUNT(*) FROM recovery_codes WHERE user_id = {uid} AND used_at IS NULL"))


def test_parallel_regenerations_leave_exactly_the_ten_codes_given(clients, account, stack):
    c, user = account
    uid = user_row(stack, user.username)["id"]
    clear_of_step_edge()
    code = user.code()
    marks = log_marks(stack)
    answers = at_once(*[lambda t=c.copy(): t.post("/api/account/recovery-codes", {"code": code})
                        for _ in range(10)])
    assert_no_failure(answers)
    made = [r for r in answers if r.status_code == 201]
    # One code, one use: one new set; the others were told the code was used.
    assert len(made) == 1, [(r.status_code, r.text) for r in answers]
    for r in answers:
        if r.status_code != 201:
            assert r.status_code in (401, 429), (r.status_code, r.text)
            if r.status_code == 401:
                assert_error(r, 401, "code_reused")
    codes = made[0].json()["recovery_codes"]
    assert len(set(codes)) == 10
    assert unused_codes(stack, uid) == 10
    assert_no_fault_logged(logged_since(marks))
    # They are the codes in force: one of them logs in, and the old ones do
    # not (after the DB owner forgets the reused code's failures, which lock).
    clear_throttle(stack, user.username)
    other = Client(stack)
    r = other.login(user.username, user.password)
    assert r.status_code == 200, r.text
    assert other.mfa(r.json()["mfa_ticket"], "recovery", user.recovery_codes[0]).status_code == 401
    r = other.login(user.username, user.password)
    assert other.mfa(r.json()["mfa_ticket"], "recovery", codes[3]).status_code == 200
    assert unused_codes(stack, uid) == 9


def test_parallel_resumed_enrolments_leave_one_token_and_ten_codes(clients, stack):
    c = clients()
    user, _ = c.enrol()
    uid = user_row(stack, user.username)["id"]
    marks = log_marks(stack)
    answers = at_once(*logins(stack, user.username, user.password, 8))
    assert_no_failure(answers)
    resumed = [r.json()["enrolment"] for r in answers if r.status_code == 200]
    assert resumed, [(r.status_code, r.text) for r in answers]
    for r in answers:
        if r.status_code != 200:
            assert_error(r, 429, "locked")	# "wait a second", while the others are checked
    # Each answer was whole when it was made; one of them is the one in force.
    live = sql(stack, f"SELECT LOWER(HEX(token_hash)) FROM enrolments WHERE user_id = {uid}").split()
    assert len(live) == 1, live
    assert sum(sha256_hex(e["enrolment_token"]) == live[0] for e in resumed) == 1
    assert all(len(e["recovery_codes"]) == 10 for e in resumed)
    assert unused_codes(stack, uid) == 10
    assert_no_fault_logged(logged_since(marks))
