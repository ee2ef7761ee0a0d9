"""Insights: the persistent-patterns job, the patterns list, and window summaries (builtin or a model).

All insights endpoints are session-only (spec): API keys get 403; any member may use them.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import msgspec

from scrywatch.errors import InvalidInput, Unavailable
from scrywatch.ids import new_id
from scrywatch.models.accounts import ProjectAccess
from scrywatch.models.insights import (
    NEW_PATTERN_MS,
    SUMMARY_MINUTES,
    InsightSummary,
    PatternCount,
    PersistentPattern,
    SummaryCreate,
)
from scrywatch.runtime import Runtime
from scrywatch.services import summaries
from scrywatch.services.accounts import require_role
from scrywatch.services.ai import AiFailure, chat_completion
from scrywatch.services.events import FieldProblem, level_of
from scrywatch.services.patterns import normalize_message, pattern_hash
from scrywatch.services.search import parse_page

PATTERN_BATCH = 5_000
MAX_PATTERN_EVENTS_PER_RUN = 100_000  # per project; a backlog is caught up over the next runs
ERROR_MESSAGE_SCAN = 10_000  # newest error messages normalised per window for the top patterns
DAY_MS = 86_400_000


# -- persistent patterns (job `patterns`) ----------------------------------------------------
def count_patterns(rows: list[tuple[Any, ...]]) -> list[PatternCount]:
    """Group (id, ts, level, service, message) rows by normalised message, level and service."""
    found: dict[str, PatternCount] = {}
    for _id, ts, level, service, message in rows:
        normalized = normalize_message(message)
        h = pattern_hash(f"{level}\x1f{service or ''}\x1f{normalized}")
        c = found.get(h)
        if c is None:
            found[h] = PatternCount(hash=h, normalized_message=normalized, level=level, service=service,
                                    first_seen=ts, last_seen=ts, count=1)
        else:
            c.count += 1
            c.first_seen = min(c.first_seen, ts)
            c.last_seen = max(c.last_seen, ts)
    return list(found.values())


class _Counter:
    """Normalising is pure-Python CPU work: on a thread it holds the GIL against the event loop
    (half-load ingest p99 went from ~40 to ~300 ms while the job ran), so it runs in a process of
    its own, started for a run that has rows to count (spawned: forking a process that has a
    writer thread is unsafe)."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    async def count(self, rows: list[tuple[Any, ...]]) -> list[PatternCount]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return await asyncio.get_running_loop().run_in_executor(self._pool, count_patterns, rows)

    async def close(self) -> None:
        if self._pool is not None:
            await asyncio.to_thread(self._pool.shutdown)


async def refresh_patterns(rt: Runtime) -> dict[str, Any]:
    """Count every event stored since the last run into its project's persistent patterns, once."""
    counter = _Counter()
    try:
        return await _refresh_patterns(rt, counter)
    finally:
        await counter.close()


async def _refresh_patterns(rt: Runtime, counter: _Counter) -> dict[str, Any]:
    newest, marks = await rt.store.insights.marks()
    projects = events = 0
    for project, mark in marks:
        done = 0
        if mark > newest:
            # Row ids went back (a purge removed the newest rows and ids are reused): restart from the
            # current end rather than recount rows below it; at worst a few events go uncounted.
            await rt.store.insights.add_patterns(project, expected_mark=mark, new_mark=newest, counts=[])
            continue
        while mark < newest and done < MAX_PATTERN_EVENTS_PER_RUN:
            rows = await rt.store.insights.rows_between(project, mark, newest, PATTERN_BATCH)
            # A short batch means the whole range up to `newest` was read: the mark may jump there.
            new_mark = rows[-1][0] if len(rows) == PATTERN_BATCH else newest
            counts = await counter.count(rows) if rows else []
            if not await rt.store.insights.add_patterns(project, expected_mark=mark, new_mark=new_mark,
                                                        counts=counts):
                break  # another run moved the mark first; it counted these rows
            mark, done = new_mark, done + len(rows)
        projects += bool(done)
        events += done
    return {"projects": projects, "events": events}


