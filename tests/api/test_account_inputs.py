"""Bad input on every account endpoint: missing, extra and mistyped fields,
values too long, bodies that are not JSON, not UTF-8, not an object or too
large, query strings and bodies where none belong, and SQL and HTML
metacharacters in every field. Each is refused with its own JSON error
before anything changes, or (where the characters are simply allowed, as in
a password) taken and stored as they are."""
import json
import time

import pytest

import chat
from accounts import assert_error, clear_throttle, user_row
from chat import quote, sql, strong_password, unique_name

# Bodies of the right shape for each endpoint (values need not be right).
ENDPOINTS = {
    "register": ("/api/register", False, 8192,
                 {"username": "someone_x", "password": "some pass phrase", "captcha_id": "0" * 32, "captcha": "ACDEF"}),
    "register_confirm": ("/api/register/confirm", False, 1024, {"enrolment_token": "x" * 43, "code": "123456"}),
    "login": ("/api/login", False, 8192,
              {"username": "someone_x", "password": "some pass phrase", "captcha_id": "0" * 32, "captcha": "ACDEF"}),
    "login_mfa": ("/api/login/mfa", False, 1024, {"mfa_ticket": "x" * 43, "method": "totp", "code": "123456"}),
    "password": ("/api/account/password", True, 8192,
                 {"current_password": "some pass phrase", "code": "123456", "new_password": "other pass phrase"}),
    "totp": ("/api/account/totp", True, 8192, {"password": "some pass phrase"}),
    "totp_confirm": ("/api/account/totp/confirm", True, 1024, {"enrolment_token": "x" * 43, "code": "123456"}),
    "recovery_codes": ("/api/account/recovery-codes", True, 1024, {"code": "123456"}),
}
FIELDS = [(e, f) for e, (_, _, _, body) in ENDPOINTS.items() for f in body]
META = ["' OR 1=1 --", "<script>alert(1)</script>", "\"; DROP TABLE users; --", "x' AND SLEEP(3) AND '1'='1",
        "%00<img src=x onerror=alert(1)>", "\\'; SELECT * FROM sessions; --"]


@pytest.fixture(scope="module")
def owner(stack):
    """One logged-in account for the authenticated endpoints."""
    c = chat.Client(stack)
    user = c.new_user()
    yield c, user
    c.close()


@pytest.fixture
def fresh_owner(stack):
    """A logged-in account of its own: wrong passwords count towards its lockout."""
    c = chat.Client(stack)
    user = c.new_user()
    yield c, user
    c.close()


@pytest.fixture
def caller(owner, clients, stack):
    """The client to send an endpoint's request with: the owner for the
    account endpoints, a fresh one (own address) otherwise. The owner's
    failure count is cleared afterwards, so no test locks out the next."""
    c, user = owner

    def pick(endpoint):
        return c if ENDPOINTS[endpoint][1] else clients()
    yield pick
    sql(stack, f"DELETE FROM login_throttle WHERE username = {quote(user.username.lower())}")
    assert c.get("/api/me").status_code == 200


def send(client, endpoint, body=None, data=None, ctype="application/json", path_suffix=""):
    path = ENDPOINTS[endpoint][0] + path_suffix
    headers = {"Content-Type": ctype} if ctype else {}
    if data is None:
        data = json.dumps(body).encode()
    return client.request("POST", path, data=data, headers=headers)


def with_(endpoint, **changes):
    body = dict(ENDPOINTS[endpoint][3])
    body.update(changes)
    return body


# --- fields ----------------------------------------------------------------------

