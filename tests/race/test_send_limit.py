"""The race layer: one user's sends at once. A send is one statement whose
trigger takes the sender's rate row (made if missing) after the two user
rows: a new user's first sends at once are all stored (none refused for a
row that did not exist yet), and a flood past the limit stores exactly the
burst and refuses the rest 429, every acknowledged id stored once."""
from chat import friends, message, sql
from race import assert_no_fault_logged, at_once, log_marks, logged_since

BURST = 60      # CHATD_SEND_BURST's default, which the test stack keeps


def flood(a, b, n, first_counter=1):
    """n sends from copies of a's session released at the same moment."""
    senders = [a.client.copy() for _ in range(n)]
    return at_once(*[lambda c=c, i=i: c.post("/api/messages", message(b.name, a.key_id, b.key_id,
                                                                     first_counter + i))
                     for i, c in enumerate(senders)])


def stored(stack, a, b):
    return set(map(int, sql(stack, f"SELECT id FROM messages WHERE sender_id = {a.user.id} "
                                   f"AND recipient_id = {b.user.id}").split()))


def test_a_new_users_first_sends_at_once_are_all_stored(clients, stack):
    a, b = friends(clients)
    assert sql(stack, f"SELECT COUNT(*) FROM rate_limits WHERE user_id = {a.user.id} AND action = 'send'") == "0"
    marks = log_marks(stack)
    answers = flood(a, b, 20)
    assert [r.status_code for r in answers] == [201] * 20, [(r.status_code, r.text) for r in answers]
    assert stored(stack, a, b) == {r.json()["id"] for r in answers}
    assert_no_fault_logged(logged_since(marks))


def test_a_flood_past_the_limit_stores_the_burst_and_refuses_the_rest(clients, stack):
    a, b = friends(clients)
    marks = log_marks(stack)
    answers = flood(a, b, BURST + 30)
    codes = [r.status_code for r in answers]
    assert set(codes) <= {201, 429}, [(r.status_code, r.text) for r in answers if r.status_code not in (201, 429)]
    ok = [r.json()["id"] for r in answers if r.status_code == 201]
    # The burst, and at most a few tokens that came back while the flood ran (one per 0.5 s).
    assert BURST <= len(ok) <= BURST + 6, len(ok)
    for r in answers:
        if r.status_code == 429:
            assert r.json()["error"] == "rate_limited" and int(r.headers["retry-after"]) >= 1
    assert stored(stack, a, b) == set(ok) and len(set(ok)) == len(ok)
    assert_no_fault_logged(logged_since(marks))
