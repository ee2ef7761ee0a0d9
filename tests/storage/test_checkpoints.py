"""WAL checkpoints run on a thread of their own (SQLite's automatic checkpoint inside a commit is off,
and the writer no longer stalls on them): the file grows with the data while the WAL stays bounded
by the backstop, both with idle moments between commits and under a stream that never lets up."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

from scrywatch.storage.sqlite.db import Database

ROW = "x" * 400
BACKSTOP_FRAMES = 256  # 1 MiB of 4 KiB pages
ROUNDS = 60
TOTAL = ROUNDS * 10 * 100 * len(ROW)


def _insert(conn: sqlite3.Connection) -> None:
    conn.executemany("INSERT INTO t(body) VALUES (?)", [(ROW,)] * 100)


def _run(path: Path, *, concurrent: bool) -> tuple[int, int, int, int]:
    wal = path.with_name(path.name + "-wal")

    async def go() -> tuple[int, int, int, int]:
        db = Database(path, wal_backstop_frames=BACKSTOP_FRAMES)
        db.open_sync().execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL) STRICT")
        await db.start()
        try:
            peak = 0
            for _ in range(ROUNDS):  # ~24 MB through the WAL
                if concurrent:  # ten requests queued at once, again as soon as they are answered
                    await asyncio.gather(*(db.write(_insert) for _ in range(10)))
                else:
                    for _ in range(10):
                        await db.write(_insert)
                peak = max(peak, os.path.getsize(wal))
            # measured while open (closing checkpoints)
            return os.path.getsize(path), peak, db.checkpointer.runs, db.commits
        finally:
            await db.close()

    return asyncio.run(go())


def _check(path: Path, main_size: int, wal_peak: int, runs: int) -> None:
    assert main_size > TOTAL * 0.8  # the rows reached the database file while the writer ran
    # Bounded by the backstop, plus what the writer appends while a background run is still going
    # (it never waits for one; on a loaded machine an fsync can take a while). Without the backstop
    # the WAL holds nearly everything.
    assert wal_peak < TOTAL / 2
    assert runs > 5
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == ROUNDS * 10 * 100


def test_wal_is_checkpointed_between_commits(tmp_path: Path) -> None:
    main_size, wal_peak, runs, _ = _run(tmp_path / "w.db", concurrent=False)
    _check(tmp_path / "w.db", main_size, wal_peak, runs)


def test_wal_stays_bounded_when_the_writer_is_never_idle(tmp_path: Path) -> None:
    main_size, wal_peak, runs, commits = _run(tmp_path / "w.db", concurrent=True)
    _check(tmp_path / "w.db", main_size, wal_peak, runs)
    assert commits < 300  # requests were grouped: the writer had a queue
