"""The only DDL: ordered, named migration steps, each applied in one transaction with its record.

A released step is never edited; add a new one at the end.
"""

from __future__ import annotations

import sqlite3

from scrywatch.storage.sqlite.schema import accounts, alerts, archive, insights, logs, traces

MIGRATIONS: list[tuple[str, str]] = [
    ("0001_accounts", accounts.DDL),
    ("0002_logs", logs.DDL),
    ("0003_traces", traces.DDL),
    ("0004_archive", archive.DDL),
    ("0005_alerts", alerts.DDL),
    ("0006_insights", insights.DDL),
    ("0007_compact_logs", logs.COMPACT_DDL),
    ("0008_rollup_epoch", logs.EPOCH_DDL),
    ("0009_cold_lane", archive.COLD_LANE_DDL),
    ("0010_id_postings", logs.IDS_DDL),
    ("0011_fts_merged_by_writer", logs.FTS_MERGE_DDL),
]


def applied(conn: sqlite3.Connection) -> list[str]:
    """Names of the steps already applied."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL DEFAULT (unixepoch())) STRICT"
    )
    return [row[0] for row in conn.execute("SELECT name FROM schema_migrations ORDER BY name")]


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply every pending step; return the names applied now."""
    done = set(applied(conn))
    ran: list[str] = []
    for name, ddl in MIGRATIONS:
        if name in done or not ddl.strip():
            continue
        script = f"BEGIN IMMEDIATE;\n{ddl}\n;INSERT INTO schema_migrations(name) VALUES ('{name}');\nCOMMIT;"
        try:
            conn.executescript(script)
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        ran.append(name)
    return ran
