"""Settings → Danger zone: purge the project's hot log events (typed confirmation)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.errors import InvalidInput
from scrywatch.services.logs import purge_logs
from scrywatch.web.dashboard.forms import submitted_form
from scrywatch.web.dashboard.frame import load_frame, perform, render_page, signed_in


@signed_in
async def danger_page(request: Request) -> Response:
    frame = await load_frame(request)
    return render_page(request, "settings/danger.html", frame=frame, section="settings",
                       route="dash.settings.danger")


@signed_in
async def purge(request: Request) -> Response:
    frame = await load_frame(request)
    form = await submitted_form(request)

    async def run() -> str:
        assert frame.access is not None
        if form.get("confirm", "").strip() != frame.project.slug:
            raise InvalidInput(f"type {frame.project.slug} to confirm the purge", field="confirm")
        deleted = await purge_logs(frame.rt, frame.access)
        return f"Purged {deleted:,} log events from {frame.project.name}. The archive is untouched."

    return await perform(frame.url(request, "dash.settings.danger"), run)
