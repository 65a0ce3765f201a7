/*
 * captcha: answers and their distorted images (see captcha.h). Random
 * numbers come from a pool of RAND_bytes on the caller's stack, so threads
 * share nothing but libgd's font cache, which libgd locks itself.
 */
#include <gd.h>
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

#include "captcha.h"
#include "log.h"

/*
 * Every glyph here is drawn rotated by up to CAPTCHA_ANGLE_MAX degrees and
 * crossed by lines, so a character is in only if nothing else in the set
 * (in either case, since answers are case-insensitive) can be read for it
 * that way. Out, with the pair that put them out:
 *   0 O Q D (round shapes)     1 I L J T 7 (a stroke, a rotated 7 reads as T or L)
 *   2 Z, N (Z on its side)     5 S      8 B      6 G 9 (6/9 upside down, 6/G)
 *   V (U/V, V/Y)   W (M/W)     G (C/G)  F (E with a noise line under it)
 * The 14 left give 14^5..14^6 answers, far more than one guess per image
 * (each is used up by its first attempt) ever needs.
 */
const char captcha_alphabet[] = "ACEHKMNPRUXY34";
#define CAPTCHA_ALPHABET_LEN ((int)sizeof(captcha_alphabet) - 1)

/* Glyph size in pixels, rotation in degrees, and the noise drawn over them. */
#define CAPTCHA_PX_MIN 26
#define CAPTCHA_PX_MAX 34
#define CAPTCHA_ANGLE_MAX 25
#define CAPTCHA_MARGIN 12

/* A pool of random bytes, refilled from RAND_bytes; failed sticks. */
struct captcha_rng {
	unsigned char pool[256];
	size_t at;
	int failed;
};

static void
captcha_rng_init(struct captcha_rng *g)
{
	g->at = sizeof(g->pool);
	g->failed = 0;
}

static unsigned
captcha_rng_u16(struct captcha_rng *g)
{
	unsigned v;

	if (g->at + 2 > sizeof(g->pool)) {
		if (RAND_bytes(g->pool, sizeof(g->pool)) != 1) {
			g->failed = 1;
			return 0;
		}
		g->at = 0;
	}
	v = (unsigned)g->pool[g->at] << 8 | g->pool[g->at + 1];
	g->at += 2;
	return v;
}

/* Uniform in [lo, hi] (hi - lo < 65536): draws at or above the largest multiple are redrawn. */
static int
captcha_rand(struct captcha_rng *g, int lo, int hi)
{
	unsigned range = (unsigned)(hi - lo) + 1, limit = 65536 - 65536 % range, v;

	do
		v = captcha_rng_u16(g);
	while (v >= limit && !g->failed);
	return g->failed ? lo : lo + (int)(v % range);
}

static void
captcha_rng_done(struct captcha_rng *g)
{
	OPENSSL_cleanse(g->pool, sizeof(g->pool));
}

int
captcha_global_init(void)
{
	if (gdFontCacheSetup() != 0) {
		log_msg(LOG_ERROR, "captcha: cannot set up the FreeType font cache");
		return -1;
	}
	return 0;
}

int
captcha_answer_new(char out[CAPTCHA_MAX + 1])
{
	struct captcha_rng g;
	int n, i;

	captcha_rng_init(&g);
	n = captcha_rand(&g, CAPTCHA_MIN, CAPTCHA_MAX);
	for (i = 0; i < n; i++)
		out[i] = captcha_alphabet[captcha_rand(&g, 0, CAPTCHA_ALPHABET_LEN - 1)];
	out[i] = '\0';
	captcha_rng_done(&g);
	if (g.failed) {
		OPENSSL_cleanse(out, CAPTCHA_MAX + 1);
		out[0] = '\0';
		return -1;
	}
	return 0;
}

int
captcha_normalize(const char *in, char out[CAPTCHA_MAX + 1])
{
	size_t start = 0, end, n, i;

	out[0] = '\0';
	if (in == NULL)
		return -1;
	/* Longer input is no answer, whatever spaces it holds. */
	if ((end = strnlen(in, 65)) > 64)
		return -1;
	while (start < end && in[start] == ' ')
		start++;
	while (end > start && in[end - 1] == ' ')
		end--;
	n = end - start;
	if (n < CAPTCHA_MIN || n > CAPTCHA_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		char c = in[start + i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c == '\0' || memchr(captcha_alphabet, c, CAPTCHA_ALPHABET_LEN) == NULL) {
			out[0] = '\0';
			return -1;
		}
		out[i] = c;
	}
	out[n] = '\0';
	return 0;
}

