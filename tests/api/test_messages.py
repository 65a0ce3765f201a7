"""Messages (design §3, §4): ciphertext stored between friends, every field
checked for type, base64url form and exact length, key ids checked against
their owners, replays refused by the unique (sender, recipient, keys, epoch,
counter); a conversation paged both ways and readable by its two users
only; delivered and read markers that only grow; unread counts; the
per-user send limit."""
import json
import os
import time

import pytest

from accounts import assert_error
from chat import b64u, friends, message, peer, sql, unique_name

MAX_CT = 16384


def ids(r):
    assert r.status_code == 200, r.text
    return [m["id"] for m in r.json()["messages"]]


def send_ok(a, b, counter, **kw):
    r = a.send(b, counter, **kw)
    assert r.status_code == 201, r.text
    return r.json()["id"]


# --- storing and reading ---------------------------------------------------------

def test_a_message_is_stored_and_read_back_verbatim_by_both(clients):
    a, b = friends(clients)
    m = message(b.name, a.key_id, b.key_id, 1)
    r = a.client.post("/api/messages", m)
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"id", "created_at"} and body["created_at"].endswith("Z")
    for side, other in ((a, b), (b, a)):
        h = side.history(other)
        assert h.status_code == 200, h.text
        got = h.json()["messages"]
        assert len(got) == 1
        row = got[0]
        assert row == {"id": body["id"], "sender_id": a.user.id, "recipient_id": b.user.id, "kind": "text",
                       "sender_key_id": a.key_id, "recipient_key_id": b.key_id, "epoch": 1, "counter": 1,
                       "iv": m["iv"], "ciphertext": m["ciphertext"], "mac": m["mac"],
                       "created_at": body["created_at"]}
        assert h.json()["with"] == {"user_id": other.user.id, "username": other.name}


def test_every_kind_is_stored_and_rekey_keeps_its_second_mac(clients):
    a, b = friends(clients)
    send_ok(a, b, 1, kind="ecdh")
    m = message(b.name, a.key_id, b.key_id, 2, kind="rekey")
    assert a.client.post("/api/messages", m).status_code == 201
    send_ok(a, b, 3, kind="receipt")
    rows = b.history(a).json()["messages"]
    assert [x["kind"] for x in rows] == ["ecdh", "rekey", "receipt"]
    assert "mac2" not in rows[0] and rows[1]["mac2"] == m["mac2"] and "mac2" not in rows[2]


def test_the_largest_ciphertext_goes_through_whole(clients):
    a, b = friends(clients)
    m = message(b.name, a.key_id, b.key_id, 1, size=MAX_CT)
    assert a.client.post("/api/messages", m).status_code == 201
    assert b.history(a).json()["messages"][0]["ciphertext"] == m["ciphertext"]


def test_a_message_to_an_offline_friend_waits_for_them(clients):
    a, b = friends(clients)
    assert b.client.post("/api/logout").status_code == 204
    mid = send_ok(a, b, 1)
    b.client.log_in(b.user)
    assert ids(b.history(a)) == [mid]
    assert {f["username"]: f["unread"] for f in b.client.get("/api/friends").json()["friends"]}[a.name] == 1


# --- replays ------------------------------------------------------------------------

def test_a_replayed_counter_is_409_and_not_stored(clients, stack):
    a, b = friends(clients)
    m = message(b.name, a.key_id, b.key_id, 7)
    assert a.client.post("/api/messages", m).status_code == 201
    other = dict(m, ciphertext=b64u(os.urandom(30)), mac=b64u(os.urandom(32)))
    assert_error(a.client.post("/api/messages", other), 409, "replay")
    assert_error(a.client.post("/api/messages", m), 409, "replay")
    assert sql(stack, f"SELECT COUNT(*) FROM messages WHERE sender_id = {a.user.id}") == "1"


def test_a_counter_is_unique_per_direction_keys_and_epoch_only(clients):
    a, b = friends(clients)
    send_ok(a, b, 1)
    send_ok(b, a, 1)                     # the other direction
    send_ok(a, b, 1, epoch=2)            # the next epoch
    old = a.key_id
    a.put_key()
    send_ok(a, b, 1)                     # new keys
    assert len(ids(a.history(b))) == 4
    r = a.client.post("/api/messages", message(b.name, old, b.key_id, 1))
    assert_error(r, 409, "replay")       # the old keys' counter 1 is still used


# --- who may send -------------------------------------------------------------------

def test_only_friends_exchange_messages(clients):
    a, b = friends(clients)
    c = peer(clients)
    assert_error(c.send(a, 1), 403, "not_friends")
    assert a.client.delete(f"/api/friends/{b.name}").status_code == 204
    assert_error(a.send(b, 1), 403, "not_friends")
    assert_error(b.send(a, 1), 403, "not_friends")


