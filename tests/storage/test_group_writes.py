"""Group commits: requests queued together are merged into one run of multi-row INSERTs, rows are
built off the writer thread, and each request still gets exactly its own ids and events back."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scrywatch.errors import Conflict
from scrywatch.models.logs import NewEvent
from scrywatch.storage.sqlite import logs
from scrywatch.storage.sqlite.db import Database, connect, mergeable
from scrywatch.storage.sqlite.metacodec import TRAIN_AFTER_ROWS
from scrywatch.storage.sqlite.migrations import migrate

T0 = 1_790_000_000_000
PROJECT = 1


def _events(tag: str, n: int, rng: random.Random) -> list[NewEvent]:
    return [NewEvent(timestamp=T0 + rng.randrange(10**6), level=rng.choice(["info", "error"]), type="custom",
                     message=f"{tag} event {i}", client_id=None, service=rng.choice(["api", None]),
                     environment=None, user_id=f"u{rng.randrange(50)}", session_id=None, device_type=None,
                     trace_id=None, span_id=None,
                     metadata=msgspec.json.encode({"request": tag, "i": i, "region": rng.choice(["eu", "us"]),
                                                   "path": f"/api/items/{rng.randrange(999)}"}) if i % 5 else None)
            for i in range(n)]


def _reference_id(received_ms: int, rowid: int) -> str:
    """Crockford base32 of the 130-bit number, one character at a time."""
    n = (received_ms << 80) | rowid
    return "".join(logs.CROCKFORD[(n >> (5 * k)) & 31] for k in reversed(range(26)))


@given(st.integers(0, 2**48 - 1), st.integers(0, 2**80 - 1))
def test_public_ids_are_base32_of_time_and_row(received_ms: int, rowid: int) -> None:
    public = logs.ulid_for(received_ms, rowid)
    assert public == _reference_id(received_ms, rowid)
    assert logs.rowid_of(public) == (received_ms, rowid)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 64, 127, 128, 129, 255, 256, 300])
def test_multi_row_inserts_store_every_row_in_order(tmp_path: Path, n: int) -> None:
    conn = connect(tmp_path / "t.db")
    migrate(conn)
    events = _events("x", n, random.Random(n))
    flat = logs.prepare_rows(PROJECT, events, T0, None)
    conn.execute("BEGIN IMMEDIATE")
    base, kept = logs.insert_prepared(conn, events, flat)
    conn.execute("COMMIT")
    assert (base, kept) == (0, None)
    rows = conn.execute("SELECT id, message, ts FROM logs ORDER BY id").fetchall()
    assert rows == [(i + 1, e.message, e.timestamp) for i, e in enumerate(events)]


def _wait_for(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def test_concurrent_requests_share_commits_and_get_their_own_events(tmp_path: Path) -> None:
    rng = random.Random(3)
    sizes = [1, 2, 3, 50, 127, 128, 129, 300, 50, 7, 64, 1000, 5, 50, 50, 50]

    async def run() -> None:
        db = Database(tmp_path / "t.db")
        migrate(db.open_sync())
        statements: list[str] = []
        db.open_sync().set_trace_callback(statements.append)  # the writer's connection
        store = logs.SqliteLogStore(db)
        await db.start()
        try:
            # Enough metadata for a dictionary: later rows are compressed on the event loop's thread.
            await store.add(PROJECT, _events("warm", 2 * TRAIN_AFTER_ROWS, rng), T0)
            await store.add(PROJECT, _events("warm2", 10, rng), T0)
            await asyncio.to_thread(_wait_for, lambda: db.codec._current is not None)
            commits = db.commits
            batches = [_events(f"r{k}", n, rng) for k, n in enumerate(sizes)]
            results = await asyncio.gather(*(store.add(PROJECT, b, T0 + 1) for b in batches))
            assert db.commits - commits < len(sizes)  # requests queued together were merged
            assert "ROLLBACK TO ops" not in statements  # ... and stored as one run, not one by one
            seen: set[str] = set()
            for batch, (stored, duplicates) in zip(batches, results, strict=True):
                assert duplicates == 0
                assert [e.message for e in stored] == [e.message for e in batch]
                for sent, event in zip(batch, stored, strict=True):
                    assert event.id not in seen
                    seen.add(event.id)
                    read = await store.get(PROJECT, event.id)
                    assert read == event  # the id, fields and exact metadata JSON a read returns
                    assert bytes(read.metadata) == (sent.metadata or b"null")
            conn = sqlite3.connect(tmp_path / "t.db")
            compressed = conn.execute("SELECT count(*) FROM logs WHERE meta_z IS NOT NULL AND message LIKE 'r%'")
            assert compressed.fetchone()[0] > 0  # compressed before reaching the writer, read back above
            assert conn.execute("SELECT count(*) FROM logs WHERE message LIKE 'r%'").fetchone()[0] == sum(sizes)
            conn.close()
        finally:
            await db.close()

    asyncio.run(run())


def _put_one(conn: sqlite3.Connection, value: int) -> int:
    conn.execute("INSERT INTO things(value) VALUES (?)", (value,))
    return value


def _put_many(conn: sqlite3.Connection, calls: list[tuple[int]]) -> list[int]:
    conn.executemany("INSERT INTO things(value) VALUES (?)", calls)
    return [value for (value,) in calls]


put = mergeable(_put_many)(_put_one)


def test_a_failing_call_in_a_merged_run_fails_alone(tmp_path: Path) -> None:
    async def run() -> None:
        db = Database(tmp_path / "t.db")
        db.open_sync().execute("CREATE TABLE things(value INTEGER UNIQUE)")
        await db.start()
        try:
            await db.write(put, 5)
            outcomes = await asyncio.gather(*(db.write(put, v) for v in (1, 2, 5, 3)), return_exceptions=True)
            assert outcomes[:2] == [1, 2] and outcomes[3] == 3
            assert isinstance(outcomes[2], Conflict)
            conn = sqlite3.connect(tmp_path / "t.db")
            assert conn.execute("SELECT value FROM things ORDER BY value").fetchall() == [(1,), (2,), (3,), (5,)]
            conn.close()
        finally:
            await db.close()

    asyncio.run(run())
