/*
 * notify: publishing small JSON events to users' nchan channels.
 *
 * chatd POSTs an event to nginx's nchan publisher (a server that listens on
 * a unix socket only, so nobody outside the host can publish), which pushes
 * it to every subscriber of the channel. Publishing is best effort: a
 * failure is logged and returned, never fatal, because clients re-fetch
 * what they missed from the API. One handle per thread keeps the connection.
 */
#ifndef CHATD_NOTIFY_H
#define CHATD_NOTIFY_H

struct config;

struct notify {
	const struct config *cfg;
	void *curl;
};

/* Once per process, before fork and threads. 0 or -1. */
int notify_global_init(void);
/* Per thread. 0 or -1. */
int notify_init(struct notify *, const struct config *);
void notify_free(struct notify *);

/* 1 when name is a valid channel id: 1-64 of [A-Za-z0-9_-]. */
int notify_channel_valid(const char *name);

/*
 * Publishes json to channel; rid tags the log line. 0 when nchan took it
 * (201 delivered, 202 stored with no subscriber), -1 otherwise (logged).
 */
int notify_publish(struct notify *, const char *channel, const char *json, const char *rid);

/*
 * Deletes channel: its stored messages go and its subscribers are
 * disconnected (they must authenticate again to subscribe). 0 or -1.
 */
int notify_delete(struct notify *, const char *channel, const char *rid);

#endif
