"""OTLP/HTTP logs: ExportLogsServiceRequest in protobuf or JSON decoded into log event dicts (the
shape POST /api/ingest takes), and the export response in the request's encoding."""

from __future__ import annotations

from typing import Any

import msgspec
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2

from scrywatch.errors import InvalidInput
from scrywatch.services.otlp import (
    Decoded,
    collect,
    enum_value,
    field_of,
    int64,
    json_attrs,
    json_document,
    json_id,
    json_resource,
    json_value,
    list_of,
    pb_attrs,
    pb_value,
    resource_context,
)
from scrywatch.services.spans import SpanProblem

_json_out = msgspec.json.Encoder()

_LEVEL_PREFIXES = (("TRACE", "debug"), ("DEBUG", "debug"), ("INFO", "info"), ("WARN", "warn"),
                   ("ERR", "error"), ("FATAL", "error"), ("CRIT", "error"))
_SEVERITY_NAMES = {f"{name}{n if n > 1 else ''}": base + n - 1 for name, base in
                   (("TRACE", 1), ("DEBUG", 5), ("INFO", 9), ("WARN", 13), ("ERROR", 17), ("FATAL", 21))
                   for n in (4, 3, 2, 1)}  # longest suffix first: WARN2 before WARN


def log_level(severity_number: int, severity_text: str | None) -> str:
    """OTel severity 1-8 debug, 9-12 info, 13-16 warn, 17-24 error; else from the text; else info."""
    for upper, level in ((8, "debug"), (12, "info"), (16, "warn"), (24, "error")):
        if 1 <= severity_number <= upper:
            return level
    text = (severity_text or "").strip().upper()
    for prefix, level in _LEVEL_PREFIXES:
        if text.startswith(prefix):
            return level
    return "info"


def _log_event(ctx: tuple[str | None, str | None, dict[str, Any]], *, time_ns: int, observed_ns: int,
               severity: int, severity_text: str | None, body: Any, attributes: dict[str, Any],
               trace_id: str | None, span_id: str | None, event_name: str | None) -> dict[str, Any]:
    """A log event in the shape POST /api/ingest takes (normalised further by log ingest)."""
    ns = time_ns or observed_ns  # timeUnixNano is optional; observedTimeUnixNano is set by collectors
    message = body if isinstance(body, str) else "" if body is None else _json_out.encode(body).decode()
    if event_name and "event.name" not in attributes:
        attributes = {**attributes, "event.name": event_name}
    return {"timestamp": ns // 1_000_000 if ns else None, "level": log_level(severity, severity_text),
            "type": "custom", "message": message or event_name or "", "service": ctx[0], "environment": ctx[1],
            "trace_id": trace_id, "span_id": span_id, "metadata": attributes or None}


def _pb_log(ctx: tuple[str | None, str | None, dict[str, Any]], lr: Any) -> dict[str, Any]:
    return _log_event(ctx, time_ns=lr.time_unix_nano, observed_ns=lr.observed_time_unix_nano,
                      severity=lr.severity_number, severity_text=lr.severity_text,
                      body=pb_value(lr.body) if lr.HasField("body") else None, attributes=pb_attrs(lr.attributes),
                      trace_id=lr.trace_id.hex() or None, span_id=lr.span_id.hex() or None,
                      event_name=lr.event_name or None)


def logs_from_protobuf(body: bytes) -> Decoded:
    """Log events of a protobuf ExportLogsServiceRequest."""
    try:
        req = logs_service_pb2.ExportLogsServiceRequest.FromString(body)
    except DecodeError as exc:
        raise InvalidInput("body is not a valid OTLP protobuf ExportLogsServiceRequest", field="body") from exc
    groups = []
    for rl in req.resource_logs:
        ctx = resource_context(pb_attrs(rl.resource.attributes))
        for sl in rl.scope_logs:
            groups.append((ctx, list(sl.log_records)))
    return collect(groups, _pb_log)


def _json_log(ctx: tuple[str | None, str | None, dict[str, Any]], lr: Any) -> dict[str, Any]:
    if not isinstance(lr, dict):
        raise SpanProblem("logRecord", "must be an object")
    text = field_of(lr, "severityText", "severity_text")
    name = field_of(lr, "eventName", "event_name")
    return _log_event(
        ctx, time_ns=int64(field_of(lr, "timeUnixNano", "time_unix_nano") or 0, "timeUnixNano"),
        observed_ns=int64(field_of(lr, "observedTimeUnixNano", "observed_time_unix_nano") or 0, "observedTimeUnixNano"),
        severity=enum_value(field_of(lr, "severityNumber", "severity_number"), _SEVERITY_NAMES),
        severity_text=text if isinstance(text, str) else None, body=json_value(lr.get("body")),
        attributes=json_attrs(lr.get("attributes")),
        trace_id=json_id(field_of(lr, "traceId", "trace_id"), 16, "traceId", required=False),
        span_id=json_id(field_of(lr, "spanId", "span_id"), 8, "spanId", required=False),
        event_name=name if isinstance(name, str) and name else None)


def logs_from_json(body: bytes) -> Decoded:
    """Log events of a JSON ExportLogsServiceRequest."""
    doc = json_document(body)
    groups = []
    for rl in list_of(doc, "resourceLogs", "resource_logs", "the request"):
        if not isinstance(rl, dict):
            raise InvalidInput("resourceLogs items must be objects", field="resourceLogs")
        ctx = json_resource(rl)
        for sl in list_of(rl, "scopeLogs", "scope_logs", "resourceLogs"):
            if isinstance(sl, dict):
                groups.append((ctx, list_of(sl, "logRecords", "log_records", "scopeLogs")))
    return collect(groups, _json_log)


def logs_response(rejected: int, message: str, *, protobuf: bool) -> bytes:
    """An ExportLogsServiceResponse (partial success only when records were rejected)."""
    if protobuf:
        resp = logs_service_pb2.ExportLogsServiceResponse()
        if rejected:
            resp.partial_success.rejected_log_records = rejected
            resp.partial_success.error_message = message
        return resp.SerializeToString()
    body = {"partialSuccess": {"rejectedLogRecords": str(rejected), "errorMessage": message}} if rejected else {}
    return _json_out.encode(body)