async def list_patterns(rt: Runtime, access: ProjectAccess, params: Mapping[str, str]) -> list[PersistentPattern]:
    """Stored patterns, most frequent first: `limit` (default 50, at most 200), `level`, `service`."""
    require_role(access, "member")
    limit = parse_page({"limit": params["limit"]} if "limit" in params else {}).limit
    level = (params.get("level") or "").strip() or None
    service = (params.get("service") or "").strip() or None
    if level is not None:
        try:
            level = level_of(level)
        except FieldProblem as p:
            raise InvalidInput(p.message, field="level") from None
    found = await rt.store.insights.list_patterns(access.project.pk, limit=limit, level=level,
                                                  service=service)
    since = rt.clock.now_ms() - NEW_PATTERN_MS
    return [msgspec.structs.replace(p, is_new=p.first_seen >= since) for p in found]


# -- summaries -------------------------------------------------------------------------------
async def _facts(rt: Runtime, project: int, minutes: int, now: int) -> InsightSummary:
    """Aggregates of [now - minutes, now] against the window before it, with the builtin text."""
    span = minutes * 60_000
    cur_range, prev_range = (now - span, now), (now - 2 * span, now - span - 1)
    cur_facts = await rt.store.insights.window_facts(project, *cur_range, message_limit=ERROR_MESSAGE_SCAN)
    prev_facts = await rt.store.insights.window_facts(project, *prev_range, message_limit=ERROR_MESSAGE_SCAN)
    cur = summaries.window_counts(cur_facts, *cur_range)
    prev = summaries.window_counts(prev_facts, *prev_range)
    services = summaries.top_services(cur_facts)
    patterns = await asyncio.to_thread(summaries.error_patterns, cur_facts, prev_facts)
    notable = summaries.changes(cur, prev, cur_facts, prev_facts, patterns)
    return InsightSummary(
        id=new_id(), summary_text=summaries.builtin_text(minutes, cur, prev, services, patterns, notable),
        error_count=cur.error_count, warn_count=cur.warn_count, event_count=cur.event_count, created_at=now,
        time_window_minutes=minutes, window=cur, previous=prev, top_services=services,
        top_error_patterns=patterns, changes=notable)


def _model_facts(s: InsightSummary) -> dict[str, Any]:
    keep = ("time_window_minutes", "window", "previous", "top_services", "top_error_patterns", "changes")
    return {k: v for k, v in msgspec.to_builtins(s).items() if k in keep}


async def create_summary(rt: Runtime, access: ProjectAccess, body: SummaryCreate) -> InsightSummary:
    """Summarize the last `minutes` with the configured provider (builtin fallback), store and return it."""
    require_role(access, "member")
    if body.minutes not in SUMMARY_MINUTES:
        raise InvalidInput("must be one of " + ", ".join(map(str, SUMMARY_MINUTES)), field="minutes")
    ai = rt.config.ai
    summary = await _facts(rt, access.project.pk, body.minutes, rt.clock.now_ms())
    if ai.provider == "openai":
        try:
            text = await chat_completion(ai, _model_facts(summary))
            summary = msgspec.structs.replace(summary, summary_text=text, provider="openai", model=ai.model or None)
        except AiFailure as exc:
            if not ai.fallback:
                raise Unavailable(f"the language model is unavailable: {exc}", retry_after_s=30) from None
            summary = msgspec.structs.replace(summary, fallback=True, fallback_reason=str(exc))
    await rt.store.insights.save_summary(access.project.pk, summary)
    return summary


async def latest_summary(rt: Runtime, access: ProjectAccess) -> InsightSummary | None:
    require_role(access, "member")
    return await rt.store.insights.latest_summary(access.project.pk)  # type: ignore[no-any-return]


async def prune_summaries(rt: Runtime) -> int:
    """Delete summaries older than [storage] summary_days; the number deleted."""
    cutoff = rt.clock.now_ms() - rt.config.storage.summary_days * DAY_MS
    return await rt.store.insights.delete_summaries_before(cutoff)  # type: ignore[no-any-return]
