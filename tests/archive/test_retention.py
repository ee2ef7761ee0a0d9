"""Retention: hot rows only once archived, archive_days, max_disk_mb (oldest first, logged),
deleted projects, minute rollups past the hot window."""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable

import pytest

from scrywatch.clock import FakeClock
from tests.archive.support import DAY0, HOUR, day_and_hour, ingest, ingest_as_they_happen, run_job
from tests.support import Account, LiveServer, login, register


def events_in(hour_ms: int, n: int, *, tag: str = "e", size: int = 20) -> list[dict[str, object]]:
    return [{"id": f"{tag}{hour_ms}-{i}", "timestamp": hour_ms + i * (HOUR // n), "level": "info",
             "message": os.urandom(size).hex()} for i in range(n)]


def hot_total(account: Account) -> int:
    with account.keyed() as client:
        return int(client.get(account.base + "/logs", params={"limit": 1}).json()["total"])


def archived(account: Account, hour_ms: int) -> int:
    with account.keyed() as client:
        return int(client.get(account.base + "/archive", params=day_and_hour(hour_ms)).json()["total"])


def test_hot_rows_are_deleted_only_once_archived(make_server: Callable[..., LiveServer]) -> None:
    clock = FakeClock(DAY0 + HOUR)
    server = make_server(clock=clock, storage={"hot_hours": 2})
    account = register(server)
    ingest(account, events_in(DAY0, 50))
    clock.set(DAY0 + 30 * HOUR)
    assert run_job(server, "retention")["hot_deleted"] == 0  # not archived yet: stays hot
    assert hot_total(account) == 50
    run_job(server, "archive")
    assert run_job(server, "retention")["hot_deleted"] == 50
    assert hot_total(account) == 0 and archived(account, DAY0) == 50


def test_archive_days_expires_old_hours(make_server: Callable[..., LiveServer]) -> None:
    clock = FakeClock(DAY0 + 2 * HOUR + 10 * 60_000)
    server = make_server(clock=clock, storage={"hot_hours": 1, "archive_days": 2})
    account = register(server)
    ingest(account, events_in(DAY0, 20) + events_in(DAY0 + HOUR, 20))  # DAY0's hour straight to the archive
    run_job(server, "archive")
    project_dir = server.data_dir / "archive" / account.org / account.project
    assert len(list(project_dir.glob("*/*.ndjson.zst"))) == 2
    clock.set(DAY0 + 2 * 24 * HOUR + HOUR + 30 * 60_000)  # DAY0's first hour is now past 2 days
    ingest(account, events_in(DAY0, 5, tag="late"))  # too old to keep: into the archive, expired with its hour
    run_job(server, "archive")
    summary = run_job(server, "retention")
    assert summary["expired_hours"] == 1 and summary["expired_rows"] == 0
    assert archived(account, DAY0) == 0 and archived(account, DAY0 + HOUR) == 20
    assert [p.name for p in project_dir.glob("*/*.ndjson.zst")] == ["01.ndjson.zst"]


def test_max_disk_mb_removes_the_oldest_hours_and_says_so(make_server: Callable[..., LiveServer],
                                                          caplog: pytest.LogCaptureFixture) -> None:
    server = make_server(clock=FakeClock(DAY0 + 8 * HOUR), storage={"hot_hours": 1, "max_disk_mb": 1})
    account = register(server)
    for h in range(5):
        ingest(account, events_in(DAY0 + h * HOUR, 2500, size=100))  # ~0.5 MB of random hex per hour
    run_job(server, "archive")
    with caplog.at_level(logging.WARNING, logger="scrywatch.services.retention"):
        summary = run_job(server, "retention")
    files = list((server.data_dir / "archive").rglob("*"))
    assert sum(f.stat().st_size for f in files if f.is_file()) <= 1024 * 1024
    removed = summary["capped_hours"]
    assert 1 <= removed < 5
    kept = [h for h in range(5) if archived(account, DAY0 + h * HOUR)]
    assert kept == list(range(removed, 5))  # the oldest went first
    assert sum("max_disk_mb: removed archive hour" in r.message for r in caplog.records) == removed


def test_the_archive_of_a_deleted_project_goes_with_it(make_server: Callable[..., LiveServer]) -> None:
    server = make_server(clock=FakeClock(DAY0 + 3 * HOUR))
    account = register(server)
    c = account.client
    slug = c.post(f"/api/orgs/{account.org}/projects", json={"name": "Doomed"}).json()["slug"]
    key = c.post(f"/api/orgs/{account.org}/projects/{slug}/settings/api-keys", json={"name": "k"}).json()["key"]
    with server.key_client(key) as k:
        assert k.post("/api/ingest", json={"events": events_in(DAY0, 10)}).status_code == 202
    run_job(server, "archive")
    doomed_dir = server.data_dir / "archive" / account.org / slug
    assert doomed_dir.exists()
    assert c.delete(f"/api/orgs/{account.org}/projects/{slug}").status_code in (200, 204)
    # A directory a concurrent archive run wrote for it meanwhile (its marker names the dead project):
    ghost = server.data_dir / "archive" / account.org / "ghost"
    (ghost / "2025-10-10").mkdir(parents=True)
    (ghost / ".project").write_text("01DEADPROJECT\n")
    (ghost / "2025-10-10" / "00.ndjson.zst").write_bytes(b"x")
    assert run_job(server, "retention")["orphans_removed"] == 1
    assert not doomed_dir.exists() and not ghost.exists()
    again = c.post(f"/api/orgs/{account.org}/projects", json={"name": "Doomed"}).json()["slug"]
    assert again == slug
    r = c.get(f"/api/orgs/{account.org}/projects/{again}/archive", params=day_and_hour(DAY0))
    assert r.json()["total"] == 0


def test_minute_rollups_are_pruned_past_the_hot_window(make_server: Callable[..., LiveServer]) -> None:
    clock = FakeClock(DAY0 + 10 * HOUR)
    server = make_server(clock=clock, storage={"hot_hours": 2})
    account = register(server)
    ingest_as_they_happen(account, clock, [e for h in range(10) for e in events_in(DAY0 + h * HOUR, 5)])
    run_job(server, "archive")
    summary = run_job(server, "retention")
    assert summary["boundary"] == DAY0 + 8 * HOUR and summary["minute_rollups_pruned"] >= 0
    with sqlite3.connect(f"file:{server.config.db_path}?mode=ro", uri=True) as db:
        oldest = db.execute("SELECT min(minute) FROM log_counts_minute").fetchone()[0]
    assert oldest * 60_000 >= DAY0 + 6 * HOUR


def test_archive_days_zero_keeps_the_archive_forever(make_server: Callable[..., LiveServer]) -> None:
    clock = FakeClock(DAY0 + HOUR)
    server = make_server(clock=clock, storage={"hot_hours": 1, "archive_days": 0})
    account = register(server)
    ingest(account, events_in(DAY0, 20))
    clock.set(DAY0 + 2 * HOUR)
    run_job(server, "archive")
    clock.set(DAY0 + 3 * 365 * 24 * HOUR)  # three years on
    summary = run_job(server, "retention")
    assert summary["hot_deleted"] == 20 and "expired_hours" not in summary
    assert archived(account, DAY0) == 20 and hot_total(account) == 0


def test_retention_deletes_stored_summaries_after_summary_days(make_server: Callable[..., LiveServer]) -> None:
    clock = FakeClock(DAY0)
    server = make_server(clock=clock)
    account = register(server)
    assert account.client.post(account.base + "/insights/summary", json={"minutes": 5}).status_code in (200, 201)

    def latest() -> object:
        client = login(server, account.email, account.password)  # sessions last a day
        try:
            return client.get(account.base + "/insights/summary").json()["summary"]
        finally:
            client.close()

    clock.advance(hours=6 * 24 + 23)
    assert run_job(server, "retention")["summaries_pruned"] == 0 and latest() is not None
    clock.advance(hours=2)  # now more than summary_days (7) old
    assert run_job(server, "retention")["summaries_pruned"] == 1 and latest() is None
