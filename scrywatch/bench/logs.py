"""The pieces of `scrywatch bench` for logs: a server subprocess, a lean HTTP client, ingest and query phases.

The load generator must not eat the CPU it measures (the server shares the machine), so requests
go through a minimal keep-alive HTTP/1.1 client on asyncio streams, and bodies are joined from
pre-encoded events.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import msgspec

from scrywatch.bench import events as evgen

_URL_RE = re.compile(r"listening on (http://\S+)")
_json = msgspec.json.Decoder()
HOUR_MS = 3_600_000


# -- the server under test --------------------------------------------------------------------
class ServerProcess:
    """`python -m scrywatch serve --port 0` in a subprocess; its printed URL and its pid."""

    def __init__(self, data_dir: Path, *, config: str | None = None, start_timeout_s: float = 60.0) -> None:
        cmd = [sys.executable, "-m", "scrywatch", "serve", "--port", "0", "--data-dir", str(data_dir),
               "--no-access-log", "--log-level", "warning"]
        if config:
            cmd += ["--config", config]
        self.data_dir = data_dir
        self.output: list[str] = []
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.pid = self.proc.pid
        found = threading.Event()
        self.url = ""

        def drain() -> None:  # keep reading so the pipe never fills and blocks the server
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.output.append(line.rstrip())
                m = _URL_RE.search(line)
                if m and not self.url:
                    self.url = m.group(1)
                    found.set()
            found.set()

        threading.Thread(target=drain, name="bench-server-output", daemon=True).start()
        if not found.wait(start_timeout_s) or not self.url:
            self.stop()
            raise RuntimeError("the server did not start:\n" + "\n".join(self.output[-20:]))

    def stop(self, timeout_s: float = 30.0) -> int | None:
        """SIGTERM (a clean shutdown: queued writes committed), then wait."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


class RssSampler:
    """Peak resident memory of a process, sampled in a thread (psutil)."""

    def __init__(self, pid: int | None, interval_s: float = 0.2) -> None:
        self.peak = 0
        self.last = 0
        self._proc: Any = None
        if pid is not None:
            with contextlib.suppress(ImportError):
                import psutil

                self._proc = psutil.Process(pid)
        self._stop = threading.Event()
        self._interval = interval_s
        self._thread = threading.Thread(target=self._run, name="bench-rss", daemon=True)
        if self._proc is not None:
            self._thread.start()

    @property
    def available(self) -> bool:
        return self._proc is not None

    def sample(self) -> int:
        if self._proc is None:
            return 0
        try:
            rss = int(self._proc.memory_info().rss)
        except Exception:  # the process ended: keep the last figures
            return self.last
        self.last = rss
        self.peak = max(self.peak, rss)
        return rss

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.sample()

    def stop(self) -> None:
        self._stop.set()


def db_bytes(data_dir: Path) -> int:
    """Size of the database file and its WAL (what the events cost on disk)."""
    base = data_dir / "scrywatch.db"
    return sum(os.path.getsize(p) for p in (base, Path(f"{base}-wal")) if p.exists())


def wait_for_quiet_wal(data_dir: Path, *, settle_s: float = 2.0, timeout_s: float = 20.0) -> None:
    """Wait until the db + wal sizes stop changing (the server's checkpoints have run)."""
    deadline = time.monotonic() + timeout_s
    last = -1
    stable_since = time.monotonic()
    while time.monotonic() < deadline:
        size = db_bytes(data_dir)
        if size != last:
            last, stable_since = size, time.monotonic()
        elif time.monotonic() - stable_since >= settle_s:
            return
        time.sleep(0.25)


# -- a lean HTTP/1.1 client -------------------------------------------------------------------
class HttpConn:
    """One keep-alive connection; requests are sequential on it."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self._host_header = f"{self.host}:{self.port}".encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()
        self._reader = self._writer = None

    async def request(self, method: str, path: str, *, body: bytes = b"",
                      headers: Sequence[tuple[str, str]] = ()) -> tuple[int, dict[str, str], bytes]:
        for attempt in (0, 1):
            try:
                return await self._request(method, path, body, headers)
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _request(self, method: str, path: str, body: bytes,
                       headers: Sequence[tuple[str, str]]) -> tuple[int, dict[str, str], bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)
        assert self._reader is not None and self._writer is not None
        head = [f"{method} {self.prefix}{path} HTTP/1.1".encode(), b"Host: " + self._host_header,
                b"Content-Length: %d" % len(body)]
        head += [f"{k}: {v}".encode() for k, v in headers]
        self._writer.write(b"\r\n".join(head) + b"\r\n\r\n")
        if body:
            self._writer.write(body)
        raw = await self._reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        hdrs: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                k, _, v = line.partition(":")
                hdrs[k.strip().lower()] = v.strip()
        if "content-length" in hdrs:
            data = await self._reader.readexactly(int(hdrs["content-length"]))
        elif hdrs.get("transfer-encoding", "").lower() == "chunked":
            data = await self._read_chunked()
        else:
            data = await self._reader.read()
            await self.close()
            return status, hdrs, data
        if hdrs.get("connection", "").lower() == "close":
            await self.close()
        return status, hdrs, data

    async def _read_chunked(self) -> bytes:
        assert self._reader is not None
        parts: list[bytes] = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self._reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self._reader.readexactly(size))
            await self._reader.readexactly(2)


def percentiles(values_ms: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99/max of a latency sample (nearest-rank)."""
    if not values_ms:
        return {"p50": math.nan, "p90": math.nan, "p99": math.nan, "max": math.nan}
    s = sorted(values_ms)

    def rank(p: float) -> float:
        return s[min(len(s) - 1, max(0, math.ceil(p * len(s)) - 1))]

    return {"p50": rank(0.50), "p90": rank(0.90), "p99": rank(0.99), "max": s[-1]}


