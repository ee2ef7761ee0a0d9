"""Traces: span ingest (our JSON and OTLP), the tail-sampling job, trace queries and the service map."""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Sequence
from typing import Any

import msgspec

from scrywatch.errors import InvalidInput, NotFound, PayloadTooLarge
from scrywatch.models.traces import (
    MapQuery,
    ServiceMap,
    ServiceStats,
    SpanError,
    SpanIngestResult,
    SpanRecord,
    SpanView,
    TraceDetail,
    TracePage,
    TraceQuery,
    TraceRow,
    TraceSummary,
)
from scrywatch.runtime import Runtime
from scrywatch.services import ingest, otlp, otlp_logs
from scrywatch.services.sampling import SamplingPolicy, keep_trace
from scrywatch.services.sketch import LatencySketch, merge_bytes
from scrywatch.services.spans import NS_PER_MS, SpanProblem, clean_id, spans_from_json, summarize

MAX_PAGE = 200
MAX_OFFSET = 1_000_000
MAX_DURATION_MS = 1e12
DECIDE_BATCH = 5_000  # traces per sampling transaction: ingest waits at most ~0.2 s behind one
EXPIRE_BATCH = 5_000
PURGED_MEMORY_MS = 3_600_000  # how long a purge decision is remembered for late spans
MAP_WINDOW_MS = 3_600_000
MINUTE_MS = 60_000


class _SpansBody(msgspec.Struct):
    spans: list[Any]  # each checked on its own, so one bad span does not sink the batch


_body_decoder = msgspec.json.Decoder(_SpansBody)


# -- ingest ----------------------------------------------------------------------------------------
def _check_count(rt: Runtime, n: int) -> None:
    limit = rt.config.ingest.max_batch_events
    if n > limit:
        raise PayloadTooLarge(f"at most {limit} spans per request (got {n})", field="spans")


async def store_spans(rt: Runtime, project_pk: int, spans: Sequence[SpanRecord]) -> int:
    """Store valid spans (and count them for the service map); returns how many were stored."""
    if not spans:
        return 0
    return int(await rt.store.traces.add_spans(project_pk, spans, received_ms=rt.clock.now_ms(),
                                               summarize=summarize, merge_sketch=merge_bytes))


async def ingest_json_spans(rt: Runtime, project_pk: int, body: bytes) -> SpanIngestResult:
    """POST /api/traces: `{"spans": [...]}`; invalid spans are reported, the valid ones stored."""
    try:
        items = _body_decoder.decode(body).spans
    except msgspec.ValidationError as exc:
        raise InvalidInput("body must be a JSON object with a `spans` list", field="spans") from exc
    except msgspec.DecodeError as exc:
        raise InvalidInput("request body is not valid JSON", field="body") from exc
    except RecursionError as exc:
        raise InvalidInput("request body is nested too deeply", field="body") from exc
    _check_count(rt, len(items))
    if not items:
        raise InvalidInput("must contain at least one span", field="spans")
    good, errors = spans_from_json(items)
    _all_invalid(good, errors, prefix="spans")
    await store_spans(rt, project_pk, good)
    return SpanIngestResult(status=202, inserted=len(good), rejected=len(errors), errors=errors)


def _all_invalid(good: list[Any], errors: list[SpanError], *, prefix: str) -> None:
    if not good and errors:
        raise InvalidInput("no valid spans in the batch", details=[
            {"field": f"{prefix}[{e.index}].{e.field}", "message": e.message} for e in errors[:100]])


def rejection_message(errors: list[SpanError], *, noun: str = "span") -> str:
    """One line for OTLP's partialSuccess.errorMessage."""
    shown = "; ".join(f"{noun} {e.index}: {e.field} {e.message}" for e in errors[:10])
    more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
    return f"{len(errors)} {noun}s rejected: {shown}{more}"


async def ingest_otlp_spans(rt: Runtime, project_pk: int, body: bytes, *, protobuf: bool) -> tuple[int, str]:
    """OTLP/HTTP traces; returns (rejected span count, message) for the export response."""
    good, errors, seen = otlp.traces_from_protobuf(body) if protobuf else otlp.traces_from_json(body)
    _check_count(rt, seen)
    _all_invalid(good, errors, prefix="spans")
    await store_spans(rt, project_pk, good)
    return len(errors), rejection_message(errors) if errors else ""


