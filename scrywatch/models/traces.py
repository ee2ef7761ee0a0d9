"""Spans, traces, the service map and the trace query: the shapes, no rules."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from scrywatch.models._base import Record

StatusName = Literal["ok", "error"]
SamplingState = Literal["held", "kept", "purged"]


class SpanRecord(msgspec.Struct, kw_only=True, gc=False):
    """One span as stored: ids as received (hex lower-cased), times in Unix nanoseconds."""

    trace_id: str
    span_id: str
    parent_span_id: str | None = None
    name: str
    service: str
    environment: str | None = None
    kind: str | None = None
    start_ns: int
    end_ns: int
    error: bool = False
    status_message: str | None = None
    attributes: dict[str, Any] = msgspec.field(default_factory=dict)
    events: list[dict[str, Any]] | None = None
    resource: dict[str, Any] | None = None
    # Set on root spans only: indexed on the trace row.
    http_method: str | None = None
    http_url: str | None = None
    http_status_code: int | None = None


class ServiceMinute(msgspec.Struct, kw_only=True, gc=False):
    """Every span of one service that started in one minute: counts and a serialized latency sketch."""

    service: str
    minute: int  # Unix minutes
    request_count: int
    error_count: int
    sketch: bytes


class DecidedTraces(msgspec.Struct, kw_only=True):
    kept: int = 0
    purged: int = 0
    spans_deleted: int = 0


class ExpiredTraces(msgspec.Struct, kw_only=True):
    traces: int = 0
    spans: int = 0


class SpanError(msgspec.Struct):
    """Why one span of a batch was refused; index counts spans across the whole request."""

    index: int
    field: str
    message: str


class SpanIngestResult(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What span ingest answers (HTTP 202); zero rejections and no errors are left out."""

    status: int  # always 202, as log ingest answers
    inserted: int
    rejected: int = 0
    errors: list[SpanError] = msgspec.field(default_factory=list)


# -- queries -------------------------------------------------------------------------------------
class TraceQuery(msgspec.Struct, kw_only=True, rename={"from_ms": "from", "to_ms": "to"}):
    """GET /traces parameters (unknown parameters are ignored, as browsers add their own)."""

    from_ms: int | None = None
    to_ms: int | None = None
    service: str | None = None
    status: StatusName | None = None
    environment: str | None = None
    min_duration: float | None = None  # ms
    max_duration: float | None = None  # ms
    limit: int = 50
    offset: int = 0
    cursor: str | None = None


class MapQuery(msgspec.Struct, kw_only=True, rename={"from_ms": "from", "to_ms": "to"}):
    from_ms: int | None = None
    to_ms: int | None = None


class TraceRow(msgspec.Struct, kw_only=True, gc=False):
    """A trace row as stored (times in ns)."""

    trace_id: str
    name: str
    service: str
    environment: str | None
    start_ns: int
    end_ns: int
    span_count: int
    error_count: int
    root_span_id: str | None
    http_method: str | None
    http_url: str | None
    http_status_code: int | None
    sampling: SamplingState


# -- responses -----------------------------------------------------------------------------------
class TraceSummary(Record):
    id: str
    name: str
    service: str
    environment: str | None
    start_time: int  # Unix ms
    end_time: int
    duration_ms: float
    status: StatusName
    span_count: int
    error_count: int
    root_span_id: str | None
    http_method: str | None
    http_url: str | None
    http_status_code: int | None
    sampling: SamplingState  # held: waiting for the sampling decision; kept: retained


class SpanView(Record):
    """A span as the waterfall shows it: depth in the tree and offset from the trace start."""

    id: str
    trace_id: str
    parent_span_id: str | None
    name: str
    service: str
    environment: str | None
    kind: str | None
    start_time: int  # Unix ms
    end_time: int
    duration_ms: float
    offset_ms: float
    depth: int
    status: StatusName
    status_message: str | None
    attributes: dict[str, Any]
    events: list[dict[str, Any]]
    resource: dict[str, Any] | None


class TraceDetail(Record):
    trace: TraceSummary
    spans: list[SpanView]


class TracePage(Record):
    traces: list[TraceSummary]
    total: int
    next_cursor: str | None
    has_more: bool


class ServiceStats(Record):
    service: str
    request_count: int
    error_count: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


class ServiceEdge(Record):
    source: str
    target: str
    count: int


class ServiceMap(Record, rename={"from_ms": "from", "to_ms": "to"}):
    services: list[ServiceStats]
    edges: list[ServiceEdge]
    from_ms: int
    to_ms: int