/* 1 when s is an answer captcha_answer_new could have made. */
static int
captcha_answer_valid(const char *s)
{
	size_t n = strnlen(s, CAPTCHA_MAX + 1);

	if (n < CAPTCHA_MIN || n > CAPTCHA_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (memchr(captcha_alphabet, s[i], CAPTCHA_ALPHABET_LEN) == NULL)
			return 0;
	return 1;
}

static int
captcha_colour(struct captcha_rng *g, int lo, int hi)
{
	return gdTrueColor(captcha_rand(g, lo, hi), captcha_rand(g, lo, hi), captcha_rand(g, lo, hi));
}

/* Each glyph alone, so each gets its own size, angle, height and colour. */
static int
captcha_glyphs(gdImagePtr im, struct captcha_rng *g, const char *answer, const char *font)
{
	int n = (int)strlen(answer);
	int slot = (CAPTCHA_WIDTH - 2 * CAPTCHA_MARGIN) / n;

	for (int i = 0; i < n; i++) {
		char glyph[2] = {answer[i], '\0'};
		int px = captcha_rand(g, CAPTCHA_PX_MIN, CAPTCHA_PX_MAX);
		double angle = captcha_rand(g, -CAPTCHA_ANGLE_MAX, CAPTCHA_ANGLE_MAX) * M_PI / 180.0;
		/* The basepoint is the glyph's lower left; capitals are about 0.73 em tall. */
		int x = CAPTCHA_MARGIN + i * slot + captcha_rand(g, 0, slot / 5);
		int y = (CAPTCHA_HEIGHT + px * 73 / 100) / 2 + captcha_rand(g, -8, 8);
		/* libgd renders at 96 dpi: points = pixels × 72/96. */
		char *e = gdImageStringFT(im, NULL, captcha_colour(g, 0, 100), font, px * 0.75,
		    angle, x, y, glyph);

		if (e != NULL) {
			log_msg(LOG_ERROR, "captcha: gdImageStringFT(%s): %s", font, e);
			return -1;
		}
	}
	return 0;
}

/* Lines and arcs through the text in text-like colours, then loose dots. */
static void
captcha_noise(gdImagePtr im, struct captcha_rng *g)
{
	int i, n;

	n = captcha_rand(g, 4, 6);
	for (i = 0; i < n; i++) {
		gdImageSetThickness(im, captcha_rand(g, 1, 2));
		gdImageLine(im, captcha_rand(g, 0, CAPTCHA_WIDTH / 4),
		    captcha_rand(g, 8, CAPTCHA_HEIGHT - 8),
		    captcha_rand(g, CAPTCHA_WIDTH * 3 / 4, CAPTCHA_WIDTH - 1),
		    captcha_rand(g, 8, CAPTCHA_HEIGHT - 8), captcha_colour(g, 0, 140));
	}
	n = captcha_rand(g, 2, 4);
	for (i = 0; i < n; i++) {
		gdImageSetThickness(im, captcha_rand(g, 1, 2));
		gdImageArc(im, captcha_rand(g, CAPTCHA_WIDTH / 4, CAPTCHA_WIDTH * 3 / 4),
		    captcha_rand(g, 0, CAPTCHA_HEIGHT), captcha_rand(g, CAPTCHA_WIDTH / 2, CAPTCHA_WIDTH),
		    captcha_rand(g, CAPTCHA_HEIGHT / 2, CAPTCHA_HEIGHT * 2), captcha_rand(g, 0, 359),
		    captcha_rand(g, 0, 359), captcha_colour(g, 0, 140));
	}
	gdImageSetThickness(im, 1);
	n = captcha_rand(g, 300, 500);
	for (i = 0; i < n; i++)
		gdImageSetPixel(im, captcha_rand(g, 0, CAPTCHA_WIDTH - 1),
		    captcha_rand(g, 0, CAPTCHA_HEIGHT - 1), captcha_colour(g, 0, 200));
}

int
captcha_png(const char *answer, const char *font_path, struct buf *png)
{
	struct captcha_rng g;
	const char *font = font_path != NULL && font_path[0] != '\0' ? font_path : CAPTCHA_FONT_DEFAULT;
	gdImagePtr im = NULL;
	void *data = NULL;
	int size = 0, ret = -1;

	if (answer == NULL || !captcha_answer_valid(answer))
		return -1;
	captcha_rng_init(&g);
	if ((im = gdImageCreateTrueColor(CAPTCHA_WIDTH, CAPTCHA_HEIGHT)) == NULL)
		goto out;
	gdImageFilledRectangle(im, 0, 0, CAPTCHA_WIDTH - 1, CAPTCHA_HEIGHT - 1,
	    captcha_colour(&g, 215, 255));
	if (captcha_glyphs(im, &g, answer, font) < 0)
		goto out;
	captcha_noise(im, &g);
	/* A failed RAND_bytes leaves a predictable picture: never show it. */
	if (g.failed)
		goto out;
	if ((data = gdImagePngPtr(im, &size)) == NULL || size <= 0)
		goto out;
	buf_append(png, data, (size_t)size);
	ret = buf_failed(png) ? -1 : 0;
out:
	if (data != NULL)
		gdFree(data);
	if (im != NULL)
		gdImageDestroy(im);
	captcha_rng_done(&g);
	return ret;
}