# -- account ----------------------------------------------------------------------------------
class Target(msgspec.Struct, kw_only=True):
    url: str
    api_key: str
    org: str
    project: str

    @property
    def base(self) -> str:
        return f"/api/orgs/{self.org}/projects/{self.project}"


async def ensure_account(url: str, *, api_key: str | None, org: str | None, project: str | None) -> Target:
    """Register the first user on an empty server, else use the given key (org/project from /api/auth/me)."""
    conn = HttpConn(url)
    try:
        if api_key is None:
            body = msgspec.json.encode({"email": "bench@example.com", "password": "bench password 123",
                                        "name": "Bench", "orgName": "Bench"})
            status, _, data = await conn.request("POST", "/api/auth/register", body=body,
                                                 headers=[("Content-Type", "application/json")])
            if status != 201:
                raise RuntimeError("the server already has users: pass --api-key (and --org/--project) "
                                   f"(register answered {status}: {data[:200]!r})")
            reg = _json.decode(data)
            return Target(url=url, api_key=reg["apiKey"], org=reg["org"]["slug"], project=reg["project"]["slug"])
        if org is None or project is None:
            status, _, data = await conn.request("GET", "/api/auth/me",
                                                 headers=[("Authorization", f"Bearer {api_key}")])
            if status == 200:
                me = _json.decode(data)
                first = (me.get("orgs") or [{}])[0]
                org = org or first.get("slug")
                project = project or ((first.get("projects") or [{}])[0]).get("slug")
        if not org or not project:
            raise RuntimeError("pass --org and --project with --api-key")
        return Target(url=url, api_key=api_key, org=org, project=project)
    finally:
        await conn.close()


# -- ingest -----------------------------------------------------------------------------------
class EventPool:
    """Pre-encoded events handed out in order (cycling when exhausted); remembers how many were sent."""

    def __init__(self, tails: list[bytes]) -> None:
        self.tails = tails
        self.sent = 0

    def take(self, n: int) -> list[bytes]:
        size = len(self.tails)
        start = self.sent % size
        self.sent += n
        out = self.tails[start:start + n]
        while len(out) < n:
            out += self.tails[: n - len(out)]
        return out


class IngestStats:
    def __init__(self) -> None:
        self.latencies_ms: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.accepted = 0
        self.errors = 0

    def summary(self, elapsed_s: float, *, batch: int, clients: int) -> dict[str, Any]:
        return {"batch": batch, "clients": clients, "seconds": round(elapsed_s, 3), "events": self.accepted,
                "events_per_s": self.accepted / elapsed_s if elapsed_s > 0 else 0.0,
                "requests": sum(self.statuses.values()), "statuses": {str(k): v for k, v in self.statuses.items()},
                "network_errors": self.errors, "latency_ms": percentiles(self.latencies_ms)}


