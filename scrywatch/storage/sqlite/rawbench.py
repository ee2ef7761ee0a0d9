"""The raw SQLite limit for `scrywatch bench`: the same events into the same schema, no server.

A fresh file gets scrywatch's real migrations; one writer then runs, per transaction, the server's
row INSERT (multi-row statements of pre-built rows, `logs.insert_flat`), one FTS INSERT..SELECT and
the rollup upserts, with the server's writer pragmas but SQLite's own checkpointing (every 1,000
WAL pages, as plain sqlite3 does and as ../PERFORMANCE.md measured it). The server turns automatic
checkpoints off only because it runs them on a thread of its own; a lone writer without them never
writes its pages into the database (200,000 events in batches of 50 left a 1.8 GB WAL), which is
not a rate anyone can sustain. Rows are built before the clock starts, so the rate is SQLite plus
the sqlite3 module's parameter binding only: what no Python server can beat.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scrywatch.models.logs import NewEvent
from scrywatch.storage.sqlite import logs
from scrywatch.storage.sqlite.db import connect
from scrywatch.storage.sqlite.migrations import migrate

PROJECT = 1
SQLITE_DEFAULT_AUTOCHECKPOINT = 1000  # pages


def sqlite_version() -> str:
    return sqlite3.sqlite_version


def _sizes(path: Path) -> int:
    return sum(os.path.getsize(f"{path}{suffix}") for suffix in ("", "-wal") if os.path.exists(f"{path}{suffix}"))


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{path}{suffix}"):
            os.remove(f"{path}{suffix}")


class RawBench:
    """A fresh migrated file; phases insert one after another (like the server's, which also start
    on a non-empty table), so each can run right after the server phase it is compared with."""

    def __init__(self, path: Path) -> None:
        _remove(path)
        self.path = path
        self.conn = connect(path)
        self.conn.execute(f"PRAGMA wal_autocheckpoint={SQLITE_DEFAULT_AUTOCHECKPOINT}")
        migrate(self.conn)
        self.next_id = 1
        self.total = 0

    def phase(self, batch: int, events: Sequence[NewEvent], *, received_ms: int) -> dict[str, Any]:
        """Insert events in transactions of `batch` rows: {"batch", "events", "seconds", "events_per_s"}."""
        conn = self.conn
        first = self.next_id
        n = len(events)
        flat = logs.prepare_rows(PROJECT, list(events), received_ms, None)  # the server's rows
        flat[0::logs.COLUMNS] = range(first, first + n)
        chunks = [flat[i * logs.COLUMNS:(i + batch) * logs.COLUMNS] for i in range(0, n, batch)]
        self.next_id += n
        started = time.perf_counter()
        for i, chunk in zip(range(0, n, batch), chunks, strict=True):
            conn.execute("BEGIN IMMEDIATE")
            logs.insert_flat(conn, chunk)
            logs.index_rows(conn, first + i - 1)
            conn.execute("COMMIT")
        seconds = time.perf_counter() - started
        self.total += n
        return {"batch": batch, "events": n, "seconds": seconds, "events_per_s": n / seconds if seconds > 0 else 0.0}

    def finish(self, *, keep: bool = False) -> dict[str, Any]:
        """Bytes on disk (db + wal after a TRUNCATE checkpoint) per event; removes the file unless keep."""
        try:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            size = _sizes(self.path)
        finally:
            self.conn.close()
        if not keep:
            _remove(self.path)
        return {"bytes_per_event": size / self.total if self.total else 0.0, "db_bytes": size, "events": self.total}


def measure(path: Path, phases: Sequence[tuple[int, Sequence[NewEvent]]], *, received_ms: int,
            keep: bool = False) -> dict[str, Any]:
    """All phases in one go: {"phases": [...], "bytes_per_event", "db_bytes", "events"}."""
    bench = RawBench(path)
    try:
        out = [bench.phase(batch, events, received_ms=received_ms) for batch, events in phases]
    finally:
        summary = bench.finish(keep=keep)
    return {"phases": out, **summary}
