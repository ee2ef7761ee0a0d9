"""Settings → Profile: your name and your password."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.errors import InvalidInput
from scrywatch.models.accounts import ProfileUpdate
from scrywatch.services import accounts
from scrywatch.web.auth import session_token
from scrywatch.web.dashboard.forms import submitted_form, to_struct
from scrywatch.web.dashboard.frame import load_frame, perform, render_page, signed_in


@signed_in
async def profile_page(request: Request) -> Response:
    frame = await load_frame(request)
    return render_page(request, "settings/profile.html", frame=frame, section="settings",
                       route="dash.settings.profile")


@signed_in
async def update_profile(request: Request) -> Response:
    frame = await load_frame(request)
    form = await submitted_form(request)

    async def run() -> str:
        body = to_struct(form, ProfileUpdate, "name")
        if body.name is None:
            raise InvalidInput("must not be blank", field="name")
        await accounts.update_profile(frame.rt, frame.principal, body, session_token=session_token(request))
        return "Profile saved."

    return await perform(frame.url(request, "dash.settings.profile"), run)


@signed_in
async def change_password(request: Request) -> Response:
    frame = await load_frame(request)
    form = await submitted_form(request)

    async def run() -> str:
        if form.get("password", "") != form.get("password_confirm", ""):
            raise InvalidInput("the two new passwords differ", field="password_confirm")
        body = to_struct(form, ProfileUpdate, "password", "current_password")
        if body.password is None:
            raise InvalidInput("is required", field="password")
        await accounts.update_profile(frame.rt, frame.principal, body, session_token=session_token(request))
        return "Password changed. Your other sessions were signed out."

    return await perform(frame.url(request, "dash.settings.profile"), run)
