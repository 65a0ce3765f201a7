#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz/fuzz_*.c) into build/fuzz/ with
# clang and ASan/UBSan, then runs each for SECONDS (default 10) on its seed
# corpus in tests/fuzz/corpus/<harness>/. The harnesses run side by side, so
# the whole run takes about SECONDS plus the build. New inputs go to
# build/fuzz/corpus/<harness>/ (the committed seeds are never written) and
# crashes to build/fuzz/artifacts/<harness>/. One harness is one test; the
# last line is `fuzz: N passed, N failed` and the exit status is non-zero
# when any harness failed to build or found a crash.
set -u

seconds=${1:-10}
case $seconds in
''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "$0")/../.." && pwd)
src=$root/tests/fuzz
out=$root/build/fuzz
cd "$root" || exit 1
mkdir -p "$out"

CC=${FUZZ_CC:-clang}
CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror -Wno-missing-field-initializers -Ifcgi/lib -Ifcgi/core -Ifcgi/store -Ifcgi/sec -Ifcgi/api -Ifcgi/proc
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
	$(pkg-config --cflags jansson 2>/dev/null) $(mariadb_config --cflags)"

# Each harness and the fcgi/ sources it needs.
declare -A deps=(
	[query]="fcgi/core/query.c fcgi/lib/utf8.c fcgi/lib/arena.c"
	[cookie]="fcgi/core/cookie.c fcgi/lib/arena.c"
	[fields]="fcgi/core/fields.c fcgi/lib/utf8.c"
	[router]="fcgi/lib/hex.c fcgi/sec/token.c fcgi/core/router.c fcgi/core/query.c fcgi/lib/utf8.c fcgi/lib/arena.c fcgi/lib/buf.c fcgi/core/resp.c fcgi/core/log.c fcgi/core/fields.c fcgi/core/err.c fcgi/sec/session.c fcgi/store/sql_accounts.c fcgi/store/sql_social.c fcgi/core/dbjson.c fcgi/core/cookie.c fcgi/core/db.c fcgi/core/config.c fcgi/core/stmt.c fcgi/lib/b64.c fcgi/api/presence.c fcgi/api/event.c fcgi/core/notify.c"
	[tmpl]="fcgi/core/tmpl.c fcgi/lib/buf.c fcgi/lib/utf8.c"
	[b64]="fcgi/lib/b64.c"
)
harnesses="query cookie fields router tmpl b64"

passed=0
failed=0
declare -A status

# Build all in parallel; a harness that does not build is a failed test.
for h in $harnesses; do
	# shellcheck disable=SC2086
	$CC $CFLAGS -o "$out/fuzz_$h" "$src/fuzz_$h.c" ${deps[$h]} -ljansson -lcrypto -lcurl $(mariadb_config --libs) \
	    >"$out/build_$h.log" 2>&1 &
	pids[$!]=$h
done
for pid in "${!pids[@]}"; do
	if ! wait "$pid"; then
		h=${pids[$pid]}
		status[$h]=build
		echo "== fuzz_$h: build failed"
		cat "$out/build_$h.log"
	fi
done

# Run all in parallel for the same wall-clock time.
for h in $harnesses; do
	[ -n "${status[$h]:-}" ] && continue
	mkdir -p "$out/corpus/$h" "$out/artifacts/$h"
	dict=()
	[ -f "$src/$h.dict" ] && dict=(-dict="$src/$h.dict")
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	"$out/fuzz_$h" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	    -max_len=4096 -print_final_stats=1 "${dict[@]}" \
	    -artifact_prefix="$out/artifacts/$h/" \
	    "$out/corpus/$h" "$src/corpus/$h" >"$out/run_$h.log" 2>&1 &
	runs[$!]=$h
done
for pid in "${!runs[@]}"; do
	h=${runs[$pid]}
	if wait "$pid"; then
		status[$h]=ok
	else
		status[$h]=crash
	fi
done

for h in $harnesses; do
	case ${status[$h]} in
	ok)
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/run_$h.log")
		cov=$(grep -o 'cov: [0-9]*' "$out/run_$h.log" | tail -n 1)
		echo "== fuzz_$h: ok, ${execs:-?} runs in ${seconds}s, ${cov:-cov: ?}"
		passed=$((passed + 1))
		;;
	crash)
		echo "== fuzz_$h: FAILED (log: $out/run_$h.log, inputs: $out/artifacts/$h/)"
		grep -v "^#[0-9]" "$out/run_$h.log" | head -n 80
		failed=$((failed + 1))
		;;
	*)
		failed=$((failed + 1))
		;;
	esac
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
