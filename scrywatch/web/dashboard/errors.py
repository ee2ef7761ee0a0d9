"""Error pages for browsers: the same fields as the JSON error body (status, code, message, request id)."""

from __future__ import annotations

import http

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.web.auth import SESSION_COOKIE
from scrywatch.web.templating import render

TITLES = {401: "Sign in required", 403: "Not allowed", 404: "Page not found", 500: "Something went wrong"}


def render_error(request: Request, *, status: int, code: str, message: str, request_id: str) -> Response:
    """`404.html` or `error.html`; never touches the database, so it works when the database does not."""
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    context = {
        "status": status,
        "code": code,
        "message": message,
        "request_id": request_id,
        "title": TITLES.get(status, phrase),
        "signed_in": bool(request.cookies.get(SESSION_COOKIE)),
        "path": request.url.path,
    }
    template = "404.html" if status == 404 else "error.html"
    headers = {"X-Request-ID": request_id, "Cache-Control": "no-store"}
    return render(request, template, context, status=status, headers=headers)
