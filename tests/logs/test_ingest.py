"""POST /api/ingest through the real server: batches, per-event errors, tolerant rules, ids, bodies."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import msgspec
import pytest
import zstandard

from scrywatch.clock import FakeClock
from tests.logs.conftest import T0, event, get_ok, ingest
from tests.support import Account, LiveServer, register


def _all(client: httpx.Client, account: Account, **params: Any) -> list[dict[str, Any]]:
    return get_ok(client, account.base + "/logs", {"limit": 200, **params})["results"]  # type: ignore[no-any-return]


def _one(client: httpx.Client, account: Account, message: str) -> dict[str, Any]:
    found = [e for e in _all(client, account) if e["message"] == message]
    assert len(found) == 1, found
    return found[0]


def test_a_batch_of_120_is_stored(account: Account, keyed: httpx.Client) -> None:
    body = ingest(keyed, [event(i) for i in range(120)])
    assert body == {"status": 202, "inserted": 120}
    page = get_ok(keyed, account.base + "/logs", {"limit": 200})
    assert page["total"] == 120 and page["total_exact"] is True
    assert [e["message"] for e in page["results"]] == [f"event number {i}" for i in reversed(range(120))]


def test_invalid_events_are_listed_by_index_and_the_valid_ones_stored(account: Account,
                                                                      keyed: httpx.Client) -> None:
    events: list[Any] = [
        event(0),
        {"level": "info", "timestamp": T0},  # no message
        event(2),
        {"message": "m", "level": "loud", "timestamp": T0},
        "not an object",
        {"message": "m", "level": "info", "timestamp": "yesterday"},
        {"message": "m", "level": "info", "type": "banana"},
        {"message": 42, "level": "info"},
        event(8),
    ]
    body = ingest(keyed, events)
    assert body["inserted"] == 3 and body["rejected"] == 6
    assert [(e["index"], e["field"]) for e in body["errors"]] == [
        (1, "message"), (3, "level"), (4, "event"), (5, "timestamp"), (6, "type"), (7, "message")]
    assert all(e["message"] for e in body["errors"])
    assert sorted(e["message"] for e in _all(keyed, account)) == ["event number 0", "event number 2",
                                                                 "event number 8"]


def test_invalid_utf8_inside_strings_is_kept_with_replacement_characters(account: Account,
                                                                         keyed: httpx.Client) -> None:
    body = (b'{"events":[{"timestamp":1767225600000,"level":"info","message":"bad \xff byte"},'
            b'{"timestamp":1767225600000,"level":"info","message":"meta","metadata":{"k":"\xc3"}}]}')
    r = keyed.post("/api/ingest", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 202 and r.json() == {"status": 202, "inserted": 2}
    assert _one(keyed, account, "bad \ufffd byte")["metadata"] is None
    assert _one(keyed, account, "meta")["metadata"] == {"k": "\ufffd"}


def test_a_batch_with_no_valid_event_or_no_events_list_is_400(keyed: httpx.Client) -> None:
    r = keyed.post("/api/ingest", json={"events": [{"level": "info"}]})
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "events[0].message"
    for body in ({"event": []}, {"events": []}, [1, 2]):
        r = keyed.post("/api/ingest", json=body)
        assert r.status_code == 400, r.text
    r = keyed.post("/api/ingest", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_ingest_needs_a_key_that_may_ingest(server: LiveServer, account: Account) -> None:
    assert httpx.post(server.url + "/api/ingest", json={"events": [event(0)]}).status_code == 401
    r = account.client.post(account.base + "/settings/api-keys", json={"name": "r", "scope": "read"})
    with server.key_client(r.json()["key"]) as reader:
        assert reader.post("/api/ingest", json={"events": [event(0)]}).status_code == 403


@pytest.mark.parametrize(("timestamp", "stored"), [
    ("2026-01-01T00:00:01Z", T0 + 1000),
    ("2026-01-01T01:00:01.250+01:00", T0 + 1250),
    ("2026-01-01 00:00:02", T0 + 2000),
    (1_767_225_603, T0 + 3000),  # seconds
    (1_767_225_603.5, T0 + 3500),  # fractional seconds
    (1_767_225_604_000, T0 + 4000),  # ms
    (1_767_225_605_000_000, T0 + 5000),  # µs
    (1_767_225_606_000_000_000, T0 + 6000),  # ns
    ("1767225607000", T0 + 7000),  # numeric string
])
def test_timestamps_in_every_tolerated_form(account: Account, keyed: httpx.Client, timestamp: Any,
                                            stored: int) -> None:
    ingest(keyed, [{"timestamp": timestamp, "level": "info", "message": "when"}])
    assert _one(keyed, account, "when")["timestamp"] == stored


def test_missing_or_zero_timestamp_means_now(make_server: Callable[..., LiveServer]) -> None:
    clock = FakeClock(T0 + 123_456)
    account = register(make_server(clock=clock))
    with account.keyed() as keyed:
        ingest(keyed, [{"level": "info", "message": "no time"}, {"timestamp": 0, "level": "info", "message": "zero"},
                       {"timestamp": None, "level": "info", "message": "null"}])
        assert {e["message"]: e["timestamp"] for e in _all(keyed, account)} == {
            "no time": T0 + 123_456, "zero": T0 + 123_456, "null": T0 + 123_456}


@pytest.mark.parametrize(("level", "stored"), [
    ("WARNING", "warn"), ("warn", "warn"), ("fatal", "error"), ("critical", "error"), ("ERR", "error"),
    ("trace", "debug"), ("verbose", "debug"), ("notice", "info"), ("Info", "info"),
    (10, "debug"), (20, "debug"), (30, "info"), (40, "warn"), (50, "error"), (60, "error"),  # pino
])
def test_level_aliases_and_numeric_pino_levels(account: Account, keyed: httpx.Client, level: Any,
                                               stored: str) -> None:
    ingest(keyed, [{"timestamp": T0, "level": level, "message": "lvl"}])
    assert _one(keyed, account, "lvl")["level"] == stored


def test_missing_type_means_custom_and_type_aliases(account: Account, keyed: httpx.Client) -> None:
    ingest(keyed, [{"timestamp": T0, "level": "info", "message": "no type"},
                   {"timestamp": T0, "level": "info", "message": "api", "type": "API_CALL"},
                   {"timestamp": T0, "level": "info", "message": "blank", "type": " "}])
    types = {e["message"]: e["type"] for e in _all(keyed, account)}
    assert types == {"no type": "custom", "api": "api_call", "blank": "custom"}


@pytest.mark.parametrize("metadata", [
    {"user": {"plan": "pro", "tags": ["a", "b"]}, "n": 1.5},
    ["php", "sends", {"arrays": True}],
    None, "a string", 42, True, [], {},
])
def test_metadata_of_any_json_type(account: Account, keyed: httpx.Client, metadata: Any) -> None:
    ingest(keyed, [{"timestamp": T0, "level": "info", "message": "meta", "metadata": metadata}])
    stored = _one(keyed, account, "meta")
    assert stored["metadata"] == metadata
    assert get_ok(keyed, account.base + "/logs/" + stored["id"])["metadata"] == metadata


def test_oversize_message_and_metadata_are_truncated_with_a_marker(make_server: Callable[..., LiveServer]) -> None:
    account = register(make_server(ingest={"max_message_bytes": 1000, "max_metadata_bytes": 2000}))
    with account.keyed() as keyed:
        body = ingest(keyed, [{"timestamp": T0, "level": "info", "message": "é" * 3000,
                               "metadata": {"blob": "x" * 5000}}])
        assert body["inserted"] == 1
        stored = _all(keyed, account)[0]
    assert stored["message"].startswith("é" * 500)
    assert stored["message"].endswith("…[truncated 5000 bytes]")
    assert stored["metadata"]["_truncated"] is True and stored["metadata"]["_original_bytes"] > 5000


def test_client_ids_are_idempotent(account: Account, keyed: httpx.Client) -> None:
    first = ingest(keyed, [event(1, id="order-1"), event(2, id="order-2"), event(3)])
    assert first == {"status": 202, "inserted": 3}
    again = ingest(keyed, [event(1, id="order-1"), event(2, id="order-2"), event(4, id="order-4")])
    assert again["inserted"] == 1 and again["duplicates"] == 2
    same_batch = ingest(keyed, [event(5, id="dup"), event(5, id="dup")])
    assert same_batch["inserted"] == 1 and same_batch["duplicates"] == 1
    assert get_ok(keyed, account.base + "/logs")["total"] == 5
    assert get_ok(keyed, account.base + "/logs/order-2")["message"] == "event number 2"
    assert keyed.get(account.base + "/logs/nope").status_code == 404


@pytest.mark.parametrize("encoding", ["gzip", "zstd"])
def test_compressed_bodies(account: Account, keyed: httpx.Client, encoding: str) -> None:
    raw = msgspec.json.encode({"events": [event(i) for i in range(60)]})
    body = gzip.compress(raw) if encoding == "gzip" else zstandard.ZstdCompressor().compress(raw)
    r = keyed.post("/api/ingest", content=body,
                   headers={"Content-Encoding": encoding, "Content-Type": "application/json"})
    assert r.status_code == 202 and r.json() == {"status": 202, "inserted": 60}
    assert get_ok(keyed, account.base + "/logs")["total"] == 60


def test_413_beyond_max_body_bytes_and_max_batch_events(make_server: Callable[..., LiveServer]) -> None:
    account = register(make_server(ingest={"max_body_bytes": 20_000, "max_batch_events": 10}))
    with account.keyed() as keyed:
        r = keyed.post("/api/ingest", json={"events": [event(0, message="x" * 30_000)]})
        assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
        r = keyed.post("/api/ingest", json={"events": [event(i) for i in range(11)]})
        assert r.status_code == 413
        bomb = gzip.compress(msgspec.json.encode({"events": [event(0, message="y" * 100_000)]}))
        assert len(bomb) < 20_000
        r = keyed.post("/api/ingest", content=bomb, headers={"Content-Encoding": "gzip"})
        assert r.status_code == 413
        assert ingest(keyed, [event(i) for i in range(10)])["inserted"] == 10


def test_cors_preflight_and_double_slash_path(server: LiveServer, account: Account) -> None:
    for path in ("/api/ingest", "//api/ingest"):
        r = httpx.options(server.url + path, headers={
            "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
        assert r.status_code in (200, 204)
        assert r.headers["access-control-allow-origin"] == "*"
        assert "POST" in r.headers["access-control-allow-methods"]
        allowed = r.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed and "content-type" in allowed
    r = httpx.post(server.url + "//api/ingest", json={"events": [event(0)]},
                   headers={"Authorization": f"Bearer {account.api_key}", "Origin": "https://app.example.com"})
    assert r.status_code == 202 and r.json() == {"status": 202, "inserted": 1}
    assert r.headers["access-control-allow-origin"] == "*"


UAS = {
    "curl/8.5.0": "server",
    "Go-http-client/1.1": "server",
    "GuzzleHttp/7 curl/7.88.1 PHP/8.2.7": "server",
    "Dart/3.3 (dart:io)": "server",
    "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)": "server",
    "node": "server",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1": "mobile",
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1": "tablet",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36": "desktop",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36": "mobile",
}


def test_device_type_from_the_user_agent_unless_the_payload_says(server: LiveServer, account: Account) -> None:
    for i, ua in enumerate(UAS):
        with server.key_client(account.api_key, headers={"User-Agent": ua}) as c:
            ingest(c, [event(i, message=f"ua {i}"), event(i, message=f"payload {i}", device_type="iOS")])
    with account.keyed() as keyed:
        devices = {e["message"]: e["device_type"] for e in _all(keyed, account)}
    for i, expected in enumerate(UAS.values()):
        assert devices[f"ua {i}"] == expected, list(UAS)[i]
        assert devices[f"payload {i}"] == "ios"


def test_503_with_retry_after_when_the_write_queue_is_over_its_bound(make_server: Callable[..., LiveServer]) -> None:
    account = register(make_server(ingest={"queue_max_events": 10}))
    seen_503 = threading.Event()
    lock = threading.Lock()
    statuses: list[int] = []
    retry_after: list[str | None] = []
    inserted = [0]

    def hammer(worker: int) -> None:
        with account.keyed() as c:
            for n in range(200):  # bounded: stop at the first 503 anyone sees
                if seen_503.is_set():
                    return
                r = c.post("/api/ingest", json={"events": [event(n, message=f"w{worker} {n} {k}")
                                                           for k in range(8)]})
                with lock:
                    statuses.append(r.status_code)
                    if r.status_code == 202:
                        inserted[0] += r.json()["inserted"]
                    elif r.status_code == 503:
                        retry_after.append(r.headers.get("retry-after"))
                        seen_503.set()

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(hammer, range(16)))
    assert seen_503.is_set(), statuses
    assert set(statuses) <= {202, 503}, statuses
    assert retry_after and all(v is not None and int(v) >= 1 for v in retry_after)
    with account.keyed() as keyed:
        assert get_ok(keyed, account.base + "/logs")["total"] == inserted[0]
