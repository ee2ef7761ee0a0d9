"""Reading below the hot/cold boundary: archive segments merged with hot rows not archived yet.

Which store answers what: the hot store answers `ts >= boundary` (archive_state.boundary, which
retention moves forward, never back, before deleting anything below it). Below the boundary an hour
is its recorded archive segments plus its hot rows with an id above the hour's archived id (late
events the archive job has not written yet); hot rows at or below that id are in a segment and are
skipped. So no event is counted twice and none goes missing while rows move. The order is newest
first by (timestamp, row id), the hot store's own time order, so one cursor works on both sides.
"""

from __future__ import annotations

import asyncio
import base64
import heapq
import itertools
from collections import Counter, namedtuple
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import msgspec

from scrywatch import archive
from scrywatch.errors import InvalidInput
from scrywatch.models.accounts import ProjectAccess
from scrywatch.models.archive import ColdHour
from scrywatch.models.logs import ROLLUP_FIELDS, LogEvent, LogQuery
from scrywatch.models.logs_meta import FacetValue
from scrywatch.runtime import Runtime
from scrywatch.services.tailfilter import compile_filter, phrases

COUNT_CAP = 10_000  # like the hot store: totals of text/id queries stop here (total_exact false)
MAX_FACET_VALUES = 100  # as the hot store's facets
NOWHERE = 1 << 62
INT64_MAX = (1 << 63) - 1
Item = tuple[int, int, LogEvent]  # (timestamp, row id, event)
Dims = namedtuple("Dims", "level type service environment device_type")
DimsKey = tuple[str, str, str | None, str | None, str | None]


@dataclass(frozen=True)
class Target:
    """A project's place in the hot store (pk) and in the archive tree."""

    pk: int
    project_id: str
    org: str
    slug: str
    root: Path

    def path(self, hour_ms: int, segment: int) -> Path:
        return archive.segment_path(self.root, self.org, self.slug, hour_ms, segment)


def target(rt: Runtime, access: ProjectAccess) -> Target:
    return Target(access.project.pk, access.project.id, access.org.slug, access.project.slug, rt.config.archive_path)


# -- cursors ---------------------------------------------------------------------------------
def encode_cursor(key: tuple[int, int] | None) -> str:
    """A cursor into the cold side: after (ts, row), or its very start."""
    raw = "c" if key is None else f"c:{key[0]}:{key[1]}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[bool, tuple[int, int] | None]:
    """(is a cold cursor, its key); (False, None) for anything else (a hot-store cursor)."""
    if not cursor:
        return False, None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return False, None
    if raw == "c":
        return True, None
    kind, _, rest = raw.partition(":")
    if kind != "c":
        return False, None
    try:
        ts, row = (int(v) for v in rest.split(":"))
        if not (abs(ts) <= INT64_MAX and abs(row) <= INT64_MAX):  # SQLite would refuse to bind them
            raise ValueError(rest)
        return True, (ts, row)
    except ValueError:
        raise InvalidInput("is not a cursor from this query; start again without it", field="cursor") from None


# -- filters ---------------------------------------------------------------------------------
def scan_filter(query: LogQuery) -> archive.ScanFilter | None:
    """How to scan segments for the query; None when it can match nothing."""
    wanted = phrases(query.q) if query.q else None
    if wanted is not None and not wanted:
        return None
    words = sorted({t.encode() for toks, _ in (wanted or []) for t in toks if t.isascii()})
    return archive.ScanFilter(match=compile_filter(query, text="fulltext"), require=archive.field_needles(query),
                              words=words)


@lru_cache(maxsize=256)
def _dims_filter(query: LogQuery):  # type: ignore[no-untyped-def]
    dims_only = LogQuery(**{f: getattr(query, f) for f in query.__struct_fields__
                            if f not in ("q", "user_id", "session_id", "trace_id", "from_ms", "to_ms")})
    return compile_filter(dims_only)


