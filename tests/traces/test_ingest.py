"""Span ingest: our JSON, OTLP JSON and protobuf, partial acceptance, bad input, limits, auth."""

from __future__ import annotations

import base64
import gzip
from typing import Any

import httpx
import msgspec
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from tests.support import Account, register
from tests.traces.support import T0_MS, new_span_id, new_trace_id, otlp_request, span, trace_tree

PB = {"Content-Type": "application/x-protobuf"}


def _trace(c: httpx.Client, account: Account, trace_id: str) -> dict[str, Any]:
    r = c.get(f"{account.base}/traces/{trace_id}")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _total(c: httpx.Client, account: Account) -> int:
    return c.get(f"{account.base}/traces").json()["total"]  # type: ignore[no-any-return]


def test_json_spans_partial_acceptance_like_log_ingest(account: Account) -> None:
    tid, good = trace_tree()
    bad = [
        {**span(tid), "trace_id": None},
        {**span(tid), "span_id": ""},
        span(tid, duration_ms=-5),
        {**span(tid), "start_time": "yesterday"},
        {**span(tid), "status": "maybe"},
        {**span(tid), "attributes": [1, 2]},
        "not a span",
    ]
    with account.keyed() as c:
        r = c.post("/api/traces", json={"spans": [good[0], *bad, good[1]]})
        assert r.status_code == 202, r.text
        body = r.json()
        assert (body["status"], body["inserted"], body["rejected"]) == (202, 2, 7)
        assert [(e["index"], e["field"]) for e in body["errors"]] == [
            (1, "trace_id"), (2, "span_id"), (3, "end_time"), (4, "start_time"), (5, "status"), (6, "attributes"),
            (7, "span")]
        assert all(e["message"] for e in body["errors"])
        assert _trace(c, account, tid)["trace"]["span_count"] == 2
        # Exactly the spec's body when everything is accepted.
        tid2, spans2 = trace_tree()
        r = c.post("/api/traces", json={"spans": spans2})
        assert (r.status_code, r.json()) == (202, {"status": 202, "inserted": 2})


def test_all_invalid_or_undecodable_is_400_and_nothing_is_written(account: Account) -> None:
    tid = new_trace_id()
    with account.keyed() as c:
        r = c.post("/api/traces", json={"spans": [span(tid, duration_ms=-1), {**span(tid), "span_id": None}]})
        assert r.status_code == 400
        details = r.json()["error"]["details"]
        assert [d["field"] for d in details] == ["spans[0].end_time", "spans[1].span_id"]
        deep = b'{"spans": [{"attributes": {"k": ' + b"[" * 5000 + b"]" * 5000 + b"}}]}"
        for payload in (b"{not json", b'{"spans": 3}', b"[]", b'{"events": []}', b'{"spans": []}', deep):
            r = c.post("/api/traces", content=payload, headers={"Content-Type": "application/json"})
            assert r.status_code == 400, payload
            assert r.json()["error"]["code"] == "validation_error"
        assert _total(c, account) == 0


def test_json_span_details_times_and_tolerance(account: Account) -> None:
    tid = new_trace_id().upper()
    root = span(tid, span_id="ROOT-1", name="checkout", service="shop", start_ms=T0_MS + 0.25, duration_ms=1.5,
                environment="prod",
                attributes={"http.method": "POST", "http.target": "/pay", "http.status_code": "201"},
                events=[{"name": "retry", "timestamp": T0_MS + 1}], kind="server")
    child = span(tid, parent="ROOT-1", span_id="c", name="sql", service="db",
                 start_time=(T0_MS + 0.5) / 1000, end_time=(T0_MS + 1.0) / 1000)  # seconds, by magnitude
    with account.keyed() as c:
        assert c.post("/api/traces", json={"spans": [child, root]}).status_code == 202
        body = _trace(c, account, tid.lower())
    t = body["trace"]
    assert (t["id"], t["name"], t["service"], t["environment"]) == (tid.lower(), "checkout", "shop", "prod")
    assert (t["http_method"], t["http_url"], t["http_status_code"]) == ("POST", "/pay", 201)
    assert t["start_time"] == T0_MS and t["duration_ms"] == 1.5 and t["status"] == "ok"
    by_id = {s["id"]: s for s in body["spans"]}
    assert by_id["ROOT-1"]["events"] == [{"name": "retry", "timestamp": T0_MS + 1}]
    assert by_id["ROOT-1"]["kind"] == "server" and by_id["ROOT-1"]["duration_ms"] == 1.5
    assert abs(by_id["c"]["offset_ms"] - 0.25) < 1e-3 and abs(by_id["c"]["duration_ms"] - 0.5) < 1e-3
    assert by_id["c"]["parent_span_id"] == "ROOT-1" and by_id["c"]["depth"] == 1


