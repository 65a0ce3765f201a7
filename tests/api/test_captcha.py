"""CAPTCHA challenges (POST /api/captcha): a random id and a PNG image, the
answer kept server-side for 5 minutes, compared without case, consumed by
the first attempt right or wrong, and required by register and login."""
import base64
import re
import secrets
import struct

import pytest

from accounts import assert_error, throttle, user_count
from chat import captcha_answer, sql, strong_password, unique_name

ALPHABET = "ACEHKMNPRUXY34"


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def wrong_answer(right):
    """Another answer of the same shape."""
    c = ALPHABET[(ALPHABET.index(right[0].upper()) + 1) % len(ALPHABET)]
    return c + right[1:]


def login_with(client, cid, answer, username=None):
    return client.post("/api/login", {"username": username or unique_name("nobody"),
                                      "password": strong_password(), "captcha_id": cid, "captcha": answer})


def test_captcha_gives_an_id_and_a_png_data_url_not_stored_by_caches(client):
    r = client.post("/api/captcha")
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"id", "image"}
    assert re.fullmatch(r"[0-9a-f]{32}", body["id"])
    prefix = "data:image/png;base64,"
    assert body["image"].startswith(prefix)
    w, h = png_size(base64.b64decode(body["image"][len(prefix):], validate=True))
    assert w >= 100 and h >= 30


def test_the_answer_stays_on_the_server_for_five_minutes(client, stack):
    r = client.post("/api/captcha")
    cid = r.json()["id"]
    answer = captcha_answer(stack, cid)
    assert 5 <= len(answer) <= 6 and set(answer) <= set(ALPHABET)
    assert answer not in r.text and answer.lower() not in r.text
    ttl = int(sql(stack, f"SELECT TIMESTAMPDIFF(SECOND, NOW(6), expires_at) FROM captchas WHERE id = '{cid}'"))
    assert 290 <= ttl <= 300


def test_each_captcha_is_new(client, stack):
    a, b = client.post("/api/captcha").json(), client.post("/api/captcha").json()
    assert a["id"] != b["id"] and a["image"] != b["image"]


def test_answer_is_compared_without_case(client):
    cid, answer = client.captcha()
    # The captcha passed: the refusal is about the (unknown) user, not the image.
    assert_error(login_with(client, cid, answer.lower()), 401, "invalid_credentials")


def test_answer_may_carry_surrounding_spaces(client):
    cid, answer = client.captcha()
    assert_error(login_with(client, cid, f"  {answer} "), 401, "invalid_credentials")


def test_answer_is_case_insensitive_on_register(client):
    cid, answer = client.captcha()
    r = client.post("/api/register", {"username": unique_name(), "password": strong_password(),
                                      "captcha_id": cid, "captcha": answer.lower()})
    assert r.status_code == 201, r.text


def test_wrong_answer_is_refused_and_uses_up_the_captcha(client, stack):
    cid, answer = client.captcha()
    assert_error(login_with(client, cid, wrong_answer(answer)), 400, "captcha_wrong")
    assert sql(stack, f"SELECT COUNT(*) FROM captchas WHERE id = '{cid}'") == "0"
    assert_error(login_with(client, cid, answer), 400, "captcha_expired")


def test_a_solved_captcha_cannot_be_used_again(client):
    cid, answer = client.captcha()
    assert_error(login_with(client, cid, answer), 401, "invalid_credentials")
    assert_error(login_with(client, cid, answer), 400, "captcha_expired")


def test_a_captcha_used_to_register_cannot_log_in(client):
    cid, answer = client.captcha()
    r = client.post("/api/register", {"username": unique_name(), "password": strong_password(),
                                      "captcha_id": cid, "captcha": answer})
    assert r.status_code == 201, r.text
    assert_error(login_with(client, cid, answer), 400, "captcha_expired")


def test_an_expired_captcha_is_refused(client, stack):
    cid, answer = client.captcha()
    sql(stack, f"UPDATE captchas SET expires_at = NOW(6) - INTERVAL 1 SECOND WHERE id = '{cid}'")
    assert_error(login_with(client, cid, answer), 400, "captcha_expired")


def test_an_unknown_captcha_is_refused(client):
    assert_error(login_with(client, secrets.token_hex(16), "ACDEF"), 400, "captcha_expired")


@pytest.mark.parametrize("cid", ["A" * 32, "0" * 31, "0" * 33, "g" * 32, "' OR 1=1 --" + "0" * 21,
                                 "<script>alert(1)</script>000000", "", "0" * 31 + "\u00e9"])
