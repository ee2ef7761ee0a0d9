"""Streaming a /logs query over hot + archive (export), and the /archive endpoint's pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping

from msgspec.structs import replace

from scrywatch.errors import InvalidInput
from scrywatch.models.accounts import ProjectAccess
from scrywatch.models.logs import LogEvent, LogPage, LogQuery, Page
from scrywatch.runtime import Runtime
from scrywatch.services import coldsearch

BATCH = 500  # events per read and per chunk sent: what an export holds in memory at a time
HOUR_MS = 3_600_000


async def iter_logs(rt: Runtime, access: ProjectAccess, query: LogQuery) -> AsyncIterator[list[LogEvent]]:
    """Every event a /logs query matches, newest first, in batches read by keyset (bounded memory)."""
    pk = access.project.pk
    boundary = (await rt.store.archive.state()).boundary_ms if query.from_ms is not None else 0
    cold = query.from_ms is not None and query.from_ms < boundary
    hot_q = replace(query, from_ms=boundary) if cold else query
    if hot_q.to_ms is None or hot_q.from_ms is None or hot_q.to_ms >= hot_q.from_ms:
        cursor: str | None = None
        while True:
            events, cursor = await rt.store.archive.hot_page(pk, hot_q, cursor, BATCH)
            if events:
                yield events
            if cursor is None:
                break
    if cold:
        t = coldsearch.target(rt, access)
        async for items in coldsearch.iter_cold(rt, t, query, boundary, with_hot=True, batch=BATCH):
            if items:
                yield [coldsearch.plain(e) for _, _, e in items]


def archive_window(params: Mapping[str, str]) -> tuple[int, int]:
    """[from, to] ms of /archive's `date` (YYYY-MM-DD, required) and optional `hour` (0-23), UTC."""
    raw = (params.get("date") or "").strip()
    if not raw:
        raise InvalidInput("is required (YYYY-MM-DD)", field="date")
    try:
        day = dt.datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=dt.UTC)
    except ValueError:
        raise InvalidInput("must be a date as YYYY-MM-DD", field="date") from None
    start = int(day.timestamp() * 1000)
    hour = (params.get("hour") or "").strip()
    if not hour:
        return start, start + 24 * HOUR_MS - 1
    if not (hour.isascii() and hour.isdigit()) or not 0 <= int(hour) <= 23:  # "²".isdigit() is True
        raise InvalidInput("must be an hour from 0 to 23", field="hour")
    start += int(hour) * HOUR_MS
    return start, start + HOUR_MS - 1


async def archive_page(rt: Runtime, access: ProjectAccess, query: LogQuery, page: Page) -> LogPage:
    """A page of what the archive files hold for the query's window (the hot store is not read)."""
    t = coldsearch.target(rt, access)
    in_cold, key = coldsearch.decode_cursor(page.cursor)
    if page.cursor and not in_cold:
        raise InvalidInput("is not a cursor from this query; start again without it", field="cursor")
    found, exact = await coldsearch.counts(rt, t, query, coldsearch.NOWHERE, with_hot=False)
    events, has_more, last = await coldsearch.page(rt, t, query, coldsearch.NOWHERE, limit=page.limit,
                                                   offset=page.offset, before=key, with_hot=False)
    return LogPage(results=events, total=sum(found.values()), total_exact=exact,
                   next_cursor=coldsearch.encode_cursor(last) if has_more else None, has_more=has_more)
