"""GET {P}/archive (a day or hour of the archive) and GET {P}/logs/export (NDJSON or CSV download)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator

import msgspec
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from scrywatch.errors import InvalidInput
from scrywatch.models.accounts import Scope
from scrywatch.models.logs import LogEvent, LogQuery
from scrywatch.services import export, search
from scrywatch.web.auth import project, runtime
from scrywatch.web.codec import encode

CSV_COLUMNS = ("id", "timestamp", "level", "type", "message", "service", "environment", "user_id", "session_id",
               "device_type", "trace_id", "span_id", "metadata", "received_at")
MEDIA_TYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
_encoder = msgspec.json.Encoder()


async def get_archive(request: Request) -> Response:
    access = await project(request, Scope.READ)
    lo, hi = export.archive_window(request.query_params)
    query = search.parse_query(request.query_params)
    query = msgspec.structs.replace(query, from_ms=max(lo, query.from_ms or lo), to_ms=min(hi, query.to_ms or hi))
    page = search.parse_page(request.query_params)
    return encode(await export.archive_page(runtime(request), access, query, page))


async def _ndjson(batches: AsyncIterator[list[LogEvent]]) -> AsyncIterator[bytes]:
    buf = bytearray()
    async for events in batches:
        buf.clear()
        for e in events:  # straight into one buffer: no per-event copies held until the join
            _encoder.encode_into(e, buf, -1)
            buf += b"\n"
        yield bytes(buf)


async def _csv(batches: AsyncIterator[list[LogEvent]]) -> AsyncIterator[bytes]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    yield buf.getvalue().encode()
    async for events in batches:
        buf.seek(0)
        buf.truncate()
        for e in events:
            meta = bytes(e.metadata).decode() if e.metadata and bytes(e.metadata) != b"null" else ""
            writer.writerow([e.id, e.timestamp, e.level, e.type, e.message, e.service, e.environment, e.user_id,
                             e.session_id, e.device_type, e.trace_id, e.span_id, meta, e.received_at])
        yield buf.getvalue().encode()


def _filename(org: str, slug: str, query: LogQuery, fmt: str) -> str:
    def stamp(ms: int) -> str:
        return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y%m%dT%H%M%SZ")

    span = "-".join(stamp(ms) for ms in (query.from_ms, query.to_ms) if ms is not None) or "all"
    return f"scrywatch-{org}-{slug}-{span}.{fmt}"


async def export_logs(request: Request) -> Response:
    access = await project(request, Scope.READ)
    fmt = (request.query_params.get("format") or "ndjson").strip().lower()
    if fmt not in MEDIA_TYPES:
        raise InvalidInput("must be ndjson or csv", field="format")
    query = search.parse_query(request.query_params)
    batches = export.iter_logs(runtime(request), access, query)
    body = _ndjson(batches) if fmt == "ndjson" else _csv(batches)
    name = _filename(access.org.slug, access.project.slug, query, fmt)
    return StreamingResponse(body, media_type=MEDIA_TYPES[fmt],
                             headers={"Content-Disposition": f'attachment; filename="{name}"',
                                      "Cache-Control": "no-store", "X-Accel-Buffering": "no"})