def test_blocked_users_cannot_send(clients):
    a, b = friends(clients)
    assert b.client.post(f"/api/blocks/{a.name}").status_code == 201
    assert_error(a.send(b, 1), 403, "not_friends")


def test_messages_to_nobody_or_oneself(clients):
    a = peer(clients)
    assert_error(a.client.post("/api/messages", message(unique_name(), a.key_id, a.key_id, 1)), 404, "unknown_user")
    assert_error(a.client.post("/api/messages", message(a.name, a.key_id, a.key_id, 1)), 422, "yourself")


def test_key_ids_must_belong_to_sender_and_recipient(clients):
    a, b = friends(clients)
    c = peer(clients)
    for skey, rkey in ((b.key_id, b.key_id), (c.key_id, b.key_id), (a.key_id, a.key_id), (a.key_id, c.key_id),
                       (a.key_id, 10 ** 12), (10 ** 12, b.key_id)):
        assert_error(a.client.post("/api/messages", message(b.name, skey, rkey, 1)), 422, "unknown_key")
    assert ids(a.history(b)) == []


# --- bad fields ---------------------------------------------------------------------

def good(a, b):
    return message(b.name, a.key_id, b.key_id, 1)


def last_char_with_low_bits(s):
    """The same bytes but a last character whose unused bits are set (not canonical)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return s[:-1] + alphabet[alphabet.index(s[-1]) | 1]


BAD_VALUES = {
    "iv_11_bytes": ("iv", b64u(os.urandom(11))),
    "iv_13_bytes": ("iv", b64u(os.urandom(13))),
    "iv_padded": ("iv", b64u(os.urandom(12)) + "=="),
    "iv_standard_alphabet": ("iv", "++++////AAAAAAAA"),
    "mac_31_bytes": ("mac", b64u(os.urandom(31))),
    "mac_33_bytes": ("mac", b64u(os.urandom(33))),
    "mac_padded": ("mac", b64u(os.urandom(32)) + "="),
    "mac_not_canonical": ("mac", last_char_with_low_bits("A" * 43)),
    "mac_html": ("mac", "<img src=x onerror=alert(1)>"),
    "ct_empty": ("ciphertext", ""),
    "ct_too_long": ("ciphertext", b64u(os.urandom(MAX_CT + 1))),
    "ct_not_b64": ("ciphertext", "' OR 1=1; DROP TABLE messages; --"),
    "ct_with_space": ("ciphertext", "AAAA AAAA"),
    "ct_one_char_left": ("ciphertext", "AAAAA"),
    "epoch_zero": ("epoch", 0),
    "counter_zero": ("counter", 0),
    "counter_negative": ("counter", -1),
    "counter_past_2_53": ("counter", 2 ** 53),
    "key_id_zero": ("sender_key_id", 0),
    "kind_unknown": ("kind", "html"),
    "kind_empty": ("kind", ""),
    "to_sql": ("to", "' OR 1=1 --"),
    "to_html": ("to", "<script>x</script>"),
}


@pytest.mark.parametrize("name", BAD_VALUES)
def test_field_values_out_of_form_are_422(clients, stack, name):
    a, b = friends(clients)
    field, value = BAD_VALUES[name]
    body = assert_error(a.client.post("/api/messages", {**good(a, b), field: value}), 422, "bad_value")
    assert field in body["message"] or field == "ciphertext"
    assert sql(stack, f"SELECT COUNT(*) FROM messages WHERE sender_id = {a.user.id}") == "0"


@pytest.mark.parametrize("field,value", [("counter", "1"), ("counter", 1.5), ("epoch", None), ("iv", 12),
                                         ("ciphertext", ["AAAA"]), ("to", {"u": 1}), ("sender_key_id", True),
                                         ("mac", False)])
def test_field_types_are_checked(clients, field, value):
    a, b = friends(clients)
    assert_error(a.client.post("/api/messages", {**good(a, b), field: value}), 400, "wrong_type")


@pytest.mark.parametrize("field", ["to", "kind", "sender_key_id", "recipient_key_id", "epoch", "counter", "iv",
                                   "ciphertext", "mac"])
def test_every_field_is_required(clients, field):
    a, b = friends(clients)
    m = good(a, b)
    del m[field]
    body = assert_error(a.client.post("/api/messages", m), 400, "missing_field")
    assert field in body["message"]


def test_mac2_belongs_to_rekey_only(clients):
    a, b = friends(clients)
    assert_error(a.client.post("/api/messages", {**good(a, b), "mac2": b64u(os.urandom(32))}), 422, "bad_value")
    m = message(b.name, a.key_id, b.key_id, 1, kind="rekey")
    del m["mac2"]
    assert_error(a.client.post("/api/messages", m), 400, "missing_field")
    bad = message(b.name, a.key_id, b.key_id, 1, kind="rekey")
    bad["mac2"] = b64u(os.urandom(16))
    assert_error(a.client.post("/api/messages", bad), 422, "bad_value")


def test_extra_fields_and_bad_bodies(clients):
    a, b = friends(clients)
    h = {"Content-Type": "application/json"}
    assert_error(a.client.post("/api/messages", {**good(a, b), "sender_id": b.user.id}), 400, "unknown_field")
    assert_error(a.client.post("/api/messages", {**good(a, b), "plaintext": "hi"}), 400, "unknown_field")
    raw = json.dumps(good(a, b)).replace(b.name, b.name + "\\udc00").encode()
    assert_error(a.client.post("/api/messages", data=raw, headers=h), 400, "bad_json")
    assert_error(a.client.post("/api/messages", data=b'{"to": "\xff"}', headers=h), 400, "invalid_utf8")
    assert_error(a.client.post("/api/messages", data=b"[1]", headers=h), 400, "not_object")
    huge = json.dumps({**good(a, b), "ciphertext": "A" * 40000})
    assert_error(a.client.post("/api/messages", data=huge, headers=h), 413, "too_large")
    assert_error(a.client.post("/api/messages", data="to=x", headers={"Content-Type": "text/plain"}),
                 415, "unsupported_media_type")
    assert ids(a.history(b)) == []


# --- history ------------------------------------------------------------------------

@pytest.fixture
def conversation(clients):
    """Two friends with 25 messages between them, alternating sides."""
    a, b = friends(clients)
    sent = []
    for i in range(25):
        x, y = (a, b) if i % 2 == 0 else (b, a)
        sent.append(send_ok(x, y, i // 2 + 1))
    return a, b, sent


def test_history_is_ordered_and_paged_back_from_the_newest(conversation):
    a, b, sent = conversation
    assert ids(a.history(b)) == sent             # default page: 50
    r = a.history(b, limit=10)
    assert ids(r) == sent[-10:] and r.json()["more"] is True
    r = a.history(b, limit=10, before=sent[-10])
    assert ids(r) == sent[-20:-10] and r.json()["more"] is True
    r = a.history(b, limit=10, before=sent[-20])
    assert ids(r) == sent[:5] and r.json()["more"] is False
    assert ids(b.history(a, before=sent[0])) == []


def test_history_pages_forward_after_a_cursor(conversation):
    a, b, sent = conversation
    r = b.history(a, after=sent[4], limit=10)
    assert ids(r) == sent[5:15] and r.json()["more"] is True
    r = b.history(a, after=sent[14], limit=10)
    assert ids(r) == sent[15:] and r.json()["more"] is False
    r = b.history(a, after=sent[-1])
    assert ids(r) == [] and r.json()["more"] is False
    assert ids(b.history(a, after=0, limit=3)) == sent[:3]


def test_history_between_two_cursors(conversation):
    a, b, sent = conversation
    assert ids(a.history(b, after=sent[3], before=sent[9])) == sent[4:9]
    assert ids(a.history(b, after=sent[3], before=sent[4])) == []
    assert ids(a.history(b, limit=200)) == sent


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=-1", "limit=ten", "before=0", "after=-1",
                                   "after=1.5", "after=", "foo=1", "after=1&after=2"])
def test_bad_history_queries_are_400(clients, query):
    a, b = friends(clients)
    assert_error(a.client.get(f"/api/messages?with={b.name}&{query}"), 400, "bad_query")


def test_history_needs_a_known_other_user(clients):
    a = peer(clients)
    assert_error(a.client.get("/api/messages"), 400, "bad_query")
    assert_error(a.client.get("/api/messages?with=%27%20OR%201%3D1%20--"), 400, "bad_query")
    assert_error(a.client.get(f"/api/messages?with={unique_name()}"), 404, "unknown_user")
    assert_error(a.client.get(f"/api/messages?with={a.name}"), 403, "not_friends")


def test_nobody_reads_a_conversation_they_are_not_in(conversation, clients):
    a, b, sent = conversation
    c = peer(clients)
    c.befriend(a)
    send_ok(c, a, 1)
    # c's conversation with a holds c's message only, never a's with b.
    assert len(ids(c.history(a))) == 1
    assert len(ids(c.history(b))) == 0
    assert len(ids(a.history(b))) == 25


def test_history_outlives_the_friendship(conversation):
    a, b, sent = conversation
    assert a.client.delete(f"/api/friends/{b.name}").status_code == 204
    assert ids(b.history(a)) == sent


# --- markers ----------------------------------------------------------------------

def mark(p, other, upto, what="read"):
    r = p.client.post(f"/api/messages/{what}", {"with": other.name, "upto": upto})
    assert r.status_code == 200, r.text
    return r.json()


def unread(p, other):
    return {f["username"]: f["unread"] for f in p.client.get("/api/friends").json()["friends"]}[other.name]


def test_read_markers_move_unread_counts_and_only_grow(clients):
    a, b = friends(clients)
    got = [send_ok(a, b, n) for n in range(1, 6)]
    assert unread(b, a) == 5
    assert mark(b, a, got[2]) == {"delivered_upto": got[2], "read_upto": got[2], "unread": 2}
    assert unread(b, a) == 2
    assert mark(b, a, got[0])["read_upto"] == got[2]        # never backwards
    h = a.history(b).json()
    assert h["peer_read_upto"] == got[2] and h["peer_delivered_upto"] == got[2]
    assert b.history(a).json()["read_upto"] == got[2]


def test_delivered_is_apart_from_read_and_read_implies_delivered(clients):
    a, b = friends(clients)
    got = [send_ok(a, b, n) for n in range(1, 4)]
    assert mark(b, a, got[2], "delivered") == {"delivered_upto": got[2], "read_upto": 0, "unread": 3}
    assert mark(b, a, got[0]) == {"delivered_upto": got[2], "read_upto": got[0], "unread": 2}


def test_markers_stop_at_the_last_message_received(clients):
    a, b = friends(clients)
    mine = send_ok(b, a, 1)               # b's own message does not count for b
    got = send_ok(a, b, 1)
    assert mark(b, a, 10 ** 15)["read_upto"] == got
    assert mark(a, b, 10 ** 15)["read_upto"] == mine
    # A later message is unread, although the marker was asked far past it.
    send_ok(a, b, 2)
    assert unread(b, a) == 1


def test_a_marker_cannot_touch_other_conversations(clients, stack):
    a, b = friends(clients)
    c = peer(clients)
    c.befriend(a)
    send_ok(a, b, 1)
    mark(c, a, 10 ** 15)
    assert unread(b, a) == 1
    assert sql(stack, f"SELECT COUNT(*) FROM read_markers WHERE user_id = {b.user.id}") == "0"


@pytest.mark.parametrize("body,status,code", [
    ({"with": "x_user"}, 400, "missing_field"),
    ({"upto": 1}, 400, "missing_field"),
    ({"with": "x_user", "upto": "1"}, 400, "wrong_type"),
    ({"with": "x_user", "upto": -1}, 422, "bad_value"),
    ({"with": "<b>", "upto": 1}, 422, "bad_value"),
    ({"with": "x_user", "upto": 1, "all": True}, 400, "unknown_field"),
])
def test_bad_marker_bodies(clients, body, status, code):
    a = peer(clients)
    assert_error(a.client.post("/api/messages/read", body), status, code)
    assert_error(a.client.post("/api/messages/delivered", body), status, code)


# --- the send limit ------------------------------------------------------------------

def test_sending_is_limited_per_user_with_retry_after(clients, stack):
    a, b = friends(clients)
    codes, counter = [], 0
    while len(codes) < 100:
        counter += 1
        r = a.send(b, counter, size=16)
        codes.append(r.status_code)
        if r.status_code == 429:
            break
    assert codes[-1] == 429, codes
    accepted = codes.count(201)
    assert 60 <= accepted <= 70, accepted      # the burst, and what refilled meanwhile
    assert_error(r, 429, "rate_limited")
    wait = int(r.headers["retry-after"])
    assert 1 <= wait <= 2
    assert len(ids(a.history(b, limit=200))) == accepted
    # The other user's allowance is their own.
    assert b.send(a, 1).status_code == 201
    time.sleep(wait)
    assert a.send(b, counter + 1).status_code == 201


def test_messages_need_a_session_and_csrf(clients):
    a, b = friends(clients)
    anon = clients()
    assert_error(anon.post("/api/messages", good(a, b)), 401, "unauthenticated")
    assert_error(anon.get(f"/api/messages?with={a.name}"), 401, "unauthenticated")
    # These routes read their query and body before the session (the peer
    # comes with it), yet a request without one is still told so first.
    assert_error(anon.post("/api/messages", data=b'{"to": ', headers={"Content-Type": "application/json"}),
                 401, "unauthenticated")
    assert_error(anon.post("/api/messages", good(a, b), headers={"Content-Type": "text/plain"}),
                 401, "unauthenticated")
    assert_error(anon.get("/api/messages?with=no%20such!&limit=0"), 401, "unauthenticated")
    assert_error(anon.post("/api/messages/read", {"with": a.name, "upto": -1}), 401, "unauthenticated")
    # With one, the bad input is the answer, and a peer named by bad input is not used.
    assert_error(a.client.get("/api/messages?with=no%20such!"), 400, "bad_query")
    assert_error(a.client.post("/api/messages", data=b'{"to": ', headers={"Content-Type": "application/json"}),
                 400, "bad_json")
    assert_error(a.client.post("/api/messages", good(a, b), headers={"X-CSRF-Token": ""}), 403, "csrf_failed")
