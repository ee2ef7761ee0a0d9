"""Insights SQL: persistent patterns with a per-project high-water mark, window facts, stored summaries."""

from __future__ import annotations

import sqlite3
from typing import Any

import msgspec

from scrywatch.ids import new_id
from scrywatch.models.insights import InsightSummary, PatternCount, PersistentPattern, WindowFacts
from scrywatch.models.logs import LogQuery
from scrywatch.storage.sqlite import rollups
from scrywatch.storage.sqlite.accounts import PROJECT_DATA_DELETERS
from scrywatch.storage.sqlite.db import Database

UPSERT_PATTERN = """
INSERT INTO insight_patterns(id, project, hash, normalized_message, level, service, first_seen, last_seen,
                             occurrence_count)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (project, hash) DO UPDATE SET
  first_seen = min(first_seen, excluded.first_seen),
  last_seen = max(last_seen, excluded.last_seen),
  occurrence_count = occurrence_count + excluded.occurrence_count
"""
PATTERN_COLS = "id, normalized_message, level, service, first_seen, last_seen, occurrence_count"
_summary_enc = msgspec.json.Encoder()
_summary_dec = msgspec.json.Decoder(InsightSummary)


def marks(conn: sqlite3.Connection) -> tuple[int, list[tuple[int, int]]]:
    """(newest logs.id, [(project, last counted logs.id)] for every project)."""
    newest = conn.execute("SELECT coalesce(max(id), 0) FROM logs").fetchone()[0]
    return newest, conn.execute("SELECT p.pk, coalesce(m.last_log_id, 0) FROM projects p"
                                " LEFT JOIN insight_pattern_marks m ON m.project = p.pk ORDER BY p.pk").fetchall()


def rows_between(conn: sqlite3.Connection, project: int, after_id: int, upto_id: int,
                 limit: int) -> list[tuple[Any, ...]]:
    """(id, ts, level, service, message) of the project's events with after_id < id <= upto_id, in id order."""
    # `+project` keeps SQLite on the rowid range (only new rows) rather than the project's whole index.
    return conn.execute("SELECT id, ts, level, service, message FROM logs WHERE id > ? AND id <= ? AND +project = ?"
                        " ORDER BY id LIMIT ?", (after_id, upto_id, project, limit)).fetchall()


def add_patterns(conn: sqlite3.Connection, project: int, expected_mark: int, new_mark: int,
                 counts: list[PatternCount]) -> bool:
    """Add counts and move the mark, only if nobody moved it since it was read (each event counts once)."""
    row = conn.execute("SELECT last_log_id FROM insight_pattern_marks WHERE project = ?", (project,)).fetchone()
    if (row[0] if row else 0) != expected_mark:
        return False
    conn.executemany(UPSERT_PATTERN, [(new_id(), project, c.hash, c.normalized_message, c.level, c.service,
                                       c.first_seen, c.last_seen, c.count) for c in counts])
    conn.execute("INSERT INTO insight_pattern_marks(project, last_log_id) VALUES (?, ?)"
                 " ON CONFLICT (project) DO UPDATE SET last_log_id = excluded.last_log_id", (project, new_mark))
    return True


def list_patterns(conn: sqlite3.Connection, project: int, *, limit: int, level: str | None,
                  service: str | None) -> list[PersistentPattern]:
    terms, params = ["project = ?"], [project]
    for col, value in (("level", level), ("service", service)):
        if value is not None:
            terms.append(f"{col} = ?")
            params.append(value)
    rows = conn.execute(f"SELECT {PATTERN_COLS} FROM insight_patterns WHERE {' AND '.join(terms)}"
                        " ORDER BY occurrence_count DESC, last_seen DESC, id LIMIT ?", [*params, limit]).fetchall()
    return [PersistentPattern(id=r[0], normalized_message=r[1], level=r[2], service=r[3], first_seen=r[4],
                              last_seen=r[5], occurrence_count=r[6]) for r in rows]


def window_facts(conn: sqlite3.Connection, project: int, from_ms: int, to_ms: int,
                 message_limit: int) -> WindowFacts:
    """Exact counts by level and by (service, level) from the rollups; newest error messages."""
    query = LogQuery(from_ms=from_ms, to_ms=to_ms)
    by_level = rollups.grouped_counts(conn, project, query, ("level",))
    by_service = rollups.grouped_counts(conn, project, query, ("service", "level"))
    messages = conn.execute("SELECT message, service FROM logs WHERE project = ? AND level = 'error'"
                            " AND ts BETWEEN ? AND ? ORDER BY ts DESC LIMIT ?",
                            (project, from_ms, to_ms, message_limit)).fetchall()
    return WindowFacts(level_counts={str(k[0]): n for k, n in by_level.items()},
                       service_level_counts=[(k[0], str(k[1]), n) for k, n in by_service.items()],  # type: ignore[misc]
                       error_messages=[(m, s) for m, s in messages])


def _delete_project_rows(conn: sqlite3.Connection, project: int) -> None:
    for table in ("insight_patterns", "insight_pattern_marks", "insight_summaries"):
        conn.execute(f"DELETE FROM {table} WHERE project = ?", (project,))


PROJECT_DATA_DELETERS.append(_delete_project_rows)


class SqliteInsightStore:
    """Async face of the functions above."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def marks(self) -> tuple[int, list[tuple[int, int]]]:
        return await self.db.read(marks)

    async def rows_between(self, project: int, after_id: int, upto_id: int, limit: int) -> list[tuple[Any, ...]]:
        return await self.db.read(rows_between, project, after_id, upto_id, limit)

    async def add_patterns(self, project: int, *, expected_mark: int, new_mark: int,
                           counts: list[PatternCount]) -> bool:
        return await self.db.write(add_patterns, project, expected_mark, new_mark, counts,
                                   weight=max(1, len(counts)))

    async def list_patterns(self, project: int, *, limit: int, level: str | None = None,
                            service: str | None = None) -> list[PersistentPattern]:
        return await self.db.read(lambda c: list_patterns(c, project, limit=limit, level=level, service=service))

    async def window_facts(self, project: int, from_ms: int, to_ms: int, *, message_limit: int) -> WindowFacts:
        return await self.db.read(window_facts, project, from_ms, to_ms, message_limit)

    async def save_summary(self, project: int, summary: InsightSummary) -> None:
        s = summary
        await self.db.write(lambda c: c.execute(
            "INSERT INTO insight_summaries(id, project, created_at, time_window_minutes, event_count, error_count,"
            " warn_count, summary_text, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (s.id, project, s.created_at, s.time_window_minutes, s.event_count, s.error_count, s.warn_count,
             s.summary_text, _summary_enc.encode(s).decode())))

    async def latest_summary(self, project: int) -> InsightSummary | None:
        row = await self.db.read(lambda c: c.execute(
            "SELECT body FROM insight_summaries WHERE project = ? ORDER BY created_at DESC, id DESC LIMIT 1",
            (project,)).fetchone())
        return _summary_dec.decode(row[0]) if row else None

    async def delete_summaries_before(self, cutoff_ms: int) -> int:
        return await self.db.write(lambda c: c.execute(
            "DELETE FROM insight_summaries WHERE created_at < ?", (cutoff_ms,)).rowcount)
