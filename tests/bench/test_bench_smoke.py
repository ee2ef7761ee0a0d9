"""`scrywatch bench` end to end at toy sizes: it starts its own server, and the JSON has every figure.

No timing assertions: speed is measured by running the bench, not by tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

INGEST_KEYS = {"batch", "clients", "seconds", "events", "events_per_s", "requests", "statuses", "latency_ms",
               "raw_events_per_s", "ratio_to_raw"}


@pytest.mark.slow
def test_bench_runs_end_to_end_and_reports_every_figure(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "scrywatch", "bench", "--seconds", "2", "--clients", "2", "--json",
           "--batches", "50,200", "--half-load", "--prefill", "3000", "--query-runs", "3", "--depth", "1000",
           "--raw-events", "2000", "--data-dir", str(tmp_path / "data")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)

    assert {"machine", "settings", "events", "server", "ingest", "raw", "half_load", "prefill", "query_events",
            "queries", "extras", "disk", "server_rss"} <= result.keys()
    assert [phase["batch"] for phase in result["ingest"]] == [50, 200]
    for phase in result["ingest"]:
        assert INGEST_KEYS <= phase.keys()
        assert phase["events"] > 0 and phase["statuses"].get("202", 0) > 0
        assert {"p50", "p99", "max"} <= phase["latency_ms"].keys()
    assert [p["batch"] for p in result["raw"]["phases"]] == [50, 200]
    assert result["raw"]["bytes_per_event"] > 0
    assert result["half_load"]["target_events_per_s"] > 0 and "latency_ms" in result["half_load"]
    assert result["query_events"] >= 3000
    assert set(result["queries"]) == {"logs level+service", "logs q common word", "logs q rare word", "facets 24h",
                                      "stats 24h", "logs newest page", "logs cursor at depth 1,000"}
    for name, q in result["queries"].items():
        if name.startswith(("logs", "facets", "stats")) and "skipped" not in q:
            assert q["status"] == 200 and {"p50_ms", "p99_ms"} <= q.keys(), name
    assert "skipped" not in result["queries"]["logs cursor at depth 1,000"]
    assert result["extras"] == {}  # --traces/--archive/--tail not asked for
    disk = result["disk"]
    assert disk["events"] == result["query_events"] and disk["bytes_per_event"] > 0
    assert disk["json_bytes_per_event"] > 100
    assert result["server_rss"]["available"] is True and result["server_rss"]["peak_mb"] > 0


def test_bench_table_output_is_readable(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "scrywatch", "bench", "--events-total", "400", "--clients", "2",
           "--query-runs", "2", "--depth", "200", "--raw-events", "400", "--data-dir", str(tmp_path / "data")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for text in ("events/s", "server/raw", "p99 ms", "queries:", "server peak RSS", "B/event"):
        assert text in done.stdout, text


def test_an_extra_bench_that_is_not_installed_is_reported_as_skipped() -> None:
    import argparse
    import asyncio

    from scrywatch.bench import _extra
    from scrywatch.bench.logs import Target

    target = Target(url="http://127.0.0.1:9", api_key="sw_x", org="o", project="p")
    args = argparse.Namespace(seconds=1.0, clients=1)
    out = asyncio.run(_extra("no_such_bench", target, args, None))
    assert out == {"skipped": "scrywatch.bench.no_such_bench is not available"}
