/*
 * password: NFKC normalization, the rules for a new password, the shipped
 * blocklist, and bcrypt over an HMAC pre-hash (see password.h).
 *
 * Every buffer that held the password's HMAC or bcrypt's working state is
 * cleansed before it is released; the password itself belongs to the
 * caller, who cleanses it. Rule checks read the password in place and copy
 * nothing, so they leave nothing behind to cleanse.
 */
#include <crypt.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "password.h"
#include "utf8.h"

#define PASSWORD_PREHASH_LEN 44	/* base64 of 32 bytes, '=' included */
#define PASSWORD_RUN_PERIOD 4	/* longest repeated pattern that counts as a run */

static const struct {
	const char *code;
	const char *message;
} verdicts[] = {
	[PASSWORD_OK] = {"password_ok", "The password is acceptable."},
	[PASSWORD_TOO_SHORT] = {"password_too_short",
	    "The password must be at least 8 characters long."},
	[PASSWORD_TOO_LONG] = {"password_too_long",
	    "The password must be at most 128 characters long."},
	[PASSWORD_INVALID] = {"password_invalid",
	    "The password holds bytes that are not valid text; type it again."},
	[PASSWORD_NOT_PRINTABLE] = {"password_not_printable",
	    "The password may hold letters, digits, symbols and spaces, but not control "
	    "characters such as tabs or line breaks."},
	[PASSWORD_HAS_USERNAME] = {"password_has_username",
	    "The password must not contain your user name; choose another."},
	[PASSWORD_RUN] = {"password_run",
	    "The password is a repeated or sequential pattern such as aaaaaaaa or 12345678; "
	    "choose another."},
	[PASSWORD_BLOCKLISTED] = {"password_blocklisted",
	    "This password is on a list of commonly used passwords; choose another."},
	[PASSWORD_PWNED] = {"password_pwned",
	    "This password appears in a list of passwords exposed in data breaches; choose another."},
};

static int
password_verdict_known(enum password_verdict v)
{
	return (int)v >= 0 && (size_t)v < sizeof(verdicts) / sizeof(verdicts[0]) &&
	    verdicts[v].code != NULL;
}

const char *
password_verdict_code(enum password_verdict v)
{
	return password_verdict_known(v) ? verdicts[v].code : verdicts[PASSWORD_INVALID].code;
}

const char *
password_verdict_message(enum password_verdict v)
{
	return password_verdict_known(v) ? verdicts[v].message : verdicts[PASSWORD_INVALID].message;
}

static unsigned char
password_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

int
password_normalize(const char *in, size_t n, char *out, size_t outlen, size_t *codepoints)
{
	uint8_t *res;
	size_t len;

	*codepoints = 0;
	if (outlen == 0)
		return -1;
	out[0] = '\0';
	if (!utf8_valid(in, n))
		return -1;
	len = outlen - 1;	/* room for the NUL */
	res = u8_normalize(UNINORM_NFKC, (const uint8_t *)in, n, (uint8_t *)out, &len);
	if (res == NULL)
		return -1;
	if (res != (uint8_t *)out) {
		/* It did not fit, so libunistring allocated the result. */
		OPENSSL_cleanse(res, len);
		free(res);
		OPENSSL_cleanse(out, outlen);
		out[0] = '\0';
		return -1;
	}
	out[len] = '\0';
	*codepoints = u8_mbsnlen(res, len);
	return 0;
}

/* 1 when every code point of s[0..n) is printable; a space is, a control is not. */
static int
password_printable(const char *str, size_t n)
{
	const uint8_t *s = (const uint8_t *)str, *end = s + n;
	ucs4_t uc;
	int k;

	while (s < end) {
		if ((k = u8_mbtouc(&uc, s, (size_t)(end - s))) <= 0 || !uc_is_print(uc))
			return 0;
		s += k;
	}
	return 1;
}

/* 1 when name occurs in s, ASCII letters compared without case. */
static int
password_has_name(const char *s, const char *name)
{
	size_t m = strlen(name), j;

	for (; *s != '\0'; s++) {
		for (j = 0; j < m && password_lower((unsigned char)s[j]) ==
		    password_lower((unsigned char)name[j]); j++)
			;
		if (j == m)
			return 1;
	}
	return 0;
}

