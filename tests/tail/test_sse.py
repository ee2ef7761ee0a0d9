"""GET {P}/tail (Server-Sent Events): headers, ids, resume, reset, heartbeat, filters, auth."""

from __future__ import annotations

import json
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import Account, LiveServer, register, wait_for
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


def test_every_frame_carries_an_id_from_the_opening_one(make_server: Callable[..., LiveServer]) -> None:
    server = make_server(tail={"heartbeat_seconds": 0.2})
    account = register(server)
    ingest(account, events(2))  # published before anyone listens
    with account.keyed() as client:
        with SSEStream(client, tail_url(account)) as sse:
            opening = int(sse.opening["id"])
            ingest(account, events(2, start=2))
            frames = []
            for frame in sse.frames():
                frames.append(frame)
                if "heartbeat" in frame.comments:
                    break
        assert all("id" in f for f in frames), frames
        assert [int(f["id"]) for f in frames if "data" in f] == [opening + 1, opening + 2]
        # A client that got only the opening frame, then lost the connection, misses nothing.
        ingest(account, events(1, start=4))
        with SSEStream(client, tail_url(account), headers={"Last-Event-ID": str(opening)}) as sse:
            assert [json.loads(sse.next_event()["data"])["message"] for _ in range(3)] == \
                ["event 2", "event 3", "event 4"]


def test_a_slow_sse_subscriber_is_reset_and_dropped_while_ingest_completes(
        make_server: Callable[..., LiveServer]) -> None:
    server = make_server(tail={"subscriber_queue": 2000})
    account = register(server)
    total, batch, padding = 20_000, 500, "x" * 1500
    with account.keyed() as client, SSEStream(client, tail_url(account)) as sse:
        wait_for(lambda: server.runtime.hub.subscriber_count() == 1, message="subscribed")
        with account.keyed() as writer:  # the stream's client reads nothing while this ingests
            for start in range(0, total, batch):
                r = writer.post("/api/ingest", json={"events": [{"level": "info", "message": f"e{start + i} {padding}"}
                                                               for i in range(batch)]})
                assert r.status_code == 202, r.text
        assert server.runtime.hub.subscriber_count() == 0  # detached: publishing holds nothing for it
        frames = sse.rest(timeout=60)  # what was in flight, then the reset, then the end of the stream
    data = [f for f in frames if "event" not in f and "data" in f]
    reset = frames[-1]
    assert reset["event"] == "reset" and json.loads(reset["data"])["reason"] == "slow"
    assert 0 < len(data) < total
    ids = [int(f["id"]) for f in data]
    assert ids == list(range(ids[0], ids[0] + len(ids)))  # nothing skipped before the reset ...
    assert int(reset["id"]) == ids[-1]  # ... and the reset resumes right after what was received
    with account.keyed() as client:
        assert client.get(account.base + "/logs", params={"limit": 1}).json()["total"] == total


def test_a_closed_stream_releases_its_subscription(account: Account) -> None:
    hub = account.server.runtime.hub
    with account.keyed() as client:
        with SSEStream(client, tail_url(account)):
            assert hub.subscriber_count() == 1
        wait_for(lambda: hub.subscriber_count() == 0, message="the subscription to end")
        ingest(account, events(1))  # publishing to nobody still works


def test_an_ingest_only_key_may_not_tail(account: Account) -> None:
    key = account.client.post(account.base + "/settings/api-keys", json={"name": "app", "scope": "ingest"}).json()
    with account.server.key_client(key["key"]) as client:
        r = client.get(tail_url(account))
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"


def test_revoking_the_key_or_signing_out_ends_the_stream(make_server: Callable[..., LiveServer]) -> None:
    server = make_server(tail={"heartbeat_seconds": 0.2})
    account = register(server)
    key = account.client.post(account.base + "/settings/api-keys", json={"name": "tv", "scope": "read"}).json()
    with server.key_client(key["key"]) as client, SSEStream(client, tail_url(account)) as sse:
        ingest(account, events(1))
        assert json.loads(sse.next_event()["data"])["message"] == "event 0"
        assert account.client.delete(account.base + f"/settings/api-keys/{key['id']}").status_code in (200, 204)
        ingest(account, events(1, start=1))  # published after the revocation: not shown
        rest = sse.rest()  # the stream ends
    assert not [f for f in rest if "data" in f] and "access revoked" in rest[-1].comments
    with SSEStream(account.client, tail_url(account)) as sse:
        assert account.client.post("/api/auth/logout").status_code in (200, 204)
        rest = sse.rest()
    assert "access revoked" in rest[-1].comments


# HTTP strips a header value's surrounding blanks (h11 refuses to send them), so they never arrive.
@given(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30).map(str.strip)
       | st.integers(-(2**80), 2**80).map(str))
@settings(max_examples=50)
def test_any_last_event_id_resumes_resets_or_is_a_400(account: Account, raw: str) -> None:
    try:
        wanted = int(raw.strip()) if raw.strip() else None  # blank: a fresh stream
    except ValueError:
        with account.keyed() as client:
            r = client.get(tail_url(account), headers={"Last-Event-ID": raw})
        assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "Last-Event-ID"
        return
    with account.keyed() as client, SSEStream(client, tail_url(account), headers={"Last-Event-ID": raw}) as sse:
        assert sse.response.status_code == 200 and "id" in sse.opening
        if wanted is not None and wanted != int(sse.opening["id"]):  # not a resume point of this run
            reset = next(sse.frames())
            assert reset["event"] == "reset" and json.loads(reset["data"])["reason"] == "gap"
