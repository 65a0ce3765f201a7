#!/usr/bin/env bash
# The whole stack (MariaDB, chatd pools, nginx) in var/PROFILE/, for `make run`
# (profile run) and the tests (profile test, own ports and directories).
#
#   stack.sh run [PROFILE]    start everything and stay in the foreground;
#                             Ctrl-C or SIGTERM stops every part
#   stack.sh start PROFILE    the same in the background; returns when ready
#   stack.sh stop PROFILE     stop a stack running in the background
#   stack.sh reload PROFILE   nginx re-reads its configuration and certificate
#   stack.sh preflight PROFILE  only check that the stack's ports are free
#   stack.sh env PROFILE      print the variables the tests use
#
# A stack holds var/PROFILE/stack.lock while it runs, so a second one for the
# same profile refuses to start and says so. A port another program holds
# stops it at once, before certificates or a database are made.
#
# Where it is served (see README "Run it for real"):
#   CHAT_HOSTNAME         the site's name [$(hostname)]
#   CHAT_EXTRA_HOSTNAMES  more names it answers to [localhost 127.0.0.1; none with CHAT_CERT]
#   CHAT_CERT, CHAT_CERT_KEY  your own certificate (full chain) and key; without
#                         them certs/mkcerts.sh makes a local CA and certificate
#   CHAT_ACME_DIR         webroot for ACME HTTP-01 challenges [var/PROFILE/acme]
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
	http=${CHAT_HTTP_PORT-8080}	# empty: no plain-HTTP port
	pools=${CHAT_POOLS:-a}
	: "${CHATD_WORKERS:=0}" "${CHATD_THREADS:=16}"
	extra=""
	;;
*)
	https=${CHAT_HTTPS_PORT:-18443}
	http=${CHAT_HTTP_PORT-18080}
	pools=${CHAT_POOLS:-a b}	# two pools behind one upstream: workers keep no state
	: "${CHATD_WORKERS:=2}" "${CHATD_THREADS:=4}"
	: "${CHATD_SHUTDOWN_TIMEOUT:=5}"
	# One client address runs the whole suite, so the limits are raised; the
	# rate-limit test sends from an address of its own (127.0.0.3).
	: "${CHAT_API_RATE:=500r/s}" "${CHAT_API_BURST:=1000}"
	: "${CHAT_AUTH_RATE:=600r/m}" "${CHAT_AUTH_BURST:=60}"
	: "${CHAT_CAPTCHA_RATE:=600r/m}" "${CHAT_CAPTCHA_BURST:=60}"
	# Hundreds of event streams come from one address (the latency test);
	# the cap itself is tested on an nginx of its own.
	: "${CHAT_CONN_PER_ADDR:=4000}"
	export CHAT_AUTH_RATE CHAT_AUTH_BURST CHAT_CAPTCHA_RATE CHAT_CAPTCHA_BURST CHAT_CONN_PER_ADDR
	# The breach corpus is range files served by the test nginx (no internet);
	# bcrypt at cost 10 keeps hundreds of test logins quick (cost 12 and the
	# upgrade of lower-cost hashes are tested on a chatd of their own).
	: "${CHATD_PWNED_URL:=https://localhost:$https/pwned}" "${CHATD_PWNED_CAINFO:=$dir/run/ca.crt}"
	: "${CHATD_BCRYPT_COST:=10}"
	# Expired rows go within seconds, so the race layer sees the purge at work
	# (tests/race/test_purge.py) without waiting a minute.
	: "${CHATD_PURGE_INTERVAL:=2}"
	export CHATD_SHUTDOWN_TIMEOUT CHAT_API_RATE CHAT_API_BURST CHATD_PWNED_URL CHATD_PWNED_CAINFO \
		CHATD_BCRYPT_COST CHATD_PURGE_INTERVAL CHAT_PWNED_DIR=$dir/www/pwned CHAT_WWW_DIR=$dir/www
	extra=$root/tests/api/nginx-test.conf
	;;
