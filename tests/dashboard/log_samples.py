"""Template contexts for the log pages (Log Explorer, event, patterns, sessions): test_templates.SAMPLES
includes LOG_SAMPLES. Built from the real view helpers, so the templates see what the handlers give them."""

from __future__ import annotations

from collections import Counter
from typing import Any

import msgspec

from scrywatch import querylang
from scrywatch.errors import InvalidInput
from scrywatch.models.lenses import LENS_COLORS, Lens
from scrywatch.models.logs import LogEvent, LogPage, LogQuery
from scrywatch.models.logs_meta import FacetValue, Pattern, SessionSummary
from scrywatch.services.histogram import Histogram, _bars
from scrywatch.web.dashboard import logview, patterns, sessions
from scrywatch.web.dashboard.viewparts import event_context, facet_groups, histogram_chart, lens_items

NOW = 1_767_225_600_000
BASE = "/o/acme/p/default/logs"


def _t() -> Any:
    from tests.dashboard import test_templates  # the shared helpers (signed_in, onboarding); imported late

    return test_templates


def event(text: str, i: int = 0, *, bare: bool = False) -> LogEvent:
    if bare:
        return LogEvent(id=f"01E{i:023d}", timestamp=NOW - i * 1000, level="info", type="custom", message="")
    meta = msgspec.json.encode({"note": text, "n": i, "ok": True, "none": None, "list": [1.5, text]})
    return LogEvent(id=f"01E{i:023d}", timestamp=NOW - i * 1000, level=("error", "warn", "info", "debug", "<b>")[i % 5],
                    type="crash", message=text, service=text, environment=text, user_id=text, session_id=text,
                    device_type="mobile", trace_id=text, span_id="00f067aa0ba902b7",
                    metadata=msgspec.Raw(meta), received_at=NOW)


def view(text: str, *, bare: bool = False) -> logview.View:
    if bare:
        return logview.read({}, now_ms=NOW)
    query = LogQuery(levels=("error",), service=text, not_types=("navigation",), not_services=(text,), user_id=text,
                     q=querylang.quote(text))
    return logview.View(query=query, range="custom", from_ms=NOW - 3_600_000, to_ms=NOW)


def explorer_ctx(text: str, *, bare: bool = False) -> dict[str, Any]:
    t = _t()
    v = view(text, bare=bare)
    events = [] if bare else [event(text, i) for i in range(6)]
    results = LogPage(results=events, total=len(events), total_exact=bare, next_cursor=None if bare else "abc",
                      has_more=not bare)
    counts = {"level": [FacetValue("error", 3), FacetValue(text, 2)],
              "service": [FacetValue(text, 5), FacetValue(None, 1)]}
    counts["type"] = [FacetValue(f"{text}{i}", i) for i in range(12)]
    bars = _bars(Counter({(NOW - 3_600_000, "error"): 3, (NOW - 1_800_000, "info"): 7, (NOW - 60_000, text): 1}),
                 NOW - 3_600_000, NOW, 300_000)
    hist = Histogram(from_ms=NOW - 3_600_000, to_ms=NOW, bucket_ms=300_000, bars=[] if bare else bars,
                     total=0 if bare else 11, max_total=0 if bare else 7, exact=bare,
                     levels=[] if bare else ["error", "info", text])
    saved = [] if bare else [Lens(id=f"l{i}", name=text, filters=msgspec.json.encode(v.lens_filters()).decode()
                                  if i == 0 else '{"level": "error", "odd": [1]}', color=c, sort_order=i,
                                  created_at=NOW, updated_at=NOW) for i, c in enumerate(LENS_COLORS)]
    error = None if bare else InvalidInput(text, field="q")
    return {**t.signed_in(text, bare=bare), "section": "logs", "view": logview.View(
        query=v.query, range=v.range, from_ms=v.from_ms, to_ms=v.to_ms, error=error, raw_text=text) if error else v,
        "base": BASE, "cursor": None if bare else "abc", "ranges": logview.RANGES,
        "lenses": lens_items(saved, v, BASE, now_ms=NOW), "lens_colors": LENS_COLORS, "results": results,
        "facets": facet_groups(counts, v, BASE), "facets_exact": bare, "chart": histogram_chart(hist, v, BASE),
        "onboarding": None}


