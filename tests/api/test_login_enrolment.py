"""An enrolment interrupted by a reload resumes at login: the password step
of a pending account answers its enrolment again (the same authenticator
secret, a new token, new recovery codes) once the password is right, under
the same CAPTCHA and throttle rules as any login; a wrong password answers
as for any name; an enrolment past CHATD_ENROL_TTL is purged."""
import pytest

from accounts import B64URL_43, RECOVERY, assert_error, audit, throttle, user_row
from chat import qr_uri, sql, strong_password, unique_name, uri_secret


def resume(client, user):
    r = client.login(user.username, user.password)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"enrolment"}, body
    return body["enrolment"]


def test_the_right_password_of_a_pending_account_answers_its_enrolment_again(clients, stack):
    c = clients()
    user, first = c.enrol()
    again = resume(clients(), user)
    assert set(again) == {"enrolment_token", "totp_uri", "totp_secret", "qr", "recovery_codes"}
    # The same secret: it may already be in the user's app.
    assert again["totp_secret"] == first["totp_secret"] == user.secret
    assert uri_secret(qr_uri(again["qr"])) == user.secret
    assert again["totp_uri"] == first["totp_uri"]
    # A new token and new codes: the old ones were never confirmed as saved.
    assert B64URL_43.match(again["enrolment_token"]) and again["enrolment_token"] != first["enrolment_token"]
    assert len(again["recovery_codes"]) == 10 and all(RECOVERY.match(x) for x in again["recovery_codes"])
    assert not set(again["recovery_codes"]) & set(first["recovery_codes"])
    assert user_row(stack, user.username)["active"] == 0
    assert "set-cookie" not in c.login(user.username, user.password).headers


def test_finishing_a_resumed_enrolment_logs_in_and_the_old_token_is_dead(clients, stack):
    c = clients()
    user, first = c.enrol()
    again = resume(c, user)
    r = c.post("/api/register/confirm", {"enrolment_token": first["enrolment_token"], "code": user.code()})
    assert_error(r, 404, "enrolment_invalid")
    r = c.post("/api/register/confirm", {"enrolment_token": again["enrolment_token"], "code": user.code()})
    assert r.status_code == 200, r.text
    assert r.json()["user"]["username"] == user.username
    assert user_row(stack, user.username)["active"] == 1
    assert c.get("/api/me").json()["recovery_remaining"] == 10
    # The new codes are the account's; the first ones never were.
    user.recovery_codes = again["recovery_codes"]
    other = clients()
    assert_error(other.mfa(other.ticket(user), "recovery", first["recovery_codes"][0]), 401, "code_wrong")
    r = other.mfa(other.ticket(user), "recovery", again["recovery_codes"][0])
    assert r.status_code == 200, r.text


def test_a_resumed_enrolment_is_audited(clients, stack):
    c = clients()
    user, _ = c.enrol()
    uid = user_row(stack, user.username)["id"]
    resume(c, user)
    assert "enrolment_resumed" in [e for e, _, _ in audit(stack, uid)]


def test_a_wrong_password_of_a_pending_account_counts_like_any_failure(clients, stack):
    c = clients()
    user, _ = c.enrol()
    r = c.login(user.username, strong_password())
    body = assert_error(r, 401, "invalid_credentials")
    assert body["attempts_left"] == 4
    unknown = unique_name("nobody")
    r2 = c.login(unknown, strong_password())
    assert r2.content == r.content
    assert throttle(stack, user.username)["failures"] == 1


def test_a_resume_needs_the_captcha_like_any_login(clients, stack):
    c = clients()
    user, _ = c.enrol()
    r = c.post("/api/login", {"username": user.username, "password": user.password})
    assert_error(r, 400, "captcha_required")
    cid, answer = c.captcha()
    r = c.post("/api/login", {"username": user.username, "password": user.password, "captcha_id": cid,
                              "captcha": "XXXXX" if answer != "XXXXX" else "AAAAA"})
    assert_error(r, 400, "captcha_wrong")


def test_a_locked_pending_name_is_locked(clients, stack):
    c = clients()
    user, _ = c.enrol()
    for _ in range(5):
        assert_error(c.login(user.username, strong_password()), 401, "invalid_credentials")
    assert_error(c.login(user.username, user.password), 429, "locked")


def test_an_enrolment_past_its_time_is_purged_and_the_name_is_unknown(clients, stack):
    c = clients()
    user, _ = c.enrol()
    sql(stack, f"UPDATE users SET created_at = NOW(6) - INTERVAL 2 DAY WHERE id = {user_row(stack, user.username)['id']}")
    r = c.login(user.username, user.password)
    unknown = c.login(unique_name("nobody"), user.password)
    assert_error(r, 401, "invalid_credentials")
    assert r.content == unknown.content
    assert user_row(stack, user.username) is None
    # The name is free again.
    assert c.register(user.username, strong_password()).status_code == 201


def test_the_secret_and_codes_of_a_resume_are_never_logged(clients, stack):
    from pathlib import Path
    c = clients()
    user, _ = c.enrol()
    again = resume(c, user)
    logs = "".join(p.read_text(errors="replace") for p in Path(stack["CHAT_STACK_DIR"]).glob("log/*.log"))
    for secret in [user.secret, again["enrolment_token"], *again["recovery_codes"]]:
        assert secret not in logs


def test_a_resumed_enrolment_ends_when_the_first_would_have(clients, stack):
    """Resuming gives a new token, never a longer life: logging in again and
    again cannot keep a name held past CHATD_ENROL_TTL (900 s here)."""
    c = clients()
    user, _ = c.enrol()
    quoted = "'" + user.username + "'"
    sql(stack, f"UPDATE users SET created_at = NOW(6) - INTERVAL 840 SECOND WHERE username = {quoted}")
    resume(clients(), user)
    left = int(sql(stack, "SELECT TIMESTAMPDIFF(SECOND, NOW(6), e.expires_at) FROM enrolments e "
                          f"JOIN users u ON u.id = e.user_id WHERE u.username = {quoted} AND e.purpose = 'register'"))
    assert 0 < left <= 60, left
