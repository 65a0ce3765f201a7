"""The race layer: the purge (fcgi/proc/purge.c) beside live users.

Expired rows go every CHATD_PURGE_INTERVAL seconds (2 s on the test stack),
deleted by a process of each pool's own, with no request at all. The purge
never waits for a row a request holds: while the test holds a live user's rows
FOR UPDATE, placed where a range DELETE's scan would end on them (the first
live rows past each expiry's range), it still removes every expired row around
them, logs no lock wait and no error, and the user's requests answer as usual.
Every pick reads its expiry's index, and every write that finds a row by its
key uses that key, never the expiry's index (EXPLAIN)."""
import re
import secrets
import subprocess
import time
from pathlib import Path

from accounts import user_row
from chat import quote, sql, sql_rows, statements, strong_password, unique_name
from race import Held, log_marks, logged_since

ROOT = Path(__file__).resolve().parents[2]
# The test stack's lifetimes (chatd's defaults) and THROTTLE_RECENT (fcgi/sec/throttle.h).
IDLE, MAX, ENROL_TTL, RECENT = 1800, 43200, 900, 3600


def interval(stack):
    return int(stack.get("CHAT_PURGE_INTERVAL", "60"))


def seed(stack, tag, n):
    """n expired rows of each kind the purge deletes, and a few live ones
    beside them, all marked with tag, inserted by the database's owner:
    sessions idle too long, and sessions past their absolute lifetime though
    used a minute ago, of 20 users of their own; enrolments, MFA tickets,
    CAPTCHAs and address failures past their time; registrations never
    confirmed, with their enrolments. At READ COMMITTED, so its INSERT ...
    SELECTs read users without locking them: a small table is scanned whole,
    and a scan at REPEATABLE READ would wait for the rows a test holds."""
    users = f"'pg_{tag}_'"
    sql(stack, f"""
        SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED;
        INSERT INTO users (username, password_hash, totp_sealed, active)
            SELECT CONCAT({users}, seq), 'x', '', 1 FROM seq_0_to_19;
        INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, user_agent)
            SELECT UNHEX(SHA2(CONCAT('{tag}i', seq), 256)), u.id, NOW(6) - INTERVAL 2 HOUR,
                   NOW(6) - INTERVAL ({IDLE} + seq) SECOND, 'purge {tag} expired'
            FROM seq_1_to_{n} JOIN users u ON u.username = CONCAT({users}, seq % 20);
        INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, user_agent)
            SELECT UNHEX(SHA2(CONCAT('{tag}m', seq), 256)), u.id, NOW(6) - INTERVAL ({MAX} + seq) SECOND,
                   NOW(6) - INTERVAL 1 MINUTE, 'purge {tag} expired'
            FROM seq_1_to_{n} JOIN users u ON u.username = CONCAT({users}, seq % 20);
        INSERT INTO sessions (token_hash, user_id, user_agent)
            SELECT UNHEX(SHA2(CONCAT('{tag}l', seq), 256)), u.id, 'purge {tag} live'
            FROM seq_0_to_19 JOIN users u ON u.username = CONCAT({users}, seq);
        INSERT INTO enrolments (token_hash, user_id, purpose, totp_sealed, expires_at)
            SELECT UNHEX(SHA2(CONCAT('{tag}e', seq), 256)), u.id, 'rebind', '',
                   IF(seq <= {n}, NOW(6) - INTERVAL seq SECOND, NOW(6) + INTERVAL 10 MINUTE)
            FROM seq_1_to_{n + 5} JOIN users u ON u.username = CONCAT({users}, seq % 20);
        INSERT INTO mfa_tickets (ticket_hash, username, password_ok, recovery_only, expires_at)
            SELECT UNHEX(SHA2(CONCAT('{tag}t', seq), 256)), IF(seq <= {n}, 'pt_{tag}_x', 'pt_{tag}_l'),
                   1, 0, IF(seq <= {n}, NOW(6) - INTERVAL seq SECOND, NOW(6) + INTERVAL 5 MINUTE)
            FROM seq_1_to_{n + 5};
        INSERT INTO captchas (id, answer, expires_at)
            SELECT CONCAT('{tag}', LPAD(HEX(seq), 24, '0')), IF(seq <= {n}, 'old', 'new'),
                   IF(seq <= {n}, NOW(6) - INTERVAL seq SECOND, NOW(6) + INTERVAL 5 MINUTE)
            FROM seq_1_to_{n + 5};
        INSERT INTO login_addr_failures (ip, failures, failed_at)
            SELECT CONCAT('{tag}-', IF(seq <= {n}, 'old', 'new'), '-', seq), 1,
                   IF(seq <= {n}, NOW(6) - INTERVAL ({RECENT} + seq) SECOND, NOW(6))
            FROM seq_1_to_{n + 5};
        INSERT INTO users (username, password_hash, totp_sealed, active, created_at)
            SELECT CONCAT('pp_{tag}_', seq), 'x', '', 0, NOW(6) - INTERVAL ({ENROL_TTL} + seq) SECOND
            FROM seq_1_to_{max(n // 10, 1)};
        INSERT INTO enrolments (token_hash, user_id, purpose, totp_sealed, expires_at)
            SELECT UNHEX(SHA2(CONCAT('{tag}r', id), 256)), id, 'register', '', created_at + INTERVAL {ENROL_TTL} SECOND
            FROM users WHERE username LIKE 'pp\\_{tag}\\_%';
    """)