def group_counts(groups: Iterable[archive.Group], query: LogQuery) -> Counter[DimsKey]:
    """The index groups that match the query's rollup dimensions."""
    ok = _dims_filter(query)
    out: Counter[DimsKey] = Counter()
    for *dims, n in groups:
        if ok(Dims(*dims)):
            out[tuple(dims)] += n  # type: ignore[index]
    return out


def _window(query: LogQuery, boundary_ms: int) -> tuple[int, int]:
    lo = query.from_ms if query.from_ms is not None else 0
    hi = min(query.to_ms if query.to_ms is not None else NOWHERE, boundary_ms - 1)
    return lo, hi


def _usable(index: archive.SegmentIndex | None, query: LogQuery, lo: int, hi: int,
            before: tuple[int, int] | None) -> bool:
    if index is None:
        return True
    if index.max_ts < lo or index.min_ts > hi or (before is not None and index.min_ts > before[0]):
        return False
    return bool(group_counts(index.groups, query))


def _scan(path: Path, filt: archive.ScanFilter, lo: int, hi: int,
          before: tuple[int, int] | None) -> Iterator[archive.ArchivedEvent]:
    try:
        yield from archive.scan(path, filt, lo=lo, hi=hi, before=before)
    except FileNotFoundError:  # removed by retention while we read: it has left the window
        return


def iter_archive(t: Target, hours: list[ColdHour], query: LogQuery, lo: int, hi: int,
                 before: tuple[int, int] | None = None) -> Iterator[Item]:
    """Matching archived events of the hours (given newest first), newest first."""
    filt = scan_filter(query)
    if filt is None:
        return
    for hour in hours:
        if before is not None and hour.hour_ms > before[0]:
            continue
        paths = [t.path(hour.hour_ms, n) for n in range(hour.segments)]
        streams = [_scan(p, filt, lo, hi, before) for p in paths if _usable(archive.read_index(p), query, lo, hi,
                                                                              before)]
        for e in heapq.merge(*streams, key=lambda e: (e.timestamp, e.row), reverse=True):
            yield e.timestamp, e.row, e


def plain(event: LogEvent) -> LogEvent:
    """The API shape of an archived event (without its row id)."""
    if type(event) is LogEvent:
        return event
    return msgspec.convert(event, LogEvent, from_attributes=True)


# -- reading ---------------------------------------------------------------------------------
async def iter_cold(rt: Runtime, t: Target, query: LogQuery, boundary_ms: int, *, with_hot: bool,
                    before: tuple[int, int] | None = None, batch: int = 1000) -> AsyncIterator[list[Item]]:
    """Every matching event below the boundary, newest first, in batches (bounded memory)."""
    lo, hi = _window(query, boundary_ms)
    if lo > hi:
        return
    hours = await rt.store.archive.cold_hours(t.pk, lo, hi)
    gen = iter_archive(t, hours, query, lo, hi, before)
    cold_q = msgspec.structs.replace(query, from_ms=lo, to_ms=hi)
    arch: list[Item] = []
    hot: list[Item] = []
    arch_done, hot_done, hot_before = False, not with_hot, before
    while True:
        if not arch and not arch_done:
            arch = await asyncio.to_thread(lambda: list(itertools.islice(gen, batch)))
            arch_done = len(arch) < batch
        if not hot and not hot_done:
            rows = await rt.store.archive.unarchived(t.pk, cold_q, boundary_ms, before=hot_before, limit=batch)
            hot = [(e.timestamp, row, e) for row, e in rows]
            hot_done = len(rows) < batch
            if rows:
                hot_before = (hot[-1][0], hot[-1][1])
        if not arch and not hot:
            return
        out: list[Item] = []
        a = h = 0
        # Merge while both sides have items, or one side is finished for good.
        while (a < len(arch) or arch_done) and (h < len(hot) or hot_done) and (a < len(arch) or h < len(hot)):
            if h >= len(hot) or (a < len(arch) and arch[a][:2] > hot[h][:2]):
                out.append(arch[a])
                a += 1
            else:
                out.append(hot[h])
                h += 1
        arch, hot = arch[a:], hot[h:]
        yield out


