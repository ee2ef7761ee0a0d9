"""Pages that part 2 of the dashboard fills in: each shows what is coming (Logs adds the empty state)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.web.dashboard import onboarding
from scrywatch.web.dashboard.flash import redirect
from scrywatch.web.dashboard.frame import Handler, load_frame, render_page, signed_in

# section -> (title, what the page will do)
COMING: dict[str, tuple[str, str]] = {}


def coming_soon(section: str) -> Handler:
    """A signed-in page for `section` that says what is coming."""
    title, blurb = COMING[section]

    @signed_in
    async def page(request: Request) -> Response:
        frame = await load_frame(request)
        ctx = {"title": title, "blurb": blurb}
        if section == "logs":
            ctx.update(await onboarding.context(request, frame))
        return render_page(request, "placeholders/soon.html", ctx, frame=frame, section=section,
                           route=f"dash.{section}")

    page.__name__ = page.__qualname__ = f"{section}_page"
    return page


@signed_in
async def project_home(request: Request) -> Response:
    """`/o/{org}/p/{project}`: the Log Explorer."""
    frame = await load_frame(request)
    return redirect(frame.url(request, "dash.logs"))


@signed_in
async def settings_home(request: Request) -> Response:
    frame = await load_frame(request)
    return redirect(frame.url(request, "dash.settings.keys"))
