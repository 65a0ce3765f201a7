"""Real-time push: what chatd's notify module publishes over the publisher's
unix socket reaches a subscriber of the internal nchan location (reached in
the test stack through a rewrite, as X-Accel-Redirect reaches it in chatd)."""
import json
import os
import secrets
import subprocess
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PUBLISH = ROOT / "build" / "publish"


def publish(stack, channel, payload):
    return subprocess.run([str(PUBLISH), stack["CHAT_NCHAN_SOCKET"], channel, payload],
                          capture_output=True, text=True, timeout=10)


def channel():
    return "t" + secrets.token_hex(8)


def read_events(resp, want, out, done):
    """Collects `data:` lines of an EventSource stream until `want` arrived."""
    try:
        for line in resp.iter_lines(chunk_size=1, decode_unicode=True):
            if line and line.startswith("data:"):
                out.append(line[5:].strip())
                if len(out) >= want:
                    break
    finally:
        done.set()


def test_eventsource_subscriber_receives_what_chatd_publishes(http, base_url, stack):
    ch = channel()
    events = [json.dumps({"type": "message", "id": i, "from": "alice"}) for i in (1, 2)]
    resp = http.get(f"{base_url}/test/sub/{ch}", headers={"Accept": "text/event-stream"},
                    stream=True, timeout=10)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    got, done = [], threading.Event()
    t = threading.Thread(target=read_events, args=(resp, 2, got, done), daemon=True)
    t.start()
    time.sleep(0.2)
    for e in events:
        p = publish(stack, ch, e)
        assert p.returncode == 0, p.stderr
    assert done.wait(5), got
    resp.close()
    assert got == events


def test_longpoll_subscriber_gets_the_message_with_its_type(http, base_url, stack):
    ch = channel()
    result = {}

    def poll():
        r = http.get(f"{base_url}/test/sub/{ch}", timeout=10)
        result.update(status=r.status_code, type=r.headers.get("content-type"), body=r.text)

    t = threading.Thread(target=poll, daemon=True)
    t.start()
    time.sleep(0.3)
    assert publish(stack, ch, '{"type":"ping"}').returncode == 0
    t.join(5)
    assert result == {"status": 200, "type": "application/json", "body": '{"type":"ping"}'}


def test_publishing_with_no_subscriber_is_still_success(stack):
    p = publish(stack, channel(), '{"type":"nobody-listens"}')
    assert p.returncode == 0, p.stderr


def test_publisher_failure_is_reported_not_fatal(stack, tmp_path):
    p = subprocess.run([str(PUBLISH), str(tmp_path / "missing.sock"), channel(), "{}"],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 1
    assert "notify: publish to" in p.stderr and "failed" in p.stderr


@pytest.mark.parametrize("bad", ["", "a/b", "a b", "x" * 65, "ü"])
def test_bad_channel_names_are_refused_before_any_request(stack, bad):
    p = publish(stack, bad, "{}")
    assert p.returncode == 1
    assert "bad channel" in p.stderr


def test_nobody_but_the_owner_may_publish(stack):
    sock = Path(stack["CHAT_NCHAN_SOCKET"])
    mode = sock.stat().st_mode & 0o777
    if os.geteuid() == 0:
        assert mode == 0o600
    assert mode & 0o007 == 0
