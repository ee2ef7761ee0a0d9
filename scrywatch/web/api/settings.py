"""/api/orgs/:org/projects/:project/settings: profile and API keys (session only)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.models.accounts import ApiKeyCreate, ProfileUpdate
from scrywatch.services import accounts, keys
from scrywatch.web.auth import principal, project, runtime, session_token
from scrywatch.web.codec import encode, read_body


async def get_profile(request: Request) -> Response:
    await project(request)
    user = accounts.require_user(await principal(request))
    return encode({"user": user})


async def update_profile(request: Request) -> Response:
    await project(request)
    body = await read_body(request, ProfileUpdate)
    user = await accounts.update_profile(runtime(request), await principal(request), body,
                                         session_token=session_token(request))
    return encode({"user": user})


async def list_keys(request: Request) -> Response:
    access = await project(request)
    return encode({"keys": await keys.list_keys(runtime(request), access)})


async def create_key(request: Request) -> Response:
    access = await project(request)
    body = await read_body(request, ApiKeyCreate)
    user = accounts.require_user(await principal(request))
    return encode(await keys.create_key(runtime(request), access, body, user_id=user.id), status=201)


async def revoke_key(request: Request) -> Response:
    access = await project(request)
    await keys.revoke_key(runtime(request), access, request.path_params["key_id"])
    return encode({"success": True})
