/*
 * buf: a growable byte buffer for response headers and bodies.
 *
 * Appends never fail silently: after an allocation failure the buffer is
 * marked failed and stays so, and buf_failed() tells the writer to answer 500.
 */
#ifndef CHATD_BUF_H
#define CHATD_BUF_H

#include <stddef.h>

struct buf {
	char *p;
	size_t len;
	size_t cap;
	int failed;
};

void buf_append(struct buf *, const void *, size_t);
void buf_puts(struct buf *, const char *);
void buf_printf(struct buf *, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends "data:<mime>;base64,<data>", e.g. an image for an <img src>. */
void buf_data_url(struct buf *, const char *mime, const void *data, size_t n);
int buf_failed(const struct buf *);
/* Empties the buffer and clears the failure mark; keeps the memory. */
void buf_reset(struct buf *);
void buf_free(struct buf *);

#endif
