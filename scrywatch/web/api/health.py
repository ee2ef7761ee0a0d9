"""GET /api/health."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from scrywatch import __version__
from scrywatch.errors import Unavailable
from scrywatch.web.auth import runtime
from scrywatch.web.codec import encode


async def get_health(request: Request) -> Response:
    if not await runtime(request).store.ping():
        raise Unavailable("database does not answer")
    return encode({"status": "ok", "version": __version__})
