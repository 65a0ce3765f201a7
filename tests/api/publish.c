/*
 * publish: publishes one event through chatd's own notify module, the way a
 * handler does, for the nchan tests.
 * Usage: publish NCHAN_SOCKET CHANNEL JSON   (exit 0 when nchan took it)
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "notify.h"

int
main(int argc, char **argv)
{
	static struct config cfg;
	struct notify n;
	int rc;

	if (argc != 4) {
		fprintf(stderr, "usage: publish NCHAN_SOCKET CHANNEL JSON\n");
		return 2;
	}
	snprintf(cfg.nchan_url, sizeof(cfg.nchan_url), "http://localhost");
	snprintf(cfg.nchan_socket, sizeof(cfg.nchan_socket), "%s", argv[1]);
	cfg.nchan_timeout_ms = 2000;
	if (notify_global_init() < 0 || notify_init(&n, &cfg) < 0)
		return 1;
	rc = notify_publish(&n, argv[2], argv[3], "publish-tool");
	notify_free(&n);
	return rc == 0 ? 0 : 1;
}
