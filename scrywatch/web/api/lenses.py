"""/lenses: saved views, Session or API key."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.models.accounts import Scope
from scrywatch.models.lenses import LensCreate, LensUpdate
from scrywatch.services import lenses
from scrywatch.web.auth import project, runtime
from scrywatch.web.codec import encode, read_body


async def list_lenses(request: Request) -> Response:
    access = await project(request, Scope.READ)
    return encode({"lenses": await lenses.list_lenses(runtime(request), access)})


async def create_lens(request: Request) -> Response:
    access = await project(request, Scope.READ)
    body = await read_body(request, LensCreate)
    return encode(await lenses.create_lens(runtime(request), access, body), status=201)


async def update_lens(request: Request) -> Response:
    access = await project(request, Scope.READ)
    body = await read_body(request, LensUpdate)
    return encode(await lenses.update_lens(runtime(request), access, request.path_params["lens_id"], body))


async def delete_lens(request: Request) -> Response:
    access = await project(request, Scope.READ)
    await lenses.delete_lens(runtime(request), access, request.path_params["lens_id"])
    return encode({"success": True})
