-- 0007: a password is checked outside the name's row lock (fcgi/sec/throttle.c).
-- An attempt is admitted under the lock and counted in `checking` until its
-- result is in, so attempts sent at once are decided one at a time without
-- bcrypt running under a lock: no more are checked at once than the name has
-- attempts left. A count older than a few seconds is an attempt whose worker
-- died, and counts as none.
-- IF NOT EXISTS: each statement commits alone, so a run cut short can be run again.
ALTER TABLE login_throttle ADD COLUMN IF NOT EXISTS checking INT UNSIGNED NOT NULL DEFAULT 0;
ALTER TABLE login_throttle ADD COLUMN IF NOT EXISTS checking_at DATETIME(6) NULL;
