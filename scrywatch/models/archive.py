"""Archive bookkeeping as services see it (the storage backend fills these)."""

from __future__ import annotations

from scrywatch.models._base import Record


class ArchiveState(Record, frozen=True):
    """Progress of the archive job and the hot/cold boundary, read in one snapshot."""

    high_water: int  # every row with id <= this was seen by a finished archive run
    cutoff_ms: int  # hours starting before this were complete at that run
    boundary_ms: int  # hot store answers ts >= boundary; below, archive + unarchived hot rows
    max_id: int  # the largest row id in the hot store now


class ArchiveWork(Record, frozen=True):
    """One project-hour the archive job must (re)visit."""

    project: int
    hour_ms: int
    archived_id: int  # rows of this hour with id <= archived_id are archived already (0: none)
    segments: int  # segments written so far (the next one is numbered this)


class ColdHour(Record, frozen=True):
    """An archived hour and how many segments were recorded for it (files beyond are not yet valid)."""

    hour_ms: int
    segments: int


class ArchivedHour(Record, frozen=True):
    project: int
    hour_ms: int
    segments: int
    bytes: int


class SegmentTarget(Record, frozen=True):
    """Where a project's segments go: archive/<org_slug>/<project_slug>/, marked with project_id."""

    project_id: str
    org_slug: str
    project_slug: str


class ArchivedIdHint(Record, frozen=True):
    """Where an event id may be found in the archive: by its row (server-made ids carry it) or in
    the hour recorded for a client id written straight to the archive; None where unknown."""

    row: int | None = None
    hour_ms: int | None = None
