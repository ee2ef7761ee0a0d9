"""GET {P}/tail (Server-Sent Events): headers, ids, resume, reset, heartbeat, filters, auth."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.support import Account, LiveServer, register
from tests.tail.support import SSEStream, events, ingest


def tail_url(account: Account) -> str:
    return account.base + "/tail"


def test_headers_ids_and_data(account: Account) -> None:
    with account.keyed() as client, SSEStream(client, tail_url(account)) as sse:
        assert sse.response.status_code == 200
        assert sse.response.headers["content-type"].startswith("text/event-stream")
        assert sse.response.headers["cache-control"] == "no-cache"
        assert sse.response.headers["x-accel-buffering"] == "no"
        ingest(account, events(3))
        frames = [sse.next_event() for _ in range(3)]
    ids = [int(f["id"]) for f in frames]
    assert ids == [ids[0], ids[0] + 1, ids[0] + 2]
    assert [json.loads(f["data"])["message"] for f in frames] == ["event 0", "event 1", "event 2"]


def test_resume_with_last_event_id_header_or_param(account: Account) -> None:
    with account.keyed() as client:
        with SSEStream(client, tail_url(account)) as sse:
            ingest(account, events(5))
            ids = [int(sse.next_event()["id"]) for _ in range(5)]
        with SSEStream(client, tail_url(account), headers={"Last-Event-ID": str(ids[1])}) as sse:
            replayed = [sse.next_event() for _ in range(3)]
            ingest(account, events(1, start=5))
            live = sse.next_event()
        assert [int(f["id"]) for f in replayed] == ids[2:]
        assert json.loads(live["data"])["message"] == "event 5" and int(live["id"]) == ids[-1] + 1
        with SSEStream(client, tail_url(account), params={"last_event_id": str(ids[3])}) as sse:
            assert int(sse.next_event()["id"]) == ids[4]


def test_reset_when_the_id_is_older_than_the_ring(make_server: Callable[..., LiveServer]) -> None:
    server = make_server(tail={"ring_size": 10})
    account = register(server)
    with account.keyed() as client:
        with SSEStream(client, tail_url(account)) as sse:
            ingest(account, events(30))
            ids = [int(sse.next_event()["id"]) for _ in range(30)]
        last = ids[-1]
        for stale in (ids[0], 12345):  # fallen out of the ring; from another run of the server
            with SSEStream(client, tail_url(account), headers={"Last-Event-ID": str(stale)}) as sse:
                reset = sse.next_event()
                assert reset["event"] == "reset"
                assert int(reset["id"]) == last  # the browser resumes from now on, not from the gap
                assert json.loads(reset["data"]) == {"reason": "gap", "last_id": last}
                ingest(account, events(1, start=30))
                live = sse.next_event()
                assert json.loads(live["data"])["message"] == "event 30" and int(live["id"]) == last + 1
                last += 1


def test_heartbeat_comment_on_an_idle_stream(make_server: Callable[..., LiveServer]) -> None:
    server = make_server(tail={"heartbeat_seconds": 0.2})
    account = register(server)
    with account.keyed() as client, SSEStream(client, tail_url(account), params={"level": "error"}) as sse:
        ingest(account, events(2))  # filtered out: the heartbeat's id still moves past them
        beats = []
        for frame in sse.frames():
            if "heartbeat" in frame.comments:
                beats.append(frame)
            if len(beats) == 2:
                break
    assert "data" not in beats[-1] and int(beats[-1]["id"]) >= 1


def test_filters_and_query_token(account: Account) -> None:
    with account.server.client() as anonymous:
        params = {"token": account.api_key, "service": "billing", "q": "FAIL"}
        with SSEStream(anonymous, tail_url(account), params=params) as sse:
            ingest(account, [{"level": "error", "message": "payment failed", "service": "billing"},
                             {"level": "error", "message": "payment failed", "service": "search"},
                             {"level": "info", "message": "all good", "service": "billing"},
                             {"level": "warn", "message": "Retry FAILED", "service": "billing"}])
            got = [json.loads(sse.next_event()["data"])["message"] for _ in range(2)]
        assert got == ["payment failed", "Retry FAILED"]
        assert anonymous.get(tail_url(account)).status_code == 401


def test_session_cookie(account: Account) -> None:
    with SSEStream(account.client, tail_url(account)) as sse:
        ingest(account, events(1))
        assert json.loads(sse.next_event()["data"])["message"] == "event 0"


def test_bad_last_event_id_is_a_400(account: Account) -> None:
    with account.keyed() as client:
        r = client.get(tail_url(account), headers={"Last-Event-ID": "abc"})
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "Last-Event-ID"
