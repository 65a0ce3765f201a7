/*
 * stmt: the text of every SQL statement chatd prepares, and its name (see
 * stmt.h). What each statement guarantees under concurrency is said beside
 * it; the typed function that runs it is in fcgi/store/.
 */
#include <ctype.h>
#include <stddef.h>

#include "stmt.h"

#define ISO "'%Y-%m-%dT%H:%i:%sZ'"
/* The markers of a page: caller (first `?`) and peer (second). */
#define MARKERS "(SELECT (SELECT read_upto FROM read_markers WHERE user_id = ? AND peer_id = ?) AS r, " \
	"(SELECT delivered_upto FROM read_markers WHERE user_id = ? AND peer_id = ?) AS pd, " \
	"(SELECT read_upto FROM read_markers WHERE user_id = ? AND peer_id = ?) AS pr) k"
#define MARKER_COLS "COALESCE(k.r, 0), COALESCE(k.pd, 0), COALESCE(k.pr, 0)"
#define MSG_COLS "id, sender_id, recipient_id, kind, sender_key_id, recipient_key_id, epoch, counter, " \
	"iv, ciphertext, mac, mac2, DATE_FORMAT(created_at, " ISO ") AS created"

/*
 * FORCE INDEX: a write that finds its row by a key names that key whenever
 * the row's expiry has an index too (0006_purge_indexes.sql). With few rows
 * in the expiry's range, as the purge keeps it, MariaDB 10.11 costs that
 * range like the key, and may take it: it would then lock every row of the
 * range and the live row past it. A single-table DELETE takes no index hint,
 * so those are written as DELETE alias FROM table alias.
 */
