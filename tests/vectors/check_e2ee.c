/*
 * check_e2ee: tests/vectors/e2ee.json recomputed with OpenSSL, independently
 * of static/js/e2ee.js and of the Python that made the file: ECDH P-384 from
 * the fixed private scalars, HKDF-SHA256 of both directions and epochs,
 * AES-256-GCM with the direction's AAD, HMAC-SHA256 over IV || ciphertext,
 * the rekey's two MACs and the safety number. One line per check, then
 * `vectors: N passed, N failed`; exit 1 on any failure.
 * Usage: check_e2ee tests/vectors/e2ee.json
 */
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <stdio.h>
#include <string.h>

#include "b64.h"

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
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = '\0';
}

static size_t
fromhex(const char *s, unsigned char *out, size_t cap)
{
	size_t n = strlen(s) / 2;

	for (size_t i = 0; i < n && i < cap; i++) {
		unsigned int v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return 0;
		out[i] = (unsigned char)v;
	}
	return n <= cap ? n : 0;
}

static const char *
str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static long long
num(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

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
	    EVP_PKEY_fromdata(ctx, &pkey, has_d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
out:
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
gcm(const unsigned char key[32], const unsigned char iv[12], const char *aad, const unsigned char *pt,
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

static void
mac_of(const unsigned char key[32], const unsigned char *iv, const unsigned char *ct, size_t ctlen, char out[65])
{
	unsigned char buf[1 << 14], m[32];
	unsigned int len = 32;

	memcpy(buf, iv, 12);
	memcpy(buf + 12, ct, ctlen);
	if (HMAC(EVP_sha256(), key, 32, buf, 12 + ctlen, m, &len) == NULL)
		memset(m, 0, sizeof(m));
	tohex(m, 32, out);
}

/* The K_enc and K_mac of direction s → r at an epoch. */
static int
keys_of(const unsigned char z[48], long long s, long long r, long long epoch, unsigned char enc[32],
    unsigned char mac[32])
{
	char info[64];

	snprintf(info, sizeof(info), "CHAT_KEY_USER%lldto%lld", s, r);
	if (!hkdf(z, 48, epoch, info, enc))
		return 0;
	snprintf(info, sizeof(info), "CHAT_MAC_USER%lldto%lld", s, r);
	return hkdf(z, 48, epoch, info, mac);
}

static void
check_messages(json_t *v, const unsigned char z[48])
{
	size_t i;
	json_t *m;

	json_array_foreach(json_object_get(v, "messages"), i, m) {
		unsigned char enc[32], mac[32], iv[12], pt[4096], ct[4096 + 16], newenc[32], newmac[32];
		long long s = num(m, "from"), r = num(m, "to"), e = num(m, "epoch"), c = num(m, "counter");
		char want[64], got[8192 + 33], label[96];
		size_t ptlen = fromhex(str(m, "plaintext"), pt, sizeof(pt));
		int ctlen;

		snprintf(label, sizeof(label), "message %zu (%s %lld->%lld epoch %lld counter %lld)", i,
		    str(m, "kind"), s, r, e, c);
		if (!keys_of(z, s, r, e, enc, mac)) {
			check(0, label, "HKDF failed");
			continue;
		}
		/* The IV: 4 zero bytes and a counter (the previous one for a rekey). */
		memset(iv, 0, 4);
		for (int k = 0; k < 8; k++)
			iv[4 + k] = (unsigned char)((unsigned long long)(strcmp(str(m, "kind"), "rekey") ? c : c - 1) >>
			    (56 - 8 * k));
		tohex(iv, 12, got);
		check(strcmp(got, str(m, "iv")) == 0, label, "IV");
		if (strcmp(str(m, "kind"), "rekey") == 0) {
			memcpy(ct, pt, ptlen);
			ctlen = (int)ptlen;
			check(ptlen == 6 && memcmp(pt, "change", 6) == 0, label, "rekey payload");
		} else {
			snprintf(want, sizeof(want), "CHAT_MSG_USER%lldto%lld", s, r);
			check(strcmp(want, str(m, "aad")) == 0, label, "AAD");
			ctlen = gcm(enc, iv, want, pt, (int)ptlen, ct);
		}
		if (ctlen < 0) {
			check(0, label, "AES-GCM failed");
			continue;
		}
		tohex(ct, (size_t)ctlen, got);
		check(strcmp(got, str(m, "ciphertext")) == 0, label, "ciphertext");
		mac_of(mac, iv, ct, (size_t)ctlen, got);
		check(strcmp(got, str(m, "mac")) == 0, label, "MAC");
		if (json_object_get(m, "mac2") != NULL) {
			check(keys_of(z, s, r, e + 1, newenc, newmac), label, "HKDF of the next epoch");
			mac_of(newmac, iv, ct, (size_t)ctlen, got);
			check(strcmp(got, str(m, "mac2")) == 0, label, "MAC under the new keys");
		}
	}
}

/* Six groups of five digits from SHA-256("CHAT_SAFETY_V1" || id || point). */
static void
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
	    EVP_Digest(in, sizeof(in), h, &hl, EVP_sha256(), NULL) != 1)
		memset(h, 0, sizeof(h));
	out[0] = '\0';
	for (int g = 0; g < 6; g++) {
		unsigned long long v = 0;

		for (int k = 0; k < 5; k++)
			v = v * 256 + h[5 * g + k];
		sprintf(out + strlen(out), "%s%05llu", g ? " " : "", v % 100000);
	}
}

int
main(int argc, char **argv)
{
	json_error_t jerr;
	json_t *v, *a, *b, *k;
	unsigned char zab[48], zba[48], z[48], enc[32], mac[32];
	char got[200], half_a[37], half_b[37];
	size_t i;

	if (argc != 2 || (v = json_load_file(argv[1], 0, &jerr)) == NULL) {
		fprintf(stderr, "usage: check_e2ee e2ee.json (%s)\n", argc == 2 ? jerr.text : "no file");
		printf("vectors: 0 passed, 1 failed\n");
		return 1;
	}
	a = json_array_get(json_object_get(v, "users"), 0);
	b = json_array_get(json_object_get(v, "users"), 1);
	check(ecdh(a, b, zab) && ecdh(b, a, zba) && memcmp(zab, zba, 48) == 0, "ECDH agrees from both sides", NULL);
	tohex(zab, 48, got);
	check(strcmp(got, str(v, "shared_secret")) == 0, "ECDH gives the pinned shared secret", NULL);
	fromhex(str(v, "shared_secret"), z, sizeof(z));

	json_array_foreach(json_object_get(v, "keys"), i, k) {
		char label[96];

		snprintf(label, sizeof(label), "HKDF %s / %s epoch %lld", str(k, "info_enc"), str(k, "info_mac"),
		    num(k, "epoch"));
		if (!keys_of(z, num(k, "from"), num(k, "to"), num(k, "epoch"), enc, mac)) {
			check(0, label, "failed");
			continue;
		}
		tohex(enc, 32, got);
		check(strcmp(got, str(k, "enc")) == 0, label, "K_enc");
		tohex(mac, 32, got);
		check(strcmp(got, str(k, "mac")) == 0, label, "K_mac");
	}
	check_messages(v, z);

	safety_half(a, half_a);
	safety_half(b, half_b);
	snprintf(got, sizeof(got), "%s %s", num(a, "id") < num(b, "id") ? half_a : half_b,
	    num(a, "id") < num(b, "id") ? half_b : half_a);
	check(strcmp(got, str(v, "safety_number")) == 0, "safety number", NULL);

	json_decref(v);
	printf("vectors: %d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
