"""GET {P}/logs/export streams: memory stays flat however much it sends (hot and archive alike)."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable

from scrywatch.clock import FakeClock
from tests.archive.support import DAY0, HOUR, ingest_as_they_happen, run_job
from tests.support import LiveServer, register

EVENTS = 24_000
TEXT = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor " * 20  # ~1.5 KB


def test_export_streams_in_bounded_memory(make_server: Callable[..., LiveServer]) -> None:
    clock = FakeClock(DAY0 + 10 * HOUR)
    server = make_server(clock=clock, storage={"hot_hours": 3})
    account = register(server)
    ingest_as_they_happen(account, clock, [{"id": f"e{i}", "timestamp": DAY0 + i * (10 * HOUR // EVENTS),
                                            "level": "info", "message": f"{i} {TEXT}"} for i in range(EVENTS)])
    run_job(server, "archive")
    assert run_job(server, "retention")["hot_deleted"] == EVENTS * 7 // 10  # 7 of the 10 hours: archive only
    sent = lines = 0
    first = last = None
    tracemalloc.start()  # the server runs in this process: its allocations are traced too
    try:
        with account.keyed() as client, client.stream("GET", account.base + "/logs/export",
                                                       params={"from": DAY0, "format": "ndjson"}) as r:
            assert r.status_code == 200
            assert "content-length" not in r.headers and r.headers["transfer-encoding"] == "chunked"
            for line in r.iter_lines():  # read and dropped, as a download to disk would
                sent += len(line) + 1
                lines += 1
                first = first or line
                last = line
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == EVENTS
    assert json.loads(first or "")["id"] == f"e{EVENTS - 1}" and json.loads(last or "")["id"] == "e0"
    # Held at a time: a batch of events and a decompressed block of the archive (~10 MB traced here);
    # loading the export would take more than the 40 MB it sends.
    assert sent > 40_000_000
    assert peak < 16_000_000, f"peak {peak / 1e6:.1f} MB while sending {sent / 1e6:.1f} MB"
