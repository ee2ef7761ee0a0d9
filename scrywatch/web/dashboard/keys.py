"""Settings → API keys: list, create (the key is shown once), revoke."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.models.accounts import ApiKeyCreate
from scrywatch.services import keys
from scrywatch.services.keys import CreatedKey
from scrywatch.web.dashboard.forms import submitted_form, to_struct
from scrywatch.web.dashboard.frame import Frame, load_frame, perform, render_page, signed_in

SCOPES = (
    ("full", "Full", "Send events and read everything. For servers and scripts."),
    ("ingest", "Ingest only", "Send events only. Safe to ship in browser and mobile apps."),
    ("read", "Read only", "Query logs and traces. For dashboards and tooling."),
)


async def _page(request: Request, frame: Frame, *, created: CreatedKey | None = None) -> Response:
    assert frame.access is not None
    items = await keys.list_keys(frame.rt, frame.access)
    return render_page(request, "settings/keys.html", {"keys": items, "scopes": SCOPES, "created": created},
                       frame=frame, section="settings", route="dash.settings.keys",
                       status=201 if created else 200)


@signed_in
async def keys_page(request: Request) -> Response:
    return await _page(request, await load_frame(request))


@signed_in
async def create_key(request: Request) -> Response:
    frame = await load_frame(request)
    form = await submitted_form(request)

    async def run() -> Response:
        assert frame.access is not None
        body = to_struct(form, ApiKeyCreate, "name", "scope", blank_as_none=True)
        created = await keys.create_key(frame.rt, frame.access, body, user_id=frame.user.id)
        return await _page(request, frame, created=created)

    return await perform(frame.url(request, "dash.settings.keys"), run)


@signed_in
async def revoke_key(request: Request) -> Response:
    frame = await load_frame(request)
    await submitted_form(request)

    async def run() -> str:
        assert frame.access is not None
        await keys.revoke_key(frame.rt, frame.access, request.path_params["key_id"])
        return "API key revoked. Requests using it are refused from now on."

    return await perform(frame.url(request, "dash.settings.keys"), run)
