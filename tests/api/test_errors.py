"""Every refusal is a JSON error {"error", "message"} with the right status,
whether chatd or nginx answers it; nothing crashes, hangs or answers 500."""
from http import client as httpclient
import json
import ssl
import urllib.parse

import pytest

REPORT = {"csp-report": {"document-uri": "https://localhost/", "violated-directive": "script-src",
                         "effective-directive": "script-src-elem", "blocked-uri": "inline",
                         "line-number": 3}}
CSP = "application/csp-report"


def assert_error(r, status, code):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error", "message"}
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


def post_report(http, base_url, data, ctype=CSP):
    if not isinstance(data, (bytes, str)):
        data = json.dumps(data)
    return http.post(f"{base_url}/api/csp-report", data=data, headers={"Content-Type": ctype})


def test_good_csp_report_is_taken(http, base_url):
    r = post_report(http, base_url, REPORT)
    assert r.status_code == 204
    assert r.content == b""


def test_csp_report_also_taken_as_json_with_utf8_charset(http, base_url):
    r = post_report(http, base_url, REPORT, "application/json; charset=UTF-8")
    assert r.status_code == 204


@pytest.mark.parametrize("path", ["/api/nope", "/api/health/", "/api//health", "/nope",
                                  "/api/'%20OR%201=1--", "/api/%3Cscript%3E"])
def test_unknown_paths_are_404_json(http, base_url, path):
    assert_error(http.get(f"{base_url}{path}"), 404, "not_found")


def test_wrong_method_is_405_with_allow(http, base_url):
    r = http.post(f"{base_url}/api/health", data="{}", headers={"Content-Type": "application/json"})
    assert_error(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "GET, HEAD"
    r = http.delete(f"{base_url}/api/csp-report")
    assert_error(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "POST"


def test_body_over_route_limit_is_413_from_chatd(http, base_url):
    big = {"csp-report": {"script-sample": "x" * 200, "original-policy": "y" * 2000,
                          "document-uri": "z" * 2000, "referrer": "r" * 2000, "source-file": "s" * 2000}}
    r = post_report(http, base_url, big)
    assert_error(r, 413, "too_large")


def test_body_over_nginx_limit_is_413_json(http, base_url):
    r = post_report(http, base_url, b"{" + b" " * (2 << 20) + b"}")
    assert_error(r, 413, "too_large")


@pytest.mark.parametrize("body,code", [
    (b"{", "bad_json"),
    (b"", "bad_json"),
    (b"{'csp-report': {}}", "bad_json"),
    (b'{"csp-report": {}} trailing', "bad_json"),
    (b'{"csp-report": {}, "csp-report": {}}', "bad_json"),
    (b'{"csp-report": {"referrer": "a\x00b"}}', "bad_json"),
    (b"[1, 2]", "not_object"),
    (b'"just a string"', "bad_json"),
    (b'{"csp-report": {"referrer": "a\\u0000b"}}', "bad_json"),
    (b'{"csp-report": {"referrer": "caf\xc3"}}', "invalid_utf8"),
    (b'{"csp-report": {"referrer": "\xed\xa0\x80"}}', "invalid_utf8"),
    (b'{"csp-report": {"referrer": "\xc0\xaf"}}', "invalid_utf8"),
])
def test_malformed_bodies_are_400(http, base_url, body, code):
    assert_error(post_report(http, base_url, body), 400, code)


def test_deeply_nested_json_is_refused_cleanly(http, base_url):
    body = '{"csp-report": ' + "[" * 3000 + "]" * 3000 + "}"
    r = post_report(http, base_url, body)
    assert r.status_code == 400
    assert r.json()["error"] in ("bad_json", "wrong_type")


def test_missing_field_names_it(http, base_url):
    body = assert_error(post_report(http, base_url, {}), 400, "missing_field")
    assert "csp-report" in body["message"]


def test_extra_field_is_refused_and_named(http, base_url):
    body = assert_error(post_report(http, base_url, dict(REPORT, admin=True)), 400, "unknown_field")
    assert "admin" in body["message"]


@pytest.mark.parametrize("report", [
    {"csp-report": "script-src"},
    {"csp-report": ["x"]},
    {"csp-report": {"line-number": "3"}},
    {"csp-report": {"line-number": 3.5}},
    {"csp-report": {"blocked-uri": 7}},
    {"csp-report": {"blocked-uri": None}},
])
def test_wrong_types_are_400(http, base_url, report):
    assert_error(post_report(http, base_url, report), 400, "wrong_type")


def test_out_of_range_values_are_422(http, base_url):
    assert_error(post_report(http, base_url, {"csp-report": {"line-number": -1}}), 422, "bad_value")
    assert_error(post_report(http, base_url, {"csp-report": {"disposition": "d" * 33}}), 422, "bad_value")


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   "application/json; charset=latin1", ""])
def test_wrong_content_type_is_415(http, base_url, ctype):
    headers = {"Content-Type": ctype} if ctype else {}
    r = http.post(f"{base_url}/api/csp-report", data=json.dumps(REPORT), headers=headers)
    assert_error(r, 415, "unsupported_media_type")


