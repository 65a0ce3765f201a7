/*
 * hex: base-16 text of bytes, the one encoder every file uses.
 */
#ifndef CHATD_HEX_H
#define CHATD_HEX_H

#include <stddef.h>

/* Writes the 2n digits of in[0..n) and a NUL into out[2n + 1], lower case
 * unless upper is set. */
void hex_encode(const unsigned char *in, size_t n, char *out, int upper);
/* 1 when s[0..n) are n lower-case hex digits. */
int hex_valid(const char *s, size_t n);

#endif
