"""/services, /device-types, /environments, /facets, /patterns, /stats, /sessions, /settings/purge-logs."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.models.accounts import Scope
from scrywatch.services import logs
from scrywatch.web.auth import project, runtime
from scrywatch.web.codec import encode


async def list_services(request: Request) -> Response:
    access = await project(request, Scope.READ)
    return encode(await logs.distinct_values(runtime(request), access, "services"))


async def list_device_types(request: Request) -> Response:
    access = await project(request, Scope.READ)
    return encode(await logs.distinct_values(runtime(request), access, "device_types"))


async def list_environments(request: Request) -> Response:
    access = await project(request, Scope.READ)
    return encode(await logs.distinct_values(runtime(request), access, "environments"))


async def get_facets(request: Request) -> Response:
    access = await project(request, Scope.READ)
    return encode(await logs.facets(runtime(request), access, request.query_params))


async def list_patterns(request: Request) -> Response:
    access = await project(request, Scope.READ)
    return encode(await logs.patterns(runtime(request), access, request.query_params))


async def get_stats(request: Request) -> Response:
    access = await project(request, Scope.READ)
    return encode(await logs.stats(runtime(request), access, request.query_params))


async def list_sessions(request: Request) -> Response:
    access = await project(request, Scope.READ)
    return encode(await logs.sessions(runtime(request), access, request.query_params))


async def purge_logs(request: Request) -> Response:
    access = await project(request, Scope.READ)
    return encode({"deleted": await logs.purge_logs(runtime(request), access)})
