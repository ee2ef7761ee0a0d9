"""A subscriber that never reads must not block ingest or grow memory: it is dropped with a reset."""

from __future__ import annotations

import json
from collections.abc import Callable

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.support import LiveServer, register, wait_for
from tests.tail.support import ws_url

TOTAL = 20_000
BATCH = 500
PADDING = "x" * 1500  # big events fill the socket buffers quickly, so the server's sends must block


def test_a_subscriber_that_never_reads_is_dropped_and_ingest_completes(
        make_server: Callable[..., LiveServer]) -> None:
    server = make_server(tail={"subscriber_queue": 2000})
    account = register(server)
    hub = server.runtime.hub
    pk_count = hub.subscriber_count
    # max_queue=1: the client's reader thread stops taking frames off the socket at once.
    with connect(ws_url(account, token=account.api_key), max_queue=1, compression=None) as ws:
        wait_for(lambda: pk_count() == 1, message="subscribed")
        with account.keyed() as client:
            for start in range(0, TOTAL, BATCH):
                batch = [{"level": "info", "message": f"event {start + i} {PADDING}"} for i in range(BATCH)]
                r = client.post("/api/ingest", json={"events": batch})
                assert r.status_code == 202, r.text
        assert pk_count() == 0  # detached: publishing no longer holds anything for it
        received, last = 0, None
        try:
            while True:
                last = ws.recv(timeout=30)
                message = json.loads(last)
                if isinstance(message, list):
                    received += len(message)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 1013
    assert last is not None and json.loads(last)["type"] == "reset"
    assert received < TOTAL  # it fell behind and was told so, rather than buffering everything
    with account.keyed() as client:
        assert client.get(account.base + "/logs", params={"limit": 1}).json()["total"] == TOTAL
