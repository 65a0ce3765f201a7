"""The race layer: what contention does to a request, provoked on purpose.
Here, row locks: one held by someone else (the test, as the database's owner)
while a request needs it: the transaction waits a second, runs again, waits
again, then answers 503 with Retry-After on a live connection: no
"connection lost", no statement run twice, nothing acknowledged lost. And
sends crossing blocks and unfriends, which take the same rows in one order."""
import itertools
import threading
import time

from accounts import assert_error, user_row, wait_for
from chat import friends, message, sql
from race import Held, assert_no_failure, assert_no_fault_logged, at_once, log_marks, logged_since

DB_TIMEOUT = 3	# CHATD_DB_TIMEOUT of the test stack (the default)
LOCK_WAIT = 1	# what chatd makes of it: innodb_lock_wait_timeout


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
    # It waited for the lock twice (the whole transaction ran again), gave up
    # before the read timeout, and never lost the connection.
    assert 2 * LOCK_WAIT - 0.2 <= waited < DB_TIMEOUT + 0.5, waited
    logs = logged_since(marks, "try 2 of 3")
    assert "statement message_insert gave way" in logs and "(1205)" in logs, logs[-2000:]
    assert "statement message_send gave way (1205), try 2 of 3" in logs, logs[-2000:]
    assert "try 3 of 3" not in logs, logs[-2000:]	# a third wait would not fit in the budget
    assert "connection lost" not in logs, logs[-2000:]
    # The same request again, the lock gone: stored once, and only then.
    r = a.send(b, 2)
    assert r.status_code == 201, r.text
    stored = sql(stack, f"SELECT counter FROM messages WHERE sender_id = {ids[0]} ORDER BY id")
    assert stored.split() == ["1", "2"], stored


def test_sends_crossing_blocks_and_unfriends_never_deadlock(clients, stack):
    """A send locks the two user rows shared, lower id first, before its insert
    reads the friendship; a block or unfriend locks them for update in the same
    order. Without that order the insert's foreign keys lock the sender's row
    after the friendship row, the reverse of a block, and they deadlock (1213)."""
    a, b = friends(clients)
    ia, ib = user_row(stack, a.name)["id"], user_row(stack, b.name)["id"]
    counters = itertools.count(1)
    senders = [a.client.copy() for _ in range(6)]
    acked, answers = {}, []
    marks = log_marks(stack)

    def sender(c):
        def go():
            out = []
            for _ in range(3):
                n = next(counters)
                r = c.post("/api/messages", message_body(a, b, n))
                out.append((n, r))
            return out
        return go

    for rnd in range(8):
        # The test is about locks, not limits: the DB owner refills the bucket.
        sql(stack, f"UPDATE rate_limits SET tat = NOW(6) - INTERVAL 1 HOUR WHERE user_id = {ia}")
        ender = (lambda: b.client.post(f"/api/blocks/{a.name}")) if rnd % 2 == 0 else \
            (lambda: b.client.delete(f"/api/friends/{a.name}"))
        *sent, ended = at_once(*[sender(c) for c in senders], ender)
        assert ended.status_code in (200, 201, 204), ended.text
        for out in sent:
            for n, r in out:
                answers.append(r)
                assert r.status_code in (201, 403), (r.status_code, r.text)
                if r.status_code == 201:
                    acked[n] = r.json()["id"]
                elif r.status_code == 403:
                    assert r.json()["error"] in ("not_friends", "blocked"), r.text
        # Nothing is left between them, and nothing was stored after the end.
        assert sql(stack, f"SELECT COUNT(*) FROM friendships WHERE user_id IN ({ia}, {ib})").strip() == "0"
        if rnd % 2 == 0:
            assert b.client.delete(f"/api/blocks/{a.name}").status_code == 204
        a.befriend(b)
    assert_no_failure(answers)
    stored = {int(c): int(i) for c, i in (line.split() for line in
              sql(stack, f"SELECT counter, id FROM messages WHERE sender_id = {ia}").splitlines())}
    # Every acknowledged message is there, under the id it was given.
    assert all(stored.get(n) == i for n, i in acked.items()), (acked, stored)
    assert len(acked) > 0
    assert_no_fault_logged(logged_since(marks))


def test_a_send_waits_for_a_block_in_lock_order_instead_of_deadlocking(clients, stack):
    """The DB owner plays a block step by step, as its pair lock takes the
    rows: the lower user id for update, then (while a send from the higher id
    waits) the higher one, then the friendship's delete. The send must wait
    for the lower row before it holds the higher one. Its insert's foreign
    keys alone would lock the sender's row first, then the recipient's: the
    reverse order here, and the block and the send would deadlock (1213)."""
    lo, hi = friends(clients)	# made in this order: lo has the lower id
    ilo, ihi = user_row(stack, lo.name)["id"], user_row(stack, hi.name)["id"]
    assert ilo < ihi
    marks = log_marks(stack)
    held = Held(stack, f"SELECT id FROM users WHERE id = {ilo} FOR UPDATE")
    answer = []
    try:
        sender = threading.Thread(target=lambda: answer.append(hi.send(lo, 1)))
        sender.start()
        # Until the send waits for the row the test holds.
        assert wait_for(lambda: sql(stack, "SELECT COUNT(*) FROM information_schema.INNODB_LOCK_WAITS "
                                           f"WHERE blocking_trx_id = {held.trx}").strip() != "0")
        steps = held.do(f"SELECT id FROM users WHERE id = {ihi} FOR UPDATE")
        steps += held.do(f"DELETE FROM friendships WHERE user_id IN ({ilo}, {ihi}) AND friend_id IN ({ilo}, {ihi})")
        steps += held.commit()
    finally:
        if held.p.poll() is None:
            held.release()
    sender.join(timeout=10)
    assert "ERROR" not in steps, steps	# the block was not a deadlock's victim
    (r,) = answer
    assert_error(r, 403, "not_friends")	# the send saw the block's result
    assert sql(stack, f"SELECT COUNT(*) FROM messages WHERE sender_id = {ihi}").strip() == "0"
    logs = logged_since(marks)
    assert "(1213)" not in logs, logs[-3000:]
    assert_no_fault_logged(logs)


def message_body(a, b, n):
    return message(b.name, a.key_id, b.key_id, n)


def test_a_pair_lock_that_gives_way_on_its_second_row_changes_nothing(clients, stack):
    """The pair lock gets the lower user row, then waits for the higher one,
    which the DB owner holds: the wait ends (1205) after the first row was
    read. That must be seen, not discarded with the rest of the result, or
    the block would go on holding half the pair."""
    lo, hi = friends(clients)
    ilo, ihi = user_row(stack, lo.name)["id"], user_row(stack, hi.name)["id"]
    marks = log_marks(stack)
    held = Held(stack, f"SELECT id FROM users WHERE id = {ihi} FOR UPDATE")
    try:
        r = lo.client.post(f"/api/blocks/{hi.name}")
    finally:
        held.release()
    assert_error(r, 503, "db_unavailable")
    assert r.headers.get("retry-after")
    assert sql(stack, f"SELECT COUNT(*) FROM blocks WHERE user_id = {ilo}").strip() == "0"
    assert sql(stack, f"SELECT COUNT(*) FROM friendships WHERE user_id = {ilo}").strip() == "1"
    logs = logged_since(marks, "statement pair_lock gave way")
    assert "statement pair_lock gave way" in logs and "(1205)" in logs, logs[-2000:]
    # Once the row is free, the same block goes through.
    assert lo.client.post(f"/api/blocks/{hi.name}").status_code == 201
