"""Log events SQL: insert batches (with FTS and rollups), read pages, delete by range.

Event ids: a client-supplied id is kept (unique per project). Otherwise the public id is a ULID
whose time part is the receive time and whose random part is the row id, so `/logs/:id` finds the
row without storing (or indexing) a 26-character string per event.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import msgspec

from scrywatch.models.logs import LogEvent, LogPage, LogQuery, NewEvent
from scrywatch.storage.sqlite import logsql, rollups
from scrywatch.storage.sqlite.accounts import PROJECT_DATA_DELETERS
from scrywatch.storage.sqlite.db import Database
from scrywatch.storage.sqlite.metacodec import MetaCodec

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE = {c: i for i, c in enumerate(CROCKFORD)} | {c.lower(): i for i, c in enumerate(CROCKFORD)}
ROW_BITS = 80
ROW_MASK = (1 << ROW_BITS) - 1
COUNT_CAP = 10_000
DELETE_CHUNK = 10_000

INSERT_SQL = (
    "INSERT INTO logs(id, project, ts, received, level, type, message, service, environment, user_id, session_id,"
    " device_type, trace_id, span_id, metadata, client_id, meta_z) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
INSERT_IGNORE_SQL = INSERT_SQL.replace("INSERT INTO", "INSERT OR IGNORE INTO", 1)


def ulid_for(received_ms: int, rowid: int) -> str:
    """The public id of a row without a client id."""
    n = (received_ms << ROW_BITS) | (rowid & ROW_MASK)
    out = []
    for _ in range(26):
        out.append(CROCKFORD[n & 31])
        n >>= 5
    return "".join(reversed(out))


def rowid_of(public_id: str) -> tuple[int, int] | None:
    """(received_ms, rowid) of a server-made id, or None when it is not one."""
    if len(public_id) != 26:
        return None
    n = 0
    for ch in public_id:
        v = _DECODE.get(ch)
        if v is None:
            return None
        n = (n << 5) | v
    if n >> 128:
        return None
    return n >> ROW_BITS, n & ROW_MASK


_RAW_NULL = msgspec.Raw(b"null")


def event_from_row(row: tuple) -> LogEvent:  # type: ignore[type-arg]
    (rowid, _project, ts, received, level, type_, message, service, env, user_id, session_id, device, trace_id,
     span_id, metadata, client_id) = row
    return LogEvent(
        id=client_id or ulid_for(received, rowid), timestamp=ts, level=level, type=type_, message=message,
        service=service, environment=env, user_id=user_id, session_id=session_id, device_type=device,
        trace_id=trace_id, span_id=span_id,
        metadata=msgspec.Raw(metadata.encode()) if metadata is not None else _RAW_NULL, received_at=received,
    )


# -- writes (run on the writer thread inside its transaction) ------------------------------
FTS_SQL = "INSERT INTO logs_fts(rowid, message) SELECT id, message FROM logs WHERE id > ?"
IDS_DELETE_SQL = ("INSERT INTO logs_ids(logs_ids, rowid, user_id, session_id, trace_id)"
                  " SELECT 'delete', id, user_id, session_id, trace_id FROM logs")
IDS_SQL = ("INSERT INTO logs_ids(rowid, user_id, session_id, trace_id) SELECT id, user_id, session_id, trace_id"
           " FROM logs WHERE id > ?")
_ROLLUP_SQL = (
    "INSERT INTO {table}(project, {unit}, level, type, service, environment, device_type, n)"
    " SELECT project, ts / {ms}, level, type, coalesce(service, ''), coalesce(environment, ''),"
    " coalesce(device_type, ''), count(*) FROM logs WHERE id > ? GROUP BY 1, 2, 3, 4, 5, 6, 7"
    " ON CONFLICT DO UPDATE SET n = n + excluded.n"
)
ROLLUP_SQLS = (_ROLLUP_SQL.format(table="log_counts_hourly", unit="hour", ms=rollups.HOUR_MS),
               _ROLLUP_SQL.format(table="log_counts_minute", unit="minute", ms=rollups.MINUTE_MS))


def row_of(rowid: int, project: int, e: NewEvent, received_ms: int,
           codec: MetaCodec | None = None) -> tuple[object, ...]:
    """The INSERT_SQL parameters of one event (metadata compressed when the codec has a dictionary)."""
    if codec is not None:
        metadata, meta_z = codec.encode(e.metadata)
    else:
        metadata, meta_z = (e.metadata.decode() if e.metadata is not None else None), None
    return (rowid, project, e.timestamp, received_ms, e.level, e.type, e.message, e.service, e.environment,
            e.user_id, e.session_id, e.device_type, e.trace_id, e.span_id, metadata, e.client_id, meta_z)


def stored_event(row: tuple[object, ...], e: NewEvent) -> LogEvent:
    """The event as a read will return it, from its insert row and the plain metadata."""
    return event_from_row((*row[:14], e.metadata.decode() if e.metadata is not None else None, row[15]))


def index_rows(conn: sqlite3.Connection, after: int) -> None:
    """Add rows with id > after to the FTS index and the rollups, each in one statement."""
    conn.execute(FTS_SQL, (after,))
    conn.execute(IDS_SQL, (after,))
    for sql in ROLLUP_SQLS:
        conn.execute(sql, (after,))


def index_new_rows(conn: sqlite3.Connection) -> None:
    """Index every row stored since the last call: the writer runs this once per transaction, just
    before COMMIT. The mark lives in the database, so a rolled-back savepoint rolls it back too."""
    last, top = conn.execute("SELECT last_id, (SELECT coalesce(max(id), 0) FROM logs) FROM logs_index_state").fetchone()
    if top > last:
        index_rows(conn, last)
        conn.execute("UPDATE logs_index_state SET last_id = ?", (top,))
        oldest = conn.execute("SELECT min(ts) FROM logs WHERE id > ?", (last,)).fetchone()[0]
        if oldest is not None and oldest < rollups.closed_before_now():
            rollups.bump_epoch(conn)  # late events changed a closed hour's counts


def base_id(conn: sqlite3.Connection) -> int:
    # Never reuse an id at or below the mark (rows deleted at the top would otherwise come back unindexed).
    # Nor one handed to an event written straight to the archive (coldlane.py).
    return int(conn.execute("SELECT max(coalesce((SELECT max(id) FROM logs), 0), last_id, reserved_id)"
                            " FROM logs_index_state").fetchone()[0])


def insert_events(conn: sqlite3.Connection, project: int, events: list[NewEvent],
                  received_ms: int, *, deferred: bool = False) -> tuple[list[LogEvent], int]:
    """Store events; return those newly stored and how many were duplicates of stored client ids.

    `deferred` leaves the FTS and rollup work to the writer's before-commit hook (index_new_rows),
    so a group commit indexes all its requests' rows in one statement each, outside any savepoint.
    """
    base = base_id(conn)
    codec = getattr(conn, "codec", None)
    rows = [row_of(base + i, project, e, received_ms, codec) for i, e in enumerate(events, 1)]
    if any(e.client_id is not None for e in events):
        # Rare path (public SDKs send no ids): insert one by one to learn which were duplicates.
        kept = [(row, e) for row, e in zip(rows, events, strict=True) if conn.execute(INSERT_IGNORE_SQL, row).rowcount]
        duplicates = len(rows) - len(kept)
    else:
        conn.executemany(INSERT_SQL, rows)
        kept = list(zip(rows, events, strict=True))
        duplicates = 0
    if not deferred:
        index_new_rows(conn)
    return [stored_event(row, e) for row, e in kept], duplicates


def _insert_deferred(conn: sqlite3.Connection, project: int, events: list[NewEvent],
                     received_ms: int) -> tuple[list[LogEvent], int]:
    return insert_events(conn, project, events, received_ms, deferred=True)


def delete_where(conn: sqlite3.Connection, project: int, terms: list[str], params: list[object], *,
                 limit: int = DELETE_CHUNK) -> int:
    """Delete up to `limit` events matching terms (on alias l), keeping FTS and rollups in step."""
    index_new_rows(conn)  # FTS 'delete' of a row never indexed would corrupt the index
    sql_ids = f"SELECT l.id FROM logs l WHERE {' AND '.join(terms)} LIMIT ?"
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS doomed(id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM temp.doomed")
    conn.execute(f"INSERT INTO temp.doomed(id) {sql_ids}", [*params, limit])
    n = conn.execute("SELECT count(*) FROM temp.doomed").fetchone()[0]
    if n:
        gone = conn.execute(
            "SELECT ts, level, type, service, environment, device_type FROM logs"
            " WHERE id IN (SELECT id FROM temp.doomed)"
        ).fetchall()
        rollups.add_counts(conn, project, gone, sign=-1)
        conn.execute("INSERT INTO logs_fts(logs_fts, rowid, message) SELECT 'delete', id, message FROM logs "
                     "WHERE id IN (SELECT id FROM temp.doomed)")
        conn.execute(IDS_DELETE_SQL + " WHERE id IN (SELECT id FROM temp.doomed)")
        conn.execute("DELETE FROM logs WHERE id IN (SELECT id FROM temp.doomed)")
    conn.execute("DELETE FROM temp.doomed")
    return int(n)


def _delete_project_rows(conn: sqlite3.Connection, project: int) -> None:
    index_new_rows(conn)
    rollups.bump_epoch(conn)
    conn.execute("INSERT INTO logs_fts(logs_fts, rowid, message) SELECT 'delete', id, message FROM logs "
                 "WHERE project = ?", (project,))
    conn.execute(IDS_DELETE_SQL + " WHERE project = ?", (project,))
    conn.execute("DELETE FROM logs WHERE project = ?", (project,))
    conn.execute("DELETE FROM log_counts_hourly WHERE project = ?", (project,))
    conn.execute("DELETE FROM log_counts_minute WHERE project = ?", (project,))
    conn.execute("DELETE FROM lenses WHERE project = ?", (project,))


PROJECT_DATA_DELETERS.append(_delete_project_rows)


# -- reads ---------------------------------------------------------------------------------
def search(conn: sqlite3.Connection, project: int, query: LogQuery, *, limit: int, offset: int,
           cursor: str | None, with_total: bool = True) -> LogPage:
    """One page newest first, with next_cursor and the total (exact, or capped and marked so)."""
    sql, params, kind = logsql.page_sql(project, query, limit=limit + 1, offset=offset, cursor=cursor)
    rows = conn.execute(sql, params).fetchall()
    has_more = len(rows) > limit
    rows = rows[:limit]
    events = [event_from_row(r) for r in rows]
    next_cursor = None
    if has_more and rows:
        last = rows[-1]
        next_cursor = logsql.encode_cursor("t", last[2], last[0]) if kind == "t" else logsql.encode_cursor("r", last[0])
    total, exact = count(conn, project, query) if with_total else (len(events), False)
    return LogPage(results=events, total=total, total_exact=exact, next_cursor=next_cursor, has_more=has_more)


def count(conn: sqlite3.Connection, project: int, query: LogQuery, *, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """(number of matches, exact?). Rollup-only queries are always exact; others stop at cap."""
    if query.rollup_only:
        return rollups.count(conn, project, query), True
    sql, params = logsql.count_sql(project, query, cap=cap)
    n = conn.execute(sql, params).fetchone()[0]
    return (cap, False) if n > cap else (n, True)


def get_event(conn: sqlite3.Connection, project: int, public_id: str) -> LogEvent | None:
    row = conn.execute(f"SELECT {logsql.COLUMNS} FROM logs WHERE project = ? AND client_id = ?",
                       (project, public_id)).fetchone()
    if row is None:
        decoded = rowid_of(public_id)
        if decoded is None:
            return None
        received, rowid = decoded
        row = conn.execute(f"SELECT {logsql.COLUMNS} FROM logs WHERE id = ? AND project = ? AND received = ?"
                           " AND client_id IS NULL", (rowid, project, received)).fetchone()
    return event_from_row(row) if row else None


def iter_events(conn: sqlite3.Connection, project: int, query: LogQuery, *, batch: int = 1000) -> Iterator[LogEvent]:
    """Every matching event newest first, fetched in keyset pages (for export and archive)."""
    cursor: str | None = None
    while True:
        page = search(conn, project, query, limit=batch, offset=0, cursor=cursor, with_total=False)
        yield from page.results
        if not page.has_more:
            return
        cursor = page.next_cursor


class SqliteLogStore:
    """Async face of the functions above."""

    def __init__(self, db: Database) -> None:
        self.db = db
        if index_new_rows not in db.before_commit:
            db.before_commit.append(index_new_rows)

    async def add(self, project: int, events: list[NewEvent], received_ms: int) -> tuple[list[LogEvent], int]:
        """Store a batch in the next group commit (refusing with Unavailable when the queue is full)."""
        return await self.db.write(_insert_deferred, project, events, received_ms, weight=max(1, len(events)),
                                   bounded=True)

    async def search(self, project: int, query: LogQuery, *, limit: int, offset: int = 0,
                     cursor: str | None = None) -> LogPage:
        return await self.db.read(lambda c: search(c, project, query, limit=limit, offset=offset, cursor=cursor))

    async def get(self, project: int, public_id: str) -> LogEvent | None:
        return await self.db.read(get_event, project, public_id)

    async def count(self, project: int, query: LogQuery) -> tuple[int, bool]:
        return await self.db.read(count, project, query)
