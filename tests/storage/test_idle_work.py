"""What the writer does when no request is waiting: FTS segment merges (FTS5's own bursty automerge
is off) and the WAL checkpoint pause taken early. Each is a short step; a queued write goes first."""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import time
from pathlib import Path

import msgspec

from scrywatch.models.logs import NewEvent
from scrywatch.storage.sqlite import logs
from scrywatch.storage.sqlite.db import Database
from scrywatch.storage.sqlite.migrations import migrate

T0 = 1_790_000_000_000
PROJECT = 1
DEADLINE_S = 20.0


def _varint(data: bytes, i: int) -> tuple[int, int]:
    """SQLite's varint (FTS5 writes its structure record with it)."""
    value = 0
    for k in range(9):
        byte = data[i]
        i += 1
        if k == 8:
            return (value << 8) | byte, i
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, i
    return value, i


def fts_segments(conn: sqlite3.Connection, table: str) -> int:
    """Segments in an FTS5 index, from its structure record (rowid 10 of %_data): a 4-byte cookie,
    then the level count, the segment count and the write counter."""
    block = conn.execute(f"SELECT block FROM {table}_data WHERE id = 10").fetchone()[0]
    _, i = _varint(block, 4)
    segments, _ = _varint(block, i)
    return segments


def _wal_restarts(db_path: Path) -> int:
    """The WAL header's checkpoint sequence number (bytes 12-15), which each restart of the WAL bumps."""
    with open(db_path.with_name(db_path.name + "-wal"), "rb") as f:
        return int.from_bytes(f.read(32)[12:16], "big")


def _events(n: int, rng: random.Random, tag: str) -> list[NewEvent]:
    words = ["checkout", "payment", "timeout", "retry", "cache", "login", "upload", "render"]
    return [NewEvent(timestamp=T0 + rng.randrange(10**6), level="info", type="custom",
                     message=f"{tag} {rng.choice(words)} {rng.choice(words)} request {rng.randrange(10**6)}",
                     client_id=None, service="api", environment=None, user_id=f"u{rng.randrange(40)}",
                     session_id=f"s{rng.randrange(20)}", device_type=None, trace_id=None, span_id=None,
                     metadata=msgspec.json.encode({"n": i}))
            for i in range(n)]


async def _poll(check, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.01)


def test_automatic_fts_merging_is_off_and_the_writer_keeps_the_indexes_compact(tmp_path: Path) -> None:
    async def go() -> None:
        db = Database(tmp_path / "t.db")
        migrate(db.open_sync())
        store = logs.SqliteLogStore(db)
        await db.start()
        rng = random.Random(7)
        try:
            for k in range(300):  # one small commit each: without merging, one segment per commit
                await store.add(PROJECT, _events(3, rng, f"tag{k}"), T0)
            reader = sqlite3.connect(tmp_path / "t.db")
            try:
                for table in logs.FTS_TABLES:
                    automerge = reader.execute(f"SELECT v FROM {table}_config WHERE k = 'automerge'").fetchone()
                    assert automerge == (0,)
                # The writer merges in every transaction and, once idle, until no level needs it.
                await _poll(lambda: all(fts_segments(reader, t) <= 12 for t in logs.FTS_TABLES),
                            "FTS segments were not merged while the writer was idle")
                # Merged, the indexes still find every row.
                everything = reader.execute("SELECT count(*) FROM logs_fts WHERE logs_fts MATCH 'request'")
                assert everything.fetchone() == (900,)
                for k in (0, 150, 299):
                    assert reader.execute("SELECT count(*) FROM logs_fts WHERE logs_fts MATCH ?",
                                          (f"tag{k}",)).fetchone() == (3,)
                assert reader.execute("SELECT count(*) FROM logs WHERE id IN (SELECT rowid FROM logs_ids"
                                      " WHERE logs_ids MATCH 'user_id:u7')").fetchone() == \
                    reader.execute("SELECT count(*) FROM logs WHERE user_id = 'u7'").fetchone()
                reader.execute("INSERT INTO logs_fts(logs_fts) VALUES ('integrity-check')")
            finally:
                reader.close()
        finally:
            await db.close()

    asyncio.run(go())


