#!/usr/bin/env bash
# Applies db/migrations/NNNN_name.sql in order, each once, and records it in
# the schema_migrations table with its SHA-256; safe to run any number of
# times. A recorded migration whose file has changed stops the run: history
# is never rewritten, a new migration is added instead. Then it makes sure
# the application's own database user exists with DML rights only (no DDL).
#
# Runs as the admin (root over the unix socket). Environment:
#   CHAT_DB_SOCKET             MariaDB socket (required)
#   CHAT_DB_NAME               database (default chat)
#   CHAT_DB_APP_USER           application user (default chat_app)
#   CHAT_DB_APP_HOST           host part of that user (default localhost)
#   CHAT_DB_APP_PASSWORD_FILE  its password, made (0600) if missing (required)
#   CHAT_MIGRATIONS_DIR        default: db/migrations beside this script
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sock=${CHAT_DB_SOCKET:?CHAT_DB_SOCKET is required}
name=${CHAT_DB_NAME:-chat}
app=${CHAT_DB_APP_USER:-chat_app}
app_host=${CHAT_DB_APP_HOST:-localhost}
pwfile=${CHAT_DB_APP_PASSWORD_FILE:?CHAT_DB_APP_PASSWORD_FILE is required}
migrations=${CHAT_MIGRATIONS_DIR:-$here/migrations}

for v in "$name" "$app"; do
	[[ $v =~ ^[A-Za-z0-9_]{1,64}$ ]] || { echo "migrate: bad name '$v'" >&2; exit 2; }
done
[[ $app_host =~ ^[A-Za-z0-9_.%-]{1,255}$ ]] || { echo "migrate: bad host '$app_host'" >&2; exit 2; }

sql() { mariadb --no-defaults --socket="$sock" -u root --batch --skip-column-names "$@"; }

sql -e "CREATE DATABASE IF NOT EXISTS \`$name\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
sql "$name" -e "CREATE TABLE IF NOT EXISTS schema_migrations (
	version INT UNSIGNED NOT NULL PRIMARY KEY,
	name VARCHAR(200) NOT NULL,
	checksum CHAR(64) NOT NULL,
	applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB"

applied=0
shopt -s nullglob
for f in "$migrations"/[0-9][0-9][0-9][0-9]_*.sql; do
	base=$(basename "$f" .sql)
	version=$((10#${base%%_*}))
	sum=$(sha256sum "$f" | cut -d' ' -f1)
	recorded=$(sql "$name" -e "SELECT checksum FROM schema_migrations WHERE version = $version")
	if [ -n "$recorded" ]; then
		if [ "$recorded" != "$sum" ]; then
			echo "migrate: $base was applied with checksum $recorded but the file now has $sum;" \
				"add a new migration instead of editing an applied one" >&2
			exit 1
		fi
		continue
	fi
	echo "migrate: applying $base"
	sql "$name" <"$f"
	sql "$name" -e "INSERT INTO schema_migrations (version, name, checksum) VALUES ($version, '$base', '$sum')"
	applied=$((applied + 1))
done

# The application user: data in and out, no schema changes, no other database.
if [ ! -s "$pwfile" ]; then
	(umask 077 && openssl rand -hex 24 >"$pwfile")
fi
pw=$(cat "$pwfile")
[[ $pw =~ ^[A-Za-z0-9]{16,128}$ ]] || { echo "migrate: $pwfile must hold 16-128 letters and digits" >&2; exit 1; }
sql -e "CREATE USER IF NOT EXISTS '$app'@'$app_host' IDENTIFIED BY '$pw';
	ALTER USER '$app'@'$app_host' IDENTIFIED BY '$pw';
	REVOKE ALL PRIVILEGES, GRANT OPTION FROM '$app'@'$app_host';
	GRANT SELECT, INSERT, UPDATE, DELETE ON \`$name\`.* TO '$app'@'$app_host';"
echo "migrate: $applied applied, database $name up to date"
