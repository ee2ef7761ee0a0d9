"""Tail test helpers: ingest through the API, a WebSocket URL, and a small SSE frame reader."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.support import Account


def ingest(account: Account, events: list[dict[str, Any]]) -> None:
    with account.keyed() as client:
        r = client.post("/api/ingest", json={"events": events})
    assert r.status_code == 202, r.text


def events(n: int, *, start: int = 0, **fields: Any) -> list[dict[str, Any]]:
    return [{"level": "info", "type": "custom", "message": f"event {start + i}", **fields} for i in range(n)]


def ws_url(account: Account, **params: str) -> str:
    url = account.server.url.replace("http://", "ws://") + account.base + "/ws/tail"
    return url + ("?" + urlencode(params) if params else "")


class SSEFrame(dict[str, str]):
    """One frame: its fields (id, event, data) and `comments` (lines starting with ':')."""

    comments: list[str]


class SSEStream:
    """GET {P}/tail as a stream of frames."""

    def __init__(self, client: httpx.Client, url: str, **kwargs: Any) -> None:
        self._cm = client.stream("GET", url, timeout=httpx.Timeout(10.0), **kwargs)
        self.response = self._cm.__enter__()
        self._lines = self.response.iter_lines()
        self.opening = SSEFrame()

    def frames(self) -> Iterator[SSEFrame]:
        frame, comments = SSEFrame(), []
        for line in self._lines:
            if line == "":
                frame.comments = comments
                yield frame
                frame, comments = SSEFrame(), []
            elif line.startswith(":"):
                comments.append(line[1:].strip())
            else:
                name, _, value = line.partition(":")
                frame[name] = value[1:] if value.startswith(" ") else value

    def next_event(self) -> SSEFrame:
        """The next frame that carries data (skipping comments and id-only frames)."""
        for frame in self.frames():
            if "data" in frame:
                return frame
        raise AssertionError("stream ended")

    def rest(self, *, timeout: float = 15.0) -> list[SSEFrame]:
        """Every frame until the server ends the stream; fails if it is still going at the deadline
        (heartbeats would keep a read timeout from ever firing)."""
        deadline = time.monotonic() + timeout
        out = []
        for frame in self.frames():
            out.append(frame)
            if time.monotonic() > deadline:
                raise AssertionError(f"the stream did not end within {timeout}s")
        return out

    def close(self) -> None:
        self._cm.__exit__(None, None, None)

    def __enter__(self) -> SSEStream:
        self.opening = next(self.frames())  # the opening frame: the server is subscribed from here on
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
