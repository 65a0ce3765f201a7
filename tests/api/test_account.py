"""What a logged-in user does with their account: change the password
(current password + TOTP, every rule again), bind a new authenticator
(password, then a code of the new secret), regenerate recovery codes (TOTP);
the first two end the other sessions. And how passwords are stored: salted
bcrypt $2b$ at cost 12 by default, lower costs upgraded at the next login."""
import secrets

import pytest

from accounts import BCRYPT, RECOVERY, assert_error, audit, user_row
from chat import clear_of_step_edge, now_step, qr_uri, sha256_hex, sql, strong_password, totp, wrong_code

PWNED_LISTED = "purple elephant dancing"


def change_password(c, current, code, new):
    return c.post("/api/account/password", {"current_password": current, "code": code, "new_password": new})


# --- password change ------------------------------------------------------------------------

def test_a_password_change_takes_effect_and_ends_the_other_sessions(clients, account, stack):
    a, user = account
    b = clients()
    b.log_in(user)
    old_hash = user_row(stack, user.username)["password_hash"]
    new = strong_password()
    r = change_password(a, user.password, user.code(), new)
    assert r.status_code == 204, r.text
    assert_error(b.get("/api/me"), 401, "unauthenticated")
    assert a.get("/api/me").status_code == 200                    # not the current one
    assert_error(clients().login(user.username, user.password), 401, "invalid_credentials")
    assert clients().login(user.username, new).status_code == 200
    h = user_row(stack, user.username)["password_hash"]
    assert h != old_hash and BCRYPT.match(h).group(1) == "10" and new not in h
    events = [(e, d) for e, d, _ in audit(stack, user.id)]
    assert ("password_change", "") in events and ("session_ended", "others=1") in events


def test_a_password_change_needs_the_current_password(account, clients, stack):
    a, user = account
    code = user.code()
    assert_error(change_password(a, strong_password(), code, strong_password()), 401, "invalid_credentials")
    # The refusal did not spend the code, nor change anything.
    assert clients().login(user.username, user.password).status_code == 200
    assert change_password(a, user.password, code, strong_password()).status_code == 204


def test_a_password_change_needs_a_right_code(account, clients):
    a, user = account
    assert_error(change_password(a, user.password, wrong_code(user.secret), strong_password()), 401, "code_wrong")
    assert_error(change_password(a, user.password, totp(user.secret, user.last_step), strong_password()),
                 401, "code_reused")           # the step the confirmation used
    assert clients().login(user.username, user.password).status_code == 200


@pytest.mark.parametrize("new,code", [
    (PWNED_LISTED, "password_pwned"), ("k9#mQ2z", "password_too_short"), ("k9#mQ2z!" * 17, "password_too_long"),
    (None, "password_has_username"), ("abcdefgh", "password_run"), ("iloveyou", "password_blocklisted"),
    ("tab\there password", "password_not_printable")])
def test_a_new_password_obeys_every_rule(account, clients, new, code):
    a, user = account
    r = change_password(a, user.password, user.code(), new or f"new {user.username.upper()} pw")
    assert_error(r, 422, code)
    assert clients().login(user.username, user.password).status_code == 200


def test_a_refused_new_password_does_not_spend_the_code(account):
    a, user = account
    code = user.code()
    assert_error(change_password(a, user.password, code, PWNED_LISTED), 422, "password_pwned")
    # The person types a better password and sends the code still on the screen.
    r = change_password(a, user.password, code, strong_password())
    assert r.status_code == 204, r.text


def test_the_new_password_is_compared_after_nfkc(account, clients):
    a, user = account
    assert change_password(a, user.password, user.code(), "\ufb01ne \ufb02ower pot 7").status_code == 204
    assert clients().login(user.username, "fine flower pot 7").status_code == 200


# --- a new authenticator -------------------------------------------------------------------------

def new_authenticator(c, password):
    r = c.post("/api/account/totp", {"password": password})
    assert r.status_code == 201, r.text
    return r.json()


