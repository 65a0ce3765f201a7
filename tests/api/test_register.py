"""Registration (POST /api/register, /api/register/confirm): user name rules,
every password rule with its own reason, the Pwned Passwords range check
(the test nginx's stand-in, range files a test adds, a capturing server of
the test's own, and a range API that is down), TOTP enrolment, and accounts
that stay inactive until the first code and expire when never confirmed."""
import base64
import glob
import hashlib
import http.server
import os
import re
import secrets
import ssl
import threading
import time
import unicodedata
from pathlib import Path

import pytest

from accounts import B64URL_43, BCRYPT, HEX64, RECOVERY, assert_error, user_count, user_row, wait_for
from chat import (COOKIE, now_step, qr_uri, quote, sha256_hex, sql, sql_rows, strong_password, totp,
                  unique_name, wrong_code)

ROOT = Path(__file__).resolve().parents[2]
BLOCKLIST = ROOT / "build" / "blocklist.txt"
PWNED_LISTED = "purple elephant dancing"        # tests/api/pwned: count 1234
PWNED_PADDING_ONLY = "quiet harbour lantern"    # tests/api/pwned: a count-0 padding line
# 128 emoji (512 bytes), neither a run nor a repeat of a short pattern.
EMOJI_128 = "".join(chr(0x1F600 + (i * 7) % 80) for i in range(128))


def sha1_hex(password):
    return hashlib.sha1(password.encode()).hexdigest().upper()


def padding_lines(n=20):
    return [f"{secrets.token_hex(18).upper()[:35]}:0" for _ in range(n)]


@pytest.fixture
def range_file(stack):
    """Writes range files into the test nginx's stand-in (CHAT_PWNED_DIR); removed afterwards."""
    made = []

    def write(prefix, lines):
        path = Path(stack["CHAT_PWNED_DIR"]) / "range" / prefix
        assert not path.exists()
        path.write_bytes("\r\n".join(lines).encode() + b"\r\n")
        made.append(path)
        return path
    yield write
    for p in made:
        p.unlink(missing_ok=True)


def stack_log(stack, rid):
    """The stack chatd pools' log lines of one request."""
    lines = []
    for f in glob.glob(os.path.join(stack["CHAT_STACK_DIR"], "log", "chatd-*.log")):
        with open(f, errors="replace") as fh:
            lines += [line for line in fh if f"rid={rid} " in line]
    return "".join(lines)


# --- enrolment -------------------------------------------------------------

