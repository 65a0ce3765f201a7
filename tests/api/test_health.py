"""GET /api/health: a database round trip through nginx and chatd."""
import re


def test_health_answers_ok_json(http, base_url):
    r = http.get(f"{base_url}/api/health")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    assert r.json() == {"status": "ok", "db": "ok"}


def test_api_responses_are_not_cached(http, base_url):
    r = http.get(f"{base_url}/api/health")
    assert r.headers["cache-control"] == "no-store"


def test_every_response_has_a_request_id_matching_nginx(http, base_url):
    ids = {http.get(f"{base_url}/api/health").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


def test_head_answers_like_get_without_body(http, base_url):
    r = http.head(f"{base_url}/api/health")
    assert r.status_code == 200
    assert r.content == b""


def test_home_page_is_a_template_loading_a_module(http, base_url):
    r = http.get(f"{base_url}/")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert '<script type="module" src="/static/js/login.js"></script>' in r.text
    assert "<title>Sealed" in r.text
    # No placeholder escaped the renderer.
    assert "{{" not in r.text


def test_static_module_is_served_with_cache_headers(http, base_url):
    r = http.get(f"{base_url}/static/js/api.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/javascript")
    assert r.headers["cache-control"] == "max-age=3600"
    assert "textContent" in r.text and "innerHTML" not in r.text
