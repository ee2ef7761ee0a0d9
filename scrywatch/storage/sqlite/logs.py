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
from scrywatch.storage.sqlite.db import Database, mergeable
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
COLUMNS = 17  # INSERT_SQL parameters per row; the row id is the first
_ROW_PARAMS = "(" + ",".join("?" * COLUMNS) + ")"
_CHUNK = 128
_MULTI_SQL = {n: INSERT_SQL.partition(" VALUES ")[0] + " VALUES " + ",".join([_ROW_PARAMS] * n)
              for n in (1, 2, 4, 8, 16, 32, 64, _CHUNK)}


def insert_flat(conn: sqlite3.Connection, flat: list[object]) -> None:
    """INSERT rows given as one flat parameter list (COLUMNS per row) in as few statements as
    possible: chunks of 128 rows, then one statement per power of two (few shapes, so the statement
    cache stays warm). The sqlite3 module releases and re-takes the GIL around every step; with
    executemany() that was once per row, each time perhaps waiting for a busy event loop."""
    i, n = 0, len(flat) // COLUMNS
    while i < n:
        size = _CHUNK if n - i >= _CHUNK else 1 << ((n - i).bit_length() - 1)
        conn.execute(_MULTI_SQL[size], flat[i * COLUMNS:(i + size) * COLUMNS])
        i += size


# Public ids: the 26 Crockford characters of (received_ms << 80 | row id), two at a time.
_PAIRS = [a + b for a in CROCKFORD for b in CROCKFORD]


def _time_part(received_ms: int) -> str:
    """The first 10 characters: bits 80-129 (the receive time)."""
    return "".join(_PAIRS[(received_ms >> shift) & 1023] for shift in (40, 30, 20, 10, 0))


def _row_part(rowid: int) -> str:
    """The last 16 characters: bits 0-79 (the row id)."""
    p = _PAIRS
    return (p[(rowid >> 70) & 1023] + p[(rowid >> 60) & 1023] + p[(rowid >> 50) & 1023] + p[(rowid >> 40) & 1023]
            + p[(rowid >> 30) & 1023] + p[(rowid >> 20) & 1023] + p[(rowid >> 10) & 1023] + p[rowid & 1023])


def ulid_for(received_ms: int, rowid: int) -> str:
    """The public id of a row without a client id."""
    return _time_part(received_ms) + _row_part(rowid)


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


def prepare_rows(project: int, events: list[NewEvent], received_ms: int, codec: MetaCodec | None) -> list[object]:
    """The flat INSERT parameters of a batch (COLUMNS per event; row ids are set by insert_prepared).

    Built before the batch reaches the writer thread: the Python work of a row (metadata
    compression included) then overlaps with the writer's SQLite work, which runs without the GIL,
    instead of holding the GIL inside its transaction."""
    flat: list[object] = []
    for e in events:
        flat.extend(row_of(0, project, e, received_ms, codec))
    return flat


def _insert_calls(conn: sqlite3.Connection,
                  calls: list[tuple[list[NewEvent], list[object]]]) -> list[tuple[int, list[int] | None]]:
    """Store the prepared rows of one or more requests (those of a group commit, in order) with
    consecutive ids after base_id(); for each, (base, positions kept, or None when all were). Rows
    without a client id go in one run of multi-row INSERTs for all the requests."""
    base = base_id(conn)
    out: list[tuple[int, list[int] | None]] = []
    plain: list[object] = []
    for events, flat in calls:
        flat[0::COLUMNS] = range(base + 1, base + 1 + len(events))
        kept: list[int] | None = None
        if any(e.client_id is not None for e in events):
            # Rare path (public SDKs send no ids): insert one by one to learn which were duplicates.
            kept = [k for k in range(len(events))
                    if conn.execute(INSERT_IGNORE_SQL, flat[k * COLUMNS:(k + 1) * COLUMNS]).rowcount]
        else:
            plain += flat
        out.append((base, kept))
        base += len(events)
    insert_flat(conn, plain)
    return out


@mergeable(_insert_calls)
def insert_prepared(conn: sqlite3.Connection, events: list[NewEvent],
                    flat: list[object]) -> tuple[int, list[int] | None]:
    """Store one request's prepared rows: (base id, positions kept, or None when all were)."""
    return _insert_calls(conn, [(events, flat)])[0]