def test_registration_answers_what_enrolment_needs(client, stack):
    name = unique_name("Reg")
    r = client.register(name, strong_password())
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    assert "set-cookie" not in r.headers         # not logged in before the first code
    body = r.json()
    assert set(body) == {"enrolment_token", "totp_uri", "totp_secret", "qr", "recovery_codes"}
    assert B64URL_43.match(body["enrolment_token"])
    secret = body["totp_secret"]
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert len(base64.b32decode(secret)) == 20                  # 160 bits
    uri = body["totp_uri"]
    assert uri.startswith(f"otpauth://totp/Sealed:{name}?secret={secret}&issuer=Sealed"), uri
    assert "algorithm=SHA1" in uri and "digits=6" in uri and "period=30" in uri
    assert qr_uri(body["qr"]) == uri
    codes = body["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(RECOVERY.match(c) for c in codes), codes


def test_secrets_are_stored_only_in_protected_form(client, stack):
    password = strong_password()
    user, body = client.enrol(password=password)
    row = user_row(stack, user.username)
    m = BCRYPT.match(row["password_hash"])
    assert m and m.group(1) == "10", row                     # the test stack's cost
    assert password not in row["password_hash"]
    secret_hex = base64.b32decode(user.secret).hex().upper()
    sealed = sql(stack, f"SELECT HEX(totp_sealed) FROM users WHERE id = {row['id']}")
    assert len(sealed) >= 2 * (20 + 16) and secret_hex not in sealed
    hashes = [h for (h,) in sql_rows(stack, f"SELECT code_hash FROM recovery_codes WHERE user_id = {row['id']}")]
    assert len(hashes) == 10 and all(HEX64.match(h) for h in hashes)
    for code in user.recovery_codes:
        plain = code.replace("-", "")
        assert sha256_hex(plain) not in hashes and sha256_hex(code) not in hashes   # keyed, not plain
    token = body["enrolment_token"]
    stored = sql(stack, f"SELECT LOWER(HEX(token_hash)) FROM enrolments WHERE user_id = {row['id']}")
    assert stored == sha256_hex(token)


def test_account_is_inactive_until_the_first_code(clients, stack):
    c = clients()
    user, _ = c.enrol()
    assert user_row(stack, user.username)["active"] == 0
    # Its right password resumes the enrolment (test_login_enrolment.py), never a ticket;
    # a wrong one answers as for a name that does not exist.
    right = c.login(user.username, user.password)
    assert right.status_code == 200 and set(right.json()) == {"enrolment"}, right.text
    wrong = c.login(user.username, strong_password())
    unknown = c.login(unique_name("nobody"), user.password)
    assert_error(wrong, 401, "invalid_credentials")
    assert wrong.content == unknown.content


def test_a_wrong_first_code_leaves_the_account_inactive(client, stack):
    user, body = client.enrol()
    r = client.post("/api/register/confirm", {"enrolment_token": body["enrolment_token"],
                                              "code": wrong_code(user.secret)})
    assert_error(r, 401, "code_wrong")
    assert "set-cookie" not in r.headers
    assert user_row(stack, user.username)["active"] == 0
    assert_error(client.get("/api/me"), 401, "unauthenticated")
    client.confirm(user, body)          # the enrolment survives a wrong code
    assert user_row(stack, user.username)["active"] == 1


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", "12 345", " 1 2 3 4 5 ", "' OR 1=1 --",
                                  "<script>", "１２３４５６"])
def test_first_codes_of_the_wrong_shape_are_wrong(client, stack, code):
    user, body = client.enrol()
    r = client.post("/api/register/confirm", {"enrolment_token": body["enrolment_token"], "code": code})
    assert_error(r, 401, "code_wrong")
    assert user_row(stack, user.username)["active"] == 0


def test_a_first_code_outside_the_window_is_wrong(client, stack):
    user, body = client.enrol()
    for d in (-2, 2):
        code = totp(user.secret, now_step() + d)
        if code in {totp(user.secret, now_step() + k) for k in (-1, 0, 1)}:
            continue
        r = client.post("/api/register/confirm", {"enrolment_token": body["enrolment_token"], "code": code})
        assert_error(r, 401, "code_wrong")
    assert user_row(stack, user.username)["active"] == 0


def test_the_first_right_code_activates_and_logs_in(client, stack):
    user, body = client.enrol()
    r = client.post("/api/register/confirm", {"enrolment_token": body["enrolment_token"],
                                              "code": user.code()})
    assert r.status_code == 200, r.text
    j = r.json()
    assert set(j) == {"user", "csrf_token"}
    assert j["user"]["username"] == user.username and isinstance(j["user"]["id"], int)
    assert HEX64.match(j["csrf_token"])
    cookie = r.headers["set-cookie"]
    assert re.match(rf"{COOKIE}=[A-Za-z0-9_-]{{43}}; ", cookie), cookie
    attrs = [a.strip() for a in cookie.split(";")[1:]]
    assert {"Path=/", "Secure", "HttpOnly", "SameSite=Strict"} <= set(attrs), attrs
    assert not any(a.lower().startswith("domain") for a in attrs)
    assert user_row(stack, user.username)["active"] == 1
    me = client.get("/api/me")
    assert me.status_code == 200 and me.json()["user"] == j["user"]


