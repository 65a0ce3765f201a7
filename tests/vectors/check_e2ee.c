/*
 * check_e2ee: tests/vectors/e2ee.json recomputed with OpenSSL, independently
 * of static/js/e2ee.js and of the Python that made the file: ECDH P-384 from
 * the fixed private scalars, HKDF-SHA256 of both directions and epochs, the
 * safety number, and every message of both protocol versions:
 *   version 2 ("messages"): iv = 4 zero bytes || counter, AES-256-GCM with
 *     the AAD "CHAT_MSG2_USER<S>to<R>" (and not the version 1 one), the
 *     HMAC-SHA256 over iv || ct, a rekey's second MAC under the next epoch's
 *     K_mac, and the plaintext a frame of JSON with exactly the keys v, kind,
 *     time, seen, body in that order, no spaces (it re-serializes to itself),
 *     its kind the row's and its body the kind's;
 *   version 1 ("legacy_v1", stored history): the AAD "CHAT_MSG_USER<S>to<R>"
 *     (and not the version 2 one), raw plaintexts, the rekey the bytes
 *     "change" in clear under the IV of counter - 1.
 * One line per check, then `vectors: N passed, N failed`; exit 1 on any
 * failure.
 * Usage: check_e2ee tests/vectors/e2ee.json
 */
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"

#define MAXPT 4096	/* the longest plaintext a vector may have */

static int passed, failed;

static void
check(int ok, const char *what, const char *detail)
{
	if (ok)
		passed++;
	else
		failed++;
	printf("%s - %s%s%s\n", ok ? "ok" : "not ok", what, detail ? ": " : "", detail ? detail : "");
}

static void
tohex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Lower-case hex into out[cap]: the number of bytes, or -1 when s is not that or does not fit. */
static long
fromhex(const char *s, unsigned char *out, size_t cap)
{
	size_t len = strlen(s);

	if (len % 2 != 0 || len / 2 > cap)
		return -1;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return (long)(len / 2);
}

static const char *
str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* An integer member, or -1 when it is missing or not an integer. */
static long long
num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/* snprintf into buf[cap] that says whether all of it fit. */
__attribute__((format(printf, 3, 4))) static int
fits(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < cap;
}

#define FITS(buf, ...) fits((buf), sizeof(buf), __VA_ARGS__)

static int
coord(json_t *jwk, const char *k, unsigned char out[48])
{
	const char *s = str(jwk, k);

	return b64url_decode(s, strlen(s), out, 48) == 48;
}

/* The EC key of a JWK: private when it has "d", else public only. */
static EVP_PKEY *
jwk_key(json_t *jwk)
{
	unsigned char pub[97], d[48];
	char group[] = "P-384";
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *priv = NULL;
	int has_d = json_object_get(jwk, "d") != NULL;

	pub[0] = 4;
	if (bld == NULL || !coord(jwk, "x", pub + 1) || !coord(jwk, "y", pub + 49))
		goto out;
	if (has_d && (!coord(jwk, "d", d) || (priv = BN_bin2bn(d, 48, NULL)) == NULL))
		goto out;
	if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub)) ||
	    (has_d && !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv)) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, has_d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	OPENSSL_cleanse(d, sizeof(d));
	BN_clear_free(priv);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

static int
ecdh(json_t *me, json_t *peer, unsigned char z[48])
{
	EVP_PKEY *priv = jwk_key(json_object_get(me, "private_jwk")), *pub = jwk_key(json_object_get(peer, "jwk"));
	EVP_PKEY_CTX *ctx = priv ? EVP_PKEY_CTX_new(priv, NULL) : NULL;
	size_t n = 48;
	int ok = ctx != NULL && pub != NULL && EVP_PKEY_derive_init(ctx) == 1 &&
	    EVP_PKEY_derive_set_peer(ctx, pub) == 1 && EVP_PKEY_derive(ctx, z, &n) == 1 && n == 48;

	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	return ok;
}

