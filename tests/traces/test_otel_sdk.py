"""The official OpenTelemetry Python SDK and its OTLP/HTTP protobuf exporters against the real server."""

from __future__ import annotations

import time
from typing import Any

from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status, StatusCode

from scrywatch.clock import FakeClock
from tests.support import register, wait_for
from tests.traces.support import run_job


def _provider(url: str, key: str, service: str) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": service,
                                                        "deployment.environment.name": "staging"}))
    exporter = OTLPSpanExporter(endpoint=f"{url}/v1/traces", headers={"Authorization": f"Bearer {key}"})
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def test_sdk_spans_arrive_with_services_parent_links_and_error_status(make_server: Any) -> None:
    clock = FakeClock()
    server = make_server(clock=clock, traces={"hold_seconds": 5})
    account = register(server)
    checkout = _provider(server.url, account.api_key, "checkout")
    payments = _provider(server.url, account.api_key, "payments")
    try:
        with checkout.get_tracer("tests").start_as_current_span(
            "POST /checkout", kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": "POST", "url.full": "http://shop/checkout",
                        "http.response.status_code": 502},
        ) as root:
            with checkout.get_tracer("tests").start_as_current_span("load cart", kind=trace.SpanKind.CLIENT):
                pass
            # The remote service continues the trace, as it would from a traceparent header.
            remote = payments.get_tracer("tests")
            with remote.start_as_current_span("charge card", kind=trace.SpanKind.SERVER) as charge:
                charge.set_status(Status(StatusCode.ERROR, "card declined"))
                charge.add_event("declined", {"reason": "insufficient funds"})
        assert checkout.force_flush(10_000) and payments.force_flush(10_000)
    finally:
        checkout.shutdown()
        payments.shutdown()

    trace_id = format(root.get_span_context().trace_id, "032x")
    root_id = format(root.get_span_context().span_id, "016x")
    with account.keyed() as c:
        r = c.get(f"{account.base}/traces/{trace_id}")
        assert r.status_code == 200, r.text
        body = r.json()
        t = body["trace"]
        assert (t["id"], t["service"], t["name"], t["status"], t["span_count"]) == (
            trace_id, "checkout", "POST /checkout", "error", 3)
        assert (t["http_method"], t["http_url"], t["http_status_code"]) == ("POST", "http://shop/checkout", 502)
        assert t["environment"] == "staging" and t["sampling"] == "held"
        spans = {s["name"]: s for s in body["spans"]}
        assert [s["name"] for s in body["spans"]] == ["POST /checkout", "load cart", "charge card"]
        assert spans["POST /checkout"]["parent_span_id"] is None and spans["POST /checkout"]["depth"] == 0
        for child in ("load cart", "charge card"):
            assert spans[child]["parent_span_id"] == root_id and spans[child]["depth"] == 1
        charge_view = spans["charge card"]
        assert (charge_view["service"], charge_view["status"], charge_view["status_message"]) == (
            "payments", "error", "card declined")
        assert charge_view["kind"] == "server"
        assert charge_view["events"][0]["name"] == "declined"
        assert charge_view["events"][0]["attributes"] == {"reason": "insufficient funds"}
        assert charge_view["resource"]["telemetry.sdk.language"] == "python"
        assert 0 <= charge_view["duration_ms"] < 5_000

        clock.advance(seconds=6)
        assert run_job(server, "sampling")["kept"] == 1
        assert c.get(f"{account.base}/traces/{trace_id}").json()["trace"]["sampling"] == "kept"
        smap = c.get(f"{account.base}/traces/service-map", params={"from": 0, "to": 2**50}).json()
        assert {s["service"]: (s["request_count"], s["error_count"]) for s in smap["services"]} == {
            "checkout": (2, 0), "payments": (1, 1)}
        assert smap["edges"] == [{"source": "checkout", "target": "payments", "count": 1}]


def test_sdk_logs_become_log_events(server: Any) -> None:
    account = register(server)
    provider = LoggerProvider(resource=Resource.create({"service.name": "billing",
                                                        "deployment.environment": "prod"}))
    exporter = OTLPLogExporter(endpoint=f"{server.url}/v1/logs",
                               headers={"Authorization": f"Bearer {account.api_key}"})
    provider.add_log_record_processor(BatchLogRecordProcessor(exporter))
    otel_logger = provider.get_logger("tests.billing")
    tracer = TracerProvider().get_tracer("tests")
    try:
        with tracer.start_as_current_span("invoice run") as current:
            # No timestamp: the record carries only observedTimeUnixNano, as many bridges send.
            otel_logger.emit(severity_number=SeverityNumber.WARN, severity_text="WARN",
                             body="invoice INV-7 overdue", attributes={"invoice_id": "INV-7", "days": 12})
        otel_logger.emit(timestamp=time.time_ns(), severity_number=SeverityNumber.ERROR3,
                         body="payment gateway unreachable")
        otel_logger.emit(timestamp=time.time_ns(), severity_number=SeverityNumber.DEBUG, body="retrying in 5s")
        otel_logger.emit(timestamp=time.time_ns(), severity_text="Information", body={"structured": True})
        assert provider.force_flush(10_000)
    finally:
        provider.shutdown()

    trace_id = format(current.get_span_context().trace_id, "032x")
    span_id = format(current.get_span_context().span_id, "016x")
    with account.keyed() as c:
        linked = wait_for(lambda: c.get(f"{account.base}/logs", params={"trace_id": trace_id}).json()["results"],
                          message="the log linked to the trace")
        assert len(linked) == 1
        event = linked[0]
        assert (event["message"], event["level"], event["type"]) == ("invoice INV-7 overdue", "warn", "custom")
        assert (event["service"], event["environment"]) == ("billing", "prod")
        assert (event["trace_id"], event["span_id"]) == (trace_id, span_id)
        assert event["metadata"]["invoice_id"] == "INV-7" and event["metadata"]["days"] == 12
        levels = {e["message"]: e["level"] for e in c.get(f"{account.base}/logs",
                                                           params={"service": "billing"}).json()["results"]}
        assert levels == {"invoice INV-7 overdue": "warn", "payment gateway unreachable": "error",
                          "retrying in 5s": "debug", '{"structured":true}': "info"}