@pytest.mark.parametrize("endpoint,field", FIELDS)
def test_a_missing_field_is_named(caller, endpoint, field):
    body = with_(endpoint)
    del body[field]
    err = assert_error(send(caller(endpoint), endpoint, body), 400, "missing_field")
    assert f"'{field}'" in err["message"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("extra", ["admin", "user_id", "Username", "__proto__", "<script>"])
def test_an_unknown_field_is_refused(caller, endpoint, extra):
    err = assert_error(send(caller(endpoint), endpoint, with_(endpoint, **{extra: True})), 400, "unknown_field")
    assert extra in err["message"]


@pytest.mark.parametrize("endpoint,field", FIELDS)
@pytest.mark.parametrize("value", [1, -1, 1.5, None, True, [], ["a"], {}, {"a": "b"}])
def test_a_field_of_another_type_is_refused(caller, endpoint, field, value):
    err = assert_error(send(caller(endpoint), endpoint, with_(endpoint, **{field: value})), 400, "wrong_type")
    assert f"'{field}'" in err["message"]


@pytest.mark.parametrize("endpoint,field", FIELDS)
def test_a_value_longer_than_its_field_takes_is_refused(caller, endpoint, field):
    # Password fields take up to 6000 bytes (longer passwords get their own
    # password_too_long answer where rules apply); the others much less.
    n = 7000 if "password" in field else 5000
    r = send(caller(endpoint), endpoint, with_(endpoint, **{field: "a" * n}))
    if ENDPOINTS[endpoint][2] < n:
        assert_error(r, 413, "too_large")
    else:
        assert f"'{field}'" in assert_error(r, 422, "bad_value")["message"]


@pytest.mark.parametrize("endpoint,field", FIELDS)
def test_a_nul_character_in_a_value_is_refused(caller, endpoint, field):
    assert_error(send(caller(endpoint), endpoint, with_(endpoint, **{field: "ab\u0000cdefgh"})), 400, "bad_json")


@pytest.mark.parametrize("endpoint,field", FIELDS)
def test_invalid_utf8_in_a_value_is_refused(caller, endpoint, field):
    raw = json.dumps(with_(endpoint, **{field: "@@@"})).encode().replace(b"@@@", b"ab\xff\xfecd")
    assert_error(send(caller(endpoint), endpoint, data=raw), 400, "invalid_utf8")


@pytest.mark.parametrize("endpoint,field", FIELDS)
def test_lone_surrogates_in_a_value_are_refused(caller, endpoint, field):
    raw = json.dumps(with_(endpoint, **{field: "@@@"})).encode().replace(b"@@@", b"ab\\ud800cd")
    r = send(caller(endpoint), endpoint, data=raw)
    assert r.status_code == 400 and r.json()["error"] in ("bad_json", "invalid_utf8"), r.text


# --- bodies ------------------------------------------------------------------------

# A scalar at the top is JSON (RFC 8259) that jansson's default refuses: either answer says why.
BODIES = [(b"", {"bad_json"}), (b"{", {"bad_json"}), (b"{\"a\":}", {"bad_json"}), (b"[]", {"not_object"}),
          (b"[{}]", {"not_object"}), (b"null", {"not_object", "bad_json"}),
          (b"\"text\"", {"not_object", "bad_json"}), (b"123", {"not_object", "bad_json"}),
          (b"\xff\xfe{}", {"invalid_utf8"}), (b"{} {}", {"bad_json"}), (b"{}", {"missing_field"})]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("data,codes", BODIES)
def test_a_body_that_is_no_json_object_is_refused(caller, endpoint, data, codes):
    r = send(caller(endpoint), endpoint, data=data)
    assert r.status_code == 400 and r.json()["error"] in codes, r.text
    assert set(r.json()) == {"error", "message"}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_duplicate_field_is_refused(caller, endpoint):
    body = with_(endpoint)
    first = next(iter(body))
    raw = json.dumps(body)[:-1] + f", {json.dumps(first)}: {json.dumps(body[first])}}}"
    assert_error(send(caller(endpoint), endpoint, data=raw.encode()), 400, "bad_json")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("ctype", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                   "application/json; charset=latin1", "application/jsonx"])
def test_a_body_of_another_media_type_is_refused(caller, endpoint, ctype):
    r = send(caller(endpoint), endpoint, with_(endpoint), ctype=ctype)
    assert_error(r, 415, "unsupported_media_type")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_json_with_a_utf8_charset_is_taken(caller, endpoint):
    r = send(caller(endpoint), endpoint, with_(endpoint), ctype="application/json; charset=UTF-8")
    assert r.status_code != 415, r.text


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_huge_body_is_refused(caller, endpoint):
    r = send(caller(endpoint), endpoint, with_(endpoint, padding="x" * 200_000))
    assert_error(r, 413, "too_large")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_deeply_nested_body_is_refused(caller, endpoint):
    raw = ("{\"x\":" * 500 + "1" + "}" * 500).encode()
    r = send(caller(endpoint), endpoint, data=raw)
    assert r.status_code in (400, 413) and r.json()["error"] in ("bad_json", "unknown_field", "too_large"), r.text


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_query_string_is_refused(caller, endpoint):
    r = send(caller(endpoint), endpoint, with_(endpoint), path_suffix="?username=admin")
    assert_error(r, 400, "bad_query")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_only_post_is_allowed(caller, endpoint):
    c = caller(endpoint)
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        r = c.request(method, ENDPOINTS[endpoint][0])
        assert_error(r, 405, "method_not_allowed")
        assert r.headers["allow"] == "POST"


@pytest.mark.parametrize("method,path", [("POST", "/api/captcha"), ("POST", "/api/logout"),
                                         ("DELETE", "/api/sessions/1"), ("GET", "/api/me"),
                                         ("GET", "/api/sessions")])
def test_calls_without_a_body_refuse_one(owner, method, path):
    c, _ = owner
    r = c.request(method, path, data=b'{"x":1}', headers={"Content-Type": "application/json"})
    assert_error(r, 400, "unexpected_body")
    assert c.get("/api/me").status_code == 200


@pytest.mark.parametrize("path", ["/api/me", "/api/sessions"])
def test_reading_calls_refuse_a_query_string(owner, path):
    c, _ = owner
    assert_error(c.get(path + "?id=1"), 400, "bad_query")


# --- SQL and HTML metacharacters in every field -----------------------------------------------

def fresh_captcha(c):
    return dict(zip(("captcha_id", "captcha"), c.captcha()))


