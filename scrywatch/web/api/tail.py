"""Live tail: GET {P}/ws/tail (WebSocket) and GET {P}/tail (Server-Sent Events), same filters."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketDisconnected

from scrywatch.errors import InvalidInput, ScryError
from scrywatch.models.accounts import Scope
from scrywatch.services import search, tail
from scrywatch.services.tailfilter import compile_filter
from scrywatch.web.auth import project, runtime
from scrywatch.web.codec import encode
from scrywatch.web.errors import error_body, status_of

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
RESET_MESSAGE = '{"type":"reset","reason":"fell behind: events were dropped; re-query /logs and reconnect"}'
WS_TRY_AGAIN_LATER = 1013


def _filter(params: Mapping[str, str]) -> Callable[[Any], bool]:
    """The tail filters (level, type, service, environment, q as a case-insensitive substring, ...)."""
    return compile_filter(search.parse_query(params), text="substring")


async def _deny(ws: WebSocket, exc: ScryError) -> None:
    """Refuse the handshake with our usual error body (or a policy close where the server can't)."""
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        rid = str(ws.scope.get("state", {}).get("request_id", ""))
        body = error_body(exc.code, exc.message, exc.details, rid)
        await ws.send_denial_response(encode(body, status=status_of(exc), headers={"X-Request-ID": rid}))
    else:
        await ws.close(code=1008, reason=exc.message[:120])


async def _close_when_gone(ws: WebSocket, sub: tail.Subscription) -> None:
    """Read (and ignore) client messages until it disconnects, then end the subscription."""
    with contextlib.suppress(WebSocketDisconnect, WebSocketDisconnected):
        while (await ws.receive())["type"] != "websocket.disconnect":
            pass
    sub.close()


async def ws_tail(ws: WebSocket) -> None:
    rt = runtime(ws)
    try:
        access = await project(ws, Scope.READ, allow_query_token=True)
        match = _filter(ws.query_params)
    except ScryError as exc:
        await _deny(ws, exc)
        return
    sub = rt.hub.subscribe(access.project.pk)  # before accept: nothing published after the handshake is missed
    watcher: asyncio.Task[None] | None = None
    try:
        await ws.accept()
        watcher = asyncio.get_running_loop().create_task(_close_when_gone(ws, sub))
        async for kind, items, _last in tail.follow(sub, match, idle_s=rt.config.tail.heartbeat_seconds):
            if kind == "events":
                text = (b"[" + b",".join(item.json() for item in items) + b"]").decode()
                await ws.send({"type": "websocket.send", "text": text})
            elif kind == "reset":
                await ws.send_text(RESET_MESSAGE)
                await ws.close(code=WS_TRY_AGAIN_LATER, reason="reset")
    except (WebSocketDisconnect, WebSocketDisconnected):
        pass
    finally:
        sub.close()
        if watcher is not None:
            watcher.cancel()


def _last_event_id(request: Request) -> int | None:
    raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
    if raw is None or not raw.strip():
        return None
    try:
        return int(raw.strip())
    except ValueError:
        raise InvalidInput("must be an id this stream sent", field="Last-Event-ID") from None


async def _sse(hub: tail.Hub, project_pk: int, after: int | None, match: Callable[[Any], bool],
               idle_s: float) -> AsyncIterator[bytes]:
    sub = hub.subscribe(project_pk, after_seq=after)  # here, so it ends with the response
    try:
        yield b": scrywatch live tail\nretry: 1000\n\n"
        async for kind, items, last in tail.follow(sub, match, idle_s=idle_s):
            if kind == "events":
                yield b"".join(b"id: %d\ndata: %s\n\n" % (item.seq, item.json()) for item in items)
            elif kind == "idle":
                # The id moves the client's resume point past events its filter hid.
                yield b": heartbeat\nid: %d\n\n" % last
            elif kind == "gap":
                yield (b'event: reset\nid: %d\ndata: {"reason":"gap","last_id":%d}\n\n' % (last, last))
            else:  # dropped: the client reconnects with its last id and replays from the ring
                yield b'event: reset\ndata: {"reason":"slow"}\n\n'
                return
    finally:
        sub.close()


async def sse_tail(request: Request) -> Response:
    rt = runtime(request)
    access = await project(request, Scope.READ, allow_query_token=True)
    match = _filter(request.query_params)
    body = _sse(rt.hub, access.project.pk, _last_event_id(request), match, rt.config.tail.heartbeat_seconds)
    return StreamingResponse(body, media_type="text/event-stream", headers=SSE_HEADERS)
