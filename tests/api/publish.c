/*
 * publish: publishes one event through chatd's own notify module, the way a
 * handler does, for the nchan tests: to one channel, or to a list of them as
 * one fan-out (notify_publish_many).
 * Usage: publish NCHAN_SOCKET CHANNEL[,CHANNEL...] JSON   (exit 0 when nchan took it)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "notify.h"

int
main(int argc, char **argv)
{
	static struct config cfg;
	const char **channels;
	struct notify n;
	size_t count = 1;
	char *p;
	int rc;

	if (argc != 4) {
		fprintf(stderr, "usage: publish NCHAN_SOCKET CHANNEL[,CHANNEL...] JSON\n");
		return 2;
	}
	for (p = argv[2]; *p != '\0'; p++)
		count += *p == ',';
	if ((channels = calloc(count, sizeof(*channels))) == NULL)
		return 1;
	/* Split in place: "a,b" is the channels "a" and "b"; "a,,b" has an empty one. */
	channels[0] = argv[2];
	count = 1;
	for (p = argv[2]; *p != '\0'; p++)
		if (*p == ',') {
			*p = '\0';
			channels[count++] = p + 1;
		}
	snprintf(cfg.nchan_url, sizeof(cfg.nchan_url), "http://localhost");
	snprintf(cfg.nchan_socket, sizeof(cfg.nchan_socket), "%s", argv[1]);
	cfg.nchan_timeout_ms = 2000;
	if (notify_global_init() < 0 || notify_init(&n, &cfg) < 0) {
		free(channels);
		return 1;
	}
	rc = count == 1 ? notify_publish(&n, channels[0], argv[3], "publish-tool") :
	    notify_publish_many(&n, channels, count, argv[3], "publish-tool");
	notify_free(&n);
	free(channels);
	return rc == 0 ? 0 : 1;
}
