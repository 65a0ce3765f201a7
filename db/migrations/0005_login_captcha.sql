-- 0005: what CHATD_LOGIN_CAPTCHA=after-failures decides on (README "Accounts").
-- Login then asks for a CAPTCHA only after a recent failure of the name or
-- from the address, so both remember when they last failed. An address row
-- says nothing about names: it only makes the next login from there ask.
ALTER TABLE login_throttle ADD COLUMN failed_at DATETIME(6) NULL;

CREATE TABLE login_addr_failures (
	ip VARCHAR(45) NOT NULL PRIMARY KEY,
	failures INT UNSIGNED NOT NULL DEFAULT 0,	-- within the last window
	failed_at DATETIME(6) NOT NULL,
	KEY login_addr_failures_at (failed_at)
) ENGINE=InnoDB;