def test_retried_batches_do_not_duplicate(account: Account) -> None:
    tid, spans = trace_tree(services=("web", "api", "db"))
    with account.keyed() as c:
        for _ in range(3):
            assert c.post("/api/traces", json={"spans": spans}).status_code == 202
        assert c.post("/api/traces", json={"spans": [spans[0], spans[0]]}).status_code == 202
        assert _trace(c, account, tid)["trace"]["span_count"] == 3
        services = c.get(f"{account.base}/traces/service-map", params={"from": 0}).json()["services"]
        assert sorted((s["service"], s["request_count"]) for s in services) == [("api", 1), ("db", 1), ("web", 1)]


def test_otlp_protobuf_512_spans_gzip_and_reply_in_protobuf(account: Account) -> None:
    trees = [trace_tree(services=("web", "api", "db", "cache")) for _ in range(128)]
    spans = [s for _, tree in trees for s in tree]
    assert len(spans) == 512
    body = gzip.compress(otlp_request(spans, service="ignored", resource={"k8s.pod.name": "web-1"})
                         .SerializeToString())
    with account.keyed() as c:
        for path in ("/v1/traces", "/api/traces/otlp", "/api/traces/otlp/v1/traces"):
            r = c.post(path, content=body, headers={**PB, "Content-Encoding": "gzip"})
            assert r.status_code == 200, r.text
            assert r.headers["content-type"] == "application/x-protobuf"
            reply = trace_service_pb2.ExportTraceServiceResponse.FromString(r.content)
            assert not reply.HasField("partial_success")
        assert _total(c, account) == 128
        detail = _trace(c, account, trees[5][0])
        assert detail["trace"]["span_count"] == 4 and detail["trace"]["service"] == "ignored"
        assert detail["spans"][0]["resource"] == {"k8s.pod.name": "web-1"}


def test_otlp_json_with_hex_base64_and_string_ids(account: Account) -> None:
    trace_hex = new_trace_id()
    root_hex, child_hex = new_span_id(), new_span_id()
    b64 = lambda h: base64.b64encode(bytes.fromhex(h)).decode()  # noqa: E731
    doc = {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "gateway"}},
                                    {"key": "deployment.environment", "value": {"stringValue": "qa"}}]},
        "scopeSpans": [{"scope": {"name": "x"}, "spans": [
            {"traceId": trace_hex.upper(), "spanId": root_hex, "name": "GET /a", "kind": 2,
             "startTimeUnixNano": str(T0_MS * 1_000_000), "endTimeUnixNano": T0_MS * 1_000_000 + 2_500_000,
             "attributes": [{"key": "http.request.method", "value": {"stringValue": "GET"}},
                            {"key": "http.response.status_code", "value": {"intValue": "404"}},
                            {"key": "ratio", "value": {"doubleValue": 0.5}},
                            {"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "a"}]}}},
                            {"key": "nested", "value": {"kvlistValue": {"values": [
                                {"key": "ok", "value": {"boolValue": True}}]}}}],
             "status": {"code": "STATUS_CODE_ERROR", "message": "not found"}},
            {"traceId": b64(trace_hex), "spanId": b64(child_hex), "parentSpanId": b64(root_hex), "name": "lookup",
             "kind": "SPAN_KIND_CLIENT", "startTimeUnixNano": T0_MS * 1_000_000 + 100_000,
             "endTimeUnixNano": str(T0_MS * 1_000_000 + 200_000),
             "events": [{"timeUnixNano": str(T0_MS * 1_000_000 + 150_000), "name": "hit",
                         "attributes": [{"key": "n", "value": {"intValue": 3}}]}]},
            {"traceId": "my-trace", "spanId": "my-span", "name": "odd ids",
             "startTimeUnixNano": T0_MS * 1_000_000, "endTimeUnixNano": T0_MS * 1_000_000 + 1}]}]}]}
    with account.keyed() as c:
        r = c.post("/v1/traces", json=doc)
        assert (r.status_code, r.json()) == (200, {})
        assert r.headers["content-type"] == "application/json"
        body = _trace(c, account, trace_hex)
        assert _trace(c, account, "my-trace")["spans"][0]["id"] == "my-span"
    t = body["trace"]
    assert (t["service"], t["environment"], t["status"], t["duration_ms"]) == ("gateway", "qa", "error", 2.5)
    assert (t["http_method"], t["http_status_code"]) == ("GET", 404)
    root, child = body["spans"]
    assert (root["id"], child["id"], child["parent_span_id"]) == (root_hex, child_hex, root_hex)
    assert root["attributes"] == {"http.request.method": "GET", "http.response.status_code": 404, "ratio": 0.5,
                                  "tags": ["a"], "nested": {"ok": True}}
    assert (root["kind"], child["kind"], root["status_message"]) == ("server", "client", "not found")
    assert child["duration_ms"] == 0.1 and child["offset_ms"] == 0.1
    assert child["events"] == [{"name": "hit", "timestamp": T0_MS + 0.15, "attributes": {"n": 3}}]