enum password_verdict
password_rules(const char *nfkc, size_t codepoints, const char *username)
{
	size_t n = strlen(nfkc);

	if (codepoints < PASSWORD_MIN)
		return PASSWORD_TOO_SHORT;
	if (codepoints > PASSWORD_MAX)
		return PASSWORD_TOO_LONG;
	/* password_normalize() made it; a caller that did not gets no pass. */
	if (!utf8_valid(nfkc, n))
		return PASSWORD_INVALID;
	if (!password_printable(nfkc, n))
		return PASSWORD_NOT_PRINTABLE;
	if (username != NULL && username[0] != '\0' && password_has_name(nfkc, username))
		return PASSWORD_HAS_USERNAME;
	if (password_is_run(nfkc))
		return PASSWORD_RUN;
	return PASSWORD_OK;
}

int
password_is_run(const char *nfkc)
{
	const uint8_t *s = (const uint8_t *)nfkc, *end = s + strlen(nfkc);
	ucs4_t hist[PASSWORD_RUN_PERIOD] = {0}, uc, prev;
	unsigned periodic = (1u << PASSWORD_RUN_PERIOD) - 1;	/* bit p-1: period p still fits */
	int up = 1, down = 1, k;
	size_t i, p;

	/* One pass, remembering the last few code points: no copy of the password. */
	for (i = 0; s < end; i++, s += k) {
		if ((k = u8_mbtouc(&uc, s, (size_t)(end - s))) <= 0)
			return 0;
		if (uc < 0x80)
			uc = password_lower((unsigned char)uc);
		for (p = 1; p <= PASSWORD_RUN_PERIOD; p++)
			if (i >= p && uc != hist[(i - p) % PASSWORD_RUN_PERIOD])
				periodic &= ~(1u << (p - 1));
		if (i >= 1) {
			prev = hist[(i - 1) % PASSWORD_RUN_PERIOD];
			up = up && uc == prev + 1;
			down = down && uc + 1 == prev;
		}
		hist[i % PASSWORD_RUN_PERIOD] = uc;
	}
	if (i < 2)
		return 0;
	if (up || down)
		return 1;
	/* The pattern must show at least twice: "abcd" is not a repeat of itself. */
	for (p = 1; p <= PASSWORD_RUN_PERIOD; p++)
		if ((periodic & (1u << (p - 1))) && i >= 2 * p)
			return 1;
	return 0;
}

static int
blocklist_sort_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
blocklist_load(struct blocklist *bl, const char *path, char *err, size_t errlen)
{
	char **words = NULL, **grown, *line = NULL;
	size_t n = 0, alloc = 0, cap = 0, lineno = 0;
	ssize_t len;
	FILE *f;

	bl->words = NULL;
	bl->n = 0;
	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (strlen(line) != (size_t)len) {
			snprintf(err, errlen, "'%s' line %zu holds a NUL byte", path, lineno);
			goto fail;
		}
		for (ssize_t i = 0; i < len; i++)
			line[i] = (char)password_lower((unsigned char)line[i]);
		if (n == alloc) {
			alloc = alloc == 0 ? 1024 : alloc * 2;
			if ((grown = reallocarray(words, alloc, sizeof(*words))) == NULL)
				goto oom;
			words = grown;
		}
		if ((words[n] = strdup(line)) == NULL)
			goto oom;
		n++;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read '%s'", path);
		goto fail;
	}
	if (n == 0) {
		/* An empty list would silently leave only the online check. */
		snprintf(err, errlen, "'%s' holds no entries", path);
		goto fail;
	}
	free(line);
	line = NULL;
	if (fclose(f) != 0) {
		f = NULL;
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		goto fail;
	}
	qsort(words, n, sizeof(*words), blocklist_sort_cmp);
	bl->words = words;
	bl->n = n;
	return 0;

oom:
	snprintf(err, errlen, "out of memory reading '%s'", path);
fail:
	free(line);
	if (f != NULL)
		fclose(f);
	for (size_t i = 0; i < n; i++)
		free(words[i]);
	free(words);
	return -1;
}

/* strcmp(word, lower(cand)) without copying the candidate. */
static int
blocklist_cmp(const char *word, const char *cand)
{
	unsigned char a, b;

	do {
		a = (unsigned char)*word++;
		b = password_lower((unsigned char)*cand++);
		if (a != b)
			return a < b ? -1 : 1;
	} while (a != '\0');
	return 0;
}

