"""Real-time events (GET /api/events): chatd checks the session and hands
the connection to nginx's nchan subscriber with X-Accel-Redirect; after
each commit it publishes a small JSON event to the channels of the users a
change concerns. Two logged-in clients: a message, a friend request, a
friendship change, a key change, a receipt and presence reach the other's
stream, and nobody else's; an ended session cannot subscribe, and its open
streams close; a client that reconnects resumes where it left off. The
delivery time (POST sent → event received) is measured at rest and with
500 idle subscribers connected."""
import base64
import hashlib
import os
import socket
import ssl
import subprocess
import time
import urllib.parse

from accounts import assert_error
from chat import friends, new_jwk, peer, sql
from events import EventStream, IdleCrowd, delivery_times, latency_summary


def stream(p, **kw):
    s = EventStream(p.client, **kw)
    assert s.status == 200, (s.status, s.body)
    return s


# --- subscribing ------------------------------------------------------------------

def test_a_subscription_needs_a_live_session(clients):
    anon = EventStream(clients())
    assert anon.status == 401 and anon.json()["error"] == "unauthenticated"
    a = peer(clients, key=False)
    assert a.client.post("/api/logout").status_code == 204
    ended = EventStream(a.client)
    assert ended.status == 401 and ended.json()["error"] == "unauthenticated"


def test_the_stream_is_event_stream_with_the_security_headers(clients):
    a = peer(clients, key=False)
    with stream(a) as s:
        assert s.headers["content-type"].startswith("text/event-stream")
        assert "x-accel-redirect" not in s.headers
        assert s.headers["strict-transport-security"].startswith("max-age=")
        assert "default-src 'self'" in s.headers["content-security-policy"]
        assert s.headers.get("access-control-allow-origin") in (None, a.client.base)


def test_a_subscription_takes_no_query_and_no_body(clients):
    a = peer(clients, key=False)
    assert_error(a.client.get("/api/events?channel=u1"), 400, "bad_query")
    assert_error(a.client.get("/api/events", data=b"x", headers={"Content-Type": "text/plain"}),
                 400, "unexpected_body")
    assert_error(a.client.post("/api/events"), 405, "method_not_allowed")


def test_the_internal_subscriber_is_not_reachable_from_outside(clients):
    a = peer(clients, key=False)
    r = a.client.get(f"/internal/sub/u{a.user.id}", headers={"Accept": "text/event-stream"})
    assert r.status_code == 404
    assert EventStream(a.client, path=f"/internal/sub/u{a.user.id}").status == 404


def test_ending_a_session_closes_its_open_streams(clients):
    a = peer(clients, key=False)
    other = clients()
    other.log_in(a.user)
    s = stream(a)
    t0 = time.monotonic()
    assert a.client.post("/api/logout").status_code == 204
    assert s.closed.wait(5), "the stream stayed open after logout"
    assert time.monotonic() - t0 < 5
    assert EventStream(a.client).status == 401
    # The user's other session subscribes again.
    with EventStream(other) as again:
        assert again.status == 200


def test_a_session_ended_from_another_closes_too(clients):
    a = peer(clients, key=False)
    b = clients()
    b.log_in(a.user)
    s = EventStream(b)
    sid = [x["id"] for x in a.client.get("/api/sessions").json()["sessions"] if not x["current"]][0]
    assert a.client.delete(f"/api/sessions/{sid}").status_code == 204
    assert s.closed.wait(5)
    assert EventStream(b).status == 401


# --- what is published ----------------------------------------------------------

def test_a_message_reaches_the_recipient_and_the_senders_other_sessions(clients):
    a, b = friends(clients)
    c = peer(clients)
    with stream(b) as sb, stream(a) as sa, stream(c) as sc:
        r = a.send(b, 1)
        assert r.status_code == 201
        mid = r.json()["id"]
        want = {"type": "message", "id": mid, "kind": "text", "sender_id": a.user.id, "recipient_id": b.user.id}
        ev = sb.next({"type": "message"})
        assert ev["json"] == want
        assert ev["id"]                      # nchan's event id, for Last-Event-ID
        assert sa.next({"type": "message"})["json"] == want
        assert [e for e in sc.drain() if e["type"] == "message"] == []


