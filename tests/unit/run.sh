#!/usr/bin/env bash
# Runs the unit test binaries given as arguments (see the Makefile's `unit`
# target) under ASan/UBSan, shows their output and sums cmocka's results.
# A binary that crashes, trips a sanitizer or leaks counts as a failure even
# when cmocka printed no failure of its own. The last line is always
# `unit: N passed, N failed`; the exit status is non-zero on any failure.
set -u

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export CMOCKA_MESSAGE_OUTPUT=stdout	# the format parsed below

passed=0
failed=0
log=$(mktemp) || exit 1
trap 'rm -f "$log"' EXIT

if [ $# -eq 0 ]; then
	echo "usage: $0 build/unit/test_X ..." >&2
	echo "unit: 0 passed, 1 failed"
	exit 1
fi

for bin in "$@"; do
	echo "== $bin"
	if [ ! -x "$bin" ]; then
		echo "$bin: not an executable"
		failed=$((failed + 1))
		continue
	fi
	"$bin" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}

	# "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), listed below:";
	# " N FAILED TEST(S)" also counts tests whose setup failed.
	p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test(s)\..*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test(s).*/\1/p' "$log" | tail -n 1)
	t=$(sed -n 's/^ \([0-9][0-9]*\) FAILED TEST(S)$/\1/p' "$log" | tail -n 1)
	p=${p:-0}
	f=${f:-0}
	t=${t:-0}
	[ "$t" -gt "$f" ] && f=$t
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "$bin: exited with status $rc (crash, sanitizer report or leak)"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done

echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
