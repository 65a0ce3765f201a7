#!/usr/bin/env bash
# The web container: renders nginx/nginx.conf.in as tests/stack.sh does, but
# with the compose network's addresses, then runs nginx as PID 1.
#  - chatd is app:9000 (TCP); the nchan publisher listens on TCP 8081, which
#    only the compose network reaches (not published in docker-compose.yml).
#  - certs/local of the host (`make certs`) is mounted read-only at
#    /srv/chat/certs; the prefix is a tmpfs; the logs are symlinks to
#    stdout/stderr made in web.Dockerfile, i.e. `docker-compose logs web`.
#  - CHAT_HTTP_PORT (plain-HTTP redirect) stays off unless set, and must then
#    also be published.
set -euo pipefail
export NGINX_PREFIX=${NGINX_PREFIX:-/var/lib/chat/nginx}
export NGINX_LOG_DIR=${NGINX_LOG_DIR:-/var/log/chat}
export CHAT_HTTPS_PORT=${CHAT_HTTPS_PORT:-8443}
export CHAT_HTTP_PORT=${CHAT_HTTP_PORT:-}
export CHAT_UPSTREAMS=${CHAT_UPSTREAMS:-app:9000}
export CHAT_NCHAN_PUB_LISTEN=${CHAT_NCHAN_PUB_LISTEN:-8081}
export CHAT_STATIC_DIR=${CHAT_STATIC_DIR:-/srv/chat/static}
certs=${CHAT_CERTS_DIR:-/srv/chat/certs}
export CHAT_CERT=$certs/server.crt CHAT_CERT_KEY=$certs/server.key

for f in "$CHAT_CERT" "$CHAT_CERT_KEY"; do
	[ -r "$f" ] || { echo "web: cannot read $f: run 'make certs' on the host first" >&2; exit 1; }
done
bash /srv/chat/nginx/render.sh
# -e stderr: nginx would otherwise open /var/log/nginx/error.log before
# reading its configuration, and the root filesystem is read-only.
exec nginx -p "$NGINX_PREFIX" -c conf/nginx.conf -e stderr -g 'daemon off;'
