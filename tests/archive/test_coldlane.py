"""Events older than the hot window go straight to the archive at ingest: accepted, never in the hot
store, in a segment before the 202, each exactly once (retries, late segments, an unrecorded file
left by a crash, the archive job holding its lock)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from scrywatch import archive, jobs
from scrywatch.clock import FakeClock
from scrywatch.storage.sqlite.logs import rowid_of
from tests.archive.support import DAY0, HOUR, day_and_hour, ingest, read_all, run_job
from tests.support import Account, LiveServer, register

NOW = DAY0 + 30 * HOUR  # with hot_hours = 2 the hot window starts at DAY0 + 28 h


def old_events(hour_ms: int, n: int, tag: str = "old", *, with_ids: bool = True) -> list[dict[str, Any]]:
    return [{**({"id": f"{tag}-{i}"} if with_ids else {}), "timestamp": hour_ms + i * 1000,
             "level": ("error", "info")[i % 2], "message": f"{tag} event {i}"} for i in range(n)]


def hot_rows(server: LiveServer) -> int:
    with sqlite3.connect(f"file:{server.config.db_path}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM logs").fetchone()[0])


def archived(account: Account, hour_ms: int) -> int:
    with account.keyed() as client:
        r = client.get(account.base + "/archive", params=day_and_hour(hour_ms))
        assert r.status_code == 200, r.text
        return int(r.json()["total"])


def everything(account: Account) -> list[str]:
    found, totals = read_all(account, "/logs", {"from": DAY0 - 24 * HOUR, "to": NOW + HOUR}, limit=33)
    ids = [e["id"] for e in found]
    assert len(ids) == len(set(ids)), "an event appeared twice"
    assert set(totals) == {len(ids)}
    return ids


def segment(server: LiveServer, account: Account, hour_ms: int, n: int) -> Any:
    return archive.segment_path(server.config.archive_path, account.org, account.project, hour_ms, n)


def test_old_events_are_in_the_archive_before_the_202_and_never_hot(make_server: Callable[..., LiveServer]) -> None:
    server = make_server(clock=FakeClock(NOW), storage={"hot_hours": 2})
    account = register(server)
    fresh = [{"id": f"new-{i}", "timestamp": NOW - i * 60_000, "level": "info", "message": f"new {i}"}
             for i in range(10)]
    with account.keyed() as client:
        r = client.post("/api/ingest", json={"events": old_events(DAY0, 30) + fresh})
    assert r.status_code == 202 and r.json()["inserted"] == 40
    assert hot_rows(server) == 10  # only the fresh ones entered the hot store
    index = archive.read_index(segment(server, account, DAY0, 0))
    assert index is not None and index.events == 30 and index.levels == {"error": 15, "info": 15}
    assert archived(account, DAY0) == 30  # no archive job has run
    assert sorted(everything(account)) == sorted([f"old-{i}" for i in range(30)] + [f"new-{i}" for i in range(10)])
    with account.keyed() as client:
        facets = client.get(account.base + "/facets", params={"from": DAY0, "to": NOW}).json()["facets"]
        assert {f["value"]: f["count"] for f in facets["level"]} == {"error": 15, "info": 25}
        stats = client.get(account.base + "/stats", params={"from": DAY0, "to": DAY0 + HOUR - 1}).json()
        assert sum(row["count"] for row in stats["stats"]) == 30
    assert run_job(server, "archive")["events"] == 0  # nothing of the old hour was left to write
    run_job(server, "retention")
    assert archived(account, DAY0) == 30 and len(everything(account)) == 40


def test_row_ids_of_archived_events_are_never_handed_out_again(make_server: Callable[..., LiveServer]) -> None:
    server = make_server(clock=FakeClock(NOW), storage={"hot_hours": 2})
    account = register(server)
    with account.keyed() as client:
        old = client.post("/api/ingest", json={"events": old_events(DAY0, 5, with_ids=False)}).json()
        assert old["inserted"] == 5
        client.post("/api/ingest", json={"events": [{"timestamp": NOW, "level": "info", "message": "hot"}]})
        hot = client.get(account.base + "/logs").json()["results"]
        cold = client.get(account.base + "/archive", params=day_and_hour(DAY0)).json()["results"]
    assert len(hot) == 1 and len(cold) == 5
    cold_rows = {rowid_of(e["id"])[1] for e in cold}  # type: ignore[index]
    hot_row = rowid_of(hot[0]["id"])[1]  # type: ignore[index]
    assert len(cold_rows) == 5 and hot_row > max(cold_rows)
    with account.keyed() as client:  # each id leads to its own event, hot or archived
        assert client.get(f"{account.base}/logs/{hot[0]['id']}").json()["message"] == "hot"
        for e in cold:
            r = client.get(f"{account.base}/logs/{e['id']}")
            assert r.status_code == 200 and r.json() == e
        assert client.get(f"{account.base}/logs/01NOSUCHEVENT0000000000000").status_code == 404


def test_events_moved_to_the_archive_keep_their_address(make_server: Callable[..., LiveServer]) -> None:
    clock = FakeClock(DAY0 + HOUR)
    server = make_server(clock=clock, storage={"hot_hours": 1}, auth={"open_registration": True})
    account = register(server)
    ingest(account, old_events(DAY0, 40, with_ids=False))
    with account.keyed() as client:
        before = client.get(account.base + "/logs", params={"limit": 100}).json()["results"]
    clock.set(DAY0 + 5 * HOUR)
    run_job(server, "archive")
    assert run_job(server, "retention")["hot_deleted"] == 40
    with account.keyed() as client:
        for e in before[::7]:
            r = client.get(f"{account.base}/logs/{e['id']}")
            assert r.status_code == 200 and r.json() == e
        other = register(server, email="other@example.com", org="Other")
        with other.keyed() as stranger:  # another project's key finds nothing, archived or not
            assert stranger.get(f"{other.base}/logs/{before[0]['id']}").status_code == 404


def test_a_retried_batch_of_old_events_is_stored_once(make_server: Callable[..., LiveServer]) -> None:
    server = make_server(clock=FakeClock(NOW), storage={"hot_hours": 2})
    account = register(server)
    batch = old_events(DAY0, 20) + old_events(DAY0 + 3 * HOUR, 20, tag="other")
    with account.keyed() as client:
        first = client.post("/api/ingest", json={"events": batch + batch[:5]}).json()
        again = client.post("/api/ingest", json={"events": batch}).json()
    assert (first["inserted"], first["duplicates"]) == (40, 5)
    assert (again["inserted"], again["duplicates"]) == (0, 40)
    assert archived(account, DAY0) == 20 and archived(account, DAY0 + 3 * HOUR) == 20
    assert not segment(server, account, DAY0, 1).exists()
    with account.keyed() as client:  # a client id leads to its archived event
        assert client.get(f"{account.base}/logs/other-7").json()["message"] == "other event 7"


def test_late_events_for_an_archived_hour_become_its_next_segment(make_server: Callable[..., LiveServer]) -> None:
    clock = FakeClock(DAY0 + HOUR)
    server = make_server(clock=clock, storage={"hot_hours": 1})
    account = register(server)
    ingest(account, old_events(DAY0, 50, tag="fresh"))  # inside the hot window when they arrive
    clock.set(DAY0 + 5 * HOUR)
    assert run_job(server, "archive")["events"] == 50
    ingest(account, old_events(DAY0 + 30 * 60_000, 7, tag="late"))
    late = archive.read_index(segment(server, account, DAY0, 1))
    assert late is not None and late.events == 7
    assert archived(account, DAY0) == 57
    assert run_job(server, "retention")["hot_deleted"] == 50
    assert hot_rows(server) == 0 and len(everything(account)) == 57


def test_a_segment_file_nobody_recorded_is_replaced(make_server: Callable[..., LiveServer]) -> None:
    """A crash after the rename but before COMMIT leaves a file the hour's record does not count."""
    server = make_server(clock=FakeClock(NOW), storage={"hot_hours": 2})
    account = register(server)
    ingest(account, [{"timestamp": NOW, "level": "info", "message": "makes the project directory"}])
    stray = segment(server, account, DAY0, 0)
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"written by a process that died before its commit")
    assert archived(account, DAY0) == 0  # not listed, so never read
    ingest(account, old_events(DAY0, 12))
    index = archive.read_index(stray)
    assert index is not None and index.events == 12
    with account.keyed() as client:
        found = client.get(account.base + "/archive", params={**day_and_hour(DAY0), "limit": 100}).json()
    assert sorted(e["id"] for e in found["results"]) == sorted(f"old-{i}" for i in range(12))


def test_while_the_archive_job_runs_old_events_take_the_hot_path(make_server: Callable[..., LiveServer]) -> None:
    server = make_server(clock=FakeClock(NOW), storage={"hot_hours": 2})
    account = register(server)
    with jobs.job_lock(server.config, "archive", wait=False):  # as a running `scrywatch jobs run archive`
        ingest(account, old_events(DAY0, 25))
    assert hot_rows(server) == 25 and not segment(server, account, DAY0, 0).exists()
    assert len(everything(account)) == 25  # read below the boundary as not archived yet
    assert run_job(server, "archive")["events"] == 25
    assert run_job(server, "retention")["hot_deleted"] == 25
    ingest(account, old_events(DAY0, 5, tag="after"))  # the lock is free again: straight to the archive
    assert hot_rows(server) == 0 and archived(account, DAY0) == 30 and len(everything(account)) == 30
