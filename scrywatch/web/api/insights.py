"""/api/orgs/:org/projects/:project/insights: summaries and persistent patterns (session only)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.models.insights import SummaryCreate
from scrywatch.services import accounts, insights
from scrywatch.web.auth import project, runtime
from scrywatch.web.codec import encode, read_body


async def create_summary(request: Request) -> Response:
    access = await project(request)
    accounts.require_role(access, "member")
    body = await read_body(request, SummaryCreate)
    return encode(await insights.create_summary(runtime(request), access, body))


async def get_summary(request: Request) -> Response:
    access = await project(request)
    return encode({"summary": await insights.latest_summary(runtime(request), access)})


async def list_patterns(request: Request) -> Response:
    access = await project(request)
    return encode({"patterns": await insights.list_patterns(runtime(request), access, request.query_params)})