def test_an_enrolment_token_is_used_once(client):
    user, body = client.enrol()
    client.confirm(user, body)
    r = client.post("/api/register/confirm", {"enrolment_token": body["enrolment_token"],
                                              "code": user.code()})
    assert_error(r, 404, "enrolment_invalid")


def test_an_unknown_enrolment_token_is_refused(client):
    r = client.post("/api/register/confirm", {"enrolment_token": secrets.token_urlsafe(32), "code": "123456"})
    assert_error(r, 404, "enrolment_invalid")


@pytest.mark.parametrize("token", ["", "x" * 42, "x" * 44, "' OR 1=1 --"])
def test_a_malformed_enrolment_token_is_refused(client, token):
    r = client.post("/api/register/confirm", {"enrolment_token": token, "code": "123456"})
    assert_error(r, 422, "bad_value")


def age_registration(stack, username, seconds):
    """The DB owner makes a pending registration `seconds` older."""
    uid = user_row(stack, username)["id"]
    sql(stack, f"UPDATE users SET created_at = created_at - INTERVAL {seconds} SECOND WHERE id = {uid}; "
               f"UPDATE enrolments SET expires_at = expires_at - INTERVAL {seconds} SECOND WHERE user_id = {uid}")


def test_a_pending_registration_keeps_its_name_until_it_expires(clients, stack):
    user, _ = clients().enrol()
    assert_error(clients().register(user.username, strong_password()), 409, "username_taken")
    age_registration(stack, user.username, 800)        # CHATD_ENROL_TTL is 900 s
    assert_error(clients().register(user.username, strong_password()), 409, "username_taken")


def test_an_unconfirmed_registration_expires_and_frees_its_name(clients, stack):
    first = clients()
    user, body = first.enrol()
    old_id = user_row(stack, user.username)["id"]
    age_registration(stack, user.username, 901)
    r = first.post("/api/register/confirm", {"enrolment_token": body["enrolment_token"], "code": user.code()})
    assert_error(r, 404, "enrolment_invalid")
    second = clients()
    again, body2 = second.enrol(username=user.username)
    assert again.secret != user.secret
    assert user_row(stack, user.username)["id"] != old_id
    assert int(sql(stack, f"SELECT COUNT(*) FROM enrolments WHERE user_id = {old_id}")) == 0
    second.confirm(again, body2)
    assert second.get("/api/me").json()["user"]["username"] == user.username


def test_an_expired_enrolment_token_is_refused(client, stack):
    user, body = client.enrol()
    sql(stack, "UPDATE enrolments SET expires_at = NOW(6) - INTERVAL 1 SECOND WHERE token_hash = "
               f"UNHEX('{sha256_hex(body['enrolment_token'])}')")
    r = client.post("/api/register/confirm", {"enrolment_token": body["enrolment_token"], "code": user.code()})
    assert_error(r, 404, "enrolment_invalid")
    assert user_row(stack, user.username)["active"] == 0


def test_the_enrolment_lifetime_is_configurable(private_chatd, clients, stack):
    # A registration frees only its own name (tests/race/test_purge.py), and this
    # chatd runs no purge process (tests/pylib/chatd.py): 60 s harms nobody.
    d = private_chatd(CHATD_ENROL_TTL=60, CHATD_BCRYPT_COST=4)
    user, body = d.client().enrol()
    ttl = int(sql(stack, "SELECT TIMESTAMPDIFF(SECOND, NOW(6), expires_at) FROM enrolments "
                         f"WHERE token_hash = UNHEX('{sha256_hex(body['enrolment_token'])}')"))
    assert 58 <= ttl <= 60
    age_registration(stack, user.username, 61)
    # 61 s is old on this chatd, young on the stack (900 s).
    assert_error(clients().register(user.username, strong_password()), 409, "username_taken")
    assert d.client().register(user.username, strong_password()).status_code == 201