def test_otlp_partial_success_and_all_invalid(account: Account) -> None:
    tid = new_trace_id()
    good = span(tid)
    reversed_times = span(tid, duration_ms=-1)
    req = otlp_request([good, reversed_times])
    missing_ids = req.resource_spans[0].scope_spans[0].spans.add(name="no ids", start_time_unix_nano=1,
                                                                 end_time_unix_nano=2)
    assert missing_ids.name == "no ids"
    with account.keyed() as c:
        r = c.post("/v1/traces", content=req.SerializeToString(), headers=PB)
        assert r.status_code == 200
        partial = trace_service_pb2.ExportTraceServiceResponse.FromString(r.content).partial_success
        assert partial.rejected_spans == 2
        assert "endTimeUnixNano" in partial.error_message and "traceId" in partial.error_message
        doc = msgspec.json.decode(msgspec.json.encode({"resourceSpans": [{"scopeSpans": [{"spans": [
            {"traceId": tid, "spanId": new_span_id(), "name": "x", "startTimeUnixNano": 5, "endTimeUnixNano": 1},
            {"traceId": tid, "spanId": new_span_id(), "name": "y", "startTimeUnixNano": "7",
             "endTimeUnixNano": "9"}]}]}]}))
        r = c.post("/api/traces/otlp", json=doc)
        assert r.status_code == 200
        assert r.json()["partialSuccess"]["rejectedSpans"] == "1"
        r = c.post("/v1/traces", content=otlp_request([reversed_times]).SerializeToString(), headers=PB)
        assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "spans[0].endTimeUnixNano"
        assert _trace(c, account, tid)["trace"]["span_count"] == 2