def counts(stack, tag):
    """What is left of seed(): {kind: (expired rows, live rows)}."""
    row = sql_rows(stack, f"""SELECT
        (SELECT COUNT(*) FROM sessions WHERE user_agent = 'purge {tag} expired'),
        (SELECT COUNT(*) FROM sessions WHERE user_agent = 'purge {tag} live'),
        (SELECT COUNT(*) FROM enrolments e JOIN users u ON u.id = e.user_id
            WHERE u.username LIKE 'pg\\_{tag}\\_%' AND e.expires_at < NOW(6)),
        (SELECT COUNT(*) FROM enrolments e JOIN users u ON u.id = e.user_id
            WHERE u.username LIKE 'pg\\_{tag}\\_%' AND e.expires_at > NOW(6)),
        (SELECT COUNT(*) FROM mfa_tickets WHERE username = 'pt_{tag}_x'),
        (SELECT COUNT(*) FROM mfa_tickets WHERE username = 'pt_{tag}_l'),
        (SELECT COUNT(*) FROM captchas WHERE id LIKE '{tag}%' AND answer = 'old'),
        (SELECT COUNT(*) FROM captchas WHERE id LIKE '{tag}%' AND answer = 'new'),
        (SELECT COUNT(*) FROM login_addr_failures WHERE ip LIKE '{tag}-old-%'),
        (SELECT COUNT(*) FROM login_addr_failures WHERE ip LIKE '{tag}-new-%'),
        (SELECT COUNT(*) FROM users WHERE username LIKE 'pp\\_{tag}\\_%'),
        (SELECT COUNT(*) FROM enrolments e JOIN users u ON u.id = e.user_id
            WHERE u.username LIKE 'pp\\_{tag}\\_%'),
        (SELECT COUNT(*) FROM users WHERE username LIKE 'pg\\_{tag}\\_%')""")[0]
    n = [int(v) for v in row]
    return {"sessions": (n[0], n[1]), "enrolments": (n[2], n[3]), "mfa_tickets": (n[4], n[5]),
            "captchas": (n[6], n[7]), "login_addr_failures": (n[8], n[9]),
            "pending users": (n[10], 0), "their enrolments": (n[11], 0), "users": (0, n[12])}


# The live rows seed() makes, by kind.
LIVE = {"sessions": 20, "enrolments": 5, "mfa_tickets": 5, "captchas": 5, "login_addr_failures": 5,
        "pending users": 0, "their enrolments": 0, "users": 20}


def unseed(stack, tag):
    sql(stack, f"""DELETE FROM users WHERE username LIKE 'pg\\_{tag}\\_%' OR username LIKE 'pp\\_{tag}\\_%'
                   OR username = 'pl_{tag}';
        DELETE FROM mfa_tickets WHERE username LIKE 'pt\\_{tag}\\_%';
        DELETE FROM captchas WHERE id LIKE '{tag}%';
        DELETE FROM login_addr_failures WHERE ip LIKE '{tag}-%'""")


def wait_until_purged(stack, tag, seconds, during=lambda: None):
    """Calls during() every 0.2 s until no expired row of tag is left (or the
    time is up); the seconds it took, or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        during()
        if all(expired == 0 for expired, _ in counts(stack, tag).values()):
            return time.monotonic() - t0
        time.sleep(0.2)
    return None


def purge_pids(stack):
    """The purge process of each pool: the supervisor's child named chatd-purge."""
    pids = set()
    for pool in stack["CHAT_POOLS"].split():
        sup = (Path(stack["CHAT_STACK_DIR"]) / "run" / f"chatd-{pool}.pid").read_text().strip()
        out = subprocess.run(["pgrep", "-x", "-P", sup, "chatd-purge"], capture_output=True, text=True).stdout
        pids |= {int(p) for p in out.split()}
    return pids