def stored_events(events: list[NewEvent], received_ms: int, base: int, kept: list[int] | None) -> list[LogEvent]:
    """The events as reads return them, from each NewEvent and its row id (base + position + 1)."""
    time_part = _time_part(received_ms)
    out = []
    for k in range(len(events)) if kept is None else kept:
        e = events[k]
        out.append(LogEvent(
            id=e.client_id or time_part + _row_part(base + k + 1), timestamp=e.timestamp, level=e.level,
            type=e.type, message=e.message, service=e.service, environment=e.environment, user_id=e.user_id,
            session_id=e.session_id, device_type=e.device_type, trace_id=e.trace_id, span_id=e.span_id,
            metadata=msgspec.Raw(e.metadata) if e.metadata is not None else _RAW_NULL, received_at=received_ms))
    return out


FTS_TABLES = ("logs_fts", "logs_ids")
ROWS_PER_MERGE_PAGE = 32  # merge work in a transaction: one page per table, plus one per 32 rows
IDLE_MERGE_PAGES = 32  # per table, in each idle step (a few ms: a request arriving meanwhile waits that long)


def merge_fts(conn: sqlite3.Connection, pages: int) -> bool:
    """Merge about `pages` pages of each FTS index's segments, only where a level holds enough
    segments to be worth it (FTS5's 'usermerge', 4) or a merge is under way; True if any work was done.
    Automatic merging is off (schema FTS_MERGE_DDL): this is how the indexes stay compact."""
    worked = False
    for table in FTS_TABLES:
        before = conn.total_changes
        conn.execute(f"INSERT INTO {table}({table}, rank) VALUES ('merge', ?)", (pages,))
        # The command itself counts as one change; a merge that wrote segments adds more.
        worked |= conn.total_changes - before >= 2
    return worked


def merge_fts_when_idle(conn: sqlite3.Connection) -> bool:
    """The writer's idle work (Database.idle_work): one small merge step in a transaction of its own."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        worked = merge_fts(conn, IDLE_MERGE_PAGES)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return worked


def index_rows(conn: sqlite3.Connection, after: int) -> None:
    """Add rows with id > after to the FTS indexes and the rollups, each in one statement, and
    merge FTS segments in proportion to the rows (what keeps the indexes compact under full load)."""
    rows = conn.execute(FTS_SQL, (after,)).rowcount
    conn.execute(IDS_SQL, (after,))
    merge_fts(conn, 1 + rows // ROWS_PER_MERGE_PAGE)
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
    codec = getattr(conn, "codec", None)
    base, kept = insert_prepared(conn, events, prepare_rows(project, events, received_ms, codec))
    if not deferred:
        index_new_rows(conn)
    stored = stored_events(events, received_ms, base, kept)
    return stored, len(events) - len(stored)


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
        if merge_fts_when_idle not in db.idle_work:
            db.idle_work.append(merge_fts_when_idle)

    async def add(self, project: int, events: list[NewEvent], received_ms: int) -> tuple[list[LogEvent], int]:
        """Store a batch in the next group commit (refusing with Unavailable when the queue is full).
        Rows are built here and the stored events after the commit: the writer thread only runs SQL."""
        weight = max(1, len(events))
        self.db.require_room(weight)  # before building rows that would be refused
        flat = prepare_rows(project, events, received_ms, self.db.codec)
        base, kept = await self.db.write(insert_prepared, events, flat, weight=weight, bounded=True)
        stored = stored_events(events, received_ms, base, kept)
        return stored, len(events) - len(stored)

    async def search(self, project: int, query: LogQuery, *, limit: int, offset: int = 0,
                     cursor: str | None = None) -> LogPage:
        return await self.db.read(lambda c: search(c, project, query, limit=limit, offset=offset, cursor=cursor))

    async def get(self, project: int, public_id: str) -> LogEvent | None:
        return await self.db.read(get_event, project, public_id)

    async def count(self, project: int, query: LogQuery) -> tuple[int, bool]:
        return await self.db.read(count, project, query)
