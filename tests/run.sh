#!/usr/bin/env bash
# `make test`: every layer, against a real stack on its own ports (profile
# "test", var/test). Each layer prints its own closing `LAYER: N passed, N
# failed` line; this script repeats them at the end with a total, and exits
# non-zero when any layer failed or could not run.
#   CHAT_FUZZ_SECONDS   seconds per fuzz harness [5]
#   CHAT_E2E_ARTIFACTS  where the browser test saves screenshots of failures
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py=/usr/bin/python3
log=$root/var/test-logs
mkdir -p "$log"
summary=()
status=0

# layer NAME COMMAND...: runs a layer, keeps its closing line.
layer() {
	local name=$1 rc line
	shift
	echo
	echo "=== $name"
	"$@" 2>&1 | tee "$log/$name.log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$log/$name.log" | tail -n 1)
	if [ -z "$line" ]; then
		line="$name: 0 passed, 1 failed (the layer did not run: exit $rc)"
		rc=1
	fi
	[ "$rc" = 0 ] || status=1
	summary+=("$line")
}

pytest_layer() {	# pytest_layer NAME DIR
	CHAT_TEST_LAYER=$1 $py -m pytest -q -p no:cacheprovider "$2"
}

e2e() {
	(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error) &&
		CHAT_E2E_ARTIFACTS=${CHAT_E2E_ARTIFACTS:-$log/e2e} node tests/e2e/run.mjs
}

compose() {	# static checks only: no Docker engine runs here
	local passed=0 failed=0 f
	for check in "docker-compose -f docker-compose.yml config -q" \
		"bash -n docker/db-entrypoint.sh" "bash -n docker/web-entrypoint.sh" "sh -n docker/deps.sh"; do
		if $check; then passed=$((passed + 1)); echo "ok - $check"
		else failed=$((failed + 1)); echo "not ok - $check"; fi
	done
	echo "compose: $passed passed, $failed failed"
	[ "$failed" = 0 ]
}

# After the stack stops: nothing of it may be left behind.
stack_clean() {
	local d=var/test passed=0 failed=0 left
	check() {
		if [ -z "$2" ]; then passed=$((passed + 1)); echo "ok - $1"
		else failed=$((failed + 1)); echo "not ok - $1: $2"; fi
	}
	left=$(find "$d/run" "$d/db/run" "$d/nginx" \( -name '*.sock' -o -name '*.pid' \) 2>/dev/null)
	check "no socket or pid file is left" "$left"
	left=$(pgrep -af "$root/(build/chatd|var/test/)" | grep -v pgrep || true)
	check "no process of the stack is left" "$left"
	left=$( [ -e "$d/stack.pid" ] || [ -e "$d/ready" ] && echo "stack.pid or ready remains")
	check "the stack's own markers are gone" "$left"
	echo "stack: $passed passed, $failed failed"
	[ "$failed" = 0 ]
}

tests/stack.sh stop test >/dev/null 2>&1
rm -rf var/test	# every run starts from an empty database
layer unit make -s unit
layer fuzz tests/fuzz/run.sh "${CHAT_FUZZ_SECONDS:-5}"
layer js tests/js/run.sh
layer vectors build/check_e2ee tests/vectors/e2ee.json

echo
echo "=== starting the test stack"
if tests/stack.sh start test; then
	set -a
	eval "$(tests/stack.sh env test)"
	set +a
	layer api pytest_layer api tests/api
	layer race pytest_layer race tests/race
	layer e2e e2e
	layer fault pytest_layer fault tests/fault
	tests/stack.sh stop test
	layer stack stack_clean
else
	summary+=("stack: 0 passed, 1 failed (the test stack did not start; see var/test/log)")
	status=1
fi
layer compose compose

echo
echo "=== summary"
passed=0 failed=0
for line in "${summary[@]}"; do
	echo "$line"
	p=$(sed -E 's/^[a-z0-9]+: ([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/^[a-z0-9]+: [0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
	passed=$((passed + p)) failed=$((failed + f))
done
echo "total: $passed passed, $failed failed"
exit $status
