"""Trace test support: span factories, OTLP request builders, running a job beside a live server."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from scrywatch import jobs
from scrywatch.runtime import build_runtime
from tests.support import LiveServer

T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: a fixed span clock, independent of the server's


def new_trace_id() -> str:
    return os.urandom(16).hex()


def new_span_id() -> str:
    return os.urandom(8).hex()


def span(trace_id: str, *, span_id: str | None = None, parent: str | None = None, service: str = "web",
         name: str = "op", start_ms: float = T0_MS, duration_ms: float = 10.0, status: str = "ok",
         **extra: Any) -> dict[str, Any]:
    """A span in POST /api/traces' JSON shape."""
    body = {"trace_id": trace_id, "span_id": span_id or new_span_id(), "parent_span_id": parent, "name": name,
            "service": service, "start_time": start_ms, "end_time": start_ms + duration_ms, "status": status}
    body.update(extra)
    return body


def trace_tree(*, services: tuple[str, ...] = ("web", "api"), start_ms: float = T0_MS, duration_ms: float = 20.0,
               error: bool = False) -> tuple[str, list[dict[str, Any]]]:
    """A root span in services[0] calling one child in each other service."""
    tid = new_trace_id()
    root = span(tid, service=services[0], name="GET /", start_ms=start_ms, duration_ms=duration_ms,
                attributes={"http.method": "GET", "http.url": "/", "http.status_code": 500 if error else 200})
    children = [span(tid, parent=root["span_id"], service=s, name=f"call {s}", start_ms=start_ms + 1,
                     duration_ms=duration_ms / 2, status="error" if error else "ok") for s in services[1:]]
    return tid, [root, *children]


def _kv(key: str, value: Any) -> common_pb2.KeyValue:
    kv = common_pb2.KeyValue(key=key)
    if isinstance(value, bool):
        kv.value.bool_value = value
    elif isinstance(value, int):
        kv.value.int_value = value
    elif isinstance(value, float):
        kv.value.double_value = value
    else:
        kv.value.string_value = str(value)
    return kv


def otlp_request(spans: list[dict[str, Any]], *, service: str = "web",
                 resource: dict[str, Any] | None = None) -> trace_service_pb2.ExportTraceServiceRequest:
    """A protobuf export request of spans in our JSON shape (ids must be hex)."""
    req = trace_service_pb2.ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.extend(_kv(k, v) for k, v in {"service.name": service, **(resource or {})}.items())
    ss = rs.scope_spans.add()
    ss.scope.name = "tests"
    for s in spans:
        sp = ss.spans.add()
        sp.trace_id = bytes.fromhex(s["trace_id"])
        sp.span_id = bytes.fromhex(s["span_id"])
        if s.get("parent_span_id"):
            sp.parent_span_id = bytes.fromhex(s["parent_span_id"])
        sp.name = s["name"]
        sp.kind = trace_pb2.Span.SPAN_KIND_SERVER
        sp.start_time_unix_nano = round(s["start_time"] * 1_000_000)
        sp.end_time_unix_nano = round(s["end_time"] * 1_000_000)
        if s.get("status") == "error":
            sp.status.code = trace_pb2.Status.STATUS_CODE_ERROR
            sp.status.message = "boom"
        sp.attributes.extend(_kv(k, v) for k, v in (s.get("attributes") or {}).items())
    return req


def run_job(server: LiveServer, name: str) -> dict[str, Any]:
    """Run one job once, as `scrywatch jobs run NAME` does beside a running server, on the server's clock."""

    async def go() -> dict[str, Any]:
        rt = build_runtime(server.config, clock=server.runtime.clock)
        await rt.store.start()
        try:
            return await jobs.run_job(rt, name)
        finally:
            await rt.store.close()

    return asyncio.run(go())
