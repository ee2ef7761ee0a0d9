"""Span ingest SQL. Rows are built on the event loop (`prepare`: JSON encoding, per-trace aggregates,
the service-map sketches); the writer thread (`add_spans`) only runs SQL. (Measured: executemany
beats one json_each statement per batch, whose per-row JSON re-parsing costs more than it saves.)"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from scrywatch.models.traces import ServiceMinute, SpanRecord

Summarize = Callable[[Sequence[SpanRecord]], list[ServiceMinute]]
MergeSketch = Callable[[bytes, bytes], bytes]

_json = msgspec.json.Encoder()

# Creates held rows, or moves existing rows' aggregates (a root span, when it comes, names the
# trace). Purged traces are left alone, and their late spans are dropped below.
_UPSERT_TRACE = """
INSERT INTO traces(project_pk, trace_id, state, first_received_ms, start_ns, end_ns, span_count, error_count,
  root_span_id, name, service, environment, http_method, http_url, http_status_code)
VALUES (?1,?3,0,?2,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)
ON CONFLICT(project_pk, trace_id) DO UPDATE SET
  start_ns = min(start_ns, excluded.start_ns), end_ns = max(end_ns, excluded.end_ns),
  span_count = span_count + excluded.span_count, error_count = error_count + excluded.error_count,
  root_span_id = coalesce(excluded.root_span_id, root_span_id),
  name = iif(excluded.root_span_id IS NULL, name, excluded.name),
  service = iif(excluded.root_span_id IS NULL, service, excluded.service),
  environment = iif(excluded.root_span_id IS NULL, environment, excluded.environment),
  http_method = iif(excluded.root_span_id IS NULL, http_method, excluded.http_method),
  http_url = iif(excluded.root_span_id IS NULL, http_url, excluded.http_url),
  http_status_code = iif(excluded.root_span_id IS NULL, http_status_code, excluded.http_status_code)
WHERE state != 2
"""
_INSERT_SPAN = (
    "INSERT OR IGNORE INTO spans(trace_pk, span_id, parent_span_id, name, service, environment, kind,"
    " start_ns, end_ns, error, status_message, attributes, events, resource)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_IN_CHUNK = 500  # ids per `IN (...)`, well under SQLite's variable limit
_RECOUNT = (
    "UPDATE traces SET (span_count, error_count, start_ns, end_ns) = (SELECT count(*), coalesce(sum(error), 0),"
    " min(start_ns), max(end_ns) FROM spans WHERE trace_pk = ?1) WHERE pk = ?1"
)
_UPSERT_MINUTE = """
INSERT INTO service_minutes(project_pk, minute, service, request_count, error_count, sketch)
VALUES (?,?,?,?,?,?)
ON CONFLICT(project_pk, minute, service) DO UPDATE SET
  request_count = request_count + excluded.request_count,
  error_count = error_count + excluded.error_count, sketch = excluded.sketch
"""


def _text(value: Any) -> str:
    return _json.encode(value).decode()


@dataclass
class PreparedSpans:
    spans: Sequence[SpanRecord]
    traces: dict[str, list[Any]]  # trace_id -> [start, end, spans, errors, root_span_id, name, service, ...]
    rows: list[tuple[str, tuple[Any, ...]]]  # (trace_id, the span's row without its trace_pk)
    minutes: list[ServiceMinute]  # of every span, as if none were a retry


def prepare(spans: Sequence[SpanRecord], summarize: Summarize) -> PreparedSpans:
    """Everything the writer needs that is not SQL."""
    traces: dict[str, list[Any]] = {}
    for s in spans:
        t = traces.get(s.trace_id)
        if t is None:
            t = traces[s.trace_id] = [s.start_ns, s.end_ns, 0, 0, None, s.name, s.service, s.environment,
                                      None, None, None]
        elif s.start_ns < t[0] and t[4] is None:  # no root yet: named after its earliest span
            t[5:8] = [s.name, s.service, s.environment]
        t[0] = min(t[0], s.start_ns)
        t[1] = max(t[1], s.end_ns)
        t[2] += 1
        t[3] += s.error
        if s.parent_span_id is None:
            t[4:] = [s.span_id, s.name, s.service, s.environment, s.http_method, s.http_url, s.http_status_code]
    resources: dict[int, str] = {}  # spans of one OTLP resource share its dict: encode it once

    def resource_text(resource: dict[str, Any] | None) -> str | None:
        if not resource:
            return None
        text = resources.get(id(resource))
        if text is None:
            text = resources[id(resource)] = _text(resource)
        return text

    rows = [(s.trace_id, (s.span_id, s.parent_span_id, s.name, s.service, s.environment, s.kind, s.start_ns,
                          s.end_ns, 1 if s.error else 0, s.status_message, _text(s.attributes),
                          _text(s.events) if s.events else None, resource_text(s.resource)))
            for s in spans]
    return PreparedSpans(spans=spans, traces=traces, rows=rows, minutes=summarize(spans))


def add_spans(conn: sqlite3.Connection, project_pk: int, batch: PreparedSpans, received_ms: int,
              summarize: Summarize, merge: MergeSketch) -> int:
    """Store a prepared batch; count every span not already stored. Returns spans stored."""
    conn.executemany(_UPSERT_TRACE, [(project_pk, received_ms, tid, *t) for tid, t in batch.traces.items()])
    pks: dict[str, int] = {}
    purged: set[str] = set()
    ids = list(batch.traces)
    for i in range(0, len(ids), _IN_CHUNK):
        chunk = ids[i : i + _IN_CHUNK]
        marks = ",".join("?" * len(chunk))
        for pk, tid, state in conn.execute(
            f"SELECT pk, trace_id, state FROM traces WHERE project_pk = ? AND trace_id IN ({marks})",
            (project_pk, *chunk),
        ):
            if state == 2:
                purged.add(tid)  # late spans of a purged trace are dropped (but counted below)
            else:
                pks[tid] = pk
    rows = [(pks[tid], *r) for tid, r in batch.rows if tid in pks]
    max_before = conn.execute("SELECT coalesce(max(id), 0) FROM spans").fetchone()[0]
    before = conn.total_changes
    conn.executemany(_INSERT_SPAN, rows)
    stored = conn.total_changes - before
    minutes = batch.minutes
    if stored != len(rows):  # some spans were already stored (a retried export)
        conn.executemany(_RECOUNT, [(pk,) for pk in pks.values()])
        fresh = set(conn.execute("SELECT trace_pk, span_id FROM spans WHERE id > ?", (max_before,)))
        counted = []
        for s in batch.spans:
            key = (pks.get(s.trace_id), s.span_id)
            if s.trace_id in purged or key in fresh:  # late spans of purged traces still count
                fresh.discard(key)
                counted.append(s)
        minutes = summarize(counted)
    for m in minutes:
        found = conn.execute(
            "SELECT sketch FROM service_minutes WHERE project_pk = ? AND minute = ? AND service = ?",
            (project_pk, m.minute, m.service),
        ).fetchone()
        sketch = merge(found[0], m.sketch) if found else m.sketch
        conn.execute(_UPSERT_MINUTE, (project_pk, m.minute, m.service, m.request_count, m.error_count, sketch))
    return stored