esac
export CHATD_WORKERS CHATD_THREADS
certs=${CERTS_DIR:-$root/certs/local}
svc_user=${CHATD_USER:-www-data}
[ "$(id -u)" = 0 ] || svc_user=""
hostname=${CHAT_HOSTNAME:-$(hostname)}
hostname=${hostname,,}
# With a certificate of your own the site is a real one: only its name, unless
# more are asked for.
extra_default="localhost 127.0.0.1"
[ -z "${CHAT_CERT:-}" ] || extra_default=""
extra_names=$(tr ',' ' ' <<<"${CHAT_EXTRA_HOSTNAMES-$extra_default}")
public=${CHAT_PUBLIC_HTTPS_PORT:-$https}
acme=${CHAT_ACME_DIR:-$dir/acme}
own_cert=${CHAT_CERT:-}
if [ -n "$own_cert" ]; then
	cert=$own_cert key=${CHAT_CERT_KEY:-}
else
	cert=$certs/server.crt key=$certs/server.key
fi

say() { echo "stack[$profile]: $*"; }
site_url() { if [ "$public" = 443 ]; then echo "https://$1"; else echo "https://$1:$public"; fi; }
die() { echo "stack[$profile]: $*" >&2; exit 1; }

# port_free PORT: 0 when nginx could listen on PORT, 1 when a program holds it,
# 2 when it may not be bound at all (a port under 1024 without root). The test
# is the bind nginx will make (all addresses, SO_REUSEADDR); perl-base is on
# every Debian machine, before any package is installed.
port_free() {
	perl -MSocket -e '
		socket(my $s, PF_INET, SOCK_STREAM, 0) or exit 3;
		setsockopt($s, SOL_SOCKET, SO_REUSEADDR, 1) or exit 3;
		exit 0 if bind($s, pack_sockaddr_in($ARGV[0], INADDR_ANY));
		exit($!{EADDRINUSE} ? 1 : 2);' "$1"
}

# Stops, naming the port and the variable that moves it, when one is taken.
check_ports() {
	local spec var port rc holder
	[ "$http" != "$https" ] || die "CHAT_HTTP_PORT and CHAT_HTTPS_PORT must differ (both are $https)"
	for spec in "CHAT_HTTPS_PORT:$https" ${http:+"CHAT_HTTP_PORT:$http"}; do
		var=${spec%%:*} port=${spec#*:}
		[[ $port =~ ^[1-9][0-9]{0,4}$ ]] && [ "$port" -le 65535 ] ||
			die "$var must be a port number, not '$port'"
		rc=0
		port_free "$port" || rc=$?
		case $rc in
		0) ;;
		1)
			holder=$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'users:(("[^"]*",pid=[0-9]*' |
				head -n 1 | sed 's/users:(("\([^"]*\)",pid=\([0-9]*\)/ by \1 (pid \2)/' || true)
			die "port $port is already in use$holder; set $var to another port (e.g. $var=$((port + 1)) make run) or stop what holds it"
			;;
		2) die "cannot listen on port $port (ports under 1024 need root); set $var to another port" ;;
		*) die "cannot test port $port" ;;
		esac
	done
}

# Your own certificate must exist, name the site and not have expired.
check_own_cert() {
	[ -n "$key" ] || die "CHAT_CERT is set but CHAT_CERT_KEY is not: give the certificate's private key"
	local f
	for f in "$cert" "$key"; do
		[ -r "$f" ] || die "cannot read $f (CHAT_CERT / CHAT_CERT_KEY)"
	done
	openssl x509 -in "$cert" -noout >/dev/null 2>&1 || die "CHAT_CERT $cert is not a PEM certificate"
	openssl x509 -in "$cert" -noout -checkend 0 >/dev/null 2>&1 || die "CHAT_CERT $cert has expired"
	openssl x509 -in "$cert" -noout -checkhost "$hostname" 2>/dev/null | grep -q ' does match' ||
		die "CHAT_CERT $cert is not valid for CHAT_HOSTNAME '$hostname'"
}

