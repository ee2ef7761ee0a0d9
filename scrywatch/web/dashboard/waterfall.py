"""A trace as a waterfall: bar geometry on a shared time axis, depth, service colors, and each span's
attributes and events made ready to print (the page stays free of inline styles: bars are SVG rects)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from scrywatch.models.logs import LogEvent
from scrywatch.models.traces import SpanView, TraceDetail

AXIS_UNITS = 1000.0  # the SVG viewBox width of every bar row
MIN_BAR_UNITS = 2.0  # so that a zero-length span still shows
MAX_DEPTH = 16  # deeper spans are indented as much as this (CSS classes wf-d0..wf-d16)
COLORS = 10  # service color classes svc-0..svc-9
TICKS = 4  # axis divisions
MAX_VALUE_CHARS = 4000


@dataclass(frozen=True)
class SpanEvent:
    name: str
    at_ms: float | None  # after the trace start
    attributes: list[tuple[str, str]]


@dataclass(frozen=True)
class Row:
    span: SpanView
    x: float
    width: float
    depth: int  # capped at MAX_DEPTH
    color: int
    has_children: bool
    attributes: list[tuple[str, str]]
    resource: list[tuple[str, str]]
    events: list[SpanEvent]
    log_count: int


@dataclass(frozen=True)
class Waterfall:
    rows: list[Row]
    total_ms: float
    ticks: list[float]  # ms at each axis division, TICKS + 1 of them
    legend: list[tuple[str, int]]  # (service, color) in order of appearance
    axis: list[str]  # the ticks' labels: numbers, the unit only on the last (so that they fit a quarter each)


def text_of(value: Any) -> str:
    """An attribute value as text: strings as they are, anything else as JSON."""
    text = value if isinstance(value, str) else msgspec.json.encode(value).decode()
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"


def pairs(values: dict[str, Any] | None) -> list[tuple[str, str]]:
    return sorted((str(k), text_of(v)) for k, v in (values or {}).items())


def _event(raw: dict[str, Any], start_ms: int) -> SpanEvent:
    at = raw.get("timestamp")
    rest = {k: v for k, v in raw.items() if k not in ("name", "timestamp", "attributes")}
    attrs = raw.get("attributes")
    values = {**(attrs if isinstance(attrs, dict) else {}), **rest}
    at_ms = float(at) - start_ms if isinstance(at, int | float) and not isinstance(at, bool) else None
    return SpanEvent(name=str(raw.get("name") or "event"), at_ms=at_ms, attributes=pairs(values))


def _number(value: float) -> str:
    """Three significant digits at most (two decimals at most), without trailing zeros: 0, 2.5, 12.5, 150."""
    text = f"{value:.{0 if value >= 100 else 1 if value >= 10 else 2}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def axis_labels(ticks: list[float]) -> list[str]:
    """Labels of the axis ticks in one unit chosen by the total (ms, s or min)."""
    total = ticks[-1] if ticks else 0.0
    unit, size = ("ms", 1.0) if total < 1000 else ("s", 1000.0) if total < 600_000 else ("min", 60_000.0)
    labels = [_number(t / size) for t in ticks]
    return [*labels[:-1], f"{labels[-1]} {unit}"] if labels else []


def colors_for(services: list[str]) -> dict[str, int]:
    """A color per service, distinct for the first COLORS, in the order given."""
    out: dict[str, int] = {}
    for name in services:
        if name not in out:
            out[name] = len(out) % COLORS
    return out


def build(detail: TraceDetail, logs: list[LogEvent], *, colors: dict[str, int] | None = None) -> Waterfall:
    """Geometry and printable details for every span of a trace (spans come in waterfall order);
    `colors`: the project's service colors (services missing from it get the next ones)."""
    spans = detail.spans
    total = max([detail.trace.duration_ms, *(s.offset_ms + s.duration_ms for s in spans)]) or 0.0
    scale = AXIS_UNITS / total if total > 0 else 0.0
    colors = colors_for([*(colors or {}), *(s.service for s in spans)])
    parents = {s.parent_span_id for s in spans if s.parent_span_id}
    per_span: dict[str, int] = {}
    for e in logs:
        if e.span_id:
            per_span[e.span_id] = per_span.get(e.span_id, 0) + 1
    start_ms = min([detail.trace.start_time, *(s.start_time for s in spans)])
    rows = []
    for s in spans:
        x = min(s.offset_ms * scale, AXIS_UNITS - MIN_BAR_UNITS)
        width = max(min(s.duration_ms * scale, AXIS_UNITS - x), MIN_BAR_UNITS)
        rows.append(Row(span=s, x=round(x, 2), width=round(width, 2), depth=min(s.depth, MAX_DEPTH),
                        color=colors[s.service], has_children=s.id in parents, attributes=pairs(s.attributes),
                        resource=pairs(s.resource), events=[_event(e, start_ms) for e in s.events],
                        log_count=per_span.get(s.id, 0)))
    ticks = [total * i / TICKS for i in range(TICKS + 1)]
    seen = dict.fromkeys(s.service for s in spans)  # this trace's services, in order of appearance
    return Waterfall(rows=rows, total_ms=total, ticks=ticks, legend=[(name, colors[name]) for name in seen],
                     axis=axis_labels(ticks))
