"""POST /api/ingest and the /logs read endpoints."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.models.accounts import Scope
from scrywatch.services import ingest, search
from scrywatch.web.auth import principal, project, runtime
from scrywatch.web.codec import encode, read_bytes


async def post_ingest(request: Request) -> Response:
    rt = runtime(request)
    who = await principal(request)
    ingest.ingest_key(who)  # refuse a wrong principal before reading a large body
    body = await read_bytes(request, max_bytes=rt.config.ingest.max_body_bytes)
    result = await ingest.ingest_body(rt, who, body, user_agent=request.headers.get("user-agent"))
    return encode(result, status=202)


async def list_logs(request: Request) -> Response:
    access = await project(request, Scope.READ)
    query = search.parse_query(request.query_params)
    page = search.parse_page(request.query_params)
    return encode(await search.search_logs(runtime(request), access, query, page))


async def get_log(request: Request) -> Response:
    access = await project(request, Scope.READ)
    return encode(await search.get_log(runtime(request), access, request.path_params["event_id"]))