def test_a_confirmed_account_does_not_expire(clients, stack):
    c = clients()
    user = c.new_user()
    age_registration(stack, user.username, 100000)
    assert_error(clients().register(user.username, strong_password()), 409, "username_taken")
    assert user_row(stack, user.username)["active"] == 1


# --- user names --------------------------------------------------------------

@pytest.mark.parametrize("name", ["ab", "a" * 33, "bad name", "bad-name", "bad.name", "n\u00e4me", "\u0430dmin",
                                  "' OR 1=1 --", "<script>", "a;DROP TABLE users", "x'); --", "tab\tname",
                                  "emoji\U0001F600", "\u00a0abc"])
def test_user_names_that_break_the_rules_are_refused(client, stack, name):
    assert_error(client.register(name, strong_password()), 422, "bad_username")
    assert user_count(stack, name) == 0


def test_a_user_name_far_too_long_is_refused(client):
    r = client.register("a" * 1000, strong_password())
    assert r.status_code == 422 and r.json()["error"] in ("bad_username", "bad_value"), r.text


def test_user_names_at_the_limits_are_taken(clients, stack):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"
    for length in (3, 32):
        for _ in range(20):        # a short name made by an earlier run may be taken: draw again
            name = "".join(secrets.choice(alphabet) for _ in range(length))
            password = strong_password()
            if name.lower() in password.lower():
                continue           # a password holding the name is refused (422), rightly
            r = clients().register(name, password)
            if r.status_code != 409:
                break
        assert r.status_code == 201, r.text
        assert user_row(stack, name)["username"] == name


def test_a_taken_name_is_refused_in_any_case(clients, stack):
    user = clients().new_user(username=unique_name("Case"))
    for name in (user.username, user.username.upper(), user.username.lower(), user.username.swapcase()):
        assert_error(clients().register(name, strong_password()), 409, "username_taken")
    assert int(sql(stack, f"SELECT COUNT(*) FROM users WHERE LOWER(username) = {quote(user.username.lower())}")) == 1


# --- password rules ---------------------------------------------------------

REFUSED = [
    ("k9#mQ2z", "password_too_short"),
    ("\U0001F600\U0001F603\U0001F604\U0001F601\U0001F606\U0001F605\U0001F602", "password_too_short"),
    ("k9#mQ2z!" * 16 + "x", "password_too_long"),
    (EMOJI_128 + "\U0001F603", "password_too_long"),
    ("\ufdfa" * 8, "password_too_long"),                       # 8 code points, 144 after NFKC
    ("good password\there", "password_not_printable"),
    ("line\nbreak password", "password_not_printable"),
    ("carriage\rreturn pass", "password_not_printable"),
    ("delete\x7fkey password", "password_not_printable"),
    ("escape\x1b[0m password", "password_not_printable"),
    ("next\u0085line password", "password_not_printable"),
    ("aaaaaaaa", "password_run"),
    ("AAAAaaaa", "password_run"),
    ("12345678", "password_run"),
    ("87654321", "password_run"),
    ("abcdefghij", "password_run"),
    ("zyxwvuts", "password_run"),
    ("abcabcab", "password_run"),
    ("abababab", "password_run"),
    ("xyzwxyzw", "password_run"),
    ("\U0001F600" * 8, "password_run"),
    ("password1", "password_blocklisted"),
    ("iloveyou", "password_blocklisted"),
    ("ILoveYou", "password_blocklisted"),
    ("sunshine", "password_blocklisted"),
    ("\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44\uff11", "password_blocklisted"),   # fullwidth "password1"
    (PWNED_LISTED, "password_pwned"),
]


@pytest.mark.parametrize("password,code", REFUSED, ids=[f"{c}-{i}" for i, (_, c) in enumerate(REFUSED)])
def test_each_refused_password_says_why(client, stack, password, code):
    if code == "password_blocklisted":
        words = BLOCKLIST.read_text().lower().split("\n")
        assert unicodedata.normalize("NFKC", password).lower() in words
    name = unique_name()
    assert_error(client.register(name, password), 422, code)
    assert user_count(stack, name) == 0


