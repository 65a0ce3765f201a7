-- 0001: the database's text settings. Every table after this one inherits
-- utf8mb4 (all of Unicode, unlike MariaDB's 3-byte utf8) with a collation
-- that compares user names case-insensitively, as the design requires.
ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
