"""Rollup counts at minute edges against a plain count of the same rows, on a real SQLite file.

The partial-minute edges of a range are answered either by scanning them or by the minute's
rollup minus the rest of the minute, whichever touches fewer events; both must give exact counts.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scrywatch.models.logs import LogQuery, NewEvent
from scrywatch.storage.sqlite.db import connect
from scrywatch.storage.sqlite.logs import insert_events
from scrywatch.storage.sqlite.migrations import migrate
from scrywatch.storage.sqlite.rollups import HOUR_MS, MINUTE_MS, grouped_counts

T0 = 1_790_000_000_000 // 3_600_000 * 3_600_000  # an hour boundary
LEVELS = ("debug", "info", "warn", "error")
SERVICES = ("api", "worker", None)


def _event(ts: int, i: int) -> NewEvent:
    return NewEvent(timestamp=ts, level=LEVELS[i % 4], type="custom", message=f"m{i}", client_id=None,
                    service=SERVICES[i % 3], environment=None, user_id=None, session_id=None, device_type=None,
                    trace_id=None, span_id=None, metadata=None)


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    """Three minutes of events, dense in places (so both edge strategies are taken), project 1."""
    db = connect(Path(tmp_path_factory.mktemp("rollups")) / "t.db")
    migrate(db)
    stamps = [T0 + (i * 7919) % (3 * MINUTE_MS) for i in range(3000)]  # spread over 3 minutes
    stamps += [T0 + MINUTE_MS + 50_000 + i % 400 for i in range(2000)]  # a burst late in minute 2
    db.execute("BEGIN")
    insert_events(db, 1, [_event(ts, i) for i, ts in enumerate(stamps)], T0)
    db.execute("COMMIT")
    yield db
    db.close()


def _check(conn: sqlite3.Connection, query: LogQuery, levels: set[str]) -> None:
    got = grouped_counts(conn, 1, query, ("level", "service"))
    level_sql = f" AND level IN ({','.join('?' * len(levels))})" if levels else ""
    rows = conn.execute("SELECT level, service, count(*) FROM logs WHERE project = 1 AND ts BETWEEN ? AND ?"
                        + level_sql + " GROUP BY 1, 2", (query.from_ms, query.to_ms, *sorted(levels))).fetchall()
    assert got == Counter({(level, service): n for level, service, n in rows})


@settings(max_examples=150, deadline=None)
@given(lo=st.integers(-5_000, 3 * MINUTE_MS + 5_000), span=st.integers(0, 2 * MINUTE_MS),
       levels=st.sets(st.sampled_from(LEVELS), max_size=2))
def test_grouped_counts_equal_a_plain_count(conn: sqlite3.Connection, lo: int, span: int,
                                            levels: set[str]) -> None:
    _check(conn, LogQuery(from_ms=T0 + lo, to_ms=T0 + lo + span, levels=tuple(sorted(levels))), levels)


@settings(max_examples=150, deadline=None)
@given(lo=st.integers(-2 * HOUR_MS, 4 * MINUTE_MS), span=st.integers(0, 3 * HOUR_MS),
       levels=st.sets(st.sampled_from(LEVELS), max_size=2))
def test_a_range_ending_after_its_hours_last_event_counts_from_the_hour_rollup(
        conn: sqlite3.Connection, lo: int, span: int, levels: set[str]) -> None:
    """With nothing after `to` in its hour (as when `to` is now), that hour's rollup stands for the
    edge; with events after it, the minutes are read. Both exact."""
    _check(conn, LogQuery(from_ms=T0 + lo, to_ms=T0 + lo + span, levels=tuple(sorted(levels))), levels)


def test_cached_closed_hours_follow_late_events_and_deletes_from_any_connection(tmp_path: Path) -> None:
    """Hours closed long ago are served from the connection's cache; a late event or a delete made
    through another connection (another process would do the same) bumps the epoch and is seen."""
    from scrywatch.storage.sqlite.logs import delete_where, index_new_rows

    path = tmp_path / "c.db"
    reader, writer = connect(path), connect(path)
    try:
        migrate(writer)
        writer.execute("BEGIN")
        insert_events(writer, 1, [_event(T0 + i * 60_000, i) for i in range(120)], T0)  # two closed hours
        writer.execute("COMMIT")
        query = LogQuery(from_ms=T0, to_ms=T0 + 2 * 3_600_000 - 1)

        def levels() -> Counter[tuple[object, ...]]:
            return grouped_counts(reader, 1, query, ("level",))

        assert sum(levels().values()) == 120
        epoch = reader.execute("SELECT n FROM log_rollup_epoch").fetchone()[0]
        assert len(reader.rollup_cache._entries) == 1  # the two hours came from one cached read
        assert sum(levels().values()) == 120

        writer.execute("BEGIN")
        insert_events(writer, 1, [_event(T0 + 5, 3)], T0)  # a late event in the first hour
        index_new_rows(writer)
        writer.execute("COMMIT")
        assert reader.execute("SELECT n FROM log_rollup_epoch").fetchone()[0] == epoch + 1
        assert levels()[("error",)] == 31

        writer.execute("BEGIN")
        delete_where(writer, 1, ["l.project = ?", "l.level = ?"], [1, "error"])
        writer.execute("COMMIT")
        assert ("error",) not in levels() and sum(levels().values()) == 90
    finally:
        reader.close()
        writer.close()