def test_a_password_holding_the_user_name_is_refused_in_any_case(clients, stack):
    name = unique_name("Robin")
    for password in (f"my {name} pass", f"my {name.upper()} pass", f"{name.lower()}!!"):
        assert_error(clients().register(name, password), 422, "password_has_username")
    assert user_count(stack, name) == 0
    # Part of the name is fine.
    assert clients().register(name, f"my {name[:-2]} pass word").status_code == 201


def test_every_reason_has_its_own_message(clients):
    examples = {"password_too_short": "k9#mQ2z", "password_too_long": "k9#mQ2z!" * 17,
                "password_not_printable": "tab\there password", "password_has_username": None,
                "password_run": "aaaaaaaa", "password_blocklisted": "password1",
                "password_pwned": PWNED_LISTED}
    messages = {}
    for code, password in examples.items():
        name = unique_name()
        body = assert_error(clients().register(name, password or f"x{name}x"), 422, code)
        messages[code] = body["message"]
    assert len(set(messages.values())) == len(messages), messages


@pytest.mark.parametrize("password", [
    "\U0001F600\U0001F603\U0001F604\U0001F601\U0001F606\U0001F605\U0001F602\U0001F923",   # 8 code points, 32 bytes
    "k9#mQ2z!",                                                                            # 8
    "k9#mQ2z!" * 16,                                                                       # 128
    EMOJI_128,                                                                             # 128 code points, 512 bytes
    "  lots   of    spaces  ",
    "\ufdfa" * 7,                                      # 7 code points, 126 after NFKC
    "\u00e9t\u00e9 \u00e0 Z\u00fcrich \u65e5\u672c",
    PWNED_PADDING_ONLY,                                # listed only as a count-0 padding line
])
def test_acceptable_passwords_are_taken_and_log_in(clients, password):
    c = clients()
    user = c.new_user(password=password)
    assert clients().login(user.username, password).status_code == 200


def test_all_printable_ascii_symbols_are_allowed(clients):
    symbols = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ ")
    secrets.SystemRandom().shuffle(symbols)
    password = "".join(symbols) + "Zz9"
    c = clients()
    user = c.new_user(password=password)
    assert clients().login(user.username, password).status_code == 200
    assert_error(clients().login(user.username, password[:-1]), 401, "invalid_credentials")


def test_passwords_are_compared_after_nfkc(clients):
    pairs = [("\ufb01sh and \ufb02ower 7", "fish and flower 7"), ("office \ufb03 9z", "office ffi 9z"),
             ("\uff21\uff22 wide \uff43\uff44 q", "AB wide cd q")]
    for typed, other in pairs:
        c = clients()
        user = c.new_user(password=typed)
        assert clients().login(user.username, other).status_code == 200
    c = clients()
    user = c.new_user(password="fish and flower " + secrets.token_hex(2))
    assert clients().login(user.username, user.password.replace("fi", "\ufb01").replace("fl", "\ufb02")).status_code == 200


def test_a_password_growing_past_the_buffer_under_nfkc_is_too_long(client, stack):
    # 40 code points, 120 bytes typed; NFKC makes 720 code points (1320 bytes).
    name = unique_name()
    assert_error(client.register(name, "\ufdfa" * 40), 422, "password_too_long")


def test_a_password_over_1023_bytes_is_too_long(client, stack):
    # 300 code points of 4 bytes: far over 128 code points; the reason must say so.
    name = unique_name()
    assert_error(client.register(name, "\U0001F600\U0001F431\U0001F680" * 100), 422, "password_too_long")


# --- Pwned Passwords --------------------------------------------------------

def test_a_password_in_a_range_file_is_pwned(client, range_file):
    password = strong_password()
    h = sha1_hex(password)
    lines = padding_lines()
    lines.insert(7, f"{h[5:]}:3")
    range_file(h[:5], lines)
    assert_error(client.register(unique_name(), password), 422, "password_pwned")


