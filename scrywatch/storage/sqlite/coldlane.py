"""Events older than the hot window, written straight into the archive at ingest.

An event below the hot/cold boundary (moved up to the hot window's floor here, as retention does)
would only pass through the hot store (indexes, FTS, rollups) until the next archive and retention
runs. Instead, in the ingest transaction, such events get row ids (reserved, so no later row takes
them), are written as a new segment of their hour through `write_segment` (temp file, fsync,
rename) and the segment is recorded in `archive_hours`, all before COMMIT: the 202 still means
durable. If the transaction rolls back after the rename, the file is a segment nobody lists
(readers take `segments` files per hour) and the next segment of that hour replaces it. The
caller holds the archive job's lock while this runs, so the job never writes the same segment
number concurrently.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict

from scrywatch.archive import SegmentWrite
from scrywatch.models.archive import SegmentTarget
from scrywatch.models.logs import LogEvent, NewEvent
from scrywatch.storage.sqlite import logs
from scrywatch.storage.sqlite.archive import advance_boundary
from scrywatch.storage.sqlite.db import Database

HOUR_MS = 3_600_000


def _target(conn: sqlite3.Connection, project: int) -> SegmentTarget:
    row = conn.execute("SELECT p.id, o.slug, p.slug FROM projects p JOIN orgs o ON o.id = p.org_id WHERE p.pk = ?",
                       (project,)).fetchone()
    return SegmentTarget(project_id=row[0], org_slug=row[1], project_slug=row[2])


def _is_duplicate(conn: sqlite3.Connection, project: int, e: NewEvent, hour: int) -> bool:
    """A client id seen before, in the hot store or among events archived at ingest."""
    if conn.execute("SELECT 1 FROM logs WHERE project = ? AND client_id = ?", (project, e.client_id)).fetchone():
        return True
    return not conn.execute("INSERT OR IGNORE INTO cold_client_ids(project, client_id, hour) VALUES (?,?,?)",
                            (project, e.client_id, hour)).rowcount


def add_events(conn: sqlite3.Connection, project: int, events: list[NewEvent], received_ms: int,
               hot_floor_ms: int, write_segment: SegmentWrite) -> tuple[list[LogEvent], int]:
    """Store a batch: events older than the hot window into new archive segments, the rest in the hot
    store (indexed by the writer's before-commit hook). Returns (stored events, duplicates)."""
    edge = advance_boundary(conn, hot_floor_ms)
    old = [e for e in events if e.timestamp < edge]
    if not old:
        return logs.insert_events(conn, project, events, received_ms, deferred=True)
    stored, duplicates = logs.insert_events(conn, project, [e for e in events if e.timestamp >= edge],
                                            received_ms, deferred=True)
    kept = [e for e in old if e.client_id is None or not _is_duplicate(conn, project, e, e.timestamp // HOUR_MS)]
    duplicates += len(old) - len(kept)
    if not kept:
        return stored, duplicates
    base = logs.base_id(conn)
    conn.execute("UPDATE logs_index_state SET reserved_id = ?", (base + len(kept),))
    by_hour: dict[int, list[tuple[int, LogEvent]]] = defaultdict(list)
    events = logs.stored_events(kept, received_ms, base, None)
    for rowid, event in enumerate(events, base + 1):
        by_hour[event.timestamp // HOUR_MS * HOUR_MS].append((rowid, event))
    stored += events
    target = _target(conn, project)
    for hour_ms, rows in sorted(by_hour.items()):
        rows.sort(key=lambda r: (r[1].timestamp, r[0]), reverse=True)
        found = conn.execute("SELECT segments FROM archive_hours WHERE project = ? AND hour = ?",
                             (project, hour_ms // HOUR_MS)).fetchone()
        segment = found[0] if found else 0
        index = write_segment(target, hour_ms, segment, rows)
        # max_id stays: it is about hot rows of this hour (0 when none was archived yet).
        conn.execute(
            "INSERT INTO archive_hours(project, hour, segments, max_id, events, bytes, updated_at)"
            " VALUES (?,?,?,0,?,?,?) ON CONFLICT(project, hour) DO UPDATE SET segments = excluded.segments,"
            " events = events + excluded.events, bytes = bytes + excluded.bytes, updated_at = excluded.updated_at",
            (project, hour_ms // HOUR_MS, segment + 1, index.events, index.bytes, received_ms))
    return stored, duplicates


class SqliteColdLaneStore:
    """Async face of add_events()."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_events(self, project: int, events: list[NewEvent], received_ms: int, hot_floor_ms: int,
                         write_segment: SegmentWrite) -> tuple[list[LogEvent], int]:
        """Store a batch like the log store's add(), except that events older than the hot window go
        straight into new archive segments; the caller holds the archive job's lock meanwhile."""
        return await self.db.write(add_events, project, events, received_ms, hot_floor_ms, write_segment,
                                   weight=max(1, len(events)), bounded=True)
