/*
 * throttle: the pure rules of login throttling: the lockout after each
 * failure, the attempts a refusal says are left, and the address a failure
 * is held against (an IPv6 address by its /64, so one subscriber's block of
 * addresses is one address).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "throttle.h"

static void
test_throttle_delay_doubles_from_the_fifth_failure_up_to_an_hour(void **state)
{
	(void)state;
	for (long long f = 0; f <= THROTTLE_FREE; f++)
		assert_int_equal(throttle_delay(f), 0);
	assert_int_equal(throttle_delay(THROTTLE_FREE + 1), 60);
	assert_int_equal(throttle_delay(THROTTLE_FREE + 2), 120);
	assert_int_equal(throttle_delay(THROTTLE_FREE + 6), 1920);
	assert_int_equal(throttle_delay(THROTTLE_FREE + 7), 3600);
	assert_int_equal(throttle_delay(THROTTLE_HARD), 3600);
}

static void
test_throttle_attempts_left_counts_down_to_the_lockout(void **state)
{
	(void)state;
	assert_int_equal(throttle_attempts_left(1), 4);
	assert_int_equal(throttle_attempts_left(THROTTLE_FREE), 1);
	assert_int_equal(throttle_attempts_left(THROTTLE_FREE + 1), 0);
	assert_int_equal(throttle_attempts_left(THROTTLE_HARD), 0);
}

static void
test_throttle_addr_key_groups_ipv6_by_64(void **state)
{
	char k[THROTTLE_ADDR_MAX];

	(void)state;
	throttle_addr_key("192.0.2.7", k);
	assert_string_equal(k, "192.0.2.7");
	throttle_addr_key("2001:db8:5:6::1", k);
	assert_string_equal(k, "2001:db8:5:6::/64");
	throttle_addr_key("2001:0db8:0005:0006:ffff:1:2:3", k);
	assert_string_equal(k, "2001:db8:5:6::/64");
	throttle_addr_key("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", k);
	assert_string_equal(k, "ffff:ffff:ffff:ffff::/64");
	throttle_addr_key("::ffff:192.0.2.7", k);	/* an IPv4 client of a dual-stack socket */
	assert_string_equal(k, "192.0.2.7");
	/* Not an address: kept as it came (and never overflows the key). */
	throttle_addr_key("not:an:address", k);
	assert_string_equal(k, "not:an:address");
	throttle_addr_key(NULL, k);
	assert_string_equal(k, "");
	char longer[200];
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	throttle_addr_key(longer, k);
	assert_int_equal(strlen(k), THROTTLE_ADDR_MAX - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_throttle_delay_doubles_from_the_fifth_failure_up_to_an_hour),
		cmocka_unit_test(test_throttle_attempts_left_counts_down_to_the_lockout),
		cmocka_unit_test(test_throttle_addr_key_groups_ipv6_by_64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
