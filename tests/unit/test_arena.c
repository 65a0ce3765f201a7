/*
 * arena and buf: the per-request allocator hands out zeroed, aligned
 * memory across as many chunks as needed, honours its limit and is reused
 * after a reset; the byte buffer grows as needed, stays NUL-terminated and
 * marks itself failed instead of growing past 1 GiB.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "arena.h"
#include "buf.h"

#define ALIGN _Alignof(max_align_t)

static int
aligned(const void *p)
{
	return (uintptr_t)p % ALIGN == 0;
}

static void
test_arena_many_allocations_across_chunks(void **state)
{
	struct arena a = {0};
	unsigned char *p[5000];
	size_t i;

	(void)state;
	/* 5000 x 40 bytes is far more than one chunk. */
	for (i = 0; i < 5000; i++) {
		p[i] = arena_alloc(&a, 40);
		assert_non_null(p[i]);
		memset(p[i], (int)(i & 0xff), 40);
	}
	/* Nothing overlaps: every block still holds its own pattern. */
	for (i = 0; i < 5000; i++)
		for (size_t k = 0; k < 40; k++)
			assert_int_equal(p[i][k], i & 0xff);
	assert_true(a.used >= 5000 * 40);
	arena_free(&a);
	assert_null(a.head);
	assert_int_equal(a.used, 0);
}

static void
test_arena_memory_is_zeroed(void **state)
{
	struct arena a = {0};
	unsigned char *p;

	(void)state;
	p = arena_alloc(&a, 100);
	assert_non_null(p);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(p[i], 0);
	arena_free(&a);
}

static void
test_arena_large_allocation(void **state)
{
	struct arena a = {0};
	char *small1, *big, *small2;

	(void)state;
	small1 = arena_alloc(&a, 10);
	big = arena_alloc(&a, 1 << 20);
	assert_non_null(small1);
	assert_non_null(big);
	assert_true(aligned(big));
	memset(big, 'x', 1 << 20);
	assert_int_equal(big[(1 << 20) - 1], 'x');
	/* The partly used chunk in front is still used for small requests. */
	small2 = arena_alloc(&a, 10);
	assert_non_null(small2);
	assert_ptr_equal(small2, small1 + ALIGN);
	arena_free(&a);
}

static void
test_arena_large_first_allocation(void **state)
{
	struct arena a = {0};
	char *big, *small;

	(void)state;
	big = arena_alloc(&a, 100000);
	small = arena_alloc(&a, 16);
	assert_non_null(big);
	assert_non_null(small);
	memset(big, 1, 100000);
	memset(small, 2, 16);
	assert_int_equal(big[99999], 1);
	arena_reset(&a);
	assert_non_null(arena_alloc(&a, 100000));
	arena_free(&a);
}

static void
test_arena_alignment(void **state)
{
	struct arena a = {0};

	(void)state;
	for (size_t n = 0; n < 200; n++) {
		void *p = arena_alloc(&a, n % 37 + 1);

		assert_non_null(p);
		assert_true(aligned(p));
	}
	arena_free(&a);
}

static void
test_arena_zero_size(void **state)
{
	struct arena a = {0};
	void *p, *q;

	(void)state;
	p = arena_alloc(&a, 0);
	q = arena_alloc(&a, 0);
	assert_non_null(p);
	assert_non_null(q);
	assert_ptr_not_equal(p, q);
	arena_free(&a);
}

static void
test_arena_limit_enforced(void **state)
{
	struct arena a = {.limit = 1000};
	size_t got = 0;

	(void)state;
	while (arena_alloc(&a, 100) != NULL) {
		got++;
		assert_true(got < 100);
	}
	assert_true(got >= 1000 / (100 + ALIGN));
	assert_true(a.used <= a.limit);
	/* A small request may still fit; one over the limit never does. */
	assert_null(arena_alloc(&a, 1000));
	assert_null(arena_strdup(&a, "0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789"));
	arena_free(&a);
}

static void
test_arena_limit_refuses_one_big_request(void **state)
{
	struct arena a = {.limit = 4096};

	(void)state;
	assert_null(arena_alloc(&a, 4097));
	assert_int_equal(a.used, 0);
	assert_non_null(arena_alloc(&a, 4096));
	assert_null(arena_alloc(&a, 1));
	arena_free(&a);
}

static void
test_arena_absurd_size_refused(void **state)
{
	struct arena a = {0};

	(void)state;
	assert_null(arena_alloc(&a, SIZE_MAX));
	assert_null(arena_alloc(&a, SIZE_MAX / 2 + 1));
	assert_int_equal(a.used, 0);
	arena_free(&a);
}

static void
test_arena_reset_reuses_first_chunk(void **state)
{
	struct arena a = {0};
	char *p, *q;

	(void)state;
	p = arena_alloc(&a, 64);
	assert_non_null(p);
	memset(p, 'z', 64);
	arena_reset(&a);
	assert_int_equal(a.used, 0);
	q = arena_alloc(&a, 64);
	assert_ptr_equal(p, q);
	/* Reused memory comes back zeroed. */
	for (size_t i = 0; i < 64; i++)
		assert_int_equal(q[i], 0);
	arena_free(&a);
}

static void
test_arena_reset_after_many_chunks(void **state)
{
	struct arena a = {.limit = 1 << 20};

	(void)state;
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 2000; i++)
			assert_non_null(arena_alloc(&a, 100));
		assert_non_null(arena_alloc(&a, 200000));
		arena_reset(&a);
		assert_int_equal(a.used, 0);
		assert_non_null(a.head);
	}
	/* After a reset the whole limit is available again. */
	assert_non_null(arena_alloc(&a, (1 << 20) - 4096));
	arena_free(&a);
}

