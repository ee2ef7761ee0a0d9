"""The archive job: every completed hour of every project into zstd NDJSON segments, exactly once.

An hour is complete `archive_grace_minutes` after it ends. Each run takes a snapshot id M (the
largest row id) and, for each project-hour that completed since the last run or received rows
since then, writes the rows with `archived_id < id <= M` as the hour's next segment, then records
`archived_id = M`. Nothing is written twice (a row at or below an hour's archived id is never read
again) and nothing is missed (a late row gets an id above M, so the next run finds it). A crash
before the record leaves at most a segment file nobody lists; the next run writes it again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from scrywatch import archive
from scrywatch.models.accounts import Org, Project
from scrywatch.models.archive import ArchiveWork
from scrywatch.runtime import Runtime

logger = logging.getLogger(__name__)

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


def archive_cutoff_ms(rt: Runtime, now_ms: int) -> int:
    """Hours starting before this are complete (their end plus the grace period has passed)."""
    return (now_ms - rt.config.storage.archive_grace_minutes * 60_000) // HOUR_MS * HOUR_MS


def expiry_ms(rt: Runtime, now_ms: int) -> int | None:
    """Hours starting before this have outlived `archive_days` (None: kept forever)."""
    days = rt.config.storage.archive_days
    return None if days <= 0 else (now_ms - days * DAY_MS) // HOUR_MS * HOUR_MS


async def run_archive(rt: Runtime) -> dict[str, Any]:
    """Write what is due; return a summary."""
    now = rt.clock.now_ms()
    cutoff = archive_cutoff_ms(rt, now)
    expiry = expiry_ms(rt, now)
    root = rt.config.archive_path
    swept = await asyncio.to_thread(archive.sweep_temp, root)  # we hold the job lock: these are dead
    state, work = await rt.store.archive.plan(cutoff)
    projects = {p.pk: (org, p) for org, p in await rt.store.accounts.all_projects()}
    segments = events = size = 0
    for item in work:
        if item.project not in projects or (expiry is not None and item.hour_ms < expiry):
            continue  # deleted project, or past retention (retention deletes those rows)
        org, project = projects[item.project]
        n, nbytes = await _write(rt, org, project, item, state.max_id)
        if n:
            segments, events, size = segments + 1, events + n, size + nbytes
    await rt.store.archive.finish_run(state.max_id, cutoff)
    if segments:
        logger.info("archived %d events in %d segments (%d bytes)", events, segments, size)
    return {"segments": segments, "events": events, "bytes": size, "cutoff": cutoff, "temp_removed": swept}


async def _write(rt: Runtime, org: Org, project: Project, item: ArchiveWork, upto_id: int) -> tuple[int, int]:
    """Write one segment of rows archived_id < id <= upto_id and record it; (events, bytes)."""
    root = rt.config.archive_path
    await asyncio.to_thread(archive.prepare_project_dir, root, org.slug, project.slug, project.id)
    path = archive.segment_path(root, org.slug, project.slug, item.hour_ms, item.segments)
    writer: archive.SegmentWriter | None = None

    def consume(rows: list[tuple[int, Any]]) -> None:  # runs on a reader thread
        nonlocal writer
        if writer is None:
            writer = archive.SegmentWriter(path, project.id, item.hour_ms, item.segments)
        writer.add(rows)

    committed = False
    try:
        await rt.store.archive.stream_hour(item.project, item.hour_ms, item.archived_id, upto_id, consume)
        if writer is None:
            return 0, 0
        index = await asyncio.to_thread(writer.commit)
        committed = True
    finally:
        if writer is not None and not committed:
            writer.abort()
    await rt.store.archive.record_segment(item.project, item.hour_ms, segment=item.segments, archived_id=upto_id,
                                          events=index.events, size=index.bytes, now_ms=rt.clock.now_ms())
    return index.events, index.bytes
