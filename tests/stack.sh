#!/usr/bin/env bash
# The whole stack (MariaDB, chatd pools, nginx) in var/PROFILE/, for `make run`
# (profile run) and the tests (profile test, own ports and directories).
#
#   stack.sh run [PROFILE]    start everything and stay in the foreground;
#                             Ctrl-C or SIGTERM stops every part
#   stack.sh start PROFILE    the same in the background; returns when ready
#   stack.sh stop PROFILE     stop a stack running in the background
#   stack.sh env PROFILE      print the variables the tests use
#
# A stack holds var/PROFILE/stack.lock while it runs, so a second one for the
# same profile refuses to start and says so.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-run}
profile=${2:-run}
[[ $profile =~ ^[a-z0-9]+$ ]] || { echo "stack: bad profile '$profile'" >&2; exit 2; }
dir=$root/var/$profile

# Profile settings; every one can be overridden from the environment.
case $profile in
run)
	https=${CHAT_HTTPS_PORT:-8443}
	http=${CHAT_HTTP_PORT:-8080}
	pools=${CHAT_POOLS:-a}
	: "${CHATD_WORKERS:=0}" "${CHATD_THREADS:=16}"
	extra=""
	;;
*)
	https=${CHAT_HTTPS_PORT:-18443}
	http=${CHAT_HTTP_PORT:-18080}
	pools=${CHAT_POOLS:-a b}	# two pools behind one upstream: workers keep no state
	: "${CHATD_WORKERS:=2}" "${CHATD_THREADS:=4}"
	: "${CHATD_SHUTDOWN_TIMEOUT:=5}"
	# One client address runs the whole suite, so the limits are raised; the
	# rate-limit test sends from an address of its own (127.0.0.3).
	: "${CHAT_API_RATE:=500r/s}" "${CHAT_API_BURST:=1000}"
	: "${CHAT_AUTH_RATE:=600r/m}" "${CHAT_AUTH_BURST:=60}"
	: "${CHAT_CAPTCHA_RATE:=600r/m}" "${CHAT_CAPTCHA_BURST:=60}"
	export CHAT_AUTH_RATE CHAT_AUTH_BURST CHAT_CAPTCHA_RATE CHAT_CAPTCHA_BURST
	# The breach corpus is range files served by the test nginx (no internet);
	# bcrypt at cost 10 keeps hundreds of test logins quick (cost 12 and the
	# upgrade of lower-cost hashes are tested on a chatd of their own).
	: "${CHATD_PWNED_URL:=https://localhost:$https/pwned}" "${CHATD_PWNED_CAINFO:=$dir/run/ca.crt}"
	: "${CHATD_BCRYPT_COST:=10}"
	export CHATD_SHUTDOWN_TIMEOUT CHAT_API_RATE CHAT_API_BURST CHATD_PWNED_URL CHATD_PWNED_CAINFO \
		CHATD_BCRYPT_COST CHAT_PWNED_DIR=$dir/www/pwned CHAT_WWW_DIR=$dir/www
	extra=$root/tests/api/nginx-test.conf
	;;
esac
export CHATD_WORKERS CHATD_THREADS
certs=${CERTS_DIR:-$root/certs/local}
svc_user=${CHATD_USER:-www-data}
[ "$(id -u)" = 0 ] || svc_user=""

say() { echo "stack[$profile]: $*"; }
die() { echo "stack[$profile]: $*" >&2; exit 1; }

print_env() {
	cat <<ENV
CHAT_PROFILE=$profile
CHAT_STACK_DIR=$dir
CHAT_BASE_URL=https://localhost:$https
CHAT_HTTP_URL=http://localhost:$http
CHAT_CA=$certs/ca.crt
CHAT_CERTS_DIR=$certs
CHAT_SERVER_CERT=$certs/server.crt
CHAT_DB_SOCKET=$dir/db/run/mysqld.sock
CHAT_DB_NAME=chat
CHAT_NCHAN_SOCKET=$dir/run/nchan.sock
CHAT_POOLS="$pools"
CHAT_PWNED_DIR=$dir/www/pwned
CHAT_SECRETS_DIR=$dir/secrets
ENV
}

# Services run as other users (mysql, www-data) and must reach the project.
open_path() {
	local p=$root
	while [ "$p" != / ]; do
		if [ "$(( $(stat -c '%a' "$p" | sed 's/.*\(.\)$/\1/') & 1 ))" = 0 ]; then
			say "letting services reach the project: chmod o+x $p"
			chmod o+x "$p"
		fi
		p=$(dirname "$p")
	done
}

