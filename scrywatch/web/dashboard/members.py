"""Settings → Members of the organization: invite (temporary password shown once), change role,
remove, reset password."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.models.accounts import InviteIn, RoleUpdate
from scrywatch.services import orgs
from scrywatch.web.dashboard.forms import submitted_form, to_struct
from scrywatch.web.dashboard.frame import Frame, load_frame, perform, render_page, signed_in

ROLES = (("member", "Member"), ("admin", "Admin"), ("owner", "Owner"))


async def _page(request: Request, frame: Frame, *, secret: dict[str, Any] | None = None) -> Response:
    members = await orgs.list_members(frame.rt, frame.principal, frame.org.slug)
    return render_page(request, "settings/members.html",
                       {"members": members, "roles": ROLES, "secret": secret},
                       frame=frame, section="settings", route="dash.settings.members")


def _back(request: Request, frame: Frame) -> str:
    return frame.url(request, "dash.settings.members")


async def _member_name(frame: Frame, user_id: str) -> str:
    for m in await orgs.list_members(frame.rt, frame.principal, frame.org.slug):
        if m.user_id == user_id:
            return m.name or m.email
    return "The member"


@signed_in
async def members_page(request: Request) -> Response:
    return await _page(request, await load_frame(request))


@signed_in
async def invite_member(request: Request) -> Response:
    frame = await load_frame(request)
    form = await submitted_form(request)

    async def run() -> str | Response:
        body = to_struct(form, InviteIn, "email", "name", "role", blank_as_none=True)
        result = await orgs.invite_member(frame.rt, frame.principal, frame.org.slug, body)
        if result.temp_password is None:
            return f"{body.email} already has an account and was added to {frame.org.name}."
        secret = {"kind": "invite", "who": body.email.strip().lower(), "password": result.temp_password}
        return await _page(request, frame, secret=secret)

    return await perform(_back(request, frame), run)


@signed_in
async def change_role(request: Request) -> Response:
    frame = await load_frame(request)
    form = await submitted_form(request)
    user_id = request.path_params["user_id"]

    async def run() -> str:
        body = to_struct(form, RoleUpdate, "role")
        await orgs.change_role(frame.rt, frame.principal, frame.org.slug, user_id, body)
        return f"{await _member_name(frame, user_id)} is now {body.role}."

    return await perform(_back(request, frame), run)


@signed_in
async def remove_member(request: Request) -> Response:
    frame = await load_frame(request)
    await submitted_form(request)
    user_id = request.path_params["user_id"]

    async def run() -> str:
        name = await _member_name(frame, user_id)
        await orgs.remove_member(frame.rt, frame.principal, frame.org.slug, user_id)
        return f"{name} was removed from {frame.org.name}."

    return await perform(_back(request, frame), run)


@signed_in
async def reset_password(request: Request) -> Response:
    frame = await load_frame(request)
    await submitted_form(request)
    user_id = request.path_params["user_id"]

    async def run() -> Response:
        password = await orgs.reset_password(frame.rt, frame.principal, frame.org.slug, user_id)
        secret = {"kind": "reset", "who": await _member_name(frame, user_id), "password": password}
        return await _page(request, frame, secret=secret)

    return await perform(_back(request, frame), run)
