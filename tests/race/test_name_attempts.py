"""The race layer: attempts at one name sent at once. bcrypt runs with no
lock held; each attempt is admitted, and its result counted, under the name's
row lock (fcgi/sec/throttle.c), so however many arrive together, no more are
checked than the name has attempts left, the count is exact, and nobody waits
on a lock long enough to see a 503."""
from accounts import assert_error, throttle
from chat import Client, clear_of_step_edge, wrong_code
from race import assert_no_failure, assert_no_fault_logged, at_once, log_marks, logged_since, logins

FREE = 5	# failures before a lockout (THROTTLE_FREE + 1 attempts)


def counted_refusals(answers):
    """(401s, 429s) of a burst, each 429 with Retry-After."""
    wrong = [r for r in answers if r.status_code == 401]
    locked = [r for r in answers if r.status_code == 429]
    for r in wrong:
        assert_error(r, 401, "invalid_credentials")
    for r in locked:
        assert_error(r, 429, "locked")
        assert int(r.headers["retry-after"]) >= 1
    assert len(wrong) + len(locked) == len(answers), [(r.status_code, r.text) for r in answers]
    return wrong, locked


def test_twenty_wrong_passwords_at_once_count_exactly_and_lock(clients, account, stack):
    _, user = account
    marks = log_marks(stack)
    answers = at_once(*logins(stack, user.username, "not the password at all", 20))
    assert_no_failure(answers)
    wrong, locked = counted_refusals(answers)
    # No more were checked than could fail before the lockout, and each counted once.
    assert 1 <= len(wrong) <= FREE, len(wrong)
    assert throttle(stack, user.username)["failures"] == len(wrong)
    assert sorted(r.json()["attempts_left"] for r in wrong) == list(range(FREE - len(wrong), FREE))
    logs = logged_since(marks)
    assert "gave way" not in logs, logs[-3000:]	# nobody waited on the name's lock
    assert_no_fault_logged(logs)
    if len(wrong) == FREE:
        assert_error(Client(stack).login(user.username, user.password), 429, "locked")


def test_twenty_right_passwords_at_once_never_count_a_failure(clients, account, stack):
    _, user = account
    marks = log_marks(stack)
    answers = at_once(*logins(stack, user.username, user.password, 20))
    assert_no_failure(answers)
    ok = [r for r in answers if r.status_code == 200]
    assert ok and all("mfa_ticket" in r.json() for r in ok)
    # The rest were asked to wait a second while others were checked: not failures.
    for r in answers:
        if r.status_code != 200:
            assert_error(r, 429, "locked")
            assert r.headers["retry-after"] == "1"
    assert (throttle(stack, user.username) or {"failures": 0})["failures"] == 0
    assert "gave way" not in logged_since(marks)
    # Then a login goes through at once: nothing is left counted as in progress.
    assert Client(stack).login(user.username, user.password).status_code == 200


def test_parallel_reauthentication_guesses_are_counted_like_logins(clients, account, stack):
    """A stolen session sends twenty guesses of the second factor at once: no
    more are checked than the name has attempts left, each counts, the rest
    wait, and the account then locks like a login would."""
    c, user = account
    thief = c.copy()
    clear_of_step_edge()
    guess = wrong_code(user.secret)
    marks = log_marks(stack)
    answers = at_once(*[lambda t=thief.copy(): t.post("/api/account/recovery-codes", {"code": guess})
                        for _ in range(20)])
    assert_no_failure(answers)
    wrong = [r for r in answers if r.status_code == 401]
    for r in wrong:
        assert_error(r, 401, "code_wrong")
    for r in answers:
        assert r.status_code in (401, 429), (r.status_code, r.text)
    assert 1 <= len(wrong) <= FREE, len(wrong)
    assert throttle(stack, user.username)["failures"] == len(wrong)
    logs = logged_since(marks)
    assert "gave way" not in logs, logs[-3000:]
    assert_no_fault_logged(logs)
    if len(wrong) == FREE:
        assert_error(thief.post("/api/account/recovery-codes", {"code": user.code()}), 429, "locked")


def test_second_factor_guesses_on_many_tickets_at_once_stop_at_the_lockout(clients, account, stack):
    """Someone who knows the password holds ten tickets and sends one wrong
    code on each at once: the name's row is taken after the ticket's, so the
    guesses are decided one at a time and the fifth failure's lockout stops
    the rest."""
    _, user = account
    tickets = [Client(stack).ticket(user) for _ in range(10)]
    clear_of_step_edge()
    guess = wrong_code(user.secret)
    marks = log_marks(stack)
    answers = at_once(*[lambda t=t: Client(stack).post("/api/login/mfa", {"mfa_ticket": t, "method": "totp",
                                                                         "code": guess})
                        for t in tickets])
    assert_no_failure(answers)
    wrong = [r for r in answers if r.status_code == 401]
    for r in wrong:
        assert_error(r, 401, "code_wrong")
    for r in answers:
        if r.status_code != 401:
            assert_error(r, 429, "locked")
    assert len(wrong) == FREE, [(r.status_code, r.text) for r in answers]
    assert throttle(stack, user.username)["failures"] == FREE
    assert_no_fault_logged(logged_since(marks))