def removed_per_table(logs):
    """{table: rows} summed over the purge's log lines."""
    total = {}
    for line in logs.splitlines():
        if " purge: removed " in line:
            for table, n in re.findall(r"(\w+)=(\d+)", line.split(" purge: removed ", 1)[1]):
                total[table] = total.get(table, 0) + int(n)
    return total


def test_the_purge_removes_expired_rows_beside_a_live_user_whose_rows_are_locked(clients, stack):
    tag = secrets.token_hex(4)
    c = clients()
    user = c.new_user()
    uid = user.id
    (sid,) = sql(stack, f"SELECT id FROM sessions WHERE user_id = {uid}").split()
    marks = log_marks(stack)
    # Live rows where a range DELETE would stop: a second session of the user,
    # the oldest live one by both clocks, and a registration in progress, the
    # oldest pending one still within its time. Each expires in two minutes.
    sql(stack, f"""INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, user_agent)
            VALUES (UNHEX(SHA2('{tag}edge', 256)), {uid}, NOW(6) - INTERVAL {MAX - 120} SECOND,
                    NOW(6) - INTERVAL {IDLE - 120} SECOND, 'purge {tag} live');
        INSERT INTO users (username, password_hash, totp_sealed, active, created_at)
            VALUES ('pl_{tag}', 'x', '', 0, NOW(6) - INTERVAL {ENROL_TTL - 120} SECOND);
        INSERT INTO sessions (token_hash, user_id, last_seen_at, user_agent)
            VALUES (UNHEX(SHA2('{tag}own', 256)), {uid}, NOW(6) - INTERVAL 2 DAY, 'purge {tag} expired')""")
    edge = sql(stack, f"SELECT id FROM sessions WHERE token_hash = UNHEX(SHA2('{tag}edge', 256))")
    pending = user_row(stack, f"pl_{tag}")["id"]
    # Presence is fresh, so the user's requests write nothing of the held
    # rows: the session they use is not held (each request's touch statement
    # takes its own session's row lock, due or not).
    sql(stack, f"UPDATE users SET seen_at = NOW(6) WHERE id = {uid}")
    answers = []

    def ask():
        t = time.monotonic()
        r = c.get("/api/me")
        answers.append((r.status_code, time.monotonic() - t))

    try:
        held = Held(stack, f"SELECT id FROM users WHERE id IN ({uid}, {pending}) FOR UPDATE; "
                           f"SELECT id FROM sessions WHERE id = {edge} FOR UPDATE")
        try:
            seed(stack, tag, 500)       # every one of them expires while the rows are held
            took = wait_until_purged(stack, tag, 3 * interval(stack) + 10, during=ask)
            during = counts(stack, tag)
        finally:
            held.release()

        assert took is not None, f"expired rows left while the rows were held: {counts(stack, tag)}"
        assert {kind: live for kind, (_, live) in during.items()} == LIVE | {"sessions": 21}, during
        assert int(sql(stack, f"SELECT COUNT(*) FROM sessions WHERE id IN ({sid}, {edge})")) == 2
        assert user_row(stack, f"pl_{tag}") is not None and user_row(stack, user.username) is not None
        # The user's requests answered as usual all along, none after a lock
        # wait (which lasts CHATD_DB_TIMEOUT - 1 = 2 s and answers 503).
        assert answers and all(status == 200 for status, _ in answers), answers
        assert max(t for _, t in answers) < 2.0, answers
        # No lock wait, no error, and the counts in the log lines.
        logs = logged_since(marks, "purge: removed", timeout=1)
        pids = purge_pids(stack)
        assert len(pids) == len(stack["CHAT_POOLS"].split()), pids
        theirs = [line for line in logs.splitlines() if any(f"chatd[{p}]" in line for p in pids)]
        assert [line for line in theirs if " warn " in line or " error " in line] == [], theirs
        assert "gave way" not in logs and "(1205)" not in logs and "(1213)" not in logs, logs[-2000:]
        removed = removed_per_table(logs)
        assert removed.get("sessions", 0) >= 1001 and removed.get("captchas", 0) >= 500, removed
        assert removed.get("users", 0) >= 50 and removed.get("mfa_tickets", 0) >= 500, removed
        print(f"purged beside the held rows in {took:.1f} s; removed {removed}")
    finally:
        unseed(stack, tag)
    # And once the rows are free, the user carries on.
    assert c.get("/api/me").status_code == 200


