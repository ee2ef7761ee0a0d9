"""The Log Explorer (the project's home page) and an event's details.

The first page of results, the facets and the histogram are rendered on the server, so results
show without JavaScript. Scripts ask the same URLs for fragments (header `X-SW-Fragment`): more
rows after a cursor, and an event's details for the drawer.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.errors import InvalidInput
from scrywatch.models.lenses import LENS_COLORS
from scrywatch.models.logs import Page
from scrywatch.services import histogram, lenses, search
from scrywatch.services.logs import FACET_SCAN_CAP
from scrywatch.web.dashboard import logview, onboarding
from scrywatch.web.dashboard.frame import Frame, frame_context, load_frame, render_page, signed_in
from scrywatch.web.dashboard.viewparts import event_context, facet_groups, histogram_chart, lens_items
from scrywatch.web.templating import render

PAGE_SIZE = 50
FRAGMENT_HEADER = "x-sw-fragment"


def render_fragment(request: Request, template: str, context: dict[str, Any], *, frame: Frame,
                    status: int = 200) -> Response:
    """A piece of a page for scripts: no layout, no flash taken, never cached."""
    ctx = {**frame_context(frame), "now_ms": frame.rt.clock.now_ms(), **context}
    return render(request, template, ctx, status=status, headers={"Cache-Control": "no-store"})


@signed_in
async def logs_page(request: Request) -> Response:
    frame = await load_frame(request)
    rt, access = frame.rt, frame.access
    assert access is not None
    view = logview.read(request.query_params, now_ms=rt.clock.now_ms())
    base = frame.url(request, "dash.logs")
    cursor = (request.query_params.get("cursor") or "").strip() or None
    if request.headers.get(FRAGMENT_HEADER) == "rows":
        if view.error is not None:
            raise view.error
        results = await search.search_logs(rt, access, view.timed, Page(limit=PAGE_SIZE, cursor=cursor))
        return render_fragment(request, "logs/_rows.html", {"view": view, "base": base, "results": results},
                               frame=frame)
    ctx: dict[str, Any] = {"view": view, "base": base, "cursor": cursor, "ranges": logview.RANGES,
                           "lenses": [], "results": None, "facets": [], "facets_exact": True, "chart": None,
                           "onboarding": None, "lens_colors": LENS_COLORS}
    saved = await lenses.list_lenses(rt, access)
    ctx["lenses"] = lens_items(saved, view, base, now_ms=rt.clock.now_ms())
    if view.error is None:
        try:
            # Facets count a field the query requires without that requirement, so its other values
            # stay visible and clickable (services.histogram.explorer_counts).
            results, (hist, counts, exact) = await asyncio.gather(
                search.search_logs(rt, access, view.timed, Page(limit=PAGE_SIZE, cursor=cursor)),
                histogram.explorer_counts(rt, access, view.timed, facet_cap=FACET_SCAN_CAP))
        except InvalidInput as exc:  # a cursor from elsewhere
            view = dataclasses.replace(view, error=exc, raw_text=view.text)
        else:
            ctx.update(results=results, facets=facet_groups(counts, view, base), facets_exact=exact,
                       chart=histogram_chart(hist, view, base))
            if not results.results and view.is_plain and cursor is None and not await histogram.has_events(rt, access):
                ctx.update(await onboarding.context(request, frame))
    ctx["view"] = view
    return render_page(request, "logs/explorer.html", ctx, frame=frame, section="logs", route="dash.logs",
                       status=400 if view.error is not None else 200)


@signed_in
async def event_page(request: Request) -> Response:
    """One event with every field: a page of its own, or the drawer's body for scripts."""
    frame = await load_frame(request)
    assert frame.access is not None
    event = await search.get_log(frame.rt, frame.access, request.path_params["event_id"])
    view = logview.read(request.query_params, now_ms=frame.rt.clock.now_ms())
    if view.error is not None:
        view = logview.read({}, now_ms=frame.rt.clock.now_ms())
    ctx = event_context(event, view, base=frame.url(request, "dash.logs"),
                        traces=frame.url(request, "dash.traces"))
    if request.headers.get(FRAGMENT_HEADER) == "event":
        return render_fragment(request, "logs/_event.html", ctx, frame=frame)
    return render_page(request, "logs/event.html", ctx, frame=frame, section="logs", route="dash.logs")