def test_a_malformed_captcha_id_is_refused(client, cid):
    body = assert_error(login_with(client, cid, "ACDEF"), 422, "bad_value")
    assert "captcha_id" in body["message"]


@pytest.mark.parametrize("value", [12345, None, True, ["a"], {"a": 1}])
def test_a_captcha_id_of_another_type_is_refused(client, value):
    r = client.post("/api/login", {"username": "someone", "password": strong_password(),
                                   "captcha_id": value, "captcha": "ACDEF"})
    assert_error(r, 400, "wrong_type")


@pytest.mark.parametrize("answer,status,code", [
    ("", 422, "bad_value"), ("A" * 17, 422, "bad_value"), ("' OR 1=1 --", 400, "captcha_wrong"),
    ("<b>x</b>", 400, "captcha_wrong"), ("ACD", 400, "captcha_wrong"), ("ACDEFGH", 400, "captcha_wrong"),
    ("\u00c4CDEF", 400, "captcha_wrong")])
def test_malformed_answers_are_refused(client, answer, status, code):
    cid, _ = client.captcha()
    assert_error(login_with(client, cid, answer), status, code)


def test_wrong_captchas_do_not_count_as_login_failures(client, stack):
    name = unique_name("nobody")
    for _ in range(6):
        cid, answer = client.captcha()
        assert_error(login_with(client, cid, wrong_answer(answer), name), 400, "captcha_wrong")
    assert throttle(stack, name) is None
    cid, answer = client.captcha()
    assert_error(login_with(client, cid, answer, name), 401, "invalid_credentials")


def test_login_without_a_captcha_is_told_one_is_required(client, stack):
    # CHATD_LOGIN_CAPTCHA=always (the test stack's setting): before the password is looked at.
    name = unique_name()
    r = client.post("/api/login", {"username": name, "password": strong_password()})
    assert_error(r, 400, "captcha_required")
    assert throttle(stack, name) is None


@pytest.mark.parametrize("path", ["/api/register", "/api/login"])
def test_half_a_captcha_is_a_missing_field(client, stack, path):
    name = unique_name()
    for body, field in (({"username": name, "password": strong_password(), "captcha_id": client.captcha()[0]},
                         "captcha"),
                        ({"username": name, "password": strong_password(), "captcha": "ACEHK"}, "captcha_id")):
        missing = assert_error(client.post(path, body), 400, "missing_field")["message"]
        assert f"'{field}'" in missing, missing
    assert user_count(stack, name) == 0


def test_register_without_any_captcha_is_a_missing_field(client, stack):
    name = unique_name()
    path = "/api/register"
    for body in ({"username": name, "password": strong_password()},
                 {"username": name, "password": strong_password(), "captcha_id": client.captcha()[0]}):
        r = client.post(path, body)
        missing = assert_error(r, 400, "missing_field")["message"]
        assert "captcha" in missing
    assert user_count(stack, name) == 0


def test_register_needs_a_right_captcha(client, stack):
    name = unique_name()
    cid, answer = client.captcha()
    r = client.post("/api/register", {"username": name, "password": strong_password(),
                                      "captcha_id": cid, "captcha": wrong_answer(answer)})
    assert_error(r, 400, "captcha_wrong")
    assert user_count(stack, name) == 0


def test_captcha_takes_no_body(client):
    assert_error(client.post("/api/captcha", {"x": 1}), 400, "unexpected_body")


def test_captcha_needs_a_same_origin_request(client):
    assert_error(client.post("/api/captcha", headers={"Origin": "https://evil.example"}), 403, "bad_origin")
    r = client.s.post(client.base + "/api/captcha", headers={"Origin": None}, timeout=10)
    assert_error(r, 403, "bad_origin")


def test_captcha_is_only_made_by_post(client):
    r = client.get("/api/captcha")
    assert_error(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "POST"


def test_a_captcha_sent_twice_at_once_passes_once(clients):
    import threading
    c = clients()
    cid, answer = c.captcha()
    senders = [clients() for _ in range(4)]
    for s in senders:                  # connections open first, so the requests meet
        s.get("/api/health")
    barrier, out = threading.Barrier(4), []

    def run(s):
        barrier.wait()
        out.append(login_with(s, cid, answer).json()["error"])
    threads = [threading.Thread(target=run, args=(s,)) for s in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(out) == ["captcha_expired"] * 3 + ["invalid_credentials"], out