async def run_ingest(target: Target, pool: EventPool, *, batch: int, clients: int, seconds: float | None = None,
                     events_total: int | None = None, rate: float | None = None,
                     ts_of: Callable[[int, int], int | list[int]] | None = None) -> dict[str, Any]:
    """Send batches from `clients` connections until the time or event budget is spent.

    `rate` (events/s over all clients) paces the clients on a fixed schedule; latency is then
    measured from the scheduled send time, so a slow server cannot hide its queueing.
    `ts_of(first_index, n)` gives the events' timestamps (default: now).
    """
    stats = IngestStats()
    headers = [("Authorization", f"Bearer {target.api_key}"), ("Content-Type", "application/json"),
               ("User-Agent", "scrywatch-bench/1")]
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + seconds if seconds is not None else math.inf
    budget = [events_total if events_total is not None else math.inf]
    interval = clients * batch / rate if rate else 0.0
    decode_inserted = msgspec.json.Decoder(dict[str, Any])

    async def client(k: int) -> None:
        conn = HttpConn(target.url)
        next_at = started + interval * k / clients
        try:
            while True:
                now = loop.time()
                if now >= deadline or budget[0] <= 0:
                    return
                n = int(min(batch, budget[0]))
                budget[0] -= n
                if rate:
                    if next_at > now:
                        await asyncio.sleep(next_at - now)
                    t0 = next_at
                    next_at += interval
                else:
                    t0 = loop.time()
                first = pool.sent
                tails = pool.take(n)
                ts = ts_of(first, n) if ts_of else int(time.time() * 1000)
                data = evgen.body(tails, ts)
                try:
                    status, hdrs, resp = await conn.request("POST", "/api/ingest", body=data, headers=headers)
                except (OSError, asyncio.IncompleteReadError):
                    stats.errors += 1
                    await asyncio.sleep(0.05)
                    continue
                stats.latencies_ms.append((loop.time() - t0) * 1000)
                stats.statuses[status] += 1
                if status == 202:
                    stats.accepted += int(decode_inserted.decode(resp).get("inserted", 0))
                elif status == 503:
                    budget[0] += n  # not taken: these events are still to send
                    await asyncio.sleep(min(1.0, float(hdrs.get("retry-after", "1") or 1)) / 10)
        finally:
            await conn.close()

    await asyncio.gather(*(client(k) for k in range(clients)))
    return stats.summary(loop.time() - started, batch=batch, clients=clients)


# -- queries ----------------------------------------------------------------------------------
async def project_total(target: Target) -> int:
    conn = HttpConn(target.url)
    try:
        status, _, data = await conn.request("GET", f"{target.base}/logs?limit=1",
                                             headers=[("Authorization", f"Bearer {target.api_key}")])
        return int(_json.decode(data).get("total", 0)) if status == 200 else 0
    finally:
        await conn.close()


def query_set(now_ms: int) -> list[tuple[str, str]]:
    """The fixed queries: (name, path under the project)."""
    day = {"from": now_ms - 24 * HOUR_MS, "to": now_ms}
    return [
        ("logs level+service", "/logs?" + urlencode({"level": "error", "service": "billing"})),
        ("logs q common word", "/logs?" + urlencode({"q": evgen.COMMON_WORD})),
        ("logs q rare word", "/logs?" + urlencode({"q": evgen.RARE_WORD})),
        ("facets 24h", "/facets?" + urlencode(day)),
        ("stats 24h", "/stats?" + urlencode(day)),
        ("logs newest page", "/logs"),
    ]


async def _time_get(conn: HttpConn, path: str, headers: list[tuple[str, str]], runs: int) -> dict[str, Any]:
    status, _, _ = await conn.request("GET", path, headers=headers)  # warm-up
    if status != 200:
        return {"status": status, "skipped": f"HTTP {status}"}
    times: list[float] = []
    for _ in range(runs):
        t0 = time.perf_counter()
        status, _, _ = await conn.request("GET", path, headers=headers)
        times.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            return {"status": status, "skipped": f"HTTP {status}"}
    return {"status": 200, "runs": runs, **{f"{k}_ms": v for k, v in percentiles(times).items()}}


async def run_queries(target: Target, *, runs: int, depth: int = 100_000) -> dict[str, dict[str, Any]]:
    """Each query once to warm up, then `runs` times in a row; plus a cursor walk to `depth`."""
    headers = [("Authorization", f"Bearer {target.api_key}")]
    conn = HttpConn(target.url)
    out: dict[str, dict[str, Any]] = {}
    try:
        for name, path in query_set(int(time.time() * 1000)):
            out[name] = await _time_get(conn, target.base + path, headers, runs)
        out[f"logs cursor at depth {depth:,}"] = await _cursor_at_depth(conn, target, headers, depth, runs)
    finally:
        await conn.close()
    return out


async def _cursor_at_depth(conn: HttpConn, target: Target, headers: list[tuple[str, str]], depth: int,
                           runs: int) -> dict[str, Any]:
    """Walk newest-first pages of 200 by cursor to `depth`, then time the page found there."""
    cursor: str | None = None
    seen = 0
    walk_started = time.perf_counter()
    while seen < depth:
        path = f"{target.base}/logs?limit=200" + (f"&cursor={cursor}" if cursor else "")
        status, _, data = await conn.request("GET", path, headers=headers)
        if status != 200:
            return {"status": status, "skipped": f"HTTP {status}"}
        page = _json.decode(data)
        seen += len(page["results"])
        if not page.get("next_cursor"):
            break
        cursor = page["next_cursor"]
    walk_ms = (time.perf_counter() - walk_started) * 1000
    if cursor is None:
        return {"status": 200, "skipped": "fewer events than one page"}
    result = await _time_get(conn, f"{target.base}/logs?cursor={cursor}", headers, runs)
    return {**result, "depth": seen, "walk_ms": walk_ms}
