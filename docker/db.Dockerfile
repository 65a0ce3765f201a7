# MariaDB for the chat (compose service db). Build context: the repo root.
FROM debian:12-slim
# docker/packages.txt stays the only package list: roles db + tools.
COPY docker/deps.sh docker/packages.txt /tmp/deps/
RUN sh /tmp/deps/deps.sh db tools && rm -rf /var/lib/apt/lists/* /tmp/deps
COPY db/ /srv/chat/db/
COPY docker/db-entrypoint.sh /srv/chat/docker/
# Mount points, with the modes that fresh named volumes copy from the image.
RUN mkdir -p /var/lib/chat/db /var/lib/chat/secrets /run/chat \
	&& chown root:www-data /var/lib/chat/secrets && chmod 0750 /var/lib/chat/secrets
EXPOSE 3306
# Healthy only after the migrations (the entrypoint makes the marker), so that
# app, which waits for service_healthy, finds its user and schema.
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=5 \
	CMD test -e /run/chat/migrated && mariadb-admin --no-defaults \
		--socket=/var/lib/chat/db/run/mysqld.sock -u root ping >/dev/null
# Through bash: no reliance on the exec bit surviving checkout and COPY.
ENTRYPOINT ["bash", "/srv/chat/docker/db-entrypoint.sh"]
