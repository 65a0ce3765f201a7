-- 0006: an index on every expiry the purge deletes by (fcgi/proc/purge.c).
-- The purge picks a batch of expired rows with a plain read of one of these
-- indexes (a range from the oldest, covering: no row is read and none is
-- locked), then deletes each by its primary key; without them every pick
-- read the whole table. captchas (captchas_expiry) and login_addr_failures
-- (login_addr_failures_at) have theirs since 0002 and 0005.
-- IF NOT EXISTS: each statement commits alone, so a run cut short can be run again.

-- Sessions end on either clock, so each has its own index and its own pick:
-- one range each, where an OR of the two would read both or the table.
ALTER TABLE sessions ADD INDEX IF NOT EXISTS sessions_last_seen (last_seen_at);
ALTER TABLE sessions ADD INDEX IF NOT EXISTS sessions_created (created_at);

ALTER TABLE enrolments ADD INDEX IF NOT EXISTS enrolments_expiry (expires_at);
ALTER TABLE mfa_tickets ADD INDEX IF NOT EXISTS mfa_tickets_expiry (expires_at);

-- Registrations never confirmed: active = 0 first, so they are one range
-- apart from every live account, oldest first.
ALTER TABLE users ADD INDEX IF NOT EXISTS users_pending (active, created_at);
