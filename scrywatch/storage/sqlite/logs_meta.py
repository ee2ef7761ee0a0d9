"""Reads about log events rather than of them: distinct values, facets, hourly stats, sessions,
pattern samples; and the chunked purge.

Rollup-only queries are answered from the rollup tables (exact, no scan). Queries with text or id
filters count over the newest `cap` matching rows, through the same SQL as /logs, and say so.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import Any

from scrywatch.models.logs import ROLLUP_FIELDS, LogQuery
from scrywatch.models.logs_meta import FacetValue, SessionSummary, StatRow
from scrywatch.storage.sqlite import logs, logsql, rollups
from scrywatch.storage.sqlite.db import Database

HOUR_MS = rollups.HOUR_MS
DISTINCT_COLUMNS = ("service", "environment", "device_type")
MAX_FACET_VALUES = 100
SampleRow = tuple[int, str, str, str, str | None]  # ts, level, type, message, service


def distinct_values(conn: sqlite3.Connection, project: int, column: str) -> list[str]:
    """Distinct non-empty values of a rollup dimension, from the hourly rollup (no event scan)."""
    assert column in DISTINCT_COLUMNS, column
    rows = conn.execute(f"SELECT DISTINCT {column} FROM log_counts_hourly WHERE project = ? AND {column} != ''"
                        f" ORDER BY {column}", (project,)).fetchall()
    return [r[0] for r in rows]


def _newest_matching(conn: sqlite3.Connection, project: int, query: LogQuery, columns: str,
                     cap: int) -> tuple[list[tuple[Any, ...]], bool]:
    """`columns` of the newest `cap` events /logs would return for this query (same builder, same
    order), and True when that is all of them (one extra row is read to know)."""
    sql, params, _kind = logsql.page_sql(project, query, limit=cap + 1, offset=0, cursor=None)
    rows = conn.execute(f"SELECT {columns} FROM ({sql})", params).fetchall()
    return rows[:cap], len(rows) <= cap


def facet_counts(conn: sqlite3.Connection, project: int, query: LogQuery, *,
                 cap: int) -> tuple[dict[str, list[FacetValue]], bool]:
    """Counts per value of every rollup dimension, largest first, and whether they are exact."""
    combos: Counter[tuple[Any, ...]]
    if query.rollup_only:
        exact = True
        combos = rollups.grouped_counts(conn, project, query, ROLLUP_FIELDS)
    else:
        rows, exact = _newest_matching(conn, project, query, ", ".join(ROLLUP_FIELDS), cap)
        combos = Counter(rows)
    per_field: dict[str, Counter[Any]] = {f: Counter() for f in ROLLUP_FIELDS}
    for i, field in enumerate(ROLLUP_FIELDS):
        counter = per_field[field]
        for key, n in combos.items():
            counter[key[i]] += n
    facets = {
        field: [FacetValue(value=v, count=n) for v, n in sorted(c.items(), key=lambda kv: (-kv[1], kv[0] or ""))
                if n > 0][:MAX_FACET_VALUES]
        for field, c in per_field.items()
    }
    return facets, exact


def hourly_stats(conn: sqlite3.Connection, project: int, query: LogQuery, *,
                 cap: int) -> tuple[list[StatRow], bool]:
    """Counts per (hour, level, type), oldest hour first, and whether they are exact."""
    counts: Counter[tuple[Any, ...]]
    if query.rollup_only:
        exact = True
        counts = rollups.grouped_counts(conn, project, query, ("level", "type"), bucket_ms=HOUR_MS)
    else:
        rows, exact = _newest_matching(conn, project, query, f"ts / {HOUR_MS} * {HOUR_MS}, level, type", cap)
        counts = Counter(rows)
    stats = [StatRow(level=level, type=type_, count=n, hour=hour)
             for (hour, level, type_), n in sorted(counts.items()) if n > 0]
    return stats, exact


def pattern_sample(conn: sqlite3.Connection, project: int, query: LogQuery, *,
                   cap: int) -> tuple[list[SampleRow], bool]:
    """The newest `cap` matching events (ts, level, type, message, service); True when that is all of them."""
    return _newest_matching(conn, project, query, "ts, level, type, message, service", cap)


_SESSION_AGG = ("SELECT count(*), min(l.ts), max(l.ts), coalesce(sum(l.level = 'error'), 0),"
                " coalesce(sum(l.level = 'warn'), 0), coalesce(sum(l.type = 'crash'), 0) FROM logs l WHERE ")


def sessions(conn: sqlite3.Connection, project: int, *, limit: int, offset: int,
             environment: str | None) -> tuple[list[SessionSummary], bool]:
    """Sessions by most recent activity: walk events newest-first collecting session ids (stops as
    soon as the page is full), then count each session from its id postings (logs_ids)."""
    env_term, env_params = (" AND environment = ?", [environment]) if environment is not None else ("", [])
    walk = conn.execute("SELECT session_id FROM logs WHERE project = ? AND session_id IS NOT NULL"
                        f"{env_term} ORDER BY ts DESC, id DESC", [project, *env_params])
    wanted = offset + limit + 1
    seen: dict[str, None] = {}
    while len(seen) < wanted:
        chunk = walk.fetchmany(500)
        if not chunk:
            break
        for (sid,) in chunk:
            seen.setdefault(sid, None)
            if len(seen) >= wanted:
                break
    walk.close()
    ids = list(seen)[offset:offset + limit + 1]
    has_more = len(ids) > limit
    out = []
    for sid in ids[:limit]:
        terms, params = logsql.where(project, LogQuery(session_id=sid, environment=environment))
        n, first, last, errors, warns, crashes = conn.execute(_SESSION_AGG + " AND ".join(terms), params).fetchone()
        out.append(SessionSummary(session_id=sid, event_count=n, first_event=first, last_event=last,
                                  error_count=errors, warn_count=warns, crash_count=crashes))
    return out, has_more


def purge_chunk(conn: sqlite3.Connection, project: int, up_to_id: int, chunk: int) -> int:
    """Delete up to `chunk` of the project's events with row id <= up_to_id (FTS and rollups kept in step)."""
    return logs.delete_where(conn, project, ["l.project = ?", "l.id <= ?"], [project, up_to_id], limit=chunk)


