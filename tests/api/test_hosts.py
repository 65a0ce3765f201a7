"""The site answers only under its own names (CHAT_HOSTNAME and
CHAT_EXTRA_HOSTNAMES; the test stack serves the defaults: this machine's
name, localhost and 127.0.0.1). Any other name, in the TLS server name or the
Host header, is refused and reaches nothing; plain HTTP redirects only to a
configured origin; chatd checks Origin against the configured origins, never
against the request's own Host; ACME challenges are served on plain HTTP."""
import http.client as httpclient
import json
import secrets
import socket
import ssl
import urllib.parse
from pathlib import Path

import pytest

import fcgi
from chatd import base_env


def tls_context(ca_file):
    return ssl.create_default_context(cafile=ca_file)


def site(base_url):
    u = urllib.parse.urlsplit(base_url)
    return u.hostname, u.port


def raw(port, host_header, sni, ca_file, method="GET", path="/api/health", version="1.1"):
    """One request over TLS to 127.0.0.1 with a chosen server name (None: no
    SNI, as a client that reached us by IP address) and a chosen Host header
    (None: no Host at all, HTTP/1.0). Returns (status, headers, body)."""
    ctx = tls_context(ca_file)
    ctx.check_hostname = False
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname=sni) as t:
            lines = [f"{method} {path} HTTP/{version}"]
            if host_header is not None:
                lines.append(f"Host: {host_header}")
            lines += ["Connection: close", "", ""]
            t.sendall("\r\n".join(lines).encode())
            data = b""
            while chunk := t.recv(65536):
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    return int(status_line.split()[1]), headers, body


def assert_refused(status, headers, body):
    assert status == 421
    assert json.loads(body)["error"] == "unknown_host"
    assert "x-request-id" not in headers        # nothing reached chatd


def test_the_configured_names_are_served(stack, base_url, ca_file):
    _, port = site(base_url)
    for name in ("localhost", "127.0.0.1", stack["CHAT_HOSTNAME"]):
        sni = None if name == "127.0.0.1" else name   # no SNI for an IP address
        status, headers, body = raw(port, f"{name}:{port}", sni, ca_file)
        assert status == 200, name
        assert json.loads(body)["status"] == "ok"
        assert "x-request-id" in headers
    # The case of a name does not matter.
    assert raw(port, f"LocalHost:{port}", "localhost", ca_file)[0] == 200


@pytest.mark.parametrize("host", ["evil.example", "localhost.evil.example", "127.0.0.2",
                                  "evil.example:18443", "xn--80ak6aa92e.com"])
def test_an_unknown_host_header_is_refused_and_reaches_nothing(base_url, ca_file, host):
    _, port = site(base_url)
    assert_refused(*raw(port, host, "localhost", ca_file))
    assert_refused(*raw(port, host, None, ca_file))
    assert_refused(*raw(port, host, "localhost", ca_file, method="POST", path="/api/login"))


def test_a_request_without_host_is_refused(base_url, ca_file):
    _, port = site(base_url)
    assert_refused(*raw(port, None, "localhost", ca_file, version="1.0"))


def test_an_unknown_tls_server_name_gets_no_handshake(base_url, ca_file):
    _, port = site(base_url)
    with pytest.raises(ssl.SSLError):
        raw(port, "evil.example", "evil.example", ca_file)


def test_http2_with_a_foreign_authority_is_refused(base_url, ca_file):
    import subprocess
    _, port = site(base_url)
    r = subprocess.run(["curl", "-s", "--http2", "--cacert", ca_file, "-H", "Host: evil.example",
                        "-o", "-", "-w", "\n%{http_code} %{http_version}",
                        f"https://localhost:{port}/api/health"],
                       capture_output=True, text=True, timeout=20)
    body, _, tail = r.stdout.rpartition("\n")
    assert tail == "421 2"
    assert json.loads(body)["error"] == "unknown_host"


def test_plain_http_redirects_to_the_configured_origin_of_a_known_name(stack, base_url):
    host, port = site(base_url)
    http_port = urllib.parse.urlsplit(stack["CHAT_HTTP_URL"]).port
    for name, origin in (("localhost", base_url), ("127.0.0.1", f"https://127.0.0.1:{port}"),
                         (stack["CHAT_HOSTNAME"], f"https://{stack['CHAT_HOSTNAME']}:{port}")):
        conn = httpclient.HTTPConnection("127.0.0.1", http_port, timeout=10)
        conn.request("GET", "/a/b?c=d", headers={"Host": f"{name}:{http_port}"})
        r = conn.getresponse()
        assert r.status == 301
        assert r.getheader("location") == f"{origin}/a/b?c=d"
        conn.close()


