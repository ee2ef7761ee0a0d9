"""Traces SQL: span ingest, the sampling decision in bulk, expiry, trace queries, the service map."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from scrywatch.models.traces import (
    DecidedTraces,
    ExpiredTraces,
    ServiceEdge,
    ServiceMinute,
    SpanRecord,
    TraceQuery,
    TraceRow,
)
from scrywatch.storage.sqlite import traces_ingest
from scrywatch.storage.sqlite.accounts import PROJECT_DATA_DELETERS
from scrywatch.storage.sqlite.db import Database
from scrywatch.storage.sqlite.traces_ingest import MergeSketch, Summarize

HELD, KEPT, PURGED = 0, 1, 2
# Queue weight of one job batch: a group commit of its own, without crowding ingest out of the queue.
JOB_WEIGHT = 2000
STATE_NAMES = {HELD: "held", KEPT: "kept", PURGED: "purged"}
NS_PER_MS = 1_000_000

KeepTrace = Callable[[str, int, float], bool]  # (trace_id, error_count, duration_ms) -> keep

_decode_obj = msgspec.json.Decoder(dict[str, Any])
_decode_list = msgspec.json.Decoder(list[dict[str, Any]])

_EDGES_OF_DECIDED = """
INSERT INTO service_edges(project_pk, minute, source, target, calls)
SELECT d.project_pk, c.start_ns / 60000000000, p.service, c.service, count(*)
FROM temp.sw_decided AS d  -- CROSS JOIN: drive from the decided traces, never scan all spans
CROSS JOIN spans AS c ON c.trace_pk = d.pk
CROSS JOIN spans AS p ON p.trace_pk = c.trace_pk AND p.span_id = c.parent_span_id
WHERE p.service != c.service
GROUP BY 1, 2, 3, 4
ON CONFLICT(project_pk, minute, source, target) DO UPDATE SET calls = calls + excluded.calls
"""
_TRACE_COLS = (
    "trace_id, name, service, environment, start_ns, end_ns, span_count, error_count, root_span_id,"
    " http_method, http_url, http_status_code, state"
)
_SPAN_COLS = (
    "span_id, parent_span_id, name, service, environment, kind, start_ns, end_ns, error, status_message,"
    " attributes, events, resource"
)


def _trace_row(r: tuple[Any, ...]) -> TraceRow:
    return TraceRow(trace_id=r[0], name=r[1], service=r[2], environment=r[3], start_ns=r[4], end_ns=r[5],
                    span_count=r[6], error_count=r[7], root_span_id=r[8], http_method=r[9], http_url=r[10],
                    http_status_code=r[11], sampling=STATE_NAMES[r[12]])  # type: ignore[arg-type]


def _span(trace_id: str, r: tuple[Any, ...]) -> SpanRecord:
    return SpanRecord(trace_id=trace_id, span_id=r[0], parent_span_id=r[1], name=r[2], service=r[3],
                      environment=r[4], kind=r[5], start_ns=r[6], end_ns=r[7], error=bool(r[8]),
                      status_message=r[9], attributes=_decode_obj.decode(r[10]),
                      events=_decode_list.decode(r[11]) if r[11] else None,
                      resource=_decode_obj.decode(r[12]) if r[12] else None)


def _decide_due(conn: sqlite3.Connection, cutoff_ms: int, now_ms: int, keep: KeepTrace, kept_ttl_ms: int,
                purged_ttl_ms: int, limit: int) -> DecidedTraces:
    due = conn.execute(
        "SELECT pk, project_pk, trace_id, error_count, end_ns - start_ns FROM traces"
        " WHERE state = 0 AND first_received_ms <= ? ORDER BY first_received_ms LIMIT ?",
        (cutoff_ms, limit),
    ).fetchall()
    if not due:
        return DecidedTraces()
    decisions = [(pk, project_pk, 1 if keep(tid, errors, span_ns / NS_PER_MS) else 0)
                 for pk, project_pk, tid, errors, span_ns in due]
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS sw_decided("
                 "pk INTEGER PRIMARY KEY, project_pk INTEGER NOT NULL, keep INTEGER NOT NULL)")
    conn.execute("DELETE FROM temp.sw_decided")
    conn.executemany("INSERT INTO temp.sw_decided(pk, project_pk, keep) VALUES (?,?,?)", decisions)
    conn.execute(_EDGES_OF_DECIDED)
    conn.execute(
        "UPDATE traces SET state = CASE d.keep WHEN 1 THEN 1 ELSE 2 END, decided_ms = ?,"
        " expires_ms = CASE d.keep WHEN 1 THEN traces.first_received_ms + ? ELSE ? END"
        " FROM temp.sw_decided AS d WHERE traces.pk = d.pk",
        (now_ms, kept_ttl_ms, now_ms + purged_ttl_ms),
    )
    deleted = conn.execute(
        "DELETE FROM spans WHERE trace_pk IN (SELECT pk FROM temp.sw_decided WHERE keep = 0)"
    ).rowcount
    kept = sum(d[2] for d in decisions)
    return DecidedTraces(kept=kept, purged=len(decisions) - kept, spans_deleted=deleted)


def _expire(conn: sqlite3.Connection, now_ms: int, before_minute: int, limit: int) -> ExpiredTraces:
    pks = [(r[0],) for r in conn.execute("SELECT pk FROM traces WHERE expires_ms <= ? LIMIT ?", (now_ms, limit))]
    spans = 0
    if pks:
        before = conn.total_changes
        conn.executemany("DELETE FROM spans WHERE trace_pk = ?", pks)
        spans = conn.total_changes - before
        conn.executemany("DELETE FROM traces WHERE pk = ?", pks)
    if len(pks) < limit:  # the last batch also trims the service map to the same horizon
        conn.execute("DELETE FROM service_minutes WHERE minute < ?", (before_minute,))
        conn.execute("DELETE FROM service_edges WHERE minute < ?", (before_minute,))
    return ExpiredTraces(traces=len(pks), spans=spans)


def delete_project_rows(conn: sqlite3.Connection, project_pk: int) -> None:
    """Every trace row of a project (registered in PROJECT_DATA_DELETERS)."""
    conn.execute("DELETE FROM spans WHERE trace_pk IN (SELECT pk FROM traces WHERE project_pk = ?)", (project_pk,))
    conn.execute("DELETE FROM traces WHERE project_pk = ?", (project_pk,))
    conn.execute("DELETE FROM service_minutes WHERE project_pk = ?", (project_pk,))
    conn.execute("DELETE FROM service_edges WHERE project_pk = ?", (project_pk,))


PROJECT_DATA_DELETERS.append(delete_project_rows)


def _trace_filters(project_pk: int, q: TraceQuery) -> tuple[list[str], list[Any]]:
    where = ["project_pk = ?", "state != 2"]
    params: list[Any] = [project_pk]
    if q.from_ms is not None:
        where.append("start_ns >= ?")
        params.append(q.from_ms * NS_PER_MS)
    if q.to_ms is not None:
        where.append("start_ns < ?")  # `to` is inclusive to the millisecond
        params.append((q.to_ms + 1) * NS_PER_MS)
    for column in ("service", "environment"):
        value = getattr(q, column)
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if q.status is not None:
        where.append("error_count > 0" if q.status == "error" else "error_count = 0")
    if q.min_duration is not None:
        where.append("end_ns - start_ns >= ?")
        params.append(round(q.min_duration * NS_PER_MS))
    if q.max_duration is not None:
        where.append("end_ns - start_ns <= ?")
        params.append(round(q.max_duration * NS_PER_MS))
    return where, params


def _list_traces(conn: sqlite3.Connection, project_pk: int, q: TraceQuery, after: tuple[int, int] | None,
                 limit: int) -> tuple[list[tuple[int, TraceRow]], int]:
    where, params = _trace_filters(project_pk, q)
    total = conn.execute(f"SELECT count(*) FROM traces WHERE {' AND '.join(where)}", params).fetchone()[0]
    if after is not None:
        where.append("(start_ns < ? OR (start_ns = ? AND pk < ?))")
        params += [after[0], after[0], after[1]]
    rows = conn.execute(
        f"SELECT pk, {_TRACE_COLS} FROM traces WHERE {' AND '.join(where)}"
        " ORDER BY start_ns DESC, pk DESC LIMIT ? OFFSET ?",
        (*params, limit, q.offset if after is None else 0),
    ).fetchall()
    return [(r[0], _trace_row(r[1:])) for r in rows], total


def _get_trace(conn: sqlite3.Connection, project_pk: int, trace_id: str) -> tuple[TraceRow, list[SpanRecord]] | None:
    row = conn.execute(
        f"SELECT pk, {_TRACE_COLS} FROM traces WHERE project_pk = ? AND trace_id = ? AND state != 2",
        (project_pk, trace_id),
    ).fetchone()
    if row is None:
        return None
    spans = [_span(trace_id, r) for r in conn.execute(
        f"SELECT {_SPAN_COLS} FROM spans WHERE trace_pk = ? ORDER BY start_ns, id", (row[0],))]
    return _trace_row(row[1:]), spans


class SqliteTraceStore:
    """Reads and writes of the trace tables."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_spans(self, project_pk: int, spans: Sequence[SpanRecord], *, received_ms: int,
                        summarize: Summarize, merge_sketch: MergeSketch) -> int:
        """Store spans (late spans of purged traces are only counted) and count every new one per
        service and minute; return how many were stored."""
        batch = traces_ingest.prepare(spans, summarize)
        return await self._db.write(traces_ingest.add_spans, project_pk, batch, received_ms, summarize,
                                    merge_sketch, weight=len(spans), bounded=True)

    async def decide_due(self, *, cutoff_ms: int, now_ms: int, keep: KeepTrace, kept_ttl_ms: int,
                         purged_ttl_ms: int, limit: int) -> DecidedTraces:
        """Decide up to `limit` held traces first seen at or before cutoff_ms; delete purged spans."""
        return await self._db.write(_decide_due, cutoff_ms, now_ms, keep, kept_ttl_ms, purged_ttl_ms, limit,
                                    weight=JOB_WEIGHT)

    async def expire(self, *, now_ms: int, before_minute: int, limit: int) -> ExpiredTraces:
        """Delete up to `limit` traces past their expiry, and service-map minutes before before_minute."""
        return await self._db.write(_expire, now_ms, before_minute, limit, weight=JOB_WEIGHT)

    async def list_traces(self, project_pk: int, query: TraceQuery, *, after: tuple[int, int] | None,
                          limit: int) -> tuple[list[tuple[int, TraceRow]], int]:
        """(pk, trace) newest first, and the total matching the filters (ignoring the cursor)."""
        return await self._db.read(_list_traces, project_pk, query, after, limit)

    async def get_trace(self, project_pk: int, trace_id: str) -> tuple[TraceRow, list[SpanRecord]] | None:
        return await self._db.read(_get_trace, project_pk, trace_id)

    async def service_minutes(self, project_pk: int, first_minute: int, last_minute: int) -> list[ServiceMinute]:
        def q(c: sqlite3.Connection) -> list[ServiceMinute]:
            return [ServiceMinute(minute=r[0], service=r[1], request_count=r[2], error_count=r[3], sketch=r[4])
                    for r in c.execute(
                        "SELECT minute, service, request_count, error_count, sketch FROM service_minutes"
                        " WHERE project_pk = ? AND minute BETWEEN ? AND ?", (project_pk, first_minute, last_minute))]

        return await self._db.read(q)

    async def service_edges(self, project_pk: int, first_minute: int, last_minute: int) -> list[ServiceEdge]:
        def q(c: sqlite3.Connection) -> list[ServiceEdge]:
            return [ServiceEdge(source=r[0], target=r[1], count=r[2]) for r in c.execute(
                "SELECT source, target, sum(calls) FROM service_edges WHERE project_pk = ?"
                " AND minute BETWEEN ? AND ? GROUP BY source, target ORDER BY 3 DESC, 1, 2",
                (project_pk, first_minute, last_minute))]

        return await self._db.read(q)
