#!/usr/bin/env bash
# The JavaScript layer: node:test over tests/js/*.test.mjs (the E2EE module
# against the vectors and its receive checks). Closes with `js: N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
node --test --test-reporter=tap tests/js/ 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
pass=$(awk '/^# pass / {print $3}' "$out")
fail=$(awk '/^# fail / {print $3}' "$out")
[ -n "$pass" ] || { pass=0; fail=1; }
[ "$rc" = 0 ] || [ "${fail:-0}" != 0 ] || fail=1
echo "js: $pass passed, ${fail:-0} failed"
[ "$rc" = 0 ] && [ "${fail:-0}" = 0 ]