static void
test_arena_strdup(void **state)
{
	struct arena a = {0};
	char *s;

	(void)state;
	s = arena_strdup(&a, "hello");
	assert_string_equal(s, "hello");
	s = arena_strndup(&a, "hello world", 5);
	assert_string_equal(s, "hello");
	s = arena_strndup(&a, "x", 0);
	assert_string_equal(s, "");
	arena_free(&a);
}

static void
test_buf_append_and_terminate(void **state)
{
	struct buf b = {0};

	(void)state;
	buf_append(&b, "abc", 3);
	buf_puts(&b, "def");
	assert_int_equal(b.len, 6);
	assert_string_equal(b.p, "abcdef");
	assert_true(b.cap > b.len);
	assert_false(buf_failed(&b));
	buf_free(&b);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
}

static void
test_buf_empty_append_terminates(void **state)
{
	struct buf b = {0};

	(void)state;
	buf_append(&b, NULL, 0);
	assert_non_null(b.p);
	assert_string_equal(b.p, "");
	buf_free(&b);
}

static void
test_buf_data_url_is_base64_of_the_bytes(void **state)
{
	struct buf b = {0};

	(void)state;
	buf_data_url(&b, "text/plain", "hi!?", 4);
	assert_false(buf_failed(&b));
	assert_string_equal(b.p, "data:text/plain;base64,aGkhPw==");
	assert_int_equal(b.len, strlen(b.p));
	buf_reset(&b);
	buf_data_url(&b, "image/png", "", 0);
	assert_string_equal(b.p, "data:image/png;base64,");
	buf_free(&b);
}

static void
test_buf_printf_grows(void **state)
{
	struct buf b = {0};
	char expect[16];

	(void)state;
	for (int i = 0; i < 5000; i++)
		buf_printf(&b, "%04d,", i);
	assert_false(buf_failed(&b));
	assert_int_equal(b.len, 5000 * 5);
	assert_int_equal(strlen(b.p), b.len);
	assert_memory_equal(b.p, "0000,0001,", 10);
	snprintf(expect, sizeof(expect), "%04d,", 4999);
	assert_memory_equal(b.p + b.len - 5, expect, 5);
	buf_free(&b);
}

static void
test_buf_printf_one_long_string(void **state)
{
	struct buf b = {0};
	char big[3000];

	(void)state;
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_puts(&b, "<");
	buf_printf(&b, "%s>", big);
	assert_int_equal(b.len, sizeof(big) + 1);
	assert_int_equal(b.p[0], '<');
	assert_int_equal(b.p[b.len - 1], '>');
	assert_int_equal(b.p[b.len], '\0');
	buf_free(&b);
}

static void
test_buf_over_1gib_fails_without_allocating(void **state)
{
	struct buf b = {0};

	(void)state;
	buf_puts(&b, "keep");
	/* The length guard refuses before touching the (short) source. */
	buf_append(&b, "x", (size_t)1 << 30);
	assert_true(buf_failed(&b));
	assert_int_equal(b.len, 4);
	assert_true(b.cap < 4096);
	assert_string_equal(b.p, "keep");
	buf_append(&b, "x", SIZE_MAX);
	assert_true(buf_failed(&b));
	buf_free(&b);
}

static void
test_buf_failed_is_sticky_until_reset(void **state)
{
	struct buf b = {0};

	(void)state;
	buf_puts(&b, "a");
	buf_append(&b, "x", (size_t)1 << 31);
	buf_puts(&b, "b");
	buf_printf(&b, "%d", 1);
	assert_true(buf_failed(&b));
	assert_string_equal(b.p, "a");
	buf_reset(&b);
	assert_false(buf_failed(&b));
	assert_int_equal(b.len, 0);
	buf_puts(&b, "c");
	assert_string_equal(b.p, "c");
	buf_free(&b);
}

static void
test_buf_reset_keeps_memory(void **state)
{
	struct buf b = {0};
	char *p;
	size_t cap;

	(void)state;
	buf_puts(&b, "hello");
	p = b.p;
	cap = b.cap;
	buf_reset(&b);
	assert_ptr_equal(b.p, p);
	assert_int_equal(b.cap, cap);
	assert_string_equal(b.p, "");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arena_many_allocations_across_chunks),
		cmocka_unit_test(test_arena_memory_is_zeroed),
		cmocka_unit_test(test_arena_large_allocation),
		cmocka_unit_test(test_arena_large_first_allocation),
		cmocka_unit_test(test_arena_alignment),
		cmocka_unit_test(test_arena_zero_size),
		cmocka_unit_test(test_arena_limit_enforced),
		cmocka_unit_test(test_arena_limit_refuses_one_big_request),
		cmocka_unit_test(test_arena_absurd_size_refused),
		cmocka_unit_test(test_arena_reset_reuses_first_chunk),
		cmocka_unit_test(test_arena_reset_after_many_chunks),
		cmocka_unit_test(test_arena_strdup),
		cmocka_unit_test(test_buf_append_and_terminate),
		cmocka_unit_test(test_buf_empty_append_terminates),
		cmocka_unit_test(test_buf_data_url_is_base64_of_the_bytes),
		cmocka_unit_test(test_buf_printf_grows),
		cmocka_unit_test(test_buf_printf_one_long_string),
		cmocka_unit_test(test_buf_over_1gib_fails_without_allocating),
		cmocka_unit_test(test_buf_failed_is_sticky_until_reset),
		cmocka_unit_test(test_buf_reset_keeps_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
