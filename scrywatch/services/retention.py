"""The retention job: hot rows past `hot_hours` once archived, archive hours past `archive_days`,
the `max_disk_mb` cap (oldest hours first), minute rollups past the hot window, stored summaries.

Order matters: the hot/cold boundary moves first (queries then read the archive below it), and
only rows at or below their hour's archived id are deleted, so a query never misses an event.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import shutil
from typing import Any

from scrywatch import archive
from scrywatch.runtime import Runtime
from scrywatch.services.archive import HOUR_MS, expiry_ms
from scrywatch.services.insights import prune_summaries

logger = logging.getLogger(__name__)

DELETE_CHUNK = 2_000  # rows per write transaction: short enough not to stall ingest
MINUTE_ROLLUP_SLACK_MS = 2 * HOUR_MS


def hot_boundary_ms(rt: Runtime, now_ms: int) -> int:
    """The hour holding `now - hot_hours`: the hot store keeps it whole, so a query over the last
    `hot_hours` stays on the hot store alone."""
    return (now_ms - rt.config.storage.hot_hours * HOUR_MS) // HOUR_MS * HOUR_MS


async def run_retention(rt: Runtime) -> dict[str, Any]:
    now = rt.clock.now_ms()
    store = rt.store.archive
    boundary = await store.advance_boundary(hot_boundary_ms(rt, now))
    summary: dict[str, Any] = {"boundary": boundary, "hot_deleted": 0}
    for project, hour_ms, archived_id in await store.deletable_hours(boundary):
        summary["hot_deleted"] += await _drain(store.delete_archived_rows, project, hour_ms, archived_id)
    expiry = expiry_ms(rt, now)
    projects = {p.pk: (org, p) for org, p in await rt.store.accounts.all_projects()}
    if expiry is not None:
        summary["expired_rows"] = sum([await _drain(store.delete_rows_before, pk, min(expiry, boundary))
                                       for pk in projects])
        summary["expired_hours"] = await _expire_files(rt, projects, expiry)
    summary["orphans_removed"] = await asyncio.to_thread(_remove_orphans, rt, {p.id for _, p in projects.values()})
    if rt.config.storage.max_disk_mb > 0:
        summary["capped_hours"] = await _enforce_disk_cap(rt, projects, boundary)
    summary["minute_rollups_pruned"] = await store.prune_minute_counts(boundary - MINUTE_ROLLUP_SLACK_MS)
    summary["summaries_pruned"] = await prune_summaries(rt)  # older than [storage] summary_days
    return summary


async def _drain(delete: Any, *args: Any) -> int:
    total = 0
    while True:
        n = await delete(*args, limit=DELETE_CHUNK)
        total += n
        if n < DELETE_CHUNK:
            return total


def _slugs(projects: dict[int, Any]) -> dict[tuple[str, str], int]:
    return {(org.slug, p.slug): pk for pk, (org, p) in projects.items()}


async def _forget_and_remove(rt: Runtime, doomed: list[tuple[int, str, str, int]]) -> int:
    """Forget (project, org, slug, hour) records first, then delete their files: queries follow the
    records, so they never open a file that is being removed. Returns bytes freed."""
    await rt.store.archive.forget_hours([(pk, hour) for pk, _, _, hour in doomed])
    root = rt.config.archive_path
    return sum([await asyncio.to_thread(archive.remove_hour, root, org, slug, hour) for _, org, slug, hour in doomed])


async def _expire_files(rt: Runtime, projects: dict[int, Any], expiry: int) -> int:
    """Delete archive hours that started before `expiry`: recorded ones and stray files."""
    slugs = _slugs(projects)
    found = await asyncio.to_thread(archive.list_segments, rt.config.archive_path, to_ms=expiry - 1)
    doomed = {(slugs.get((s.org, s.project), 0), s.org, s.project, s.hour) for s in found if s.hour < expiry}
    for h in await rt.store.archive.archived_hours(before_ms=expiry):
        if h.project in projects:
            org, p = projects[h.project]
            doomed.add((h.project, org.slug, p.slug, h.hour_ms))
    if doomed:
        await _forget_and_remove(rt, sorted(doomed))
    return len(doomed)


async def _enforce_disk_cap(rt: Runtime, projects: dict[int, Any], boundary: int) -> int:
    """Remove the oldest archive hours (below the hot boundary) until the archive fits max_disk_mb."""
    cap = rt.config.storage.max_disk_mb * 1024 * 1024
    found = await asyncio.to_thread(archive.list_segments, rt.config.archive_path)
    total = sum(s.bytes for s in found)
    if total <= cap:
        return 0
    per_hour: dict[tuple[int, str, str], int] = {}
    for s in found:
        per_hour[(s.hour, s.org, s.project)] = per_hour.get((s.hour, s.org, s.project), 0) + s.bytes
    slugs = _slugs(projects)
    removed = 0
    for (hour, org, slug), size in sorted(per_hour.items()):
        if total <= cap:
            break
        if hour >= boundary:
            logger.warning("archive is %d MB over max_disk_mb but the rest is still in the hot window",
                           (total - cap) // (1024 * 1024))
            break
        await _forget_and_remove(rt, [(slugs.get((org, slug), 0), org, slug, hour)])
        total -= size
        removed += 1
        logger.warning("max_disk_mb: removed archive hour %s/%s %s (%d bytes)", org, slug,
                       dt.datetime.fromtimestamp(hour / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:00Z"), size)
    return removed


def _remove_orphans(rt: Runtime, live_ids: set[str]) -> int:
    """Remove archive directories of projects that no longer exist."""
    root = rt.config.archive_path
    n = 0
    for marker in root.glob(f"*/*/{archive.MARKER}"):
        if marker.read_text().strip() not in live_ids:
            logger.info("removing the archive of deleted project %s", marker.parent.relative_to(root))
            shutil.rmtree(marker.parent)
            n += 1
    return n
