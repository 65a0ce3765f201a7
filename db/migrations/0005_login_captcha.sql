-- 0005: what CHATD_LOGIN_CAPTCHA=after-failures decides on (README "Accounts").
-- Login then asks for a CAPTCHA only after a recent failure of the name or
-- from the address, so both remember when they last failed. An address row
-- (an IPv4 address, or an IPv6 /64) says nothing about names: it only makes
-- the next login from there ask; failed_at is also set when a login without
-- a CAPTCHA takes the address's one free try (fcgi/throttle.c).
-- IF NOT EXISTS: each statement commits alone, so a run cut short can be run again.
ALTER TABLE login_throttle ADD COLUMN IF NOT EXISTS failed_at DATETIME(6) NULL;

CREATE TABLE IF NOT EXISTS login_addr_failures (
	ip VARCHAR(45) NOT NULL PRIMARY KEY,
	failures INT UNSIGNED NOT NULL DEFAULT 0,	-- within the last window
	failed_at DATETIME(6) NOT NULL,
	KEY login_addr_failures_at (failed_at)
) ENGINE=InnoDB;
