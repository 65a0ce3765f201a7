/*
 * notify: nchan publisher client over libcurl (see notify.h).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

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

/* nchan answers with channel statistics we do not need. */
static size_t
discard(char *p, size_t size, size_t nmemb, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * nmemb;
}

/* One request to the publisher: POST a message, or DELETE the channel. */
static int
notify_call(struct notify *n, const char *method, const char *channel, const char *json,
    const char *rid)
{
	const struct config *c = n->cfg;
	struct curl_slist *hdrs = NULL, *h;
	char url[512];
	long status = 0;
	CURLcode rc;
	CURL *cu = n->curl;

	if (cu == NULL || !notify_channel_valid(channel)) {
		log_msg(LOG_ERROR, "rid=%s notify: bad channel or no handle", rid);
		return -1;
	}
	if (snprintf(url, sizeof(url), "%s/pub/%s", c->nchan_url, channel) >= (int)sizeof(url))
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
	    (rc = curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT_MS, (long)c->nchan_timeout_ms)) != CURLE_OK ||
	    (rc = curl_easy_setopt(cu, CURLOPT_TIMEOUT_MS, (long)c->nchan_timeout_ms)) != CURLE_OK ||
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
		    json != NULL ? "publish" : method, channel, curl_easy_strerror(rc));
		return -1;
	}
	/* 201/202: delivered or stored; DELETE: 200 deleted, 404 no such channel. */
	if (status != 201 && status != 202 && !(json == NULL && (status == 200 || status == 404))) {
		log_msg(LOG_WARN, "rid=%s notify: %s to %s answered %ld", rid,
		    json != NULL ? "publish" : method, channel, status);
		return -1;
	}
	return 0;
}

int
notify_publish(struct notify *n, const char *channel, const char *json, const char *rid)
{
	return notify_call(n, "POST", channel, json, rid);
}

int
notify_delete(struct notify *n, const char *channel, const char *rid)
{
	return notify_call(n, "DELETE", channel, NULL, rid);
}
