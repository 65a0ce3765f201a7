/*
 * seal: authenticated encryption of small secrets at rest (the TOTP secrets)
 * with AES-256-GCM, and the 32-byte key files that hold the server's keys.
 *
 * A sealed blob is a fresh random 12-byte IV, the ciphertext and the 16-byte
 * GCM tag. The AAD names the row the blob belongs to ("totp:user:42"), so a
 * blob copied into another row, or altered in any bit, does not open. Random
 * IVs keep a key safe for far more than 2^20 seals (NIST's bound is 2^32).
 */
#ifndef CHATD_SEAL_H
#define CHATD_SEAL_H

#include <stddef.h>

#define SEAL_KEY_LEN 32
#define SEAL_IV_LEN 12
#define SEAL_TAG_LEN 16
#define SEAL_OVERHEAD (12 + 16)
#define SEAL_PLAIN_MAX 4096	/* small secrets only */

/*
 * Seals plain[0..n) bound to aad (NULL means ""), writing IV ‖ ciphertext ‖
 * tag to out, which must not overlap plain. Returns n + SEAL_OVERHEAD, or -1
 * when outlen is too small, n > SEAL_PLAIN_MAX or OpenSSL fails.
 */
int seal_encrypt(const unsigned char key[32], const unsigned char *plain, size_t n,
    const char *aad, unsigned char *out, size_t outlen);

/*
 * Opens a blob made by seal_encrypt with the same key and aad. Returns the
 * plaintext length, or -1 when the blob was altered, the key or aad differ,
 * the blob is too short or plainlen too small; on -1 plain holds nothing.
 */
int seal_decrypt(const unsigned char key[32], const unsigned char *in, size_t n,
    const char *aad, unsigned char *plain, size_t plainlen);

/*
 * Loads the 32-byte key at path; when there is no file, makes one from
 * RAND_bytes (mode 0600, published with link(2) so that a concurrent
 * starter either wins or reads the winner's complete key). Refuses a
 * symbolic link, a non-regular file, a file of any other size, and a file
 * that group or others may read or write. 0, or -1 with a sentence in err.
 * For start-up only (it may block on fsync).
 */
int seal_key_file(const char *path, unsigned char key[32], char *err, size_t errlen);

#endif