def test_binding_a_new_authenticator_replaces_the_old_one(account, clients, stack):
    a, user = account
    body = new_authenticator(a, user.password)
    assert set(body) == {"enrolment_token", "totp_uri", "totp_secret", "qr"}    # no new recovery codes
    assert qr_uri(body["qr"]) == body["totp_uri"]
    assert body["totp_uri"].startswith(f"otpauth://totp/Sealed:{user.username}?secret={body['totp_secret']}&")
    assert body["totp_secret"] != user.secret
    new = user.rebound(body["totp_secret"])
    r = a.post("/api/account/totp/confirm", {"enrolment_token": body["enrolment_token"], "code": new.code()})
    assert r.status_code == 204, r.text
    c = clients()
    assert_error(c.mfa(c.ticket(user), "totp", totp(user.secret, now_step())), 401, "code_wrong")
    assert c.mfa(c.ticket(user), "totp", new.code()).status_code == 200
    assert "authenticator_change" in [e for e, _, _ in audit(stack, user.id)]
    assert a.get("/api/me").status_code == 200


def test_a_pending_authenticator_changes_nothing_until_confirmed(account, clients):
    a, user = account
    body = new_authenticator(a, user.password)
    c = clients()
    assert c.mfa(c.ticket(user), "totp", user.code()).status_code == 200
    other = user.rebound(body["totp_secret"])
    c = clients()
    assert_error(c.mfa(c.ticket(user), "totp", other.code()), 401, "code_wrong")


def test_binding_a_new_authenticator_ends_the_other_sessions(account, clients, stack):
    a, user = account
    b = clients()
    b.log_in(user)
    body = new_authenticator(a, user.password)
    new = user.rebound(body["totp_secret"])
    r = a.post("/api/account/totp/confirm", {"enrolment_token": body["enrolment_token"], "code": new.code()})
    assert r.status_code == 204, r.text
    assert_error(b.get("/api/me"), 401, "unauthenticated")
    assert a.get("/api/me").status_code == 200
    assert ("session_ended", "others=1") in [(e, d) for e, d, _ in audit(stack, user.id)]


def test_binding_needs_the_password(account, stack):
    a, user = account
    for password in (strong_password(), user.password.upper(), "' OR 1=1 --", "<script>"):
        assert_error(a.post("/api/account/totp", {"password": password}), 401, "invalid_credentials")
    assert sql(stack, f"SELECT COUNT(*) FROM enrolments WHERE user_id = {user.id}") == "0"


def test_a_code_of_the_old_secret_does_not_bind(account, clients):
    a, user = account
    body = new_authenticator(a, user.password)
    clear_of_step_edge()
    old_code = totp(user.secret, now_step())
    r = a.post("/api/account/totp/confirm", {"enrolment_token": body["enrolment_token"], "code": old_code})
    assert_error(r, 401, "code_wrong")
    # The old authenticator is still the one, and that code was not spent.
    c = clients()
    assert c.mfa(c.ticket(user), "totp", old_code).status_code == 200


def test_an_enrolment_belongs_to_its_user_and_purpose(account, clients):
    a, user = account
    body = new_authenticator(a, user.password)
    new_code = user.rebound(body["totp_secret"]).code()
    b = clients()
    b.new_user()
    # Another user cannot confirm it, nor can the registration endpoint.
    r = b.post("/api/account/totp/confirm", {"enrolment_token": body["enrolment_token"], "code": new_code})
    assert_error(r, 404, "enrolment_invalid")
    r = clients().post("/api/register/confirm", {"enrolment_token": body["enrolment_token"], "code": new_code})
    assert_error(r, 404, "enrolment_invalid")
    # A registration's token does not bind an authenticator.
    pending, reg = clients().enrol()
    r = a.post("/api/account/totp/confirm", {"enrolment_token": reg["enrolment_token"], "code": pending.code()})
    assert_error(r, 404, "enrolment_invalid")


