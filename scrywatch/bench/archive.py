"""`scrywatch bench --archive`: compression of an hour of bench events and scan speed of that hour.

The hour is built from the bench's own event generator (user, session and trace ids drawn from
pools, as real traffic repeats them), stored as the server stores it (server ids, compact metadata),
written and read with the archive's own code (the writer, the byte prefilter, the scanner).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from scrywatch import archive
from scrywatch.bench import events as evgen
from scrywatch.models.logs import LogEvent, LogQuery
from scrywatch.services.coldsearch import scan_filter

HOUR_MS = 3_600_000
HOUR0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_enc = msgspec.json.Encoder()


def _server_id(received_ms: int, row: int) -> str:
    """An id as the server makes it (ULID: receive time + row id)."""
    n = (received_ms << 80) | row
    return "".join(CROCKFORD[(n >> shift) & 31] for shift in range(125, -1, -5))


def bench_hour(n: int, *, seed: int = 42) -> tuple[list[tuple[int, LogEvent]], float]:
    """n events spread over one hour, newest first as the archive writes them; and the mean size of
    an event's JSON as an SDK sends it."""
    gen = evgen.EventGenerator(seed)
    rows: list[tuple[int, LogEvent]] = []
    sent_bytes = 0
    for i in range(n):
        e = gen.event()
        ts = HOUR0 + i * HOUR_MS // n
        received = ts + 40 + i % 300
        sent_bytes += len(_enc.encode({"timestamp": ts, **e}))
        rows.append((i + 1, LogEvent(
            id=_server_id(received, i + 1), timestamp=ts, level=e["level"], type=e["type"], message=e["message"],
            service=e.get("service"), environment=e.get("environment"), user_id=e.get("user_id"),
            session_id=e.get("session_id"), device_type=e.get("device_type", "server"), trace_id=e.get("trace_id"),
            span_id=e.get("span_id"), metadata=msgspec.Raw(_enc.encode(e["metadata"])), received_at=received)))
    rows.reverse()
    return rows, sent_bytes / n


def _median_s(fn: Callable[[], Any], reps: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _scan(path: Path, query: LogQuery, limit: int | None = None) -> int:
    filt = scan_filter(query)
    assert filt is not None
    n = 0
    for _ in archive.scan(path, filt, lo=query.from_ms, hi=query.to_ms):
        n += 1
        if limit is not None and n >= limit:
            break
    return n


def run_archive_bench(url: str | None = None, api_key: str | None = None, *, events: int = 360_000,
                      reps: int = 3, data_dir: Path | None = None) -> dict[str, Any]:
    """Compression ratio and filtered scan speed of one archived hour (targets: >= 5:1, >= 300k events/s)."""
    rows, sent_bytes = bench_hour(events)
    with tempfile.TemporaryDirectory(dir=data_dir) as tmp:
        path = archive.segment_path(Path(tmp), "bench", "bench", HOUR0, 0)
        t0 = time.perf_counter()
        index = archive.write_segment(path, rows, project_id="bench", hour=HOUR0, segment=0)
        write_s = time.perf_counter() - t0
        rows.clear()
        scans = {
            "level=error service=billing": LogQuery(levels=("error",), service="billing"),
            "service=checkout": LogQuery(service="checkout"),
            "q=kaboom (rare word)": LogQuery(q=evgen.RARE_WORD),
            "q=request (common word)": LogQuery(q=evgen.COMMON_WORD),
            "everything (decode all)": LogQuery(),
        }
        scan_out = {}
        for name, query in scans.items():
            seconds, hits = _median_s(lambda q=query: _scan(path, q), reps)
            scan_out[name] = {"seconds": round(seconds, 3), "events_per_s": round(events / seconds),
                              "hits": hits}
        page_s, _ = _median_s(lambda: _scan(path, LogQuery(), limit=51), reps)
    filtered = scan_out["level=error service=billing"]["events_per_s"]
    ratio = index.raw_bytes / index.bytes
    return {
        "events": events,
        "archived_line_bytes_per_event": round(index.raw_bytes / events, 1),
        "sent_json_bytes_per_event": round(sent_bytes, 1),
        "compressed_bytes_per_event": round(index.bytes / events, 1),
        "compression_ratio": round(ratio, 2),
        "ratio_to_sent_json": round(sent_bytes * events / index.bytes, 2),
        "write_events_per_s": round(events / write_s),
        "scan": scan_out,
        "first_page_ms": round(page_s * 1000, 1),
        "targets": {"compression_ratio>=5": ratio >= 5, "filtered_scan>=300k/s": filtered >= 300_000},
    }


if __name__ == "__main__":  # python -m scrywatch.bench.archive
    import json

    print(json.dumps(run_archive_bench(), indent=1))