print_env() {
	cat <<ENV
CHAT_PROFILE=$profile
CHAT_STACK_DIR=$dir
CHAT_BASE_URL=https://localhost:$https
CHAT_HOSTNAME=$hostname
CHAT_HTTP_URL=http://localhost:$http
CHAT_CA=$certs/ca.crt
CHAT_CERTS_DIR=$certs
CHAT_ACME_DIR=$acme
CHAT_SERVER_CERT=$certs/server.crt
CHAT_DB_SOCKET=$dir/db/run/mysqld.sock
CHAT_DB_NAME=chat
CHAT_NCHAN_SOCKET=$dir/run/nchan.sock
CHAT_POOLS="$pools"
CHAT_PWNED_DIR=$dir/www/pwned
CHAT_SECRETS_DIR=$dir/secrets
CHAT_PURGE_INTERVAL=${CHATD_PURGE_INTERVAL:-60}
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
	# Ctrl-C reaches every part at once: a pid file may be gone already.
	local pid
	pid=$(cat "$dir/nginx/nginx.pid" 2>/dev/null || true)
	[ -n "$pid" ] && { kill -QUIT "$pid" 2>/dev/null || true; }
	for p in $pools; do
		pid=$(cat "$dir/run/chatd-$p.pid" 2>/dev/null || true)
		[ -n "$pid" ] && { kill -TERM "$pid" 2>/dev/null || true; }
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

# Takes the profile's lock (fd 9, held while this process lives), or stops:
# a second stack of the same profile is told so, not that its port is busy.
lock_profile() {
	mkdir -p "$dir"
	exec 9>"$dir/stack.lock"
	if ! flock -n 9; then
		die "a '$profile' stack is already running (pid $(cat "$dir/stack.pid" 2>/dev/null || echo '?')); 'make stop' or Ctrl-C it first"
	fi
}

run() {
	lock_profile
	# Before anything is made or started: nothing to stop if these fail.
	check_ports
	[ -z "$own_cert" ] || check_own_cert
	mkdir -p "$dir"/{run/chatd,log,secrets,db}
	echo $$ >"$dir/stack.pid"
	rm -f "$dir/ready"
	trap 'stop_all; exit 0' INT TERM
	trap 'stop_all' EXIT
	[ "$(id -u)" = 0 ] && open_path
	chmod 0700 "$dir/secrets"
	[ -n "$svc_user" ] && chown "$svc_user" "$dir/run/chatd"
	mkdir -p "$acme"

	if [ -z "$own_cert" ]; then
		CHAT_HOSTNAME=$hostname CHAT_EXTRA_HOSTNAMES=$extra_names "$root/certs/mkcerts.sh"
		# The CA certificate (public) where chatd's unprivileged user can read it.
		install -m 0644 "$certs/ca.crt" "$dir/run/ca.crt"
	fi
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
		CHAT_HOSTNAME=$hostname CHAT_EXTRA_HOSTNAMES=$extra_names CHAT_PUBLIC_HTTPS_PORT=$public \
		CHAT_CERT=$cert CHAT_CERT_KEY=$key CHAT_ACME_DIR=$acme \
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
			CHATD_HOSTNAMES="$hostname $extra_names" CHATD_HTTPS_PORT=$public \
			"$root/build/chatd" 2>>"$dir/log/chatd-$p.log" &
		pids+=($!)
		echo $! >"$dir/run/chatd-$p.pid"
	done
	for p in $pools; do wait_for 10 "chatd pool $p" test -S "$dir/run/chatd/$p.sock"; done
	# Is it serving? A loopback probe under the site's own name; whether the
	# certificate is trusted is the browser's question, not the probe's, so
	# no CA is needed (a real certificate has none of ours).
	wait_for 20 "the stack" curl -sfk --resolve "$hostname:$https:127.0.0.1" \
		"https://$hostname:$https/api/health"

	touch "$dir/ready"
	local n
	say "ready: $(site_url "$hostname")"
	for n in $extra_names; do [ "$n" = "$hostname" ] || say "  also: $(site_url "$n")"; done
	[ -z "$own_cert" ] && say "trust the local CA to avoid browser warnings: $certs/ca.crt"
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
		[ -e "$dir/ready" ] && { say "ready: $(site_url "$hostname")"; exit 0; }
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
reload)
	pid=$(cat "$dir/nginx/nginx.pid" 2>/dev/null || true)
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || die "not running"
	kill -HUP "$pid"
	say "nginx is re-reading its configuration and certificates"
	;;
preflight)
	lock_profile
	check_ports
	;;
env)
	print_env
	;;
*)
	echo "usage: stack.sh {run|start|stop|reload|preflight|env} [PROFILE]" >&2
	exit 2
	;;
esac