def test_friend_requests_and_friendships_reach_both_sides(clients):
    a, b = peer(clients, key=False), peer(clients, key=False)
    with stream(a) as sa, stream(b) as sb:
        rid = a.client.post("/api/friends/requests", {"username": b.name}).json()["id"]
        for s in (sa, sb):
            ev = s.next({"type": "request"})["json"]
            assert ev == {"type": "request", "id": rid, "state": "pending",
                          "from": {"user_id": a.user.id, "username": a.name},
                          "to": {"user_id": b.user.id, "username": b.name}}
        assert b.client.post(f"/api/friends/requests/{rid}/accept").status_code == 200
        assert sa.next({"type": "request"})["json"]["state"] == "accepted"
        assert sa.next({"type": "friend"})["json"] == {"type": "friend", "state": "added",
                                                       "user": {"user_id": b.user.id, "username": b.name}}
        assert sb.next({"type": "friend"})["json"]["user"]["username"] == a.name
        assert b.client.delete(f"/api/friends/{a.name}").status_code == 204
        assert sa.next({"type": "friend"})["json"] == {"type": "friend", "state": "removed",
                                                       "user": {"user_id": b.user.id, "username": b.name}}


def test_rejected_and_cancelled_requests_are_told(clients):
    a, b = peer(clients, key=False), peer(clients, key=False)
    with stream(a) as sa, stream(b) as sb:
        rid = a.client.post("/api/friends/requests", {"username": b.name}).json()["id"]
        assert b.client.post(f"/api/friends/requests/{rid}/reject").status_code == 204
        assert sa.next({"type": "request", "state": "rejected"})["json"]["id"] == rid
        rid = a.client.post("/api/friends/requests", {"username": b.name}).json()["id"]
        assert a.client.delete(f"/api/friends/requests/{rid}").status_code == 204
        assert sb.next({"type": "request", "state": "cancelled"})["json"]["id"] == rid


def test_a_key_change_is_announced_to_friends_only(clients):
    a, b = friends(clients)
    c = peer(clients)
    with stream(b) as sb, stream(c) as sc:
        r = a.client.request("PUT", "/api/keys", json={"jwk": new_jwk()[1]})
        assert r.status_code == 201
        ev = sb.next({"type": "key"})["json"]
        assert ev == {"type": "key", "user_id": a.user.id, "username": a.name, "key_id": r.json()["key_id"]}
        assert [e for e in sc.drain() if e["type"] == "key"] == []


def test_a_receipt_reaches_the_sender(clients):
    a, b = friends(clients)
    mid = a.send(b, 1).json()["id"]
    with stream(a) as sa:
        assert b.client.post("/api/messages/read", {"with": a.name, "upto": mid}).status_code == 200
        assert sa.next({"type": "receipt"})["json"] == {"type": "receipt", "user_id": b.user.id,
                                                        "delivered_upto": mid, "read_upto": mid}


def test_presence_changes_reach_friends(clients, stack):
    a, b = friends(clients)
    with stream(a) as sa:
        sql(stack, f"UPDATE users SET seen_at = NOW(6) - INTERVAL 2 MINUTE WHERE id = {b.user.id}")
        assert b.client.get("/api/me").status_code == 200
        ev = sa.next({"type": "presence"})["json"]
        assert ev == {"type": "presence", "user_id": b.user.id, "username": b.name, "online": True}
        assert b.client.post("/api/logout").status_code == 204
        assert sa.next({"type": "presence"})["json"]["online"] is False
    online = {f["username"]: f["online"] for f in a.client.get("/api/friends").json()["friends"]}
    assert online[b.name] is False


def test_an_open_stream_counts_as_online(clients, stack):
    a, b = friends(clients)
    sql(stack, f"UPDATE users SET seen_at = NOW(6) - INTERVAL 2 MINUTE WHERE id = {b.user.id}")
    with stream(b):
        online = {f["username"]: f["online"] for f in a.client.get("/api/friends").json()["friends"]}
        assert online[b.name] is True


def test_events_carry_ids_but_never_content(clients):
    a, b = friends(clients)
    with stream(b) as sb:
        m = a.send(b, 1).json()
        ev = sb.next({"type": "message"})
        assert set(ev["json"]) == {"type", "id", "kind", "sender_id", "recipient_id"}
        assert ev["json"]["id"] == m["id"]


