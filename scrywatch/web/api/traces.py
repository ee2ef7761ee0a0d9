"""Span ingest (our JSON and OTLP/HTTP), OTLP/HTTP logs, and the /traces read endpoints."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.errors import UnsupportedMediaType
from scrywatch.models.accounts import Scope
from scrywatch.models.traces import MapQuery, TraceQuery
from scrywatch.services import ingest, otlp, otlp_logs, traces
from scrywatch.web.auth import principal, project, runtime
from scrywatch.web.codec import JSON_TYPES, decode_params, encode, read_bytes

PROTOBUF_TYPES = ("application/x-protobuf", "application/protobuf", "application/vnd.google.protobuf")
OTLP_JSON_TYPES = ("application/json",)


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def _ingest_body(request: Request) -> tuple[int, bytes]:
    """The project of the caller's ingest key and the (decompressed) body."""
    rt = runtime(request)
    key = ingest.ingest_key(await principal(request))
    return key.project_pk, await read_bytes(request, max_bytes=rt.config.ingest.max_body_bytes)


def _otlp_encoding(request: Request) -> bool:
    """True for protobuf, False for JSON; 415 for anything else."""
    ctype = _content_type(request)
    if ctype in PROTOBUF_TYPES:
        return True
    if ctype in OTLP_JSON_TYPES or ctype.endswith("+json"):
        return False
    raise UnsupportedMediaType(f"OTLP/HTTP takes application/x-protobuf or application/json, got {ctype or 'none'}",
                               field="Content-Type")


def _otlp_reply(body: bytes, protobuf: bool) -> Response:
    return Response(body, status_code=200, media_type="application/x-protobuf" if protobuf else "application/json")


async def post_spans(request: Request) -> Response:
    """POST /api/traces: `{"spans": [...]}` in our JSON shape."""
    ctype = _content_type(request)
    if ctype not in JSON_TYPES and not ctype.endswith("+json"):
        ingest.ingest_key(await principal(request))  # 401/403 before 415
        raise UnsupportedMediaType(f"expected application/json, got {ctype}", field="Content-Type")
    project_pk, body = await _ingest_body(request)
    return encode(await traces.ingest_json_spans(runtime(request), project_pk, body), status=202)


async def post_otlp_traces(request: Request) -> Response:
    """OTLP/HTTP ExportTraceServiceRequest, protobuf or JSON; the reply uses the same encoding."""
    ingest.ingest_key(await principal(request))
    protobuf = _otlp_encoding(request)
    project_pk, body = await _ingest_body(request)
    rejected, message = await traces.ingest_otlp_spans(runtime(request), project_pk, body, protobuf=protobuf)
    return _otlp_reply(otlp.traces_response(rejected, message, protobuf=protobuf), protobuf)


async def post_otlp_logs(request: Request) -> Response:
    """OTLP/HTTP ExportLogsServiceRequest: the records become ordinary log events."""
    ingest.ingest_key(await principal(request))
    protobuf = _otlp_encoding(request)
    project_pk, body = await _ingest_body(request)
    rejected, message = await traces.ingest_otlp_logs(runtime(request), project_pk, body, protobuf=protobuf,
                                                      user_agent=request.headers.get("user-agent"))
    return _otlp_reply(otlp_logs.logs_response(rejected, message, protobuf=protobuf), protobuf)


async def list_traces(request: Request) -> Response:
    access = await project(request, Scope.READ)
    query = decode_params(dict(request.query_params), TraceQuery)
    return encode(await traces.list_traces(runtime(request), access.project.pk, query))


async def get_trace(request: Request) -> Response:
    access = await project(request, Scope.READ)
    return encode(await traces.get_trace(runtime(request), access.project.pk, request.path_params["trace_id"]))


async def get_service_map(request: Request) -> Response:
    access = await project(request, Scope.READ)
    query = decode_params(dict(request.query_params), MapQuery)
    return encode(await traces.service_map(runtime(request), access.project.pk, query))
