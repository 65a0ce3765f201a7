-- 0003: friends, public keys, ciphertext messages, read markers, presence and
-- per-user send limits (design §3 "Friends", "Keys and messages"). The server
-- never holds a message in clear: a message row is what the browser made
-- (IV, AES-GCM ciphertext, HMACs) and the key ids and epoch it was made under.

-- Presence: the last authenticated request or event-stream subscription.
ALTER TABLE users ADD COLUMN seen_at DATETIME(6) NULL;

-- A pending request; accepting, rejecting or cancelling it deletes the row.
CREATE TABLE friend_requests (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	from_id BIGINT UNSIGNED NOT NULL,
	to_id BIGINT UNSIGNED NOT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	UNIQUE KEY friend_requests_pair (from_id, to_id),
	KEY friend_requests_to (to_id, id),
	FOREIGN KEY (from_id) REFERENCES users (id) ON DELETE CASCADE,
	FOREIGN KEY (to_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- A friendship is two rows, one per side, so "my friends" is one index range.
CREATE TABLE friendships (
	user_id BIGINT UNSIGNED NOT NULL,
	friend_id BIGINT UNSIGNED NOT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	PRIMARY KEY (user_id, friend_id),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
	FOREIGN KEY (friend_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB;

CREATE TABLE blocks (
	user_id BIGINT UNSIGNED NOT NULL,	-- who blocks
	blocked_id BIGINT UNSIGNED NOT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	PRIMARY KEY (user_id, blocked_id),
	KEY blocks_blocked (blocked_id, user_id),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
	FOREIGN KEY (blocked_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- Every ECDH P-384 public key a user has published; the newest is current,
-- the others are history that old messages name. jwk is the canonical
-- {"kty","crv","x","y"} the server made after checking the point.
CREATE TABLE public_keys (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	user_id BIGINT UNSIGNED NOT NULL,
	jwk VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	KEY public_keys_user (user_id, id),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB;

CREATE TABLE messages (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	sender_id BIGINT UNSIGNED NOT NULL,
	recipient_id BIGINT UNSIGNED NOT NULL,
	kind ENUM('ecdh', 'text', 'rekey') NOT NULL,
	sender_key_id BIGINT UNSIGNED NOT NULL,
	recipient_key_id BIGINT UNSIGNED NOT NULL,
	epoch BIGINT UNSIGNED NOT NULL,
	counter BIGINT UNSIGNED NOT NULL,
	iv BINARY(12) NOT NULL,
	ciphertext VARBINARY(16384) NOT NULL,
	mac BINARY(32) NOT NULL,
	mac2 BINARY(32) NULL,			-- rekey only: the MAC under the new keys
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	-- A counter is used once per direction, keys and epoch: a replay is refused.
	UNIQUE KEY messages_once (sender_id, recipient_id, sender_key_id, recipient_key_id, epoch, counter),
	KEY messages_pair (sender_id, recipient_id, id),
	KEY messages_inbox (recipient_id, sender_id, id),
	FOREIGN KEY (sender_id) REFERENCES users (id) ON DELETE CASCADE,
	FOREIGN KEY (recipient_id) REFERENCES users (id) ON DELETE CASCADE,
	FOREIGN KEY (sender_key_id) REFERENCES public_keys (id),
	FOREIGN KEY (recipient_key_id) REFERENCES public_keys (id)
) ENGINE=InnoDB;

-- How far a user has received and read a peer's messages (ids only grow).
-- Kept apart from friendships: a conversation outlives a removed friend.
CREATE TABLE read_markers (
	user_id BIGINT UNSIGNED NOT NULL,
	peer_id BIGINT UNSIGNED NOT NULL,
	delivered_upto BIGINT UNSIGNED NOT NULL DEFAULT 0,
	read_upto BIGINT UNSIGNED NOT NULL DEFAULT 0,
	PRIMARY KEY (user_id, peer_id),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
	FOREIGN KEY (peer_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- Per-user rate limits (GCRA): tat is the theoretical arrival time of the
-- next request; a request is allowed while tat stays within the burst.
CREATE TABLE rate_limits (
	user_id BIGINT UNSIGNED NOT NULL,
	action VARCHAR(16) CHARACTER SET ascii NOT NULL,
	tat DATETIME(6) NOT NULL,
	PRIMARY KEY (user_id, action),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB;
