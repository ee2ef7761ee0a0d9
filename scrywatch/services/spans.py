"""Span rules shared by every way spans arrive: ids, times, limits, the root's HTTP fields, and the
per-service-per-minute summaries the service map is built from. Pure functions, no I/O."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

from scrywatch.models.traces import ServiceMinute, SpanError, SpanRecord
from scrywatch.services.sketch import LatencySketch

NS_PER_MS = 1_000_000
NS_PER_MINUTE = 60_000_000_000
MAX_NS = (1 << 63) - 1  # SQLite INTEGER
MAX_ID_CHARS = 128
MAX_NAME_CHARS = 1024
MAX_SERVICE_CHARS = 256
DEFAULT_SERVICE = "unknown"
_HEX_RE = re.compile(r"^[0-9a-fA-F]+$")
HTTP_METHOD_KEYS = ("http.method", "http.request.method")
HTTP_URL_KEYS = ("http.url", "url.full", "http.target", "url.path")
HTTP_STATUS_KEYS = ("http.status_code", "http.response.status_code")


class SpanProblem(Exception):
    """One span is unusable; `field` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def clean_id(value: Any, field: str, *, required: bool) -> str | None:
    """An id as text: hex is lower-cased, other strings are kept as sent (tolerated)."""
    if value is None or value == "":
        if required:
            raise SpanProblem(field, "is required")
        return None
    if not isinstance(value, str):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        else:
            raise SpanProblem(field, "must be a string")
    value = value.strip()
    if not value:
        if required:
            raise SpanProblem(field, "is required")
        return None
    if len(value) > MAX_ID_CHARS:
        raise SpanProblem(field, f"must be at most {MAX_ID_CHARS} characters")
    return value.lower() if _HEX_RE.match(value) else value


def check_times(start_ns: int, end_ns: int, *, start_field: str, end_field: str) -> None:
    if not 0 < start_ns <= MAX_NS:
        raise SpanProblem(start_field, "must be a positive Unix timestamp")
    if not 0 < end_ns <= MAX_NS:
        raise SpanProblem(end_field, "must be a positive Unix timestamp")
    if end_ns < start_ns:
        raise SpanProblem(end_field, "must not be before the start time")


def _first(attributes: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = attributes.get(key)
        if value is not None and value != "":
            return value
    return None


def http_fields(attributes: dict[str, Any]) -> tuple[str | None, str | None, int | None]:
    """(method, url, status code) from old or new HTTP semantic conventions."""
    method = _first(attributes, HTTP_METHOD_KEYS)
    url = _first(attributes, HTTP_URL_KEYS)
    status = _first(attributes, HTTP_STATUS_KEYS)
    code: int | None = None
    if isinstance(status, int) and not isinstance(status, bool):
        code = status
    elif isinstance(status, str) and status.strip().isdigit():
        code = int(status)
    if code is not None and not 0 <= code < 1000:
        code = None
    return (str(method)[:32] if method is not None else None, str(url)[:2048] if url is not None else None, code)


def make_span(*, trace_id: str, span_id: str, parent_span_id: str | None, name: str, service: str | None,
              environment: str | None, kind: str | None, start_ns: int, end_ns: int, error: bool,
              status_message: str | None, attributes: dict[str, Any], events: list[dict[str, Any]] | None,
              resource: dict[str, Any] | None) -> SpanRecord:
    """A SpanRecord with limits applied; root spans carry the trace row's HTTP fields."""
    method = url = code = None
    if parent_span_id is None:
        method, url, code = http_fields(attributes)
    return SpanRecord(
        trace_id=trace_id, span_id=span_id, parent_span_id=parent_span_id, name=name[:MAX_NAME_CHARS],
        service=(service or DEFAULT_SERVICE)[:MAX_SERVICE_CHARS],
        environment=environment[:MAX_SERVICE_CHARS] if environment else None, kind=kind,
        start_ns=start_ns, end_ns=end_ns, error=error, status_message=status_message or None,
        attributes=attributes, events=events or None, resource=resource or None,
        http_method=method, http_url=url, http_status_code=code,
    )


# -- POST /api/traces: our own JSON shape ------------------------------------------------------------
def ms_to_ns(value: Any, field: str) -> int:
    """A Unix timestamp in ms (seconds, µs and ns are recognised by magnitude) as ns."""
    if isinstance(value, bool) or value is None:
        raise SpanProblem(field, "is required" if value is None else "must be a number (Unix ms)")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise SpanProblem(field, "must be a number (Unix ms)") from None
    if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise SpanProblem(field, "must be a positive number (Unix ms)")
    if value < 1e11:
        scale = 1e9  # seconds
    elif value < 1e14:
        scale = 1e6  # milliseconds
    elif value < 1e17:
        scale = 1e3  # microseconds
    else:
        scale = 1.0
    if isinstance(value, int):
        return value * int(scale)
    whole = int(value)
    return whole * int(scale) + round((value - whole) * scale)


def _status(value: Any) -> bool:
    """True for an error: "error" (also OTLP's STATUS_CODE_ERROR, code 2, or {"code": ...})."""
    if isinstance(value, dict):
        value = value.get("code")
    if value is None:
        return False
    if isinstance(value, str):
        text = value.strip().lower().removeprefix("status_code_")
        if text in ("ok", "unset", "error", ""):
            return text == "error"
    if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1, 2):
        return value == 2
    raise SpanProblem("status", "must be ok or error")


