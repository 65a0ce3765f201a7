/*
 * notify: nchan publisher client over libcurl (see notify.h).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "notify.h"

int
notify_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int
notify_init(struct notify *n, const struct config *cfg)
{
	n->cfg = cfg;
	n->curl = curl_easy_init();
	return n->curl != NULL ? 0 : -1;
}

void
notify_free(struct notify *n)
{
	if (n->curl != NULL)
		curl_easy_cleanup(n->curl);
	n->curl = NULL;
}

int
notify_channel_valid(const char *name)
{
	size_t i;

	for (i = 0; name[i] != '\0'; i++) {
		char c = name[i];

		if (i == 64 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return i > 0;
}

int
notify_join(const char *const *channels, size_t n, char *out, size_t outsz)
{
	size_t i, used = 0;

	for (i = 0; i < n && i < NOTIFY_MANY_MAX; i++) {
		size_t len;

		if (!notify_channel_valid(channels[i]))
			return -1;
		len = strlen(channels[i]);
		if (used + (i > 0) + len >= outsz)
			break;
		if (i > 0)
			out[used++] = ',';
		memcpy(out + used, channels[i], len);
		used += len;
	}
	if (outsz > 0)
		out[used] = '\0';
	return (int)i;
}

/* nchan answers with channel statistics we do not need. */
static size_t
discard(char *p, size_t size, size_t nmemb, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * nmemb;
}

static long long
notify_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * One request to the publisher, of at most ms: POST json to the channels of
 * list (count of them, already checked), or DELETE the one channel list.
 * The log names a lone channel, or how many there were; never the message.
 */
static int
notify_call(struct notify *n, const char *method, const char *list, int count, const char *json,
    long ms, const char *rid)
{
	const struct config *c = n->cfg;
	struct curl_slist *hdrs = NULL, *h;
	char url[256 + sizeof("/pub/") + NOTIFY_LIST_MAX], what[72];
	long status = 0;
	CURLcode rc;
	CURL *cu = n->curl;

	if (count == 1)
		snprintf(what, sizeof(what), "%s", list);	/* a channel is at most 64 */
	else
		snprintf(what, sizeof(what), "%d channels", count);
	if (cu == NULL) {
		log_msg(LOG_ERROR, "rid=%s notify: no handle", rid);
		return -1;
	}
	if (snprintf(url, sizeof(url), "%s/pub/%s", c->nchan_url, list) >= (int)sizeof(url))
		return -1;
	if ((h = curl_slist_append(NULL, "Content-Type: application/json")) == NULL)
		return -1;
	hdrs = h;
	if ((h = curl_slist_append(hdrs, "Accept: application/json")) == NULL) {
		curl_slist_free_all(hdrs);
		return -1;
	}
	hdrs = h;

	curl_easy_reset(cu);
	if ((rc = curl_easy_setopt(cu, CURLOPT_URL, url)) != CURLE_OK ||
	    (rc = curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
	    (rc = curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "http,https")) != CURLE_OK ||
	    (rc = curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT_MS, ms)) != CURLE_OK ||
	    (rc = curl_easy_setopt(cu, CURLOPT_TIMEOUT_MS, ms)) != CURLE_OK ||
	    (rc = curl_easy_setopt(cu, CURLOPT_HTTPHEADER, hdrs)) != CURLE_OK ||
	    (json != NULL && (rc = curl_easy_setopt(cu, CURLOPT_POSTFIELDS, json)) != CURLE_OK) ||
	    (json != NULL && (rc = curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE, (long)strlen(json))) != CURLE_OK) ||
	    (json == NULL && (rc = curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, method)) != CURLE_OK) ||
	    (rc = curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, discard)) != CURLE_OK ||
	    (c->nchan_socket[0] != '\0' &&
	    (rc = curl_easy_setopt(cu, CURLOPT_UNIX_SOCKET_PATH, c->nchan_socket)) != CURLE_OK)) {
		log_msg(LOG_ERROR, "rid=%s notify: curl setup: %s", rid, curl_easy_strerror(rc));
		curl_slist_free_all(hdrs);
		return -1;
	}
	rc = curl_easy_perform(cu);
	if (rc == CURLE_OK)
		curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_setopt(cu, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	if (rc != CURLE_OK) {
		log_msg(LOG_WARN, "rid=%s notify: %s to %s failed: %s", rid,
		    json != NULL ? "publish" : method, what, curl_easy_strerror(rc));
		return -1;
	}
	/* 201: delivered (to some subscriber), 202: stored with none;
	 * DELETE: 200 deleted, 404 no such channel. */
	if (status != 201 && status != 202 && !(json == NULL && (status == 200 || status == 404))) {
		log_msg(LOG_WARN, "rid=%s notify: %s to %s answered %ld", rid,
		    json != NULL ? "publish" : method, what, status);
		return -1;
	}
	return 0;
}

int
notify_publish(struct notify *n, const char *channel, const char *json, const char *rid)
{
	return notify_publish_many(n, &channel, 1, json, rid);
}

int
notify_publish_many(struct notify *n, const char *const *channels, size_t count, const char *json,
    const char *rid)
{
	char list[NOTIFY_LIST_MAX + 1];
	long long deadline = notify_now_ms() + n->cfg->nchan_timeout_ms, left;
	size_t done = 0;
	int k, rc = 0;

	while (done < count) {
		if ((left = deadline - notify_now_ms()) <= 0) {
			log_msg(LOG_WARN, "rid=%s notify: publish to %zu channels: out of time, %zu not told",
			    rid, count, count - done);
			return -1;
		}
		if ((k = notify_join(channels + done, count - done, list, sizeof(list))) <= 0) {
			log_msg(LOG_ERROR, "rid=%s notify: bad channel", rid);
			return -1;
		}
		/* A batch that failed is not sent again: its channels may have it. */
		if (notify_call(n, "POST", list, k, json, (long)left, rid) < 0)
			rc = -1;
		done += (size_t)k;
	}
	return rc;
}

int
notify_delete(struct notify *n, const char *channel, const char *rid)
{
	if (!notify_channel_valid(channel)) {
		log_msg(LOG_ERROR, "rid=%s notify: bad channel", rid);
		return -1;
	}
	return notify_call(n, "DELETE", channel, 1, NULL, n->cfg->nchan_timeout_ms, rid);
}