def test_range_suffixes_match_in_any_case(client, range_file):
    password = strong_password()
    h = sha1_hex(password)
    range_file(h[:5], padding_lines(5) + [f"{h[5:].lower()}:1"])
    assert_error(client.register(unique_name(), password), 422, "password_pwned")


def test_a_password_only_on_a_padding_line_is_accepted(client, range_file):
    password = strong_password()
    h = sha1_hex(password)
    range_file(h[:5], padding_lines(5) + [f"{h[5:]}:0"] + padding_lines(5))
    assert client.register(unique_name(), password).status_code == 201


def test_the_range_request_holds_only_the_five_character_prefix(client, stack, range_file):
    password = strong_password()
    h = sha1_hex(password)
    range_file(h[:5], padding_lines())      # a file of its own: nginx logs its path, not padding.txt
    log = Path(stack["CHAT_STACK_DIR"]) / "log" / "nginx-access.log"
    start = log.stat().st_size
    r = client.register(unique_name(), password)
    assert r.status_code == 201, r.text

    def new_lines():
        with open(log, errors="replace") as f:
            f.seek(start)
            return f.read()
    assert wait_for(lambda: f'"GET /pwned/range/{h[:5]} ' in new_lines()), new_lines()
    text = new_lines()
    assert h[5:15] not in text.upper()
    line = next(x for x in text.splitlines() if f"/pwned/range/{h[:5]} " in x)
    assert re.search(rf'"GET /pwned/range/{h[:5]} HTTP/[0-9.]+" 200 ', line), line


def test_a_malformed_range_answer_is_not_taken_as_absent(client, stack, range_file):
    password = strong_password()
    h = sha1_hex(password)
    range_file(h[:5], ["<html>maintenance</html>"])
    r = client.register(unique_name(), password)
    # Not required on the stack: accepted on the local blocklist, with warnings.
    assert r.status_code == 201, r.text
    rid = r.headers["x-request-id"]
    log = wait_for(lambda: stack_log(stack, rid))
    assert "pwned: malformed answer" in log and "range API unreachable" in log, log


class Capture(http.server.BaseHTTPRequestHandler):
    """A range API of the test's own that records what chatd sends."""
    seen = []
    answer = (200, b"")
    delay = 0.0

    def do_GET(self):
        type(self).seen.append({"line": self.requestline, "path": self.path, "headers": dict(self.headers)})
        time.sleep(type(self).delay)
        status, body = type(self).answer
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def capture(stack):
    """The capture server over TLS with the stack's certificate, which chatd
    trusts (CHATD_PWNED_CAINFO): chatd takes only an https:// range API."""
    handler = type("Handler", (Capture,), {"seen": [], "answer": (200, b""), "delay": 0.0})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(stack["CHAT_SERVER_CERT"], str(Path(stack["CHAT_CERTS_DIR"]) / "server.key"))
    srv.socket = tls.wrap_socket(srv.socket, server_side=True)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield handler, f"https://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_chatd_sends_the_prefix_only_with_add_padding(stack, private_chatd, capture):
    handler, url = capture
    handler.answer = (200, ("\r\n".join(padding_lines()) + "\r\n").encode())
    d = private_chatd(CHATD_PWNED_URL=url, CHATD_BCRYPT_COST=4)
    c = d.client()
    password = strong_password()
    h = sha1_hex(password)
    r = c.register(unique_name(), password)
    assert r.status_code == 201, r.text
    assert len(handler.seen) == 1, handler.seen
    req = handler.seen[0]
    assert req["line"] == f"GET /range/{h[:5]} HTTP/1.1", req
    headers = {k.lower(): v for k, v in req["headers"].items()}
    assert headers.get("add-padding") == "true", headers
    assert headers.get("user-agent"), headers
    everything = (req["line"] + repr(req["headers"])).upper()
    assert h[5:15] not in everything and password.upper() not in everything


