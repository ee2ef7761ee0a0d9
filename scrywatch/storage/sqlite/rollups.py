"""Exact grouped counts of log events without scanning them.

A time range is cut into whole hours (read from log_counts_hourly), whole minutes at its edges
(log_counts_minute) and partial minutes at the very edges (the events table through its indexes).
This serves totals, /facets, /stats and alert windows for queries that filter only on rollup
dimensions (LogQuery.rollup_only).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence

import msgspec

from scrywatch.models.logs import ROLLUP_FIELDS, LogQuery
from scrywatch.storage.sqlite.logsql import where

HOUR_MS = 3_600_000
MINUTE_MS = 60_000
_FAR = 1 << 62


class HourCache:
    """Results of rollup reads over closed hours, keyed by the database's rollup epoch.

    The hourly GROUP BY over five dimensions is most of a 24 h /facets or /stats, and hours that
    closed more than an hour ago rarely change: only late events and deletes touch them, and those
    bump `log_rollup_epoch` in the same transaction (any process), which retires every entry."""

    def __init__(self, size: int = 512) -> None:
        self._entries: OrderedDict[tuple[object, ...], Counter[tuple[object, ...]]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> Counter[tuple[object, ...]] | None:
        """The counts stored under key (shared: read them, do not change them)."""
        with self._lock:
            counts = self._entries.get(key)
            if counts is not None:
                self._entries.move_to_end(key)
            return counts

    def put(self, key: tuple[object, ...], counts: Counter[tuple[object, ...]]) -> None:
        with self._lock:
            self._entries[key] = counts
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


def bump_epoch(conn: sqlite3.Connection) -> None:
    """Closed hours changed (late events, deletes): retire cached results in every process."""
    conn.execute("UPDATE log_rollup_epoch SET n = n + 1")


def closed_before_now() -> int:
    """Start of the current hour by the wall clock: events before it land in a closed hour."""
    return _floor(int(time.time() * 1000), HOUR_MS)


def settled_before(now_ms: int) -> int:
    """Hours ending before this have been closed for at least an hour: no transaction that started
    while they were open can still commit into them unnoticed."""
    return _floor(now_ms, HOUR_MS) - HOUR_MS


def _floor(v: int, unit: int) -> int:
    return v // unit * unit


def _ceil(v: int, unit: int) -> int:
    return -(-v // unit) * unit


def segments(from_ms: int | None, to_ms: int | None) -> list[tuple[str, int, int]]:
    """Cut [from, to] (inclusive, None = unbounded) into ('hour'|'minute'|'raw', lo, hi) pieces,
    lo and hi inclusive in ms, whose union is exactly the range."""
    lo = -_FAR if from_ms is None else from_ms
    hi = _FAR if to_ms is None else to_ms
    if lo > hi:
        return []
    out: list[tuple[str, int, int]] = []
    h_lo = lo if from_ms is None else _ceil(lo, HOUR_MS)
    h_hi = hi + 1 if to_ms is None else _floor(hi + 1, HOUR_MS)  # exclusive end
    if h_lo < h_hi:
        out.append(("hour", h_lo, h_hi - 1))
        edges = [(lo, h_lo - 1), (h_hi, hi)]
    else:
        edges = [(lo, hi)]
    for e_lo, e_hi in edges:
        if e_lo > e_hi:
            continue
        m_lo, m_hi = _ceil(e_lo, MINUTE_MS), _floor(e_hi + 1, MINUTE_MS)
        if m_lo < m_hi:
            out.append(("minute", m_lo, m_hi - 1))
            for r_lo, r_hi in ((e_lo, m_lo - 1), (m_hi, e_hi)):
                if r_lo <= r_hi:
                    out.append(("raw", r_lo, r_hi))
        else:
            out.append(("raw", e_lo, e_hi))
    return out


def _rollup_terms(query: LogQuery) -> tuple[list[str], list[object]]:
    terms: list[str] = []
    params: list[object] = []

    def eq_in(col: str, values: Sequence[str]) -> None:
        terms.append(f"{col} IN ({', '.join('?' * len(values))})")
        params.extend(values)

    if query.levels:
        eq_in("level", query.levels)
    if query.types:
        eq_in("type", query.types)
    for col, value in (("service", query.service), ("environment", query.environment),
                       ("device_type", query.device_type)):
        if value is not None:
            eq_in(col, [value])
    for col, values in (("level", query.not_levels), ("type", query.not_types), ("service", query.not_services),
                        ("environment", query.not_environments), ("device_type", query.not_device_types)):
        if values:
            terms.append(f"{col} NOT IN ({', '.join('?' * len(values))})")
            params.extend(values)
    return terms, params


def grouped_counts(conn: sqlite3.Connection, project: int, query: LogQuery, group: Sequence[str], *,
                   bucket_ms: int | None = None) -> Counter[tuple[object, ...]]:
    """Counts of matching events grouped by `group` (rollup dimensions), optionally also by time
    bucket (a multiple of an hour, first in the key). Requires query.rollup_only."""
    assert query.rollup_only, "rollup counts need a query on rollup dimensions only"
    for g in group:
        assert g in ROLLUP_FIELDS, g
    if bucket_ms is not None:
        assert bucket_ms % HOUR_MS == 0
    totals: Counter[tuple[object, ...]] = Counter()
    # The rollups store a missing value as '' (part of their key); reads give None, as for events.
    cols = ", ".join(f"nullif({g}, '')" for g in group)
    r_terms, r_params = _rollup_terms(query)

    def rolled(kind: str, lo: int, hi: int) -> list[tuple[object, ...]]:
        table, unit, col = (("log_counts_hourly", HOUR_MS, "hour") if kind == "hour"
                            else ("log_counts_minute", MINUTE_MS, "minute"))
        bucket = f"({col} * {unit}) / {bucket_ms} * {bucket_ms}" if bucket_ms else None
        select = ", ".join(x for x in (bucket, cols) if x)
        terms = ["project = ?", f"{col} BETWEEN ? AND ?", *r_terms]
        width = len(group) + (bucket is not None)
        sql = (f"SELECT {select + ', ' if select else ''}sum(n) FROM {table} WHERE {' AND '.join(terms)}"
               + (" GROUP BY " + ", ".join(str(k) for k in range(1, width + 1)) if width else ""))
        return conn.execute(sql, [project, lo // unit, hi // unit, *r_params]).fetchall()

    def add(rows: list[tuple[object, ...]], sign: int = 1, into: Counter[tuple[object, ...]] = totals) -> None:
        for row in rows:
            n = row[-1]
            if n:
                into[row[:-1]] += sign * n  # type: ignore[operator]

    cache: HourCache | None = getattr(conn, "rollup_cache", None)
    settled = settled_before(int(time.time() * 1000))

    def hours(lo: int, hi: int) -> None:
        if cache is None or lo >= settled:
            add(rolled("hour", lo, hi))
            return
        if hi >= settled:  # the recent, unsettled hours are read every time
            add(rolled("hour", settled, hi))
            hi = settled - 1
        epoch = conn.execute("SELECT n FROM log_rollup_epoch").fetchone()[0]  # same snapshot as the rows
        key = (epoch, project, lo, hi, tuple(group), tuple(r_terms), tuple(r_params), bucket_ms)
        cached = cache.get(key)
        if cached is None:
            cached = Counter()
            add(rolled("hour", lo, hi), into=cached)
            cache.put(key, cached)
        totals.update(cached)  # summed once when cached: thousands of combinations over a day

    pieces = segments(query.from_ms, query.to_ms)
    if query.to_ms is not None:
        last = _floor(query.to_ms, HOUR_MS)
        after = (query.to_ms + 1, last + HOUR_MS - 1)
        if (after[0] <= after[1] and (query.from_ms is None or query.from_ms <= last)
                and not _events_between(conn, project, [after])):
            # Nothing after `to` in its hour (as when `to` is now): that hour's rollup is the edge,
            # instead of a grouped read of its minutes (thousands of rows on a busy hour).
            pieces = segments(query.from_ms, last - 1) + [("hour", last, last + HOUR_MS - 1)]
    for kind, lo, hi in pieces:
        if kind == "hour":
            hours(lo, hi)
            continue
        if kind != "raw":
            add(rolled(kind, lo, hi))
            continue
        # A partial minute: scan its events, or, when the rest of that minute holds fewer (as at "now",
        # where it is empty), take the minute's rollup minus the rest. Busy edges then cost an index
        # count, not a grouped scan of thousands of rows.
        m_lo = _floor(lo, MINUTE_MS)
        rest = [(a, b) for a, b in ((m_lo, lo - 1), (hi + 1, m_lo + MINUTE_MS - 1)) if a <= b]
        if hi >= m_lo + MINUTE_MS or _events_between(conn, project, [(lo, hi)]) <= _events_between(conn, project, rest):
            add(_raw_counts(conn, project, query, group, lo, hi, bucket_ms))
            continue
        add(rolled("minute", m_lo, m_lo + MINUTE_MS - 1))
        for a, b in rest:
            add(_raw_counts(conn, project, query, group, a, b, bucket_ms), -1)
    for key in [k for k, n in totals.items() if n <= 0]:
        del totals[key]
    return totals


def _events_between(conn: sqlite3.Connection, project: int, ranges: list[tuple[int, int]]) -> int:
    """Events of the project in the ranges, counted on the (project, ts) index alone."""
    return sum(conn.execute("SELECT count(*) FROM logs WHERE project = ? AND ts BETWEEN ? AND ?",
                            (project, a, b)).fetchone()[0] for a, b in ranges)


def _raw_counts(conn: sqlite3.Connection, project: int, query: LogQuery, group: Sequence[str], lo: int, hi: int,
                bucket_ms: int | None) -> list[tuple[object, ...]]:
    q = msgspec.structs.replace(query, from_ms=lo, to_ms=hi)
    terms, params = where(project, q)
    bucket = f"l.ts / {bucket_ms} * {bucket_ms}" if bucket_ms else None
    select = ", ".join(x for x in (bucket, *(f"l.{g}" for g in group)) if x)
    sql = (f"SELECT {select + ', ' if select else ''}count(*) FROM logs l WHERE {' AND '.join(terms)}"
           + (f" GROUP BY {select}" if select else ""))
    return conn.execute(sql, params).fetchall()


def count(conn: sqlite3.Connection, project: int, query: LogQuery) -> int:
    """Exact number of events matching a rollup-only query."""
    return sum(grouped_counts(conn, project, query, ()).values())


# -- maintenance (called by the writer in the same transaction as the event rows) -----------
RollupKey = tuple[int, str, str, str, str, str]
UPSERT_HOURLY = ("INSERT INTO log_counts_hourly(project, hour, level, type, service, environment, device_type, n) "
                 "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET n = n + excluded.n")
UPSERT_MINUTE = ("INSERT INTO log_counts_minute(project, minute, level, type, service, environment, device_type, n) "
                 "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET n = n + excluded.n")


def add_counts(conn: sqlite3.Connection, project: int,
               rows: Iterable[tuple[int, str, str, str | None, str | None, str | None]], *, sign: int = 1) -> None:
    """Add (or with sign=-1 subtract) events given as (ts, level, type, service, environment, device_type)."""
    hours: Counter[RollupKey] = Counter()
    minutes: Counter[RollupKey] = Counter()
    for ts, level, type_, service, env, device in rows:
        dims = (level, type_, service or "", env or "", device or "")
        hours[(ts // HOUR_MS, *dims)] += 1
        minutes[(ts // MINUTE_MS, *dims)] += 1
    conn.executemany(UPSERT_HOURLY, [(project, *k, sign * n) for k, n in hours.items()])
    conn.executemany(UPSERT_MINUTE, [(project, *k, sign * n) for k, n in minutes.items()])
    if hours and min(k[0] for k in hours) * HOUR_MS < closed_before_now():
        bump_epoch(conn)
    if sign < 0:
        conn.execute("DELETE FROM log_counts_hourly WHERE project = ? AND n <= 0", (project,))
        conn.execute("DELETE FROM log_counts_minute WHERE project = ? AND n <= 0", (project,))
