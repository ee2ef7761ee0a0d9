"""OTLP/HTTP traces: ExportTraceServiceRequest in protobuf or JSON decoded into SpanRecords, and the
export response in the request's encoding. The value, id and resource helpers serve otlp_logs too.

Tolerated beyond the spec: ids as hex, base64 or any string; int64 as string or number; enum names
as well as numbers; snake_case field names (protobuf's JSON mapping accepts them too).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

import msgspec
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from scrywatch.errors import InvalidInput
from scrywatch.models.traces import SpanError, SpanRecord
from scrywatch.services.spans import SpanProblem, check_times, clean_id, make_span

SPAN_KINDS = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
STATUS_ERROR = 2
_HEX_RE = re.compile(r"^[0-9a-fA-F]+$")
_json_any = msgspec.json.Decoder()
_json_out = msgspec.json.Encoder()
Decoded = tuple[list[Any], list[SpanError], int]  # (good items, errors, items seen)


def field_of(obj: dict[str, Any], camel: str, snake: str) -> Any:
    value = obj.get(camel)
    return obj.get(snake) if value is None else value


def list_of(obj: dict[str, Any], camel: str, snake: str, where: str) -> list[Any]:
    value = field_of(obj, camel, snake)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput(f"must be a list ({where})", field=camel)
    return value


# -- values ----------------------------------------------------------------------------------------
def pb_value(v: Any) -> Any:
    """An AnyValue message as a plain value."""
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [pb_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: pb_value(kv.value) for kv in v.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(v.bytes_value).decode()
    return getattr(v, kind)


def pb_attrs(attrs: Any) -> dict[str, Any]:
    return {kv.key: pb_value(kv.value) for kv in attrs}


def int64(value: Any, field: str = "value") -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise SpanProblem(field, "must be an integer (string or number)")


def json_value(v: Any) -> Any:
    """An OTLP JSON AnyValue as a plain value (plain JSON values pass through)."""
    if not isinstance(v, dict):
        return v
    for key, val in v.items():
        if key in ("stringValue", "string_value", "bytesValue", "bytes_value"):
            return val
        if key in ("intValue", "int_value"):
            try:
                return int64(val)
            except SpanProblem:
                return val
        if key in ("doubleValue", "double_value"):
            try:  # proto3 JSON writes NaN and Infinity as strings
                return float(val) if isinstance(val, int | float | str) and not isinstance(val, bool) else val
            except ValueError:
                return val
        if key in ("boolValue", "bool_value"):
            return bool(val)
        if key in ("arrayValue", "array_value"):
            return [json_value(x) for x in (val or {}).get("values") or []] if isinstance(val, dict) else val
        if key in ("kvlistValue", "kvlist_value"):
            return json_attrs(val.get("values") if isinstance(val, dict) else None)
    return None


def json_attrs(attrs: Any, field: str = "attributes") -> dict[str, Any]:
    if attrs is None:
        return {}
    if not isinstance(attrs, list):
        raise SpanProblem(field, "must be a list of {key, value}")
    return {str(kv.get("key")): json_value(kv.get("value")) for kv in attrs if isinstance(kv, dict)}


def json_id(value: Any, nbytes: int, field: str, *, required: bool) -> str | None:
    """Hex as sent; base64 of the right length decoded to hex; anything else kept as a string."""
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 2 * nbytes and _HEX_RE.match(text):
            return text.lower()
        if text and len(text) <= 4 * ((nbytes + 2) // 3):
            try:
                raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if "-" in text or "_" in text
                                       else None, validate=True)
            except (binascii.Error, ValueError):
                raw = b""
            if len(raw) == nbytes:
                return raw.hex()
    return clean_id(value, field, required=required)


def enum_value(value: Any, names: dict[str, int]) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value.isdigit():
            return int(value)
        for name, number in names.items():
            if value.upper().endswith(name):
                return number
    return 0


def resource_context(attrs: dict[str, Any]) -> tuple[str | None, str | None, dict[str, Any]]:
    service = attrs.get("service.name")
    env = attrs.get("deployment.environment.name") or attrs.get("deployment.environment")
    rest = {k: v for k, v in attrs.items()
            if k not in ("service.name", "deployment.environment.name", "deployment.environment")}
    return (str(service) if service not in (None, "") else None, str(env) if env not in (None, "") else None, rest)


def collect(groups: list[tuple[Any, list[Any]]], build: Callable[[Any, Any], Any]) -> Decoded:
    good: list[Any] = []
    errors: list[SpanError] = []
    index = 0
    for context, items in groups:
        for item in items:
            try:
                good.append(build(context, item))
            except SpanProblem as p:
                errors.append(SpanError(index=index, field=p.field, message=p.message))
            except RecursionError:
                errors.append(SpanError(index=index, field="attributes", message="are nested too deeply"))
            index += 1
    return good, errors, index


# -- traces ----------------------------------------------------------------------------------------
def _pb_span(ctx: tuple[str | None, str | None, dict[str, Any]], sp: Any) -> SpanRecord:
    trace_id = sp.trace_id.hex()
    span_id = sp.span_id.hex()
    if not trace_id:
        raise SpanProblem("traceId", "is required")
    if not span_id:
        raise SpanProblem("spanId", "is required")
    start, end = sp.start_time_unix_nano, sp.end_time_unix_nano
    check_times(start, end, start_field="startTimeUnixNano", end_field="endTimeUnixNano")
    events = [{"name": e.name, "timestamp": e.time_unix_nano / 1e6, "attributes": pb_attrs(e.attributes)}
              for e in sp.events] if len(sp.events) else None
    status = sp.status
    return make_span(trace_id=trace_id, span_id=span_id, parent_span_id=sp.parent_span_id.hex() or None,
                     name=sp.name, service=ctx[0], environment=ctx[1], kind=SPAN_KINDS.get(sp.kind),
                     start_ns=start, end_ns=end, error=status.code == STATUS_ERROR, status_message=status.message,
                     attributes=pb_attrs(sp.attributes), events=events, resource=ctx[2])


def traces_from_protobuf(body: bytes) -> Decoded:
    """Spans of a protobuf ExportTraceServiceRequest."""
    try:
        req = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
    except DecodeError as exc:
        raise InvalidInput("body is not a valid OTLP protobuf ExportTraceServiceRequest", field="body") from exc
    groups = []
    for rs in req.resource_spans:
        ctx = resource_context(pb_attrs(rs.resource.attributes))
        for ss in rs.scope_spans:
            groups.append((ctx, list(ss.spans)))
    return collect(groups, _pb_span)


def _json_span(ctx: tuple[str | None, str | None, dict[str, Any]], sp: Any) -> SpanRecord:
    if not isinstance(sp, dict):
        raise SpanProblem("span", "must be an object")
    trace_id = json_id(field_of(sp, "traceId", "trace_id"), 16, "traceId", required=True)
    span_id = json_id(field_of(sp, "spanId", "span_id"), 8, "spanId", required=True)
    parent = json_id(field_of(sp, "parentSpanId", "parent_span_id"), 8, "parentSpanId", required=False)
    start = int64(field_of(sp, "startTimeUnixNano", "start_time_unix_nano") or 0, "startTimeUnixNano")
    end = int64(field_of(sp, "endTimeUnixNano", "end_time_unix_nano") or 0, "endTimeUnixNano")
    check_times(start, end, start_field="startTimeUnixNano", end_field="endTimeUnixNano")
    status = sp.get("status") if isinstance(sp.get("status"), dict) else {}
    events = []
    for e in sp.get("events") or []:
        if isinstance(e, dict):
            at = int64(field_of(e, "timeUnixNano", "time_unix_nano") or 0, "events.timeUnixNano")
            events.append({"name": str(e.get("name") or ""), "timestamp": at / 1e6,
                           "attributes": json_attrs(e.get("attributes"), "events.attributes")})
    name = sp.get("name")
    message = status.get("message")
    return make_span(trace_id=trace_id, span_id=span_id, parent_span_id=parent,  # type: ignore[arg-type]
                     name=name if isinstance(name, str) else "", service=ctx[0], environment=ctx[1],
                     kind=SPAN_KINDS.get(enum_value(sp.get("kind"), {"INTERNAL": 1, "SERVER": 2, "CLIENT": 3,
                                                                 "PRODUCER": 4, "CONSUMER": 5})),
                     start_ns=start, end_ns=end,
                     error=enum_value(status.get("code"), {"UNSET": 0, "OK": 1, "ERROR": 2}) == STATUS_ERROR,
                     status_message=message if isinstance(message, str) else None,
                     attributes=json_attrs(sp.get("attributes")), events=events, resource=ctx[2])


def json_document(body: bytes) -> dict[str, Any]:
    try:
        doc = _json_any.decode(body) if body.strip() else {}
    except msgspec.DecodeError as exc:
        raise InvalidInput("request body is not valid JSON", field="body") from exc
    except RecursionError as exc:
        raise InvalidInput("request body is nested too deeply", field="body") from exc
    if not isinstance(doc, dict):
        raise InvalidInput("body must be a JSON object", field="body")
    return doc


def json_resource(group: dict[str, Any]) -> tuple[str | None, str | None, dict[str, Any]]:
    resource = group.get("resource")
    try:
        return resource_context(json_attrs(resource.get("attributes") if isinstance(resource, dict) else None))
    except SpanProblem as p:
        raise InvalidInput("resource attributes must be a list of {key, value}", field="resource") from p


def traces_from_json(body: bytes) -> Decoded:
    """Spans of a JSON ExportTraceServiceRequest."""
    doc = json_document(body)
    groups = []
    for rs in list_of(doc, "resourceSpans", "resource_spans", "the request"):
        if not isinstance(rs, dict):
            raise InvalidInput("resourceSpans items must be objects", field="resourceSpans")
        ctx = json_resource(rs)
        scopes = list_of(rs, "scopeSpans", "scope_spans", "resourceSpans") or rs.get("instrumentationLibrarySpans", [])
        for ss in scopes:
            if isinstance(ss, dict):
                groups.append((ctx, list_of(ss, "spans", "spans", "scopeSpans")))
    return collect(groups, _json_span)


def traces_response(rejected: int, message: str, *, protobuf: bool) -> bytes:
    """An ExportTraceServiceResponse (partial success only when spans were rejected)."""
    if protobuf:
        resp = trace_service_pb2.ExportTraceServiceResponse()
        if rejected:
            resp.partial_success.rejected_spans = rejected
            resp.partial_success.error_message = message
        return resp.SerializeToString()
    body = {"partialSuccess": {"rejectedSpans": str(rejected), "errorMessage": message}} if rejected else {}
    return _json_out.encode(body)

