#!/usr/bin/env bash
# `make bench`: throughput and latency of the real stack (profile "bench",
# ports 28443/28080, one pool of CHATD_WORKERS x CHATD_THREADS), measured with
# wrk from the same machine, so the numbers include TLS, nginx and MariaDB.
#   BENCH_SECONDS [10]   BENCH_CONNECTIONS [64]   BENCH_THREADS [2]
#   BENCH_USERS [15] (account flow)   BENCH_EVENTS [300]   BENCH_IDLE [500] (event delivery)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
secs=${BENCH_SECONDS:-10} conns=${BENCH_CONNECTIONS:-64} threads=${BENCH_THREADS:-2}
export CHAT_HTTPS_PORT=${CHAT_HTTPS_PORT:-28443} CHAT_HTTP_PORT=${CHAT_HTTP_PORT:-28080}
export CHAT_API_RATE=100000r/s CHAT_API_BURST=100000 CHAT_POOLS=a CHATD_BCRYPT_COST=${CHATD_BCRYPT_COST:-12}
# The per-user send limit would stop the event benchmark, which is one sender.
export CHATD_SEND_RATE=100000 CHATD_SEND_BURST=100000

tests/stack.sh stop bench >/dev/null 2>&1 || true
tests/stack.sh start bench
trap 'tests/stack.sh stop bench >/dev/null' EXIT
base=https://localhost:$CHAT_HTTPS_PORT

echo "machine: $(nproc) cores; chatd: ${CHATD_WORKERS:-0 (= cores)} workers x ${CHATD_THREADS:-16} threads"
echo "wrk: $threads threads, $conns connections, ${secs}s per endpoint"
printf '%-34s %12s %10s %10s %10s\n' endpoint "requests/s" p50 p90 p99
for path in /api/health / /static/css/app.css; do
	out=$(wrk -t"$threads" -c"$conns" -d"${secs}s" --latency "$base$path")
	rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
	p() { awk -v q="$1" '$1 == q {print $2}' <<<"$out"; }
	errs=$(awk '/Non-2xx|Socket errors/' <<<"$out")
	printf '%-34s %12s %10s %10s %10s %s\n' "GET $path" "$rps" "$(p 50%)" "$(p 90%)" "$(p 99%)" "$errs"
done

echo
set -a
eval "$(tests/stack.sh env bench)"
set +a
/usr/bin/python3 tests/bench/login.py

echo
/usr/bin/python3 tests/bench/events.py
