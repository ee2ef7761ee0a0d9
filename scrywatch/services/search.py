"""Reading logs: query-string filters -> LogQuery, pages, single events."""

from __future__ import annotations

from collections.abc import Mapping

from msgspec.structs import replace

from scrywatch.errors import InvalidInput, NotFound
from scrywatch.models.accounts import ProjectAccess
from scrywatch.models.logs import DEFAULT_PAGE, MAX_PAGE, LogEvent, LogPage, LogQuery, Page
from scrywatch.runtime import Runtime
from scrywatch.services import coldsearch
from scrywatch.services.events import FieldProblem, hex_lower, level_of, timestamp_ms, type_of

MAX_Q_CHARS = 1000


def _list(params: Mapping[str, str], name: str) -> list[str]:
    raw = params.get(name)
    if raw is None:
        return []
    return [part.strip() for part in raw.split(",") if part.strip()]


def _one(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _levels(values: list[str], field: str) -> tuple[str, ...]:
    try:
        return tuple(dict.fromkeys(level_of(v) for v in values))
    except FieldProblem as p:
        raise InvalidInput(p.message, field=field) from None


def _types(values: list[str], field: str) -> tuple[str, ...]:
    try:
        return tuple(dict.fromkeys(type_of(v) for v in values))
    except FieldProblem as p:
        raise InvalidInput(p.message, field=field) from None


def _time(params: Mapping[str, str], name: str) -> int | None:
    value = _one(params, name)
    if value is None:
        return None
    try:
        return timestamp_ms(value, now_ms=0)
    except FieldProblem:
        raise InvalidInput("must be Unix milliseconds or an ISO-8601 date-time", field=name) from None


def _int(params: Mapping[str, str], name: str, default: int, *, low: int, high: int | None = None) -> int:
    value = _one(params, name)
    if value is None:
        return default
    try:
        n = int(value)
    except ValueError:
        raise InvalidInput("must be an integer", field=name) from None
    if n < low:
        raise InvalidInput(f"must be at least {low}", field=name)
    return min(n, high) if high is not None else n


def parse_query(params: Mapping[str, str]) -> LogQuery:
    """The /logs filters of a query string (unknown parameters are ignored, as is usual for GET)."""
    q = _one(params, "q")
    if q is not None and len(q) > MAX_Q_CHARS:
        raise InvalidInput(f"must be at most {MAX_Q_CHARS} characters", field="q")
    query = LogQuery(
        levels=_levels(_list(params, "level"), "level"),
        types=_types(_list(params, "type"), "type"),
        service=_one(params, "service"),
        environment=_one(params, "environment"),
        device_type=_one(params, "device_type"),
        user_id=_one(params, "user_id"),
        session_id=_one(params, "session_id"),
        trace_id=hex_lower(_one(params, "trace_id")),
        not_levels=_levels(_list(params, "exclude_level"), "exclude_level"),
        not_types=_types(_list(params, "exclude_type"), "exclude_type"),
        not_services=tuple(_list(params, "exclude_service")),
        not_environments=tuple(_list(params, "exclude_environment")),
        not_device_types=tuple(_list(params, "exclude_device_type")),
        q=q,
        from_ms=_time(params, "from"),
        to_ms=_time(params, "to"),
    )
    if query.from_ms is not None and query.to_ms is not None and query.from_ms > query.to_ms:
        raise InvalidInput("must not be after `to`", field="from")
    return query


def parse_page(params: Mapping[str, str]) -> Page:
    """limit (default 50, at most 200), offset, cursor (a cursor wins over an offset)."""
    cursor = _one(params, "cursor")
    return Page(limit=_int(params, "limit", DEFAULT_PAGE, low=1, high=MAX_PAGE),
                offset=0 if cursor else _int(params, "offset", 0, low=0), cursor=cursor)


async def search_logs(rt: Runtime, access: ProjectAccess, query: LogQuery, page: Page) -> LogPage:
    """A page newest first: the hot store alone, or (with `from` below the hot/cold boundary) the hot
    store's part followed by the archive's (services/coldsearch.py says which store answers what)."""
    pk = access.project.pk
    boundary = (await rt.store.archive.state()).boundary_ms if query.from_ms is not None else 0
    if query.from_ms is None or query.from_ms >= boundary:
        return await rt.store.logs.search(pk, query, limit=page.limit, offset=page.offset, cursor=page.cursor)
    t = coldsearch.target(rt, access)
    in_cold, key = coldsearch.decode_cursor(page.cursor)
    hot_q = None if query.to_ms is not None and query.to_ms < boundary else replace(query, from_ms=boundary)
    results: list[LogEvent] = []
    hot_total, hot_exact, hot_more, next_cursor = 0, True, False, None
    if hot_q is not None and not in_cold:
        hot = await rt.store.logs.search(pk, hot_q, limit=page.limit, offset=page.offset, cursor=page.cursor)
        results, hot_total, hot_exact, hot_more, next_cursor = (hot.results, hot.total, hot.total_exact,
                                                                hot.has_more, hot.next_cursor)
    elif hot_q is not None:
        hot_total, hot_exact = await rt.store.logs.count(pk, hot_q)
    found, cold_exact = await coldsearch.counts(rt, t, query, boundary, with_hot=True)
    cold_total = sum(found.values())
    has_more = hot_more
    if not hot_more and len(results) < page.limit:
        # Hot side done in this page: fill it from the cold side (an offset past the hot side carries over).
        offset = 0 if in_cold or results else max(0, page.offset - hot_total)
        if page.cursor and not in_cold:  # a hot cursor that retention's boundary has since passed:
            passed = rt.store.archive.hot_cursor_key(page.cursor)  # the cold side starts below it
            key = passed if passed is not None and passed < (boundary, 0) else key
        cold, has_more, last = await coldsearch.page(rt, t, query, boundary, limit=page.limit - len(results),
                                                      offset=offset, before=key, with_hot=True)
        results = [*results, *cold]
        next_cursor = coldsearch.encode_cursor(last) if has_more else None
    elif not hot_more:
        has_more = cold_total > 0
        # The cold side starts below this boundary even if retention moves it before the next page
        # (the rows it passes over were on the hot side of this one).
        next_cursor = coldsearch.encode_cursor((boundary, 0)) if has_more else None
    return LogPage(results=results, total=hot_total + cold_total, total_exact=hot_exact and cold_exact,
                   next_cursor=next_cursor, has_more=has_more)


async def get_log(rt: Runtime, access: ProjectAccess, event_id: str) -> LogEvent:
    event = await rt.store.logs.get(access.project.pk, event_id)
    if event is None:
        event = await coldsearch.find_event(rt, access, event_id)  # moved to the archive
    if event is None:
        raise NotFound("event not found")
    return event