def test_expired_rows_go_with_no_request_at_all(stack):
    tag = secrets.token_hex(4)
    marks = log_marks(stack)
    try:
        seed(stack, tag, 50)
        took = wait_until_purged(stack, tag, 3 * interval(stack) + 10)
        assert took is not None, counts(stack, tag)
        logs = logged_since(marks, "purge: removed", timeout=1)
        assert "purge: removed" in logs
        # Nobody asked: not one request reached chatd meanwhile.
        assert re.findall(r"rid=\w+ .*", logs) == []
        left = counts(stack, tag)
        assert {kind: live for kind, (_, live) in left.items()} == LIVE, left
    finally:
        unseed(stack, tag)


def test_a_registration_frees_its_own_expired_name_and_no_other(private_chatd, stack):
    # 10 s on this chatd; 60 s old is live for the stack's (900 s) purge.
    d = private_chatd(CHATD_ENROL_TTL=10, CHATD_BCRYPT_COST=4)
    mine, other = unique_name("pm"), unique_name("po")
    sql(stack, "INSERT INTO users (username, password_hash, totp_sealed, active, created_at) VALUES "
               f"({quote(mine)}, 'x', '', 0, NOW(6) - INTERVAL 60 SECOND), "
               f"({quote(other)}, 'x', '', 0, NOW(6) - INTERVAL 60 SECOND)")
    old = user_row(stack, mine)["id"]
    try:
        r = d.client().register(mine, strong_password())
        assert r.status_code == 201, r.text
        assert user_row(stack, mine)["id"] != old
        # The request freed that name, by that name; the other waits for the purge.
        assert user_row(stack, other) is not None
    finally:
        sql(stack, f"DELETE FROM users WHERE username IN ({quote(mine)}, {quote(other)})")


# --- EXPLAIN: each purge reads its index, each keyed write its key -----------------------------

# A pick and the index it must read a range of.
PICKS = {
    "STMT_PURGE_CAPTCHA_PICK": "captchas_expiry",
    "STMT_PURGE_TICKET_PICK": "mfa_tickets_expiry",
    "STMT_PURGE_ENROL_PICK": "enrolments_expiry",
    "STMT_PURGE_PENDING_PICK": "users_pending",
    "STMT_PURGE_IDLE_PICK": "sessions_last_seen",
    "STMT_PURGE_OLD_PICK": "sessions_created",
    "STMT_PURGE_ADDR_PICK": "login_addr_failures_at",
}
# A write that finds one row by a key: the key, and its parameters (the row
# is the long-expired one of explain_rows(); AGE is a cutoff five years ago).
AGE = str(5 * 365 * 86400)
KEYED = {
    "STMT_PURGE_CAPTCHA_DROP": ("PRIMARY", ["@captcha", AGE]),
    "STMT_PURGE_TICKET_DROP": ("PRIMARY", ["@ticket", AGE]),
    "STMT_PURGE_ENROL_DROP": ("PRIMARY", ["@enrolment", AGE]),
    "STMT_USER_PURGE_PENDING_ONE": ("PRIMARY", ["@pending", AGE]),
    "STMT_USER_PURGE_PENDING_NAME": ("users_username", ["@pending_name", AGE]),
    "STMT_PURGE_IDLE_DROP": ("PRIMARY", ["@session", AGE]),
    "STMT_PURGE_OLD_DROP": ("PRIMARY", ["@session", AGE]),
    "STMT_SESSION_TOUCH": ("PRIMARY", ["@session"]),
    # a request's seen marks: the user's row, then the session's, each by its key
    "STMT_SESSION_SEEN": (("PRIMARY", "PRIMARY"), ["@session", "1", "1", "@session_user"]),
    "STMT_USER_ACTIVATE": ("PRIMARY", ["1", "@pending"]),
    "STMT_PURGE_ADDR_DROP": ("PRIMARY", ["@addr", AGE]),
}


