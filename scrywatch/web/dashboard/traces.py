"""Traces: the filtered list, one trace as a waterfall with its logs, and the service map."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from scrywatch.errors import InvalidInput, NotFound
from scrywatch.models.logs import LogQuery, Page
from scrywatch.models.traces import MapQuery, ServiceMap, TraceQuery, TraceSummary
from scrywatch.runtime import Runtime
from scrywatch.services import search, traces
from scrywatch.services.spans import SpanProblem
from scrywatch.web.codec import decode_params
from scrywatch.web.dashboard import servicemap, waterfall
from scrywatch.web.dashboard.frame import load_frame, render_page, signed_in
from scrywatch.web.dashboard.logslink import explorer_href

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
# key -> (label, span in ms; None: no lower bound)
RANGES: dict[str, tuple[str, int | None]] = {
    "15m": ("Last 15 minutes", 15 * MINUTE_MS), "1h": ("Last hour", HOUR_MS), "24h": ("Last 24 hours", 24 * HOUR_MS),
    "7d": ("Last 7 days", 7 * 24 * HOUR_MS), "all": ("Any time", None),
}
DEFAULT_RANGE = "all"  # traces are kept for a day by default, so "any time" stays small
MAP_RANGES = {k: RANGES[k] for k in ("15m", "1h", "24h")}
MAP_DEFAULT = "1h"
PER_PAGE = 50
MAX_OFFSET = 1_000_000  # a bound SQLite's 64-bit OFFSET cannot overflow
TRACE_LOGS = 200
FILTERS = ("service", "status", "environment", "min_duration", "max_duration", "range")
STATUSES = ("ok", "error")
PALETTE_MS = 24 * HOUR_MS  # services of this window get their color in this order, on every trace page


@dataclass(frozen=True)
class TraceItem:
    trace: TraceSummary
    href: str
    bar: float  # duration relative to the longest on the page, 0..100
    color: int


def _duration(raw: str, name: str) -> float | None:
    """A duration bound in ms: a finite, non-negative number (NaN and infinity would reach SQL as garbage)."""
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput("must be a number of milliseconds", field=name) from None
    if not math.isfinite(value):
        raise InvalidInput("must be a finite number of milliseconds", field=name)
    if value < 0:
        raise InvalidInput("must not be negative", field=name)
    return value


def read_filters(params: QueryParams, now_ms: int) -> tuple[dict[str, str], TraceQuery]:
    """The filter form's values and the query they mean (InvalidInput names a bad field)."""
    values = normal_values(params)
    if values["status"] and values["status"] not in STATUSES:
        raise InvalidInput("must be ok or error", field="status")
    bounds = {name: _duration(values[name], name) for name in ("min_duration", "max_duration")}
    offset = params.get("offset") or "0"
    if not (offset.isascii() and offset.isdigit()) or int(offset) > MAX_OFFSET:
        raise InvalidInput(f"must be a whole number from 0 to {MAX_OFFSET:,}", field="offset")
    raw: dict[str, Any] = {k: values[k] for k in ("service", "status", "environment") if values[k]}
    raw.update({k: v for k, v in bounds.items() if v is not None})
    span = RANGES[values["range"]][1]
    if span is not None:
        raw["from"] = now_ms - span
    raw["offset"] = int(offset)
    raw["limit"] = PER_PAGE
    return values, decode_params(raw, TraceQuery)


def normal_values(params: QueryParams) -> dict[str, str]:
    """The filter form's values as given, with an unknown time range replaced by the default."""
    values = {k: (params.get(k) or "").strip() for k in FILTERS}
    if values["range"] not in RANGES:
        values["range"] = DEFAULT_RANGE
    return values


async def palette(rt: Runtime, project_pk: int, now_ms: int, also: list[str], *,
                  known: ServiceMap | None = None) -> dict[str, int]:
    """A color per service, the same on the list, the waterfall and the map: the project's services of the
    last day in a stable order (busiest first), then `also`. `known`: that day's map when already loaded."""
    if known is None:
        known = await traces.service_map(rt, project_pk, MapQuery(from_ms=now_ms - PALETTE_MS, to_ms=now_ms))
    return waterfall.colors_for([s.service for s in known.services] + also)


def _href(base: str, values: dict[str, str], offset: int) -> str:
    params = {k: v for k, v in values.items() if v and not (k == "range" and v == DEFAULT_RANGE)}
    if offset:
        params["offset"] = str(offset)
    return f"{base}?{urlencode(params)}" if params else base


