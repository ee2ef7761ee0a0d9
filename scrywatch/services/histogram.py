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
from scrywatch.models.logs import LEVELS, ROLLUP_FIELDS, LogQuery
from scrywatch.models.logs_meta import FacetValue, Pattern
from scrywatch.runtime import Runtime
from scrywatch.services import coldsearch
from scrywatch.services.patterns import group_keyed, pattern_keys

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
        cold, cold_exact = (await coldsearch.bucket_counts(rt, coldsearch.target(rt, access), query, boundary,
                                                           bucket, cap=left) if left > 0 else (Counter(), False))
        for (start, dims), n in cold.items():
            counts[(start, str(dims[0]))] += n
        exact = exact and cold_exact
    return _histogram(counts, lo, hi, bucket, exact)


def _histogram(counts: Counter[tuple[int, str]], lo: int, hi: int, bucket: int, exact: bool) -> Histogram:
    bars = _bars(counts, lo, hi, bucket)
    seen = {level for _, level in counts}
    return Histogram(from_ms=lo, to_ms=hi, bucket_ms=bucket, bars=bars, total=sum(b.total for b in bars),
                     max_total=max((b.total for b in bars), default=0), exact=exact,
                     levels=[lv for lv in LEVELS if lv in seen] + sorted(seen - set(LEVELS)))


async def has_events(rt: Runtime, access: ProjectAccess) -> bool:
    """Whether the project ever received an event that is still kept (else: the onboarding state)."""
    return bool(await rt.store.histogram.has_events(access.project.pk))


# -- the explorer's facets -------------------------------------------------------------------
MAX_FACET_VALUES = 100  # as /facets
# LogQuery attribute requiring each ROLLUP_FIELDS dimension (a tuple for level and type).
_REQUIRE = ("levels", "types", "service", "environment", "device_type")


def _required(query: LogQuery) -> list[frozenset[str] | None]:
    """Per dimension, the values the query requires (None: any)."""
    out: list[frozenset[str] | None] = []
    for attr in _REQUIRE:
        value = getattr(query, attr)
        out.append((frozenset(value) or None) if isinstance(value, tuple) else
                   None if value is None else frozenset((value,)))
    return out


def facets_from_combos(combos: Counter[tuple[object, ...]], query: LogQuery) -> dict[str, list[FacetValue]]:
    """Per dimension, its values' counts among the events matching every requirement of the query
    but that dimension's own: what /facets gives for the query without that requirement, so a
    required value's alternatives stay visible. `combos` counts the events matching the query with
    none of its dimension requirements (its exclusions and time kept)."""
    required = [(i, want) for i, want in enumerate(_required(query)) if want is not None]
    per: list[Counter[object]] = [Counter() for _ in ROLLUP_FIELDS]
    c0, c1, c2, c3, c4 = per
    for key, n in combos.items():
        misses = [i for i, want in required if key[i] not in want] if required else ()
        if not misses:
            c0[key[0]] += n
            c1[key[1]] += n
            c2[key[2]] += n
            c3[key[3]] += n
            c4[key[4]] += n
        elif len(misses) == 1:  # only its own requirement fails: it counts for that dimension alone
            per[misses[0]][key[misses[0]]] += n
    return {name: [FacetValue(value=v, count=n)  # type: ignore[arg-type]
                   for v, n in sorted(c.items(), key=lambda kv: (-kv[1], str(kv[0] or ""))) if n > 0][:MAX_FACET_VALUES]
            for name, c in zip(ROLLUP_FIELDS, per, strict=True)}


async def dimension_counts(rt: Runtime, access: ProjectAccess, query: LogQuery) -> Counter[tuple[object, ...]]:
    """Events matching a rollup-only query by (level, type, service, environment, device_type), exact:
    the hot store's rollups, plus the archive's counts below the hot/cold boundary."""
    assert query.rollup_only and query.from_ms is not None and query.to_ms is not None
    boundary = (await rt.store.archive.state()).boundary_ms
    counts: Counter[tuple[object, ...]] = Counter()
    if query.to_ms >= boundary:
        counts.update(await rt.store.histogram.dimension_counts(access.project.pk,
                                                                replace(query, from_ms=max(query.from_ms, boundary))))
    if query.from_ms < boundary:
        cold, _exact = await coldsearch.counts(rt, coldsearch.target(rt, access), query, boundary, with_hot=True,
                                               cap=None)
        counts.update(cold)  # type: ignore[arg-type]
    return counts