/* HKDF-SHA256(z, salt = epoch as 8 bytes big-endian, info) → 32 bytes. */
static int
hkdf(const unsigned char *z, size_t zlen, long long epoch, const char *info, unsigned char out[32])
{
	unsigned char salt[8];
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM p[5];
	char digest[] = "SHA256";
	int ok;

	for (int i = 0; i < 8; i++)
		salt[i] = (unsigned char)((unsigned long long)epoch >> (56 - 8 * i));
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)z, zlen);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt, sizeof(salt));
	p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
	p[4] = OSSL_PARAM_construct_end();
	ok = ctx != NULL && EVP_KDF_derive(ctx, out, 32, p) == 1;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ok;
}

/* AES-256-GCM: ct || tag (16) into out; the length, or -1. */
static int
gcm_seal(const unsigned char key[32], const unsigned char iv[12], const char *aad, const unsigned char *pt,
    int ptlen, unsigned char *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, m = 0, ok;

	ok = c != NULL && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
	    EVP_EncryptInit_ex(c, NULL, NULL, key, iv) == 1 &&
	    EVP_EncryptUpdate(c, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
	    EVP_EncryptUpdate(c, out, &n, pt, ptlen) == 1 && EVP_EncryptFinal_ex(c, out + n, &m) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + n + m) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? n + m + 16 : -1;
}

/*
 * Whether ct || tag opens under the AAD with the plaintext want: 1 yes, 0
 * the tag refuses it (or another plaintext comes out), -1 OpenSSL failed.
 */
