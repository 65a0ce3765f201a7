#!/usr/bin/env bash
# The db container: MariaDB from the volume at /var/lib/chat/db, as in
# tests/stack.sh, except that it listens on TCP 3306 of the compose network
# (the app is in another container), so mariadbd is started here rather than
# by `db/mariadb.sh start`, which is unix-socket only. Then the migrations,
# with the app user allowed from any host ('%': only app shares the internal
# network) and its password in the shared secrets volume, readable by group
# www-data (gid 33 in every Debian image) for chatd. The healthcheck passes
# only once $ready exists, so app never starts against an unmigrated schema.
set -euo pipefail
dir=${CHAT_DB_DIR:-/var/lib/chat/db}
secrets=${CHAT_SECRETS_DIR:-/var/lib/chat/secrets}
ready=${CHAT_DB_READY_FILE:-/run/chat/migrated}	# on a tmpfs: gone at each restart
db=/srv/chat/db
sock=$dir/run/mysqld.sock pidf=$dir/run/mysqld.pid
pwfile=$secrets/db_app_password

rm -f "$ready"
bash "$db/mariadb.sh" init "$dir"
rm -f "$sock" "$sock.lock" "$pidf"	# stale after a kill
# No --log-error: the log goes to stderr, i.e. `docker-compose logs db`.
# --skip-name-resolve: grants are by address, no reverse DNS on each connect.
mariadbd --no-defaults --datadir="$dir/data" --user=mysql --socket="$sock" \
	--bind-address=0.0.0.0 --port=3306 --skip-name-resolve --pid-file="$pidf" \
	--innodb-log-file-size=8M --innodb-buffer-pool-size=64M \
	--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci </dev/null &
pid=$!

# Bash as PID 1 ignores SIGTERM by default: pass it on and wait for a clean
# shutdown, also when this script fails half-way.
stop_db() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap 'stop_db; exit 0' TERM INT
trap stop_db EXIT

up=0
for _ in $(seq 300); do
	mariadb-admin --no-defaults --socket="$sock" --connect-timeout=1 -u root ping >/dev/null 2>&1 && { up=1; break; }
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
[ $up = 1 ] || { echo "db: mariadbd did not start" >&2; exit 1; }

mkdir -p "$secrets"
chown root:www-data "$secrets"
chmod 0750 "$secrets"
CHAT_DB_SOCKET=$sock CHAT_DB_APP_HOST='%' CHAT_DB_APP_PASSWORD_FILE=$pwfile bash "$db/migrate.sh"
chown root:www-data "$pwfile"
chmod 0640 "$pwfile"
touch "$ready"
echo "db: ready on :3306"

wait "$pid"
