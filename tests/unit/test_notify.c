/*
 * notify: channel names and how a fan-out's channels are split into
 * requests (publishing needs nchan, which the API and race tests cover): a
 * name is 1 to 64 of [A-Za-z0-9_-], nothing else; one request names at
 * most NOTIFY_MANY_MAX channels in at most NOTIFY_LIST_MAX bytes, in order,
 * and consecutive requests name every channel once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "notify.h"

static void
test_notify_channel_good_names(void **state)
{
	(void)state;
	assert_int_equal(notify_channel_valid("a"), 1);
	assert_int_equal(notify_channel_valid("user_42"), 1);
	assert_int_equal(notify_channel_valid("AZaz09-_"), 1);
	assert_int_equal(notify_channel_valid("0123456789abcdef0123456789abcdef"), 1);
}

static void
test_notify_channel_64_chars_ok(void **state)
{
	char name[65];

	(void)state;
	memset(name, 'c', 64);
	name[64] = '\0';
	assert_int_equal(notify_channel_valid(name), 1);
}

static void
test_notify_channel_65_chars_refused(void **state)
{
	char name[66];

	(void)state;
	memset(name, 'c', 65);
	name[65] = '\0';
	assert_int_equal(notify_channel_valid(name), 0);
}

static void
test_notify_channel_empty_refused(void **state)
{
	(void)state;
	assert_int_equal(notify_channel_valid(""), 0);
}

static void
test_notify_channel_slash_refused(void **state)
{
	(void)state;
	assert_int_equal(notify_channel_valid("a/b"), 0);
	assert_int_equal(notify_channel_valid("../pub"), 0);
}

static void
test_notify_channel_space_refused(void **state)
{
	(void)state;
	assert_int_equal(notify_channel_valid("a b"), 0);
	assert_int_equal(notify_channel_valid("a\tb"), 0);
	assert_int_equal(notify_channel_valid("a\n"), 0);
}

static void
test_notify_channel_non_ascii_refused(void **state)
{
	(void)state;
	assert_int_equal(notify_channel_valid("\xc3\xbc"), 0);	/* ü */
	assert_int_equal(notify_channel_valid("a\xc3\xbc"), 0);
}

static void
test_notify_channel_url_specials_refused(void **state)
{
	const char *bad[] = {"a?b", "a#b", "a%20", "a.b", "a:b", "a&b", "a=b", "a+b"};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(notify_channel_valid(bad[i]), 0);
}

static void
test_notify_channel_comma_refused(void **state)
{
	(void)state;	/* "," separates the channels of one request: a name never holds one */
	assert_int_equal(notify_channel_valid("u1,u2"), 0);
	assert_int_equal(notify_channel_valid(","), 0);
}

/* n channels "u0".."u<n-1>", and the pointer array naming them. */
struct names {
	char (*buf)[24];
	const char **p;
};

static struct names
names_make(size_t n)
{
	struct names x = {calloc(n, sizeof(*x.buf)), calloc(n, sizeof(*x.p))};

	assert_non_null(x.buf);
	assert_non_null(x.p);
	for (size_t i = 0; i < n; i++) {
		snprintf(x.buf[i], sizeof(x.buf[i]), "u%zu", i);
		x.p[i] = x.buf[i];
	}
	return x;
}

static void
names_free(struct names *x)
{
	free(x->buf);
	free(x->p);
}

static void
test_notify_join_lists_channels_in_order(void **state)
{
	const char *ch[] = {"u1", "u22", "u333"};
	char out[NOTIFY_LIST_MAX + 1];

	(void)state;
	assert_int_equal(notify_join(ch, 3, out, sizeof(out)), 3);
	assert_string_equal(out, "u1,u22,u333");
	assert_int_equal(notify_join(ch, 1, out, sizeof(out)), 1);
	assert_string_equal(out, "u1");
}

