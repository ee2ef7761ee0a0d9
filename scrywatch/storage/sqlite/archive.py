"""Archive bookkeeping SQL, and the reads of hot rows that the archive job and cold queries need.

Row ids only grow while the row holding the largest id stays; when a deletion removes it, the next
insert reuses ids. `clamp_marks` keeps every "archived up to id N" mark at or below the largest id
left, so a reused id is always seen as not archived yet. It runs after every deletion here and
after a project is deleted; anything else that deletes hot rows must call it in its transaction.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable

from scrywatch.errors import InvalidInput
from scrywatch.models.archive import ArchivedHour, ArchivedIdHint, ArchiveState, ArchiveWork, ColdHour
from scrywatch.models.logs import LogEvent, LogQuery
from scrywatch.storage.sqlite import logs, logsql
from scrywatch.storage.sqlite.accounts import PROJECT_DATA_DELETERS
from scrywatch.storage.sqlite.db import Database

HOUR_MS = 3_600_000
Rows = list[tuple[int, LogEvent]]
_ARCHIVED_ID = ("coalesce((SELECT a.max_id FROM archive_hours a WHERE a.project = l.project"
                " AND a.hour = l.ts / 3600000), 0)")


def clamp_marks(conn: sqlite3.Connection) -> None:
    """Lower archive marks above the largest row id left (ids above it will be handed out again)."""
    top = conn.execute("SELECT coalesce(max(id), 0) FROM logs").fetchone()[0]
    conn.execute("UPDATE archive_hours SET max_id = ? WHERE max_id > ?", (top, top))
    conn.execute("UPDATE archive_state SET high_water = ? WHERE high_water > ?", (top, top))


def _delete_project_rows(conn: sqlite3.Connection, project: int) -> None:
    conn.execute("DELETE FROM archive_hours WHERE project = ?", (project,))
    conn.execute("DELETE FROM cold_client_ids WHERE project = ?", (project,))
    clamp_marks(conn)  # registered after the logs deleter (imported above), so its rows are gone


PROJECT_DATA_DELETERS.append(_delete_project_rows)


def read_state(conn: sqlite3.Connection) -> ArchiveState:
    hw, cutoff, boundary = conn.execute("SELECT high_water, cutoff, boundary FROM archive_state").fetchone()
    top = conn.execute("SELECT coalesce(max(id), 0) FROM logs").fetchone()[0]
    return ArchiveState(high_water=hw, cutoff_ms=cutoff, boundary_ms=boundary, max_id=top)


def plan(conn: sqlite3.Connection, cutoff_ms: int) -> tuple[ArchiveState, list[ArchiveWork]]:
    """Project-hours before cutoff that completed since the last run or got rows since then."""
    state = read_state(conn)
    sql = ("SELECT w.project, w.hour, coalesce(a.max_id, 0), coalesce(a.segments, 0) FROM ("
           " SELECT DISTINCT project, ts / 3600000 AS hour FROM logs WHERE id > ? AND id <= ? AND ts < ?"
           " UNION SELECT DISTINCT project, hour FROM log_counts_hourly WHERE hour >= ? AND hour < ?"
           ") w LEFT JOIN archive_hours a ON a.project = w.project AND a.hour = w.hour ORDER BY w.project, w.hour")
    high_water = min(state.high_water, state.max_id)
    rows = conn.execute(sql, (high_water, state.max_id, cutoff_ms, state.cutoff_ms // HOUR_MS,
                              cutoff_ms // HOUR_MS)).fetchall()
    return state, [ArchiveWork(project=p, hour_ms=h * HOUR_MS, archived_id=a, segments=s) for p, h, a, s in rows]


def stream_hour(conn: sqlite3.Connection, project: int, hour_ms: int, after_id: int, upto_id: int,
                consume: Callable[[Rows], None], *, batch: int = 2000) -> int:
    """Feed consume() the hour's rows with after_id < id <= upto_id, newest first; return how many."""
    cur = conn.execute(f"SELECT {logsql.COLUMNS} FROM logs WHERE project = ? AND ts >= ? AND ts < ?"
                       " AND id > ? AND id <= ? ORDER BY ts DESC, id DESC",
                       (project, hour_ms, hour_ms + HOUR_MS, after_id, upto_id))
    n = 0
    while rows := cur.fetchmany(batch):
        consume([(r[0], logs.event_from_row(r)) for r in rows])
        n += len(rows)
    return n


