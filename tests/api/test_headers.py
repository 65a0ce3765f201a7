"""The security headers and the strict CSP of design §5 are on every kind of
response: pages, API answers, chatd's errors, nginx's own errors, static files."""
import pytest

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'; report-uri /api/csp-report")
EXPECTED = {
    "strict-transport-security": "max-age=604800; includeSubDomains",
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "x-frame-options": "DENY",
}

KINDS = [
    ("page", "GET", "/", None, 200),
    ("api", "GET", "/api/health", None, 200),
    ("api-head", "HEAD", "/api/health", None, 200),
    ("api-204", "POST", "/api/csp-report", b'{"csp-report": {}}', 204),
    ("chatd-404", "GET", "/api/nope", None, 404),
    ("chatd-405", "PUT", "/api/health", None, 405),
    ("chatd-400", "GET", "/api/health?x=1", None, 400),
    ("chatd-415", "POST", "/api/csp-report", b"text", 415),
    ("static", "GET", "/static/css/app.css", None, 200),
    ("static-404", "GET", "/static/nope.css", None, 404),
    ("static-403", "GET", "/static/", None, 403),
    ("nginx-413", "POST", "/api/csp-report", b"x" * (2 << 20), 413),
    ("internal-404", "GET", "/internal/sub/x", None, 404),
]


@pytest.mark.parametrize("kind,method,path,body,status", KINDS, ids=[k[0] for k in KINDS])
def test_security_headers_on_every_kind_of_response(http, base_url, kind, method, path, body, status):
    ctype = "text/plain" if body == b"text" else "application/csp-report"
    headers = {"Content-Type": ctype} if body is not None else {}
    r = http.request(method, f"{base_url}{path}", data=body, headers=headers)
    assert r.status_code == status, (kind, r.text)
    for name, value in EXPECTED.items():
        assert r.headers.get(name) == value, (kind, name, r.headers.get(name))
    # Exactly one of each: a duplicate from chatd and nginx would confuse browsers.
    assert r.raw.headers.getlist("content-security-policy") == [CSP]
    assert "server" not in r.headers or r.headers["server"] == "nginx"


def test_csp_forbids_inline_script_and_framing(http, base_url):
    csp = http.get(f"{base_url}/").headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"


def test_pages_carry_no_inline_script_or_style(http, base_url):
    html = http.get(f"{base_url}/").text
    import re
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag
    assert not re.search(r"<script\b[^>]*>[^<]+</script>", html)
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)


def test_plain_http_only_redirects_to_https(http, stack, base_url):
    r = http.get(f"{stack['CHAT_HTTP_URL']}/some/path?q=1", allow_redirects=False)
    assert r.status_code == 301
    assert r.headers["location"] == f"{base_url}/some/path?q=1"
    assert "x-request-id" not in r.headers   # nothing reached chatd


def test_static_files_are_compressed_and_api_answers_never(http, base_url):
    """Public files go gzipped; an API answer, which may hold a secret, never
    is (no BREACH-style guessing through its compressed length)."""
    js = http.get(f"{base_url}/static/js/chat.js", headers={"Accept-Encoding": "gzip"}, stream=True)
    assert js.status_code == 200
    assert js.headers.get("content-encoding") == "gzip"
    assert "accept-encoding" in js.headers.get("vary", "").lower()
    assert len(js.raw.read(decode_content=False)) < 0.5 * len(http.get(f"{base_url}/static/js/chat.js").content)
    api = http.get(f"{base_url}/api/health", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in api.headers
    page = http.get(f"{base_url}/", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in page.headers
