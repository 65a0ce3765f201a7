/*
 * token: bearer secrets and their stored hashes (see token.h).
 */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#include "b64.h"
#include "token.h"

int
token_mint(char tok[TOKEN_LEN + 1], unsigned char hash[32])
{
	unsigned char raw[32];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	b64url_encode(raw, sizeof(raw), tok);
	OPENSSL_cleanse(raw, sizeof(raw));
	token_hash(tok, TOKEN_LEN, hash);
	return 0;
}

void
token_hash(const void *s, size_t n, unsigned char hash[32])
{
	unsigned int len = 32;

	if (EVP_Digest(s, n, hash, &len, EVP_sha256(), NULL) != 1)
		memset(hash, 0, 32);	/* never matches a stored hash of a real token */
}
