/*
 * pwned: the Pwned Passwords range API over libcurl (see pwned.h).
 *
 * The password's SHA-1 lives in this file only while a check runs, and is
 * cleansed afterwards; the request carries the first 5 hex characters of
 * it and nothing else of the password. A log line names the request id and
 * what went wrong (curl's error, the status, the size), never the hash.
 */
#include <curl/curl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "log.h"
#include "pwned.h"

#define PWNED_PREFIX_LEN 5
#define PWNED_SUFFIX_LEN 35
#define PWNED_USER_AGENT "User-Agent: sealed-chat/1.0 (+pwned-passwords-check)"

struct pwned_body {
	char *p;
	size_t n, cap;
	int too_big;
};

static int
pwned_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* 1 when s[0..35) are hex digits equal to suffix[0..35) in any case. */
static int
pwned_suffix_equal(const char *s, const char *suffix)
{
	for (size_t i = 0; i < PWNED_SUFFIX_LEN; i++)
		if (pwned_hexval(s[i]) != pwned_hexval(suffix[i]))
			return 0;
	return 1;
}

/* One "SUFFIX:COUNT" line without its newline: the count, or -1. */
static long long
pwned_line(const char *s, size_t len)
{
	long long count = 0;
	size_t i;

	if (len < PWNED_SUFFIX_LEN + 2 || s[PWNED_SUFFIX_LEN] != ':')
		return -1;
	for (i = 0; i < PWNED_SUFFIX_LEN; i++)
		if (pwned_hexval(s[i]) < 0)
			return -1;
	for (i = PWNED_SUFFIX_LEN + 1; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		/* Any count above INT_MAX says the same thing: found. */
		if (count <= INT_MAX)
			count = count * 10 + (s[i] - '0');
	}
	return count > INT_MAX ? INT_MAX : count;
}

int
pwned_parse(const char *body, size_t n, const char *suffix)
{
	const char *p, *end, *nl;
	long long count, found = 0;
	size_t len;

	if (strlen(suffix) != PWNED_SUFFIX_LEN)
		return -1;
	for (size_t i = 0; i < PWNED_SUFFIX_LEN; i++)
		if (pwned_hexval(suffix[i]) < 0)
			return -1;
	if (n == 0)
		return 0;
	/* Every line is checked, so a truncated or foreign answer is never "absent". */
	for (p = body, end = body + n; p < end; p = nl != NULL ? nl + 1 : end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = (size_t)((nl != NULL ? nl : end) - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len == 0)
			continue;
		if ((count = pwned_line(p, len)) < 0)
			return -1;
		/* Padding lines are made up and carry count 0: never a match. */
		if (count > 0 && pwned_suffix_equal(p, suffix))
			found = count;
	}
	return (int)found;
}

static size_t
pwned_write(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct pwned_body *b = ctx;
	size_t len = size * nmemb, cap;
	char *grown;

	if (len > PWNED_BODY_MAX - b->n) {
		b->too_big = 1;
		return 0;	/* aborts the transfer: CURLE_WRITE_ERROR */
	}
	if (b->n + len > b->cap) {
		cap = b->cap == 0 ? 64 * 1024 : b->cap * 2;
		if (cap < b->n + len)
			cap = b->n + len;
		if (cap > PWNED_BODY_MAX)
			cap = PWNED_BODY_MAX;
		if ((grown = realloc(b->p, cap)) == NULL)
			return 0;
		b->p = grown;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, len);
	b->n += len;
	return len;
}

/* The upper-case hex SHA-1 of nfkc into hex[41]. 0 or -1. */
static int
pwned_sha1_hex(const char *nfkc, char hex[41])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int rc = -1;

	if (EVP_Digest(nfkc, strlen(nfkc), md, &mdlen, EVP_sha1(), NULL) != 1 || mdlen != 20)
		goto out;
	hex_encode(md, 20, hex, 1);
	rc = 0;
out:
	OPENSSL_cleanse(md, sizeof(md));
	return rc;
}

/* The request's headers, or NULL when out of memory. */
static struct curl_slist *
pwned_headers(void)
{
	struct curl_slist *hdrs, *h;

	if ((hdrs = curl_slist_append(NULL, "Add-Padding: true")) == NULL)
		return NULL;
	if ((h = curl_slist_append(hdrs, PWNED_USER_AGENT)) == NULL) {
		curl_slist_free_all(hdrs);
		return NULL;
	}
	return h;
}