@pytest.mark.parametrize("line,expect", [("{suffix}:0", 201), ("{suffix}:2", 422), ("{suffix}:99999999999", 422)])
def test_counts_decide_on_a_range_api_of_our_own(stack, private_chatd, capture, line, expect):
    handler, url = capture
    password = strong_password()
    h = sha1_hex(password)
    body = padding_lines(5) + [line.format(suffix=h[5:])] + padding_lines(5)
    handler.answer = (200, ("\r\n".join(body) + "\r\n").encode())
    c = private_chatd(CHATD_PWNED_URL=url, CHATD_BCRYPT_COST=4).client()
    r = c.register(unique_name(), password)
    if expect == 201:
        assert r.status_code == 201, r.text
    else:
        assert_error(r, 422, "password_pwned")


def test_a_slow_range_api_is_given_up_on_time(stack, private_chatd, capture):
    handler, url = capture
    handler.delay = 3.0
    d = private_chatd(CHATD_PWNED_URL=url, CHATD_PWNED_TIMEOUT_MS=300, CHATD_BCRYPT_COST=4)
    c = d.client()
    cid, answer = c.captcha()
    t = time.monotonic()
    r = c.post("/api/register", {"username": unique_name(), "password": strong_password(),
                                 "captcha_id": cid, "captcha": answer})
    took = time.monotonic() - t
    assert r.status_code == 201, r.text
    assert took < 2.0, took
    assert "pwned: range API unreachable" in wait_for(d.log)


def test_a_failing_range_api_leaves_the_local_blocklist(stack, private_chatd, capture):
    handler, url = capture
    handler.answer = (500, b"oops")
    d = private_chatd(CHATD_PWNED_URL=url, CHATD_BCRYPT_COST=4)
    c = d.client()
    r = c.register(unique_name(), strong_password())
    assert r.status_code == 201, r.text
    rid = r.headers["x-request-id"]
    assert wait_for(lambda: f"rid={rid} pwned: range API answered 500" in d.log()), d.log()
    assert_error(c.register(unique_name(), "iloveyou"), 422, "password_blocklisted")


def test_an_unreachable_range_api_lets_registration_go_on_with_a_warning(stack, private_chatd):
    d = private_chatd(CHATD_PWNED_URL="https://localhost:1", CHATD_BCRYPT_COST=4)
    c = d.client()
    user = c.new_user()
    assert c.get("/api/me").json()["user"]["username"] == user.username
    log = d.log()
    assert "range API unreachable; accepted on the local blocklist alone" in log, log
    assert_error(c.register(unique_name(), "password1"), 422, "password_blocklisted")
    assert_error(c.register(unique_name(), "aaaaaaaa"), 422, "password_run")


def test_an_unreachable_range_api_refuses_when_required(stack, private_chatd):
    d = private_chatd(CHATD_PWNED_URL="https://localhost:1", CHATD_PWNED_REQUIRED=1, CHATD_BCRYPT_COST=4)
    c = d.client()
    name = unique_name()
    r = c.register(name, strong_password())
    assert_error(r, 503, "breach_check_unavailable")
    assert user_count(stack, name) == 0
    # What the local rules and list refuse is still refused with its own reason.
    assert_error(c.register(name, "iloveyou"), 422, "password_blocklisted")
    assert_error(c.register(name, "short"), 422, "password_too_short")


@pytest.mark.parametrize("shape", ["{} {}", "{}-{}", "{}\u00a0{}"])
def test_a_first_code_with_a_space_or_hyphen_confirms(client, stack, shape):
    user, body = client.enrol()
    code = user.code()
    r = client.post("/api/register/confirm", {"enrolment_token": body["enrolment_token"],
                                              "code": shape.format(code[:3], code[3:])})
    assert r.status_code == 200, r.text
    assert user_row(stack, user.username)["active"] == 1
