#!/usr/bin/env bash
# A MariaDB server of the project's own, in a project-local directory.
# Usage: db/mariadb.sh {init|start|stop|status} DIR
#   DIR/data  the data directory        DIR/run  socket, pid file, error log
# Always --no-defaults, so /etc/mysql and /run/mysqld never leak in. The
# server listens on its unix socket only (no TCP). `start` returns once the
# server answers and leaves it running in the background.
set -euo pipefail
cmd=${1:?usage: mariadb.sh init/start/stop/status DIR}
dir=${2:?usage: mariadb.sh init/start/stop/status DIR}
data=$dir/data run=$dir/run
sock=$run/mysqld.sock pidf=$run/mysqld.pid
user=mysql
[ "$(id -u)" = 0 ] || user=$(id -un)

alive() { [ -s "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; }
answers() { mariadb-admin --no-defaults --socket="$sock" --connect-timeout=1 -u root ping >/dev/null 2>&1; }

case $cmd in
init)
	mkdir -p "$data" "$run"
	chown "$user" "$data" "$run"
	chmod 0750 "$data"
	chmod 0755 "$run"	# the socket is for chatd too
	[ -d "$data/mysql" ] && exit 0
	echo "db: creating data directory $data"
	mariadb-install-db --no-defaults --datadir="$data" --user="$user" --skip-test-db \
		--auth-root-authentication-method=socket --innodb-log-file-size=8M \
		>"$run/install.log" 2>&1 || { cat "$run/install.log" >&2; exit 1; }
	;;
start)
	if alive; then echo "db: already running (pid $(cat "$pidf"))"; exit 0; fi
	rm -f "$sock" "$sock.lock" "$pidf"
	setsid mariadbd --no-defaults --datadir="$data" --user="$user" --socket="$sock" \
		--skip-networking --pid-file="$pidf" --log-error="$run/mariadb.log" \
		--innodb-log-file-size=8M --innodb-buffer-pool-size=64M \
		--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
		</dev/null >/dev/null 2>&1 &
	for _ in $(seq 300); do
		answers && exit 0
		kill -0 $! 2>/dev/null || break
		sleep 0.1
	done
	echo "db: MariaDB did not start; the end of $run/mariadb.log:" >&2
	tail -20 "$run/mariadb.log" >&2 || true
	exit 1
	;;
stop)
	alive || { rm -f "$sock" "$pidf"; exit 0; }
	pid=$(cat "$pidf")
	kill -TERM "$pid"
	for _ in $(seq 300); do
		kill -0 "$pid" 2>/dev/null || { rm -f "$sock" "$pidf"; exit 0; }
		sleep 0.1
	done
	echo "db: MariaDB (pid $pid) did not stop in 30 s; killing it" >&2
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$sock" "$pidf"
	;;
status)
	alive && answers
	;;
*)
	echo "usage: mariadb.sh {init|start|stop|status} DIR" >&2
	exit 2
	;;
esac
