"""The hub on its own: numbering, ring replay, gaps, bounded backlog, heartbeats."""

from __future__ import annotations

import asyncio
import gc

from scrywatch.services.tail import Hub, follow


def test_sequence_numbers_are_contiguous_and_the_ring_is_bounded() -> None:
    hub = Hub(ring_size=5, subscriber_queue=100)
    hub.publish(1, ["a", "b", "c"])
    hub.publish(1, ["d", "e", "f", "g"])
    assert hub.last_seq(1) == hub.first_seq + 6
    hub.publish(2, ["x"])
    assert hub.last_seq(2) == hub.first_seq  # per project


def test_resume_replays_from_the_ring_or_reports_a_gap() -> None:
    async def go() -> None:
        hub = Hub(ring_size=5, subscriber_queue=100)
        hub.publish(1, list("abcdefg"))  # seqs first..first+6; ring keeps the last 5 (c..g)
        first = hub.first_seq
        sub = hub.subscribe(1, after_seq=first + 3)
        assert not sub.gap and [i.event for b in await sub.next(0) for i in b] == ["e", "f", "g"]
        assert hub.subscribe(1, after_seq=first + 1).gap is False  # c is the oldest kept: nothing lost
        assert hub.subscribe(1, after_seq=first).gap  # b is gone
        assert hub.subscribe(1, after_seq=first + 50).gap  # from the future (another run)
        assert hub.subscribe(1, after_seq=first - 1_000_000).gap  # from an earlier run

    asyncio.run(go())


def test_a_subscriber_that_falls_behind_is_dropped_not_buffered() -> None:
    async def go() -> None:
        hub = Hub(ring_size=10, subscriber_queue=50)
        sub = hub.subscribe(1)
        for i in range(1000):
            hub.publish(1, [i, i])
        assert sub.dropped and hub.subscriber_count(1) == 0
        pending = [item for batch in await sub.next(0) for item in batch]
        assert len(pending) <= 50  # what it had room for, then nothing more
        kinds = [kind async for kind, _, _ in follow(sub, lambda e: True, idle_s=5)]
        assert kinds == ["reset"]

    asyncio.run(go())


def test_follow_filters_and_sends_heartbeats_when_idle() -> None:
    async def go() -> None:
        hub = Hub()
        sub = hub.subscribe(1)
        hub.publish(1, [1, 2, 3, 4])
        stream = follow(sub, lambda e: e % 2 == 0, idle_s=0.05)
        kind, items, last = await anext(stream)
        assert kind == "events" and [i.event for i in items] == [2, 4] and last == hub.last_seq(1)
        kind, items, last = await anext(stream)
        assert kind == "idle" and last == hub.last_seq(1)
        sub.close()
        assert [k async for k, _, _ in stream] == []

    asyncio.run(go())


def test_a_publish_in_the_same_loop_turn_as_the_timeout_is_delivered_not_skipped() -> None:
    """The publish and the heartbeat timer become due together: the events come first, so a
    heartbeat never announces (as the client's resume point) ids whose events were not sent."""

    async def go() -> None:
        loop = asyncio.get_running_loop()
        hub = Hub()
        sub = hub.subscribe(1)
        loop.call_soon(hub.publish, 1, ["a"])
        assert [i.event for b in await sub.next(timeout=0) for i in b] == ["a"]
        sub2 = hub.subscribe(1)
        loop.call_soon(hub.publish, 1, ["b"])
        kind, items, last = await anext(follow(sub2, lambda e: True, idle_s=0))
        assert kind == "events" and [i.event for i in items] == ["b"] and last == hub.last_seq(1)

    asyncio.run(go())


def test_subscribers_with_the_same_filter_share_one_pass_and_its_encodings() -> None:
    calls: list[str] = []

    def even(e: int) -> bool:
        calls.append("even")
        return e % 2 == 0

    async def first_events(sub: object, match: object, key: object) -> object:
        async for kind, items, _ in follow(sub, match, idle_s=5, key=key):  # type: ignore[arg-type]
            assert kind == "events"
            return items
        raise AssertionError("no events")

    async def go() -> None:
        hub = Hub(ring_size=100, subscriber_queue=100)
        subs = [hub.subscribe(1) for _ in range(3)]
        hub.publish(1, [1, 2, 3, 4])
        a = await first_events(subs[0], even, "even")
        b = await first_events(subs[1], even, "even")
        c = await first_events(subs[2], lambda e: e > 2, "big")
        assert [i.event for i in a] == [2, 4] and [i.event for i in c] == [3, 4]
        assert a is b and a is not c
        assert calls == ["even"] * 4  # one pass over the batch for both "even" subscribers
        assert a.ws_text() == "[2,4]" and a.ws_text() is b.ws_text()
        assert a.sse_frames() == b"id: %d\ndata: 2\n\nid: %d\ndata: 4\n\n" % (a[0].seq, a[1].seq)

    asyncio.run(go())


def test_publishes_of_one_loop_turn_reach_subscribers_as_one_batch() -> None:
    """Ingest requests of one group commit resume in the same turn: one message for all of them."""
    async def go() -> None:
        hub = Hub()
        sub = hub.subscribe(1)
        hub.publish_soon(1, ["a", "b"])
        hub.publish_soon(1, ["c"])
        hub.publish_soon(2, ["x"])
        assert hub.last_seq(1) == hub.first_seq - 1  # nothing numbered before the turn ends
        batches = await sub.next(1)
        assert [[(i.seq - hub.first_seq, i.event) for i in b] for b in batches] == [[(0, "a"), (1, "b"), (2, "c")]]
        hub.publish_soon(1, ["d"])  # a later turn: a batch of its own
        assert [[i.event for i in b] for b in await sub.next(1)] == [["d"]]
        assert hub.last_seq(2) == hub.first_seq

    asyncio.run(go())


def test_ring_items_stay_out_of_the_garbage_collector() -> None:
    """Thousands of ring items live long enough to reach the oldest generation; untracked, no
    collection has to walk them (they cannot be part of a cycle)."""
    hub = Hub(ring_size=100, subscriber_queue=100)
    hub.publish(1, [{"message": "a dict event"}, "b"])
    sub = hub.subscribe(1, after_seq=hub.first_seq - 1)
    items = [item for batch in asyncio.run(sub.next(0)) for item in batch]
    assert [i.event for i in items] == [{"message": "a dict event"}, "b"]
    assert not any(gc.is_tracked(item) for item in items)