def test_sql_and_html_metacharacters_are_data(http, base_url):
    nasty = "'; DROP TABLE schema_migrations; -- <script>alert(1)</script> \" ` \\"
    r = post_report(http, base_url, {"csp-report": {"referrer": nasty, "blocked-uri": nasty}})
    assert r.status_code == 204
    body = assert_error(post_report(http, base_url, {"<img src=x onerror=alert(1)>": 1}), 400,
                        "unknown_field")
    # The message carries the name only as JSON text, never as markup in an HTML page.
    assert "<img" in body["message"]
    assert http.get(f"{base_url}/api/health").status_code == 200


@pytest.mark.parametrize("query,code", [
    ("x=1", "bad_query"),
    ("%zz", "bad_query"),
    ("a=%", "bad_query"),
    ("a=%FF", "invalid_utf8"),
    ("=1", "bad_query"),
])
def test_bad_or_unexpected_query_is_400(http, base_url, query, code):
    assert_error(http.get(f"{base_url}/api/health?{query}"), 400, code)


def test_invalid_utf8_in_path_is_400(http, base_url):
    assert_error(http.get(f"{base_url}/api/%FF%FE"), 400, "invalid_utf8")


class RawResponse:
    def __init__(self, resp):
        self.status_code = resp.status
        self.headers = {k.lower(): v for k, v in resp.getheaders()}
        self.text = resp.read().decode()

    def json(self):
        return json.loads(self.text)


def raw_get(base_url, ca_file, path):
    """GET path exactly as written (requests and urllib3 re-quote a stray '%')."""
    u = urllib.parse.urlsplit(base_url)
    ctx = ssl.create_default_context(cafile=ca_file)
    conn = httpclient.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=10)
    try:
        conn.request("GET", path)
        return RawResponse(conn.getresponse())
    finally:
        conn.close()


def test_malformed_escape_in_path_is_400(base_url, ca_file):
    assert_error(raw_get(base_url, ca_file, "/api/%zzhealth"), 400, "bad_request")
    assert_error(raw_get(base_url, ca_file, "/api/health%"), 400, "bad_request")


def test_body_on_bodiless_route_is_400(http, base_url):
    r = http.get(f"{base_url}/api/health", data=b'{"a": 1}', headers={"Content-Type": "application/json"})
    assert_error(r, 400, "unexpected_body")


def test_oversized_headers_are_json(http, base_url):
    r = http.get(f"{base_url}/api/health", headers={"Cookie": "a=" + "x" * 20000})
    assert_error(r, 400, "bad_request")


def test_static_misses_and_methods_are_json(http, base_url):
    assert_error(http.get(f"{base_url}/static/js/nope.js"), 404, "not_found")
    assert_error(http.post(f"{base_url}/static/js/home.js", data=b"x"), 403, "forbidden")
    assert_error(http.get(f"{base_url}/static/"), 403, "forbidden")


def test_internal_and_publisher_locations_are_unreachable(http, base_url):
    assert_error(http.get(f"{base_url}/internal/sub/anything"), 404, "not_found")
    r = http.post(f"{base_url}/pub/anything", data=b'{"x":1}', headers={"Content-Type": "application/json"})
    assert_error(r, 404, "not_found")


def test_auth_endpoints_are_rate_limited_with_retry_after(http, base_url, ca_file):
    # From an address of its own, so the limit hits this test only.
    u = urllib.parse.urlsplit(base_url)
    ctx = ssl.create_default_context(cafile=ca_file)
    statuses, last = [], None
    for _ in range(200):
        conn = httpclient.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=10,
                                           source_address=("127.0.0.3", 0))
        conn.request("POST", "/api/login", body=b"{}", headers={"Content-Type": "application/json"})
        last = RawResponse(conn.getresponse())
        conn.close()
        statuses.append(last.status_code)
        if last.status_code == 429:
            break
    assert statuses[-1] == 429, statuses
    assert_error(last, 429, "rate_limited")
    assert int(last.headers["retry-after"]) > 0
    # Other addresses, and the general API, keep answering.
    assert http.get(f"{base_url}/api/health").status_code == 200