@pytest.mark.parametrize("host", ["evil.example", "evil.example:443", None])
def test_plain_http_never_redirects_to_a_host_the_client_sent(stack, host):
    http_port = urllib.parse.urlsplit(stack["CHAT_HTTP_URL"]).port
    with socket.create_connection(("127.0.0.1", http_port), timeout=10) as s:
        req = "GET /x HTTP/1.0\r\n" + (f"Host: {host}\r\n" if host else "") + "\r\n"
        s.sendall(req.encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"421"
    assert b"location" not in head.lower()
    assert json.loads(body)["error"] == "unknown_host"


def test_acme_challenges_are_served_on_plain_http_for_known_names_only(stack):
    http_port = urllib.parse.urlsplit(stack["CHAT_HTTP_URL"]).port
    token = secrets.token_urlsafe(16)
    challenge = Path(stack["CHAT_ACME_DIR"]) / ".well-known" / "acme-challenge"
    challenge.mkdir(parents=True, exist_ok=True)
    (challenge / token).write_text(f"{token}.thumbprint")
    try:
        def get(host, path):
            conn = httpclient.HTTPConnection("127.0.0.1", http_port, timeout=10)
            conn.request("GET", path, headers={"Host": host})
            r = conn.getresponse()
            out = (r.status, r.read())
            conn.close()
            return out
        assert get("localhost", f"/.well-known/acme-challenge/{token}") == (200, f"{token}.thumbprint".encode())
        assert get("localhost", "/.well-known/acme-challenge/missing")[0] == 404
        assert get("localhost", "/.well-known/acme-challenge/../../../etc/passwd")[0] in (400, 404)
        assert get("evil.example", f"/.well-known/acme-challenge/{token}")[0] == 421
    finally:
        (challenge / token).unlink()


# --- chatd: the configured origins, not the request's Host -----------------------------------

def fcgi_post(sock, origin, host):
    """A logged-out state-changing call, as nginx would pass it, with an Origin
    that matches the Host a client sent."""
    req = fcgi.Request(str(sock), "POST", "/api/captcha", headers={
        "CHAT_ORIGIN": origin, "CHAT_HOST": host, "CHAT_HTTP_HOST": host,
        "CHAT_REMOTE_ADDR": "127.0.0.1"})
    req.send_body(b"")
    status, _, body = req.response()
    return status, json.loads(body)


def test_chatd_checks_origin_against_its_configured_origins(private_chatd):
    d = private_chatd(CHATD_HOSTNAMES="chat.example.org localhost", CHATD_HTTPS_PORT="443")
    # Origin and Host agree, as they would for a site under another name: refused.
    status, body = fcgi_post(d.sock, "https://evil.example", "evil.example")
    assert (status, body["error"]) == (403, "bad_origin")
    # The configured origins pass, whatever Host says.
    for origin in ("https://chat.example.org", "https://localhost", "https://CHAT.example.org"):
        status, body = fcgi_post(d.sock, origin, "evil.example")
        assert status == 201, (origin, body)
    # Another port, scheme or a look-alike is another origin.
    for origin in ("https://chat.example.org:8443", "http://chat.example.org",
                   "https://chat.example.org.evil.example", "https://localhost:443/",
                   "https://chat.example.org, https://evil.example", "null", ""):
        status, body = fcgi_post(d.sock, origin, "chat.example.org")
        assert (status, body["error"]) == (403, "bad_origin"), origin


def test_chatd_refuses_to_start_with_a_bad_host_name(stack, tmp_path):
    import subprocess
    from chatd import CHATD
    env = base_env(stack, tmp_path / "c.sock")
    env["CHATD_HOSTNAMES"] = "chat.example.org evil/..example"
    p = subprocess.run([str(CHATD), "--check"], env=env, capture_output=True, text=True, timeout=10)
    assert p.returncode == 2
    assert "CHATD_HOSTNAMES: 'evil/..example' is not a host name" in p.stderr


def test_the_event_stream_allows_only_the_configured_origin(http, base_url):
    url = f"{base_url}/test/sub/t{secrets.token_hex(6)}"
    r = http.get(url, timeout=10, headers={"Accept": "text/event-stream", "Origin": "https://evil.example"})
    assert r.status_code == 403 and r.content == b""
    r = http.get(url, timeout=10, stream=True, headers={"Accept": "text/event-stream", "Origin": base_url})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == base_url
    r.close()
