"""Patterns: recurring messages of the current filters and range, with counts, a sparkline each,
first and last seen, a "new" badge, and a link to the matching events in the Log Explorer.

"New" is judged against the time before it, not only against the range shown: a pattern is new when
it was first seen within the last hour and does not occur in the NEW_LOOKBACK_MS before that hour
(with the same filters). Otherwise a short range (or a busy project, whose newest sample spans
minutes) would call every pattern new.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from msgspec.structs import replace
from starlette.requests import Request
from starlette.responses import Response

from scrywatch import querylang
from scrywatch.models.logs import LogQuery
from scrywatch.models.logs_meta import Pattern
from scrywatch.services import histogram
from scrywatch.web.dashboard import logview, onboarding
from scrywatch.web.dashboard.frame import load_frame, render_page, signed_in

PATTERN_LIMIT = 50
PATTERN_SAMPLE = 5_000
NEW_WITHIN_MS = 3_600_000  # first seen within the last hour (as /insights/patterns' is_new)
NEW_LOOKBACK_MS = 24 * 3_600_000  # ... and absent from the day before that hour
SPARK_W, SPARK_H = 120, 28
_PLACEHOLDER = re.compile(r"\{(?:str|email|uuid|ip|hex|num|id)\}")
_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class PatternItem:
    pattern: Pattern
    href: str
    is_new: bool
    spark: str  # SVG polyline points
    spark_area: str  # the same line closed along the bottom
    peak: int


def pattern_query(query: LogQuery, p: Pattern) -> LogQuery:
    """The explorer query for a pattern: its level and type, and its literal parts as phrases."""
    phrases = [querylang.quote(part.strip()) for part in _PLACEHOLDER.split(p.pattern) if _WORD.search(part)]
    text = " ".join(t for t in (query.q, *phrases) if t) or None
    return replace(query, levels=(p.level,), types=(p.type,), q=text)


def sparkline(values: list[int]) -> tuple[str, str]:
    """(points, closed area) of a line through values, in a SPARK_W x SPARK_H box."""
    top = max(values, default=0) or 1
    step = SPARK_W / max(1, len(values) - 1)
    pts = [f"{i * step:.1f},{SPARK_H - 2 - v / top * (SPARK_H - 4):.1f}" for i, v in enumerate(values)]
    return " ".join(pts), f"0,{SPARK_H} {' '.join(pts)} {SPARK_W},{SPARK_H}"


@signed_in
async def patterns_page(request: Request) -> Response:
    frame = await load_frame(request)
    assert frame.access is not None
    rt = frame.rt
    now = rt.clock.now_ms()
    view = logview.read(request.query_params, now_ms=now)
    explorer = frame.url(request, "dash.logs")
    ctx: dict[str, Any] = {"view": view, "base": frame.url(request, "dash.patterns"), "explorer": explorer,
                           "ranges": logview.RANGES, "items": [], "sampled": 0, "exact": True, "onboarding": None,
                           "spark_w": SPARK_W, "spark_h": SPARK_H, "sample_limit": PATTERN_SAMPLE}
    if view.error is None:
        found = await histogram.patterns_over_time(rt, frame.access, view.timed, limit=PATTERN_LIMIT,
                                                   sample=PATTERN_SAMPLE)
        recent = {(r.pattern.pattern, r.pattern.level, r.pattern.type) for r in found.rows
                  if now - r.pattern.first_seen < NEW_WITHIN_MS}
        older = await histogram.seen_before(rt, frame.access, view.query, recent, before_ms=now - NEW_WITHIN_MS,
                                            lookback_ms=NEW_LOOKBACK_MS, sample=PATTERN_SAMPLE)
        items = []
        for row in found.rows:
            points, area = sparkline(row.spark)
            p = row.pattern
            key = (p.pattern, p.level, p.type)
            items.append(PatternItem(p, view.href(explorer, pattern_query(view.query, p)),
                                     key in recent and key not in older, points, area, max(row.spark)))
        ctx.update(items=items, sampled=found.sampled, exact=found.exact)
        if not items and view.is_plain and not await histogram.has_events(rt, frame.access):
            ctx.update(await onboarding.context(request, frame))
    return render_page(request, "patterns/list.html", ctx, frame=frame, section="patterns", route="dash.patterns",
                       status=400 if view.error is not None else 200)