async def explorer_counts(rt: Runtime, access: ProjectAccess, query: LogQuery, *,
                          facet_cap: int) -> tuple[Histogram, dict[str, list[FacetValue]], bool]:
    """The Log Explorer's histogram, facets and whether the facets are exact, for a query with time bounds.

    - Filter-only queries: the histogram from the rollups and the facets from one more rollup read
      (explorer_facets), both exact.
    - Text and id queries over the hot store: the newest SCAN_CAP matches, read once, give both the
      histogram and the facets (as /facets counts them: the newest `facet_cap` matches).
    - Text and id queries reaching below the hot/cold boundary: histogram() and /facets' counts.
    """
    assert query.from_ms is not None and query.to_ms is not None
    if query.rollup_only:
        hist, facets = await asyncio.gather(histogram(rt, access, query), explorer_facets(rt, access, query))
        return hist, facets, True
    lo, hi = query.from_ms, query.to_ms
    boundary = (await rt.store.archive.state()).boundary_ms
    if lo < boundary or facet_cap != SCAN_CAP:
        hist, (facets, exact) = await asyncio.gather(histogram(rt, access, query),
                                                     coldsearch.facets(rt, access, query, cap=facet_cap))
        return hist, facets, exact
    bucket = bucket_for(hi - lo + 1, minutes=hi - lo < MINUTE_BUCKETS_MAX_SPAN_MS)
    rows, exact = await rt.store.histogram.newest_dimensions(access.project.pk, query, bucket_ms=bucket, cap=SCAN_CAP)
    by_level: Counter[tuple[int, str]] = Counter()
    dims: Counter[tuple[object, ...]] = Counter()
    for (start, *key), n in rows.items():
        by_level[(int(start), str(key[0]))] += n  # type: ignore[index]
        dims[tuple(key)] += n
    return _histogram(by_level, lo, hi, bucket, exact), facets_from_combos(dims, LogQuery()), exact


async def explorer_facets(rt: Runtime, access: ProjectAccess, query: LogQuery) -> dict[str, list[FacetValue]]:
    """The Log Explorer's facets of a rollup-only query (see facets_from_combos) from one read of the
    rollups, instead of one per required dimension."""
    widened = replace(query, levels=(), types=(), service=None, environment=None, device_type=None)
    return facets_from_combos(await dimension_counts(rt, access, widened), query)


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
    keyed = list(pattern_keys(rows))
    slices: dict[tuple[str, str, str], list[int]] = {}
    width = max(1, -(-(to_ms - from_ms + 1) // SPARK_BARS))
    for key, ts, _message, _service in keyed:
        spark = slices.setdefault(key, [0] * SPARK_BARS)
        spark[min(SPARK_BARS - 1, max(0, (ts - from_ms) // width))] += 1
    return [PatternRow(pattern=g, spark=slices[(g.pattern, g.level, g.type)]) for g in group_keyed(keyed, limit=limit)]


async def patterns_over_time(rt: Runtime, access: ProjectAccess, query: LogQuery, *, limit: int,
                             sample: int) -> PatternView:
    """The patterns of the newest `sample` events matching the query, with a sparkline each."""
    assert query.from_ms is not None and query.to_ms is not None
    rows, complete = await rt.store.logs_meta.sample(access.project.pk, query, cap=sample)
    grouped = await asyncio.to_thread(_sparkline_groups, rows, limit=limit, from_ms=query.from_ms,
                                      to_ms=query.to_ms)
    return PatternView(rows=grouped, sampled=len(rows), exact=complete)


def _keys_in(rows: Iterable[tuple[int, str, str, str, str | None]],
             wanted: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    found: set[tuple[str, str, str]] = set()
    for key, _ts, _message, _service in pattern_keys(rows):
        if key in wanted:
            found.add(key)
            if found == wanted:
                break
    return found


async def seen_before(rt: Runtime, access: ProjectAccess, query: LogQuery, wanted: set[tuple[str, str, str]], *,
                      before_ms: int, lookback_ms: int, sample: int) -> set[tuple[str, str, str]]:
    """Which (pattern, level, type) of `wanted` occur among the newest `sample` events matching the
    query in [before_ms - lookback_ms, before_ms): the Patterns page's "new" means "not seen there"."""
    if not wanted:
        return set()
    window = replace(query, from_ms=before_ms - lookback_ms, to_ms=before_ms - 1)
    rows, _complete = await rt.store.logs_meta.sample(access.project.pk, window, cap=sample)
    return await asyncio.to_thread(_keys_in, rows, wanted)