def test_malformed_bodies_and_wrong_content_types(account: Account) -> None:
    with account.keyed() as c:
        for bad in (b"\xff\xff\xff\xff", b"not protobuf at all", b'{"resourceSpans": []}'):
            r = c.post("/v1/traces", content=bad, headers=PB)
            assert r.status_code == 400, bad
            assert "protobuf" in r.json()["error"]["message"]
        r = c.post("/v1/traces", content=b"{nope", headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["error"]["message"] == "request body is not valid JSON"
        for doc in (b'{"resourceSpans": {"a": 1}}', b'{"resourceSpans": ' + b"[" * 5000 + b"]" * 5000 + b"}"):
            r = c.post("/v1/traces", content=doc, headers={"Content-Type": "application/json"})
            assert r.status_code == 400
        r = c.post("/v1/traces", content=b"\x1f\x8b garbage", headers={**PB, "Content-Encoding": "gzip"})
        assert r.status_code == 400
        for path in ("/v1/traces", "/v1/logs", "/api/traces"):
            r = c.post(path, content=b"<xml/>", headers={"Content-Type": "application/xml"})
            assert r.status_code == 415, path
            assert r.json()["error"]["code"] == "unsupported_media_type"
        assert _total(c, account) == 0


def test_limits_and_auth(account: Account, server: Any) -> None:
    tid = new_trace_id()
    too_many = [span(tid) for _ in range(server.config.ingest.max_batch_events + 1)]
    with account.keyed() as c:
        assert c.post("/api/traces", json={"spans": too_many}).status_code == 413
        r = c.post("/v1/traces", content=otlp_request(too_many).SerializeToString(), headers=PB)
        assert r.status_code == 413
        key = c.post(f"{account.base}/settings/api-keys", json={"name": "ro", "scope": "read"})
    read_key = account.client.post(f"{account.base}/settings/api-keys", json={"name": "ro", "scope": "read"})
    assert key.status_code == 403 and read_key.status_code == 201
    with server.key_client(read_key.json()["key"]) as ro:
        assert ro.post("/api/traces", json={"spans": [span(tid)]}).status_code == 403
        assert ro.post("/v1/traces", content=b"", headers=PB).status_code == 403
    with server.client() as anonymous:
        assert anonymous.post("/v1/traces", content=b"", headers=PB).status_code == 401
        assert anonymous.get(f"{account.base}/traces").status_code == 401
    # Sessions read traces but do not ingest.
    assert account.client.post("/api/traces", json={"spans": [span(tid)]}).status_code == 403
    assert account.client.get(f"{account.base}/traces").status_code == 200


def test_otlp_logs_json_and_protobuf(account: Account) -> None:
    tid, sid = new_trace_id(), new_span_id()
    doc = {"resourceLogs": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "worker"}}]}, "scopeLogs": [{"logRecords": [
            {"timeUnixNano": "0", "observedTimeUnixNano": str(T0_MS * 1_000_000), "severityNumber": 13,
             "body": {"stringValue": "disk almost full"}, "traceId": tid, "spanId": sid,
             "attributes": [{"key": "disk", "value": {"stringValue": "/dev/sda"}}]},
            {"timeUnixNano": T0_MS * 1_000_000, "severityNumber": "SEVERITY_NUMBER_FATAL",
             "body": {"stringValue": "x"}},
            {"timeUnixNano": "soon", "body": {"stringValue": "bad time"}}]}]}]}
    req = logs_service_pb2.ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    lr = rl.scope_logs.add().log_records.add(time_unix_nano=T0_MS * 1_000_000, severity_number=5,
                                             trace_id=bytes.fromhex(tid))
    lr.body.string_value = "cache miss"
    with account.keyed() as c:
        r = c.post("/api/logs/otlp", json=doc)
        assert r.status_code == 200
        assert r.json()["partialSuccess"]["rejectedLogRecords"] == "1"
        r = c.post("/v1/logs", content=req.SerializeToString(), headers=PB)
        assert r.status_code == 200 and r.headers["content-type"] == "application/x-protobuf"
        assert not logs_service_pb2.ExportLogsServiceResponse.FromString(r.content).HasField("partial_success")
        r = c.post("/v1/logs", content=b"\x00\xff", headers=PB)
        assert r.status_code == 400
        results = c.get(f"{account.base}/logs", params={"trace_id": tid, "from": 0}).json()["results"]
    by_message = {e["message"]: e for e in results}
    assert set(by_message) == {"disk almost full", "cache miss"}
    disk = by_message["disk almost full"]
    assert (disk["level"], disk["service"], disk["span_id"], disk["timestamp"]) == ("warn", "worker", sid, T0_MS)
    assert disk["metadata"] == {"disk": "/dev/sda"}
    assert by_message["cache miss"]["level"] == "debug"


def test_body_size_limit_and_gzip_json(make_server: Any) -> None:
    account = register(make_server(ingest={"max_body_bytes": 20_000}))
    tid, spans = trace_tree()
    with account.keyed() as c:
        r = c.post("/api/traces", content=gzip.compress(msgspec.json.encode({"spans": spans})),
                   headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
        assert r.status_code == 202, r.text
        big = [span(tid, attributes={"blob": "x" * 1000}) for _ in range(30)]
        assert c.post("/api/traces", json={"spans": big}).status_code == 413
        r = c.post("/v1/traces", content=gzip.compress(otlp_request(big).SerializeToString()),
                   headers={**PB, "Content-Encoding": "gzip"})  # small compressed, too large decompressed
        assert r.status_code == 413
        assert _trace(c, account, tid)["trace"]["span_count"] == 2