def test_a_second_request_voids_the_first(account):
    a, user = account
    first = new_authenticator(a, user.password)
    second = new_authenticator(a, user.password)
    assert first["totp_secret"] != second["totp_secret"]
    new = user.rebound(first["totp_secret"])
    r = a.post("/api/account/totp/confirm", {"enrolment_token": first["enrolment_token"], "code": new.code()})
    assert_error(r, 404, "enrolment_invalid")


def test_a_new_authenticator_expires(account, stack):
    a, user = account
    body = new_authenticator(a, user.password)
    sql(stack, "UPDATE enrolments SET expires_at = NOW(6) - INTERVAL 1 SECOND "
               f"WHERE token_hash = UNHEX('{sha256_hex(body['enrolment_token'])}')")
    new = user.rebound(body["totp_secret"])
    r = a.post("/api/account/totp/confirm", {"enrolment_token": body["enrolment_token"], "code": new.code()})
    assert_error(r, 404, "enrolment_invalid")


def test_the_code_that_binds_an_authenticator_cannot_log_in_again(account, clients):
    a, user = account
    body = new_authenticator(a, user.password)
    new = user.rebound(body["totp_secret"])
    code = new.code()
    r = a.post("/api/account/totp/confirm", {"enrolment_token": body["enrolment_token"], "code": code})
    assert r.status_code == 204, r.text
    c = clients()
    assert_error(c.mfa(c.ticket(user), "totp", code), 401, "code_reused")


def test_a_new_authenticator_takes_its_current_code_right_after_a_login(account, clients):
    a, user = account
    clear_of_step_edge(5)
    now = now_step()
    c = clients()
    assert c.mfa(c.ticket(user), "totp", totp(user.secret, now + 1)).status_code == 200
    body = new_authenticator(c, user.password)
    # The new app shows the code of this step; the new secret has never been used.
    r = c.post("/api/account/totp/confirm", {"enrolment_token": body["enrolment_token"],
                                             "code": totp(body["totp_secret"], now)})
    assert r.status_code == 204, r.text


# --- recovery codes ---------------------------------------------------------------------------------

def test_regenerating_recovery_codes_voids_the_old_ones(account, clients, stack):
    a, user = account
    b = clients()
    b.log_in_with_recovery(user)
    assert a.get("/api/me").json()["recovery_remaining"] == 9
    r = a.post("/api/account/recovery-codes", {"code": user.code()})
    assert r.status_code == 201, r.text
    codes = r.json()["recovery_codes"]
    assert set(r.json()) == {"recovery_codes"}
    assert len(codes) == len(set(codes)) == 10 and all(RECOVERY.match(x) for x in codes)
    assert not set(codes) & set(user.recovery_codes)
    assert a.get("/api/me").json()["recovery_remaining"] == 10
    c = clients()
    assert_error(c.mfa(c.ticket(user), "recovery", user.recovery_codes[0]), 401, "code_wrong")
    r = c.mfa(c.ticket(user), "recovery", codes[4])
    assert r.status_code == 200 and r.json()["recovery_remaining"] == 9
    assert "recovery_regenerated" in [e for e, _, _ in audit(stack, user.id)]
    assert b.get("/api/me").status_code == 200                 # other sessions stay


def test_regenerating_recovery_codes_needs_a_right_code(account, clients):
    a, user = account
    for code, error in ((wrong_code(user.secret), "code_wrong"), (totp(user.secret, user.last_step), "code_reused"),
                        ("' OR 1=1 --", "code_wrong"), (user.recovery_codes[0], "code_wrong")):
        assert_error(a.post("/api/account/recovery-codes", {"code": code}), 401, error)
    c = clients()
    assert c.mfa(c.ticket(user), "recovery", user.recovery_codes[0]).status_code == 200


# --- guessing with a session in hand ------------------------------------------------------------------

def test_wrong_codes_when_regenerating_recovery_codes_lock_out(account, stack):
    a, user = account
    for _ in range(5):
        assert_error(a.post("/api/account/recovery-codes", {"code": wrong_code(user.secret)}), 401, "code_wrong")
    r = a.post("/api/account/recovery-codes", {"code": user.code()})
    assert_error(r, 429, "locked")
    assert int(r.headers["retry-after"]) > 0


