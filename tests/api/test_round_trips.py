"""The hot paths' cost is their round trips to MariaDB, counted exactly from
the server's own status counters: a poll and a page are two statements (the
session with the peer it names; the page with its markers), a send is two
and one commit (the session with the peer; one INSERT ... SELECT ...
RETURNING whose trigger takes the rate step), none of them opens a
transaction or resets a statement, and the session and presence marks are
written only when due. The page reads each direction from the pair index
(EXPLAIN), whatever the table's size."""
from chat import friends, message, sql_rows, statements

COUNTERS = ("Com_stmt_execute", "Com_stmt_reset", "Com_stmt_prepare", "Com_begin", "Com_commit",
            "Com_rollback", "Com_stmt_send_long_data")


def counters(stack):
    names = ", ".join(f"'{c}'" for c in COUNTERS)
    return {k: int(v) for k, v in sql_rows(stack, f"SHOW GLOBAL STATUS WHERE Variable_name IN ({names})")}


def cost(stack, fn, tries=5, setup=None):
    """The statements one call of fn makes: the least over a few tries (each
    after setup), as the purge process (every 2 s here) may run between two
    readings."""
    best = None
    for _ in range(tries):
        if setup is not None:
            setup()
        before = counters(stack)
        fn()
        after = counters(stack)
        d = {k: after[k] - before[k] for k in COUNTERS}
        if best is None or sum(d.values()) < sum(best.values()):
            best = d
    return best


def only(executes):
    return {k: executes if k == "Com_stmt_execute" else 0 for k in COUNTERS}


def test_a_poll_and_a_page_are_two_statements_each(clients, stack):
    a, b = friends(clients)
    newest = [a.send(b, i).json()["id"] for i in range(1, 61)][-1]

    def poll():
        r = b.history(a, after=newest)
        assert r.status_code == 200 and r.json()["messages"] == [], r.text

    def page():
        r = b.history(a, limit=50)
        assert r.status_code == 200 and len(r.json()["messages"]) == 50 and r.json()["more"] is True, r.text

    assert cost(stack, poll) == only(2)
    assert cost(stack, page) == only(2)


def test_a_send_is_two_statements_and_one_commit_without_a_transaction(clients, stack):
    a, b = friends(clients)
    counter = iter(range(1, 100))

    def send():
        r = a.client.post("/api/messages", message(b.name, a.key_id, b.key_id, next(counter)))
        assert r.status_code == 201, r.text
    assert cost(stack, send) == only(2)


def test_the_marks_are_one_statement_and_only_when_due(clients, stack):
    a, b = friends(clients)

    def age():
        """The DB owner makes the session's and the user's last use old: both due."""
        sql_rows(stack, f"UPDATE sessions SET last_seen_at = NOW(6) - INTERVAL 300 SECOND WHERE user_id = {a.user.id}")
        sql_rows(stack, f"UPDATE users SET seen_at = NOW(6) - INTERVAL 30 SECOND WHERE id = {a.user.id}")

    def me():
        assert a.client.get("/api/me").status_code == 200
    due = cost(stack, me, setup=age)
    ((seen, fresh),) = sql_rows(stack, f"SELECT s.last_seen_at > NOW(6) - INTERVAL 5 SECOND, "
                                       f"u.seen_at > NOW(6) - INTERVAL 5 SECOND FROM sessions s "
                                       f"JOIN users u ON u.id = s.user_id WHERE s.user_id = {a.user.id}")
    assert (seen, fresh) == ("1", "1")
    # Not due any more: the same request makes one statement fewer, and
    # both marks were one statement, outside any transaction.
    assert due == {**only(due["Com_stmt_execute"])}, due
    assert cost(stack, me) == only(due["Com_stmt_execute"] - 1), due


def explain(stack, query, params):
    for p in params:
        query = query.replace("?", str(p), 1)
    assert "?" not in query
    out = sql_rows(stack, f"EXPLAIN {query}")
    return [dict(zip(("id", "select_type", "table", "type", "possible_keys", "key", "key_len", "ref", "rows",
                      "Extra"), row)) for row in out]


def test_each_direction_of_a_page_reads_the_pair_index(clients, stack):
    a, b = friends(clients)
    sqls = statements()
    for name in ("STMT_MESSAGES_NEWEST", "STMT_MESSAGES_OLDEST"):
        # Named, not left to the optimiser: in a large table it walks the
        # primary key backwards instead (make bench, fetch-50 at 10^6 rows).
        assert sqls[name].count("FORCE INDEX (messages_pair)") == 2, name
        params = [a.user.id, b.user.id, b.user.id, a.user.id, b.user.id, a.user.id,
                  a.user.id, b.user.id, 0, 2 ** 53, 51, b.user.id, a.user.id, 0, 2 ** 53, 51, 51]
        plan = [row for row in explain(stack, sqls[name], params) if row["table"] == "messages"]
        assert len(plan) == 2 and all(row["key"] == "messages_pair" and row["type"] == "range" for row in plan), \
            (name, plan)