@signed_in
async def traces_page(request: Request) -> Response:
    frame = await load_frame(request)
    assert frame.access is not None
    rt, now = frame.rt, frame.rt.clock.now_ms()
    base = frame.url(request, "dash.traces")
    values = normal_values(request.query_params)  # shown again in the form, also when they are refused
    error: InvalidInput | None = None
    page = None
    try:
        values, query = read_filters(request.query_params, now)
        page = await traces.list_traces(rt, frame.access.project.pk, query)
    except InvalidInput as exc:
        error, query = exc, TraceQuery(limit=PER_PAGE)
    found = page.traces if page else []
    longest = max((t.duration_ms for t in found), default=0.0) or 1.0
    colors = await palette(rt, frame.access.project.pk, now, [t.service for t in found])
    items = [TraceItem(t, frame.url(request, "dash.traces.trace", trace_id=t.id),
                       round(t.duration_ms / longest * 100, 1), colors[t.service]) for t in found]
    total = page.total if page else 0
    ctx: dict[str, Any] = {
        "items": items, "values": values, "ranges": RANGES, "error": error, "total": total,
        "first": query.offset + 1, "last": query.offset + len(items),
        "services": list(colors), "base": base, "tab": "list",
        "prev_href": _href(base, values, max(0, query.offset - PER_PAGE)) if query.offset and page else None,
        "next_href": _href(base, values, query.offset + PER_PAGE) if page and page.has_more else None,
        "filtered": any(v for k, v in values.items() if k != "range") or values["range"] != DEFAULT_RANGE
        or query.offset > 0,  # a page past the end is not an empty project
    }
    return render_page(request, "traces/list.html", ctx, frame=frame, section="traces", route="dash.traces",
                       status=400 if error else 200)


@signed_in
async def trace_page(request: Request) -> Response:
    frame = await load_frame(request)
    assert frame.access is not None
    rt = frame.rt
    try:
        detail = await traces.get_trace(rt, frame.access.project.pk, request.path_params["trace_id"])
    except SpanProblem:  # blank or overlong: no trace can have that id
        raise NotFound("trace not found") from None
    found = await search.search_logs(rt, frame.access, LogQuery(trace_id=detail.trace.id), Page(limit=TRACE_LOGS))
    logs = list(reversed(found.results))  # oldest first, beside the waterfall's time order
    colors = await palette(rt, frame.access.project.pk, rt.clock.now_ms(), [s.service for s in detail.spans])
    drawing = waterfall.build(detail, logs, colors=colors)
    selected = request.query_params.get("span") or ""
    if not any(r.span.id == selected for r in drawing.rows):
        selected = ""
    ctx = {
        "trace": detail.trace, "wf": drawing, "logs": logs, "logs_total": found.total, "selected": selected,
        "span_names": {r.span.id: r.span.name for r in drawing.rows},
        "explorer": explorer_href(frame.url(request, "dash.logs"), LogQuery(trace_id=detail.trace.id), range_key="7d"),
        "colors": dict(drawing.legend), "base": frame.url(request, "dash.traces.trace", trace_id=detail.trace.id),
    }
    return render_page(request, "traces/trace.html", ctx, frame=frame, section="traces", route="dash.traces")


@signed_in
async def service_map_page(request: Request) -> Response:
    frame = await load_frame(request)
    assert frame.access is not None
    now = frame.rt.clock.now_ms()
    key = request.query_params.get("range") or MAP_DEFAULT
    key = key if key in MAP_RANGES else MAP_DEFAULT
    span = MAP_RANGES[key][1]
    assert span is not None
    found = await traces.service_map(frame.rt, frame.access.project.pk, MapQuery(from_ms=now - span, to_ms=now))
    ends = [n for e in found.edges for n in (e.source, e.target)]
    colors = await palette(frame.rt, frame.access.project.pk, now, [s.service for s in found.services] + ends,
                           known=found if span == PALETTE_MS else None)
    drawing = servicemap.layout(found.services, found.edges, colors=colors)
    list_range = key if key in RANGES else DEFAULT_RANGE
    ctx = {"map": found, "drawing": drawing, "ranges": MAP_RANGES, "range": key, "tab": "map",
           "traces_base": frame.url(request, "dash.traces"), "list_range": list_range}
    return render_page(request, "traces/map.html", ctx, frame=frame, section="traces", route="dash.traces")
