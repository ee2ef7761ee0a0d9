"""Metadata compression: after enough rows the writer trains a dictionary and later rows are stored
compressed, and every read (same process, a restarted one, a fresh connection) returns the exact JSON."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from scrywatch.models.logs import NewEvent
from scrywatch.storage.sqlite import logsql
from scrywatch.storage.sqlite.db import Database, connect
from scrywatch.storage.sqlite.logs import event_from_row, index_new_rows, insert_events
from scrywatch.storage.sqlite.metacodec import TRAIN_AFTER_ROWS, MetaCodec
from scrywatch.storage.sqlite.migrations import migrate

T0 = 1_790_000_000_000


def _metadata(i: int, rng: random.Random) -> bytes | None:
    if i % 10 == 0:
        return None
    if i % 10 == 1:
        return b'{"a":1}'  # too short to compress
    return msgspec.json.encode({"app_version": f"3.{i % 7}.{i % 3}", "region": rng.choice(["eu-west-1", "us-east-1"]),
                                "http": {"method": "GET", "status": rng.choice([200, 404, 500]),
                                         "duration_ms": round(rng.random() * 900, 2)},
                                "request_id": f"{rng.getrandbits(128):032x}", "tags": ["worker", "é✓"]})


def _events(start: int, n: int, rng: random.Random) -> list[NewEvent]:
    return [NewEvent(timestamp=T0 + i, level="info", type="custom", message=f"event {i}", client_id=None,
                     service="api", environment=None, user_id=None, session_id=None, device_type=None,
                     trace_id=None, span_id=None, metadata=_metadata(i, rng)) for i in range(start, start + n)]


def _all_metadata(conn: object) -> dict[int, bytes | None]:
    rows = conn.execute(f"SELECT {logsql.COLUMNS} FROM logs ORDER BY id").fetchall()  # type: ignore[attr-defined]
    return {r[0]: (None if (e := event_from_row(r)).metadata == msgspec.Raw(b"null") else bytes(e.metadata))
            for r in rows}


def test_rows_after_training_are_compressed_and_read_back_exactly(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    rng = random.Random(7)
    sent: list[NewEvent] = []

    async def run() -> dict[int, bytes | None]:
        db = Database(path)
        migrate(db.open_sync())
        db.before_commit.append(index_new_rows)
        await db.start()
        try:
            for start in range(0, TRAIN_AFTER_ROWS + 3000, 500):
                batch = _events(start, 500, rng)
                sent.extend(batch)
                await db.write(insert_events, 1, batch, T0)
            return await db.read(_all_metadata)
        finally:
            await db.close()

    read_back = asyncio.run(run())
    expected = [e.metadata for e in sent]
    assert list(read_back.values()) == expected

    conn = connect(path)  # a fresh connection (another process would do the same) decodes them too
    try:
        assert conn.execute("SELECT count(*) FROM meta_dicts").fetchone()[0] == 1
        compressed, plain = conn.execute(
            "SELECT count(meta_z), count(metadata) FROM logs").fetchone()
        assert compressed > 1500 and plain >= TRAIN_AFTER_ROWS
        stored = conn.execute("SELECT sum(length(meta_z)) FROM logs WHERE meta_z IS NOT NULL").fetchone()[0]
        original = sum(len(e.metadata) for e in sent[-2000:] if e.metadata and len(e.metadata) > 50)
        assert stored < 0.6 * original  # the compressed rows take well under their plain bytes
        assert list(_all_metadata(conn).values()) == expected
    finally:
        conn.close()

    async def restart() -> dict[int, bytes | None]:  # a restarted server keeps compressing with the stored dictionary
        db = Database(path)
        migrate(db.open_sync())
        db.before_commit.append(index_new_rows)
        await db.start()
        try:
            batch = _events(100_000, 100, rng)
            sent.extend(batch)
            await db.write(insert_events, 1, batch, T0)
            return await db.read(_all_metadata)
        finally:
            await db.close()

    assert list(asyncio.run(restart()).values()) == [e.metadata for e in sent]


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner,
                                                                                       max_size=5), max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_any_json_round_trips_through_a_trained_dictionary(trained_codec: MetaCodec, value: object) -> None:
    raw = msgspec.json.encode(value)
    metadata, meta_z = trained_codec.encode(raw)
    assert (metadata is None) != (meta_z is None)
    assert (metadata if metadata is not None else trained_codec.decode(meta_z)) == raw.decode()
