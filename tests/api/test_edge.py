"""Per-address hygiene in nginx, each on an nginx of its own (tests/pylib/edge.py)
so the settings can be small: a cap on the requests one address has in
progress (CHAT_CONN_PER_ADDR; an open event stream or a body still arriving
counts), and a time limit on a whole request body (CHAT_BODY_TIME), which
nginx's own client_body_timeout, a limit on the gap between two reads, is not."""
import json
import socket
import ssl
import subprocess
import time

import pytest

BODY = b'{"csp-report": {"blocked-uri": "inline"}}'


def open_tls(port, ca_file, source="127.0.0.1"):
    ctx = ssl.create_default_context(cafile=ca_file)
    s = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    return ctx.wrap_socket(s, server_hostname="localhost")


def start_post(port, ca_file, source, length=len(BODY)):
    """A POST whose headers are sent and whose body is not: a request in progress."""
    t = open_tls(port, ca_file, source)
    t.sendall((f"POST /api/csp-report HTTP/1.1\r\nHost: localhost:{port}\r\n"
               f"Origin: https://localhost:{port}\r\nContent-Type: application/csp-report\r\n"
               f"Content-Length: {length}\r\nConnection: close\r\n\r\n").encode())
    return t


def read_response(t):
    """(status, body) of a connection's response; (None, b'') when it was
    closed without one."""
    data = b""
    try:
        while chunk := t.recv(65536):
            data += chunk
    except (ConnectionResetError, ssl.SSLError):
        pass
    t.close()
    if not data:
        return None, b""
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b"\r\n")[0].split()[1]), body


def get(port, ca_file, source, path="/api/health"):
    t = open_tls(port, ca_file, source)
    t.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n".encode())
    return read_response(t)


def test_one_address_gets_only_its_share_of_requests_in_progress(edge, ca_file):
    e = edge(CHAT_CONN_PER_ADDR=3)
    held = [start_post(e.https, ca_file, "127.0.0.5") for _ in range(3)]
    time.sleep(0.3)
    status, body = get(e.https, ca_file, "127.0.0.5")
    assert status == 429
    assert json.loads(body)["error"] == "rate_limited"
    # Another address is not affected.
    assert get(e.https, ca_file, "127.0.0.6")[0] == 200
    # The held requests finish normally; then the address has its share back.
    for t in held:
        t.sendall(BODY)
    assert [read_response(t)[0] for t in held] == [204, 204, 204]
    assert get(e.https, ca_file, "127.0.0.5")[0] == 200


def test_the_cap_counts_open_event_streams_too(edge, ca_file, clients):
    e = edge(CHAT_CONN_PER_ADDR=2)
    c = clients()
    c.new_user()
    cookie = f"__Host-sid={c.cookie}"
    streams = []
    for _ in range(2):
        t = open_tls(e.https, ca_file, "127.0.0.7")
        t.sendall((f"GET /api/events HTTP/1.1\r\nHost: localhost:{e.https}\r\nCookie: {cookie}\r\n"
                   "Accept: text/event-stream\r\n\r\n").encode())
        assert t.recv(4096).startswith(b"HTTP/1.1 200")
        streams.append(t)
    assert get(e.https, ca_file, "127.0.0.7")[0] == 429
    streams.pop().close()
    time.sleep(0.3)
    assert get(e.https, ca_file, "127.0.0.7")[0] == 200
    for t in streams:
        t.close()


def test_a_body_trickled_in_is_cut_at_the_deadline(edge, ca_file):
    e = edge(CHAT_BODY_TIME=2)
    t = start_post(e.https, ca_file, "127.0.0.8")
    t0, cut = time.monotonic(), None
    for i in range(len(BODY)):          # one byte every 0.4 s: far inside client_body_timeout
        try:
            t.sendall(BODY[i:i + 1])
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            cut = time.monotonic() - t0
            break
        time.sleep(0.4)
    status, _ = read_response(t)
    if cut is None:
        cut = time.monotonic() - t0
    assert status != 204                 # never answered as if it were whole
    assert 1.5 < cut < 5, cut
    assert "request body not complete after 2 s" in e.log.read_text()


def test_a_body_trickled_over_http2_is_cut_too(edge, ca_file):
    e = edge(CHAT_BODY_TIME=2)
    curl = subprocess.Popen(["curl", "-s", "--http2", "--cacert", ca_file, "-X", "POST", "-T", "-",
                             "-H", "Content-Type: application/csp-report",
                             "-H", f"Origin: https://localhost:{e.https}",
                             "-o", "/dev/null", "-w", "%{http_code}",
                             f"https://localhost:{e.https}/api/csp-report"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    try:
        for i in range(len(BODY)):      # one byte every 0.4 s: 17 s for the whole body
            curl.stdin.write(BODY[i:i + 1].decode())
            curl.stdin.flush()
            time.sleep(0.4)
            if curl.poll() is not None:
                break
        curl.stdin.close()
    except BrokenPipeError:
        pass
    curl.wait(30)                       # 92: the stream was reset
    cut = time.monotonic() - t0
    assert curl.stdout.read() != "204"
    assert "request body not complete after 2 s" in e.log.read_text()
    assert 1.5 < cut < 5, cut


def test_a_body_that_arrives_in_time_passes(edge, ca_file):
    e = edge(CHAT_BODY_TIME=2)
    t = start_post(e.https, ca_file, "127.0.0.9")
    for part in (BODY[:10], BODY[10:20], BODY[20:]):
        time.sleep(0.4)
        t.sendall(part)
    assert read_response(t)[0] == 204
    assert "not complete" not in e.log.read_text()


@pytest.mark.parametrize("var,value", [("CHAT_BODY_TIME", "0"), ("CHAT_BODY_TIME", "2s"),
                                       ("CHAT_CONN_PER_ADDR", "-1"), ("CHAT_CONN_PER_ADDR", "many"),
                                       # a name goes into the configuration as it is
                                       ("CHAT_EXTRA_HOSTNAMES", "evil;return 200"),
                                       ("CHAT_EXTRA_HOSTNAMES", "*.example.org"),
                                       ("CHAT_HOSTNAME", "-chat.example.org"),
                                       ("CHAT_PUBLIC_HTTPS_PORT", "99999")])
def test_bad_limits_are_refused_by_name(edge, var, value):
    with pytest.raises(AssertionError, match=var):
        edge(**{var: value})