async def ingest_otlp_logs(rt: Runtime, project_pk: int, body: bytes, *, protobuf: bool,
                           user_agent: str | None) -> tuple[int, str]:
    """OTLP/HTTP logs become ordinary log events; returns (rejected record count, message)."""
    events, errors, seen = otlp_logs.logs_from_protobuf(body) if protobuf else otlp_logs.logs_from_json(body)
    _check_count(rt, seen)
    _all_invalid(events, errors, prefix="logRecords")
    if events:
        result = await ingest.ingest_events(rt, project_pk, events, user_agent=user_agent)
        refused = {e.index for e in errors}
        position = [i for i in range(seen) if i not in refused]  # events[k] is record position[k]
        errors += [SpanError(index=position[e.index], field=e.field, message=e.message) for e in result.errors]
        errors.sort(key=lambda e: e.index)
    return len(errors), rejection_message(errors, noun="log record") if errors else ""


# -- tail sampling ---------------------------------------------------------------------------------
async def run_sampling(rt: Runtime) -> dict[str, Any]:
    """The `sampling` job: decide every trace held longer than hold_seconds, then expire old ones."""
    cfg = rt.config.traces
    policy = SamplingPolicy.from_config(cfg)
    now = rt.clock.now_ms()
    retention_ms = cfg.retention_hours * 3_600_000

    def keep(trace_id: str, error_count: int, duration_ms: float) -> bool:
        return keep_trace(policy, trace_id=trace_id, error_count=error_count, duration_ms=duration_ms)

    summary = {"kept": 0, "purged": 0, "spans_deleted": 0, "expired_traces": 0, "expired_spans": 0}
    while True:
        batch = await rt.store.traces.decide_due(
            cutoff_ms=now - cfg.hold_seconds * 1000, now_ms=now, keep=keep, kept_ttl_ms=retention_ms,
            purged_ttl_ms=min(PURGED_MEMORY_MS, retention_ms), limit=DECIDE_BATCH)
        summary["kept"] += batch.kept
        summary["purged"] += batch.purged
        summary["spans_deleted"] += batch.spans_deleted
        if batch.kept + batch.purged < DECIDE_BATCH:
            break
    while True:
        expired = await rt.store.traces.expire(now_ms=now, before_minute=(now - retention_ms) // MINUTE_MS,
                                               limit=EXPIRE_BATCH)
        summary["expired_traces"] += expired.traces
        summary["expired_spans"] += expired.spans
        if expired.traces < EXPIRE_BATCH:
            break
    return summary


# -- queries ---------------------------------------------------------------------------------------
def _summary(t: TraceRow) -> TraceSummary:
    return TraceSummary(
        id=t.trace_id, name=t.name, service=t.service, environment=t.environment,
        start_time=t.start_ns // NS_PER_MS, end_time=t.end_ns // NS_PER_MS,
        duration_ms=(t.end_ns - t.start_ns) / NS_PER_MS, status="error" if t.error_count else "ok",
        span_count=t.span_count, error_count=t.error_count, root_span_id=t.root_span_id,
        http_method=t.http_method, http_url=t.http_url, http_status_code=t.http_status_code, sampling=t.sampling,
    )


