"""Old events straight to the archive: events older than the hot window are accepted and written
as archive segments in the ingest transaction (storage/sqlite/coldlane.py), never entering the
hot store's indexes.

"Older than the hot window" means before the hour holding `now - hot_hours`, the floor that
retention moves the hot/cold boundary to (queries answer below it from the archive); the ingest
transaction moves the boundary there too. Writing segments needs the archive job's lock; while
the job holds it, old events take the ordinary path (stored hot, archived by the job's next run,
then removed from the hot store by retention).
"""

from __future__ import annotations

from scrywatch import archive
from scrywatch.filelocks import SharedFlock, lock_path
from scrywatch.models.archive import SegmentTarget
from scrywatch.models.logs import LogEvent, NewEvent
from scrywatch.runtime import Runtime
from scrywatch.services.retention import hot_boundary_ms


def _lock(rt: Runtime) -> SharedFlock:
    if rt.archive_lock is None:
        rt.archive_lock = SharedFlock(lock_path(rt.config, "archive"))  # the archive job's lock (jobs.py)
    return rt.archive_lock  # type: ignore[no-any-return]


async def store(rt: Runtime, project_pk: int, events: list[NewEvent], received_ms: int) -> tuple[list[LogEvent], int]:
    """Store a normalised batch; (stored events, duplicates). Old events go to the archive."""
    floor = hot_boundary_ms(rt, received_ms)
    if not any(e.timestamp < floor for e in events):
        return await rt.store.logs.add(project_pk, events, received_ms)  # type: ignore[no-any-return]
    lock = _lock(rt)
    if not lock.try_acquire():  # the archive job is writing: take the ordinary path this time
        return await rt.store.logs.add(project_pk, events, received_ms)  # type: ignore[no-any-return]
    try:
        return await rt.store.coldlane.add_events(  # type: ignore[no-any-return]
            project_pk, events, received_ms, floor, _write_segment(rt))
    finally:
        lock.release()


def _write_segment(rt: Runtime) -> archive.SegmentWrite:
    root = rt.config.archive_path

    def write(t: SegmentTarget, hour_ms: int, segment: int, rows: list[tuple[int, LogEvent]]) -> archive.SegmentIndex:
        """Runs on the writer thread, inside the ingest transaction."""
        archive.prepare_project_dir(root, t.org_slug, t.project_slug, t.project_id)
        path = archive.segment_path(root, t.org_slug, t.project_slug, hour_ms, segment)
        return archive.write_segment(path, rows, project_id=t.project_id, hour=hour_ms, segment=segment)

    return write
