"""Migration 0010 on a file that already holds events: the id postings are built from the rows, the
old indexes are gone, and id lookups, later inserts and deletes agree with plain equality."""

from __future__ import annotations

import random
from pathlib import Path

from scrywatch.models.logs import LogQuery, NewEvent
from scrywatch.storage.sqlite import logs, logsql
from scrywatch.storage.sqlite.db import connect
from scrywatch.storage.sqlite.migrations import MIGRATIONS, applied, migrate

IDS = ["s-1", "S-1", "s 1", "abc", "550e8400-e29b-41d4-a716-446655440000", "---", None]


def _ids_of(conn: object, column: str, value: str) -> list[int]:
    sql, params, _ = logsql.page_sql(1, LogQuery(**{column: value}), limit=1000, offset=0, cursor=None)
    return sorted(r[0] for r in conn.execute(sql, params))  # type: ignore[attr-defined]


def _plain(conn: object, column: str, value: str) -> list[int]:
    rows = conn.execute(f"SELECT id FROM logs WHERE project = 1 AND {column} = ?", (value,))  # type: ignore[attr-defined]
    return sorted(r[0] for r in rows)


def test_upgrade_builds_the_postings_from_existing_rows(tmp_path: Path) -> None:
    conn = connect(tmp_path / "old.db")
    applied(conn)
    before = [name for name, _ in MIGRATIONS].index("0010_id_postings")
    for name, ddl in MIGRATIONS[:before]:  # the file as the previous release left it
        conn.executescript(f"BEGIN;\n{ddl}\n;INSERT INTO schema_migrations(name) VALUES ('{name}');\nCOMMIT;")
    rng = random.Random(1)
    rows = [(i, 1, 1_000 + i, 1_000, "info", "custom", f"m {i}", None, None, rng.choice(IDS), rng.choice(IDS),
             None, rng.choice(IDS), None, None, None, None) for i in range(1, 301)]
    conn.execute("BEGIN")
    conn.executemany(logs.INSERT_SQL, rows)
    conn.execute(logs.FTS_SQL, (0,))  # as that release's writer indexed them
    conn.execute("UPDATE logs_index_state SET last_id = 300")
    conn.execute("COMMIT")

    assert migrate(conn) == [name for name, _ in MIGRATIONS[before:]]
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert not names & {"logs_project_session_id_ts_idx", "logs_project_trace_id_idx", "logs_project_user_id_ts_idx"}
    conn.execute("BEGIN")  # rows written after the upgrade are indexed by the writer's hook
    new = [NewEvent(timestamp=5_000 + i, level="info", type="custom", message="new", client_id=None, service=None,
                    environment=None, user_id="abc", session_id=rng.choice(IDS[:-1]), device_type=None,
                    trace_id=None, span_id=None, metadata=None) for i in range(50)]
    logs.insert_events(conn, 1, new, 6_000)
    logs.delete_where(conn, 1, ["l.project = ?", "l.id % 7 = 0"], [1])
    conn.execute("COMMIT")
    for column in ("user_id", "session_id", "trace_id"):
        for value in IDS[:-1]:
            assert _ids_of(conn, column, value) == _plain(conn, column, value), (column, value)
    conn.execute("INSERT INTO logs_ids(logs_ids, rank) VALUES ('integrity-check', 1)")  # raises if out of step