static const char *const sql[STMT__MAX] = {
	[STMT_PING] = "SELECT 1",

	[STMT_CAPTCHA_INSERT] = "INSERT INTO captchas (id, answer, expires_at) "
	    "VALUES (?, ?, NOW(6) + INTERVAL ? SECOND)",
	/* Taken by the first attempt, right or wrong. */
	[STMT_CAPTCHA_TAKE] = "DELETE FROM captchas WHERE id = ? RETURNING answer, expires_at > NOW(6)",

	/* A name whose registration was never confirmed in time is free again
	 * at once, not when the purge comes: that one row, by the name's index. */
	[STMT_USER_PURGE_PENDING_NAME] = "DELETE u FROM users u FORCE INDEX (users_username) "
	    "WHERE u.username = ? AND u.active = 0 AND u.created_at < NOW(6) - INTERVAL ? SECOND",
	/* One pending account past its enrolment time (login finds it; the purge
	 * drops each one it picked): by primary key, that row alone. */
	[STMT_USER_PURGE_PENDING_ONE] = "DELETE u FROM users u FORCE INDEX (PRIMARY) "
	    "WHERE u.id = ? AND u.active = 0 AND u.created_at < NOW(6) - INTERVAL ? SECOND",
	[STMT_USER_INSERT] = "INSERT INTO users (username, password_hash, totp_sealed) VALUES (?, ?, ?)",
	[STMT_USER_BY_NAME] = "SELECT id, username, password_hash, totp_sealed, totp_last_step, active "
	    "FROM users WHERE username = ?",
	[STMT_USER_BY_ID] = "SELECT id, username, password_hash, totp_sealed, totp_last_step, active "
	    "FROM users WHERE id = ?",
	[STMT_USER_ACTIVATE] = "UPDATE users FORCE INDEX (PRIMARY) SET active = 1, totp_last_step = ? "
	    "WHERE id = ? AND active = 0",
	/* Replay protection in one statement: only a later time step is taken. */
	[STMT_USER_SET_STEP] = "UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?",
	[STMT_USER_SET_PASSWORD] = "UPDATE users SET password_hash = ? WHERE id = ?",
	/* A new secret keeps the used steps: a code used to bind it is not taken again. */
	[STMT_USER_SET_TOTP] = "UPDATE users SET totp_sealed = ?, totp_last_step = GREATEST(totp_last_step, ?) "
	    "WHERE id = ?",

	[STMT_ENROL_INSERT] = "INSERT INTO enrolments (token_hash, user_id, purpose, totp_sealed, expires_at) "
	    "VALUES (?, ?, ?, ?, NOW(6) + INTERVAL ? SECOND)",
	[STMT_ENROL_GET] = "SELECT e.user_id, e.purpose, e.totp_sealed, u.username FROM enrolments e "
	    "JOIN users u ON u.id = e.user_id WHERE e.token_hash = ? AND e.expires_at > NOW(6)",
	[STMT_ENROL_DELETE] = "DELETE FROM enrolments WHERE token_hash = ?",
	[STMT_ENROL_DELETE_REBIND] = "DELETE FROM enrolments WHERE user_id = ? AND purpose = 'rebind'",
	[STMT_ENROL_DELETE_REGISTER] = "DELETE FROM enrolments WHERE user_id = ? AND purpose = 'register'",

	[STMT_RECOVERY_DELETE_USER] = "DELETE FROM recovery_codes WHERE user_id = ?",
	[STMT_RECOVERY_INSERT] = "INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)",
	[STMT_RECOVERY_USE] = "UPDATE recovery_codes SET used_at = NOW(6) "
	    "WHERE user_id = ? AND code_hash = ? AND used_at IS NULL",
	[STMT_RECOVERY_REMAINING] = "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL",

	[STMT_THROTTLE_GET] = "SELECT failures, hard_locked, COALESCE(CEIL(GREATEST(0, "
	    "TIMESTAMPDIFF(MICROSECOND, NOW(6), locked_until)) / 1000000), 0), "
	    "COALESCE(failed_at > NOW(6) - INTERVAL ? SECOND, 0) FROM login_throttle WHERE username = ?",
	/* The name's row, made if new and locked for update either way: the
	 * first statement of a transaction on it. (INSERT IGNORE would take a
	 * shared lock on an existing row, and two of those wanting it for
	 * update deadlock.) */
	[STMT_THROTTLE_ENSURE] = "INSERT INTO login_throttle (username) VALUES (?) "
	    "ON DUPLICATE KEY UPDATE username = username",
	/* Held while an attempt is admitted or settled, never across bcrypt:
	 * parallel guesses at one name are decided one at a time. The last
	 * column is the attempts being checked now (a stale count is none). */
	[STMT_THROTTLE_LOCK] = "SELECT failures, hard_locked, COALESCE(CEIL(GREATEST(0, "
	    "TIMESTAMPDIFF(MICROSECOND, NOW(6), locked_until)) / 1000000), 0), "
	    "COALESCE(failed_at > NOW(6) - INTERVAL ? SECOND, 0), "
	    "IF(checking_at > NOW(6) - INTERVAL ? SECOND, checking, 0) FROM login_throttle WHERE username = ? "
	    "FOR UPDATE",
	[STMT_THROTTLE_CHECKING] = "UPDATE login_throttle SET checking = "
	    "IF(checking_at > NOW(6) - INTERVAL ? SECOND, checking, 0) + 1, checking_at = NOW(6) WHERE username = ?",
	[STMT_THROTTLE_CHECKED] = "UPDATE login_throttle SET checking = IF(checking > 0, checking - 1, 0) "
	    "WHERE username = ?",
	[STMT_THROTTLE_FAIL] = "INSERT INTO login_throttle (username, failures, failed_at) VALUES (?, 1, NOW(6)) "
	    "ON DUPLICATE KEY UPDATE failures = failures + 1, failed_at = NOW(6) RETURNING failures",
	[STMT_THROTTLE_SET_LOCK] = "UPDATE login_throttle SET locked_until = NOW(6) + INTERVAL ? SECOND, "
	    "hard_locked = ? WHERE username = ?",
	/* A success clears the count and any lock, but not the attempts still
	 * being checked (deleting the row would forget them). */
	[STMT_THROTTLE_RESET] = "UPDATE login_throttle SET failures = 0, locked_until = NULL, hard_locked = 0, "
	    "failed_at = NULL WHERE username = ?",
	/* Per address only the time matters; the count restarts after a quiet window. */
	[STMT_ADDR_FAIL] = "INSERT INTO login_addr_failures (ip, failures, failed_at) VALUES (?, 1, NOW(6)) "
	    "ON DUPLICATE KEY UPDATE failures = IF(failed_at > NOW(6) - INTERVAL ? SECOND, failures + 1, 1), "
	    "failed_at = NOW(6)",
	/* The address's one CAPTCHA-free try per window, taken in one statement
	 * (so tries sent at once cannot all take it): a new or stale row is
	 * (re)written and counts as taken (affected rows > 0); a recent one is
	 * left as it is (0 rows: the CAPTCHA is needed). */
	[STMT_ADDR_CLAIM] = "INSERT INTO login_addr_failures (ip, failures, failed_at) VALUES (?, 0, NOW(6)) "
	    "ON DUPLICATE KEY UPDATE failures = IF(failed_at > NOW(6) - INTERVAL ? SECOND, failures, 0), "
	    "failed_at = IF(failed_at > NOW(6) - INTERVAL ? SECOND, failed_at, NOW(6))",
	[STMT_ADDR_CLEAR] = "DELETE FROM login_addr_failures WHERE ip = ?",
	/* A resumed enrolment ends when the first one would have: never later. */
	[STMT_ENROL_CAP] = "UPDATE enrolments e JOIN users u ON u.id = e.user_id "
	    "SET e.expires_at = LEAST(e.expires_at, u.created_at + INTERVAL ? SECOND) "
	    "WHERE e.user_id = ? AND e.purpose = 'register'",

	[STMT_TICKET_INSERT] = "INSERT INTO mfa_tickets (ticket_hash, username, user_id, password_ok, "
	    "recovery_only, expires_at) VALUES (?, ?, ?, ?, ?, NOW(6) + INTERVAL ? SECOND)",
	[STMT_TICKET_LOCK] = "SELECT username, COALESCE(user_id, 0), password_ok, recovery_only, attempts "
	    "FROM mfa_tickets WHERE ticket_hash = ? AND expires_at > NOW(6) FOR UPDATE",
	[STMT_TICKET_ATTEMPT] = "UPDATE mfa_tickets SET attempts = attempts + 1 WHERE ticket_hash = ?",
	[STMT_TICKET_DELETE] = "DELETE FROM mfa_tickets WHERE ticket_hash = ?",

	[STMT_SESSION_INSERT] = "INSERT INTO sessions (token_hash, user_id, user_agent, ip) VALUES (?, ?, ?, ?)",
	/* A request's session, whether its last use is older than the first `?`
	 * seconds (a write is due), and the user the request names (an active
	 * one; none when the name is NULL): one round trip for both. */
	[STMT_SESSION_GET] = "SELECT s.id, s.user_id, u.username, "
	    "COALESCE(TIMESTAMPDIFF(SECOND, u.seen_at, NOW(6)), 1000000), "
	    "s.last_seen_at < NOW(6) - INTERVAL ? SECOND, COALESCE(p.id, 0), COALESCE(p.username, '') "
	    "FROM sessions s JOIN users u ON u.id = s.user_id "
	    "LEFT JOIN users p ON p.username = ? AND p.active = 1 WHERE s.token_hash = ? "
	    "AND s.last_seen_at > NOW(6) - INTERVAL ? SECOND AND s.created_at > NOW(6) - INTERVAL ? SECOND",
	/* The session's last use, when only it is due (the user's row stays
	 * unlocked) ... */
	[STMT_SESSION_TOUCH] = "UPDATE sessions FORCE INDEX (PRIMARY) SET last_seen_at = NOW(6) WHERE id = ?",
	/* ... or the user's too, each only when due (the first `?` for the
	 * session, the second for the user): one statement, sent only when one
	 * of them is. User row first, as everywhere. */
	[STMT_SESSION_SEEN] = "UPDATE users u STRAIGHT_JOIN sessions s FORCE INDEX (PRIMARY) "
	    "ON s.id = ? AND s.user_id = u.id "
	    "SET s.last_seen_at = IF(?, NOW(6), s.last_seen_at), u.seen_at = IF(?, NOW(6), u.seen_at) "
	    "WHERE u.id = ?",
	[STMT_SESSION_DELETE] = "DELETE FROM sessions WHERE id = ? AND user_id = ?",
	[STMT_SESSION_DELETE_OTHERS] = "DELETE FROM sessions WHERE user_id = ? AND id <> ?",
	/* The last column says which one is the caller's (its id is the first `?`). */
	[STMT_SESSION_LIST] = "SELECT id, DATE_FORMAT(created_at, " ISO "), DATE_FORMAT(last_seen_at, " ISO "), "
	    "user_agent, ip, id = ? FROM sessions WHERE user_id = ? "
	    "AND last_seen_at > NOW(6) - INTERVAL ? SECOND AND created_at > NOW(6) - INTERVAL ? SECOND "
	    "ORDER BY id",

	[STMT_AUDIT_INSERT] = "INSERT INTO audit_log (user_id, event, ip, detail) VALUES (?, ?, ?, ?)",

	[STMT_USER_ACTIVE_BY_NAME] = "SELECT id, username FROM users WHERE username = ? AND active = 1",
	[STMT_USER_NAME_BY_ID] = "SELECT id, username FROM users WHERE id = ?",
	[STMT_USER_LOCK] = "SELECT id FROM users WHERE id = ? FOR UPDATE",
	/* Offline once the user's last live session has ended. */
	[STMT_USER_UNSEEN] = "UPDATE users SET seen_at = NULL WHERE id = ? AND NOT EXISTS (SELECT 1 "
	    "FROM sessions WHERE user_id = ? AND last_seen_at > NOW(6) - INTERVAL ? SECOND "
	    "AND created_at > NOW(6) - INTERVAL ? SECOND)",

	/* Every change between two users takes both user rows, lower id first,
	 * so crossing requests and parallel accepts are decided one at a time. */
	[STMT_PAIR_LOCK] = "SELECT id FROM users WHERE id IN (?, ?) ORDER BY id FOR UPDATE",
	/* What A is to B: friends, A's request to B, B's request to A, A blocks B, B blocks A. */
	[STMT_RELATION] = "SELECT EXISTS(SELECT 1 FROM friendships WHERE user_id = ? AND friend_id = ?), "
	    "COALESCE((SELECT id FROM friend_requests WHERE from_id = ? AND to_id = ?), 0), "
	    "COALESCE((SELECT id FROM friend_requests WHERE from_id = ? AND to_id = ?), 0), "
	    "EXISTS(SELECT 1 FROM blocks WHERE user_id = ? AND blocked_id = ?), "
	    "EXISTS(SELECT 1 FROM blocks WHERE user_id = ? AND blocked_id = ?)",
	[STMT_REQUEST_INSERT] = "INSERT INTO friend_requests (from_id, to_id) VALUES (?, ?)",
	[STMT_REQUEST_GET] = "SELECT from_id, to_id FROM friend_requests WHERE id = ?",
	[STMT_REQUEST_DELETE] = "DELETE FROM friend_requests WHERE id = ? AND from_id = ? AND to_id = ?",
	[STMT_REQUEST_DELETE_PAIR] = "DELETE FROM friend_requests WHERE (from_id = ? AND to_id = ?) "
	    "OR (from_id = ? AND to_id = ?) RETURNING id, from_id",
	[STMT_REQUESTS_IN] = "SELECT r.id, u.id, u.username, DATE_FORMAT(r.created_at, " ISO ") "
	    "FROM friend_requests r JOIN users u ON u.id = r.from_id WHERE r.to_id = ? ORDER BY r.id",
	[STMT_REQUESTS_OUT] = "SELECT r.id, u.id, u.username, DATE_FORMAT(r.created_at, " ISO ") "
	    "FROM friend_requests r JOIN users u ON u.id = r.to_id WHERE r.from_id = ? ORDER BY r.id",
	[STMT_FRIEND_INSERT] = "INSERT INTO friendships (user_id, friend_id) VALUES (?, ?), (?, ?)",
	[STMT_FRIEND_DELETE] = "DELETE FROM friendships WHERE (user_id = ? AND friend_id = ?) "
	    "OR (user_id = ? AND friend_id = ?)",
	[STMT_FRIEND_IDS] = "SELECT friend_id FROM friendships WHERE user_id = ?",
	/* Presence: a request or an event-stream subscription in the last minute.
	 * Unread: text messages from the friend past the caller's read marker. */
	[STMT_FRIEND_LIST] = "SELECT u.id, u.username, DATE_FORMAT(f.created_at, " ISO "), "
	    "COALESCE(u.seen_at > NOW(6) - INTERVAL 60 SECOND, 0), "
	    "COALESCE(DATE_FORMAT(u.seen_at, " ISO "), ''), "
	    "(SELECT COUNT(*) FROM messages m WHERE m.sender_id = f.friend_id AND m.recipient_id = f.user_id "
	    "AND m.kind = 'text' AND m.id > COALESCE((SELECT rm.read_upto FROM read_markers rm "
	    "WHERE rm.user_id = f.user_id AND rm.peer_id = f.friend_id), 0)), "
	    "COALESCE((SELECT MAX(k.id) FROM public_keys k WHERE k.user_id = u.id), 0) "
	    "FROM friendships f JOIN users u ON u.id = f.friend_id WHERE f.user_id = ? ORDER BY u.username",
	[STMT_BLOCK_INSERT] = "INSERT IGNORE INTO blocks (user_id, blocked_id) VALUES (?, ?)",
	[STMT_BLOCK_DELETE] = "DELETE FROM blocks WHERE user_id = ? AND blocked_id = ?",
	[STMT_BLOCK_LIST] = "SELECT u.id, u.username, DATE_FORMAT(b.created_at, " ISO ") FROM blocks b "
	    "JOIN users u ON u.id = b.blocked_id WHERE b.user_id = ? ORDER BY u.username",

	[STMT_KEY_INSERT] = "INSERT INTO public_keys (user_id, jwk) VALUES (?, ?)",
	[STMT_KEY_CURRENT] = "SELECT id, jwk, DATE_FORMAT(created_at, " ISO ") FROM public_keys "
	    "WHERE user_id = ? ORDER BY id DESC LIMIT 1",
	[STMT_KEY_BY_ID] = "SELECT id, jwk, DATE_FORMAT(created_at, " ISO ") FROM public_keys "
	    "WHERE user_id = ? AND id = ?",
	[STMT_KEY_HISTORY] = "SELECT id, jwk, DATE_FORMAT(created_at, " ISO ") FROM public_keys "
	    "WHERE user_id = ? ORDER BY id DESC LIMIT 1000",

	/* Friends?  Is the sender key the sender's, the recipient key the recipient's? */
	[STMT_MESSAGE_CHECK] = "SELECT EXISTS(SELECT 1 FROM friendships WHERE user_id = ? AND friend_id = ?), "
	    "EXISTS(SELECT 1 FROM public_keys WHERE id = ? AND user_id = ?), "
	    "EXISTS(SELECT 1 FROM public_keys WHERE id = ? AND user_id = ?)",
	/*
	 * A send, whole, in one statement and one commit: stored only while the
	 * two are friends and each key is its side's, decided in the statement
	 * that stores it. In lock order (api/friends.h): an INSERT ... SELECT
	 * at REPEATABLE READ reads its source rows with shared locks, so the
	 * straight join takes the lower user row, then the higher, then what
	 * lies between them (the friendship is read through the two rows, so
	 * it cannot be read, and locked, before them; friendships are stored
	 * both ways); the rate step is the messages table's trigger
	 * (0008_send_rate_trigger.sql), on the sender's rate row alone. The new
	 * row comes back (RETURNING): no second read for its time.
	 */
	[STMT_MESSAGE_INSERT] = "INSERT INTO messages (sender_id, recipient_id, kind, sender_key_id, "
	    "recipient_key_id, epoch, counter, iv, ciphertext, mac, mac2) "
	    "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM users lo STRAIGHT_JOIN users hi "
	    "WHERE lo.id = LEAST(?, ?) AND hi.id = GREATEST(?, ?) "
	    "AND EXISTS (SELECT 1 FROM friendships f WHERE f.user_id = lo.id AND f.friend_id = hi.id) "
	    "AND EXISTS (SELECT 1 FROM public_keys k WHERE k.id = ? AND k.user_id = ?) "
	    "AND EXISTS (SELECT 1 FROM public_keys k WHERE k.id = ? AND k.user_id = ?) "
	    "RETURNING id, DATE_FORMAT(created_at, " ISO ")",
	/*
	 * A page of a conversation with its markers, in one statement: each row
	 * starts with the caller's read marker of the peer and the peer's
	 * delivered and read markers of the caller; with no message in the
	 * page, one row of markers alone (message columns NULL). Each direction
	 * is one range of the pair index, named (FORCE INDEX): in a large table
	 * the optimiser would otherwise walk the primary key backwards from the
	 * newest id through everyone's messages. Newest first (no cursor, or
	 * `before`) or oldest first (`after`).
	 */
	[STMT_MESSAGES_NEWEST] = "SELECT " MARKER_COLS ", t.* FROM " MARKERS " LEFT JOIN ("
	    "(SELECT " MSG_COLS " FROM messages FORCE INDEX (messages_pair) WHERE sender_id = ? "
	    "AND recipient_id = ? AND id > ? AND id < ? ORDER BY id DESC LIMIT ?) UNION ALL "
	    "(SELECT " MSG_COLS " FROM messages FORCE INDEX (messages_pair) WHERE sender_id = ? "
	    "AND recipient_id = ? AND id > ? AND id < ? ORDER BY id DESC LIMIT ?)) t ON 1 "
	    "ORDER BY t.id DESC LIMIT ?",
	[STMT_MESSAGES_OLDEST] = "SELECT " MARKER_COLS ", t.* FROM " MARKERS " LEFT JOIN ("
	    "(SELECT " MSG_COLS " FROM messages FORCE INDEX (messages_pair) WHERE sender_id = ? "
	    "AND recipient_id = ? AND id > ? AND id < ? ORDER BY id LIMIT ?) UNION ALL "
	    "(SELECT " MSG_COLS " FROM messages FORCE INDEX (messages_pair) WHERE sender_id = ? "
	    "AND recipient_id = ? AND id > ? AND id < ? ORDER BY id LIMIT ?)) t ON 1 "
	    "ORDER BY t.id LIMIT ?",
	/* Markers only grow, and only up to a message the peer really sent. */
	[STMT_MARKER_SET] = "INSERT INTO read_markers (user_id, peer_id, delivered_upto, read_upto) "
	    "SELECT ?, ?, COALESCE(MAX(id), 0), IF(?, COALESCE(MAX(id), 0), 0) FROM messages "
	    "WHERE sender_id = ? AND recipient_id = ? AND id <= ? "
	    "ON DUPLICATE KEY UPDATE delivered_upto = GREATEST(delivered_upto, VALUES(delivered_upto)), "
	    "read_upto = GREATEST(read_upto, VALUES(read_upto))",
	[STMT_MARKER_GET] = "SELECT delivered_upto, read_upto FROM read_markers WHERE user_id = ? AND peer_id = ?",
	[STMT_UNREAD] = "SELECT COUNT(*) FROM messages WHERE sender_id = ? AND recipient_id = ? "
	    "AND kind = 'text' AND id > ?",

	/* GCRA in one statement: allowed while the next theoretical arrival
	 * stays within the burst. A first action makes the row with one token
	 * taken (1 row affected), a later one moves tat (2), a refusal leaves it
	 * (0). One statement, so two first actions at once cannot both find no
	 * row, and the row is locked for update from the start. */
	[STMT_RATE_TAKE] = "INSERT INTO rate_limits (user_id, action, tat) "
	    "VALUES (?, ?, NOW(6) + INTERVAL ? MICROSECOND) ON DUPLICATE KEY UPDATE "
	    "tat = IF(GREATEST(tat, NOW(6)) + INTERVAL ? MICROSECOND <= NOW(6) + INTERVAL ? MICROSECOND, "
	    "GREATEST(tat, NOW(6)) + INTERVAL ? MICROSECOND, tat)",
	[STMT_RATE_WAIT] = "SELECT TIMESTAMPDIFF(MICROSECOND, NOW(6), tat) FROM rate_limits "
	    "WHERE user_id = ? AND action = ?",

	[STMT_ISOLATION] = "SELECT @@tx_isolation",

	/*
	 * The purge (fcgi/proc/purge.c), two statements per expiry. A pick is a
	 * plain read (it locks nothing) of the expiry's index: the keys of at
	 * most ? expired rows, oldest first, as text. A drop deletes one of them
	 * by its primary key, if it is still expired (a session used since the
	 * pick stays): it locks that row alone. A range DELETE cannot promise
	 * that: to see where the range ends, InnoDB reads and locks the first
	 * row past it, a live one, and waits for whoever holds it, even at READ
	 * COMMITTED. Each takes `?` seconds past the row's own time first: 0 for
	 * an expires_at. Pending users are dropped by STMT_USER_PURGE_PENDING_ONE.
	 */
	[STMT_PURGE_CAPTCHA_PICK] = "SELECT id FROM captchas "
	    "WHERE expires_at < NOW(6) - INTERVAL ? SECOND ORDER BY expires_at LIMIT ?",
	[STMT_PURGE_CAPTCHA_DROP] = "DELETE c FROM captchas c FORCE INDEX (PRIMARY) "
	    "WHERE c.id = ? AND c.expires_at < NOW(6) - INTERVAL ? SECOND",
	[STMT_PURGE_TICKET_PICK] = "SELECT HEX(ticket_hash) FROM mfa_tickets "
	    "WHERE expires_at < NOW(6) - INTERVAL ? SECOND ORDER BY expires_at LIMIT ?",
	[STMT_PURGE_TICKET_DROP] = "DELETE t FROM mfa_tickets t FORCE INDEX (PRIMARY) "
	    "WHERE t.ticket_hash = UNHEX(?) AND t.expires_at < NOW(6) - INTERVAL ? SECOND",
	[STMT_PURGE_ENROL_PICK] = "SELECT HEX(token_hash) FROM enrolments "
	    "WHERE expires_at < NOW(6) - INTERVAL ? SECOND ORDER BY expires_at LIMIT ?",
	[STMT_PURGE_ENROL_DROP] = "DELETE e FROM enrolments e FORCE INDEX (PRIMARY) "
	    "WHERE e.token_hash = UNHEX(?) AND e.expires_at < NOW(6) - INTERVAL ? SECOND",
	[STMT_PURGE_PENDING_PICK] = "SELECT id FROM users "
	    "WHERE active = 0 AND created_at < NOW(6) - INTERVAL ? SECOND ORDER BY created_at LIMIT ?",
	[STMT_PURGE_IDLE_PICK] = "SELECT id FROM sessions "
	    "WHERE last_seen_at < NOW(6) - INTERVAL ? SECOND ORDER BY last_seen_at LIMIT ?",
	[STMT_PURGE_IDLE_DROP] = "DELETE s FROM sessions s FORCE INDEX (PRIMARY) "
	    "WHERE s.id = ? AND s.last_seen_at < NOW(6) - INTERVAL ? SECOND",
	[STMT_PURGE_OLD_PICK] = "SELECT id FROM sessions "
	    "WHERE created_at < NOW(6) - INTERVAL ? SECOND ORDER BY created_at LIMIT ?",
	[STMT_PURGE_OLD_DROP] = "DELETE s FROM sessions s FORCE INDEX (PRIMARY) "
	    "WHERE s.id = ? AND s.created_at < NOW(6) - INTERVAL ? SECOND",
	[STMT_PURGE_ADDR_PICK] = "SELECT ip FROM login_addr_failures "
	    "WHERE failed_at < NOW(6) - INTERVAL ? SECOND ORDER BY failed_at LIMIT ?",
	[STMT_PURGE_ADDR_DROP] = "DELETE a FROM login_addr_failures a FORCE INDEX (PRIMARY) "
	    "WHERE a.ip = ? AND a.failed_at < NOW(6) - INTERVAL ? SECOND",
};

/* Each statement's name, for the log: "message_insert" for STMT_MESSAGE_INSERT. */
#define DB_STMT_NAME(name) [STMT_##name] = #name,
static const char *const names_upper[STMT__MAX] = {DB_STMTS(DB_STMT_NAME)};
#undef DB_STMT_NAME
static char names[STMT__MAX][40];

/* The lower-case names, made once before any thread starts (db_library_init). */
void
db_stmt_names_init(void)
{
	for (int i = 0; i < STMT__MAX; i++) {
		size_t k = 0;

		for (; names_upper[i] != NULL && names_upper[i][k] != '\0' && k < sizeof(names[i]) - 1; k++)
			names[i][k] = (char)tolower((unsigned char)names_upper[i][k]);
		names[i][k] = '\0';
	}
}

const char *
db_stmt_name(enum db_stmt s)
{
	return s >= 0 && s < STMT__MAX ? names[s] : "?";
}

const char *
db_stmt_sql(enum db_stmt s)
{
	return sql[s];
}
