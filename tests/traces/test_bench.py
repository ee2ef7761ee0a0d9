"""`scrywatch bench --traces` in miniature: realistic OTLP requests, a short run, the sampling timing."""

from __future__ import annotations

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from scrywatch.bench.traces import build_templates, run_traces_bench
from tests.support import Account


def test_templates_are_realistic_otlp_requests() -> None:
    (prefix, body, count), *_ = build_templates(64, n=2)
    req = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
    spans = [s for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert len(spans) == count >= 64
    assert len({rs.resource.attributes[0].value.string_value for rs in req.resource_spans}) >= 3
    assert all(s.trace_id.startswith(prefix) for s in spans)
    ids = {s.span_id for s in spans}
    assert any(s.parent_span_id in ids for s in spans) and any(not s.parent_span_id for s in spans)


def test_short_run_against_the_server(account: Account) -> None:
    result = run_traces_bench(account.server.url, account.api_key, seconds=0.5, concurrency=2,
                              spans_per_request=128, sampling_spans=3_000)
    assert result["statuses"] == {200: result["requests"]} and result["spans_per_s"] > 0
    assert result["latency_ms"]["p50"] > 0
    sampling = result["sampling"]
    assert sampling["held_spans"] == 3_000 and sampling["kept"] + sampling["purged"] > 0
    with account.keyed() as c:
        services = c.get(f"{account.base}/traces/service-map", params={"from": 0, "to": 2**50}).json()["services"]
    assert sum(s["request_count"] for s in services) == result["spans"]
