-- 0008: a message and its sender's rate limit in one statement, so a send
-- is one durable commit and one round trip (issue 13). The GCRA step that
-- STMT_RATE_TAKE runs for the other actions runs here for every message row,
-- inside the INSERT that stores it: the row goes in with its rate step, or
-- neither does. chatd sets the limit on each of its connections
-- (@chatd_send_interval_us, @chatd_send_tolerance_us, fcgi/core/db.c); a
-- connection that has not set it (an operator's console, a bulk load) is
-- not limited. A refusal is SQLSTATE 45000 with MYSQL_ERRNO 45001, the
-- project's own number (DB_ER_SEND_RATE in fcgi/core/db.h): an answer (429),
-- not a fault; any other SIGNAL stays a fault. The rate row is made if missing and locked for update (the upsert),
-- read, and moved: after the INSERT ... SELECT has taken the two user rows in
-- lock order, and only for a row that passed its checks. (ROW_COUNT() after
-- an upsert inside a trigger is 1 whether or not the row changed, so the
-- decision is read, not inferred.)
DELIMITER //
CREATE TRIGGER messages_send_rate BEFORE INSERT ON messages FOR EACH ROW
BEGIN
	DECLARE next_tat DATETIME(6);

	IF @chatd_send_interval_us IS NOT NULL THEN
		INSERT INTO rate_limits (user_id, action, tat) VALUES (NEW.sender_id, 'send', NOW(6))
		ON DUPLICATE KEY UPDATE tat = tat;
		SELECT GREATEST(tat, NOW(6)) + INTERVAL @chatd_send_interval_us MICROSECOND INTO next_tat
		FROM rate_limits WHERE user_id = NEW.sender_id AND action = 'send' FOR UPDATE;
		IF next_tat > NOW(6) + INTERVAL @chatd_send_tolerance_us MICROSECOND THEN
			SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'send_rate', MYSQL_ERRNO = 45001;
		END IF;
		UPDATE rate_limits SET tat = next_tat WHERE user_id = NEW.sender_id AND action = 'send';
	END IF;
END//
DELIMITER ;