enum pwned_result
pwned_check(void *curl, const char *base_url, const char *cainfo, const char *nfkc,
    int timeout_ms, const char *rid)
{
	struct pwned_body body = {0};
	struct curl_slist *hdrs = NULL;
	enum pwned_result res = PWNED_UNREACHABLE;
	char hex[41], url[512];
	size_t blen;
	long status = 0;
	CURLcode rc;
	CURL *cu = curl;
	int n, count;

	if (rid == NULL)
		rid = "-";
	if (cu == NULL) {
		log_msg(LOG_WARN, "rid=%s pwned: no curl handle in this thread", rid);
		return PWNED_UNREACHABLE;
	}
	curl_easy_reset(cu);
	if (pwned_sha1_hex(nfkc, hex) < 0) {
		log_msg(LOG_ERROR, "rid=%s pwned: SHA-1 failed", rid);
		goto out;
	}
	blen = strlen(base_url);
	while (blen > 0 && base_url[blen - 1] == '/')
		blen--;
	n = snprintf(url, sizeof(url), "%.*s/range/%.*s", (int)blen, base_url, PWNED_PREFIX_LEN, hex);
	if (n < 0 || (size_t)n >= sizeof(url)) {
		log_msg(LOG_ERROR, "rid=%s pwned: base URL too long", rid);
		goto out;
	}
	if ((hdrs = pwned_headers()) == NULL) {
		log_msg(LOG_ERROR, "rid=%s pwned: out of memory", rid);
		goto out;
	}
	if ((rc = curl_easy_setopt(cu, CURLOPT_URL, url)) != CURLE_OK ||
	    (rc = curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
	    (rc = curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "http,https")) != CURLE_OK ||
	    (rc = curl_easy_setopt(cu, CURLOPT_FOLLOWLOCATION, 0L)) != CURLE_OK ||
	    (rc = curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms)) != CURLE_OK ||
	    (rc = curl_easy_setopt(cu, CURLOPT_TIMEOUT_MS, (long)timeout_ms)) != CURLE_OK ||
	    (rc = curl_easy_setopt(cu, CURLOPT_HTTPHEADER, hdrs)) != CURLE_OK ||
	    (rc = curl_easy_setopt(cu, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)PWNED_BODY_MAX)) != CURLE_OK ||
	    (rc = curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, pwned_write)) != CURLE_OK ||
	    (rc = curl_easy_setopt(cu, CURLOPT_WRITEDATA, &body)) != CURLE_OK ||
	    (cainfo != NULL && cainfo[0] != '\0' &&
	    (rc = curl_easy_setopt(cu, CURLOPT_CAINFO, cainfo)) != CURLE_OK)) {
		log_msg(LOG_ERROR, "rid=%s pwned: curl setup: %s", rid, curl_easy_strerror(rc));
		goto out;
	}
	rc = curl_easy_perform(cu);
	if (body.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		log_msg(LOG_WARN, "rid=%s pwned: answer larger than %u bytes", rid, PWNED_BODY_MAX);
		goto out;
	}
	if (rc != CURLE_OK) {
		log_msg(LOG_WARN, "rid=%s pwned: range request failed: %s", rid, curl_easy_strerror(rc));
		goto out;
	}
	if ((rc = curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &status)) != CURLE_OK) {
		log_msg(LOG_WARN, "rid=%s pwned: no status: %s", rid, curl_easy_strerror(rc));
		goto out;
	}
	if (status != 200) {
		log_msg(LOG_WARN, "rid=%s pwned: range API answered %ld", rid, status);
		goto out;
	}
	count = pwned_parse(body.p != NULL ? body.p : "", body.n, hex + PWNED_PREFIX_LEN);
	if (count < 0) {
		log_msg(LOG_WARN, "rid=%s pwned: malformed answer (%zu bytes)", rid, body.n);
		goto out;
	}
	res = count > 0 ? PWNED_FOUND : PWNED_NOT_FOUND;
out:
	/* The handle must not keep pointers to this frame's headers and body. */
	curl_easy_reset(cu);
	curl_slist_free_all(hdrs);
	free(body.p);
	OPENSSL_cleanse(hex, sizeof(hex));
	return res;
}