def onboarding_explorer(text: str, *, bare: bool = False) -> dict[str, Any]:
    ctx = explorer_ctx(text, bare=True)
    return {**ctx, **_t().onboarding(text, bare=bare)} if not bare else ctx


def event_ctx(text: str, *, bare: bool = False) -> dict[str, Any]:
    v = view(text, bare=bare)
    return {**_t().signed_in(text, bare=bare), "section": "logs",
            **event_context(event(text, 1, bare=bare), v, base=BASE, traces="/o/acme/p/default/traces")}


def patterns_ctx(text: str, *, bare: bool = False) -> dict[str, Any]:
    v = view(text, bare=bare)
    items = []
    for i, level in enumerate(("error", "warn", text)):
        p = Pattern(pattern=f"{text} {{num}} {text}", level=level, type="crash", count=i + 1, sample=text,
                    services=[text] * (7 if i else 1), first_seen=NOW - i * 7_200_000, last_seen=NOW, hash="h")
        points, area = patterns.sparkline([0, i, 3, 1] if i else [])
        items.append(patterns.PatternItem(p, v.href(BASE, patterns.pattern_query(v.query, p)), i == 0, points, area, 3))
    return {**_t().signed_in(text, bare=bare), "section": "patterns", "view": v, "base": "/o/acme/p/default/patterns",
            "explorer": BASE, "ranges": logview.RANGES, "items": [] if bare else items, "sampled": 0 if bare else 42,
            "exact": bare, "onboarding": None, "spark_w": patterns.SPARK_W, "spark_h": patterns.SPARK_H,
            "sample_limit": 5000}


def sessions_ctx(text: str, *, bare: bool = False) -> dict[str, Any]:
    rows = [SessionSummary(session_id=text, event_count=9, first_event=NOW - 60_000, last_event=NOW,
                           error_count=e, warn_count=w, crash_count=c) for e, w, c in ((1, 0, 0), (0, 2, 0), (0, 0, 1),
                                                                                       (0, 0, 0))]
    items = [sessions.SessionItem(s, "/o/acme/p/default/sessions/x", sessions.severity(s.error_count, s.warn_count,
                                                                                          s.crash_count)) for s in rows]
    return {**_t().signed_in(text, bare=bare), "section": "sessions", "items": [] if bare else items,
            "environment": "" if bare else text, "offset": 0, "base": "/o/acme/p/default/sessions",
            "prev_href": None if bare else "/x?offset=0", "next_href": None if bare else "/x?offset=100",
            "onboarding": None}


def timeline_ctx(text: str, *, bare: bool = False) -> dict[str, Any]:
    events = [event(text, i, bare=bare) for i in range(1 if bare else 5)][::-1]
    start = events[0].timestamp
    return {**_t().signed_in(text, bare=bare), "section": "sessions", "session_id": text, "events": events,
            "truncated": not bare, "total": len(events), "view": view(text, bare=bare), "explorer": BASE,
            "start_ms": start, "offsets": [sessions.offset_label(e.timestamp - start) for e in events],
            "counts": {"error": 1, "warn": 0, "crash": 0 if bare else 5}, "severity": "error",
            "users": [] if bare else [text]}


LOG_SAMPLES: dict[str, Any] = {
    "logs/explorer.html": explorer_ctx,
    "logs/_search.html": explorer_ctx,
    "logs/_histogram.html": explorer_ctx,
    "logs/_facets.html": explorer_ctx,
    "logs/_rows.html": explorer_ctx,
    "logs/_lensbar.html": explorer_ctx,
    "logs/_palette.html": explorer_ctx,
    "logs/_drawer.html": explorer_ctx,
    "logs/_event.html": event_ctx,
    "logs/event.html": event_ctx,
    "patterns/list.html": patterns_ctx,
    "sessions/list.html": sessions_ctx,
    "sessions/timeline.html": timeline_ctx,
}
ONBOARDING_SAMPLE = onboarding_explorer