static void
test_notify_join_of_nothing_is_empty(void **state)
{
	char out[8] = "x";

	(void)state;
	assert_int_equal(notify_join(NULL, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

static void
test_notify_join_takes_at_most_255(void **state)
{
	struct names x = names_make(300);
	char out[NOTIFY_LIST_MAX + 1];
	size_t commas = 0;

	(void)state;
	assert_int_equal(NOTIFY_MANY_MAX, 255);
	assert_int_equal(notify_join(x.p, 300, out, sizeof(out)), 255);
	for (char *c = out; *c != '\0'; c++)
		commas += *c == ',';
	assert_int_equal(commas, 254);
	assert_non_null(strstr(out, ",u254"));
	assert_null(strstr(out, ",u255"));
	names_free(&x);
}

static void
test_notify_join_stops_at_the_byte_limit(void **state)
{
	char long_names[100][65], out[NOTIFY_LIST_MAX + 1];
	const char *p[100];

	(void)state;
	for (int i = 0; i < 100; i++) {
		memset(long_names[i], 'a' + i % 26, 64);
		long_names[i][64] = '\0';
		p[i] = long_names[i];
	}
	/* 61 names of 64 and 60 commas are 3964 bytes; a 62nd would make 4029. */
	assert_int_equal(notify_join(p, 100, out, sizeof(out)), 61);
	assert_int_equal(strlen(out), 61 * 65 - 1);
	assert_true(strlen(out) <= NOTIFY_LIST_MAX);
}

static void
test_notify_join_fits_the_buffer_exactly(void **state)
{
	const char *ch[] = {"abc", "de"};
	char out[7];

	(void)state;
	assert_int_equal(notify_join(ch, 2, out, 7), 2);	/* "abc,de" and its NUL */
	assert_string_equal(out, "abc,de");
	assert_int_equal(notify_join(ch, 2, out, 6), 1);
	assert_string_equal(out, "abc");
	assert_int_equal(notify_join(ch, 2, out, 3), 0);	/* not even the first */
	assert_string_equal(out, "");
}

static void
test_notify_join_refuses_a_bad_channel(void **state)
{
	const char *bad[] = {"u1", "u2/../x", "u3"};
	const char *list[] = {"u1", "u2,u3"};
	const char *empty[] = {""};
	char out[64];

	(void)state;
	assert_int_equal(notify_join(bad, 3, out, sizeof(out)), -1);
	assert_int_equal(notify_join(list, 2, out, sizeof(out)), -1);
	assert_int_equal(notify_join(empty, 1, out, sizeof(out)), -1);
}

static void
test_notify_join_in_turns_names_every_channel_once(void **state)
{
	struct names x = names_make(600);
	char out[NOTIFY_LIST_MAX + 1], *all = calloc(600, 8), *tok, *save;
	size_t done = 0, turns = 0, seen = 0;
	int k;

	(void)state;
	assert_non_null(all);
	while (done < 600) {
		assert_true((k = notify_join(x.p + done, 600 - done, out, sizeof(out))) > 0);
		strcat(all, done ? "," : "");
		strcat(all, out);
		done += (size_t)k;
		turns++;
	}
	assert_int_equal(turns, 3);	/* 255 + 255 + 90 */
	for (tok = strtok_r(all, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
		assert_string_equal(tok, x.p[seen++]);
	assert_int_equal(seen, 600);
	free(all);
	names_free(&x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify_channel_good_names),
		cmocka_unit_test(test_notify_channel_64_chars_ok),
		cmocka_unit_test(test_notify_channel_65_chars_refused),
		cmocka_unit_test(test_notify_channel_empty_refused),
		cmocka_unit_test(test_notify_channel_slash_refused),
		cmocka_unit_test(test_notify_channel_space_refused),
		cmocka_unit_test(test_notify_channel_non_ascii_refused),
		cmocka_unit_test(test_notify_channel_url_specials_refused),
		cmocka_unit_test(test_notify_channel_comma_refused),
		cmocka_unit_test(test_notify_join_lists_channels_in_order),
		cmocka_unit_test(test_notify_join_of_nothing_is_empty),
		cmocka_unit_test(test_notify_join_takes_at_most_255),
		cmocka_unit_test(test_notify_join_stops_at_the_byte_limit),
		cmocka_unit_test(test_notify_join_fits_the_buffer_exactly),
		cmocka_unit_test(test_notify_join_refuses_a_bad_channel),
		cmocka_unit_test(test_notify_join_in_turns_names_every_channel_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
