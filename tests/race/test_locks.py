"""The race layer: what contention does to a request, provoked on purpose.
Here, a row lock held by someone else (the test, as the database's owner)
while a request needs it: the request waits at most a second under the read
timeout, then answers 503 with Retry-After, as an answer on a live connection:
no "connection lost", no statement run twice, nothing acknowledged lost."""
import time

from accounts import user_row
from chat import friends, sql
from locks import Held, log_marks, logged_since

DB_TIMEOUT = 3	# CHATD_DB_TIMEOUT of the test stack (the default)


def test_a_held_row_lock_is_a_503_with_retry_after_not_a_lost_connection(clients, stack):
    a, b = friends(clients)
    r = a.send(b, 1)
    assert r.status_code == 201, r.text
    ids = (user_row(stack, a.name)["id"], user_row(stack, b.name)["id"])
    marks = log_marks(stack)
    held = Held(stack, f"SELECT * FROM friendships WHERE user_id = {ids[0]} AND friend_id = {ids[1]} FOR UPDATE")
    try:
        t0 = time.monotonic()
        r = a.send(b, 2)
        waited = time.monotonic() - t0
    finally:
        held.release()
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "db_unavailable"
    assert r.headers.get("retry-after"), r.headers
    # It gave up on the lock, not on the connection (the read timeout is longer).
    assert DB_TIMEOUT - 1 - 0.2 <= waited < DB_TIMEOUT + 1, waited
    logs = logged_since(marks, "(1205)")
    assert "gave way" in logs and "(1205)" in logs, logs[-2000:]
    assert "connection lost" not in logs, logs[-2000:]
    # The same request again, the lock gone: stored once, and only then.
    r = a.send(b, 2)
    assert r.status_code == 201, r.text
    stored = sql(stack, f"SELECT counter FROM messages WHERE sender_id = {ids[0]} ORDER BY id")
    assert stored.split() == ["1", "2"], stored
