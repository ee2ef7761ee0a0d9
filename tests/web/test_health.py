from __future__ import annotations

from scrywatch import __version__
from tests.support import LiveServer


def test_health_reports_ok_and_version(server: LiveServer) -> None:
    with server.client() as c:
        r = c.get("/api/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "version": __version__}
    assert r.headers["x-request-id"].startswith("req_")


def test_unknown_api_route_is_json_404_with_request_id(server: LiveServer) -> None:
    with server.client() as c:
        r = c.get("/api/definitely/not/here")
    assert r.status_code == 404
    body = r.json()
    assert body["error"]["code"] == "not_found"
    assert body["request_id"] == r.headers["x-request-id"]
