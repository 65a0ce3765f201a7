# nginx + nchan for the chat (compose service web). Build context: the repo root.
FROM debian:12-slim
# docker/packages.txt stays the only package list: roles web + tools (curl for
# the healthcheck). The logs go to the container's stdout/stderr.
COPY docker/deps.sh docker/packages.txt /tmp/deps/
RUN sh /tmp/deps/deps.sh web tools && rm -rf /var/lib/apt/lists/* /tmp/deps \
	&& mkdir -p /var/log/chat /var/lib/chat/nginx /srv/chat/certs /srv/chat/acme \
	&& ln -sf /dev/stdout /var/log/chat/nginx-access.log \
	&& ln -sf /dev/stderr /var/log/chat/nginx-error.log
COPY nginx/ /srv/chat/nginx/
COPY static/ /srv/chat/static/
COPY docker/web-entrypoint.sh /srv/chat/docker/
EXPOSE 8443 8080
# SIGQUIT: graceful stop (open requests finish); SIGTERM would be the fast one.
STOPSIGNAL SIGQUIT
# Through app as well: /api/health answers 200 only with a database round trip.
# Asked under the site's own name (any other is refused) on the loopback; it
# asks whether the site serves, not whether its certificate is trusted, so it
# needs no CA (a real certificate comes without ours).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
	CMD curl -sfk -o /dev/null --resolve "${CHAT_HOSTNAME:-localhost}:8443:127.0.0.1" \
		"https://${CHAT_HOSTNAME:-localhost}:8443/api/health"
ENTRYPOINT ["bash", "/srv/chat/docker/web-entrypoint.sh"]
