"""Event delivery on the bench stack: the time from a client sending a
message (POST /api/messages over TLS) to the recipient's event stream
receiving its event, at rest and with BENCH_IDLE idle subscribers of other
users connected through GET /api/events. Prints p50/p99/max."""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
from chat import Client, friends, peer  # noqa: E402
from events import EventStream, IdleCrowd, delivery_times, latency_summary  # noqa: E402

N = int(os.environ.get("BENCH_EVENTS", "300"))
IDLE = int(os.environ.get("BENCH_IDLE", "500"))


def main():
    stack = {k: v for k, v in os.environ.items() if k.startswith("CHAT_")}
    made = []

    def clients():
        made.append(Client(stack))
        return made[-1]
    a, b = friends(clients)
    with EventStream(b.client) as s:
        assert s.status == 200, s.body
        rest = delivery_times(a, b, s, N)
        crowd = IdleCrowd([peer(clients, key=False).client for _ in range(20)], IDLE)
        try:
            busy = delivery_times(a, b, s, N, first_counter=N + 1)
        finally:
            crowd.close()
    print(latency_summary("at rest", rest))
    print(latency_summary(f"with {IDLE} idle subscribers", busy))


if __name__ == "__main__":
    main()
