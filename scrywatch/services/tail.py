"""The live-tail hub: committed events, per project, with sequence numbers and a ring buffer.

Publishing never waits: each subscriber has a bounded queue, and one that falls behind is marked
`reset` and dropped instead of slowing ingest or growing memory.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Iterable
from typing import Any

Event = dict[str, Any]


class Subscription:
    """One subscriber's view of a project's stream: batches of (seq, event)."""

    def __init__(self, hub: Hub, project_pk: int, max_queued: int) -> None:
        self._hub = hub
        self.project_pk = project_pk
        self.max_queued = max_queued
        self._queue: asyncio.Queue[list[tuple[int, Event]]] = asyncio.Queue()
        self._queued = 0
        self.reset = False  # set when the subscriber fell behind (or asked for a seq the ring lost)
        self.closed = False

    def _offer(self, batch: list[tuple[int, Event]]) -> None:
        if self.closed:
            return
        if self._queued + len(batch) > self.max_queued:
            self.reset = True
            self._hub._drop(self)
            self._queue.put_nowait([])  # wake the reader so it sees `reset`
            return
        self._queued += len(batch)
        self._queue.put_nowait(batch)

    async def get(self, timeout: float | None = None) -> list[tuple[int, Event]]:
        """The next batch; [] on timeout, reset or close (check `reset` / `closed`)."""
        try:
            batch = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return []
        self._queued -= len(batch)
        return batch

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._hub._drop(self)
            self._queue.put_nowait([])


class _Channel:
    __slots__ = ("ring", "subscribers", "last_seq")

    def __init__(self, ring_size: int) -> None:
        self.ring: collections.deque[tuple[int, Event]] = collections.deque(maxlen=ring_size)
        self.subscribers: set[Subscription] = set()
        self.last_seq = 0  # sequence numbers are per project, contiguous, from 1 at server start


class Hub:
    """In-process publish/subscribe of committed events, one channel per project."""

    def __init__(self, *, ring_size: int = 5000, subscriber_queue: int = 10_000) -> None:
        self.ring_size = ring_size
        self.subscriber_queue = subscriber_queue
        self._channels: dict[int, _Channel] = {}

    def _channel(self, project_pk: int) -> _Channel:
        ch = self._channels.get(project_pk)
        if ch is None:
            ch = self._channels[project_pk] = _Channel(self.ring_size)
        return ch

    def publish(self, project_pk: int, events: Iterable[Event]) -> None:
        """Number the events, keep them in the ring, hand them to every subscriber. Never blocks."""
        ch = self._channel(project_pk)
        start = ch.last_seq
        batch = [(start + i, e) for i, e in enumerate(events, 1)]
        if not batch:
            return
        ch.last_seq = batch[-1][0]
        ch.ring.extend(batch)
        for sub in list(ch.subscribers):
            sub._offer(batch)

    def subscribe(self, project_pk: int, *, after_seq: int | None = None) -> Subscription:
        """A new subscription; with after_seq, first replay what the ring holds after it
        (marking `reset` when the ring no longer reaches back that far)."""
        ch = self._channel(project_pk)
        sub = Subscription(self, project_pk, self.subscriber_queue)
        if after_seq is not None:
            replay = [item for item in ch.ring if item[0] > after_seq]
            oldest = ch.ring[0][0] if ch.ring else ch.last_seq + 1
            # Too old for the ring, or from before a restart (ids start again at 1): say so.
            if after_seq < oldest - 1 or after_seq > ch.last_seq:
                sub.reset = True
            if replay:
                sub._offer(replay)
        ch.subscribers.add(sub)
        return sub

    def _drop(self, sub: Subscription) -> None:
        ch = self._channels.get(sub.project_pk)
        if ch is not None:
            ch.subscribers.discard(sub)

    def last_seq(self, project_pk: int) -> int:
        ch = self._channels.get(project_pk)
        return ch.last_seq if ch else 0

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
