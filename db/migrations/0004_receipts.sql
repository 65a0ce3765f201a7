-- 0004: protocol version 2 (README "Protocol"). Delivery and read receipts
-- are sealed messages from the recipient's browser, stored like any other
-- so their counters stay contiguous; the server cannot read or make them.
-- They are not unread messages (the unread count takes kind 'text' only).
ALTER TABLE messages MODIFY kind ENUM('ecdh', 'text', 'rekey', 'receipt') NOT NULL;