def record_segment(conn: sqlite3.Connection, project: int, hour_ms: int, *, segment: int, archived_id: int,
                   events: int, size: int, now_ms: int) -> None:
    top = conn.execute("SELECT coalesce(max(id), 0) FROM logs").fetchone()[0]
    conn.execute(
        "INSERT INTO archive_hours(project, hour, segments, max_id, events, bytes, updated_at)"
        " VALUES (?,?,?,?,?,?,?) ON CONFLICT(project, hour) DO UPDATE SET segments = excluded.segments,"
        " max_id = excluded.max_id, events = events + excluded.events, bytes = bytes + excluded.bytes,"
        " updated_at = excluded.updated_at",
        (project, hour_ms // HOUR_MS, segment + 1, min(archived_id, top), events, size, now_ms))


def finish_run(conn: sqlite3.Connection, high_water: int, cutoff_ms: int) -> None:
    top = conn.execute("SELECT coalesce(max(id), 0) FROM logs").fetchone()[0]
    conn.execute("UPDATE archive_state SET high_water = ?, cutoff = max(cutoff, ?)",
                 (min(high_water, top), cutoff_ms))


# -- retention -------------------------------------------------------------------------------
def advance_boundary(conn: sqlite3.Connection, boundary_ms: int) -> int:
    """Move the hot/cold boundary forward (never back: rows below it may be gone); return it."""
    conn.execute("UPDATE archive_state SET boundary = max(boundary, ?)", (boundary_ms,))
    return int(conn.execute("SELECT boundary FROM archive_state").fetchone()[0])


def deletable_hours(conn: sqlite3.Connection, boundary_ms: int) -> list[tuple[int, int, int]]:
    """(project, hour_ms, archived_id) of archived hours below the boundary that still have hot rows."""
    rows = conn.execute(
        "SELECT a.project, a.hour, a.max_id FROM archive_hours a WHERE a.hour < ? AND EXISTS ("
        " SELECT 1 FROM log_counts_hourly c WHERE c.project = a.project AND c.hour = a.hour)",
        (boundary_ms // HOUR_MS,)).fetchall()
    return [(p, h * HOUR_MS, m) for p, h, m in rows]


def delete_archived_rows(conn: sqlite3.Connection, project: int, hour_ms: int, archived_id: int,
                         limit: int) -> int:
    n = logs.delete_where(conn, project, ["l.project = ?", "l.ts >= ?", "l.ts < ?", "l.id <= ?"],
                          [project, hour_ms, hour_ms + HOUR_MS, archived_id], limit=limit)
    clamp_marks(conn)
    return n


def delete_rows_before(conn: sqlite3.Connection, project: int, before_ms: int, limit: int) -> int:
    """Delete hot rows older than before_ms whether archived or not (past the archive's retention)."""
    n = logs.delete_where(conn, project, ["l.project = ?", "l.ts < ?"], [project, before_ms], limit=limit)
    clamp_marks(conn)
    return n


def archived_hours(conn: sqlite3.Connection, before_ms: int | None = None) -> list[ArchivedHour]:
    sql = "SELECT project, hour, segments, bytes FROM archive_hours"
    params: list[object] = []
    if before_ms is not None:
        sql += " WHERE hour < ?"
        params.append(before_ms // HOUR_MS)
    return [ArchivedHour(project=p, hour_ms=h * HOUR_MS, segments=s, bytes=b)
            for p, h, s, b in conn.execute(sql + " ORDER BY hour, project", params)]


def forget_hours(conn: sqlite3.Connection, hours: list[tuple[int, int]]) -> None:
    """Drop the records of (project, hour_ms) whose files are about to be deleted."""
    params = [(p, h // HOUR_MS) for p, h in hours]
    conn.executemany("DELETE FROM archive_hours WHERE project = ? AND hour = ?", params)
    conn.executemany("DELETE FROM cold_client_ids WHERE project = ? AND hour = ?", params)


def prune_minute_counts(conn: sqlite3.Connection, before_ms: int) -> int:
    n = 0
    for (project,) in conn.execute("SELECT pk FROM projects").fetchall():
        n += conn.execute("DELETE FROM log_counts_minute WHERE project = ? AND minute < ?",
                          (project, before_ms // 60_000)).rowcount
    return n


# -- cold queries ----------------------------------------------------------------------------
def id_hint(conn: sqlite3.Connection, project: int, public_id: str) -> ArchivedIdHint:
    """How to look for an event id in the archive (see ArchivedIdHint)."""
    found = conn.execute("SELECT hour FROM cold_client_ids WHERE project = ? AND client_id = ?",
                         (project, public_id)).fetchone()
    if found is not None:
        return ArchivedIdHint(hour_ms=found[0] * HOUR_MS)
    decoded = logs.rowid_of(public_id)
    if decoded is None:
        return ArchivedIdHint()
    return ArchivedIdHint(row=decoded[1])


def cold_hours(conn: sqlite3.Connection, project: int, lo_ms: int, hi_ms: int) -> list[ColdHour]:
    """Archived hours overlapping [lo, hi], newest first."""
    rows = conn.execute("SELECT hour, segments FROM archive_hours WHERE project = ? AND hour BETWEEN ? AND ?"
                        " ORDER BY hour DESC", (project, lo_ms // HOUR_MS, hi_ms // HOUR_MS)).fetchall()
    return [ColdHour(hour_ms=h * HOUR_MS, segments=s) for h, s in rows]


def _unarchived_where(project: int, query: LogQuery, boundary_ms: int) -> tuple[list[str], list[object]]:
    terms, params = logsql.where(project, query)
    terms += ["l.ts < ?", f"l.id > {_ARCHIVED_ID}"]
    params.append(boundary_ms)
    match = logsql.fts_match(query.q) if query.q else None
    if match is not None:
        terms.append("EXISTS (SELECT 1 FROM logs_fts f WHERE logs_fts MATCH ? AND f.rowid = l.id)")
        params.append(match)
    return terms, params


def unarchived(conn: sqlite3.Connection, project: int, query: LogQuery, boundary_ms: int, *,
               before: tuple[int, int] | None, limit: int) -> Rows:
    """Hot rows below the boundary that no segment holds yet, newest first by (ts, id)."""
    terms, params = _unarchived_where(project, query, boundary_ms)
    if before is not None:
        terms.append("(l.ts < ? OR (l.ts = ? AND l.id < ?))")
        params += [before[0], before[0], before[1]]
    rows = conn.execute(f"SELECT {logsql.L_COLUMNS} FROM logs l WHERE {' AND '.join(terms)}"
                        " ORDER BY l.ts DESC, l.id DESC LIMIT ?", [*params, limit]).fetchall()
    return [(r[0], logs.event_from_row(r)) for r in rows]


def unarchived_counts(conn: sqlite3.Connection, project: int, query: LogQuery,
                      boundary_ms: int) -> Counter[tuple[str, str, str | None, str | None, str | None]]:
    """Counts of unarchived cold hot rows by (level, type, service, environment, device_type)."""
    terms, params = _unarchived_where(project, query, boundary_ms)
    rows = conn.execute(f"SELECT l.level, l.type, l.service, l.environment, l.device_type, count(*) FROM logs l"
                        f" WHERE {' AND '.join(terms)} GROUP BY 1, 2, 3, 4, 5", params).fetchall()
    return Counter({tuple(r[:5]): r[5] for r in rows})


def hot_page(conn: sqlite3.Connection, project: int, query: LogQuery, cursor: str | None,
             limit: int) -> tuple[list[LogEvent], str | None]:
    """A hot-store page without its total (for streaming exports): (events, next cursor)."""
    page = logs.search(conn, project, query, limit=limit, offset=0, cursor=cursor, with_total=False)
    return page.results, page.next_cursor if page.has_more else None


class SqliteArchiveStore:
    """Async face of the functions above."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def state(self) -> ArchiveState:
        return await self.db.read(read_state)

    async def plan(self, cutoff_ms: int) -> tuple[ArchiveState, list[ArchiveWork]]:
        return await self.db.read(plan, cutoff_ms)

    async def stream_hour(self, project: int, hour_ms: int, after_id: int, upto_id: int,
                          consume: Callable[[Rows], None]) -> int:
        """Runs consume() on a reader thread (it may block on file I/O)."""
        return await self.db.read(stream_hour, project, hour_ms, after_id, upto_id, consume)

    async def record_segment(self, project: int, hour_ms: int, *, segment: int, archived_id: int, events: int,
                             size: int, now_ms: int) -> None:
        await self.db.write(lambda c: record_segment(c, project, hour_ms, segment=segment, archived_id=archived_id,
                                                     events=events, size=size, now_ms=now_ms))

    async def finish_run(self, high_water: int, cutoff_ms: int) -> None:
        await self.db.write(finish_run, high_water, cutoff_ms)

    async def advance_boundary(self, boundary_ms: int) -> int:
        return await self.db.write(advance_boundary, boundary_ms)

    async def deletable_hours(self, boundary_ms: int) -> list[tuple[int, int, int]]:
        return await self.db.read(deletable_hours, boundary_ms)

    async def delete_archived_rows(self, project: int, hour_ms: int, archived_id: int, *, limit: int) -> int:
        return await self.db.write(delete_archived_rows, project, hour_ms, archived_id, limit, weight=limit)

    async def delete_rows_before(self, project: int, before_ms: int, *, limit: int) -> int:
        return await self.db.write(delete_rows_before, project, before_ms, limit, weight=limit)

    async def archived_hours(self, before_ms: int | None = None) -> list[ArchivedHour]:
        return await self.db.read(archived_hours, before_ms)

    async def forget_hours(self, hours: list[tuple[int, int]]) -> None:
        await self.db.write(forget_hours, hours)

    async def prune_minute_counts(self, before_ms: int) -> int:
        return await self.db.write(prune_minute_counts, before_ms)

    async def id_hint(self, project: int, public_id: str) -> ArchivedIdHint:
        return await self.db.read(id_hint, project, public_id)

    async def cold_hours(self, project: int, lo_ms: int, hi_ms: int) -> list[ColdHour]:
        return await self.db.read(cold_hours, project, lo_ms, hi_ms)

    async def unarchived(self, project: int, query: LogQuery, boundary_ms: int, *,
                         before: tuple[int, int] | None, limit: int) -> Rows:
        return await self.db.read(lambda c: unarchived(c, project, query, boundary_ms, before=before, limit=limit))

    async def unarchived_counts(self, project: int, query: LogQuery,
                                boundary_ms: int) -> Counter[tuple[str, str, str | None, str | None, str | None]]:
        return await self.db.read(unarchived_counts, project, query, boundary_ms)

    def hot_cursor_key(self, cursor: str) -> tuple[int, int] | None:
        """(ts, id) after which a time-ordered /logs cursor resumes; None for a full-text one (its
        arrival order has no time key) or anything else."""
        try:
            ts, row = logsql.decode_cursor(cursor, "t")
        except InvalidInput:
            return None
        return ts, row

    async def hot_page(self, project: int, query: LogQuery, cursor: str | None,
                       limit: int) -> tuple[list[LogEvent], str | None]:
        return await self.db.read(hot_page, project, query, cursor, limit)
