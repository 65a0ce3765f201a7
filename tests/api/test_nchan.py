"""Real-time push: what chatd's notify module publishes over the publisher's
unix socket reaches a subscriber of the internal nchan location (reached in
the test stack through a rewrite, as X-Accel-Redirect reaches it in chatd).
One publish to many channels (a fan-out) is, in each channel, the same
message a publish to that channel alone would be: same body, the channel's
own next message id, resumed with Last-Event-ID like any other; the
publisher takes at most 255 channels in one request."""
import json
import os
import secrets
import subprocess
import threading
import time
from pathlib import Path

import pytest

import chat
from events import EventStream

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


def subscribe(stack, ch, last_event_id=None):
    """An EventSource subscriber of channel ch (tests/pylib/events.py)."""
    s = EventStream(chat.Client(stack), path=f"/test/sub/{ch}", last_event_id=last_event_id)
    assert s.status == 200, s.status
    return s


def received(s, n):
    """(id, data) of the next n messages of subscriber s, which is then closed."""
    with s:
        return [(e["id"], e["data"]) for e in (s.next(timeout=5) for _ in range(n))]


def test_one_publish_to_many_channels_is_each_channels_own_message(stack):
    a, b = channel(), channel()
    sa, sb = subscribe(stack, a), subscribe(stack, b)
    for chs, body in ((a, '{"n":1}'), (f"{a},{b}", '{"n":2}'), (b, '{"n":3}'), (a, '{"n":4}')):
        p = publish(stack, chs, body)
        assert p.returncode == 0, p.stderr
    got_a, got_b = received(sa, 3), received(sb, 2)
    assert [d for _, d in got_a] == ['{"n":1}', '{"n":2}', '{"n":4}']
    assert [d for _, d in got_b] == ['{"n":2}', '{"n":3}']
    # Each channel numbers its messages itself: the shared one is a's second, b's first.
    assert len({i for i, _ in got_a}) == 3 and len({i for i, _ in got_b}) == 2
    # A stream resumes after the shared message as after any other, in either channel.
    assert [d for _, d in received(subscribe(stack, a, got_a[0][0]), 2)] == ['{"n":2}', '{"n":4}']
    assert [d for _, d in received(subscribe(stack, a, got_a[1][0]), 1)] == ['{"n":4}']
    assert [d for _, d in received(subscribe(stack, b, got_b[0][0]), 1)] == ['{"n":3}']


def test_a_fan_out_past_255_channels_reaches_the_last_one(stack):
    chs = [channel() for _ in range(600)]       # three requests: 255, 255, 90
    last = subscribe(stack, chs[-1])
    p = publish(stack, ",".join(chs), '{"type":"fan"}')
    assert p.returncode == 0, p.stderr
    assert [d for _, d in received(last, 1)] == ['{"type":"fan"}']


def raw_publish(stack, path):
    """The publisher's status for a POST to path, sent as is (not through chatd's checks)."""
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                        "--unix-socket", stack["CHAT_NCHAN_SOCKET"], "-H", "Content-Type: application/json",
                        "--data-binary", "{}", "http://localhost" + path],
                       capture_output=True, text=True, timeout=10)
    return int(r.stdout)


def test_the_publisher_takes_at_most_255_channels_in_one_request(stack):
    # nchan splits a list into a fixed array of 255: the location admits no more.
    tag = secrets.token_hex(3)
    chs = [f"t{tag}x{i}" for i in range(256)]   # short: 255 of them stay under 4096 bytes
    assert raw_publish(stack, "/pub/" + ",".join(chs[:255])) == 202
    assert raw_publish(stack, "/pub/" + ",".join(chs)) == 404
    assert raw_publish(stack, "/pub/" + ",".join(chs[:2]) + ",") == 404    # no empty channel
    # The list is at most 4096 bytes: 62 names of 64 are 4029, 64 of them 4159.
    long_names = [channel() * 4 for _ in range(64)]
    assert all(len(n) == 68 for n in long_names)
    long_names = [n[:64] for n in long_names]
    assert raw_publish(stack, "/pub/" + ",".join(long_names[:62])) == 202
    assert raw_publish(stack, "/pub/" + ",".join(long_names)) == 403


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
