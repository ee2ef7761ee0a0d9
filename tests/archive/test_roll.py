"""A day of synthetic events rolled hour by hour: every event is found exactly once across hot +
archive, before and after retention, including late and old events and the hot/cold boundary."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any

from scrywatch import archive
from scrywatch.clock import FakeClock
from tests.archive.support import DAY0, HOUR, day_and_hour, ingest, read_all, run_job
from tests.support import Account, LiveServer, register

LEVELS = ("error", "warn", "info", "debug")


def hour_events(rng: random.Random, hour_ms: int, n: int, tag: str) -> list[dict[str, Any]]:
    return [{"id": f"{tag}-{i}", "timestamp": hour_ms + rng.randrange(HOUR), "level": rng.choice(LEVELS),
             "message": f"{tag} message {i}", "service": rng.choice(("api", "web", None))} for i in range(n)]


def check_exactly_once(account: Account, expected: set[str]) -> None:
    found, totals = read_all(account, "/logs", {"from": DAY0 - 3 * 24 * HOUR, "to": DAY0 + 30 * HOUR}, limit=97)
    ids = [e["id"] for e in found]
    assert len(ids) == len(set(ids)), "an event appeared twice"
    assert set(ids) == expected
    assert set(totals) == {len(expected)}
    stamps = [e["timestamp"] for e in found]
    assert stamps == sorted(stamps, reverse=True)


def test_roll_a_day(make_server: Callable[..., LiveServer]) -> None:
    clock = FakeClock(DAY0)
    server = make_server(clock=clock, storage={"hot_hours": 6, "archive_grace_minutes": 5, "archive_days": 0})
    account = register(server)
    rng = random.Random(5)
    expected: set[str] = set()
    late_hours: list[int] = []
    for h in range(24):
        clock.set(DAY0 + h * HOUR + 10 * 60_000)
        batch = hour_events(rng, DAY0 + h * HOUR, 40, f"h{h}")
        if h >= 3:
            batch += hour_events(rng, DAY0 + (h - 3) * HOUR, 2, f"late{h}")  # hour h-3 is archived already
            late_hours.append(h - 3)
        if h % 5 == 0:
            batch += hour_events(rng, DAY0 - 2 * 24 * HOUR, 3, f"old{h}")  # far older than the hot window
        ingest(account, batch)
        expected |= {e["id"] for e in batch}
        assert run_job(server, "archive")["events"] > 0 or h == 0
        if h % 6 == 5:
            check_exactly_once(account, expected)
            run_job(server, "retention")
            check_exactly_once(account, expected)
    # A day later everything is archived and gone from the hot store, still each event once.
    clock.set(DAY0 + 48 * HOUR)
    run_job(server, "archive")
    retention = run_job(server, "retention")
    assert retention["hot_deleted"] > 0
    check_exactly_once(account, expected)
    with account.keyed() as client:
        assert client.get(account.base + "/logs", params={"limit": 1}).json()["total"] == 0  # hot is empty
    # Late events were appended as extra segments of their (already written) hours.
    hour_dir = server.data_dir / "archive" / account.org / account.project / "2025-10-10"
    assert {p.name for p in hour_dir.glob("*.1.ndjson.zst")} == {f"{h:02d}.1.ndjson.zst" for h in late_hours}
    found, _ = read_all(account, "/archive", day_and_hour(DAY0 + 7 * HOUR))
    assert {e["id"] for e in found} == {i for i in expected if i.startswith(("h7-", "late10-"))}


def test_late_event_below_the_boundary_is_visible_at_once_and_moves_without_duplicates(
        make_server: Callable[..., LiveServer]) -> None:
    clock = FakeClock(DAY0 + 30 * HOUR)
    server = make_server(clock=clock, storage={"hot_hours": 2})
    account = register(server)
    rng = random.Random(1)
    first = hour_events(rng, DAY0, 50, "a")
    ingest(account, first)
    run_job(server, "archive")
    run_job(server, "retention")  # DAY0's hour is archived and below the boundary: gone from hot
    expected = {e["id"] for e in first}
    late = hour_events(rng, DAY0, 5, "late")
    ingest(account, late)  # lands in the hot store below the boundary: shown from there
    expected |= {e["id"] for e in late}
    for step in ("ingested", "archive", "retention"):
        if step != "ingested":
            run_job(server, step)
        found, totals = read_all(account, "/logs", {"from": DAY0, "to": DAY0 + HOUR}, limit=7)
        ids = [e["id"] for e in found]
        assert sorted(ids) == sorted(expected) and totals[0] == len(expected), step
    archived, _ = read_all(account, "/archive", day_and_hour(DAY0))
    assert {e["id"] for e in archived} == expected


def test_archive_runs_during_concurrent_ingest_write_every_event_exactly_once(
        make_server: Callable[..., LiveServer]) -> None:
    clock = FakeClock(DAY0 + 6 * HOUR)
    server = make_server(clock=clock, storage={"hot_hours": 1})
    account = register(server)
    sent: list[str] = []
    failures: list[BaseException] = []

    def write() -> None:  # late events into hours that are complete (and being archived meanwhile)
        rng = random.Random(3)
        try:
            with account.keyed() as client:
                for b in range(80):
                    batch = [{"id": f"c{b}-{i}", "timestamp": DAY0 + rng.randrange(5 * HOUR), "level": "info",
                              "message": f"concurrent {b} {i}"} for i in range(40)]
                    r = client.post("/api/ingest", json={"events": batch})
                    assert r.status_code == 202, r.text
                    sent.extend(e["id"] for e in batch)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    runs = 0
    while writer.is_alive() or runs < 3:
        run_job(server, "archive")
        runs += 1
    writer.join()
    assert not failures, failures
    run_job(server, "archive")  # what arrived during the last run
    assert run_job(server, "archive")["events"] == 0  # nothing is written twice

    root = server.config.archive_path
    on_disk = [e.id for seg in archive.list_segments(root, account.org, account.project)
               for e in archive.scan(seg.path, archive.ScanFilter(match=lambda e: True))]
    assert len(on_disk) == len(set(on_disk)) and set(on_disk) == set(sent)
    found, totals = read_all(account, "/archive", {"date": "2025-10-10"})
    assert sorted(e["id"] for e in found) == sorted(sent) and totals[0] == len(sent)
    run_job(server, "retention")
    found, totals = read_all(account, "/logs", {"from": DAY0, "to": DAY0 + 5 * HOUR})
    assert sorted(e["id"] for e in found) == sorted(sent) and totals[0] == len(sent)


def test_an_hour_is_written_only_once_its_grace_period_has_passed(make_server: Callable[..., LiveServer]) -> None:
    clock = FakeClock(DAY0 + HOUR + 4 * 60_000)  # the first hour ended 4 minutes ago; the grace is 5
    server = make_server(clock=clock)
    account = register(server)
    ingest(account, hour_events(random.Random(2), DAY0, 30, "g"))
    assert run_job(server, "archive")["events"] == 0
    day_dir = server.data_dir / "archive" / account.org / account.project / "2025-10-10"
    assert not day_dir.exists()
    clock.advance(seconds=61)
    assert run_job(server, "archive")["events"] == 30
    assert [p.name for p in day_dir.glob("*.ndjson.zst")] == ["00.ndjson.zst"]
    assert [p.name for p in day_dir.glob("*.index.json")] == ["00.index.json"]
