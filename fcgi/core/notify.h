/*
 * notify: publishing small JSON events to users' nchan channels.
 *
 * chatd POSTs an event to nginx's nchan publisher (a server that listens on
 * a unix socket only, so nobody outside the host can publish), which pushes
 * it to every subscriber of the channel. An event for many users is one
 * request per NOTIFY_MANY_MAX channels ("/pub/u1,u2,u3"), which nchan stores
 * in each channel exactly as if it had been published there alone, with that
 * channel's own message id, so a stream resumes with Last-Event-ID as
 * usual. However many channels, one publish waits at most
 * CHATD_NCHAN_TIMEOUT_MS in all. Publishing is best effort: a failure is
 * logged and returned, never fatal, because clients re-fetch what they
 * missed from the API. One handle per thread keeps the connection.
 */
#ifndef CHATD_NOTIFY_H
#define CHATD_NOTIFY_H

#include <stddef.h>

/* Channels one request may name: nchan parses a list into a fixed array of
 * this many (NCHAN_MULTITAG_MAX), and nginx's publisher location admits no more. */
#define NOTIFY_MANY_MAX 255
/* Bytes of one request's channel list; nginx's nchan_max_channel_id_length is 4096. */
#define NOTIFY_LIST_MAX 4000

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
 * Joins the first channels of channels[0..n) with "," into out, as many as
 * one request may carry: at most NOTIFY_MANY_MAX, in at most outsz - 1
 * bytes. Returns how many it took: 0 when n is 0 or the first does not
 * fit, -1 when a channel it reached is not valid (out is then undefined).
 */
int notify_join(const char *const *channels, size_t n, char *out, size_t outsz);

/*
 * Publishes json to channel; rid tags the log line. 0 when nchan took it
 * (201 delivered, 202 stored with no subscriber), -1 otherwise (logged).
 */
int notify_publish(struct notify *, const char *channel, const char *json, const char *rid);

/*
 * Publishes json to every one of channels[0..n), one request per
 * NOTIFY_MANY_MAX of them, all within one CHATD_NCHAN_TIMEOUT_MS. 0 when
 * nchan took it everywhere; -1 otherwise, logged with how many channels
 * were not told (never the message).
 */
int notify_publish_many(struct notify *, const char *const *channels, size_t n, const char *json,
    const char *rid);

/*
 * Deletes channel: its stored messages go and its subscribers are
 * disconnected (they must authenticate again to subscribe). 0 or -1.
 */
int notify_delete(struct notify *, const char *channel, const char *rid);

#endif
