"""The `patterns` job and GET /insights/patterns: normalised, counted once, filtered, is_new."""

from __future__ import annotations

import asyncio
from typing import Any

from scrywatch.clock import FakeClock
from scrywatch.services.insights import refresh_patterns
from tests.alerts.live import ingest, on_loop, run_job
from tests.support import Account

HOUR = 3_600_000


def patterns(owner: Account, **params: Any) -> list[dict[str, Any]]:
    r = owner.client.get(f"{owner.base}/insights/patterns", params=params)
    assert r.status_code == 200, r.text
    return r.json()["patterns"]  # type: ignore[no-any-return]


def ev(ts: int, message: str, level: str = "info", service: str | None = "api") -> dict[str, Any]:
    return {"timestamp": ts, "level": level, "message": message, "service": service}


def test_patterns_are_normalised_counted_once_and_refreshed(owner: Account, clock: FakeClock) -> None:
    t = clock.now_ms()
    ingest(owner, [ev(t - 3000, "user 42 logged in"), ev(t - 2000, "user 7 logged in"),
                   ev(t - 1000, "Connection timeout after 500 ms", "error", "db"),
                   ev(t - 900, "Connection timeout after 30 ms", "error", "db"),
                   ev(t - 800, "Connection timeout after 1 ms", "error", "db"),
                   ev(t - 700, "Connection timeout after 2 ms", "error", "api")])
    assert run_job(owner.server, "patterns") == {"projects": 1, "events": 6}
    found = patterns(owner)
    assert [(p["normalized_message"], p["level"], p["service"], p["occurrence_count"]) for p in found] == [
        ("Connection timeout after {num} ms", "error", "db", 3),
        ("user {num} logged in", "info", "api", 2),
        ("Connection timeout after {num} ms", "error", "api", 1),
    ]
    db = found[0]
    assert db["first_seen"] == t - 1000 and db["last_seen"] == t - 800 and db["is_new"] is True and db["id"]

    assert run_job(owner.server, "patterns") == {"projects": 0, "events": 0}  # nothing new: nothing recounted
    assert patterns(owner)[0]["occurrence_count"] == 3

    clock.advance(hours=2)
    t2 = clock.now_ms()
    ingest(owner, [ev(t2, "Connection timeout after 9 ms", "error", "db"), ev(t2, "disk full on /var", "error", "db")])
    assert run_job(owner.server, "patterns")["events"] == 2
    by_msg = {(p["normalized_message"], p["service"]): p for p in patterns(owner)}
    old = by_msg[("Connection timeout after {num} ms", "db")]
    assert old["occurrence_count"] == 4 and old["first_seen"] == t - 1000 and old["last_seen"] == t2
    assert old["is_new"] is False  # first seen two hours ago
    assert by_msg[("disk full on /var", "db")]["is_new"] is True


def test_filters_and_limit(owner: Account, clock: FakeClock) -> None:
    t = clock.now_ms()
    ingest(owner, [ev(t, "a 1", "error", "db"), ev(t, "a 2", "error", "db"), ev(t, "b", "warning", "db"),
                   ev(t, "c", "info", "web"), ev(t, "d", "info", None)])
    run_job(owner.server, "patterns")
    assert [p["normalized_message"] for p in patterns(owner, level="error")] == ["a {num}"]
    assert [p["normalized_message"] for p in patterns(owner, level="WARNING")] == ["b"]
    assert {p["normalized_message"] for p in patterns(owner, service="db")} == {"a {num}", "b"}
    assert len(patterns(owner, limit=2)) == 2
    r = owner.client.get(f"{owner.base}/insights/patterns", params={"level": "loud"})
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "level"
    r = owner.client.get(f"{owner.base}/insights/patterns", params={"limit": "0"})
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "limit"


def test_overlapping_refreshes_count_each_event_once(owner: Account, clock: FakeClock) -> None:
    ingest(owner, [ev(clock.now_ms(), f"job {i} done") for i in range(50)])
    rt = owner.server.runtime

    async def overlapping() -> list[dict[str, Any]]:
        return list(await asyncio.gather(refresh_patterns(rt), refresh_patterns(rt)))  # no job lock

    results = on_loop(owner.server, overlapping())
    assert sum(r["events"] for r in results) == 50
    assert patterns(owner)[0]["occurrence_count"] == 50


def test_projects_are_separate_and_keys_are_refused(owner: Account, clock: FakeClock) -> None:
    other = owner.client.post(f"/api/orgs/{owner.org}/projects", json={"name": "Other"}).json()
    key = owner.client.post(f"/api/orgs/{owner.org}/projects/{other['slug']}/settings/api-keys",
                            json={"name": "k"}).json()["key"]
    ingest(owner, [ev(clock.now_ms(), "mine")])
    with owner.server.key_client(key) as c:
        assert c.post("/api/ingest", json={"events": [ev(clock.now_ms(), "theirs")]}).status_code == 202
    assert run_job(owner.server, "patterns") == {"projects": 2, "events": 2}
    assert [p["normalized_message"] for p in patterns(owner)] == ["mine"]
    with owner.keyed() as c:
        assert c.get(f"{owner.base}/insights/patterns").status_code == 403


def test_counting_resumes_after_a_purge_reuses_row_ids(owner: Account, clock: FakeClock) -> None:
    ingest(owner, [ev(clock.now_ms(), f"before {i}") for i in range(3)])
    run_job(owner.server, "patterns")
    assert owner.client.post(f"{owner.base}/settings/purge-logs").status_code == 200
    assert run_job(owner.server, "patterns")["events"] == 0  # the mark moves back to the table's end
    ingest(owner, [ev(clock.now_ms(), f"after {i}") for i in range(2)])
    assert run_job(owner.server, "patterns")["events"] == 2
    counts = {p["normalized_message"]: p["occurrence_count"] for p in patterns(owner)}
    assert counts == {"before {num}": 3, "after {num}": 2}
