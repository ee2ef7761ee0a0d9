"""The live-tail hub: committed events, per project, with sequence numbers and a ring buffer.

Publishing never waits: each subscriber has a bounded backlog, and one that falls behind is marked
`dropped` and detached instead of slowing ingest or growing memory. Sequence numbers are contiguous
per project and start at this process's start time in microseconds (below 2**53, so JavaScript
keeps them exact): an id from before a restart is always older than the ring, hence a `reset`,
never a silent replay of the wrong events.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, Literal

import msgspec

_encoder = msgspec.json.Encoder()


class TailItem(msgspec.Struct, gc=False):
    """One published event with its sequence number; the JSON is encoded once, on first use.

    Not tracked by the garbage collector (it cannot be part of a cycle): thousands of these live in
    the ring for about a second each, long enough to reach the oldest generation, and every one the
    collector had to walk added to the pauses that set ingest's p99.
    """

    seq: int
    event: Any
    _json: bytes | None = None

    def json(self) -> bytes:
        if self._json is None:
            self._json = _encoder.encode(self.event)
        return self._json


class Batch(list[TailItem]):
    """The events of one commit as published; subscribers with the same filter share its result."""

    __slots__ = ("shown",)

    def __init__(self, items: Iterable[TailItem]) -> None:
        super().__init__(items)
        self.shown: dict[object, Shown] = {}


class Shown(list[TailItem]):
    """The items of a batch that one filter lets through, with their encodings made once for every
    subscriber using that filter (50 dashboards on one project cost one filter pass, not 50)."""

    __slots__ = ("_ws", "_sse")

    def __init__(self, items: Iterable[TailItem]) -> None:
        super().__init__(items)
        self._ws: str | None = None
        self._sse: bytes | None = None

    def ws_text(self) -> str:
        """A WebSocket message: the JSON array of the events."""
        if self._ws is None:
            self._ws = (b"[" + b",".join(item.json() for item in self) + b"]").decode()
        return self._ws

    def sse_frames(self) -> bytes:
        """One SSE frame per event, each with its id."""
        if self._sse is None:
            self._sse = b"".join(b"id: %d\ndata: %s\n\n" % (item.seq, item.json()) for item in self)
        return self._sse


def shown_in(batch: list[TailItem], match: Callable[[Any], bool], key: object | None) -> Shown:
    """The items of batch that match, shared through the batch for filters with the same key."""
    memo = batch.shown if key is not None and isinstance(batch, Batch) else None
    if memo is not None and (found := memo.get(key)) is not None:
        return found
    shown = Shown(item for item in batch if match(item.event))
    if memo is not None:
        memo[key] = shown
    return shown


class Subscription:
    """One subscriber's view of a project's stream."""

    def __init__(self, hub: Hub, project_pk: int, max_backlog: int) -> None:
        self._hub = hub
        self.project_pk = project_pk
        self.max_backlog = max_backlog
        self._pending: collections.deque[list[TailItem]] = collections.deque()
        self._backlog = 0
        self._wake = asyncio.Event()
        self.dropped = False  # fell behind: detached, told to reset
        self.gap = False  # asked to resume from an id the ring no longer holds (or from another run)
        self.closed = False

    def _offer(self, batch: list[TailItem]) -> None:
        if self.closed or self.dropped:
            return
        if self._backlog + len(batch) > self.max_backlog:
            self.dropped = True
            self._hub._detach(self)
        else:
            self._backlog += len(batch)
            self._pending.append(batch)
        self._wake.set()

    async def next(self, timeout: float | None = None) -> list[list[TailItem]]:
        """The batches (one per publish, oldest first) queued since the last call; [] on timeout,
        drop or close."""
        if not self._pending and not self.ended:
            self._wake.clear()
            # A publish may land in the same loop turn as the timeout: what it queued is returned
            # all the same, or a heartbeat could announce ids whose events were not sent yet.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
        out = list(self._pending)
        self._pending.clear()
        self._backlog = 0
        return out

    @property
    def ended(self) -> bool:
        return self.dropped or self.closed

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._hub._detach(self)
            self._wake.set()


class _Channel:
    __slots__ = ("ring", "subscribers", "last_seq")

    def __init__(self, ring_size: int, first_seq: int) -> None:
        self.ring: collections.deque[TailItem] = collections.deque(maxlen=ring_size)
        self.subscribers: set[Subscription] = set()
        self.last_seq = first_seq - 1


class Hub:
    """In-process publish/subscribe of committed events, one channel per project."""

    def __init__(self, *, ring_size: int = 5000, subscriber_queue: int = 10_000) -> None:
        self.ring_size = ring_size
        self.subscriber_queue = subscriber_queue
        self.first_seq = time.time_ns() // 1000
        self._channels: dict[int, _Channel] = {}
        self._soon: dict[int, list[Any]] = {}

    def _channel(self, project_pk: int) -> _Channel:
        ch = self._channels.get(project_pk)
        if ch is None:
            ch = self._channels[project_pk] = _Channel(self.ring_size, self.first_seq)
        return ch

    def publish(self, project_pk: int, events: Iterable[Any]) -> None:
        """Number the events, keep them in the ring, hand them to every subscriber. Never blocks."""
        ch = self._channel(project_pk)
        start = ch.last_seq
        batch = Batch(TailItem(start + i, e) for i, e in enumerate(events, 1))
        if not batch:
            return
        ch.last_seq = batch[-1].seq
        ch.ring.extend(batch)
        for sub in list(ch.subscribers):
            sub._offer(batch)

    def publish_soon(self, project_pk: int, events: Iterable[Any]) -> None:
        """publish() at the end of this event-loop turn, together with every other publish_soon of
        the turn: the requests of one group commit resume in the same turn, so subscribers get one
        batch (one filter pass, one encoding, one WebSocket message) per commit, not per request."""
        pending = self._soon.get(project_pk)
        if pending is None:
            pending = self._soon[project_pk] = []
            asyncio.get_running_loop().call_soon(self._flush_soon, project_pk)
        pending.extend(events)

    def _flush_soon(self, project_pk: int) -> None:
        self.publish(project_pk, self._soon.pop(project_pk, ()))

    def subscribe(self, project_pk: int, *, after_seq: int | None = None) -> Subscription:
        """A live subscription; with after_seq, first the ring's events after it, or `gap` when the
        ring no longer reaches back that far (or the id is not from this run)."""
        ch = self._channel(project_pk)
        sub = Subscription(self, project_pk, self.subscriber_queue)
        if after_seq is not None:
            oldest = ch.ring[0].seq if ch.ring else ch.last_seq + 1
            if after_seq < oldest - 1 or after_seq > ch.last_seq:
                sub.gap = True
            else:
                replay = [item for item in ch.ring if item.seq > after_seq]
                if replay:
                    sub._offer(replay)
        ch.subscribers.add(sub)
        return sub

    def _detach(self, sub: Subscription) -> None:
        ch = self._channels.get(sub.project_pk)
        if ch is not None:
            ch.subscribers.discard(sub)

    def last_seq(self, project_pk: int) -> int:
        return self._channel(project_pk).last_seq

    def subscriber_count(self, project_pk: int | None = None) -> int:
        if project_pk is not None:
            ch = self._channels.get(project_pk)
            return len(ch.subscribers) if ch else 0
        return sum(len(ch.subscribers) for ch in self._channels.values())

    def close(self) -> None:
        for ch in self._channels.values():
            for sub in list(ch.subscribers):
                sub.close()
        self._channels.clear()


# -- following a subscription ---------------------------------------------------------------
Kind = Literal["events", "idle", "gap", "reset"]


async def follow(sub: Subscription, match: Callable[[Any], bool], *, idle_s: float,
                 key: object | None = None) -> AsyncIterator[tuple[Kind, Shown, int]]:
    """What a tail connection sends, as (kind, items, last_seq):

    - ("gap", [], last) first when the requested resume point is lost: the client must re-query;
    - ("events", items, last) with the matching events of each published batch (one commit),
      shared with every subscription that passes the same filter `key`;
    - ("idle", [], last) after idle_s without anything to send (heartbeat; `last` lets the client
      advance its resume point past events the filter hid);
    - ("reset", [], last) last, when the subscriber fell behind and was dropped.
    Ends when the subscription is closed.
    """
    if sub.gap:
        yield "gap", Shown(()), sub._hub.last_seq(sub.project_pk)
    deadline = time.monotonic() + idle_s
    while True:
        batches = await sub.next(timeout=max(0.0, deadline - time.monotonic()))
        for batch in batches:  # one message per commit
            shown = shown_in(batch, match, key)
            if shown:
                yield "events", shown, batch[-1].seq
                deadline = time.monotonic() + idle_s
        if batches:
            continue
        if sub.dropped:
            yield "reset", Shown(()), sub._hub.last_seq(sub.project_pk)
            return
        if sub.closed:
            return
        if time.monotonic() >= deadline:
            yield "idle", Shown(()), sub._hub.last_seq(sub.project_pk)
            deadline = time.monotonic() + idle_s