def last_row_id(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM logs").fetchone()[0])


class SqliteLogMetaStore:
    """Async face of the functions above."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def distinct(self, project: int, column: str) -> list[str]:
        return await self.db.read(distinct_values, project, column)

    async def facets(self, project: int, query: LogQuery, *, cap: int) -> tuple[dict[str, list[FacetValue]], bool]:
        return await self.db.read(lambda c: facet_counts(c, project, query, cap=cap))

    async def stats(self, project: int, query: LogQuery, *, cap: int) -> tuple[list[StatRow], bool]:
        return await self.db.read(lambda c: hourly_stats(c, project, query, cap=cap))

    async def sample(self, project: int, query: LogQuery, *, cap: int) -> tuple[list[SampleRow], bool]:
        return await self.db.read(lambda c: pattern_sample(c, project, query, cap=cap))

    async def sessions(self, project: int, *, limit: int, offset: int,
                       environment: str | None) -> tuple[list[SessionSummary], bool]:
        return await self.db.read(lambda c: sessions(c, project, limit=limit, offset=offset,
                                                     environment=environment))

    async def purge(self, project: int, *, chunk: int) -> int:
        """Delete every event of the project stored before the call, one write transaction per chunk."""
        up_to = await self.db.read(last_row_id)
        total = 0
        while True:
            # weight 1: a purge must not count against the ingest queue's bound (no 503s while it runs)
            n = await self.db.write(purge_chunk, project, up_to, chunk)
            total += n
            if n < chunk:
                return total
