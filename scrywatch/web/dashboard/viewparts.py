"""What the Log Explorer's templates draw, prepared in Python: facet lists with their links, the
histogram's bars in SVG units, lens pills, an event's fields and its metadata as coloured JSON."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import msgspec

from scrywatch.models.lenses import Lens
from scrywatch.models.logs import LogEvent, LogQuery
from scrywatch.models.logs_meta import FacetValue
from scrywatch.services.histogram import Histogram
from scrywatch.web.dashboard import logview
from scrywatch.web.dashboard.logview import FACETS, View
from scrywatch.web.templating import short_time

FACET_SHOWN = 8  # values shown before "more"
CHART_W = 1000  # SVG user units; the chart scales to its box (preserveAspectRatio="none")
CHART_H = 100
BAR_GAP = 0.18  # share of a slot left empty between bars
_JSON_TOKEN = re.compile(r'("(?:\\.|[^"\\])*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b')


# -- facets --------------------------------------------------------------------------------
@dataclass(frozen=True)
class FacetItem:
    value: str | None
    count: int
    state: str  # "on", "excluded" or ""
    include_href: str  # require it (or, when on, stop requiring it)
    exclude_href: str  # exclude it (or, when excluded, stop excluding it)


@dataclass(frozen=True)
class FacetGroup:
    name: str
    label: str
    text_name: str
    items: list[FacetItem]
    shown: int


def facet_groups(counts: dict[str, list[FacetValue]], view: View, base: str) -> list[FacetGroup]:
    groups = []
    for name, ex_attr, text_name, label in FACETS:
        items: list[FacetItem] = []
        listed = set()
        for fv in counts.get(name, []):
            listed.add(fv.value)
            items.append(_item(view, base, name, fv.value, fv.count))
        for value in getattr(view.query, ex_attr):  # excluded values count 0 but stay listed, to undo
            if value not in listed:
                items.append(_item(view, base, name, value, 0))
        # Values the query requires come first, so they stay in sight.
        items.sort(key=lambda i: i.state != "on")
        groups.append(FacetGroup(name, label, text_name, items, max(FACET_SHOWN, sum(i.state == "on" for i in items))))
    return groups


def _item(view: View, base: str, name: str, value: str | None, count: int) -> FacetItem:
    if value is None:  # events without the field: counted, not filterable
        return FacetItem(None, count, "", "", "")
    state = view.state(name, value)
    include = view.without(name, value) if state == "on" else view.include(name, value)
    exclude = view.without(name, value, negated=True) if state == "excluded" else view.exclude(name, value)
    return FacetItem(value, count, state, view.href(base, include), view.href(base, exclude))


# -- histogram -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ChartBar:
    x: float
    w: float
    href: str
    label: str  # tooltip: when and how many
    stacks: list[tuple[str, float, float]]  # (level, y, height), bottom first
    start_ms: int
    end_ms: int


def histogram_chart(hist: Histogram, view: View, base: str) -> dict[str, Any]:
    """Bars with stacked levels in a CHART_W x CHART_H box; each bar links to its own time span."""
    slot = CHART_W / max(1, len(hist.bars))
    top = max(1, hist.max_total)
    bars = []
    for i, bar in enumerate(hist.bars):
        y = float(CHART_H)
        stacks = []
        for level in hist.levels:
            n = bar.counts.get(level, 0)
            if n:
                h = max(1.0, n / top * CHART_H)
                y -= h
                stacks.append((level, round(y, 2), round(h, 2)))
        parts = ", ".join(f"{bar.counts[lv]:,} {lv}" for lv in hist.levels if bar.counts.get(lv))
        label = f"{short_time(bar.start_ms)} – {short_time(bar.end_ms)}: {bar.total:,} events" + (
            f" ({parts})" if parts else "")
        bars.append(ChartBar(round(i * slot + slot * BAR_GAP / 2, 2), round(slot * (1 - BAR_GAP), 2),
                             view.href(base, view.query, **{"from": str(bar.start_ms), "to": str(bar.end_ms)}),
                             label, stacks, bar.start_ms, bar.end_ms))
    ticks = [hist.bars[i] for i in sorted({0, len(hist.bars) // 2, len(hist.bars) - 1})] if hist.bars else []
    return {"hist": hist, "bars": bars, "w": CHART_W, "h": CHART_H, "bucket_label": duration_label(hist.bucket_ms),
            "ticks": [(round(hist.bars.index(b) * slot, 2), b.start_ms) for b in ticks]}


def duration_label(ms: int) -> str:
    """60000 -> '1 min', 7200000 -> '2 h', 86400000 -> '1 d'."""
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1000)):
        if ms >= size and ms % size == 0:
            return f"{ms // size} {unit}"
    return f"{ms} ms"


# -- lenses --------------------------------------------------------------------------------
@dataclass(frozen=True)
class LensItem:
    lens: Lens
    href: str
    active: bool
    first: bool
    last: bool


def lens_filters(lens: Lens) -> dict[str, Any]:
    try:
        value = msgspec.json.decode(lens.filters)
    except msgspec.DecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def lens_items(saved: list[Lens], view: View, base: str, *, now_ms: int) -> list[LensItem]:
    out = []
    for i, lens in enumerate(saved):
        filters = lens_filters(lens)
        applied = logview.read({str(k): str(v) for k, v in filters.items() if v is not None}, now_ms=now_ms)
        active = (view.error is None and applied.error is None and applied.query == view.query
                  and applied.range == view.range
                  and (not view.is_custom or (applied.from_ms, applied.to_ms) == (view.from_ms, view.to_ms)))
        out.append(LensItem(lens, logview.lens_href(base, filters), active, i == 0, i == len(saved) - 1))
    return out


# -- an event ------------------------------------------------------------------------------
def json_tokens(raw: bytes) -> list[tuple[str, str]]:
    """Pretty JSON as (css class, text) pieces: k key, s string, n number, b true/false/null, '' other."""
    text = msgspec.json.format(raw, indent=2).decode()
    out: list[tuple[str, str]] = []
    pos = 0
    for m in _JSON_TOKEN.finditer(text):
        if m.start() > pos:
            out.append(("", text[pos:m.start()]))
        if m.group(1) is not None:
            out.append(("k" if m.group(2) else "s", m.group(1)))
            if m.group(2):
                out.append(("", m.group(2)))
        else:
            out.append(("n" if m.group(3) is not None else "b", m.group()))
        pos = m.end()
    out.append(("", text[pos:]))
    return out


FIELD_ORDER = ("id", "timestamp", "level", "type", "service", "environment", "device_type", "user_id", "session_id",
               "trace_id", "span_id", "received_at")


def event_context(event: LogEvent, view: View, *, base: str, traces: str) -> dict[str, Any]:
    """The drawer's fields and links: same session, same user, the trace."""
    fields = [(name, getattr(event, name)) for name in FIELD_ORDER if getattr(event, name) not in (None, "")]
    links = []
    if event.session_id:
        links.append(("Same session", "sessions", view.href(base, LogQuery(session_id=event.session_id))))
    if event.user_id:
        links.append(("Same user", "user", view.href(base, LogQuery(user_id=event.user_id))))
    if event.trace_id:
        links.append(("View trace", "traces", f"{traces}/{quote(event.trace_id, safe='')}"))
        links.append(("Logs of this trace", "logs", view.href(base, LogQuery(trace_id=event.trace_id))))
    has_meta = bytes(event.metadata) not in (b"", b"null")
    return {"event": event, "fields": fields, "links": links, "view": view, "base": base,
            "meta": json_tokens(event.metadata) if has_meta else None,
            "meta_text": msgspec.json.format(event.metadata, indent=2).decode() if has_meta else ""}