async def page(rt: Runtime, t: Target, query: LogQuery, boundary_ms: int, *, limit: int, offset: int,
               before: tuple[int, int] | None, with_hot: bool) -> tuple[list[LogEvent], bool, tuple[int, int] | None]:
    """One page below the boundary: (events, has_more, key of the last one)."""
    need = offset + limit + 1
    got: list[Item] = []
    stream = iter_cold(rt, t, query, boundary_ms, with_hot=with_hot, before=before, batch=min(need, 5000))
    async for chunk in stream:
        got += chunk
        if len(got) >= need:
            break
    await stream.aclose()
    items = got[offset:offset + limit]
    last = (items[-1][0], items[-1][1]) if items else None
    return [plain(e) for _, _, e in items], len(got) > offset + limit, last


@lru_cache(maxsize=2048)
def _segment_counts(path: Path, stamp: tuple[int, int], query: LogQuery, lo: int, hi: int,
                    cap: int | None) -> Counter[DimsKey]:
    """Matches of one segment by dimensions, stopping after cap (cached while the file is unchanged)."""
    filt = scan_filter(query)
    out: Counter[DimsKey] = Counter()
    if filt is None:
        return out
    for e in itertools.islice(_scan(path, filt, lo, hi, None), cap):
        out[(e.level, e.type, e.service, e.environment, e.device_type)] += 1
    return out


def archive_counts(t: Target, hours: list[ColdHour], query: LogQuery, lo: int, hi: int,
                   cap: int | None) -> tuple[Counter[DimsKey], bool]:
    """Matching archived events by dimensions; (counts, exact). Rollup-only queries are exact
    (whole segments straight from their index); others stop after `cap` matches, newest first."""
    total: Counter[DimsKey] = Counter()
    for hour in hours:
        for n in range(hour.segments):
            path = t.path(hour.hour_ms, n)
            index = archive.read_index(path)
            if not _usable(index, query, lo, hi, None):
                continue
            if query.rollup_only and index is not None and lo <= index.min_ts and index.max_ts <= hi:
                total += group_counts(index.groups, query)
                continue
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            total += _segment_counts(path, (st.st_mtime_ns, st.st_size), query, lo, hi,
                                     None if query.rollup_only else cap)
            if cap is not None and not query.rollup_only and sum(total.values()) >= cap:
                return total, False
    return total, True


async def counts(rt: Runtime, t: Target, query: LogQuery, boundary_ms: int, *, with_hot: bool,
                 cap: int | None = COUNT_CAP) -> tuple[Counter[DimsKey], bool]:
    """Matches below the boundary by (level, type, service, environment, device_type); exact?"""
    lo, hi = _window(query, boundary_ms)
    if lo > hi:
        return Counter(), True
    hours = await rt.store.archive.cold_hours(t.pk, lo, hi)
    found, exact = await asyncio.to_thread(archive_counts, t, hours, query, lo, hi, cap)
    if with_hot:
        cold_q = msgspec.structs.replace(query, from_ms=lo, to_ms=hi)
        found += await rt.store.archive.unarchived_counts(t.pk, cold_q, boundary_ms)
    return found, exact


def _find_in(t: Target, hours: list[ColdHour], event_id: str, row: int | None) -> LogEvent | None:
    """The archived event with this id (and row, when known) in these hours' segments."""
    # The needles only let other lines skip decoding; `match` decides.
    needle = b'"id":' + msgspec.json.encode(event_id)
    if row is None:
        filt = archive.ScanFilter(match=lambda e: e.id == event_id, require=[[needle]])
    else:
        filt = archive.ScanFilter(match=lambda e: e.row == row and e.id == event_id,
                                  require=[[needle], [b'"_row":%d}' % row]])
    for hour in hours:
        for n in range(hour.segments):
            path = t.path(hour.hour_ms, n)
            index = archive.read_index(path)
            if row is not None and index is not None and not index.min_row <= row <= index.max_row:
                continue
            for e in _scan(path, filt, None, None, None):
                return plain(e)
    return None


