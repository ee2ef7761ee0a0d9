"""The errors -> HTTP map: the only status-code table, one JSON error shape, 500s logged not leaked."""

from __future__ import annotations

import http
import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from scrywatch.errors import (
    ConfigError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ScryError,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
)
from scrywatch.web.codec import encode

logger = logging.getLogger(__name__)

STATUS: dict[type[ScryError], int] = {
    ScryError: 500,
    InvalidInput: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    RateLimited: 429,
    Unavailable: 503,
    ConfigError: 500,
}
HTTP_CODES = {400: "validation_error", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
              415: "unsupported_media_type", 429: "rate_limited", 503: "unavailable"}


def status_of(exc: ScryError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


def error_body(code: str, message: str, details: list[dict[str, str]], rid: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}, "request_id": rid}


def wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path.startswith("//api/") or path.startswith("/v1/"):
        return False
    return "text/html" in request.headers.get("accept", "")


# Set by the dashboard package: renders an error page for browsers (status, code, message, rid).
html_renderer: Any = None


def _respond(request: Request, status: int, code: str, message: str, details: list[dict[str, str]],
             headers: dict[str, str] | None = None) -> Response:
    rid = request_id(request)
    headers = {**(headers or {}), "X-Request-ID": rid}
    if html_renderer is not None and wants_html(request):
        return html_renderer(request, status=status, code=code, message=message, request_id=rid)  # type: ignore[no-any-return]
    return encode(error_body(code, message, details, rid), status=status, headers=headers)


async def handle_scry_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ScryError)
    status = status_of(exc)
    if status == 500:
        return await handle_crash(request, exc)
    headers = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s else None
    return _respond(request, status, exc.code, exc.message, exc.details, headers)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else http.HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404:
        message = "no such endpoint" if request.url.path.startswith("/api/") else "page not found"
    headers = dict(exc.headers) if exc.headers else None
    return _respond(request, exc.status_code, code, message, [], headers)


async def handle_crash(request: Request, exc: Exception) -> Response:
    """A bug: log the traceback with the request id, answer a generic 500."""
    logger.exception("unhandled error in %s %s (request %s)", request.method, request.url.path,
                     request_id(request), exc_info=exc)
    return _respond(request, 500, "internal", "internal server error; the request id identifies it in the logs", [])


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ScryError: handle_scry_error,
    HTTPException: handle_http_exception,
    Exception: handle_crash,
}