int
blocklist_contains(const struct blocklist *bl, const char *nfkc)
{
	size_t lo = 0, hi, mid;
	int c;

	if (bl == NULL || bl->words == NULL)
		return 0;
	hi = bl->n;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = blocklist_cmp(bl->words[mid], nfkc)) == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

void
blocklist_free(struct blocklist *bl)
{
	for (size_t i = 0; i < bl->n; i++)
		free(bl->words[i]);
	free(bl->words);
	bl->words = NULL;
	bl->n = 0;
}

/* base64(HMAC-SHA256(pepper, nfkc)) into out[45]: 44 bytes, no NUL inside, under 72. */
static int
password_prehash(const unsigned char pepper[32], const char *nfkc, char out[PASSWORD_PREHASH_LEN + 1])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	int rc = -1;

	if (HMAC(EVP_sha256(), pepper, 32, (const unsigned char *)nfkc, strlen(nfkc), mac,
	    &maclen) == NULL || maclen != 32)
		goto out;
	if (EVP_EncodeBlock((unsigned char *)out, mac, 32) != PASSWORD_PREHASH_LEN)
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}

/*
 * bcrypt of the pre-hash with setting (a fresh salt, or a stored hash whose
 * salt and cost are reused). Writes the result to out; 0 or -1.
 */
static int
password_bcrypt(const unsigned char pepper[32], const char *nfkc, const char *setting, char *out,
    size_t outlen)
{
	char prehash[PASSWORD_PREHASH_LEN + 1];
	struct crypt_data *cd = NULL;
	const char *h;
	size_t n;
	int rc = -1;

	if (password_prehash(pepper, nfkc, prehash) < 0)
		goto out;
	/* 32 KB: on the heap, not a worker thread's stack; calloc zeroes it as crypt_rn asks. */
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		goto out;
	h = crypt_rn(prehash, setting, cd, (int)sizeof(*cd));
	if (h == NULL || h[0] == '*' || (n = strlen(h)) >= outlen)
		goto out;
	memcpy(out, h, n + 1);
	rc = 0;
out:
	if (cd != NULL) {
		OPENSSL_cleanse(cd, sizeof(*cd));
		free(cd);
	}
	OPENSSL_cleanse(prehash, sizeof(prehash));
	return rc;
}

int
password_hash(const unsigned char pepper[32], const char *nfkc, int cost, char *out, size_t outlen)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	if (cost < 4 || cost > 31)
		return -1;
	/* NULL random bytes: libxcrypt reads the salt from the OS itself. */
	if (crypt_gensalt_rn("$2b$", (unsigned long)cost, NULL, 0, setting, (int)sizeof(setting)) == NULL ||
	    setting[0] == '*')
		return -1;
	if (password_bcrypt(pepper, nfkc, setting, out, outlen) < 0) {
		OPENSSL_cleanse(out, outlen);
		out[0] = '\0';
		return -1;
	}
	return 0;
}

static int
password_b64_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '.' || c == '/';
}

/* The cost of "$2b$NN$" + 53 characters of salt and hash, or -1 when it is not that. */
static int
password_stored_cost(const char *s)
{
	int cost;

	if (strncmp(s, "$2b$", 4) != 0 || s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' ||
	    s[6] != '$')
		return -1;
	cost = (s[4] - '0') * 10 + (s[5] - '0');
	if (cost < 4 || cost > 31)
		return -1;
	for (int i = 7; i < 60; i++)
		if (!password_b64_char(s[i]))
			return -1;
	return s[60] == '\0' ? cost : -1;
}

int
password_verify(const unsigned char pepper[32], const char *nfkc, const char *stored, int *cost_out)
{
	char computed[CRYPT_OUTPUT_SIZE];
	size_t n;
	int cost, rc;

	if ((cost = password_stored_cost(stored)) < 0)
		return -1;
	if (cost_out != NULL)
		*cost_out = cost;
	if (password_bcrypt(pepper, nfkc, stored, computed, sizeof(computed)) < 0)
		rc = -1;
	else if ((n = strlen(computed)) != strlen(stored))
		rc = 0;
	else
		rc = CRYPTO_memcmp(computed, stored, n) == 0;
	OPENSSL_cleanse(computed, sizeof(computed));
	return rc;
}
