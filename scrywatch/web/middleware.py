"""Pure ASGI middleware: path clean-up, request ids, CORS on ingest paths, security headers, access log."""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scrywatch.ids import new_request_id

access_logger = logging.getLogger("scrywatch.access")

# Ingest paths are called cross-origin by browser SDKs with a Bearer key (never cookies), so any
# origin may call them.
INGEST_PREFIXES = ("/api/ingest", "/api/traces", "/api/logs/otlp", "/v1/traces", "/v1/logs")
CORS_HEADERS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"POST, OPTIONS"),
    (b"access-control-allow-headers", b"Authorization, Content-Type, Content-Encoding, X-Request-ID"),
    (b"access-control-max-age", b"86400"),
]
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; "
        b"base-uri 'self'; form-action 'self'",
    ),
]


def _is_ingest(path: str) -> bool:
    return path.startswith(INGEST_PREFIXES)


class ScryMiddleware:
    """Everything every request needs before routing and every response needs after."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("//"):
            # An SDK endpoint configured with a trailing slash posts to //api/ingest.
            path = "/" + path.lstrip("/")
            scope = {**scope, "path": path, "raw_path": path.encode()}
        rid = new_request_id()
        scope.setdefault("state", {})["request_id"] = rid
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        ingest = _is_ingest(path)
        if ingest and scope["method"] == "OPTIONS":
            await _preflight(send, rid)
            return
        started = time.perf_counter()
        status_holder: dict[str, Any] = {}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                if b"x-request-id" not in names:
                    headers.append((b"x-request-id", rid.encode()))
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in names)
                if ingest:
                    headers.extend(CORS_HEADERS)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            if access_logger.isEnabledFor(logging.INFO):
                # The path only: query strings may carry ?token= keys, which must never be logged.
                access_logger.info("%s %s %s %.1fms %s", scope["method"], path,
                                   status_holder.get("status", "-"),
                                   (time.perf_counter() - started) * 1000, rid)


async def _preflight(send: Send, rid: str) -> None:
    await send({"type": "http.response.start", "status": 204,
                "headers": [*CORS_HEADERS, (b"x-request-id", rid.encode()), (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})
