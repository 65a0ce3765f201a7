/*
 * challenge: CAPTCHA challenges as rows (table captchas). POST /api/captcha
 * makes one: a random id, a fresh answer and its image; the answer stays on
 * the server and expires after 5 minutes. challenge_take() consumes a
 * challenge at its first attempt, right or wrong, so each image buys one
 * try. Answers compare case-insensitively.
 */
#ifndef CHATD_CHALLENGE_H
#define CHATD_CHALLENGE_H

#include "err.h"
#include "fields.h"
#include "req.h"

#define CHALLENGE_TTL 300

/* Field checks for captcha_id (32 hex) and captcha (1-16 chars) in bodies. */
int challenge_id_valid(const char *s, size_t n);

/* ERR_OK when answer is right; else ERR_CAPTCHA_WRONG, ERR_CAPTCHA_EXPIRED, ERR_DB_UNAVAILABLE. */
enum err challenge_take(struct req *, const char *id, const char *answer);

/* POST /api/captcha: 201 {id, image}, image a data:image/png;base64 URL, no-store. */
enum err challenge_post(struct req *);

#endif
