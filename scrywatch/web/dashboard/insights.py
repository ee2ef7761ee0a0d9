"""Insights: generate a summary of a recent window, show the latest, and the persistent patterns
(new ones marked) with a link to their events in the Log Explorer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from msgspec.structs import replace
from starlette.requests import Request
from starlette.responses import Response

from scrywatch.errors import InvalidInput
from scrywatch.models.insights import DEFAULT_SUMMARY_MINUTES, SUMMARY_MINUTES, PersistentPattern, SummaryCreate
from scrywatch.models.logs import LEVELS, LogQuery
from scrywatch.services import insights, logs
from scrywatch.web.dashboard.forms import submitted_form, to_struct
from scrywatch.web.dashboard.frame import load_frame, perform, render_page, signed_in
from scrywatch.web.dashboard.logslink import explorer_href, pattern_query

PATTERN_LIMIT = 100


@dataclass(frozen=True)
class PatternItem:
    pattern: PersistentPattern
    events_href: str  # its events from first to last seen, in the explorer


def pattern_events(p: PersistentPattern) -> LogQuery:
    """The pattern's events, from its first to its last sighting."""
    query = pattern_query(p.normalized_message, level=p.level, service=p.service)
    return replace(query, from_ms=p.first_seen, to_ms=p.last_seen + 1)


@signed_in
async def insights_page(request: Request) -> Response:
    frame = await load_frame(request)
    assert frame.access is not None
    rt, access = frame.rt, frame.access
    level = (request.query_params.get("level") or "").strip()
    service = (request.query_params.get("service") or "").strip()
    error: InvalidInput | None = None
    try:
        found = await insights.list_patterns(rt, access, {"limit": str(PATTERN_LIMIT), "level": level,
                                                          "service": service})
    except InvalidInput as exc:
        found, error = [], exc
    explorer = frame.url(request, "dash.logs")
    items = [PatternItem(p, explorer_href(explorer, pattern_events(p))) for p in found]
    ctx: dict[str, Any] = {
        "summary": await insights.latest_summary(rt, access), "minutes": SUMMARY_MINUTES,
        "default_minutes": DEFAULT_SUMMARY_MINUTES, "items": items, "levels": LEVELS, "level": level,
        "service": service, "services": (await logs.distinct_values(rt, access, "services"))["services"][:200],
        "error": error, "new_count": sum(p.is_new for p in found),
        "explorer": explorer,
    }
    return render_page(request, "insights/page.html", ctx, frame=frame, section="insights", route="dash.insights",
                       status=400 if error else 200)


@signed_in
async def create_summary(request: Request) -> Response:
    """Summarize the chosen window now; the page then shows it as the latest."""
    frame = await load_frame(request)
    form = await submitted_form(request)

    async def run() -> str:
        assert frame.access is not None
        body = to_struct(form, SummaryCreate, "minutes")
        summary = await insights.create_summary(frame.rt, frame.access, body)
        note = " (the built-in summarizer stood in for the language model)" if summary.fallback else ""
        return f"Summary of the last {summary.time_window_minutes} minutes generated{note}."

    return await perform(frame.url(request, "dash.insights"), run)