@pytest.mark.parametrize("value", META)
def test_metacharacters_in_a_user_name_are_refused(client, stack, value):
    clear_throttle(stack, value)
    before = sql(stack, "SELECT COUNT(*) FROM users")
    r = client.post("/api/register", {"username": value, "password": strong_password(), **fresh_captcha(client)})
    assert_error(r, 422, "bad_username")
    r = client.post("/api/login", {"username": value, "password": strong_password(), **fresh_captcha(client)})
    assert_error(r, 401, "invalid_credentials")
    assert int(sql(stack, "SELECT COUNT(*) FROM users")) >= int(before)


@pytest.mark.parametrize("value", META)
def test_metacharacters_in_a_password_are_just_characters(clients, stack, value):
    password = value + " 9Zq"
    c = clients()
    t = time.monotonic()
    user = c.new_user(password=password)
    assert time.monotonic() - t < 2.5                 # no SLEEP ran anywhere
    assert password not in user_row(stack, user.username)["password_hash"]
    assert_error(clients().login(user.username, value), 401, "invalid_credentials")
    assert clients().login(user.username, password).status_code == 200
    assert_error(clients().login(user.username, "' OR '1'='1"), 401, "invalid_credentials")


@pytest.mark.parametrize("value", META)
def test_metacharacters_in_captcha_fields_are_refused(client, value):
    r = client.post("/api/login", {"username": unique_name(), "password": strong_password(),
                                   "captcha_id": value, "captcha": "ACDEF"})
    assert_error(r, 422, "bad_value")
    cid, _ = client.captcha()
    r = client.post("/api/login", {"username": unique_name(), "password": strong_password(),
                                   "captcha_id": cid, "captcha": value})
    expected = (400, "captcha_wrong") if len(value) <= 16 else (422, "bad_value")
    assert_error(r, *expected)


def pad43(value):
    return (value * 43)[:43]


@pytest.mark.parametrize("value", META)
def test_metacharacters_in_tokens_are_unknown_tokens(client, owner, value):
    a, _ = owner
    assert_error(client.post("/api/register/confirm", {"enrolment_token": pad43(value), "code": "123456"}),
                 404, "enrolment_invalid")
    assert_error(client.post("/api/login/mfa", {"mfa_ticket": pad43(value), "method": "totp", "code": "123456"}),
                 401, "ticket_invalid")
    assert_error(a.post("/api/account/totp/confirm", {"enrolment_token": pad43(value), "code": "123456"}),
                 404, "enrolment_invalid")


@pytest.mark.parametrize("value", META)
def test_metacharacters_in_codes_are_wrong_codes(clients, owner, stack, value):
    a, user = owner
    c = clients()
    pending, reg = c.enrol()
    assert_error(c.post("/api/register/confirm", {"enrolment_token": reg["enrolment_token"], "code": value}),
                 401, "code_wrong")
    for method in ("totp", "recovery"):
        assert_error(c.mfa(c.ticket(user), method, value), 401, "code_wrong")
    clear_throttle(stack, user.username)        # five wrong codes in one test would lock it out
    assert_error(a.post("/api/account/recovery-codes", {"code": value}), 401, "code_wrong")
    assert_error(a.post("/api/account/password", {"current_password": user.password, "code": value,
                                                  "new_password": strong_password()}), 401, "code_wrong")
    body = a.post("/api/account/totp", {"password": user.password}).json()
    assert_error(a.post("/api/account/totp/confirm", {"enrolment_token": body["enrolment_token"], "code": value}),
                 401, "code_wrong")


@pytest.mark.parametrize("value", META)
def test_metacharacters_in_account_passwords_are_wrong_passwords(fresh_owner, value):
    a, user = fresh_owner
    assert_error(a.post("/api/account/totp", {"password": value}), 401, "invalid_credentials")
    assert_error(a.post("/api/account/password", {"current_password": value, "code": "123456",
                                                  "new_password": strong_password()}), 401, "invalid_credentials")


@pytest.mark.parametrize("value", META)
def test_metacharacters_in_an_mfa_method_are_refused(clients, fresh_owner, value):
    _, user = fresh_owner
    c = clients()
    assert_error(c.mfa(c.ticket(user), value, "123456"), 422, "bad_value")


def test_a_new_password_of_metacharacters_is_just_characters(clients):
    c = clients()
    user = c.new_user()
    new = "' OR 1=1 -- <script>alert(1)</script>"
    r = c.post("/api/account/password", {"current_password": user.password, "code": user.code(),
                                         "new_password": new})
    assert r.status_code == 204, r.text
    assert clients().login(user.username, new).status_code == 200
    assert_error(clients().login(user.username, "' OR 1=1 --"), 401, "invalid_credentials")


def test_the_tables_survive(stack):
    for table in ("users", "sessions", "recovery_codes", "enrolments", "captchas", "login_throttle",
                  "mfa_tickets", "audit_log"):
        assert int(sql(stack, f"SELECT COUNT(*) >= 0 FROM {table}")) == 1
    assert int(sql(stack, "SELECT COUNT(*) FROM users")) > 0
