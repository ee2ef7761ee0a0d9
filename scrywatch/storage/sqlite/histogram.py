"""Event counts per time bucket and level, for the Log Explorer's histogram.

Rollup-only queries never scan events: hour-multiple buckets come from the hourly rollup (through
rollups.grouped_counts), minute-multiple buckets from log_counts_minute, and the partial minutes at
the edges from the events table through its (project, ts) index. Queries with text or id filters
count the newest `cap` matching events (the same rows /logs would list) and say so.
"""

from __future__ import annotations

import sqlite3
from collections import Counter

from scrywatch.models.logs import ROLLUP_FIELDS, LogQuery
from scrywatch.storage.sqlite import logs_meta, rollups
from scrywatch.storage.sqlite.db import Database

MINUTE_MS = rollups.MINUTE_MS
HOUR_MS = rollups.HOUR_MS
BucketCounts = Counter[tuple[int, str]]  # (bucket start ms, level) -> events


def _ceil(v: int, unit: int) -> int:
    return -(-v // unit) * unit


def _minute_buckets(conn: sqlite3.Connection, project: int, query: LogQuery, bucket_ms: int) -> BucketCounts:
    assert query.from_ms is not None and query.to_ms is not None
    lo, hi = query.from_ms, query.to_ms
    m_lo, m_hi = _ceil(lo, MINUTE_MS), (hi + 1) // MINUTE_MS * MINUTE_MS  # whole minutes: [m_lo, m_hi)
    out: BucketCounts = Counter()
    edges = [(lo, hi)]
    if m_lo < m_hi:
        edges = [(lo, m_lo - 1), (m_hi, hi)]
        terms, params = rollups._rollup_terms(query)
        sql = (f"SELECT minute * {MINUTE_MS} / {bucket_ms} * {bucket_ms}, level, sum(n) FROM log_counts_minute"
               f" WHERE {' AND '.join(['project = ?', 'minute BETWEEN ? AND ?', *terms])} GROUP BY 1, 2")
        for bucket, level, n in conn.execute(sql, [project, m_lo // MINUTE_MS, m_hi // MINUTE_MS - 1, *params]):
            out[(bucket, level)] += n
    for e_lo, e_hi in edges:
        if e_lo <= e_hi:
            for bucket, level, n in rollups._raw_counts(conn, project, query, ("level",), e_lo, e_hi, bucket_ms):
                out[(bucket, level)] += n
    return out


def level_buckets(conn: sqlite3.Connection, project: int, query: LogQuery, *, bucket_ms: int,
                  cap: int) -> tuple[BucketCounts, bool]:
    """Matching events of [from, to] by (bucket start, level), and whether every match was counted.

    Buckets start at multiples of bucket_ms (a multiple of a minute, or of an hour past the minute
    rollup's retention); both time bounds are required."""
    assert query.from_ms is not None and query.to_ms is not None
    assert bucket_ms % MINUTE_MS == 0, bucket_ms
    if not query.rollup_only:
        rows, exact = logs_meta._newest_matching(conn, project, query, f"ts / {bucket_ms} * {bucket_ms}, level", cap)
        return Counter(rows), exact
    if bucket_ms % HOUR_MS == 0:
        grouped = rollups.grouped_counts(conn, project, query, ("level",), bucket_ms=bucket_ms)
        return Counter({(int(b), str(level)): n for (b, level), n in grouped.items()}), True  # type: ignore[misc]
    return _minute_buckets(conn, project, query, bucket_ms), True


def newest_dimensions(conn: sqlite3.Connection, project: int, query: LogQuery, *, bucket_ms: int,
                      cap: int) -> tuple[Counter[tuple[object, ...]], bool]:
    """The newest `cap` matches (the rows /logs lists) by (bucket start, level, type, service, environment,
    device_type), and whether that is all of them: the histogram and the facets of a text or id query
    from one read."""
    rows, exact = logs_meta._newest_matching(conn, project, query,
                                             f"ts / {bucket_ms} * {bucket_ms}, {', '.join(ROLLUP_FIELDS)}", cap)
    return Counter(rows), exact


def dimension_counts(conn: sqlite3.Connection, project: int, query: LogQuery) -> Counter[tuple[object, ...]]:
    """Matching events by (level, type, service, environment, device_type), None for a missing value;
    read from the rollups (the query must be rollup-only: filters on those dimensions and time)."""
    return rollups.grouped_counts(conn, project, query, ROLLUP_FIELDS)


def has_events(conn: sqlite3.Connection, project: int) -> bool:
    """True once the project has any event, hot or archived (decides the onboarding empty state)."""
    row = conn.execute("SELECT EXISTS (SELECT 1 FROM logs WHERE project = ?)"
                       " OR EXISTS (SELECT 1 FROM archive_hours WHERE project = ?)", (project, project)).fetchone()
    return bool(row[0])


class SqliteHistogramStore:
    """Async face of the functions above."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def level_buckets(self, project: int, query: LogQuery, *, bucket_ms: int,
                            cap: int) -> tuple[BucketCounts, bool]:
        return await self.db.read(lambda c: level_buckets(c, project, query, bucket_ms=bucket_ms, cap=cap))

    async def newest_dimensions(self, project: int, query: LogQuery, *, bucket_ms: int,
                                cap: int) -> tuple[Counter[tuple[object, ...]], bool]:
        return await self.db.read(lambda c: newest_dimensions(c, project, query, bucket_ms=bucket_ms, cap=cap))

    async def dimension_counts(self, project: int, query: LogQuery) -> Counter[tuple[object, ...]]:
        return await self.db.read(dimension_counts, project, query)

    async def has_events(self, project: int) -> bool:
        return await self.db.read(has_events, project)