# --- reconnecting -------------------------------------------------------------------

def test_a_reconnecting_client_resumes_with_last_event_id(clients):
    a, b = friends(clients)
    s = stream(b)
    a.send(b, 1)
    last = s.next({"type": "message"})
    s.close()
    missed = [a.send(b, n).json()["id"] for n in (2, 3)]
    with stream(b, last_event_id=last["id"]) as again:
        assert [again.next({"type": "message"})["json"]["id"] for _ in missed] == missed
    # And the API has everything, whatever the stream kept.
    assert [m["id"] for m in b.history(a, after=last["json"]["id"]).json()["messages"]] == missed


def test_long_poll_is_a_fallback(clients):
    a, b = friends(clients)
    import threading
    got = {}

    def poll():
        r = b.client.get("/api/events", headers={"Accept": "application/json"})
        got.update(status=r.status_code, body=r.json(), etag=r.headers.get("etag"))
    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.5)
    mid = a.send(b, 1).json()["id"]
    t.join(10)
    assert got["status"] == 200 and got["body"]["id"] == mid


def ws_frame(f):
    """One unmasked server frame: (opcode, payload)."""
    h = f.read(2)
    n = h[1] & 0x7F
    if n == 126:
        n = int.from_bytes(f.read(2), "big")
    elif n == 127:
        n = int.from_bytes(f.read(8), "big")
    return h[0] & 0x0F, f.read(n)


def test_websocket_is_a_fallback(clients):
    a, b = friends(clients)
    u = urllib.parse.urlsplit(b.client.base)
    ctx = ssl.create_default_context(cafile=b.client.stack["CHAT_CA"])
    ctx.set_alpn_protocols(["http/1.1"])        # WebSocket needs HTTP/1.1 in nginx 1.22
    key = base64.b64encode(os.urandom(16)).decode()
    with ctx.wrap_socket(socket.create_connection((u.hostname, u.port), timeout=10,
                                                  source_address=(b.client.source, 0)),
                         server_hostname=u.hostname) as sock:
        sock.sendall((f"GET /api/events HTTP/1.1\r\nHost: {u.netloc}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                      f"Origin: {b.client.base}\r\nCookie: __Host-sid={b.client.cookie}\r\n\r\n").encode())
        f = sock.makefile("rb")
        status = f.readline().decode()
        assert " 101 " in status, status
        headers = {}
        while (line := f.readline().decode().strip()):
            k, _, v = line.partition(":")
            headers[k.lower()] = v.strip()
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        assert headers["sec-websocket-accept"] == accept.decode()
        mid = a.send(b, 1).json()["id"]
        while True:
            op, payload = ws_frame(f)
            if op == 1:
                break
        assert payload and f'"id":{mid}' in payload.decode()


def test_the_stream_works_over_http2(clients):
    a, b = friends(clients)
    out = subprocess.Popen(["curl", "--http2", "-sN", "--cacert", b.client.stack["CHAT_CA"], "--max-time", "4",
                            "-H", "Accept: text/event-stream", "-H", f"Cookie: __Host-sid={b.client.cookie}",
                            "-w", "\nproto=%{http_version}\n", f"{b.client.base}/api/events"],
                           stdout=subprocess.PIPE, text=True)
    time.sleep(1)
    mid = a.send(b, 1).json()["id"]
    text = out.communicate(timeout=10)[0]
    assert "proto=2" in text
    assert f'"id":{mid}' in text


# --- delivery time -----------------------------------------------------------------

def test_delivery_time_at_rest_and_with_500_idle_subscribers(clients, report):
    a, b = friends(clients)
    with stream(b) as s:
        rest = delivery_times(a, b, s, 50)
        c = peer(clients)              # a sender of its own: each has its send limit
        c.befriend(b)
        crowd_users = [peer(clients, key=False).client for _ in range(10)]
        crowd = IdleCrowd(crowd_users, 500)
        try:
            assert crowd.connected == 500
            busy = delivery_times(c, b, s, 50)
        finally:
            crowd.close()
    report.append(latency_summary("at rest", rest))
    report.append(latency_summary("with 500 idle subscribers", busy))
    # Every message arrived (next() would have failed otherwise); the times
    # are reported, not judged: a busy CI machine is not a benchmark.
    assert len(rest) == len(busy) == 50
