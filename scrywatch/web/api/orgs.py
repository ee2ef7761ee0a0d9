"""/api/orgs/:org/members and /api/orgs/:org/projects."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.models.accounts import InviteIn, ProjectCreate, ProjectUpdate, RoleUpdate
from scrywatch.services import orgs
from scrywatch.web.auth import principal, runtime
from scrywatch.web.codec import encode, read_body


def _project_out(p: object) -> dict[str, object]:
    return {"id": p.id, "name": p.name, "slug": p.slug}  # type: ignore[attr-defined]


async def list_members(request: Request) -> Response:
    members = await orgs.list_members(runtime(request), await principal(request), request.path_params["org"])
    return encode({"members": members})


async def invite_member(request: Request) -> Response:
    who = await principal(request)
    body = await read_body(request, InviteIn)
    result = await orgs.invite_member(runtime(request), who, request.path_params["org"], body)
    return encode(result, status=201)


async def update_member(request: Request) -> Response:
    who = await principal(request)
    body = await read_body(request, RoleUpdate)
    p = request.path_params
    await orgs.change_role(runtime(request), who, p["org"], p["user_id"], body)
    return encode({"success": True, "user_id": p["user_id"], "role": body.role})


async def remove_member(request: Request) -> Response:
    who = await principal(request)
    p = request.path_params
    await orgs.remove_member(runtime(request), who, p["org"], p["user_id"])
    return encode({"success": True})


async def reset_password(request: Request) -> Response:
    who = await principal(request)
    p = request.path_params
    password = await orgs.reset_password(runtime(request), who, p["org"], p["user_id"])
    return encode({"temp_password": password})


async def list_projects(request: Request) -> Response:
    projects = await orgs.list_projects(runtime(request), await principal(request), request.path_params["org"])
    return encode({"projects": [_project_out(p) for p in projects]})


async def create_project(request: Request) -> Response:
    who = await principal(request)
    body = await read_body(request, ProjectCreate)
    project = await orgs.create_project(runtime(request), who, request.path_params["org"], body)
    return encode(_project_out(project), status=201)


async def update_project(request: Request) -> Response:
    who = await principal(request)
    body = await read_body(request, ProjectUpdate)
    p = request.path_params
    project = await orgs.rename_project(runtime(request), who, p["org"], p["project"], body)
    return encode(_project_out(project))


async def delete_project(request: Request) -> Response:
    who = await principal(request)
    p = request.path_params
    await orgs.delete_project(runtime(request), who, p["org"], p["project"])
    return encode({"success": True})
