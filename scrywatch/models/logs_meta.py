"""Aggregate views of log events: facets, patterns, hourly stats, sessions (response shapes)."""

from __future__ import annotations

import msgspec


class FacetValue(msgspec.Struct):
    value: str | None  # null counts the events without this field
    count: int


class Facets(msgspec.Struct, kw_only=True):
    """GET /facets: counts per value of level, type, service, environment and device_type."""

    facets: dict[str, list[FacetValue]]
    exact: bool = True  # False when counted over only the newest `sample_limit` matches
    sample_limit: int | None = None


class Pattern(msgspec.Struct, kw_only=True):
    pattern: str
    level: str
    type: str
    count: int
    sample: str
    services: list[str]
    first_seen: int
    last_seen: int
    hash: str


class PatternList(msgspec.Struct, kw_only=True):
    """GET /patterns: groups over the newest `sample_limit` matching events."""

    patterns: list[Pattern]
    sampled: int  # events grouped
    sample_limit: int
    exact: bool  # True when every matching event was grouped


class StatRow(msgspec.Struct, kw_only=True):
    level: str
    type: str
    count: int
    hour: int  # bucket start, Unix ms


class Stats(msgspec.Struct, kw_only=True, rename={"from_ms": "from", "to_ms": "to"}):
    stats: list[StatRow]
    from_ms: int
    to_ms: int
    exact: bool = True


class SessionSummary(msgspec.Struct, kw_only=True):
    session_id: str
    event_count: int
    first_event: int
    last_event: int
    error_count: int
    warn_count: int
    crash_count: int


class SessionList(msgspec.Struct, kw_only=True):
    sessions: list[SessionSummary]
    has_more: bool = False
