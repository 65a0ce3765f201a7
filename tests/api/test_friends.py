"""Friends (design §3): requests by user name, listed on both sides;
accept, reject, cancel, each only by the side it belongs to; a request that
crosses one the other way becomes a friendship; every refusal with its own
error; the friend list with presence, unread counts and key ids; removal;
blocks, which end friendships and requests and stop new ones; the per-user
request limit; bad input on every call."""
import json
import threading

import pytest

from accounts import assert_error
from chat import friends, peer, sql, unique_name

META = ["' OR 1=1 --", "<script>alert(1)</script>", "\"; DROP TABLE friendships; --", "a b", "ü" * 4]


def request(a, b):
    return a.client.post("/api/friends/requests", {"username": b.name})


def requests_of(p):
    r = p.client.get("/api/friends/requests")
    assert r.status_code == 200, r.text
    return r.json()


def friend_list(p):
    r = p.client.get("/api/friends")
    assert r.status_code == 200, r.text
    return r.json()["friends"]


def friend_names(p):
    return [f["username"] for f in friend_list(p)]


# --- requests --------------------------------------------------------------

def test_a_request_is_pending_and_listed_on_both_sides(clients):
    a, b = peer(clients), peer(clients)
    r = request(a, b)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["state"] == "pending" and isinstance(body["id"], int)
    assert body["to"] == {"user_id": b.user.id, "username": b.name}
    out, inc = requests_of(a), requests_of(b)
    assert [q["id"] for q in out["outgoing"]] == [body["id"]] and out["incoming"] == []
    assert [q["id"] for q in inc["incoming"]] == [body["id"]] and inc["outgoing"] == []
    assert inc["incoming"][0]["user"] == {"user_id": a.user.id, "username": a.name}
    assert inc["incoming"][0]["created_at"].endswith("Z")
    assert friend_names(a) == [] and friend_names(b) == []


def test_accepting_makes_friends_on_both_sides(clients):
    a, b = peer(clients), peer(clients)
    rid = request(a, b).json()["id"]
    r = b.client.post(f"/api/friends/requests/{rid}/accept")
    assert r.status_code == 200, r.text
    assert r.json() == {"state": "accepted", "id": rid, "friend": {"user_id": a.user.id, "username": a.name}}
    assert friend_names(a) == [b.name] and friend_names(b) == [a.name]
    assert requests_of(a) == {"incoming": [], "outgoing": []}
    assert requests_of(b) == {"incoming": [], "outgoing": []}


def test_rejecting_deletes_the_request_and_a_new_one_may_follow(clients):
    a, b = peer(clients), peer(clients)
    rid = request(a, b).json()["id"]
    r = b.client.post(f"/api/friends/requests/{rid}/reject")
    assert r.status_code == 204, r.text
    assert requests_of(a)["outgoing"] == [] and requests_of(b)["incoming"] == []
    assert friend_names(a) == []
    assert request(a, b).status_code == 201


def test_the_sender_cancels_a_request(clients):
    a, b = peer(clients), peer(clients)
    rid = request(a, b).json()["id"]
    assert a.client.delete(f"/api/friends/requests/{rid}").status_code == 204
    assert requests_of(b)["incoming"] == []
    assert_error(b.client.post(f"/api/friends/requests/{rid}/accept"), 404, "request_not_found")


def test_only_the_side_a_request_belongs_to_may_act_on_it(clients):
    a, b, c = peer(clients), peer(clients), peer(clients)
    rid = request(a, b).json()["id"]
    # The sender cannot accept or reject its own request; the recipient cannot cancel it.
    assert_error(a.client.post(f"/api/friends/requests/{rid}/accept"), 404, "request_not_found")
    assert_error(a.client.post(f"/api/friends/requests/{rid}/reject"), 404, "request_not_found")
    assert_error(b.client.delete(f"/api/friends/requests/{rid}"), 404, "request_not_found")
    # A third user can do nothing with it, and learns nothing (the same 404).
    for call in (lambda: c.client.post(f"/api/friends/requests/{rid}/accept"),
                 lambda: c.client.post(f"/api/friends/requests/{rid}/reject"),
                 lambda: c.client.delete(f"/api/friends/requests/{rid}")):
        assert_error(call(), 404, "request_not_found")
    assert [q["id"] for q in requests_of(b)["incoming"]] == [rid]
    assert friend_names(c) == [] and friend_names(a) == []


