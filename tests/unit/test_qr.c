/*
 * qr: the PNG is a PNG of the right geometry, a real decoder (zbarimg)
 * reads back exactly the otpauth:// URI, and the data: URL carries the
 * same PNG in base64.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <unistd.h>

#include "qr.h"

static const char uri[] = "otpauth://totp/Sealed:a%20b%26c?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    "&issuer=Sealed&algorithm=SHA1&digits=6&period=30";
static const unsigned char png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

/* The big-endian 32-bit number at p. */
static unsigned
be32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (unsigned)u[0] << 24 | (unsigned)u[1] << 16 | (unsigned)u[2] << 8 | u[3];
}

static void
test_qr_png_signature(void **state)
{
	struct buf png = {0};

	(void)state;
	assert_int_equal(qr_png(uri, &png), 0);
	assert_true(png.len > sizeof(png_signature));
	assert_memory_equal(png.p, png_signature, sizeof(png_signature));
	buf_free(&png);
}

/* A side is (modules + 8 quiet) × 6 px; modules are 17 + 4 × version. */
static void
test_qr_png_geometry(void **state)
{
	struct buf png = {0};
	unsigned w, h;

	(void)state;
	assert_int_equal(qr_png(uri, &png), 0);
	/* IHDR is the first chunk: length, "IHDR", width, height. */
	assert_memory_equal(png.p + 12, "IHDR", 4);
	w = be32(png.p + 16);
	h = be32(png.p + 20);
	assert_int_equal(w, h);
	assert_int_equal(w % QR_MODULE_PX, 0);
	assert_int_equal((w / QR_MODULE_PX - 2 * QR_QUIET_MODULES - 17) % 4, 0);
	buf_free(&png);
}

/* Writes the PNG of text to a temporary file and returns what zbarimg reads. */
static void
zbar_roundtrip(const char *text)
{
	struct buf png = {0};
	char path[] = "/tmp/test_qr.XXXXXX", cmd[128], *out;
	size_t outlen = strlen(text) + 64, n;
	FILE *p;
	int fd;

	assert_int_equal(qr_png(text, &png), 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, png.p, png.len), (ssize_t)png.len);
	assert_int_equal(close(fd), 0);
	buf_free(&png);

	snprintf(cmd, sizeof(cmd), "zbarimg -q --raw %s 2>/dev/null", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	out = calloc(1, outlen);
	assert_non_null(out);
	n = fread(out, 1, outlen - 1, p);
	assert_int_equal(pclose(p), 0);
	unlink(path);
	/* --raw prints the payload and a newline. */
	assert_true(n > 0 && out[n - 1] == '\n');
	out[n - 1] = '\0';
	assert_string_equal(out, text);
	free(out);
}

static void
test_qr_png_decodes_to_the_uri(void **state)
{
	(void)state;
	zbar_roundtrip(uri);
}

static void
test_qr_png_decodes_long_and_short_text(void **state)
{
	char long_text[600];

	(void)state;
	zbar_roundtrip("x");
	memset(long_text, 'A', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	zbar_roundtrip(long_text);
}

static void
test_qr_png_too_long_refused(void **state)
{
	struct buf png = {0};
	char *text = malloc(4000);

	(void)state;
	assert_non_null(text);
	memset(text, 'x', 3999);
	text[3999] = '\0';
	assert_int_equal(qr_png(text, &png), -1);
	assert_int_equal(qr_png(NULL, &png), -1);
	free(text);
	buf_free(&png);
}

static void
test_qr_data_url_prefix_and_payload(void **state)
{
	static const char prefix[] = "data:image/png;base64,";
	struct buf url = {0}, png = {0};
	unsigned char *raw;
	size_t b64len;
	int n;

	(void)state;
	assert_int_equal(qr_data_url(uri, &url), 0);
	assert_true(url.len > strlen(prefix));
	assert_memory_equal(url.p, prefix, strlen(prefix));
	assert_int_equal(strlen(url.p), url.len);

	/* The payload is the PNG itself (the QR has no randomness). */
	b64len = url.len - strlen(prefix);
	assert_int_equal(b64len % 4, 0);
	raw = malloc(b64len);
	assert_non_null(raw);
	n = EVP_DecodeBlock(raw, (const unsigned char *)url.p + strlen(prefix), (int)b64len);
	assert_true(n > 0);
	assert_int_equal(qr_png(uri, &png), 0);
	/* EVP_DecodeBlock keeps the bytes of '=' padding as zeros. */
	assert_in_range((size_t)n - png.len, 0, 2);
	assert_memory_equal(raw, png.p, png.len);
	free(raw);
	buf_free(&png);
	buf_free(&url);
}

#define T(f) cmocka_unit_test(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_qr_png_signature),
		T(test_qr_png_geometry),
		T(test_qr_png_decodes_to_the_uri),
		T(test_qr_png_decodes_long_and_short_text),
		T(test_qr_png_too_long_refused),
		T(test_qr_data_url_prefix_and_payload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