def test_an_idle_merge_step_reports_work_until_the_index_is_compact(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    migrate(conn)
    events = _events(15, random.Random(3), "seg")  # (at 16 segments a level, FTS5 merges them at once)
    flat = logs.prepare_rows(PROJECT, events, T0, None)
    for k in range(len(events)):  # one FTS segment per transaction, nothing merged
        conn.execute("BEGIN IMMEDIATE")
        logs.insert_prepared(conn, events[k:k + 1], flat[k * logs.COLUMNS:(k + 1) * logs.COLUMNS])
        conn.execute(logs.FTS_SQL, (k,))
        conn.execute(logs.IDS_SQL, (k,))
        conn.execute("COMMIT")
    assert fts_segments(conn, "logs_fts") == 15
    steps = 0
    while logs.merge_fts_when_idle(conn):  # True while there was work: the writer goes on
        steps += 1
        assert steps < 1000, "an idle merge step kept reporting work"
    assert steps > 0
    assert all(fts_segments(conn, t) < 4 for t in logs.FTS_TABLES)
    assert not logs.merge_fts_when_idle(conn)  # done: the writer can sleep
    assert conn.execute("SELECT count(*) FROM logs_fts WHERE logs_fts MATCH 'seg'").fetchone() == (15,)
    conn.close()


def test_idle_work_runs_between_requests_until_done_and_again_after_a_commit(tmp_path: Path) -> None:
    calls: list[float] = []
    steps_left = [3]

    def work(conn: sqlite3.Connection) -> bool:
        calls.append(time.monotonic())
        if steps_left[0] == 0:
            return False
        steps_left[0] -= 1
        return True

    def failing(conn: sqlite3.Connection) -> bool:
        raise sqlite3.OperationalError("disk I/O error")

    def put(conn: sqlite3.Connection, n: int) -> int:
        conn.execute("INSERT INTO t(n) VALUES (?)", (n,))
        return n

    async def go() -> None:
        db = Database(tmp_path / "t.db")
        db.open_sync().execute("CREATE TABLE t (n INTEGER NOT NULL) STRICT")
        db.idle_work += [failing, work]  # a failing step is logged and skipped, the writer goes on
        await db.start()
        try:
            assert calls == []  # nothing committed yet, nothing to tidy
            assert await db.write(put, 1) == 1
            await _poll(lambda: len(calls) == 4, "idle work did not run to its end")  # 3 steps, then False
            assert await db.write(put, 2) == 2  # the writer was not spinning: it took the write at once
            await _poll(lambda: len(calls) == 5, "idle work did not start again after a commit")
            assert await db.write(put, 3) == 3
            await _poll(lambda: len(calls) == 6, "idle work did not start again after a commit")
            assert len(calls) == 6
        finally:
            await db.close()

    asyncio.run(go())


def test_the_checkpoint_pause_is_taken_when_idle_before_the_backstop(tmp_path: Path) -> None:
    """Past a quarter of the backstop, an idle writer completes a checkpoint, so its next write
    starts the WAL over; the background runs alone never manage that while writes keep coming."""
    backstop = 1000  # frames; the idle pause comes past 250
    row = "y" * 3000

    def put(conn: sqlite3.Connection) -> None:
        conn.executemany("INSERT INTO t(body) VALUES (?)", [(row,)] * 20)  # ~15 pages

    async def go() -> None:
        db = Database(tmp_path / "t.db", wal_backstop_frames=backstop)
        db.open_sync().execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL) STRICT")
        await db.start()
        try:
            for _ in range(6):  # ~360 frames in all: past the idle mark, never near the backstop
                await asyncio.gather(*(db.write(put) for _ in range(4)))  # queued together: no idle
            started = _wal_restarts(tmp_path / "t.db")
            # Idle now: the writer completes a checkpoint on its own.
            # (log_frames is 0 before the first report; background runs report the frames they found.)
            await _poll(lambda: db.checkpointer.runs > 0 and db.checkpointer.log_frames == 0,
                        "no checkpoint pause while idle")
            await db.write(put)
            assert _wal_restarts(tmp_path / "t.db") == started + 1  # that write started the WAL over
        finally:
            await db.close()

    asyncio.run(go())


def test_an_idle_pause_empties_a_wal_file_grown_past_its_limit(tmp_path: Path) -> None:
    """A WAL file larger than SQLite cuts it back to (long reads held checkpoints off) is emptied by
    the idle pause; a smaller one is left for the next write to reuse (emptying costs an fsync)."""
    row = "z" * 3000

    def put(conn: sqlite3.Connection) -> None:
        conn.executemany("INSERT INTO t(body) VALUES (?)", [(row,)] * 20)

    async def fill_then_idle(limit: int) -> int:
        path = tmp_path / f"t{limit}.db"
        db = Database(path, wal_backstop_frames=1000)
        db.checkpointer.truncate_above_bytes = limit
        db.open_sync().execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL) STRICT")
        await db.start()
        try:
            for _ in range(6):
                await asyncio.gather(*(db.write(put) for _ in range(4)))
            await _poll(lambda: db.checkpointer.runs > 0 and db.checkpointer.log_frames == 0,
                        "no checkpoint pause while idle")
            return os.path.getsize(path.with_name(path.name + "-wal"))
        finally:
            await db.close()

    assert asyncio.run(fill_then_idle(256 * 1024)) == 0  # past the limit: emptied
    assert asyncio.run(fill_then_idle(64 * 2**20)) > 256 * 1024  # under it: kept for reuse
