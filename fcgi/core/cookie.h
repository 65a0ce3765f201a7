/*
 * cookie: the Cookie request header (RFC 6265 §5.4 form "a=1; b=2").
 *
 * Only lookup is needed: cookie_get() finds one cookie by exact name. Values
 * are returned as sent, without quotes; they are never percent-decoded.
 */
#ifndef CHATD_COOKIE_H
#define CHATD_COOKIE_H

#include "arena.h"

/* The value of cookie `name` in header `hdr` (may be NULL), copied to the arena; NULL if absent. */
const char *cookie_get(struct arena *, const char *hdr, const char *name);

#endif
