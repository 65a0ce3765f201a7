#!/usr/bin/env bash
# Renders nginx.conf.in (and http.conf.in) into an nginx prefix directory, for
# `make run`, the tests and the web container alike. Environment (defaults in
# brackets):
#   NGINX_PREFIX        prefix directory to render into (required)
#   NGINX_LOG_DIR       logs [$NGINX_PREFIX/logs]
#   CHAT_HTTPS_PORT     TLS port [8443]
#   CHAT_HTTP_PORT      plain-HTTP port: ACME challenges and a redirect to HTTPS [off]
#   CHAT_HOSTNAME       the site's host name, first in redirects [$(hostname)]
#   CHAT_EXTRA_HOSTNAMES  more names served, space- or comma-separated [localhost 127.0.0.1]
#   CHAT_PUBLIC_HTTPS_PORT  the HTTPS port browsers use, when a proxy or
#                       container maps another one to CHAT_HTTPS_PORT [CHAT_HTTPS_PORT]
#   CHAT_CERT, CHAT_CERT_KEY   server certificate (full chain) and key (required)
#   CHAT_ACME_DIR       webroot of ACME HTTP-01 challenges [$NGINX_PREFIX/acme]
#   CHAT_STATIC_DIR     the static/ directory [../static]
#   CHAT_UPSTREAMS      chatd servers, space-separated: unix:/path.sock or host:port (required)
#   CHAT_NCHAN_PUB_LISTEN  publisher listen address: unix:/path.sock or host:port (required)
#   CHAT_BODY_MAX       largest request body nginx reads [1m]
#   CHAT_BODY_TIME      seconds a whole request body may take to arrive [20]
#   CHAT_CONN_PER_ADDR  requests in progress per client address, event streams included [200]
#   CHAT_AUTH_RATE/BURST, CHAT_CAPTCHA_RATE/BURST, CHAT_API_RATE/BURST  limit_req settings
#   CHAT_NGINX_USER     user of the worker processes when run as root [www-data]
#   CHAT_NGINX_EXTRA    a template of extra locations for the TLS server (tests) [none]
#   CHAT_WWW_DIR        root of files the extra locations serve [$NGINX_PREFIX/www]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prefix=${NGINX_PREFIX:?NGINX_PREFIX is required}
conf=$prefix/conf
log=${NGINX_LOG_DIR:-$prefix/logs}
https=${CHAT_HTTPS_PORT:-8443}
http=${CHAT_HTTP_PORT:-}
public=${CHAT_PUBLIC_HTTPS_PORT:-$https}
static=${CHAT_STATIC_DIR:-$(cd "$here/../static" && pwd)}
acme=${CHAT_ACME_DIR:-$prefix/acme}

die() { echo "render: $*" >&2; exit 1; }
port_ok() { [[ $1 =~ ^[1-9][0-9]{0,4}$ ]] && [ "$1" -le 65535 ]; }
for v in CHAT_HTTPS_PORT:$https CHAT_PUBLIC_HTTPS_PORT:$public ${http:+CHAT_HTTP_PORT:$http}; do
	port_ok "${v#*:}" || die "${v%%:*} must be a port number, not '${v#*:}'"
done
[ "$http" != "$https" ] || die "CHAT_HTTP_PORT and CHAT_HTTPS_PORT must differ (both are $https)"
[[ ${CHAT_BODY_TIME:-20} =~ ^[1-9][0-9]{0,3}$ ]] || die "CHAT_BODY_TIME must be whole seconds (1-9999), not '${CHAT_BODY_TIME}'"
[[ ${CHAT_CONN_PER_ADDR:-200} =~ ^[1-9][0-9]{0,5}$ ]] || die "CHAT_CONN_PER_ADDR must be a positive number, not '${CHAT_CONN_PER_ADDR}'"