static int
gcm_opens(const unsigned char key[32], const unsigned char iv[12], const char *aad, const unsigned char *ct,
    int ctlen, const unsigned char *want, int wantlen)
{
	EVP_CIPHER_CTX *c;
	unsigned char pt[MAXPT + 16], tag[16];
	int n = 0, m = 0, r;

	if (ctlen < 16 || ctlen - 16 > MAXPT)
		return 0;
	memcpy(tag, ct + ctlen - 16, 16);
	if ((c = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	if (EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1 ||
	    EVP_DecryptInit_ex(c, NULL, NULL, key, iv) != 1 ||
	    EVP_DecryptUpdate(c, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
	    EVP_DecryptUpdate(c, pt, &n, ct, ctlen - 16) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) != 1)
		r = -1;
	else if (EVP_DecryptFinal_ex(c, pt + n, &m) != 1)
		r = 0;		/* the tag */
	else
		r = n + m == wantlen && memcmp(pt, want, (size_t)wantlen) == 0;
	EVP_CIPHER_CTX_free(c);
	return r;
}

/* HMAC-SHA256(key, iv || ct) as hex into out; 0 when OpenSSL failed. */
static int
mac_of(const unsigned char key[32], const unsigned char *iv, const unsigned char *ct, size_t ctlen, char out[65])
{
	unsigned char buf[12 + MAXPT + 16], m[32];
	unsigned int len = 32;

	if (ctlen > MAXPT + 16)
		return 0;
	memcpy(buf, iv, 12);
	memcpy(buf + 12, ct, ctlen);
	if (HMAC(EVP_sha256(), key, 32, buf, 12 + ctlen, m, &len) == NULL || len != 32)
		return 0;
	tohex(m, 32, out);
	return 1;
}

/* The K_enc and K_mac of direction s → r at an epoch. */
static int
keys_of(const unsigned char z[48], long long s, long long r, long long epoch, unsigned char enc[32],
    unsigned char mac[32])
{
	char info[64];

	if (!FITS(info, "CHAT_KEY_USER%lldto%lld", s, r) || !hkdf(z, 48, epoch, info, enc))
		return 0;
	return FITS(info, "CHAT_MAC_USER%lldto%lld", s, r) && hkdf(z, 48, epoch, info, mac);
}

/* 4 zero bytes || counter (8 bytes big-endian). */
static void
iv_for(long long counter, unsigned char iv[12])
{
	memset(iv, 0, 4);
	for (int k = 0; k < 8; k++)
		iv[4 + k] = (unsigned char)((unsigned long long)counter >> (56 - 8 * k));
}

/* The user of the file with this id, or NULL. */
static json_t *
user_of(json_t *v, long long id)
{
	size_t i;
	json_t *u;

	json_array_foreach(json_object_get(v, "users"), i, u) {
		if (num(u, "id") == id)
			return u;
	}
	return NULL;
}

/* Whether object o has exactly the n keys, in this order. */
static int
keys_in_order(json_t *o, const char *const *names, size_t n)
{
	void *it;
	size_t i = 0;

	if (!json_is_object(o) || json_object_size(o) != n)
		return 0;
	for (it = json_object_iter(o); it != NULL; it = json_object_iter_next(o, it), i++) {
		if (i >= n || strcmp(json_object_iter_key(it), names[i]) != 0)
			return 0;
	}
	return i == n;
}

/* [epoch, counter], both integers ≥ 0 (epoch ≥ 1): 1 and the pair, or 0. */
static int
position(json_t *p, long long out[2])
{
	for (size_t k = 0; k < 2; k++) {
		json_t *x = json_array_get(p, k);

		if (!json_is_integer(x) || json_integer_value(x) < 0)
			return 0;
		out[k] = (long long)json_integer_value(x);
	}
	return json_is_array(p) && json_array_size(p) == 2 && out[0] >= 1;
}

/* The announcement {key_id, jwk: {kty, crv, x, y}} of user u, keys in that order. */
static int
announcement_of(json_t *a, json_t *u)
{
	static const char *const top[] = { "key_id", "jwk" }, *const jwk[] = { "kty", "crv", "x", "y" };
	json_t *j = json_object_get(a, "jwk");

	return u != NULL && keys_in_order(a, top, 2) && keys_in_order(j, jwk, 4) &&
	    json_is_integer(json_object_get(a, "key_id")) && num(a, "key_id") == num(u, "key_id") &&
	    strcmp(str(j, "kty"), "EC") == 0 && strcmp(str(j, "crv"), "P-384") == 0 &&
	    json_equal(j, json_object_get(u, "jwk"));
}

/*
 * The frame of a version 2 plaintext against its row m: exactly the keys
 * v, kind, time, seen, body in that order, each as the row pins it, the
 * body of the kind, and the compact form JSON.stringify gives.
 */
static void
check_frame(json_t *v, json_t *m, const unsigned char *pt, size_t ptlen, const char *label)
{
	static const char *const order[] = { "v", "kind", "time", "seen", "body" };
	json_error_t jerr;
	json_t *f = json_loadb((const char *)pt, ptlen, JSON_REJECT_DUPLICATES, &jerr), *body;
	const char *kind = str(m, "kind");
	long long seen[2], pinned[2], read[2];
	char *again;
	int ok;

	check(f != NULL, label, "the frame is JSON");
	if (f == NULL)
		return;
	body = json_object_get(f, "body");
	check(strlen(str(m, "frame")) == ptlen && memcmp(str(m, "frame"), pt, ptlen) == 0, label,
	    "the plaintext is the pinned frame text");
	check(keys_in_order(f, order, 5), label, "the frame has exactly v, kind, time, seen, body in order");
	check(json_is_integer(json_object_get(f, "v")) && num(f, "v") == 2, label, "frame v is 2");
	check(strcmp(str(f, "kind"), kind) == 0, label, "frame kind is the row's");
	check(json_is_integer(json_object_get(f, "time")) && num(f, "time") >= 0 && num(f, "time") == num(m, "time"),
	    label, "frame time as pinned");
	check(position(json_object_get(f, "seen"), seen) && position(json_object_get(m, "seen"), pinned) &&
	    seen[0] == pinned[0] && seen[1] == pinned[1], label, "frame seen as pinned");
	check(json_equal(body, json_object_get(m, "body")), label, "frame body as pinned");
	if (strcmp(kind, "text") == 0) {
		ok = json_is_string(body);
	} else if (strcmp(kind, "ecdh") == 0) {
		ok = announcement_of(body, user_of(v, num(m, "from")));
	} else if (strcmp(kind, "rekey") == 0) {
		static const char *const to[] = { "to" };

		ok = keys_in_order(body, to, 1) && json_is_integer(json_object_get(body, "to")) &&
		    num(body, "to") == num(m, "epoch") + 1;
	} else if (strcmp(kind, "receipt") == 0) {
		static const char *const rd[] = { "read" };

		/* Read is never ahead of delivered (the frame's seen). */
		ok = keys_in_order(body, rd, 1) && position(json_object_get(body, "read"), read) &&
		    (read[0] < seen[0] || (read[0] == seen[0] && read[1] <= seen[1]));
	} else {
		ok = 0;
	}
	check(ok, label, "the body is the kind's");
	again = json_dumps(f, JSON_COMPACT);
	check(again != NULL && strlen(again) == ptlen && memcmp(again, pt, ptlen) == 0, label,
	    "the frame is compact fixed-order JSON (it re-serializes to itself)");
	free(again);
	json_decref(f);
}

/* Every version 2 message: frame, IV, AAD, ciphertext, MAC, mac2 of a rekey. */
static void
check_v2(json_t *v, const unsigned char z[48], int *kinds)
{
	size_t i;
	json_t *m;

	json_array_foreach(json_object_get(v, "messages"), i, m) {
		unsigned char enc[32], mac[32], iv[12], pt[MAXPT], ct[MAXPT + 16], newenc[32], newmac[32];
		long long s = num(m, "from"), r = num(m, "to"), e = num(m, "epoch"), c = num(m, "counter");
		const char *kind = str(m, "kind");
		char aad[64], aad1[64], got[2 * (MAXPT + 16) + 1], label[128];
		long ptlen = fromhex(str(m, "plaintext"), pt, sizeof(pt));
		int ctlen, rekey = strcmp(kind, "rekey") == 0;

		if (!FITS(label, "v2 message %zu (%s %lld->%lld epoch %lld counter %lld)", i, kind, s, r, e, c) ||
		    !FITS(aad, "CHAT_MSG2_USER%lldto%lld", s, r) || !FITS(aad1, "CHAT_MSG_USER%lldto%lld", s, r)) {
			check(0, "v2 message", "label too long");
			continue;
		}
		for (int k = 0; k < 4; k++) {
			static const char *const names[] = { "text", "ecdh", "rekey", "receipt" };

			if (strcmp(kind, names[k]) == 0)
				kinds[k]++;
		}
		check(num(m, "version") == 2, label, "version 2");
		check(s > 0 && r > 0 && s != r && e >= 1 && c >= 1, label, "users, epoch and counter");
		check(ptlen >= 0, label, "the plaintext is hex");
		if (ptlen < 0)
			continue;
		if (!keys_of(z, s, r, e, enc, mac)) {
			check(0, label, "HKDF failed");
			continue;
		}
		check_frame(v, m, pt, (size_t)ptlen, label);

		/* Its own counter's IV, a rekey's too. */
		iv_for(c, iv);
		tohex(iv, 12, got);
		check(strcmp(got, str(m, "iv")) == 0, label, "IV is 4 zero bytes || counter");
		check(strcmp(aad, str(m, "aad")) == 0, label, "AAD CHAT_MSG2_USER<S>to<R>");
		if ((ctlen = gcm_seal(enc, iv, aad, pt, (int)ptlen, ct)) < 0) {
			check(0, label, "AES-GCM failed");
			continue;
		}
		tohex(ct, (size_t)ctlen, got);
		check(strcmp(got, str(m, "ciphertext")) == 0, label, "ciphertext");
		check(ctlen >= 16 && ctlen != 6, label, "never the length of a version 1 rekey");
		check(gcm_opens(enc, iv, aad, ct, ctlen, pt, (int)ptlen) == 1, label, "opens under the version 2 AAD");
		check(gcm_opens(enc, iv, aad1, ct, ctlen, pt, (int)ptlen) == 0, label,
		    "refused under the version 1 AAD");
		check(mac_of(mac, iv, ct, (size_t)ctlen, got) && strcmp(got, str(m, "mac")) == 0, label, "MAC");
		if (rekey) {
			check(keys_of(z, s, r, e + 1, newenc, newmac), label, "HKDF of the next epoch");
			check(mac_of(newmac, iv, ct, (size_t)ctlen, got) && strcmp(got, str(m, "mac2")) == 0, label,
			    "mac2 under the next epoch's K_mac");
			check(strcmp(str(m, "mac"), str(m, "mac2")) != 0, label, "mac2 is not mac");
		} else {
			check(json_object_get(m, "mac2") == NULL, label, "no mac2 but on a rekey");
		}
	}
}

/* The version 1 messages of stored history, as they were made. */
static void
check_v1(json_t *v, const unsigned char z[48], int *kinds)
{
	size_t i;
	json_t *m;

	json_array_foreach(json_object_get(v, "legacy_v1"), i, m) {
		unsigned char enc[32], mac[32], iv[12], pt[MAXPT], ct[MAXPT + 16], newenc[32], newmac[32];
		long long s = num(m, "from"), r = num(m, "to"), e = num(m, "epoch"), c = num(m, "counter");
		const char *kind = str(m, "kind");
		char aad[64], aad2[64], got[2 * (MAXPT + 16) + 1], label[128];
		long ptlen = fromhex(str(m, "plaintext"), pt, sizeof(pt));
		int ctlen, rekey = strcmp(kind, "rekey") == 0;

		if (!FITS(label, "v1 message %zu (%s %lld->%lld epoch %lld counter %lld)", i, kind, s, r, e, c) ||
		    !FITS(aad, "CHAT_MSG_USER%lldto%lld", s, r) || !FITS(aad2, "CHAT_MSG2_USER%lldto%lld", s, r)) {
			check(0, "v1 message", "label too long");
			continue;
		}
		for (int k = 0; k < 3; k++) {
			static const char *const names[] = { "text", "ecdh", "rekey" };

			if (strcmp(kind, names[k]) == 0)
				kinds[k]++;
		}
		check(num(m, "version") == 1, label, "version 1");
		check(s > 0 && r > 0 && s != r && e >= 1 && c >= 1, label, "users, epoch and counter");
		check(ptlen >= 0, label, "the plaintext is hex");
		if (ptlen < 0)
			continue;
		if (!keys_of(z, s, r, e, enc, mac)) {
			check(0, label, "HKDF failed");
			continue;
		}
		/* A rekey holds the IV of the message before it; the others their own. */
		iv_for(rekey ? c - 1 : c, iv);
		tohex(iv, 12, got);
		check(strcmp(got, str(m, "iv")) == 0, label, rekey ? "IV of counter - 1" : "IV of the counter");
		if (rekey) {
			memcpy(ct, pt, (size_t)ptlen);
			ctlen = (int)ptlen;
			check(ptlen == 6 && memcmp(pt, "change", 6) == 0, label, "the payload \"change\" in clear");
			check(json_object_get(m, "aad") == NULL, label, "no AAD: nothing is encrypted");
		} else {
			check(strcmp(aad, str(m, "aad")) == 0, label, "AAD CHAT_MSG_USER<S>to<R>");
			ctlen = gcm_seal(enc, iv, aad, pt, (int)ptlen, ct);
		}
		if (ctlen < 0) {
			check(0, label, "AES-GCM failed");
			continue;
		}
		tohex(ct, (size_t)ctlen, got);
		check(strcmp(got, str(m, "ciphertext")) == 0, label, "ciphertext");
		if (!rekey) {
			check(gcm_opens(enc, iv, aad, ct, ctlen, pt, (int)ptlen) == 1, label,
			    "opens under the version 1 AAD");
			check(gcm_opens(enc, iv, aad2, ct, ctlen, pt, (int)ptlen) == 0, label,
			    "refused under the version 2 AAD");
		}
		if (strcmp(kind, "ecdh") == 0) {
			json_error_t jerr;
			json_t *a = json_loadb((const char *)pt, (size_t)ptlen, JSON_REJECT_DUPLICATES, &jerr);

			check(a != NULL && announcement_of(a, user_of(v, s)), label,
			    "the plaintext is the sender's announcement {key_id, jwk}");
			json_decref(a);
		}
		check(mac_of(mac, iv, ct, (size_t)ctlen, got) && strcmp(got, str(m, "mac")) == 0, label, "MAC");
		if (rekey) {
			check(keys_of(z, s, r, e + 1, newenc, newmac), label, "HKDF of the next epoch");
			check(mac_of(newmac, iv, ct, (size_t)ctlen, got) && strcmp(got, str(m, "mac2")) == 0, label,
			    "mac2 under the next epoch's K_mac");
		} else {
			check(json_object_get(m, "mac2") == NULL, label, "no mac2 but on a rekey");
		}
	}
}

/* Six groups of five digits from SHA-256("CHAT_SAFETY_V1" || id || point); 0 on failure. */
static int
safety_half(json_t *u, char out[37])
{
	unsigned char in[14 + 8 + 97], h[32];
	unsigned int hl = 32;
	long long id = num(u, "id");

	memcpy(in, "CHAT_SAFETY_V1", 14);
	for (int k = 0; k < 8; k++)
		in[14 + k] = (unsigned char)((unsigned long long)id >> (56 - 8 * k));
	in[22] = 4;
	if (!coord(json_object_get(u, "jwk"), "x", in + 23) || !coord(json_object_get(u, "jwk"), "y", in + 71) ||
	    EVP_Digest(in, sizeof(in), h, &hl, EVP_sha256(), NULL) != 1 || hl != 32)
		return 0;
	for (int g = 0; g < 6; g++) {
		unsigned long long val = 0;

		for (int k = 0; k < 5; k++)
			val = val * 256 + h[5 * g + k];
		/* "ddddd", then " ddddd" for each group after the first. */
		size_t at = g ? 6 * (size_t)g - 1 : 0;

		if (!fits(out + at, 37 - at, "%s%05llu", g ? " " : "", val % 100000))
			return 0;
	}
	return 1;
}

int
main(int argc, char **argv)
{
	json_error_t jerr;
	json_t *v, *a, *b, *k;
	unsigned char zab[48], zba[48], z[48], enc[32], mac[32];
	char got[200], half_a[37], half_b[37];
	int v2kinds[4] = { 0 }, v1kinds[3] = { 0 }, ok;
	size_t i;

	if (argc != 2 || (v = json_load_file(argv[1], JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		fprintf(stderr, "usage: check_e2ee e2ee.json (%s)\n", argc == 2 ? jerr.text : "no file");
		printf("vectors: 0 passed, 1 failed\n");
		return 1;
	}
	check(num(v, "version") == 2, "the file is of protocol version 2", NULL);
	a = json_array_get(json_object_get(v, "users"), 0);
	b = json_array_get(json_object_get(v, "users"), 1);
	check(a != NULL && b != NULL && ecdh(a, b, zab) && ecdh(b, a, zba) && memcmp(zab, zba, 48) == 0,
	    "ECDH agrees from both sides", NULL);
	tohex(zab, 48, got);
	check(strcmp(got, str(v, "shared_secret")) == 0, "ECDH gives the pinned shared secret", NULL);
	if (fromhex(str(v, "shared_secret"), z, sizeof(z)) != 48) {
		check(0, "the shared secret is 48 bytes of hex", NULL);
		json_decref(v);
		printf("vectors: %d passed, %d failed\n", passed, failed);
		return 1;
	}

	json_array_foreach(json_object_get(v, "keys"), i, k) {
		char label[128];

		if (!FITS(label, "HKDF %s / %s epoch %lld", str(k, "info_enc"), str(k, "info_mac"), num(k, "epoch")) ||
		    !keys_of(z, num(k, "from"), num(k, "to"), num(k, "epoch"), enc, mac)) {
			check(0, "HKDF", "failed");
			continue;
		}
		tohex(enc, 32, got);
		check(strcmp(got, str(k, "enc")) == 0, label, "K_enc");
		tohex(mac, 32, got);
		check(strcmp(got, str(k, "mac")) == 0, label, "K_mac");
	}
	check(json_array_size(json_object_get(v, "keys")) >= 4, "keys of both directions and two epochs", NULL);

	check_v2(v, z, v2kinds);
	check(v2kinds[0] >= 2 && v2kinds[1] >= 1 && v2kinds[2] >= 1 && v2kinds[3] >= 1,
	    "version 2 vectors of every kind (text, ecdh, rekey, receipt)", NULL);
	check_v1(v, z, v1kinds);
	check(v1kinds[0] >= 1 && v1kinds[1] >= 1 && v1kinds[2] >= 1, "version 1 vectors of text, ecdh and rekey",
	    NULL);

	ok = a != NULL && b != NULL && safety_half(a, half_a) && safety_half(b, half_b) &&
	    FITS(got, "%s %s", num(a, "id") < num(b, "id") ? half_a : half_b,
	    num(a, "id") < num(b, "id") ? half_b : half_a);
	check(ok && strcmp(got, str(v, "safety_number")) == 0, "safety number", NULL);

	json_decref(v);
	printf("vectors: %d passed, %d failed\n", passed, failed);
	return fflush(stdout) == 0 && failed == 0 ? 0 : 1;
}
