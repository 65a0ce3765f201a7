-- 0002: accounts, their authenticators, sessions and the audit trail
-- (design §3 "Accounts"). Secrets are never stored in a form that logs in:
-- passwords as bcrypt over a peppered HMAC, TOTP secrets sealed with
-- AES-256-GCM under a key outside the database, recovery codes, session and
-- ticket tokens as keyed or plain hashes. CAPTCHA answers are stored plainly:
-- they guard one request for five minutes and are deleted on first use.

CREATE TABLE users (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	username VARCHAR(32) NOT NULL,		-- unique case-insensitively (collation)
	password_hash VARCHAR(100) NOT NULL,
	totp_sealed VARBINARY(128) NOT NULL,
	totp_last_step BIGINT NOT NULL DEFAULT 0,	-- accepted time steps only grow
	active TINYINT(1) NOT NULL DEFAULT 0,	-- 1 once the first TOTP code was right
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	UNIQUE KEY users_username (username)
) ENGINE=InnoDB;

-- A pending authenticator: a registration, or a new TOTP secret being bound.
CREATE TABLE enrolments (
	token_hash BINARY(32) NOT NULL PRIMARY KEY,
	user_id BIGINT UNSIGNED NOT NULL,
	purpose ENUM('register', 'rebind') NOT NULL,
	totp_sealed VARBINARY(128) NOT NULL,
	expires_at DATETIME(6) NOT NULL,
	KEY enrolments_user (user_id),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB;

CREATE TABLE recovery_codes (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	user_id BIGINT UNSIGNED NOT NULL,
	code_hash CHAR(64) NOT NULL,		-- hex HMAC-SHA256(pepper, code)
	used_at DATETIME(6) NULL,
	UNIQUE KEY recovery_user_code (user_id, code_hash),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB;

CREATE TABLE captchas (
	id CHAR(32) NOT NULL PRIMARY KEY,	-- random, hex
	answer VARCHAR(8) NOT NULL,
	expires_at DATETIME(6) NOT NULL,
	KEY captchas_expiry (expires_at)
) ENGINE=InnoDB;

-- Consecutive failures per login name, existing or not, so that lockouts
-- do not tell which user names exist.
CREATE TABLE login_throttle (
	username VARCHAR(32) NOT NULL PRIMARY KEY,
	failures INT UNSIGNED NOT NULL DEFAULT 0,
	locked_until DATETIME(6) NULL,
	hard_locked TINYINT(1) NOT NULL DEFAULT 0
) ENGINE=InnoDB;

-- Between the password step and the second factor.
CREATE TABLE mfa_tickets (
	ticket_hash BINARY(32) NOT NULL PRIMARY KEY,
	username VARCHAR(32) NOT NULL,
	user_id BIGINT UNSIGNED NULL,		-- NULL: no such user (answers look the same)
	password_ok TINYINT(1) NOT NULL,
	recovery_only TINYINT(1) NOT NULL,	-- the name is hard-locked
	attempts INT UNSIGNED NOT NULL DEFAULT 0,
	expires_at DATETIME(6) NOT NULL
) ENGINE=InnoDB;

CREATE TABLE sessions (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	token_hash BINARY(32) NOT NULL,
	user_id BIGINT UNSIGNED NOT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	last_seen_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	user_agent VARCHAR(255) NOT NULL DEFAULT '',
	ip VARCHAR(45) NOT NULL DEFAULT '',
	UNIQUE KEY sessions_token (token_hash),
	KEY sessions_user (user_id),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB;

CREATE TABLE audit_log (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	user_id BIGINT UNSIGNED NULL,
	event VARCHAR(32) NOT NULL,
	ip VARCHAR(45) NOT NULL DEFAULT '',
	detail VARCHAR(255) NOT NULL DEFAULT '',
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	KEY audit_user (user_id, id)
) ENGINE=InnoDB;
