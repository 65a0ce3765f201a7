/*
 * recovery: look-up secrets (NIST SP 800-63B §5.1.2), the second factor of
 * last resort. A set is RECOVERY_COUNT codes "xxxx-xxxx-xxxx-xxxx" of 16
 * characters from a 31-letter alphabet without i, l, o, 0, 1: about 79 bits
 * each, drawn from RAND_bytes without modulo bias. Only an HMAC of a code
 * under the server pepper is stored, so a leaked table does not verify codes
 * without the pepper file.
 */
#ifndef CHATD_RECOVERY_H
#define CHATD_RECOVERY_H

#define RECOVERY_COUNT 10
#define RECOVERY_CODE_LEN 19	/* "xxxx-xxxx-xxxx-xxxx" */
#define RECOVERY_CHARS 16	/* the code without dashes */

extern const char recovery_alphabet[];

/* A new set of distinct codes, each NUL-terminated. 0 or -1. */
int recovery_generate(char codes[RECOVERY_COUNT][RECOVERY_CODE_LEN + 1]);

/*
 * The canonical form of a code as typed: ASCII upper case is lowered,
 * spaces and dashes anywhere are dropped, nothing else is mapped. 0 with
 * the 16 characters in out, or -1 unless exactly 16 alphabet characters
 * remain (a malformed code: the caller answers as for a wrong one).
 */
int recovery_normalize(const char *in, char out[RECOVERY_CHARS + 1]);

/* hex(HMAC-SHA256(pepper, "recovery:" ‖ normalized)) into hex[65]. 0 or -1. */
int recovery_hash(const unsigned char pepper[32], const char normalized[RECOVERY_CHARS + 1],
    char hex[65]);

#endif
