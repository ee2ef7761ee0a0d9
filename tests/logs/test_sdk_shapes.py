"""The public SDKs' request shapes, sent unchanged: each must get exactly 202 {"status":202,"inserted":N}."""

from __future__ import annotations

import httpx
import msgspec

from tests.logs.conftest import T0, get_ok
from tests.support import Account, LiveServer

CHROME_UA = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/124.0.0.0 Safari/537.36")


def _js_batch() -> list[dict[str, object]]:
    """What @scrywatch/sdk's LogClient buffers: logs, navigation, api calls, a crash; nulls for unset fields."""
    events: list[dict[str, object]] = [{
        "timestamp": T0, "level": "info", "type": "session", "message": "Session started",
        "service": "web-app", "environment": "production", "session_id": "sess_abc", "user_id": None,
        "device_type": "desktop", "metadata": {},
    }]
    for i in range(1, 74):
        kind = i % 3
        base: dict[str, object] = {"timestamp": T0 + i, "service": "web-app", "environment": "production",
                                   "session_id": "sess_abc", "user_id": "user_123", "device_type": "desktop"}
        if kind == 0:
            base |= {"level": "info", "type": "navigation", "message": f"Navigated to /page/{i}",
                     "metadata": {"from": "/", "to": f"/page/{i}"}}
        elif kind == 1:
            base |= {"level": "error" if i % 2 else "info", "type": "api_call",
                     "message": f"POST /api/checkout {500 if i % 2 else 200}",
                     "metadata": {"method": "POST", "url": "/api/checkout", "status": 500 if i % 2 else 200,
                                  "duration_ms": 340 + i}}
        else:
            base |= {"level": "warn", "type": "custom", "message": "Slow query detected",
                     "metadata": {"duration_ms": 2300, "nested": {"list": [1, "two", None]}}}
        events.append(base)
    events.append({"timestamp": T0 + 99, "level": "error", "type": "crash",
                   "message": "TypeError: Cannot read properties of undefined (reading 'id')",
                   "service": "web-app", "environment": "production", "session_id": "sess_abc",
                   "user_id": "user_123", "device_type": "desktop",
                   "metadata": {"stack": "TypeError: ...\n    at render (app.js:10:5)", "url": "https://shop/x"}})
    return events


def test_js_sdk_batch_of_75_to_a_trailing_slash_endpoint(server: LiveServer, account: Account) -> None:
    endpoint = server.url + "/"  # configured with a trailing slash: the SDK posts to //api/ingest
    events = _js_batch()
    assert len(events) == 75
    r = httpx.post(endpoint + "/api/ingest", content=msgspec.json.encode({"events": events}), headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {account.api_key}",
        "User-Agent": CHROME_UA, "Origin": "https://shop.example.com"})
    assert r.status_code == 202
    assert r.json() == {"status": 202, "inserted": 75}
    with account.keyed() as keyed:
        page = get_ok(keyed, account.base + "/logs", {"type": "crash,api_call", "limit": 200})
        assert page["total"] == 1 + 25
        crash = get_ok(keyed, account.base + "/logs", {"type": "crash"})["results"][0]
        assert crash["metadata"]["url"] == "https://shop/x" and crash["device_type"] == "desktop"


def test_go_and_php_single_event_shapes(server: LiveServer, account: Account) -> None:
    go_event = {  # encoding/json without omitempty: empty strings and a null map
        "timestamp": T0 + 1, "level": "error", "type": "api_call", "message": "GET /orders 502",
        "service": "orders-api", "environment": "production", "user_id": "", "session_id": "",
        "device_type": "", "trace_id": "", "span_id": "", "metadata": None,
    }
    php_event = {  # json_encode of an empty PHP array is [], and microtime-based ms are floats
        "timestamp": float(T0 + 2), "level": "warning", "type": "custom", "message": "Cache miss for key user:42",
        "service": "laravel", "environment": "production", "metadata": [],
    }
    for ua, body in (("Go-http-client/1.1", go_event), ("GuzzleHttp/7 PHP/8.3.4", php_event)):
        for _ in range(2):  # one event per call, as those SDKs send them
            r = httpx.post(server.url + "/api/ingest", content=msgspec.json.encode({"events": [body]}), headers={
                "Content-Type": "application/json", "Authorization": f"Bearer {account.api_key}",
                "User-Agent": ua})
            assert r.status_code == 202
            assert r.json() == {"status": 202, "inserted": 1}
    with account.keyed() as keyed:
        got = get_ok(keyed, account.base + "/logs")["results"]
    assert len(got) == 4
    go = next(e for e in got if e["service"] == "orders-api")
    assert go["device_type"] == "server" and go["user_id"] is None and go["metadata"] is None
    php = next(e for e in got if e["service"] == "laravel")
    assert php["level"] == "warn" and php["device_type"] == "server" and php["metadata"] == []
    assert php["timestamp"] == T0 + 2