def explain_rows(tag):
    """300 live rows of each kind and one that expired ten years ago, the only
    one past a cutoff of five years; @variables name the old one's key."""
    return f"""
        INSERT INTO users (username, password_hash, totp_sealed, active)
            SELECT CONCAT('pg_{tag}_', seq), 'x', '', 1 FROM seq_0_to_299;
        INSERT INTO users (username, password_hash, totp_sealed, active, created_at)
            VALUES ('pl_{tag}', 'x', '', 0, NOW(6) - INTERVAL 10 YEAR);
        INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at)
            SELECT UNHEX(SHA2(CONCAT('{tag}s', seq), 256)), u.id,
                   NOW(6) - INTERVAL IF(seq = 0, 10, 0) YEAR, NOW(6) - INTERVAL IF(seq = 0, 10, 0) YEAR
            FROM seq_0_to_299 JOIN users u ON u.username = CONCAT('pg_{tag}_', seq);
        INSERT INTO enrolments (token_hash, user_id, purpose, totp_sealed, expires_at)
            SELECT UNHEX(SHA2(CONCAT('{tag}e', seq), 256)), u.id, 'rebind', '',
                   NOW(6) + INTERVAL IF(seq = 0, -10, 1) YEAR
            FROM seq_0_to_299 JOIN users u ON u.username = CONCAT('pg_{tag}_', seq);
        INSERT INTO mfa_tickets (ticket_hash, username, password_ok, recovery_only, expires_at)
            SELECT UNHEX(SHA2(CONCAT('{tag}t', seq), 256)), 'pt_{tag}_x', 1, 0,
                   NOW(6) + INTERVAL IF(seq = 0, -10, 1) YEAR FROM seq_0_to_299;
        INSERT INTO captchas (id, answer, expires_at)
            SELECT CONCAT('{tag}', LPAD(HEX(seq), 24, '0')), 'x', NOW(6) + INTERVAL IF(seq = 0, -10, 1) YEAR
            FROM seq_0_to_299;
        INSERT INTO login_addr_failures (ip, failures, failed_at)
            SELECT CONCAT('{tag}-', seq), 1, NOW(6) - INTERVAL IF(seq = 0, 10, 0) YEAR FROM seq_0_to_299;
        SET @captcha = CONCAT('{tag}', LPAD('0', 24, '0')),
            @ticket = HEX(UNHEX(SHA2('{tag}t0', 256))), @enrolment = HEX(UNHEX(SHA2('{tag}e0', 256))),
            @pending = (SELECT id FROM users WHERE username = 'pl_{tag}'), @pending_name = 'pl_{tag}',
            @session = (SELECT id FROM sessions WHERE token_hash = UNHEX(SHA2('{tag}s0', 256))),
            @session_user = (SELECT user_id FROM sessions WHERE token_hash = UNHEX(SHA2('{tag}s0', 256))),
            @addr = '{tag}-0';"""


def explain_all(stack, setup, queries):
    """EXPLAIN of each (`?` statement, its parameters), in one transaction that
    first runs setup and is rolled back at the end: the purge never sees its
    rows (a consistent read sees only what was committed), EXPLAIN does.
    A plan is [{column: value}] per row."""
    script = ["SET time_zone = '+00:00'; START TRANSACTION;", setup]
    for query, params in queries:
        for p in params:
            query = query.replace("?", p, 1)
        assert "?" not in query, query
        script.append(f"EXPLAIN {query};")
    script.append("ROLLBACK;")
    out = subprocess.run(["mariadb", "--no-defaults", f"--socket={stack['CHAT_DB_SOCKET']}", "-u", "root",
                          "--batch", stack.get("CHAT_DB_NAME", "chat")], input="\n".join(script),
                         capture_output=True, text=True, timeout=60, check=True).stdout.splitlines()
    plans = []
    for line in out:
        cells = line.split("\t")
        if cells[:2] == ["id", "select_type"]:
            head = cells
            plans.append([])
        else:
            plans[-1].append(dict(zip(head, cells)))
    assert len(plans) == len(queries), out
    return plans


def test_each_pick_reads_its_expiry_index_and_each_keyed_write_its_key(stack):
    """With one row past a cutoff among many live ones, as the purge keeps
    every expiry's range, MariaDB 10.11 costs that range like a key: a write
    that finds its row by a key must name the key (FORCE INDEX), or it may
    lock the range and the live row past it."""
    tag = secrets.token_hex(4)
    sqls = statements()
    names = list(PICKS) + list(KEYED)
    assert all(name in sqls for name in names), [name for name in names if name not in sqls]
    queries = [(sqls[name], [AGE, "200"]) for name in PICKS] + [(sqls[name], KEYED[name][1]) for name in KEYED]
    plans = dict(zip(names, explain_all(stack, explain_rows(tag), queries)))
    for name, index in PICKS.items():
        (plan,) = plans[name]
        assert plan["key"] == index and plan["type"] == "range", (name, plan)
        assert "Using index" in plan["Extra"], (name, plan)      # the index alone: no row is read
        print(f"{name}: {plan['type']} on {plan['key']}, rows {plan['rows']}, {plan['Extra']}")
    for name, (index, _) in KEYED.items():
        keys = index if isinstance(index, tuple) else (index,)     # one per table, in join order
        assert [row["key"] for row in plans[name]] == list(keys), (name, plans[name])
        for plan in plans[name]:
            assert plan["type"] in ("const", "range") and plan["rows"] == "1", (name, plan)
            print(f"{name}: {plan['table']}: {plan['type']} on {plan['key']}, rows {plan['rows']}")
