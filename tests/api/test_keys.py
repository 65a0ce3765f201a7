"""Public keys (design §3, §4): a user publishes an ECDH P-384 public key as
a JWK; the server checks the point with OpenSSL and refuses off-curve,
wrong-curve, malformed and private-key-bearing keys; each new key gets an id
and the earlier ones stay as history; friends and the two sides of a
pending request may read a user's keys, nobody else."""
import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from accounts import assert_error, audit_events
from chat import b64u, friends, new_jwk, peer, sql, unique_name

P384_P = 2 ** 384 - 2 ** 128 - 2 ** 96 + 2 ** 32 - 1


def put(p, jwk):
    return p.client.request("PUT", "/api/keys", json={"jwk": jwk})


def coords(curve):
    n = ec.generate_private_key(curve).public_key().public_numbers()
    size = (curve.key_size + 7) // 8
    return n.x.to_bytes(size, "big"), n.y.to_bytes(size, "big"), n


def jwk_from(x, y, crv="P-384", **extra):
    return {"kty": "EC", "crv": crv, "x": b64u(x), "y": b64u(y), **extra}


def canonical(jwk):
    return {k: jwk[k] for k in ("kty", "crv", "x", "y")}


# --- publishing ---------------------------------------------------------------

def test_a_valid_key_is_stored_in_canonical_form_with_an_id(clients, stack):
    a = peer(clients, key=False)
    _, jwk = new_jwk()
    r = put(a, jwk)
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"key_id", "jwk", "created_at"}
    assert body["jwk"] == canonical(jwk) and list(body["jwk"]) == ["kty", "crv", "x", "y"]
    mine = a.client.get(f"/api/keys/{a.name}")
    assert mine.status_code == 200
    assert mine.json()["key_id"] == body["key_id"] and mine.json()["jwk"] == canonical(jwk)
    assert mine.json()["user"] == {"user_id": a.user.id, "username": a.name}
    assert "key_change" in audit_events(stack, a.user.id)


def test_publishing_the_current_key_again_changes_nothing(clients, stack):
    a = peer(clients, key=False)
    _, jwk = new_jwk()
    first = put(a, jwk).json()
    again = put(a, jwk)
    assert again.status_code == 200 and again.json() == first
    assert sql(stack, f"SELECT COUNT(*) FROM public_keys WHERE user_id = {a.user.id}") == "1"


def test_a_new_key_becomes_current_and_the_old_ones_stay(clients):
    a, b = friends(clients)
    old = a.key_id
    _, jwk = new_jwk()
    new = put(a, jwk).json()["key_id"]
    assert new > old
    cur = b.client.get(f"/api/keys/{a.name}").json()
    assert cur["key_id"] == new and cur["jwk"] == canonical(jwk)
    by_id = b.client.get(f"/api/keys/{a.name}?id={old}")
    assert by_id.status_code == 200 and by_id.json()["key_id"] == old
    hist = b.client.get(f"/api/keys/{a.name}/history")
    assert hist.status_code == 200
    assert [k["key_id"] for k in hist.json()["keys"]] == [new, old]
    assert hist.json()["user"]["username"] == a.name


def test_key_changes_are_limited(clients):
    a = peer(clients, key=False)
    codes = [put(a, new_jwk()[1]).status_code for _ in range(11)]
    assert codes[:10] == [201] * 10
    assert codes[10] == 429


# --- refusals -------------------------------------------------------------------

def test_a_private_key_is_refused_as_such(clients, stack):
    a = peer(clients, key=False)
    k, jwk = new_jwk()
    d = k.private_numbers().private_value.to_bytes(48, "big")
    body = assert_error(put(a, {**jwk, "d": b64u(d)}), 422, "private_key")
    assert "public" in body["message"]
    assert sql(stack, f"SELECT COUNT(*) FROM public_keys WHERE user_id = {a.user.id}") == "0"


def off_curve():
    x, y, _ = coords(ec.SECP384R1())
    return jwk_from(x, (int.from_bytes(y, "big") ^ 1).to_bytes(48, "big"))


def p256():
    x, y, _ = coords(ec.SECP256R1())
    return jwk_from(x, y, "P-256")


def p256_named_p384():
    x, y, _ = coords(ec.SECP256R1())
    return jwk_from(x, y)


def p521_named_p384():
    x, y, _ = coords(ec.SECP521R1())
    return jwk_from(x, y)


def coordinate_past_the_prime():
    x, y, n = coords(ec.SECP384R1())
    return jwk_from((n.x + P384_P).to_bytes(49, "big")[1:] if n.x + P384_P < 2 ** 384 else b"\xff" * 48, y)


def all_zero():
    return jwk_from(bytes(48), bytes(48))


def padded():
    x, y, _ = coords(ec.SECP384R1())
    j = jwk_from(x, y)
    j["x"] = base64.urlsafe_b64encode(x).decode() + "=="   # 48 bytes need none: padding is extra
    return j


def standard_alphabet():
    while True:
        x, y, _ = coords(ec.SECP384R1())
        s = base64.b64encode(x).decode()
        if "+" in s or "/" in s:
            j = jwk_from(x, y)
            j["x"] = s
            return j


def short_x():
    x, y, _ = coords(ec.SECP384R1())
    return jwk_from(x[1:], y)