# The names, checked as mkcerts.sh checks them (they go into the configuration
# as they are): CHAT_HOSTNAME first, then the extra ones, each once.
label='[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?'
names=()
set -f
for n in "${CHAT_HOSTNAME:-$(hostname)}" $(tr ',' ' ' <<<"${CHAT_EXTRA_HOSTNAMES-localhost 127.0.0.1}"); do
	n=${n,,}
	[[ ${#n} -le 253 && $n =~ ^$label(\.$label)*$ ]] || die "'$n' is not a host name (CHAT_HOSTNAME, CHAT_EXTRA_HOSTNAMES)"
	[[ " ${names[*]} " == *" $n "* ]] || names+=("$n")
done
set +f
suffix=":$public"
[ "$public" = 443 ] && suffix=""
origin_map=""
for n in "${names[@]}"; do origin_map+="$n https://$n$suffix; "; done

mkdir -p "$conf" "$log" "$acme" "$prefix"/tmp/{body,proxy,fastcgi,uwsgi,scgi}

upstreams=""
for u in ${CHAT_UPSTREAMS:?CHAT_UPSTREAMS is required}; do
	upstreams+="server $u max_fails=1 fail_timeout=2s; "
done
user_line=""
[ "$(id -u)" = 0 ] && user_line="user ${CHAT_NGINX_USER:-www-data};"
http_include=""
[ -n "$http" ] && http_include="include $conf/http.conf;"
extra=""
[ -n "${CHAT_NGINX_EXTRA:-}" ] && extra="include $conf/extra.conf;"

esc() { printf '%s' "$1" | sed -e 's/[\/&|]/\\&/g'; }
render() {	# render SRC: the template with every placeholder filled, to stdout
	sed -e "s|@WWW_DIR@|$(esc "${CHAT_WWW_DIR:-$prefix/www}")|g" -e "s|@PREFIX@|$(esc "$prefix")|g" \
	-e "s|@CONF_DIR@|$(esc "$conf")|g" \
	-e "s|@LOG_DIR@|$(esc "$log")|g" \
	-e "s|@USER_LINE@|$(esc "$user_line")|g" \
	-e "s|@HTTPS_PORT@|$(esc "$https")|g" \
	-e "s|@HTTP_PORT@|$(esc "$http")|g" \
	-e "s|@SERVER_NAMES@|$(esc "${names[*]}")|g" \
	-e "s|@ORIGIN_MAP@|$(esc "$origin_map")|g" \
	-e "s|@ACME_DIR@|$(esc "$acme")|g" \
	-e "s|@CERT@|$(esc "${CHAT_CERT:?CHAT_CERT is required}")|g" \
	-e "s|@CERT_KEY@|$(esc "${CHAT_CERT_KEY:?CHAT_CERT_KEY is required}")|g" \
	-e "s|@STATIC_DIR@|$(esc "$static")|g" \
	-e "s|@UPSTREAM_SERVERS@|$(esc "$upstreams")|g" \
	-e "s|@NCHAN_PUB_LISTEN@|$(esc "${CHAT_NCHAN_PUB_LISTEN:?CHAT_NCHAN_PUB_LISTEN is required}")|g" \
	-e "s|@BODY_MAX@|$(esc "${CHAT_BODY_MAX:-1m}")|g" \
	-e "s|@BODY_TIME@|$(esc "${CHAT_BODY_TIME:-20}")|g" \
	-e "s|@CONN_PER_ADDR@|$(esc "${CHAT_CONN_PER_ADDR:-200}")|g" \
	-e "s|@AUTH_RATE@|$(esc "${CHAT_AUTH_RATE:-30r/m}")|g" \
	-e "s|@AUTH_BURST@|$(esc "${CHAT_AUTH_BURST:-10}")|g" \
	-e "s|@CAPTCHA_RATE@|$(esc "${CHAT_CAPTCHA_RATE:-30r/m}")|g" \
	-e "s|@CAPTCHA_BURST@|$(esc "${CHAT_CAPTCHA_BURST:-10}")|g" \
	-e "s|@API_RATE@|$(esc "${CHAT_API_RATE:-20r/s}")|g" \
	-e "s|@API_BURST@|$(esc "${CHAT_API_BURST:-100}")|g" \
	-e "s|@EXTRA_INCLUDE@|$(esc "$extra")|g" \
	-e "s|@HTTP_INCLUDE@|$(esc "$http_include")|g" \
	"$1"
}
render "$here/nginx.conf.in" >"$conf/nginx.conf.new"
render "$here/http.conf.in" >"$conf/http.conf"
if [ -n "${CHAT_NGINX_EXTRA:-}" ]; then
	render "$CHAT_NGINX_EXTRA" >"$conf/extra.conf"
fi
cp "$here/fastcgi-chat.conf" "$here/security-headers.conf" "$here/unknown-host.conf" \
	"$here/body-deadline.lua" "$conf/"
if grep -n '@[A-Z_]*@' "$conf/nginx.conf.new" "$conf/http.conf" "$conf/extra.conf" 2>/dev/null >&2; then
	echo "render: placeholders left unfilled (above)" >&2
	exit 1
fi
mv "$conf/nginx.conf.new" "$conf/nginx.conf"
