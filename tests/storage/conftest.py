"""Storage fixtures: real SQLite files in temp dirs."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from scrywatch.storage.sqlite.db import connect
from scrywatch.storage.sqlite.logs import insert_events
from scrywatch.storage.sqlite.metacodec import MetaCodec
from scrywatch.storage.sqlite.migrations import migrate


@pytest.fixture(scope="module")
def trained_codec(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MetaCodec]:
    """A codec whose dictionary was trained on a real file's rows."""
    from tests.storage.test_metadata_codec import _events

    conn = connect(Path(tmp_path_factory.mktemp("codec")) / "c.db")
    migrate(conn)
    rng = random.Random(3)
    conn.execute("BEGIN")
    insert_events(conn, 1, _events(0, 6000, rng), 0)
    trained = conn.codec.train(conn)
    conn.execute("COMMIT")
    assert trained is not None
    conn.codec.adopt(trained)
    yield conn.codec
    conn.close()