@pytest.mark.parametrize("rid", ["abc", "0", "-1", "1e3", "99999999999999999999", "%27%20OR%201%3D1"])
def test_request_ids_that_are_not_ids_are_unknown(clients, rid):
    a = peer(clients, key=False)
    assert_error(a.client.post(f"/api/friends/requests/{rid}/accept"), 404, "request_not_found")
    assert_error(a.client.delete(f"/api/friends/requests/{rid}"), 404, "request_not_found")


def test_a_request_crossing_theirs_becomes_a_friendship(clients):
    a, b = peer(clients), peer(clients)
    rid = request(a, b).json()["id"]
    r = request(b, a)
    assert r.status_code == 200, r.text
    assert r.json() == {"state": "accepted", "id": rid, "friend": {"user_id": a.user.id, "username": a.name}}
    assert friend_names(a) == [b.name] and friend_names(b) == [a.name]
    assert requests_of(a) == {"incoming": [], "outgoing": []}


def test_requests_sent_at_once_both_ways_make_one_friendship(clients):
    pairs = [(peer(clients, key=False), peer(clients, key=False)) for _ in range(4)]
    results = {}

    def send(x, y):
        results[(x.name, y.name)] = request(x, y).status_code
    threads = [threading.Thread(target=send, args=p) for a, b in pairs for p in ((a, b), (b, a))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for a, b in pairs:
        codes = sorted([results[(a.name, b.name)], results[(b.name, a.name)]])
        assert codes == [200, 201], codes       # one request, then the crossing one accepts it
        assert friend_names(a) == [b.name] and friend_names(b) == [a.name]
        rows = sql(a.client.stack, f"SELECT COUNT(*) FROM friendships WHERE user_id IN ({a.user.id}, {b.user.id})")
        assert rows == "2"
        assert requests_of(a) == {"incoming": [], "outgoing": []}


def test_the_user_name_is_found_in_any_case(clients):
    a, b = peer(clients, key=False), peer(clients, key=False)
    r = a.client.post("/api/friends/requests", {"username": b.name.upper()})
    assert r.status_code == 201, r.text
    assert r.json()["to"]["username"] == b.name


# --- refusals, each its own ----------------------------------------------------

def test_an_unknown_user_is_404(clients):
    a = peer(clients, key=False)
    assert_error(a.client.post("/api/friends/requests", {"username": unique_name()}), 404, "unknown_user")


def test_an_account_not_yet_confirmed_is_unknown(clients):
    a = peer(clients, key=False)
    pending, _ = clients().enrol()
    assert_error(a.client.post("/api/friends/requests", {"username": pending.username}), 404, "unknown_user")


def test_a_request_to_oneself_is_refused(clients):
    a = peer(clients, key=False)
    assert_error(a.client.post("/api/friends/requests", {"username": a.name.upper()}), 422, "yourself")


def test_a_request_to_a_friend_is_409(clients):
    a, b = friends(clients)
    assert_error(request(a, b), 409, "already_friends")
    assert_error(request(b, a), 409, "already_friends")


def test_a_second_request_while_one_is_pending_is_409(clients):
    a, b = peer(clients, key=False), peer(clients, key=False)
    assert request(a, b).status_code == 201
    assert_error(request(a, b), 409, "request_pending")
    assert len(requests_of(b)["incoming"]) == 1


def test_blocked_users_cannot_send_requests_and_blockers_must_unblock(clients):
    a, b = peer(clients, key=False), peer(clients, key=False)
    r = b.client.post(f"/api/blocks/{a.name}")
    assert r.status_code == 201, r.text
    assert r.json() == {"blocked": {"user_id": a.user.id, "username": a.name}}
    assert_error(request(a, b), 403, "blocked")
    assert_error(request(b, a), 409, "you_blocked")
    assert requests_of(b) == {"incoming": [], "outgoing": []}
    assert b.client.delete(f"/api/blocks/{a.name}").status_code == 204
    assert request(a, b).status_code == 201


# --- the friend list ----------------------------------------------------------

def test_the_friend_list_shows_presence_unread_count_and_key(clients, stack):
    a, b = friends(clients)
    c = peer(clients)
    a.befriend(c)
    for n in (1, 2, 3):
        assert b.send(a, n).status_code == 201
    assert b.send(a, 4, kind="ecdh").status_code == 201      # not a text: not unread
    assert b.send(a, 5, kind="receipt").status_code == 201   # nor a sealed receipt
    # c was last seen two minutes ago.
    sql(stack, f"UPDATE users SET seen_at = NOW(6) - INTERVAL 2 MINUTE WHERE id = {c.user.id}")
    fl = {f["username"]: f for f in friend_list(a)}
    assert set(fl) == {b.name, c.name}
    assert set(fl[b.name]) == {"user_id", "username", "since", "online", "last_seen", "unread", "key_id"}
    assert fl[b.name]["user_id"] == b.user.id and fl[b.name]["key_id"] == b.key_id
    assert fl[b.name]["online"] is True and fl[b.name]["unread"] == 3
    assert fl[c.name]["online"] is False and fl[c.name]["unread"] == 0
    assert fl[c.name]["last_seen"].endswith("Z")
    # Any request of c's brings it back online.
    c.client.get("/api/me")
    assert {f["username"]: f["online"] for f in friend_list(a)}[c.name] is True


def test_a_friend_without_a_key_has_none(clients):
    a, b = peer(clients), peer(clients, key=False)
    a.befriend(b)
    assert friend_list(a)[0]["key_id"] is None
    assert friend_list(b)[0]["key_id"] == a.key_id


def test_removing_a_friend_ends_it_for_both(clients):
    a, b = friends(clients)
    assert a.client.delete(f"/api/friends/{b.name}").status_code == 204
    assert friend_names(a) == [] and friend_names(b) == []
    assert_error(a.client.delete(f"/api/friends/{b.name}"), 403, "not_friends")
    assert_error(b.client.delete(f"/api/friends/{a.name}"), 403, "not_friends")
    assert request(b, a).status_code == 201


def test_removing_strangers_unknowns_and_oneself(clients):
    a, b = peer(clients, key=False), peer(clients, key=False)
    assert_error(a.client.delete(f"/api/friends/{b.name}"), 403, "not_friends")
    assert_error(a.client.delete(f"/api/friends/{unique_name()}"), 404, "unknown_user")
    assert_error(a.client.delete(f"/api/friends/{a.name}"), 403, "not_friends")


# --- blocks -------------------------------------------------------------------

def test_blocking_ends_the_friendship_and_hides_presence(clients):
    a, b = friends(clients)
    assert b.client.post(f"/api/blocks/{a.name}").status_code == 201
    assert friend_names(a) == [] and friend_names(b) == []
    assert_error(a.send(b, 1), 403, "not_friends")
    assert_error(a.client.get(f"/api/keys/{b.name}"), 403, "not_friends")
    r = b.client.get("/api/blocks")
    assert r.status_code == 200
    assert [(x["user_id"], x["username"]) for x in r.json()["blocks"]] == [(a.user.id, a.name)]
    assert a.client.get("/api/blocks").json() == {"blocks": []}


def test_blocking_drops_requests_both_ways(clients):
    a, b, c = peer(clients, key=False), peer(clients, key=False), peer(clients, key=False)
    assert request(a, b).status_code == 201
    assert request(b, c).status_code == 201
    assert b.client.post(f"/api/blocks/{a.name}").status_code == 201
    assert b.client.post(f"/api/blocks/{c.name}").status_code == 201
    assert requests_of(b) == {"incoming": [], "outgoing": []}
    assert requests_of(a)["outgoing"] == [] and requests_of(c)["incoming"] == []


def test_blocking_twice_is_harmless_and_unblocking_twice_says_so(clients):
    a, b = peer(clients, key=False), peer(clients, key=False)
    assert a.client.post(f"/api/blocks/{b.name}").status_code == 201
    assert a.client.post(f"/api/blocks/{b.name}").status_code == 200
    assert len(a.client.get("/api/blocks").json()["blocks"]) == 1
    assert a.client.delete(f"/api/blocks/{b.name}").status_code == 204
    assert_error(a.client.delete(f"/api/blocks/{b.name}"), 404, "not_found")


def test_blocking_oneself_or_nobody(clients):
    a = peer(clients, key=False)
    assert_error(a.client.post(f"/api/blocks/{a.name}"), 422, "yourself")
    assert_error(a.client.post(f"/api/blocks/{unique_name()}"), 404, "unknown_user")
    assert_error(a.client.delete(f"/api/blocks/{unique_name()}"), 404, "unknown_user")
    assert_error(a.client.post("/api/blocks/%3Cscript%3E"), 404, "unknown_user")


# --- limits and bad input -------------------------------------------------------

def test_friend_requests_are_limited_per_user(clients, private_chatd):
    d = private_chatd(CHATD_FRIEND_RATE=1, CHATD_FRIEND_BURST=2)
    a = peer(clients, key=False)
    others = [peer(clients, key=False) for _ in range(3)]
    fc = d.client()
    fc.fixed_cookie, fc.csrf = a.client.cookie, a.client.csrf
    codes = [fc.post("/api/friends/requests", {"username": o.name}).status_code for o in others[:2]]
    assert codes == [201, 201]
    r = fc.post("/api/friends/requests", {"username": others[2].name})
    assert_error(r, 429, "rate_limited")
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert len(requests_of(a)["outgoing"]) == 2


@pytest.mark.parametrize("body,status,code", [
    ({}, 400, "missing_field"),
    ({"username": "bob_x", "note": "hi"}, 400, "unknown_field"),
    ({"username": 42}, 400, "wrong_type"),
    ({"username": ["bob_x"]}, 400, "wrong_type"),
    ({"username": None}, 400, "wrong_type"),
    ({"username": ""}, 422, "bad_value"),
    ({"username": "x" * 65}, 422, "bad_value"),
] + [({"username": m}, 422, "bad_value") for m in META])
def test_bad_request_bodies(clients, body, status, code):
    a = peer(clients, key=False)
    assert_error(a.client.post("/api/friends/requests", body), status, code)
    assert requests_of(a)["outgoing"] == []


def test_bodies_that_are_not_json_or_too_large(clients):
    a = peer(clients, key=False)
    h = {"Content-Type": "application/json"}
    assert_error(a.client.post("/api/friends/requests", data=b'{"username": "\xff\xfe"}', headers=h),
                 400, "invalid_utf8")
    assert_error(a.client.post("/api/friends/requests", data=b'{"username":', headers=h), 400, "bad_json")
    assert_error(a.client.post("/api/friends/requests", data=json.dumps({"username": "a" * 5000}), headers=h),
                 413, "too_large")
    assert_error(a.client.post(f"/api/friends/requests/1/accept", data=b"{}", headers=h), 400, "unexpected_body")


def test_every_friend_call_needs_a_session_and_csrf(clients):
    a = peer(clients, key=False)
    anon = clients()
    for method, path in [("GET", "/api/friends"), ("GET", "/api/friends/requests"), ("GET", "/api/blocks"),
                         ("POST", "/api/friends/requests"), ("POST", "/api/friends/requests/1/accept"),
                         ("DELETE", f"/api/friends/{a.name}"), ("POST", f"/api/blocks/{a.name}")]:
        assert_error(anon.request(method, path, json={"username": a.name} if path.endswith("requests") and method == "POST" else None),
                     401, "unauthenticated")
    assert_error(a.client.post("/api/friends/requests", {"username": a.name}, headers={"X-CSRF-Token": "0" * 64}),
                 403, "csrf_failed")
    assert_error(a.client.post(f"/api/blocks/{a.name}", headers={"Origin": "https://evil.example"}),
                 403, "bad_origin")