def _encode_cursor(start_ns: int, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{start_ns}:{pk}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        start, pk = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split(":")
        return int(start), int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput("is not a cursor this server issued", field="cursor") from exc


async def list_traces(rt: Runtime, project_pk: int, query: TraceQuery) -> TracePage:
    """Traces newest first, filtered; offset or cursor pagination."""
    if not 0 <= query.offset <= MAX_OFFSET:
        raise InvalidInput(f"must be between 0 and {MAX_OFFSET} (use `cursor` to go deeper)", field="offset")
    for name in ("min_duration", "max_duration"):
        value = getattr(query, name)
        if value is not None and not (math.isfinite(value) and 0 <= value <= MAX_DURATION_MS):
            raise InvalidInput("must be a number of milliseconds between 0 and 10^12", field=name)
    limit = min(max(query.limit, 1), MAX_PAGE)
    after = _decode_cursor(query.cursor) if query.cursor else None
    rows, total = await rt.store.traces.list_traces(project_pk, query, after=after, limit=limit + 1)
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = _encode_cursor(rows[-1][1].start_ns, rows[-1][0]) if has_more else None
    return TracePage(traces=[_summary(t) for _, t in rows], total=total, next_cursor=next_cursor, has_more=has_more)


def waterfall(spans: list[SpanRecord]) -> list[tuple[SpanRecord, int]]:
    """Spans depth-first, siblings by start time; a span whose parent is missing is a root."""
    ids = {s.span_id for s in spans}
    children: dict[str | None, list[SpanRecord]] = {}
    for s in sorted(spans, key=lambda s: (s.start_ns, s.end_ns)):
        parent = s.parent_span_id if s.parent_span_id in ids and s.parent_span_id != s.span_id else None
        children.setdefault(parent, []).append(s)
    out: list[tuple[SpanRecord, int]] = []
    seen: set[str] = set()
    stack = [(s, 0) for s in reversed(children.get(None, []))]
    while stack:
        span, depth = stack.pop()
        if span.span_id in seen:
            continue
        seen.add(span.span_id)
        out.append((span, depth))
        stack.extend((c, depth + 1) for c in reversed(children.get(span.span_id, [])))
    # Spans only reachable through a cycle of parent ids still show, at the top level.
    out.extend((s, 0) for s in spans if s.span_id not in seen)
    return out


async def get_trace(rt: Runtime, project_pk: int, trace_id: str) -> TraceDetail:
    """A trace with its spans in waterfall order."""
    try:
        tid = clean_id(trace_id, "trace_id", required=True)
    except SpanProblem as exc:  # no such trace can exist: a path that names none is a 404
        raise NotFound("trace not found") from exc
    found = await rt.store.traces.get_trace(project_pk, tid)
    if found is None:
        raise NotFound("trace not found")
    row, spans = found
    base = min([row.start_ns, *(s.start_ns for s in spans)])
    views = [SpanView(
        id=s.span_id, trace_id=s.trace_id, parent_span_id=s.parent_span_id, name=s.name, service=s.service,
        environment=s.environment, kind=s.kind, start_time=s.start_ns // NS_PER_MS, end_time=s.end_ns // NS_PER_MS,
        duration_ms=(s.end_ns - s.start_ns) / NS_PER_MS, offset_ms=(s.start_ns - base) / NS_PER_MS, depth=depth,
        status="error" if s.error else "ok", status_message=s.status_message, attributes=s.attributes,
        events=s.events or [], resource=s.resource,
    ) for s, depth in waterfall(spans)]
    return TraceDetail(trace=_summary(row), spans=views)


async def service_map(rt: Runtime, project_pk: int, query: MapQuery) -> ServiceMap:
    """Per service: every span's count, errors and true p50/p95/p99 over the window; plus call edges."""
    to_ms = query.to_ms if query.to_ms is not None else rt.clock.now_ms()
    from_ms = query.from_ms if query.from_ms is not None else to_ms - MAP_WINDOW_MS
    if from_ms > to_ms:
        raise InvalidInput("must not be after `to`", field="from")
    first, last = from_ms // MINUTE_MS, to_ms // MINUTE_MS
    per_service: dict[str, list[Any]] = {}
    for m in await rt.store.traces.service_minutes(project_pk, first, last):
        entry = per_service.setdefault(m.service, [0, 0, LatencySketch()])
        entry[0] += m.request_count
        entry[1] += m.error_count
        entry[2].merge(LatencySketch.from_bytes(m.sketch))
    services = [
        ServiceStats(service=name, request_count=n, error_count=errors, p50_ms=_q(sk, 0.5), p95_ms=_q(sk, 0.95),
                     p99_ms=_q(sk, 0.99))
        for name, (n, errors, sk) in sorted(per_service.items(), key=lambda kv: (-kv[1][0], kv[0]))
    ]
    edges = await rt.store.traces.service_edges(project_pk, first, last)
    return ServiceMap(services=services, edges=edges, from_ms=from_ms, to_ms=to_ms)


def _q(sketch: LatencySketch, q: float) -> float | None:
    value = sketch.quantile(q)
    return None if value is None else float(f"{value:.6g}")  # 6 significant digits: far inside 1 %
