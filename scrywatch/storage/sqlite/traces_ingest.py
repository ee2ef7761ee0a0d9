"""Span ingest SQL. The batch is encoded on the event loop (`prepare`) as two JSON arrays, and the
writer thread (`add_spans`) stores it with a handful of set statements over json_each: a per-row
statement would hand the GIL back and forth hundreds of times per request."""

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
_UPSERT_TRACES = """
INSERT INTO traces(project_pk, trace_id, state, first_received_ms, start_ns, end_ns, span_count, error_count,
  root_span_id, name, service, environment, http_method, http_url, http_status_code)
SELECT ?1, t.value->>0, 0, ?2, t.value->>1, t.value->>2, t.value->>3, t.value->>4, t.value->>5, t.value->>6,
  t.value->>7, t.value->>8, t.value->>9, t.value->>10, t.value->>11
FROM json_each(?3) AS t WHERE true
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
_INSERT_SPANS = """
INSERT OR IGNORE INTO spans(trace_pk, span_id, parent_span_id, name, service, environment, kind, start_ns,
  end_ns, error, status_message, attributes, events, resource)
SELECT t.pk, s.value->>1, s.value->>2, s.value->>3, s.value->>4, s.value->>5, s.value->>6, s.value->>7,
  s.value->>8, s.value->>9, s.value->>10, s.value->>11, s.value->>12, s.value->>13
FROM json_each(?2) AS s JOIN traces AS t ON t.project_pk = ?1 AND t.trace_id = s.value->>0
WHERE t.state != 2
"""
_PURGED_OF_BATCH = (
    "SELECT trace_id FROM traces WHERE project_pk = ? AND state = 2"
    " AND trace_id IN (SELECT value->>0 FROM json_each(?))"
)
# After a retried export: the aggregates from the stored spans themselves.
_RECOUNT = """
UPDATE traces SET (span_count, error_count, start_ns, end_ns) = (SELECT count(*), coalesce(sum(error), 0),
  min(start_ns), max(end_ns) FROM spans WHERE trace_pk = traces.pk)
WHERE project_pk = ?1 AND trace_id IN (SELECT value->>0 FROM json_each(?2)) AND state != 2
"""
_UPSERT_MINUTE = """
INSERT INTO service_minutes(project_pk, minute, service, request_count, error_count, sketch)
VALUES (?,?,?,?,?,?)
ON CONFLICT(project_pk, minute, service) DO UPDATE SET
  request_count = request_count + excluded.request_count,
  error_count = error_count + excluded.error_count, sketch = excluded.sketch
"""


@dataclass
class PreparedSpans:
    spans: Sequence[SpanRecord]
    traces_json: str  # [[trace_id, start, end, spans, errors, root_span_id, name, service, env, http...]]
    spans_json: str  # [[trace_id, span_id, parent, name, service, env, kind, start, end, error, ...]]
    trace_count: int
    minutes: list[ServiceMinute]  # of every span, as if none were a retry


def prepare(spans: Sequence[SpanRecord], summarize: Summarize) -> PreparedSpans:
    """Everything the writer needs that is not SQL."""
    traces: dict[str, list[Any]] = {}
    for s in spans:
        t = traces.get(s.trace_id)
        if t is None:
            t = traces[s.trace_id] = [s.trace_id, s.start_ns, s.end_ns, 0, 0, None, s.name, s.service,
                                      s.environment, None, None, None]
        elif s.start_ns < t[1] and t[5] is None:  # no root yet: named after its earliest span
            t[6:9] = [s.name, s.service, s.environment]
        t[1] = min(t[1], s.start_ns)
        t[2] = max(t[2], s.end_ns)
        t[3] += 1
        t[4] += s.error
        if s.parent_span_id is None:
            t[5:] = [s.span_id, s.name, s.service, s.environment, s.http_method, s.http_url, s.http_status_code]
    rows = [(s.trace_id, s.span_id, s.parent_span_id, s.name, s.service, s.environment, s.kind, s.start_ns,
             s.end_ns, 1 if s.error else 0, s.status_message, s.attributes, s.events, s.resource) for s in spans]
    return PreparedSpans(spans=spans, traces_json=_json.encode(list(traces.values())).decode(),
                         spans_json=_json.encode(rows).decode(), trace_count=len(traces),
                         minutes=summarize(spans))


def add_spans(conn: sqlite3.Connection, project_pk: int, batch: PreparedSpans, received_ms: int,
              summarize: Summarize, merge: MergeSketch) -> int:
    """Store a prepared batch; count every span not already stored. Returns spans stored."""
    before = conn.total_changes
    conn.execute(_UPSERT_TRACES, (project_pk, received_ms, batch.traces_json))
    purged: set[str] = set()
    if conn.total_changes - before < batch.trace_count:
        purged = {r[0] for r in conn.execute(_PURGED_OF_BATCH, (project_pk, batch.traces_json))}
    expected = sum(1 for s in batch.spans if s.trace_id not in purged) if purged else len(batch.spans)
    max_before = conn.execute("SELECT coalesce(max(id), 0) FROM spans").fetchone()[0]
    before = conn.total_changes
    conn.execute(_INSERT_SPANS, (project_pk, batch.spans_json))
    stored = conn.total_changes - before
    minutes = batch.minutes
    if stored != expected:  # some spans were already stored (a retried export)
        conn.execute(_RECOUNT, (project_pk, batch.traces_json))
        fresh = set(conn.execute("SELECT t.trace_id, s.span_id FROM spans AS s JOIN traces AS t"
                                 " ON t.pk = s.trace_pk WHERE s.id > ?", (max_before,)))
        counted = []
        for s in batch.spans:
            key = (s.trace_id, s.span_id)
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
