"""A process killed while writing an hour leaves no partial segment; the next run completes the hour."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from scrywatch import archive
from scrywatch.clock import FakeClock
from tests.archive.support import DAY0, HOUR, day_and_hour, ingest, read_all, run_job
from tests.support import LiveServer, register, wait_for

EVENTS = 60_000


def jobs_run(data_dir: Path) -> list[str]:
    return [sys.executable, "-m", "scrywatch", "jobs", "run", "archive", "--data-dir", str(data_dir)]


@pytest.mark.slow
def test_sigkill_while_writing_an_hour(make_server: Callable[..., LiveServer]) -> None:
    server = make_server()  # the real clock: the job runs in another process
    account = register(server)
    hour = (time.time_ns() // 1_000_000 // HOUR - 3) * HOUR  # complete long ago
    words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor".split()
    ingest(account, [{"id": f"e{i}", "timestamp": hour + i * HOUR // EVENTS, "level": "info",
                      "message": f"{words[i % 12]} {i} " + " ".join(words[(i * 7 + k) % 12] for k in range(30))}
                     for i in range(EVENTS)])
    day_dir = server.data_dir / "archive" / account.org / account.project / day_and_hour(hour)["date"]
    final = day_dir / f"{int(day_and_hour(hour)['hour']):02d}.ndjson.zst"

    job = subprocess.Popen(jobs_run(server.data_dir), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        temp = wait_for(lambda: next(iter(day_dir.glob(".*.tmp")), None) or job.poll() is not None,
                        timeout=60, interval=0.005, message="the segment's temp file")
        assert isinstance(temp, Path), "the job finished before it could be killed"
        os.kill(job.pid, signal.SIGKILL)
    finally:
        job.wait(timeout=30)
    assert job.returncode == -signal.SIGKILL
    assert not final.exists()  # no torn segment under the real name
    found, _ = read_all(account, "/archive", day_and_hour(hour))
    assert found == []  # and nothing recorded: the hour still counts as not archived

    done = subprocess.run(jobs_run(server.data_dir), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert final.exists() and not list(day_dir.glob(".*.tmp"))
    with account.keyed() as client:
        assert client.get(account.base + "/archive", params=day_and_hour(hour)).json()["total"] == EVENTS
    ids = [e.id for e in archive.scan(final, archive.ScanFilter(match=lambda e: True))]
    assert len(ids) == len(set(ids)) == EVENTS


def test_a_segment_renamed_into_place_but_never_recorded_is_ignored_then_replaced(
        make_server: Callable[..., LiveServer]) -> None:
    """A run that died between publishing a segment and recording it: queries read only recorded
    segments, and the next run writes that segment number again over the stray file."""
    clock = FakeClock(DAY0 + 3 * HOUR)
    server = make_server(clock=clock, storage={"hot_hours": 1})
    account = register(server)
    ingest(account, [{"id": f"a{i}", "timestamp": DAY0 + i * 1000, "level": "info", "message": f"a {i}"}
                     for i in range(20)])
    run_job(server, "archive")
    run_job(server, "retention")
    first = archive.segment_path(server.config.archive_path, account.org, account.project, DAY0, 0)
    stray = archive.segment_path(server.config.archive_path, account.org, account.project, DAY0, 1)
    stray.write_bytes(first.read_bytes())  # the same events again, as segment 1 ...
    archive.index_path(stray).write_bytes(archive.index_path(first).read_bytes())  # ... with its index
    found, totals = read_all(account, "/archive", day_and_hour(DAY0))
    assert len(found) == totals[0] == 20  # not listed anywhere: not read

    ingest(account, [{"id": f"late{i}", "timestamp": DAY0 + 500_000 + i, "level": "warn", "message": "late"}
                     for i in range(3)])
    run_job(server, "archive")  # writes the late events as segment 1, over the stray file
    found, totals = read_all(account, "/archive", day_and_hour(DAY0))
    ids = [e["id"] for e in found]
    assert len(ids) == len(set(ids)) == totals[0] == 23
    assert sorted(e.id for e in archive.scan(stray, archive.ScanFilter(match=lambda e: True))) == \
        ["late0", "late1", "late2"]
