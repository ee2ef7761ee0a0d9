"""Sessions: the list with counts and severity, and one session's events as a timeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.errors import NotFound
from scrywatch.models.logs import MAX_PAGE, LogEvent, LogQuery, Page
from scrywatch.models.logs_meta import SessionSummary
from scrywatch.services import histogram, logs, search
from scrywatch.web.dashboard import logview, onboarding
from scrywatch.web.dashboard.frame import load_frame, render_page, signed_in

SESSIONS_PER_PAGE = 50
TIMELINE_MAX = 1_000  # the newest events of a longer session; the explorer lists them all
TIMELINE_RANGE = "7d"


@dataclass(frozen=True)
class SessionItem:
    s: SessionSummary
    href: str
    severity: str  # "crash", "error", "warn" or "ok"


def offset_label(ms: int) -> str:
    """Time since the session's first event: +0.250s, +12.5s, +3m 05s, +2h 10m."""
    if ms < 60_000:
        return f"+{ms / 1000:.3f}s" if ms < 10_000 else f"+{ms / 1000:.1f}s"
    minutes, seconds = divmod(ms // 1000, 60)
    if minutes < 60:
        return f"+{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"+{hours}h {minutes:02d}m"


def severity(errors: int, warns: int, crashes: int) -> str:
    return "crash" if crashes else "error" if errors else "warn" if warns else "ok"


@signed_in
async def sessions_page(request: Request) -> Response:
    frame = await load_frame(request)
    assert frame.access is not None
    params = request.query_params
    found = await logs.sessions(frame.rt, frame.access, {**params, "limit": str(SESSIONS_PER_PAGE)})
    offset = int(params.get("offset") or 0)
    environment = (params.get("environment") or "").strip()
    base = frame.url(request, "dash.sessions")

    def page_href(at: int) -> str:
        q = {k: v for k, v in (("environment", environment), ("offset", str(at) if at else "")) if v}
        return f"{base}?{urlencode(q)}" if q else base

    items = [SessionItem(s, frame.url(request, "dash.sessions.timeline", session_id=s.session_id),
                         severity(s.error_count, s.warn_count, s.crash_count)) for s in found.sessions]
    ctx: dict[str, Any] = {
        "items": items, "environment": environment, "offset": offset, "base": base, "onboarding": None,
        "prev_href": page_href(max(0, offset - SESSIONS_PER_PAGE)) if offset else None,
        "next_href": page_href(offset + SESSIONS_PER_PAGE) if found.has_more else None,
    }
    if not items and not offset and not environment and not await histogram.has_events(frame.rt, frame.access):
        ctx.update(await onboarding.context(request, frame))
    return render_page(request, "sessions/list.html", ctx, frame=frame, section="sessions", route="dash.sessions")


@signed_in
async def session_page(request: Request) -> Response:
    """A session's events, oldest first (its newest TIMELINE_MAX when longer)."""
    frame = await load_frame(request)
    assert frame.access is not None
    session_id = request.path_params["session_id"]
    query = LogQuery(session_id=session_id)
    events: list[LogEvent] = []
    cursor, more, total = None, True, 0
    while more and len(events) < TIMELINE_MAX:
        page = await search.search_logs(frame.rt, frame.access, query, Page(limit=MAX_PAGE, cursor=cursor))
        total = total or page.total
        events += page.results
        more, cursor = page.has_more, page.next_cursor
    if not events:
        raise NotFound("session not found (its events may have left the hot store)")
    events.reverse()
    now = frame.rt.clock.now_ms()
    view = logview.View(query=query, range=TIMELINE_RANGE, from_ms=now - logview.RANGES[TIMELINE_RANGE][1], to_ms=now)
    ctx = {
        "session_id": session_id, "events": events, "truncated": more, "total": total, "view": view,
        "explorer": view.href(frame.url(request, "dash.logs")), "start_ms": events[0].timestamp,
        "offsets": [offset_label(e.timestamp - events[0].timestamp) for e in events],
        "counts": {"error": sum(e.level == "error" for e in events), "warn": sum(e.level == "warn" for e in events),
                   "crash": sum(e.type == "crash" for e in events)},
        "users": sorted({e.user_id for e in events if e.user_id}),
    }
    ctx["severity"] = severity(ctx["counts"]["error"], ctx["counts"]["warn"], ctx["counts"]["crash"])
    return render_page(request, "sessions/timeline.html", ctx, frame=frame, section="sessions",
                       route="dash.sessions")