wait_for() {	# wait_for SECONDS description command...
	local t=$1 what=$2
	shift 2
	for _ in $(seq $((t * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	die "$what did not come up in ${t}s; see $dir/log"
}

pids=()
stopping=0

stop_all() {
	[ $stopping = 1 ] && return
	stopping=1
	trap '' INT TERM
	say "stopping"
	if [ -s "$dir/nginx/nginx.pid" ]; then
		kill -QUIT "$(cat "$dir/nginx/nginx.pid")" 2>/dev/null || true
	fi
	for p in $pools; do
		[ -s "$dir/run/chatd-$p.pid" ] && kill -TERM "$(cat "$dir/run/chatd-$p.pid")" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	"$root/db/mariadb.sh" stop "$dir/db" || true
	# Nothing stale for the next start: nginx leaves its unix sockets behind.
	rm -f "$dir"/run/*.sock "$dir"/run/*.pid "$dir"/run/chatd/*.sock "$dir/nginx/nginx.pid" \
		"$dir/ready" "$dir/stack.pid"
	say "stopped"
}

run() {
	mkdir -p "$dir"/{run/chatd,log,secrets,db}
	exec 9>"$dir/stack.lock"
	if ! flock -n 9; then
		die "a '$profile' stack is already running (pid $(cat "$dir/stack.pid" 2>/dev/null || echo '?')); 'make stop' or Ctrl-C it first"
	fi
	echo $$ >"$dir/stack.pid"
	rm -f "$dir/ready"
	trap 'stop_all; exit 0' INT TERM
	trap 'stop_all' EXIT
	[ "$(id -u)" = 0 ] && open_path
	chmod 0700 "$dir/secrets"
	[ -n "$svc_user" ] && chown "$svc_user" "$dir/run/chatd"

	"$root/certs/mkcerts.sh"
	# The CA certificate (public) where chatd's unprivileged user can read it.
	install -m 0644 "$certs/ca.crt" "$dir/run/ca.crt"
	if [ -n "${CHAT_PWNED_DIR:-}" ]; then	# range files the tests may add to
		rm -rf "$CHAT_PWNED_DIR"
		mkdir -p "$(dirname "$CHAT_PWNED_DIR")"
		cp -r "$root/tests/api/pwned" "$CHAT_PWNED_DIR"
	fi

	"$root/db/mariadb.sh" init "$dir/db"
	"$root/db/mariadb.sh" start "$dir/db"
	CHAT_DB_SOCKET=$dir/db/run/mysqld.sock CHAT_DB_APP_PASSWORD_FILE=$dir/secrets/db_app_password \
		"$root/db/migrate.sh"

	local upstreams=""
	for p in $pools; do upstreams+="unix:$dir/run/chatd/$p.sock "; done
	NGINX_PREFIX=$dir/nginx NGINX_LOG_DIR=$dir/log CHAT_HTTPS_PORT=$https CHAT_HTTP_PORT=$http \
		CHAT_CERT=$certs/server.crt CHAT_CERT_KEY=$certs/server.key \
		CHAT_UPSTREAMS=$upstreams CHAT_NCHAN_PUB_LISTEN=unix:$dir/run/nchan.sock \
		CHAT_NGINX_EXTRA=$extra "$root/nginx/render.sh"
	rm -f "$dir/run/nchan.sock"
	nginx -t -q -p "$dir/nginx" -c conf/nginx.conf -e "$dir/log/nginx-error.log" ||
		die "nginx configuration test failed"
	nginx -p "$dir/nginx" -c conf/nginx.conf -e "$dir/log/nginx-error.log" -g 'daemon off;' &
	pids+=($!)
	wait_for 10 "nginx" test -S "$dir/run/nchan.sock"
	# chatd publishes as its own user; nobody else may.
	[ -n "$svc_user" ] && chown "$svc_user" "$dir/run/nchan.sock" && chmod 0600 "$dir/run/nchan.sock"

	for p in $pools; do
		CHATD_LISTEN=$dir/run/chatd/$p.sock CHATD_USER=$svc_user \
			CHATD_DB_SOCKET=$dir/db/run/mysqld.sock \
			CHATD_DB_PASSWORD_FILE=$dir/secrets/db_app_password \
			CHATD_TEMPLATE_DIR=$root/templates \
			CHATD_SECRETS_DIR=$dir/secrets CHATD_BLOCKLIST=$root/build/blocklist.txt \
			CHATD_NCHAN_SOCKET=$dir/run/nchan.sock \
			"$root/build/chatd" 2>>"$dir/log/chatd-$p.log" &
		pids+=($!)
		echo $! >"$dir/run/chatd-$p.pid"
	done
	for p in $pools; do wait_for 10 "chatd pool $p" test -S "$dir/run/chatd/$p.sock"; done
	wait_for 20 "the stack" curl -sf --cacert "$certs/ca.crt" "https://localhost:$https/api/health"

	touch "$dir/ready"
	say "ready: https://localhost:$https"
	say "trust the local CA to avoid browser warnings: $certs/ca.crt"
	say "logs: $dir/log; stop with Ctrl-C or 'make stop'"
	# Any part dying stops the rest: a half stack helps nobody.
	set +e
	wait -n "${pids[@]}"
	local rc=$?
	[ $stopping = 1 ] && exit 0
	say "a part of the stack exited (status $rc); stopping the rest"
	exit 1
}

case $cmd in
run)
	run
	;;
start)
	mkdir -p "$dir/log"
	setsid "$0" run "$profile" </dev/null >"$dir/log/stack.log" 2>&1 &
	starter=$!
	for _ in $(seq 1200); do
		[ -e "$dir/ready" ] && { say "ready: https://localhost:$https"; exit 0; }
		kill -0 $starter 2>/dev/null || break
		sleep 0.1
	done
	cat "$dir/log/stack.log" >&2
	die "did not start"
	;;
stop)
	pid=$(cat "$dir/stack.pid" 2>/dev/null || true)
	if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
		say "not running"
		exit 0
	fi
	kill -TERM "$pid"
	for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || { say "stopped"; exit 0; }; sleep 0.1; done
	die "pid $pid did not stop in 60 s"
	;;
env)
	print_env
	;;
*)
	echo "usage: stack.sh {run|start|stop|env} [PROFILE]" >&2
	exit 2
	;;
esac