async def find_event(rt: Runtime, access: ProjectAccess, event_id: str) -> LogEvent | None:
    """GET /logs/:id below the hot store: server-made ids carry their row, which each segment's
    index brackets; client ids written straight to the archive have their hour recorded. (A client
    id archived by the job from the hot store is not looked for: that would mean a full scan.)"""
    t = target(rt, access)
    hint = await rt.store.archive.id_hint(t.pk, event_id)
    if hint.row is None and hint.hour_ms is None:
        return None
    if hint.hour_ms is not None:
        hours = await rt.store.archive.cold_hours(t.pk, hint.hour_ms, hint.hour_ms)
    else:
        hours = await rt.store.archive.cold_hours(t.pk, 0, NOWHERE)
    return await asyncio.to_thread(_find_in, t, hours, event_id, hint.row)


async def bucket_counts(rt: Runtime, t: Target, query: LogQuery, boundary_ms: int, bucket_ms: int, *,
                        cap: int) -> tuple[Counter[tuple[int, DimsKey]], bool]:
    """Matches below the boundary per time bucket (keyed by bucket start) and dimensions; exact?
    Rollup-only queries are exact; others stop after `cap` matches, newest buckets first."""
    assert query.from_ms is not None and query.to_ms is not None
    lo, hi = query.from_ms, min(query.to_ms, boundary_ms - 1)
    out: Counter[tuple[int, DimsKey]] = Counter()
    start = hi // bucket_ms * bucket_ms
    left = cap
    while start + bucket_ms > lo:
        part = msgspec.structs.replace(query, from_ms=max(lo, start), to_ms=min(hi, start + bucket_ms - 1))
        found, exact = await counts(rt, t, part, boundary_ms, with_hot=True, cap=None if query.rollup_only else left)
        for key, n in found.items():
            out[(start, key)] += n
        if not query.rollup_only:
            left -= sum(found.values())
            if not exact or left <= 0:
                return out, False
        start -= bucket_ms
    return out, True


async def facets(rt: Runtime, access: ProjectAccess, query: LogQuery, *,
                 cap: int) -> tuple[dict[str, list[FacetValue]], bool]:
    """/facets counts: the hot store's, plus the cold side's when `from` reaches below the boundary."""
    pk = access.project.pk
    boundary = (await rt.store.archive.state()).boundary_ms if query.from_ms is not None else 0
    if query.from_ms is None or query.from_ms >= boundary:
        return await rt.store.logs_meta.facets(pk, query, cap=cap)  # type: ignore[no-any-return]
    merged: dict[str, Counter[str | None]] = {f: Counter() for f in ROLLUP_FIELDS}
    exact = True
    if query.to_ms is None or query.to_ms >= boundary:
        hot, exact = await rt.store.logs_meta.facets(pk, msgspec.structs.replace(query, from_ms=boundary), cap=cap)
        for name, values in hot.items():
            merged[name].update({v.value: v.count for v in values})
    found, cold_exact = await counts(rt, target(rt, access), query, boundary, with_hot=True, cap=cap)
    for key, n in found.items():
        for name, value in zip(ROLLUP_FIELDS, key, strict=True):
            merged[name][value] += n
    limit = MAX_FACET_VALUES
    return {name: [FacetValue(value=v, count=n) for v, n in sorted(c.items(), key=lambda kv: (-kv[1], kv[0] or ""))
                   if n > 0][:limit] for name, c in merged.items()}, exact and cold_exact
