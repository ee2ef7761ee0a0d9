"""`scrywatch bench --traces`: OTLP/HTTP protobuf span ingest from concurrent clients, and the
sampling job over 100,000 held spans (in-process, on a temporary data directory).

Requests look like what a Collector sends: one ResourceSpans per service, traces of 4-12 spans
(gateway -> services -> database and cache calls), 2 % errors, 3 % slow. Each template is encoded
once; every request swaps in a fresh random 8-byte prefix for all its trace ids, so every trace is
new while building a request costs one bytes.replace.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

SERVICES = ("checkout", "payments", "inventory", "search", "users")
ROUTES = (("GET", "/api/v1/products/{id}"), ("POST", "/api/v1/checkout"), ("GET", "/api/v2/search"),
          ("PUT", "/api/v1/cart/{id}/items"), ("GET", "/api/v1/users/{id}/profile"))
TEMPLATES = 8
ERROR_SHARE, SLOW_SHARE = 0.02, 0.03
PB_HEADERS = {"Content-Type": "application/x-protobuf"}


def _kv(key: str, value: str | int) -> common_pb2.KeyValue:
    kv = common_pb2.KeyValue(key=key)
    if isinstance(value, int):
        kv.value.int_value = value
    else:
        kv.value.string_value = value
    return kv


class _Builder:
    """Spans of one request, grouped by service, with trace ids under one placeholder prefix."""

    def __init__(self, rnd: random.Random, prefix: bytes, start_ns: int) -> None:
        self.rnd, self.prefix, self.start_ns = rnd, prefix, start_ns
        self.by_service: dict[str, list[trace_pb2.Span]] = {}
        self.count = 0
        self.traces = 0

    def span(self, service: str, trace_id: bytes, parent: bytes, name: str, kind: int, start: int, dur: int,
             attrs: dict[str, str | int], error: bool = False) -> bytes:
        span_id = self.rnd.randbytes(8)
        sp = trace_pb2.Span(trace_id=trace_id, span_id=span_id, parent_span_id=parent, name=name, kind=kind,
                            start_time_unix_nano=start, end_time_unix_nano=start + dur)
        sp.attributes.extend(_kv(k, v) for k, v in attrs.items())
        if error:
            sp.status.code = trace_pb2.Status.STATUS_CODE_ERROR
            sp.status.message = "upstream failed"
        self.by_service.setdefault(service, []).append(sp)
        self.count += 1
        return span_id

    def trace(self) -> None:
        rnd = self.rnd
        trace_id = self.prefix + self.traces.to_bytes(8, "big")
        self.traces += 1
        error, slow = rnd.random() < ERROR_SHARE, rnd.random() < SLOW_SHARE
        method, route = rnd.choice(ROUTES)
        start = self.start_ns + rnd.randrange(0, 1_000_000_000)
        total = int(rnd.uniform(2.2e9, 4e9)) if slow else int(rnd.lognormvariate(17, 0.6))  # ~25 ms
        root = self.span("gateway", trace_id, b"", f"{method} {route}", trace_pb2.Span.SPAN_KIND_SERVER, start,
                         total, {"http.request.method": method, "url.full": "https://shop.example" +
                                 route.replace("{id}", str(rnd.randrange(10_000))),
                                 "http.response.status_code": 500 if error else 200})
        calls = rnd.randint(1, 3)
        failing = rnd.randrange(calls) if error else -1
        for i in range(calls):
            service = rnd.choice(SERVICES)
            at, dur = start + total * i // (calls + 1), total // (calls + 2)
            client = self.span("gateway", trace_id, root, f"call {service}", trace_pb2.Span.SPAN_KIND_CLIENT, at,
                               dur, {"peer.service": service})
            server = self.span(service, trace_id, client, f"{service} handler", trace_pb2.Span.SPAN_KIND_SERVER,
                               at + dur // 20, dur * 9 // 10, {"rpc.system": "http"}, error=i == failing)
            for j in range(rnd.randint(0, 2)):
                db = j % 2 == 0
                self.span("postgres" if db else "redis", trace_id, server, "SELECT orders" if db else "GET cart",
                          trace_pb2.Span.SPAN_KIND_CLIENT, at + dur // 10 * (j + 1), dur // 10,
                          {"db.system": "postgresql" if db else "redis"})

    def request(self) -> bytes:
        req = trace_service_pb2.ExportTraceServiceRequest()
        for service, spans in self.by_service.items():
            rs = req.resource_spans.add()
            rs.resource.attributes.extend([_kv("service.name", service), _kv("deployment.environment.name", "bench"),
                                           _kv("telemetry.sdk.language", "python")])
            ss = rs.scope_spans.add()
            ss.scope.name = "bench"
            ss.spans.extend(spans)
        return req.SerializeToString()


def build_templates(spans_per_request: int, *, n: int = TEMPLATES, seed: int = 4,
                    start_ns: int | None = None) -> list[tuple[bytes, bytes, int]]:
    """(placeholder prefix, encoded request, span count) for n distinct requests."""
    rnd = random.Random(seed)
    start = start_ns if start_ns is not None else time.time_ns()
    out = []
    for _ in range(n):
        prefix = rnd.randbytes(8)
        b = _Builder(rnd, prefix, start)
        while b.count < spans_per_request:
            b.trace()
        out.append((prefix, b.request(), b.count))
    return out


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] if ordered else 0.0


def run_traces_bench(url: str, api_key: str, *, seconds: float, concurrency: int, spans_per_request: int = 512,
                     sampling_spans: int = 100_000) -> dict[str, Any]:
    """Spans/s and request latency through HTTP, then the sampling job's time over held spans."""
    templates = build_templates(spans_per_request)
    headers = {**PB_HEADERS, "Authorization": f"Bearer {api_key}"}
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    spans_ok = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(worker: int) -> None:
        nonlocal spans_ok
        mine: list[float] = []
        codes: Counter[int] = Counter()
        ok = 0
        with httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=60) as c:
            i = worker
            while time.perf_counter() < deadline:
                prefix, body, count = templates[i % len(templates)]
                i += concurrency
                payload = body.replace(prefix, os.urandom(8))
                began = time.perf_counter()
                try:
                    status = c.post("/v1/traces", content=payload).status_code
                except httpx.HTTPError:
                    status = 0
                mine.append((time.perf_counter() - began) * 1000)
                codes[status] += 1
                ok += count if status == 200 else 0
        with lock:
            latencies.extend(mine)
            statuses.update(codes)
            spans_ok += ok

    began = time.perf_counter()
    threads = [threading.Thread(target=client, args=(w,), daemon=True) for w in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    return {
        "spans_per_s": round(spans_ok / elapsed) if elapsed else 0, "spans": spans_ok, "requests": len(latencies),
        "seconds": round(elapsed, 2), "concurrency": concurrency, "spans_per_request": spans_per_request,
        "latency_ms": {"p50": round(_percentile(latencies, 0.5), 1), "p99": round(_percentile(latencies, 0.99), 1),
                       "max": round(max(latencies, default=0.0), 1)},
        "statuses": dict(statuses),
        "sampling": time_sampling(sampling_spans) if sampling_spans else None,
    }


def time_sampling(held_spans: int = 100_000, *, spans_per_request: int = 512) -> dict[str, Any]:
    """Hold `held_spans` spans in a fresh data dir, then time one run of the sampling job."""
    from scrywatch.clock import FakeClock
    from scrywatch.config import load_config
    from scrywatch.runtime import build_runtime
    from scrywatch.services import otlp, traces

    temp = Path(tempfile.mkdtemp(prefix="scrywatch-bench-sampling-"))
    clock = FakeClock()
    config = load_config(None, environ={}, overrides={"data_dir": str(temp), "jobs": {"enabled": False}})
    rt = build_runtime(config, clock=clock)
    templates = build_templates(spans_per_request, start_ns=clock.now_ms() * 1_000_000)

    async def go() -> dict[str, Any]:
        await rt.store.start()
        try:
            held = 0
            stored_in = 0.0
            i = 0
            while held < held_spans:
                prefix, body, _ = templates[i % len(templates)]
                i += 1
                spans, _, _ = otlp.traces_from_protobuf(body.replace(prefix, os.urandom(8)))
                spans = spans[: held_spans - held]
                began = time.perf_counter()
                await traces.store_spans(rt, 1, spans)
                stored_in += time.perf_counter() - began
                held += len(spans)
            clock.advance(seconds=config.traces.hold_seconds + 1)
            began = time.perf_counter()
            summary = await traces.run_sampling(rt)
            took = time.perf_counter() - began
            return {"held_spans": held, "seconds": round(took, 3), **summary,
                    "store_spans_per_s": round(held / stored_in) if stored_in else 0}
        finally:
            await rt.store.close()

    try:
        return asyncio.run(go())
    finally:
        shutil.rmtree(temp, ignore_errors=True)
