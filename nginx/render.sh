#!/usr/bin/env bash
# Renders nginx.conf.in into an nginx prefix directory, for `make run`, the
# tests and the web container alike. Environment (defaults in brackets):
#   NGINX_PREFIX        prefix directory to render into (required)
#   NGINX_LOG_DIR       logs [$NGINX_PREFIX/logs]
#   CHAT_HTTPS_PORT     TLS port [8443]
#   CHAT_HTTP_PORT      plain-HTTP port that only redirects to HTTPS [off]
#   CHAT_SERVER_NAME    host name served besides localhost [$(hostname)]
#   CHAT_CERT, CHAT_CERT_KEY   server certificate and key (required)
#   CHAT_STATIC_DIR     the static/ directory [../static]
#   CHAT_UPSTREAMS      chatd servers, space-separated: unix:/path.sock or host:port (required)
#   CHAT_NCHAN_PUB_LISTEN  publisher listen address: unix:/path.sock or host:port (required)
#   CHAT_BODY_MAX       largest request body nginx reads [1m]
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
server_name=${CHAT_SERVER_NAME:-$(hostname)}
static=${CHAT_STATIC_DIR:-$(cd "$here/../static" && pwd)}

mkdir -p "$conf" "$log" "$prefix"/tmp/{body,proxy,fastcgi,uwsgi,scgi}

upstreams=""
for u in ${CHAT_UPSTREAMS:?CHAT_UPSTREAMS is required}; do
	upstreams+="server $u max_fails=1 fail_timeout=2s; "
done
user_line=""
[ "$(id -u)" = 0 ] && user_line="user ${CHAT_NGINX_USER:-www-data};"
redirect=""
[ -n "$http" ] && redirect="server { listen $http; server_name _; location / { return 301 https://\$host:$https\$request_uri; } }"
extra=""

esc() { printf '%s' "$1" | sed -e 's/[\/&|]/\\&/g'; }
[ -n "${CHAT_NGINX_EXTRA:-}" ] && extra="include $conf/extra.conf;"
render() {	# render SRC: the template with every placeholder filled, to stdout
	sed -e "s|@WWW_DIR@|$(esc "${CHAT_WWW_DIR:-$prefix/www}")|g" -e "s|@PREFIX@|$(esc "$prefix")|g" \
	-e "s|@CONF_DIR@|$(esc "$conf")|g" \
	-e "s|@LOG_DIR@|$(esc "$log")|g" \
	-e "s|@USER_LINE@|$(esc "$user_line")|g" \
	-e "s|@HTTPS_PORT@|$(esc "$https")|g" \
	-e "s|@SERVER_NAME@|$(esc "$server_name")|g" \
	-e "s|@CERT@|$(esc "${CHAT_CERT:?CHAT_CERT is required}")|g" \
	-e "s|@CERT_KEY@|$(esc "${CHAT_CERT_KEY:?CHAT_CERT_KEY is required}")|g" \
	-e "s|@STATIC_DIR@|$(esc "$static")|g" \
	-e "s|@UPSTREAM_SERVERS@|$(esc "$upstreams")|g" \
	-e "s|@NCHAN_PUB_LISTEN@|$(esc "${CHAT_NCHAN_PUB_LISTEN:?CHAT_NCHAN_PUB_LISTEN is required}")|g" \
	-e "s|@BODY_MAX@|$(esc "${CHAT_BODY_MAX:-1m}")|g" \
	-e "s|@AUTH_RATE@|$(esc "${CHAT_AUTH_RATE:-30r/m}")|g" \
	-e "s|@AUTH_BURST@|$(esc "${CHAT_AUTH_BURST:-10}")|g" \
	-e "s|@CAPTCHA_RATE@|$(esc "${CHAT_CAPTCHA_RATE:-30r/m}")|g" \
	-e "s|@CAPTCHA_BURST@|$(esc "${CHAT_CAPTCHA_BURST:-10}")|g" \
	-e "s|@API_RATE@|$(esc "${CHAT_API_RATE:-20r/s}")|g" \
	-e "s|@API_BURST@|$(esc "${CHAT_API_BURST:-100}")|g" \
	-e "s|@EXTRA_INCLUDE@|$(esc "$extra")|g" \
	-e "s|@HTTP_REDIRECT@|$(esc "$redirect")|g" \
	"$1"
}
render "$here/nginx.conf.in" >"$conf/nginx.conf.new"
if [ -n "${CHAT_NGINX_EXTRA:-}" ]; then
	render "$CHAT_NGINX_EXTRA" >"$conf/extra.conf"
fi
cp "$here/fastcgi-chat.conf" "$here/security-headers.conf" "$conf/"
if grep -n '@[A-Z_]*@' "$conf/nginx.conf.new" "$conf/extra.conf" 2>/dev/null >&2; then
	echo "render: placeholders left unfilled (above)" >&2
	exit 1
fi
mv "$conf/nginx.conf.new" "$conf/nginx.conf"
