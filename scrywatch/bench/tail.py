"""`scrywatch bench --tail`: live-tail latency with many subscribers, and what they cost ingest.

For each subscriber mode (every event, and `level=error` as a dashboard watching errors would):
1. the ingest rate at full speed without subscribers (measured once);
2. `subscribers` WebSocket subscribers open, in a helper process so reading them does not share the
   load generator's event loop; the full-speed ingest rate again, with them attached;
3. ingest paced at half the rate of (1) while a probe posts one marked error event every 20 ms;
   each subscriber notes when each probe arrives. Latency = arrival - the probe's 202 (the target:
   p99 < 100 ms), also reported from the probe's send. Clocks: CLOCK_MONOTONIC, shared by processes.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import re
import time
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import urlencode

import msgspec

from scrywatch.bench import events as evgen
from scrywatch.bench import logs as lb

PROBE_EVERY_S = 0.02
# A probe's message ends in DEL (0x7f), which JSON leaves unescaped and bench events never contain:
# finding one byte is a memchr, while searching every frame for a word, in each of 50 subscribers,
# made this process (on the server's two cores) use half a core and weigh on what is measured.
PROBE_MARK = "\x7f"
_probe_re = re.compile(rb"tailprobe (\d+)\x7f")
COUNT_EVERY = 10  # events are counted (a scan of every frame) on one subscriber in COUNT_EVERY


async def _subscribe(url: str, n: int, conn: Connection) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    arrivals: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    counts = [0] * n
    resets = [0]

    async def reader(k: int, ws: Any) -> None:
        counted = k % COUNT_EVERY == 0
        try:
            while True:
                # Raw bytes: decoding every frame to str would make this process, which shares the
                # machine with the server, the bottleneck of what is measured.
                message = await ws.recv(decode=False)
                now = time.monotonic()
                if counted:
                    counts[k] += message.count(b'"id":')
                if b"\x7f" in message:
                    arrivals[k] += [(int(m), now) for m in _probe_re.findall(message)]
        except ConnectionClosed as closed:
            resets[0] += closed.rcvd is not None and closed.rcvd.code == 1013

    sockets = [await connect(url, compression=None, max_size=None) for _ in range(n)]
    tasks = [asyncio.create_task(reader(k, ws)) for k, ws in enumerate(sockets)]
    conn.send("ready")
    # This process shares the machine with the server: its CPU, per phase, is part of the report.
    cpu, wall = time.process_time(), time.monotonic()
    while (await asyncio.get_running_loop().run_in_executor(None, conn.recv)) == "mark":
        conn.send({"cpu_s": time.process_time() - cpu, "wall_s": time.monotonic() - wall})
        cpu, wall = time.process_time(), time.monotonic()
    used = {"cpu_s": time.process_time() - cpu, "wall_s": time.monotonic() - wall}  # since the mark; "stop"
    for ws in sockets:
        await ws.close()
    await asyncio.gather(*tasks)
    conn.send({"arrivals": arrivals, "counts": counts, "resets": resets[0], "used": used})


def _subscriber_process(url: str, n: int, conn: Connection) -> None:
    try:
        import uvloop  # as the server runs: libuv reads ~300 MB/s of frames here for less CPU
    except ImportError:
        asyncio.run(_subscribe(url, n, conn))
    else:
        uvloop.run(_subscribe(url, n, conn))


async def _probe(target: lb.Target, stop: asyncio.Event) -> dict[int, tuple[float, float]]:
    """Post one marked event every PROBE_EVERY_S until stopped: {probe: (sent, 202 received)}."""
    conn = lb.HttpConn(target.url)
    headers = [("Authorization", f"Bearer {target.api_key}"), ("Content-Type", "application/json")]
    sent: dict[int, tuple[float, float]] = {}
    k = 0
    try:
        while not stop.is_set():
            body = msgspec.json.encode({"events": [{"level": "error", "service": "bench-probe",
                                                    "message": f"tailprobe {k}{PROBE_MARK}"}]})
            t0 = time.monotonic()
            status, _, _ = await conn.request("POST", "/api/ingest", body=body, headers=headers)
            if status == 202:
                sent[k] = (t0, time.monotonic())
            k += 1
            await asyncio.sleep(max(0.0, PROBE_EVERY_S - (time.monotonic() - t0)))
    finally:
        await conn.close()
    return sent


async def _with_subscribers(target: lb.Target, pool: lb.EventPool, *, subscribers: int, params: dict[str, str],
                            max_rate: float, batch: int, clients: int, seconds: float) -> dict[str, Any]:
    ws_url = target.url.replace("http://", "ws://", 1) + target.base + "/ws/tail?" + urlencode(
        {"token": target.api_key, **params})
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_subscriber_process, args=(ws_url, subscribers, child), daemon=True)
    proc.start()
    loop = asyncio.get_running_loop()
    try:
        if await loop.run_in_executor(None, parent.recv) != "ready":
            raise RuntimeError("subscribers did not start")
        full = await lb.run_ingest(target, pool, batch=batch, clients=clients, seconds=seconds)
        parent.send("mark")
        full_used = await loop.run_in_executor(None, parent.recv)
        stop = asyncio.Event()
        probe = asyncio.create_task(_probe(target, stop))
        half = await lb.run_ingest(target, pool, batch=batch, clients=clients, seconds=seconds, rate=max_rate / 2)
        stop.set()
        sent = await probe
        await asyncio.sleep(1.0)  # let the last probes arrive before the subscribers stop
        parent.send("stop")
        report = await loop.run_in_executor(None, parent.recv)
    finally:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()
    after_202 = [max(0.0, t - sent[p][1]) * 1000 for got in report["arrivals"] for p, t in got if p in sent]
    after_send = [(t - sent[p][0]) * 1000 for got in report["arrivals"] for p, t in got if p in sent]
    expected = len(sent) * subscribers
    return {
        "filter": params or "none (every event)",
        "ingest_events_per_s_with_subscribers": full["events_per_s"],
        "ingest_ratio_to_without": full["events_per_s"] / max_rate if max_rate else None,
        "half_rate": {"target_events_per_s": max_rate / 2, "events_per_s": half["events_per_s"],
                      "ingest_ratio_to_without": half["events_per_s"] / (max_rate / 2) if max_rate else None,
                      "ingest_latency_ms": half["latency_ms"]},
        # Cores the subscriber process itself used (on the machine it shares with the server).
        "subscriber_process_cores": {"full": _cores(full_used), "half": _cores(report["used"])},
        "probes": len(sent), "probe_deliveries": len(after_202), "probe_deliveries_expected": expected,
        "latency_from_202_ms": lb.percentiles(after_202), "latency_from_send_ms": lb.percentiles(after_send),
        # counted on every COUNT_EVERY-th subscriber
        "events_received_per_subscriber": sum(report["counts"]) / len(range(0, subscribers, COUNT_EVERY)),
        "subscribers_reset": report["resets"],
    }


async def run_tail_bench(url: str, api_key: str, *, seconds: float = 10.0, concurrency: int = 16,
                         org: str | None = None, project: str | None = None, subscribers: int = 50,
                         batch: int = 50) -> dict[str, Any]:
    """Tail latency (p99 target < 100 ms) and ingest with/without `subscribers` (target >= 0.9x)."""
    target = await lb.ensure_account(url, api_key=api_key, org=org, project=project)
    pool = lb.EventPool(evgen.generate(max(20_000, int(seconds * 40_000))))
    base = await lb.run_ingest(target, pool, batch=batch, clients=concurrency, seconds=seconds)
    max_rate = base["events_per_s"]
    modes = []
    for params in ({}, {"level": "error"}):
        modes.append(await _with_subscribers(target, pool, subscribers=subscribers, params=params, max_rate=max_rate,
                                             batch=batch, clients=concurrency, seconds=seconds))
    return {"subscribers": subscribers, "ingest_events_per_s_without": max_rate, "modes": modes,
            "targets": {str(m["filter"]): {
                "p99_from_202<100ms": m["latency_from_202_ms"]["p99"] < 100,
                "ingest_ratio_at_half_load>=0.9": (m["half_rate"]["ingest_ratio_to_without"] or 0) >= 0.9,
                "ingest_ratio_at_full_speed>=0.9": (m["ingest_ratio_to_without"] or 0) >= 0.9}
                for m in modes}}


def _cores(used: dict[str, float]) -> float | None:
    return used["cpu_s"] / used["wall_s"] if used["wall_s"] > 0 else None
