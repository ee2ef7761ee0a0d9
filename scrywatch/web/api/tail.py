"""Live tail: GET {P}/ws/tail (WebSocket) and GET {P}/tail (Server-Sent Events), same filters."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import msgspec
from starlette.requests import HTTPConnection, Request
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
WS_POLICY_VIOLATION = 1008


def _filter(params: Mapping[str, str]) -> tuple[Callable[[Any], bool], bytes]:
    """The tail filters (level, type, service, environment, q as a case-insensitive substring, ...)
    and a key that is equal for equal filters. `match=fulltext` reads `q` as /logs does (words,
    "phrases", prefix*): the Log Explorer's Live."""
    text = "fulltext" if params.get("match") == "fulltext" else "substring"
    query = search.parse_query(params)
    return compile_filter(query, text=text), text.encode() + msgspec.json.encode(query)


async def _deny(ws: WebSocket, exc: ScryError) -> None:
    """Refuse the handshake with our usual error body (or a policy close where the server can't)."""
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        rid = str(ws.scope.get("state", {}).get("request_id", ""))
        body = error_body(exc.code, exc.message, exc.details, rid)
        await ws.send_denial_response(encode(body, status=status_of(exc), headers={"X-Request-ID": rid}))
    else:
        await ws.close(code=WS_POLICY_VIOLATION, reason=exc.message[:120])


class _Access:
    """Re-checks, while a stream is open, that its caller may still read the project: a revoked
    key, an ended session, a removed member or a deleted project ends the stream. Checked at once
    after any key is revoked, otherwise once per heartbeat interval (cheap: key lookups are cached)."""

    def __init__(self, conn: HTTPConnection, every_s: float) -> None:
        self.conn, self.every_s = conn, every_s
        self.rt = runtime(conn)
        self.generation = self.rt.key_cache_generation
        self.next_check = time.monotonic() + every_s

    async def lost(self) -> bool:
        if self.rt.key_cache_generation == self.generation and time.monotonic() < self.next_check:
            return False
        self.generation = self.rt.key_cache_generation
        self.next_check = time.monotonic() + self.every_s
        self.conn.scope.setdefault("state", {}).pop("principal", None)  # resolve the caller afresh
        try:
            await project(self.conn, Scope.READ, allow_query_token=True)
        except ScryError:
            return True
        return False


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
        match, key = _filter(ws.query_params)
    except ScryError as exc:
        await _deny(ws, exc)
        return
    sub = rt.hub.subscribe(access.project.pk)  # before accept: nothing published after the handshake is missed
    watcher: asyncio.Task[None] | None = None
    idle_s = rt.config.tail.heartbeat_seconds
    still = _Access(ws, idle_s)
    try:
        await ws.accept()
        watcher = asyncio.get_running_loop().create_task(_close_when_gone(ws, sub))
        async for kind, items, _last in tail.follow(sub, match, idle_s=idle_s, key=key):
            if await still.lost():
                await ws.close(code=WS_POLICY_VIOLATION, reason="access revoked")
                break
            if kind == "events":
                await ws.send({"type": "websocket.send", "text": items.ws_text()})
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


async def _sse(hub: tail.Hub, project_pk: int, after: int | None, match: Callable[[Any], bool], key: bytes,
               still: _Access) -> AsyncIterator[bytes]:
    """The frames of one stream. Every frame carries an id: the client's resume point, which only
    moves past events that were sent (or that its filter hid)."""
    sub = hub.subscribe(project_pk, after_seq=after)  # here, so it ends with the response
    sent = after if after is not None and not sub.gap else hub.last_seq(project_pk)
    try:
        yield b": scrywatch live tail\nid: %d\nretry: 1000\n\n" % sent
        async for kind, items, last in tail.follow(sub, match, idle_s=still.every_s, key=key):
            if await still.lost():
                yield b": access revoked\nid: %d\n\n" % sent
                return
            if kind == "events":
                sent = items[-1].seq
                yield items.sse_frames()
            elif kind == "idle":
                # The id moves the client's resume point past events its filter hid.
                sent = last
                yield b": heartbeat\nid: %d\n\n" % last
            elif kind == "gap":
                sent = last
                yield (b'event: reset\nid: %d\ndata: {"reason":"gap","last_id":%d}\n\n' % (last, last))
            else:  # dropped: the client reconnects from the last id it got and replays from the ring
                yield b'event: reset\nid: %d\ndata: {"reason":"slow","last_id":%d}\n\n' % (sent, sent)
                return
    finally:
        sub.close()


async def sse_tail(request: Request) -> Response:
    rt = runtime(request)
    access = await project(request, Scope.READ, allow_query_token=True)
    match, key = _filter(request.query_params)
    still = _Access(request, rt.config.tail.heartbeat_seconds)
    body = _sse(rt.hub, access.project.pk, _last_event_id(request), match, key, still)
    return StreamingResponse(body, media_type="text/event-stream", headers=SSE_HEADERS)