@pytest.mark.parametrize("make", [off_curve, p256, p256_named_p384, p521_named_p384, coordinate_past_the_prime,
                                  all_zero, padded, standard_alphabet, short_x,
                                  lambda: {**new_jwk()[1], "kty": "RSA"},
                                  lambda: {**new_jwk()[1], "kty": "OKP", "crv": "X25519"},
                                  lambda: {**new_jwk()[1], "x": "not base64!"},
                                  lambda: {**new_jwk()[1], "y": "<script>alert(1)</script>"},
                                  lambda: {**new_jwk()[1], "crv": "' OR 1=1 --"}],
                         ids=["off_curve", "p256", "p256_coords_as_p384", "p521_coords_as_p384", "x_past_prime",
                              "all_zero", "padded", "standard_alphabet", "short_x", "rsa", "x25519", "x_not_b64",
                              "y_html", "crv_sql"])
def test_keys_that_are_not_p384_public_points_are_refused(clients, stack, make):
    a = peer(clients, key=False)
    body = assert_error(put(a, make()), 422, "bad_key")
    assert "(" in body["message"]          # with its reason
    assert sql(stack, f"SELECT COUNT(*) FROM public_keys WHERE user_id = {a.user.id}") == "0"


@pytest.mark.parametrize("body,code", [
    ({}, "missing_field"),
    ({"jwk": "a string"}, "wrong_type"),
    ({"jwk": [1, 2]}, "wrong_type"),
    ({"jwk": {"kty": "EC", "crv": "P-384", "x": "AA"}}, "missing_field"),
    ({"jwk": {**new_jwk()[1], "kid": "mine"}}, "unknown_field"),
    ({"jwk": {**new_jwk()[1], "ext": "yes"}}, "wrong_type"),
    ({"jwk": {**new_jwk()[1], "x": 12}}, "wrong_type"),
    ({"jwk": new_jwk()[1], "user_id": 1}, "unknown_field"),
])
def test_malformed_key_bodies_are_400(clients, body, code):
    a = peer(clients, key=False)
    assert_error(a.client.request("PUT", "/api/keys", json=body), 400, code)


def test_key_bodies_that_are_too_large_or_not_utf8(clients):
    a = peer(clients, key=False)
    h = {"Content-Type": "application/json"}
    assert_error(a.client.request("PUT", "/api/keys", data=b'{"jwk": {"kty": "\xc3\x28"}}', headers=h),
                 400, "invalid_utf8")
    big = '{"jwk": {"kty": "EC", "crv": "P-384", "x": "' + "A" * 5000 + '", "y": "A"}}'
    assert_error(a.client.request("PUT", "/api/keys", data=big, headers=h), 413, "too_large")


# --- who may read keys -----------------------------------------------------------

def test_both_sides_of_a_pending_request_may_read_keys(clients):
    a, b = peer(clients), peer(clients)
    assert a.client.post("/api/friends/requests", {"username": b.name}).status_code == 201
    assert a.client.get(f"/api/keys/{b.name}").json()["key_id"] == b.key_id
    assert b.client.get(f"/api/keys/{a.name}/history").status_code == 200


def test_strangers_and_blocked_users_may_not_read_keys(clients):
    a, b = friends(clients)
    c = peer(clients)
    for path in (f"/api/keys/{a.name}", f"/api/keys/{a.name}?id={a.key_id}", f"/api/keys/{a.name}/history"):
        assert_error(c.client.get(path), 403, "not_friends")
    assert a.client.post(f"/api/blocks/{b.name}").status_code == 201
    assert_error(b.client.get(f"/api/keys/{a.name}"), 403, "not_friends")
    assert_error(a.client.get(f"/api/keys/{b.name}"), 403, "not_friends")


def test_a_key_id_of_another_user_is_not_found(clients):
    a, b = friends(clients)
    c = peer(clients)
    assert_error(a.client.get(f"/api/keys/{b.name}?id={c.key_id}"), 404, "no_key")
    assert_error(a.client.get(f"/api/keys/{b.name}?id={a.key_id}"), 404, "no_key")


def test_a_user_without_a_key(clients):
    a = peer(clients)
    b = peer(clients, key=False)
    a.befriend(b)
    assert_error(a.client.get(f"/api/keys/{b.name}"), 404, "no_key")
    assert a.client.get(f"/api/keys/{b.name}/history").json()["keys"] == []


@pytest.mark.parametrize("query", ["id=0", "id=-1", "id=abc", "id=1.5", "id=", "id=1&id=2", "other=1",
                                   "id=%27%20OR%201%3D1"])
def test_bad_key_queries_are_400(clients, query):
    a = peer(clients)
    assert_error(a.client.get(f"/api/keys/{a.name}?{query}"), 400, "bad_query")


def test_keys_of_unknown_users_and_metacharacters(clients):
    a = peer(clients)
    assert_error(a.client.get(f"/api/keys/{unique_name()}"), 404, "unknown_user")
    assert_error(a.client.get("/api/keys/%27%20OR%201%3D1%20--"), 404, "unknown_user")
    assert_error(a.client.get("/api/keys/%3Cimg%20src%3Dx%3E/history"), 404, "unknown_user")


def test_keys_need_a_session_and_csrf(clients):
    a = peer(clients)
    anon = clients()
    assert_error(anon.get(f"/api/keys/{a.name}"), 401, "unauthenticated")
    assert_error(anon.request("PUT", "/api/keys", json={"jwk": new_jwk()[1]}), 401, "unauthenticated")
    assert_error(a.client.request("PUT", "/api/keys", json={"jwk": new_jwk()[1]},
                                  headers={"X-CSRF-Token": "f" * 64}), 403, "csrf_failed")
