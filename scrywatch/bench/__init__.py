"""`scrywatch bench`: load generators measured against a running server (logs, traces, tail, archive).

The logs run, in order: durable ingest at full speed for each batch size (N keep-alive clients),
optionally a paced run at half that rate and an overload run, the raw SQLite limit on the same
events and disk, an optional prefill to N events, the fixed query set, the optional `--traces`,
`--archive` and `--tail` benches, and the bytes on disk per event.

Other benches plug in as modules of this package: `scrywatch.bench.<name>` exposing
`run_<name>_bench(url, api_key, *, seconds, concurrency, ...) -> dict` (sync or async). Keyword
arguments they do not declare are not passed; a module that is missing is reported as skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

EXTRAS = ("traces", "archive", "tail")
MAX_POOL_EVENTS = 400_000  # distinct events kept in memory for the timed phases (they cycle past it)
PREFILL_SPAN_MS = 23 * 3_600_000  # prefilled events spread over the last 23 h (inside a 24 h window)
HALF_LOAD_WARMUP_S = 5.0  # paced, unrecorded, before the half-load measurement


def add_parser(sub: Any, add_config_args: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register the `bench` subcommand."""
    p = sub.add_parser("bench", help="measure ingest and query speed, memory and disk against a real server",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_args(p)
    p.add_argument("--url", help="target a running server (default: start one over a temporary data dir)")
    p.add_argument("--api-key", help="API key to use with --url when the server already has users")
    p.add_argument("--org", help="organization slug for queries (default: from /api/auth/me)")
    p.add_argument("--project", help="project slug for queries (default: from /api/auth/me)")
    p.add_argument("--server-pid", type=int, help="pid of the --url server, to report its peak RSS")
    p.add_argument("--seconds", type=float, default=10.0, help="length of each timed phase (default 10)")
    p.add_argument("--events-total", type=int, help="send exactly this many events per ingest phase instead")
    p.add_argument("--clients", type=int, default=16, help="concurrent connections (default 16)")
    p.add_argument("--batch", type=int, default=50, help="events per request (default 50)")
    p.add_argument("--batches", help="several batch sizes, one phase each, e.g. 50,1000")
    p.add_argument("--half-load", action="store_true",
                   help="also measure latency at half the max rate (after 5 s at that rate, unrecorded)")
    p.add_argument("--overload", action="store_true", help="also overload the server (503s, memory)")
    p.add_argument("--overload-clients", type=int, default=128, help="connections in the overload run")
    p.add_argument("--prefill", type=int, default=0, metavar="N",
                   help="before the queries, fill the project to N events (batches of 1000)")
    p.add_argument("--query-runs", type=int, default=50, help="timed runs of each query (default 50)")
    p.add_argument("--depth", type=int, default=100_000, help="cursor paging depth (default 100000)")
    p.add_argument("--raw-events", type=int, default=200_000, help="events per raw-SQLite phase at most")
    p.add_argument("--no-raw", action="store_true", help="skip the raw SQLite measurement")
    for name in EXTRAS:
        p.add_argument(f"--{name}", action="store_true", help=f"also run the {name} bench (scrywatch.bench.{name})")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    p.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    try:
        import uvloop

        result = uvloop.run(run(args))
    except ImportError:
        result = asyncio.run(run(args))
    if args.json:
        print(json.dumps(result, indent=1, default=_json_default))
    else:
        print(render(result))
    return 0


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    raise TypeError(type(value).__name__)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every phase; returns the result object that --json prints."""
    from scrywatch.bench import events as evgen
    from scrywatch.bench import logs as lb

    batches = [int(b) for b in args.batches.split(",")] if args.batches else [args.batch]
    temp = None if (args.data_dir or args.url) else Path(tempfile.mkdtemp(prefix="scrywatch-bench-"))
    data_dir = Path(args.data_dir) if args.data_dir else (temp / "data" if temp else None)
    scratch = data_dir if data_dir is not None else Path(tempfile.mkdtemp(prefix="scrywatch-bench-"))
    scratch.mkdir(parents=True, exist_ok=True)
    per_phase = args.events_total or int(args.seconds * 45_000)
    pool = lb.EventPool(evgen.generate(max(1000, min(per_phase, MAX_POOL_EVENTS))))
    result: dict[str, Any] = {"machine": _machine(), "settings": _settings(args, batches),
                              "events": {"json_bytes_per_event": evgen.event_json_bytes(pool.tails[:20_000])}}
    server = None
    if not args.url:
        assert data_dir is not None
        server = lb.ServerProcess(data_dir, config=args.config)
    url = args.url.rstrip("/") if args.url else server.url if server else ""
    rss = lb.RssSampler(server.pid if server else args.server_pid)
    try:
        target = await lb.ensure_account(url, api_key=args.api_key, org=args.org, project=args.project)
        result["server"] = {"url": url, "pid": server.pid if server else args.server_pid}
        await lb.run_ingest(target, pool, batch=batches[0], clients=args.clients, seconds=min(1.0, args.seconds / 4))
        ingest: list[dict[str, Any]] = []
        raw = None if args.no_raw else _RawRun(scratch / "bench-raw.db")
        try:
            for batch in batches:
                first = pool.sent
                phase = await lb.run_ingest(target, pool, batch=batch, clients=args.clients,
                                            seconds=None if args.events_total else args.seconds,
                                            events_total=args.events_total)
                ingest.append(phase)
                if raw is not None:  # right after the server phase: same events, same disk, same moment
                    rp = await asyncio.to_thread(raw.phase, pool, batch, first, pool.sent - first, args.raw_events)
                    phase["raw_events_per_s"] = rp["events_per_s"]
                    phase["ratio_to_raw"] = phase["events_per_s"] / rp["events_per_s"] if rp["events_per_s"] else None
        finally:
            if raw is not None:
                result["raw"] = raw.finish()
        result["ingest"] = ingest
        if args.half_load:
            rate = ingest[0]["events_per_s"] / 2
            # Steady state, not the wake of the saturating phases: the OS is still writing their
            # pages back (and the raw run's file) when this starts. Paced like the run, not recorded.
            await lb.run_ingest(target, pool, batch=batches[0], clients=args.clients, seconds=HALF_LOAD_WARMUP_S,
                                rate=rate)
            half = await lb.run_ingest(target, pool, batch=batches[0], clients=args.clients,
                                       seconds=args.seconds, rate=rate)
            result["half_load"] = {**half, "target_events_per_s": rate}
        if args.overload:
            result["overload"] = await _overload(lb, target, pool, rss, batch=max(batches),
                                                 clients=args.overload_clients, seconds=args.seconds)
        if args.prefill:
            result["prefill"] = await _prefill(lb, evgen, target, args.prefill)
        result["query_events"] = await lb.project_total(target)
        result["queries"] = await lb.run_queries(target, runs=args.query_runs, depth=args.depth)
        result["extras"] = {name: await _extra(name, target, args, data_dir) for name in EXTRAS
                            if getattr(args, name)}
        if data_dir is not None:
            result["disk"] = await _disk(lb, target, data_dir, result["events"]["json_bytes_per_event"],
                                         result.get("raw", {}).get("bytes_per_event"))
    finally:
        if server is not None:
            rss.sample()
            server.stop()
        rss.stop()
        result["server_rss"] = {"available": rss.available, "peak_mb": rss.peak / 2**20}
        if temp is not None and not args.keep:
            shutil.rmtree(temp, ignore_errors=True)
        elif data_dir is None:
            shutil.rmtree(scratch, ignore_errors=True)
    return result


def _machine() -> dict[str, Any]:
    from scrywatch import __version__
    from scrywatch.storage.sqlite.rawbench import sqlite_version

    return {"cpus": os.cpu_count(), "python": sys.version.split()[0], "sqlite": sqlite_version(),
            "scrywatch": __version__}


def _settings(args: argparse.Namespace, batches: list[int]) -> dict[str, Any]:
    return {"seconds": None if args.events_total else args.seconds, "events_total": args.events_total,
            "clients": args.clients, "batches": batches, "prefill": args.prefill, "query_runs": args.query_runs,
            "depth": args.depth}


async def _overload(lb: Any, target: Any, pool: Any, rss: Any, *, batch: int, clients: int,
                    seconds: float) -> dict[str, Any]:
    """Far more in flight than the write queue holds: the server must refuse (503) and stay flat."""
    before_total = await lb.project_total(target)
    rss_before = rss.sample()
    phase_peak = [rss_before]

    async def watch() -> None:
        while True:
            phase_peak.append(rss.sample())
            await asyncio.sleep(0.2)

    watcher = asyncio.create_task(watch())
    try:
        stats = await lb.run_ingest(target, pool, batch=batch, clients=clients, seconds=seconds)
    finally:
        watcher.cancel()
    committed = await lb.project_total(target) - before_total
    elapsed = stats["seconds"]
    return {**stats, "committed_events": committed, "committed_per_s": committed / elapsed if elapsed else 0.0,
            "accepted_to_committed": stats["events"] / committed if committed else None,
            "rss_before_mb": rss_before / 2**20, "rss_peak_mb": max(phase_peak) / 2**20,
            "rss_after_mb": rss.sample() / 2**20}


class _RawRun:
    """The raw SQLite limit on the same events as each ingest phase, normalised as the server does."""

    def __init__(self, path: Path) -> None:
        from scrywatch.storage.sqlite.rawbench import RawBench

        self.bench = RawBench(path)
        self.phases: list[dict[str, Any]] = []

    def phase(self, pool: Any, batch: int, first: int, sent: int, cap: int) -> dict[str, Any]:
        from scrywatch.bench import events as evgen
        from scrywatch.config import IngestConfig
        from scrywatch.services.events import normalize

        cfg = IngestConfig()
        now = int(time.time() * 1000)
        saved = pool.sent
        pool.sent = first
        tails = pool.take(min(sent, cap))
        pool.sent = saved
        events = [normalize(evgen.stamp(t, now), now_ms=now, ua_device=None, max_message_bytes=cfg.max_message_bytes,
                            max_metadata_bytes=cfg.max_metadata_bytes) for t in tails]
        out = self.bench.phase(batch, events, received_ms=now)
        self.phases.append(out)
        return out

    def finish(self) -> dict[str, Any]:
        return {"phases": self.phases, **self.bench.finish()}


async def _prefill(lb: Any, evgen: Any, target: Any, n: int) -> dict[str, Any]:
    """Fill the project to n events, timestamps spread over the last 23 hours, in batches of 1000."""
    have = await lb.project_total(target)
    need = n - have
    if need <= 0:
        return {"events": 0, "already": have}
    stream = evgen.Stream(seed=7)
    end = int(time.time() * 1000)
    start = end - PREFILL_SPAN_MS
    step = PREFILL_SPAN_MS / need
    started = time.perf_counter()
    sent = 0
    try:
        while sent < need:
            tails = await asyncio.wrap_future(stream.next_chunk())
            tails = tails[: need - sent]
            pool = lb.EventPool(tails)
            base = sent

            def ts_of(first: int, count: int, base: int = base) -> list[int]:
                return [int(start + (base + first + i) * step) for i in range(count)]

            await lb.run_ingest(target, pool, batch=1000, clients=min(4, max(1, len(tails) // 1000)),
                                events_total=len(tails), ts_of=ts_of)
            sent += len(tails)
    finally:
        stream.close()
    seconds = time.perf_counter() - started
    return {"events": sent, "seconds": seconds, "events_per_s": sent / seconds if seconds else 0.0}


async def _extra(name: str, target: Any, args: argparse.Namespace, data_dir: Path | None) -> dict[str, Any]:
    """Run scrywatch.bench.<name>.run_<name>_bench if that module exists."""
    module_name = f"scrywatch.bench.{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        return {"skipped": f"{module_name} is not available"}
    fn = getattr(module, f"run_{name}_bench", None)
    if fn is None:
        return {"skipped": f"{module_name} has no run_{name}_bench"}
    offered: dict[str, Any] = {"seconds": args.seconds, "concurrency": args.clients, "org": target.org,
                               "project": target.project, "data_dir": data_dir}
    params = inspect.signature(fn).parameters
    takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    kwargs = {k: v for k, v in offered.items() if takes_all or k in params}
    if inspect.iscoroutinefunction(fn):
        out = await fn(target.url, target.api_key, **kwargs)
    else:  # it may run its own event loop: give it a thread
        out = await asyncio.to_thread(fn, target.url, target.api_key, **kwargs)
    return dict(out)


async def _disk(lb: Any, target: Any, data_dir: Path, json_bytes: float, raw_bytes: float | None) -> dict[str, Any]:
    await asyncio.to_thread(lb.wait_for_quiet_wal, data_dir)
    size = lb.db_bytes(data_dir)
    events = await lb.project_total(target)
    per_event = size / events if events else math.nan
    return {"db_and_wal_bytes": size, "events": events, "bytes_per_event": per_event,
            "json_bytes_per_event": json_bytes, "ratio_to_json": per_event / json_bytes if json_bytes else None,
            "raw_sqlite_bytes_per_event": raw_bytes}


# -- the readable report -----------------------------------------------------------------------
def _n(v: Any, fmt: str = ",.0f") -> str:
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, fmt)


def _statuses(phase: dict[str, Any]) -> str:
    parts = [f"{k}x{v}" for k, v in sorted(phase["statuses"].items())]
    if phase.get("network_errors"):
        parts.append(f"neterr x{phase['network_errors']}")
    return " ".join(parts)


def render(r: dict[str, Any]) -> str:
    """The result as aligned text tables."""
    m, s = r["machine"], r["settings"]
    lines = [f"scrywatch bench — {r.get('server', {}).get('url', '?')}  ({m['cpus']} CPUs, Python {m['python']}, "
             f"SQLite {m['sqlite']}, scrywatch {m['scrywatch']})",
             f"events: {r['events']['json_bytes_per_event']:.0f} B of JSON each on average", ""]
    span = f"{s['events_total']:,} events" if s["events_total"] else f"{s['seconds']:g} s"
    lines.append(f"ingest: {s['clients']} clients, {span} per phase, 202 after commit")
    lines.append(f"  {'batch':>5}  {'events/s':>9}  {'p50 ms':>7}  {'p99 ms':>7}  {'raw events/s':>12}  "
                 f"{'server/raw':>10}  statuses")
    for ph in r.get("ingest", []):
        lat = ph["latency_ms"]
        lines.append(f"  {ph['batch']:>5}  {_n(ph['events_per_s']):>9}  {_n(lat['p50'], '.1f'):>7}  "
                     f"{_n(lat['p99'], '.1f'):>7}  {_n(ph.get('raw_events_per_s')):>12}  "
                     f"{_n(ph.get('ratio_to_raw'), '.2f'):>10}  {_statuses(ph)}")
    if "raw" in r:
        raw = r["raw"]
        lines.append("  raw: plain sqlite3 (its own automatic checkpoints), same schema and events, one writer, "
                     "one transaction per batch: "
                     + ", ".join(f"batch {p['batch']}: {p['events']:,} events in {p['seconds']:.2f} s"
                                 for p in raw["phases"]))
    if "half_load" in r:
        h = r["half_load"]
        lines.append(f"half load: batch {h['batch']}, target {_n(h['target_events_per_s'])} events/s -> "
                     f"{_n(h['events_per_s'])} events/s, latency p50 {h['latency_ms']['p50']:.1f} ms, "
                     f"p99 {h['latency_ms']['p99']:.1f} ms, max {h['latency_ms']['max']:.1f} ms  ({_statuses(h)})")
    if "overload" in r:
        o = r["overload"]
        lines.append(f"overload: {o['clients']} clients x batch {o['batch']}: accepted {_n(o['events_per_s'])}/s, "
                     f"committed {_n(o['committed_per_s'])}/s (accepted/committed "
                     f"{_n(o['accepted_to_committed'], '.2f')}), p99 {o['latency_ms']['p99']:.0f} ms  "
                     f"({_statuses(o)}); RSS {o['rss_before_mb']:.0f} -> {o['rss_after_mb']:.0f} MB, "
                     f"peak {o['rss_peak_mb']:.0f} MB")
    if "prefill" in r and r["prefill"].get("events"):
        p = r["prefill"]
        lines.append(f"prefill: {p['events']:,} events in {p['seconds']:.1f} s ({_n(p['events_per_s'])}/s)")
    lines += ["", f"queries: {r.get('query_events', 0):,} events in the project, {s['query_runs']} runs each",
              f"  {'query':<30}  {'p50 ms':>8}  {'p99 ms':>8}"]
    for name, q in r.get("queries", {}).items():
        if "skipped" in q:
            lines.append(f"  {name:<30}  {'skipped: ' + q['skipped']}")
        else:
            lines.append(f"  {name:<30}  {q['p50_ms']:>8.2f}  {q['p99_ms']:>8.2f}")
    for name, extra in r.get("extras", {}).items():
        lines += ["", f"{name}:", *(f"  {k}: {v}" for k, v in extra.items())]
    lines.append("")
    rss = r.get("server_rss", {})
    lines.append(f"server peak RSS: {rss['peak_mb']:.0f} MB" if rss.get("available") else "server peak RSS: n/a")
    if "disk" in r:
        d = r["disk"]
        raw_b = d.get("raw_sqlite_bytes_per_event")
        lines.append(f"disk: {_n(d['bytes_per_event'])} B/event (db+wal {d['db_and_wal_bytes'] / 2**20:.1f} MiB "
                     f"for {d['events']:,} events) = {_n(d['ratio_to_json'], '.2f')} x the "
                     f"{d['json_bytes_per_event']:.0f} B of event JSON"
                     + (f"; raw sqlite {raw_b:.0f} B/event" if raw_b else ""))
    return "\n".join(lines)