def test_wrong_passwords_when_binding_an_authenticator_lock_out(account, stack):
    a, user = account
    for _ in range(5):
        assert_error(a.post("/api/account/totp", {"password": strong_password()}), 401, "invalid_credentials")
    r = a.post("/api/account/totp", {"password": user.password})
    assert_error(r, 429, "locked")
    assert int(r.headers["retry-after"]) > 0


def test_re_authentication_failures_say_how_many_attempts_are_left(account, stack):
    a, user = account
    left = [assert_error(a.post("/api/account/totp", {"password": strong_password()}), 401,
                         "invalid_credentials")["attempts_left"] for _ in range(4)]
    assert left == [4, 3, 2, 1]
    r = a.post("/api/account/recovery-codes", {"code": wrong_code(user.secret)})
    body = assert_error(r, 401, "code_wrong")
    assert body["attempts_left"] == 0 and body["retry_after"] == 60 == int(r.headers["retry-after"])


# --- codes as people type them ------------------------------------------------------------------

def test_codes_with_a_space_or_hyphen_re_authenticate_everywhere(account, clients):
    a, user = account
    code = user.code()
    r = a.post("/api/account/recovery-codes", {"code": f"{code[:3]} {code[3:]}"})
    assert r.status_code == 201, r.text
    code = user.code()
    new = strong_password()
    assert change_password(a, user.password, f"{code[:3]}-{code[3:]}", new).status_code == 204
    user.password = new
    r = a.post("/api/account/totp", {"password": user.password})
    assert r.status_code == 201, r.text
    rebound = user.rebound(r.json()["totp_secret"])
    code = rebound.code()
    r = a.post("/api/account/totp/confirm", {"enrolment_token": r.json()["enrolment_token"],
                                             "code": f" {code[:3]}\u00a0{code[3:]} "})
    assert r.status_code == 204, r.text


# --- how passwords are stored ------------------------------------------------------------------

def test_password_hashes_are_salted_bcrypt_without_the_password(clients, stack):
    password = strong_password()
    users = [clients().new_user(password=password) for _ in range(2)]
    hashes = [user_row(stack, u.username)["password_hash"] for u in users]
    assert hashes[0] != hashes[1]
    for h in hashes:
        assert BCRYPT.match(h) and h.startswith("$2b$10$") and password not in h


def test_passwords_sharing_their_first_72_bytes_differ(clients):
    base = secrets.token_urlsafe(60)[:80]
    user = clients().new_user(password=base + " one")
    assert_error(clients().login(user.username, base + " two"), 401, "invalid_credentials")
    assert clients().login(user.username, base + " one").status_code == 200


def test_a_lower_cost_hash_is_upgraded_at_the_next_login(clients, private_chatd, stack):
    user = clients().new_user()
    assert user_row(stack, user.username)["password_hash"].startswith("$2b$10$")
    d = private_chatd(CHATD_BCRYPT_COST=11)
    c = d.client()
    assert_error(c.login(user.username, strong_password()), 401, "invalid_credentials")
    assert user_row(stack, user.username)["password_hash"].startswith("$2b$10$")   # not on a wrong password
    assert c.login(user.username, user.password).status_code == 200
    upgraded = user_row(stack, user.username)["password_hash"]
    assert BCRYPT.match(upgraded).group(1) == "11"
    assert "upgraded from cost 10 to 11" in d.log()
    # The stack (cost 10) takes the stronger hash as it is.
    assert clients().log_in(user)["user"]["username"] == user.username
    assert user_row(stack, user.username)["password_hash"] == upgraded


def test_the_default_cost_is_12(private_chatd, stack):
    d = private_chatd()                  # no CHATD_BCRYPT_COST
    c = d.client()
    user = c.new_user()
    assert BCRYPT.match(user_row(stack, user.username)["password_hash"]).group(1) == "12"
    assert d.client().login(user.username, user.password).status_code == 200
