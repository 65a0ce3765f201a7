/*
 * captcha: image CAPTCHAs drawn with libgd and a TrueType font. An answer
 * is 5 or 6 characters (the length itself random) from an alphabet without
 * look-alikes; the image rotates, sizes, shifts and colours every glyph at
 * random and crosses the text with lines, arcs and dots. All randomness,
 * the distortion included, comes from RAND_bytes, so one image says nothing
 * about the next. The answer is compared case-insensitively.
 */
#ifndef CHATD_CAPTCHA_H
#define CHATD_CAPTCHA_H

#include "buf.h"

#define CAPTCHA_FONT_DEFAULT "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
#define CAPTCHA_MIN 5
#define CAPTCHA_MAX 6
#define CAPTCHA_WIDTH 200
#define CAPTCHA_HEIGHT 70

/* Upper case only, no look-alikes even rotated (the list and why: captcha.c). */
extern const char captcha_alphabet[];

/*
 * Sets up libgd's FreeType font cache. libgd does this lazily on the first
 * string drawn, without a lock, so call it once before threads start. 0 or -1.
 */
int captcha_global_init(void);

/* A new answer, 5 or 6 characters, NUL-terminated, into out. 0 or -1. */
int captcha_answer_new(char out[CAPTCHA_MAX + 1]);

/*
 * The canonical form of an answer as typed: surrounding spaces dropped,
 * ASCII upper-cased. 0, or -1 when 5-6 alphabet characters do not remain
 * (a wrong answer for the caller).
 */
int captcha_normalize(const char *in, char out[CAPTCHA_MAX + 1]);

/*
 * Appends a CAPTCHA_WIDTH × CAPTCHA_HEIGHT PNG of answer (5-6 alphabet
 * characters) drawn with the TrueType font at font_path (NULL or "" for
 * CAPTCHA_FONT_DEFAULT) to png. 0, or -1 on a bad answer, a missing font
 * (logged) or a library failure.
 */
int captcha_png(const char *answer, const char *font_path, struct buf *png);

#endif
