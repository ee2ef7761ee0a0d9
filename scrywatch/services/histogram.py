"""Counts over time for the dashboard: the Log Explorer's histogram (events per bucket and level)
and the Patterns page's sparklines.

The bucket size keeps a range at most MAX_BARS bars wide. Minute-multiple buckets come from the
per-minute rollup, which covers the hot window only; longer or older ranges use hour multiples.
Below the hot/cold boundary each bucket is counted from the archive (segment indexes for
filter-only queries, scans otherwise), as /logs and /facets read it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable

import msgspec
from msgspec.structs import replace

from scrywatch.models.accounts import ProjectAccess
from scrywatch.models.logs import LEVELS, LogQuery
from scrywatch.models.logs_meta import Pattern
from scrywatch.runtime import Runtime
from scrywatch.services import coldsearch
from scrywatch.services.patterns import group_patterns, normalize_message

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
MAX_BARS = 60
MINUTE_BUCKETS_MS = tuple(m * MINUTE_MS for m in (1, 2, 5, 10, 15, 30))
HOUR_BUCKETS_MS = tuple(h * HOUR_MS for h in (1, 2, 3, 6, 12, 24, 48, 168))
# Minute buckets read up to this many minutes per level and dimension combination; longer ranges use hours.
MINUTE_BUCKETS_MAX_SPAN_MS = 6 * HOUR_MS
SCAN_CAP = 10_000  # text and id queries: count at most this many newest matches (as /facets)
SPARK_BARS = 24


class Bar(msgspec.Struct, kw_only=True):
    start_ms: int
    end_ms: int  # inclusive, clipped to the range
    counts: dict[str, int]  # level -> events
    total: int


class Histogram(msgspec.Struct, kw_only=True):
    from_ms: int
    to_ms: int
    bucket_ms: int
    bars: list[Bar]
    total: int
    max_total: int
    levels: list[str]  # the levels that occur, in LEVELS order (stacking order)
    exact: bool  # False when only the newest SCAN_CAP matches were counted


def bucket_for(span_ms: int, *, minutes: bool) -> int:
    """The smallest bucket giving at most MAX_BARS bars over span_ms."""
    for size in (*(MINUTE_BUCKETS_MS if minutes else ()), *HOUR_BUCKETS_MS):
        if span_ms <= size * MAX_BARS:
            return size
    return -(-span_ms // (MAX_BARS * 24 * HOUR_MS)) * 24 * HOUR_MS  # whole days


def _bars(counts: Counter[tuple[int, str]], from_ms: int, to_ms: int, bucket_ms: int) -> list[Bar]:
    per: dict[int, dict[str, int]] = {}
    for (start, level), n in counts.items():
        if n > 0:
            slot = per.setdefault(start, {})
            slot[level] = slot.get(level, 0) + n
    bars = []
    start = from_ms // bucket_ms * bucket_ms
    while start <= to_ms:
        found = per.get(start, {})
        bars.append(Bar(start_ms=max(start, from_ms), end_ms=min(start + bucket_ms - 1, to_ms), counts=found,
                        total=sum(found.values())))
        start += bucket_ms
    return bars


async def _cold(rt: Runtime, access: ProjectAccess, query: LogQuery, boundary_ms: int, bucket_ms: int,
                cap: int) -> tuple[Counter[tuple[int, str]], bool]:
    """Buckets below the boundary, newest first, from the archive (and rows not archived yet)."""
    assert query.from_ms is not None and query.to_ms is not None
    t = coldsearch.target(rt, access)
    lo, hi = query.from_ms, min(query.to_ms, boundary_ms - 1)
    out: Counter[tuple[int, str]] = Counter()
    start = hi // bucket_ms * bucket_ms
    left = cap
    while start + bucket_ms > lo:
        part = replace(query, from_ms=max(lo, start), to_ms=min(hi, start + bucket_ms - 1))
        found, exact = await coldsearch.counts(rt, t, part, boundary_ms, with_hot=True,
                                               cap=None if query.rollup_only else left)
        for key, n in found.items():
            out[(start, str(key[0]))] += n
        if not query.rollup_only:
            left -= sum(found.values())
            if not exact or left <= 0:
                return out, False
        start -= bucket_ms
    return out, True


async def histogram(rt: Runtime, access: ProjectAccess, query: LogQuery) -> Histogram:
    """Events matching the query per time bucket and level over [from, to] (both required)."""
    assert query.from_ms is not None and query.to_ms is not None
    lo, hi = query.from_ms, query.to_ms
    boundary = (await rt.store.archive.state()).boundary_ms
    bucket = bucket_for(hi - lo + 1, minutes=lo >= boundary and hi - lo < MINUTE_BUCKETS_MAX_SPAN_MS)
    counts: Counter[tuple[int, str]] = Counter()
    exact = True
    if hi >= boundary:
        hot_q = replace(query, from_ms=max(lo, boundary))
        hot, exact = await rt.store.histogram.level_buckets(access.project.pk, hot_q, bucket_ms=bucket, cap=SCAN_CAP)
        counts.update(hot)
    if lo < boundary and exact:
        left = SCAN_CAP - sum(counts.values())
        cold, cold_exact = await _cold(rt, access, query, boundary, bucket, left) if left > 0 else (Counter(), False)
        counts.update(cold)
        exact = exact and cold_exact
    bars = _bars(counts, lo, hi, bucket)
    seen = {level for _, level in counts}
    return Histogram(from_ms=lo, to_ms=hi, bucket_ms=bucket, bars=bars, total=sum(b.total for b in bars),
                     max_total=max((b.total for b in bars), default=0), exact=exact,
                     levels=[lv for lv in LEVELS if lv in seen] + sorted(seen - set(LEVELS)))


async def has_events(rt: Runtime, access: ProjectAccess) -> bool:
    """Whether the project ever received an event that is still kept (else: the onboarding state)."""
    return bool(await rt.store.histogram.has_events(access.project.pk))


# -- patterns with sparklines ------------------------------------------------------------------
class PatternRow(msgspec.Struct, kw_only=True):
    pattern: Pattern
    spark: list[int]  # matches per SPARK_BARS slices of the range, oldest first


class PatternView(msgspec.Struct, kw_only=True):
    rows: list[PatternRow]
    sampled: int
    exact: bool  # every matching event was grouped


def _sparkline_groups(rows: Iterable[tuple[int, str, str, str, str | None]], *, limit: int, from_ms: int,
                      to_ms: int) -> list[PatternRow]:
    """group_patterns plus each group's counts over time; each message is normalised once."""
    normal: dict[str, str] = {}
    prepared = []
    original: dict[tuple[str, str, str], str] = {}  # the newest message of each group (rows come newest first)
    slices: dict[tuple[str, str, str], list[int]] = {}
    width = max(1, -(-(to_ms - from_ms + 1) // SPARK_BARS))
    for ts, level, type_, message, service in rows:
        norm = normal.get(message)
        if norm is None:
            norm = normal[message] = normalize_message(message)
        key = (norm, level, type_)
        original.setdefault(key, message)
        spark = slices.setdefault(key, [0] * SPARK_BARS)
        spark[min(SPARK_BARS - 1, max(0, (ts - from_ms) // width))] += 1
        prepared.append((ts, level, type_, norm, service))
    # group_patterns normalises again, but normalised text is a fixpoint and repeats, so its cache hits.
    groups = group_patterns(prepared, limit=limit)
    return [PatternRow(pattern=replace(g, sample=original[(g.pattern, g.level, g.type)]),
                       spark=slices[(g.pattern, g.level, g.type)]) for g in groups]


async def patterns_over_time(rt: Runtime, access: ProjectAccess, query: LogQuery, *, limit: int,
                             sample: int) -> PatternView:
    """The patterns of the newest `sample` events matching the query, with a sparkline each."""
    assert query.from_ms is not None and query.to_ms is not None
    rows, complete = await rt.store.logs_meta.sample(access.project.pk, query, cap=sample)
    grouped = await asyncio.to_thread(_sparkline_groups, rows, limit=limit, from_ms=query.from_ms,
                                      to_ms=query.to_ms)
    return PatternView(rows=grouped, sampled=len(rows), exact=complete)
