"""The writer copies the WAL back into the database file between transactions (SQLite's own
automatic checkpoint inside a commit is off): the file grows with the data while the WAL stays
bounded, under a steady stream of commits."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

from scrywatch.storage.sqlite.db import Database

ROW = "x" * 400


def test_wal_is_checkpointed_between_commits(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    wal = path.with_name(path.name + "-wal")

    async def go() -> tuple[int, int]:
        db = Database(path)
        db.open_sync().execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL) STRICT")
        await db.start()
        try:
            for _ in range(300):  # ~12 MB through the WAL, one commit at a time
                await db.write(lambda c: c.executemany("INSERT INTO t(body) VALUES (?)", [(ROW,)] * 100))
            return os.path.getsize(path), os.path.getsize(wal)  # measured while open (close checkpoints)
        finally:
            await db.close()

    main_size, wal_size = asyncio.run(go())
    assert main_size > 10_000_000  # the rows reached the database file while the writer ran
    assert wal_size < 4 * 1024 * 1024
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 30_000
