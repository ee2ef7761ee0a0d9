"""/services, /device-types, /environments, /facets, /patterns, /stats and /sessions through the real server."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

from scrywatch.clock import FakeClock
from tests.logs.conftest import HOUR, T0, event, get_ok, ingest
from tests.logs.corpus import build_corpus, matches
from tests.support import Account, LiveServer, register

FACET_FIELDS = ("level", "type", "service", "environment", "device_type")


def test_distinct_values(account: Account, keyed: httpx.Client) -> None:
    assert get_ok(keyed, account.base + "/services") == {"services": []}
    ingest(keyed, [event(1, service="web", environment="prod", device_type="mobile"),
                   event(2, service="api", environment="staging"), event(3, service="api"), event(4)])
    assert get_ok(keyed, account.base + "/services") == {"services": ["api", "web"]}
    assert get_ok(keyed, account.base + "/environments") == {"environments": ["prod", "staging"]}
    # httpx is a server-side client, so events without a device_type are `server`.
    assert get_ok(keyed, account.base + "/device-types") == {"device_types": ["mobile", "server"]}


FACET_CASES: list[dict[str, str]] = [
    {}, {"level": "error,warn"}, {"service": "api", "exclude_type": "crash"},
    {"from": str(T0 + HOUR // 3), "to": str(T0 + 2 * HOUR + 12_345)},  # minute and raw edges
    {"q": "payment"}, {"user_id": "u1", "level": "info"}, {"session_id": "s3", "exclude_device_type": "server"},
    {"trace_id": "t2", "from": str(T0 + HOUR)},
]


def test_facets_agree_with_logs_totals_and_with_the_events(account: Account, keyed: httpx.Client) -> None:
    corpus = build_corpus(300, seed=11)
    ingest(keyed, corpus)
    for params in FACET_CASES:
        total = get_ok(keyed, account.base + "/logs", params)["total"]
        body = get_ok(keyed, account.base + "/facets", params)
        assert body["exact"] is True
        kept = [e for e in corpus if matches(e, params)]
        assert total == len(kept), params
        for field in FACET_FIELDS:
            values = body["facets"][field]
            assert sum(v["count"] for v in values) == total, (params, field)
            assert [v["count"] for v in values] == sorted((v["count"] for v in values), reverse=True)
            assert {v["value"]: v["count"] for v in values} == dict(Counter(e.get(field) for e in kept)), field


def test_facets_over_many_text_matches_are_capped_and_say_so(account: Account, keyed: httpx.Client) -> None:
    for chunk in range(11):
        ingest(keyed, [event(chunk * 1000 + i, message=f"common word {i}") for i in range(1000)])
    body = get_ok(keyed, account.base + "/facets", {"q": "common"})
    assert body["exact"] is False and body["sample_limit"] == 10_000
    assert sum(v["count"] for v in body["facets"]["level"]) == 10_000
    exact = get_ok(keyed, account.base + "/facets")  # rollup-only: exact at any size
    assert exact["exact"] is True and exact["facets"]["level"] == [{"value": "info", "count": 11_000}]


def test_patterns_group_variable_parts(account: Account, keyed: httpx.Client) -> None:
    ingest(keyed, [
        event(1, message="User 12 logged in from 10.0.0.1", service="auth"),
        event(2, message="User 345 logged in from 192.168.1.20", service="web"),
        event(3, message="User 7 logged in from 10.0.0.9", service="auth"),
        event(4, level="error", type="crash",
              message="Order 550e8400-e29b-41d4-a716-446655440000 failed for bob@example.com"),
        event(5, level="error", type="crash",
              message="Order 6ba7b810-9dad-11d1-80b4-00c04fd430c8 failed for eve@example.org"),
        event(6, level="warn", message='Cache miss for "user:42" at 0x7ffee4c1'),
        event(7, level="warn", message="Cache miss for 'session:9' at 0xdeadbeef"),
        event(8, message="User 99 logged in from 10.0.0.1", level="debug"),
    ])
    body = get_ok(keyed, account.base + "/patterns")
    assert body["sampled"] == 8 and body["exact"] is True
    groups = {(p["pattern"], p["level"]): p for p in body["patterns"]}
    login = groups[("User {num} logged in from {ip}", "info")]
    assert login["count"] == 3 and login["services"] == ["auth", "web"] and login["type"] == "custom"
    assert login["first_seen"] == T0 + 1000 and login["last_seen"] == T0 + 3000
    assert login["sample"] == "User 7 logged in from 10.0.0.9"  # the newest
    crash = groups[("Order {uuid} failed for {email}", "error")]
    assert crash["count"] == 2 and crash["type"] == "crash" and crash["services"] == []
    assert groups[("Cache miss for {str} at {hex}", "warn")]["count"] == 2
    assert groups[("User {num} logged in from {ip}", "debug")]["count"] == 1
    assert [p["count"] for p in body["patterns"]] == [3, 2, 2, 1]
    only_errors = get_ok(keyed, account.base + "/patterns", {"level": "error"})["patterns"]
    assert [p["pattern"] for p in only_errors] == ["Order {uuid} failed for {email}"]
    sampled = get_ok(keyed, account.base + "/patterns", {"sample": "3", "limit": "1"})
    assert sampled["sampled"] == 3 and sampled["exact"] is False and sampled["sample_limit"] == 3
    assert len(sampled["patterns"]) == 1


def test_stats_buckets_by_hour_at_the_boundaries(account: Account, keyed: httpx.Client) -> None:
    h1 = T0 + HOUR
    ingest(keyed, [
        {"timestamp": h1 - 1, "level": "error", "type": "crash", "message": "last ms of the hour"},
        {"timestamp": h1, "level": "error", "type": "crash", "message": "first ms of the next"},
        {"timestamp": h1 + 59_999, "level": "info", "message": "end of first minute"},
        {"timestamp": T0, "level": "info", "message": "start"},
    ])

    def stats(**params: int) -> list[tuple[int, str, str, int]]:
        body = get_ok(keyed, account.base + "/stats", params)
        assert body["from"] == params["from"] and body["to"] == params["to"]
        return [(s["hour"], s["level"], s["type"], s["count"]) for s in body["stats"]]

    assert stats(**{"from": T0 - HOUR, "to": T0 + 3 * HOUR}) == [
        (T0, "error", "crash", 1), (T0, "info", "custom", 1), (h1, "error", "crash", 1), (h1, "info", "custom", 1)]
    assert stats(**{"from": h1, "to": T0 + 3 * HOUR}) == [(h1, "error", "crash", 1), (h1, "info", "custom", 1)]
    assert stats(**{"from": T0, "to": h1 - 1}) == [(T0, "error", "crash", 1), (T0, "info", "custom", 1)]
    assert stats(**{"from": h1 - 1, "to": h1}) == [(T0, "error", "crash", 1), (h1, "error", "crash", 1)]
    assert stats(**{"from": h1 + 1, "to": h1 + 59_998}) == []
    assert stats(**{"from": h1 + 30_000, "to": h1 + 59_999}) == [(h1, "info", "custom", 1)]
    by_q = get_ok(keyed, account.base + "/stats", {"from": T0, "to": h1 + HOUR, "q": "hour"})
    assert [(s["hour"], s["count"]) for s in by_q["stats"]] == [(T0, 1)] and by_q["exact"] is True


def test_stats_default_to_the_last_24_hours(make_server: Callable[..., LiveServer]) -> None:
    clock = FakeClock(T0 + 30 * HOUR + 5)
    account = register(make_server(clock=clock))
    with account.keyed() as keyed:
        ingest(keyed, [event(0, timestamp=T0 + 6 * HOUR + 4), event(1, timestamp=T0 + 6 * HOUR + 5),
                       event(2, timestamp=T0 + 29 * HOUR)])
        body = get_ok(keyed, account.base + "/stats")
    assert body["to"] == T0 + 30 * HOUR + 5 and body["from"] == T0 + 6 * HOUR + 5
    assert [(s["hour"], s["count"]) for s in body["stats"]] == [(T0 + 6 * HOUR, 1), (T0 + 29 * HOUR, 1)]


def _session_events() -> list[dict[str, Any]]:
    rows = [  # (session, offset s, level, type, environment)
        ("a", 1, "info", "session", "prod"), ("a", 5, "error", "crash", "prod"), ("a", 9, "warn", "custom", "prod"),
        ("b", 2, "error", "api_call", "prod"), ("b", 30, "info", "navigation", "staging"),
        ("c", 3, "warn", "custom", "staging"), ("c", 4, "warn", "custom", "staging"),
        ("d", 20, "error", "crash", "prod"),
    ]
    events = [event(i, timestamp=T0 + s * 1000, level=lvl, type=typ, environment=env, session_id=sid)
              for i, (sid, s, lvl, typ, env) in enumerate(rows)]
    return [*events, event(99, timestamp=T0 + 100_000)]  # no session


def test_sessions_counts_order_and_paging(account: Account, keyed: httpx.Client) -> None:
    ingest(keyed, _session_events())
    body = get_ok(keyed, account.base + "/sessions")
    assert body["has_more"] is False
    assert body["sessions"] == [
        {"session_id": "b", "event_count": 2, "first_event": T0 + 2000, "last_event": T0 + 30_000,
         "error_count": 1, "warn_count": 0, "crash_count": 0},
        {"session_id": "d", "event_count": 1, "first_event": T0 + 20_000, "last_event": T0 + 20_000,
         "error_count": 1, "warn_count": 0, "crash_count": 1},
        {"session_id": "a", "event_count": 3, "first_event": T0 + 1000, "last_event": T0 + 9000,
         "error_count": 1, "warn_count": 1, "crash_count": 1},
        {"session_id": "c", "event_count": 2, "first_event": T0 + 3000, "last_event": T0 + 4000,
         "error_count": 0, "warn_count": 2, "crash_count": 0},
    ]
    page = get_ok(keyed, account.base + "/sessions", {"limit": 2, "offset": 1})
    assert [s["session_id"] for s in page["sessions"]] == ["d", "a"] and page["has_more"] is True
    prod = get_ok(keyed, account.base + "/sessions", {"environment": "prod"})["sessions"]
    assert [(s["session_id"], s["event_count"], s["last_event"]) for s in prod] == [
        ("d", 1, T0 + 20_000), ("a", 3, T0 + 9000), ("b", 1, T0 + 2000)]
    assert keyed.get(account.base + "/sessions", params={"limit": "0"}).status_code == 400
