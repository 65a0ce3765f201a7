#!/usr/bin/env bash
# The web container: renders nginx/nginx.conf.in as tests/stack.sh does, but
# with the compose network's addresses, then runs nginx as PID 1.
#  - chatd is app:9000 (TCP); the nchan publisher listens on TCP 8081, which
#    only the compose network reaches (not published in docker-compose.yml).
#  - the certificate directory of the host (CHAT_CERTS_DIR in compose: by
#    default certs/local of `make certs`, or /etc/letsencrypt) is mounted
#    read-only at /srv/chat/certs; CHAT_CERT and CHAT_CERT_KEY name the files
#    in it. The ACME webroot is /srv/chat/acme. The prefix is a tmpfs; the
#    logs are symlinks to stdout/stderr made in web.Dockerfile, i.e.
#    `docker-compose logs web`.
#  - CHAT_HOSTNAME, CHAT_EXTRA_HOSTNAMES and CHAT_PUBLIC_HTTPS_PORT (the port
#    published on the host) come from docker-compose.yml; CHAT_HTTP_PORT is
#    the container's plain-HTTP port (ACME challenges and the redirect).
set -euo pipefail
export NGINX_PREFIX=${NGINX_PREFIX:-/var/lib/chat/nginx}
export NGINX_LOG_DIR=${NGINX_LOG_DIR:-/var/log/chat}
export CHAT_HTTPS_PORT=${CHAT_HTTPS_PORT:-8443}
export CHAT_HTTP_PORT=${CHAT_HTTP_PORT:-}
export CHAT_UPSTREAMS=${CHAT_UPSTREAMS:-app:9000}
export CHAT_NCHAN_PUB_LISTEN=${CHAT_NCHAN_PUB_LISTEN:-8081}
export CHAT_STATIC_DIR=${CHAT_STATIC_DIR:-/srv/chat/static}
export CHAT_ACME_DIR=${CHAT_ACME_DIR:-/srv/chat/acme}
certs=/srv/chat/certs
export CHAT_CERT=$certs/${CHAT_CERT:-server.crt} CHAT_CERT_KEY=$certs/${CHAT_CERT_KEY:-server.key}

for f in "$CHAT_CERT" "$CHAT_CERT_KEY"; do
	[ -r "$f" ] || { echo "web: cannot read $f: run 'make certs' on the host, or set CHAT_CERTS_DIR, CHAT_CERT and CHAT_CERT_KEY" >&2; exit 1; }
done
bash /srv/chat/nginx/render.sh
# A certificate renewed on the host (an ACME client writing into the mounted
# directory) is picked up without a restart: nginx re-reads its configuration
# and certificates every CHAT_RELOAD_HOURS hours (0: never); `docker-compose
# kill -s HUP web` does it at once. The loop outlives the exec below as a
# child of nginx.
hours=${CHAT_RELOAD_HOURS:-12}
[[ $hours =~ ^[0-9]{1,4}$ ]] || { echo "web: CHAT_RELOAD_HOURS must be whole hours, not '$hours'" >&2; exit 1; }
if [ "$hours" -gt 0 ]; then
	(while sleep $((hours * 3600)); do
		nginx -p "$NGINX_PREFIX" -c conf/nginx.conf -e stderr -s reload
	done) </dev/null &
fi
# -e stderr: nginx would otherwise open /var/log/nginx/error.log before
# reading its configuration, and the root filesystem is read-only.
exec nginx -p "$NGINX_PREFIX" -c conf/nginx.conf -e stderr -g 'daemon off;'
