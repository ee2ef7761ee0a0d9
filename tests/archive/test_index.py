"""The index beside each segment lets queries skip it: a segment whose index rules a query out is
never opened. Shown by planting different content under a real index: what the index excludes is
not found, what it allows is read from the planted file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from scrywatch import archive
from scrywatch.clock import FakeClock
from scrywatch.models.logs import LogEvent
from tests.archive.support import DAY0, HOUR, day_and_hour, ingest, read_all, run_job
from tests.support import LiveServer, register

H = DAY0 + 3 * HOUR
MINUTE = 60_000


def test_queries_skip_segments_their_index_rules_out(make_server: Callable[..., LiveServer],
                                                     tmp_path: Path) -> None:
    clock = FakeClock(H + HOUR)
    server = make_server(clock=clock, storage={"hot_hours": 1})
    account = register(server)
    ingest(account, [{"id": f"e{i}", "timestamp": H + 10 * MINUTE + i * 1000, "level": "info", "service": "api",
                      "message": f"real {i}"} for i in range(100)])
    clock.set(H + 2 * HOUR)
    run_job(server, "archive")
    assert run_job(server, "retention")["hot_deleted"] == 100
    real = archive.segment_path(server.config.archive_path, account.org, account.project, H, 0)
    index = archive.read_index(real)
    assert index is not None and index.levels == {"info": 100} and index.services == {"api": 100}
    assert (index.min_ts, index.max_ts) == (H + 10 * MINUTE, H + 10 * MINUTE + 99_000)

    planted = [(1_000_001, LogEvent(id="planted-info", timestamp=H + 30 * MINUTE, level="info", type="custom",
                                    message="planted", service="api")),
               (1_000_000, LogEvent(id="planted-error", timestamp=H + 5 * MINUTE, level="error", type="custom",
                                    message="planted", service="web"))]
    elsewhere = archive.segment_path(tmp_path, "o", "p", H, 0)
    archive.write_segment(elsewhere, planted, project_id="x", hour=H, segment=0)
    real.write_bytes(elsewhere.read_bytes())  # the data changes, the index beside it does not

    def ids(**params: object) -> list[str]:
        found, _ = read_all(account, "/archive", {**day_and_hour(H), **params})
        return [e["id"] for e in found]

    assert ids(level="info") == ["planted-info"]  # allowed by the index: the file is read
    assert ids(q="planted") == ["planted-info", "planted-error"]  # text is not in the index: read
    assert ids(level="error") == []  # the index has no errors: skipped
    assert ids(service="web") == []  # nor this service
    assert ids(**{"from": H, "to": H + 9 * MINUTE}) == []  # before the index's first timestamp
    with account.keyed() as client:  # /logs over the archive skips the same way
        params = {"from": H, "to": H + HOUR - 1, "level": "error"}
        assert client.get(account.base + "/logs", params=params).json()["results"] == []
