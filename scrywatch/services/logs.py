"""Log use cases beyond search: distinct values, facets, patterns, hourly stats, sessions, purge."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping

import msgspec

from scrywatch.errors import Forbidden, InvalidInput
from scrywatch.models.accounts import ProjectAccess
from scrywatch.models.logs import DEFAULT_PAGE, MAX_PAGE
from scrywatch.models.logs_meta import Facets, PatternList, SessionList, StatRow, Stats
from scrywatch.runtime import Runtime
from scrywatch.services import coldsearch
from scrywatch.services.accounts import KEY_SCOPES, require_role
from scrywatch.services.patterns import group_patterns
from scrywatch.services.search import parse_query

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
# Queries with text or id filters are counted over at most this many newest matches.
FACET_SCAN_CAP = 10_000
DEFAULT_PATTERN_SAMPLE = 5_000
MAX_PATTERN_SAMPLE = 20_000
PURGE_CHUNK = 5_000
DISTINCT_FIELDS = {"services": "service", "environments": "environment", "device_types": "device_type"}


def _int_param(params: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = (params.get(name) or "").strip()
    if not raw:
        return default
    try:
        n = int(raw)
    except ValueError:
        raise InvalidInput("must be an integer", field=name) from None
    if n < low:
        raise InvalidInput(f"must be at least {low}", field=name)
    return min(n, high)


async def distinct_values(rt: Runtime, access: ProjectAccess, name: str) -> dict[str, list[str]]:
    """{"services": [...]} (or environments, device_types): the distinct values seen in the hot store."""
    values = await rt.store.logs_meta.distinct(access.project.pk, DISTINCT_FIELDS[name])
    return {name: values}


async def facets(rt: Runtime, access: ProjectAccess, params: Mapping[str, str]) -> Facets:
    """Counts per value of each rollup dimension under the /logs filters in params."""
    query = parse_query(params)
    counts, exact = await coldsearch.facets(rt, access, query, cap=FACET_SCAN_CAP)  # hot + archive (issue 5)
    return Facets(facets=counts, exact=exact, sample_limit=None if query.rollup_only else FACET_SCAN_CAP)


async def patterns(rt: Runtime, access: ProjectAccess, params: Mapping[str, str]) -> PatternList:
    """Message patterns of the newest `sample` (default 5,000, at most 20,000) matching events."""
    query = parse_query(params)
    limit = _int_param(params, "limit", DEFAULT_PAGE, low=1, high=MAX_PAGE)
    cap = _int_param(params, "sample", DEFAULT_PATTERN_SAMPLE, low=1, high=MAX_PATTERN_SAMPLE)
    rows, complete = await rt.store.logs_meta.sample(access.project.pk, query, cap=cap)
    # Normalising thousands of messages is CPU work: keep it off the event loop.
    groups = await asyncio.to_thread(group_patterns, rows, limit=limit)
    return PatternList(patterns=groups, sampled=len(rows), sample_limit=cap, exact=complete)


async def stats(rt: Runtime, access: ProjectAccess, params: Mapping[str, str]) -> Stats:
    """Counts per hour, level and type between `from` and `to` (default: the last 24 hours)."""
    query = parse_query(params)
    to_ms = query.to_ms if query.to_ms is not None else rt.clock.now_ms()
    from_ms = query.from_ms if query.from_ms is not None else to_ms - DAY_MS
    if from_ms > to_ms:
        raise InvalidInput("must not be after `to`", field="from")
    query = msgspec.structs.replace(query, from_ms=from_ms, to_ms=to_ms)
    boundary = (await rt.store.archive.state()).boundary_ms
    rows: list[StatRow] = []
    exact = True
    if to_ms >= boundary:  # the hot store's rollups (the boundary is on an hour, like the buckets)
        rows, exact = await rt.store.logs_meta.stats(access.project.pk, msgspec.structs.replace(
            query, from_ms=max(from_ms, boundary)), cap=FACET_SCAN_CAP)
    if from_ms < boundary and exact:  # hours below it from the archive (issue 5)
        left = FACET_SCAN_CAP - sum(r.count for r in rows)
        cold, exact = await coldsearch.bucket_counts(rt, coldsearch.target(rt, access), query, boundary, HOUR_MS,
                                                     cap=left)
        per: Counter[tuple[int, str, str]] = Counter()
        for (hour, dims), n in cold.items():
            per[(hour, dims[0], dims[1])] += n
        rows += [StatRow(level=level, type=type_, count=n, hour=hour) for (hour, level, type_), n in per.items()]
        rows.sort(key=lambda r: (r.hour, r.level, r.type))  # the hot store's order
    return Stats(stats=rows, from_ms=from_ms, to_ms=to_ms, exact=exact)


async def sessions(rt: Runtime, access: ProjectAccess, params: Mapping[str, str]) -> SessionList:
    """Sessions with their counts, most recent activity first (`limit`, `offset`, `environment`)."""
    limit = _int_param(params, "limit", DEFAULT_PAGE, low=1, high=MAX_PAGE)
    offset = _int_param(params, "offset", 0, low=0, high=1_000_000)
    environment = (params.get("environment") or "").strip() or None
    found, has_more = await rt.store.logs_meta.sessions(access.project.pk, limit=limit, offset=offset,
                                                        environment=environment)
    return SessionList(sessions=found, has_more=has_more)


def require_purge_right(access: ProjectAccess) -> None:
    """Purging needs a signed-in admin (or owner), or an API key with the `full` scope."""
    if access.role is None:
        if access.scopes != KEY_SCOPES["full"]:
            raise Forbidden("purging logs needs an API key with the 'full' scope or a signed-in admin")
        return
    require_role(access, "admin")


async def purge_logs(rt: Runtime, access: ProjectAccess) -> int:
    """Delete every hot log event of the project (the archive is untouched); returns how many."""
    require_purge_right(access)
    return int(await rt.store.logs_meta.purge(access.project.pk, chunk=PURGE_CHUNK))
