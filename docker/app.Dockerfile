# chatd, the FastCGI server of the chat (compose service app). Build context:
# the repo root. docker/packages.txt stays the only package list.

# Build stage: the compiler and the -dev packages (role build).
FROM debian:12-slim AS build
COPY docker/deps.sh docker/packages.txt /tmp/deps/
RUN sh /tmp/deps/deps.sh build && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY fcgi/ fcgi/
RUN make build/chatd build/blocklist.txt

# Runtime stage: roles app + tools, and runtime, the shared libraries chatd
# links (libfcgi0ldbl, libjansson4, libcurl4, libmariadb3, libssl3, ...).
FROM debian:12-slim
COPY docker/deps.sh docker/packages.txt /tmp/deps/
RUN sh /tmp/deps/deps.sh app tools runtime && rm -rf /var/lib/apt/lists/* /tmp/deps
COPY --from=build /src/build/chatd /usr/local/bin/chatd
COPY --from=build /src/build/blocklist.txt /srv/chat/blocklist.txt
COPY templates/ /srv/chat/templates/
# A library missing from the runtime role fails the build here, by name,
# rather than the container at start.
RUN if ldd /usr/local/bin/chatd | grep 'not found'; then \
		echo "chatd needs the libraries above: add their packages under '# role: runtime' in docker/packages.txt" >&2; \
		exit 1; \
	fi && mkdir -p /var/lib/chat/secrets /var/lib/chat/app-secrets \
	&& chown www-data:www-data /var/lib/chat/app-secrets && chmod 0700 /var/lib/chat/app-secrets
# The settings that belong to the image; the addresses of db and web are in
# docker-compose.yml. CHATD_WORKERS stays 0: one worker per CPU.
ENV CHATD_LISTEN=:9000 \
	CHATD_TEMPLATE_DIR=/srv/chat/templates \
	CHATD_BLOCKLIST=/srv/chat/blocklist.txt \
	CHATD_SECRETS_DIR=/var/lib/chat/app-secrets
# Never root: chatd binds a port above 1024 and needs no privilege at all.
USER www-data
EXPOSE 9000
# A real FastCGI request for /api/health (a database round trip), with the
# parameter names nginx/fastcgi-chat.conf sends; cgi-fcgi is in role app.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
	CMD env -i CHAT_METHOD=GET CHAT_URI=/api/health CHAT_REMOTE_ADDR=127.0.0.1 \
		/usr/bin/cgi-fcgi -bind -connect 127.0.0.1:9000 | grep -q '^Status: 200'
ENTRYPOINT ["/usr/local/bin/chatd"]
