/*
 * recovery: generation, normalization and hashing of look-up secrets
 * (see recovery.h).
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

#include "hex.h"
#include "recovery.h"

const char recovery_alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";
#define RECOVERY_ALPHABET_LEN (sizeof(recovery_alphabet) - 1)
/* Bytes at or above the largest multiple of 31 are redrawn (no modulo bias). */
#define RECOVERY_BYTE_LIMIT (256 - 256 % RECOVERY_ALPHABET_LEN)

/* One code's 16 characters, uniform over the alphabet. 0 or -1. */
static int
recovery_draw(char out[RECOVERY_CHARS])
{
	unsigned char rnd[32];
	size_t got = 0, i = sizeof(rnd);
	int ret = 0;

	while (got < RECOVERY_CHARS) {
		if (i == sizeof(rnd)) {
			if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
				ret = -1;
				break;
			}
			i = 0;
		}
		if (rnd[i] < RECOVERY_BYTE_LIMIT)
			out[got++] = recovery_alphabet[rnd[i] % RECOVERY_ALPHABET_LEN];
		i++;
	}
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return ret;
}

int
recovery_generate(char codes[RECOVERY_COUNT][RECOVERY_CODE_LEN + 1])
{
	char raw[RECOVERY_CHARS];
	int i, j, k, again;

	for (i = 0; i < RECOVERY_COUNT; i++) {
		do {
			if (recovery_draw(raw) < 0) {
				OPENSSL_cleanse(raw, sizeof(raw));
				OPENSSL_cleanse(codes, sizeof(codes[0]) * RECOVERY_COUNT);
				return -1;
			}
			for (j = 0, k = 0; j < RECOVERY_CHARS; j++) {
				if (j > 0 && j % 4 == 0)
					codes[i][k++] = '-';
				codes[i][k++] = raw[j];
			}
			codes[i][k] = '\0';
			/* A repeat (chance 2^-79) would make the set one code short. */
			again = 0;
			for (j = 0; j < i; j++)
				if (strcmp(codes[i], codes[j]) == 0)
					again = 1;
		} while (again);
	}
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

int
recovery_normalize(const char *in, char out[RECOVERY_CHARS + 1])
{
	size_t n = 0;

	out[0] = '\0';
	if (in == NULL)
		return -1;
	for (; *in != '\0'; in++) {
		char c = *in;

		if (c == ' ' || c == '-')
			continue;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (n == RECOVERY_CHARS || memchr(recovery_alphabet, c, RECOVERY_ALPHABET_LEN) == NULL) {
			OPENSSL_cleanse(out, n);
			out[0] = '\0';
			return -1;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	if (n != RECOVERY_CHARS) {
		OPENSSL_cleanse(out, n);
		out[0] = '\0';
		return -1;
	}
	return 0;
}

int
recovery_hash(const unsigned char pepper[32], const char normalized[RECOVERY_CHARS + 1],
    char hex[65])
{
	static const char prefix[] = "recovery:";
	unsigned char msg[sizeof(prefix) - 1 + RECOVERY_CHARS], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	int ret = -1;

	hex[0] = '\0';
	if (normalized == NULL || strnlen(normalized, RECOVERY_CHARS + 1) != RECOVERY_CHARS)
		return -1;
	memcpy(msg, prefix, sizeof(prefix) - 1);
	memcpy(msg + sizeof(prefix) - 1, normalized, RECOVERY_CHARS);
	if (HMAC(EVP_sha256(), pepper, 32, msg, sizeof(msg), mac, &maclen) == NULL || maclen != 32)
		goto out;
	hex_encode(mac, 32, hex, 0);
	ret = 0;
out:
	OPENSSL_cleanse(msg, sizeof(msg));
	OPENSSL_cleanse(mac, sizeof(mac));
	return ret;
}