def _optional_str(span: dict[str, Any], field: str) -> str | None:
    value = span.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise SpanProblem(field, "must be a string")
    return value


def span_from_json(span: Any) -> SpanRecord:
    """One span of POST /api/traces; SpanProblem names the first bad field."""
    if not isinstance(span, dict):
        raise SpanProblem("span", "must be an object")
    trace_id = clean_id(span.get("trace_id"), "trace_id", required=True)
    span_id = clean_id(span.get("span_id"), "span_id", required=True)
    parent = clean_id(span.get("parent_span_id"), "parent_span_id", required=False)
    name = span.get("name")
    if not isinstance(name, str):
        raise SpanProblem("name", "is required" if name is None else "must be a string")
    start_ns = ms_to_ns(span.get("start_time"), "start_time")
    duration = span.get("duration_ms")
    if span.get("end_time") is None and isinstance(duration, int | float) and math.isfinite(duration):
        end_ns = start_ns + round(duration * NS_PER_MS)
    else:
        end_ns = ms_to_ns(span.get("end_time"), "end_time")
    check_times(start_ns, end_ns, start_field="start_time", end_field="end_time")
    attributes = span.get("attributes")
    if attributes is None:
        attributes = {}
    elif not isinstance(attributes, dict):
        raise SpanProblem("attributes", "must be an object")
    events = span.get("events")
    if events is not None and not (isinstance(events, list) and all(isinstance(e, dict) for e in events)):
        raise SpanProblem("events", "must be a list of objects")
    resource = span.get("resource")
    if resource is not None and not isinstance(resource, dict):
        raise SpanProblem("resource", "must be an object")
    assert trace_id is not None and span_id is not None
    return make_span(
        trace_id=trace_id, span_id=span_id, parent_span_id=parent, name=name,
        service=_optional_str(span, "service"), environment=_optional_str(span, "environment"),
        kind=_optional_str(span, "kind"), start_ns=start_ns, end_ns=end_ns, error=_status(span.get("status")),
        status_message=_optional_str(span, "status_message"), attributes=attributes, events=events,
        resource=resource,
    )


def spans_from_json(items: Sequence[Any]) -> tuple[list[SpanRecord], list[SpanError]]:
    """Every valid span and an error per invalid one (field relative to the span, as log ingest does)."""
    good: list[SpanRecord] = []
    errors: list[SpanError] = []
    for i, item in enumerate(items):
        try:
            good.append(span_from_json(item))
        except SpanProblem as p:
            errors.append(SpanError(index=i, field=p.field, message=p.message))
    return good, errors


# -- the service map's raw material ------------------------------------------------------------------
def summarize(spans: Iterable[SpanRecord]) -> list[ServiceMinute]:
    """Counts and a latency sketch per (service, start minute) of these spans."""
    acc: dict[tuple[str, int], list[Any]] = {}
    for s in spans:
        key = (s.service, s.start_ns // NS_PER_MINUTE)
        entry = acc.get(key)
        if entry is None:
            entry = acc[key] = [0, 0, LatencySketch()]
        entry[0] += 1
        entry[1] += s.error
        entry[2].add((s.end_ns - s.start_ns) / NS_PER_MS)
    return [ServiceMinute(service=service, minute=minute, request_count=n, error_count=errors,
                          sketch=sketch.to_bytes())
            for (service, minute), (n, errors, sketch) in acc.items()]
